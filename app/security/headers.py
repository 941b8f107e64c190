"""Security headers on every response (OWASP ASVS 14.4): a strict Content-Security-Policy with a
per-request nonce, no framing, no MIME sniffing, a conservative referrer, no caching of pages a
signed-in person sees, and HSTS when the portal is served over HTTPS.

Templates put ``nonce="{{ csp_nonce() }}"`` on the few ``<style>`` blocks they need (the tenant's
brand colours, status colours); scripts are files under ``static/`` only, and no HTML page has a
``style=`` attribute or an inline event handler. E-mails are not subject to CSP and keep their
inline styles.
"""

from __future__ import annotations

import secrets

from flask import Flask, current_app, g, request, session
from flask_login import current_user

STATIC_ENDPOINTS = {"static", "tenant_static.static"}


def csp_nonce() -> str:
    """This request's nonce (made on first use), for ``<style nonce>`` / ``<script nonce>``."""
    nonce = g.get("csp_nonce")
    if nonce is None:
        nonce = g.csp_nonce = secrets.token_urlsafe(16)
    return nonce


def content_security_policy(nonce: str) -> str:
    """The policy: everything from our own origin; inline code only with this request's nonce.

    Images may be ``data:`` URLs (the tab icon in the tenant's colour). Downloads are streamed by
    the app, never redirected to the storage's host, so no other origin is needed.
    """
    return "; ".join(
        [
            "default-src 'self'",
            f"script-src 'self' 'nonce-{nonce}'",
            f"style-src 'self' 'nonce-{nonce}'",
            "img-src 'self' data:",
            "font-src 'self'",
            "connect-src 'self'",
            "object-src 'none'",
            "base-uri 'self'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        ]
    )


def _signed_in() -> bool:
    """A session with a signed-in account (also on responses made before the user was loaded,
    such as routing redirects)."""
    if session.get("_user_id"):
        return True
    try:
        return bool(current_user and current_user.is_authenticated)
    except Exception:  # noqa: BLE001  (an error page whose tenant or database is gone)
        return False


def _served_over_https() -> bool:
    return request.is_secure or current_app.config.get("PREFERRED_URL_SCHEME") == "https"


def set_security_headers(response):
    """``after_request``: the headers every response carries (a view's own values are kept)."""
    headers = response.headers
    headers.setdefault("Content-Security-Policy", content_security_policy(csp_nonce()))
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
    if _served_over_https():
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if request.endpoint not in STATIC_ENDPOINTS and not response.cache_control.public and _signed_in():
        # What a signed-in person sees stays out of shared and back-button caches (files a view
        # deliberately marks public, such as the versioned logo, keep their caching).
        response.cache_control.no_store = True
    return response


def init_app(app: Flask) -> None:
    app.jinja_env.globals["csp_nonce"] = csp_nonce
    app.after_request(set_security_headers)
