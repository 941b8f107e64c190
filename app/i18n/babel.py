"""Flask-Babel with per-tenant string overrides.

The app catalog in ``translations/`` is shared; a tenant may override any UI string per language
(``tenants/<slug>/strings.yaml``, stored in ``string_overrides``). The tenant's overrides are a
catalog placed in front of the app catalog, so ``gettext`` finds the tenant's wording first and
falls back to the app's. Cached per (tenant, configuration version, locale).
"""
from __future__ import annotations

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
            merged._catalog = dict(overrides)
            merged.plural = getattr(base, "plural", merged.plural)
            merged.add_fallback(base)
            _merged_cache.set(key, merged)
        return merged


class TenantBabel(Babel):
    @cached_property
    def domain_instance(self):
        return TenantDomain(domain=self.domain)


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
