"""Which language and time zone a page or e-mail is rendered in."""

from __future__ import annotations

from flask import g, has_request_context, request, session
from flask_login import current_user

from app.i18n import LANGUAGES

SESSION_KEY = "lang"


def available_languages() -> tuple[str, ...]:
    tenant = g.get("tenant")
    return tuple(tenant.locales) if tenant is not None else LANGUAGES


def select_locale() -> str:
    """The user's choice (profile, else the switcher) → the tenant's default → Accept-Language.

    On the platform side (no tenant), Accept-Language among all UI languages, else English.
    """
    allowed = available_languages()
    user = current_user if has_request_context() else None
    if user is not None and user.is_authenticated and getattr(user, "locale", None) in allowed:
        return user.locale
    chosen = session.get(SESSION_KEY) if has_request_context() else None
    if chosen in allowed:
        return chosen
    tenant = g.get("tenant")
    if tenant is not None:
        return tenant.default_locale
    if has_request_context():
        best = request.accept_languages.best_match(allowed)
        if best:
            return best
    return "en"


def select_timezone() -> str:
    user = current_user if has_request_context() else None
    if user is not None and user.is_authenticated and getattr(user, "timezone", None):
        return user.timezone
    tenant = g.get("tenant")
    return tenant.timezone if tenant is not None else "UTC"
