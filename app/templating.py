"""Template helpers shared by every module: localized names, branding, language names."""
from __future__ import annotations

from flask import g
from flask_babel import get_locale, lazy_gettext as _l

from app.db_types import pick_language
from app.i18n.selection import available_languages

# Each language is named in itself, so that a reader finds their own.
LANGUAGE_NAMES = {"hu": "Magyar", "fi": "Suomi", "cs": "Čeština", "pl": "Polski", "en": "English"}


def localized(texts: dict | None) -> str:
    """A tenant-configured name in the current language (then the tenant's default, then English)."""
    tenant = g.get("tenant")
    fallbacks = (tenant.default_locale, "en") if tenant else ("en",)
    return pick_language(texts, str(get_locale()), fallbacks)


def init_app(app) -> None:
    app.jinja_env.filters["localized"] = localized
    app.jinja_env.trim_blocks = True
    app.jinja_env.lstrip_blocks = True

    @app.context_processor
    def _globals():
        tenant = g.get("tenant")
        return {
            "tenant": tenant,
            "current_locale": str(get_locale()),
            "languages": [(code, LANGUAGE_NAMES[code]) for code in available_languages()],
            "branding": (tenant.branding if tenant else {}) or {},
            "platform_name": _l("Support portals"),
        }
