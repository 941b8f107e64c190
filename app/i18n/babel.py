"""Flask-Babel with per-tenant string overrides.

The app catalog in ``translations/`` is shared; a tenant may override any UI string per language
(``tenants/<slug>/strings.yaml``, stored in ``string_overrides``). The tenant's overrides are a
catalog placed in front of the app catalog, so ``gettext`` finds the tenant's wording first and
falls back to the app's. Cached per (tenant, configuration version, locale).
"""

from __future__ import annotations

import re

from babel import support
from flask import g
from flask_babel import Babel, Domain, get_locale
from werkzeug.utils import cached_property

from app.caching import ProcessCache

_merged_cache = ProcessCache("tenant-translations")


class TenantDomain(Domain):
    def get_translations(self):
        base = super().get_translations()
        tenant = g.get("tenant") if g else None
        if tenant is None:
            return base
        locale = str(get_locale())
        overrides = tenant.string_overrides.get(locale)
        if not overrides:
            return base
        key = (tenant.id, tenant.config_version, locale)
        merged = _merged_cache.get(key)
        if merged is None:
            merged = support.Translations()
            merged._catalog = {
                key: format_safe(text, key[0] if isinstance(key, tuple) else key) for key, text in overrides.items()
            }
            merged.plural = getattr(base, "plural", merged.plural)
            merged.add_fallback(base)
            _merged_cache.set(key, merged)
        return merged

    # Tenant overrides are stored format-safe (``format_safe``: a bare "%" doubled), since templates
    # always %-format a translation (Jinja's newstyle gettext). Python callers format only when they
    # pass values, or later for a lazy string with placeholders; a string without placeholders is
    # shown as it is, so its doubled "%%" is undone here. (No msgid of ours has a bare "%".)
    def gettext(self, string, **variables):
        text = self.get_translations().ugettext(string)
        if variables:
            return text % variables
        return text if "%(" in string else text.replace("%%", "%")

    def pgettext(self, context, string, **variables):
        text = self.get_translations().upgettext(context, string)
        if variables:
            return text % variables
        return text if "%(" in string else text.replace("%%", "%")


_PLACEHOLDER = re.compile(r"%%|%\((\w+)\)[sdifr]|%")


def format_safe(text: str, msgid: str) -> str:
    """A tenant admin's wording as a format string that cannot break a page.

    Admins write text, not format strings: "100% valmis" or a pasted ``%3Cscript%3E`` must show as
    typed, and ``%(secret)s`` must not pull values the original text does not offer. Every "%" that
    is not a placeholder of the original text (or an already doubled "%%") is doubled.
    """
    allowed = {match.group(1) for match in _PLACEHOLDER.finditer(msgid or "") if match.group(1)}

    def keep_or_escape(match: re.Match) -> str:
        token = match.group(0)
        if token == "%%" or (match.group(1) and match.group(1) in allowed):
            return token
        return "%%" + token[1:]

    return _PLACEHOLDER.sub(keep_or_escape, text)


class TenantBabel(Babel):
    @cached_property
    def domain_instance(self):
        return TenantDomain(domain=self.domain)


# The extension, created unbound like those of app.extensions (create_app() binds it); it lives with
# the tenant domain it serves, so that the kernel below every module needs nothing from i18n.
babel = TenantBabel()


def install_escaping_gettext(app) -> None:
    """Make ``_()``/``ngettext()`` in templates return escaped text, not markup.

    Jinja's newstyle gettext wraps whatever the catalog returns in ``Markup``, so a translation or a
    tenant admin's override containing ``<script>`` would be rendered as HTML (stored XSS). Here the
    translated text is escaped first when the template autoescapes (HTML pages and HTML e-mails);
    ``%(name)s`` values are then escaped by ``Markup``'s ``%``. Plain-text templates (``.txt``) get
    the text unchanged. Consequence: msgids never carry markup; templates compose it around them.
    """
    from flask_babel import get_translations
    from jinja2 import pass_context
    from markupsafe import escape

    def escaped(translate):
        @pass_context
        def call(context, *args):
            text = translate(*args)
            return escape(text) if context.eval_ctx.autoescape else text

        return call

    app.jinja_env.install_gettext_callables(
        gettext=escaped(lambda s: get_translations().ugettext(s)),
        ngettext=escaped(lambda s, p, n: get_translations().ungettext(s, p, n)),
        pgettext=escaped(lambda c, s: get_translations().upgettext(c, s)),
        npgettext=escaped(lambda c, s, p, n: get_translations().unpgettext(c, s, p, n)),
        newstyle=True,
    )
