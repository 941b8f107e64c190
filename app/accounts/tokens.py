"""Signed, expiring links for e-mail verification, invitations, password resets and e-mail changes.

A token names the tenant and the user and carries a fingerprint of the current password hash, so
that a reset or invitation link stops working once it has been used to set a password.
"""

from __future__ import annotations

import hashlib

from flask import current_app, url_for
from itsdangerous import URLSafeTimedSerializer

from app.config import signing_keys
from app.security.signing import load_tenant_payload

VERIFY_EMAIL = "verify-email"
SET_PASSWORD = "set-password"  # invitations and accounts created from e-mail or phone
RESET_PASSWORD = "reset-password"
# Sent to the new address of an e-mail change; carries that address (``n``). It dies once the
# address (or the password) changes, like the others.
CHANGE_EMAIL = "change-email"

MAX_AGE = {VERIFY_EMAIL: 48 * 3600, SET_PASSWORD: 7 * 24 * 3600, RESET_PASSWORD: 2 * 3600, CHANGE_EMAIL: 48 * 3600}


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # SECRET_KEY signs; the SECRET_KEY_FALLBACKS still verify, so a key rotation keeps links working.
    return URLSafeTimedSerializer(signing_keys(current_app.config), salt=f"accounts.{purpose}")


def _fingerprint(user) -> str:
    return hashlib.sha256((user.password_hash or "-").encode()).hexdigest()[:16]


def make_token(purpose: str, user, **extra) -> str:
    """``extra``: more payload under short keys of one letter (``n``: the new address)."""
    return _serializer(purpose).dumps(
        {**extra, "t": user.tenant_id, "u": user.id, "e": user.email, "p": _fingerprint(user)}
    )


def read_token(purpose: str, token: str, tenant_id: int) -> dict:
    """The token's payload if it is genuine, unexpired and for this tenant; else
    ``app.security.signing.TokenError``."""
    return load_tenant_payload(_serializer(purpose), token, MAX_AGE[purpose], tenant_id)


def token_matches_user(data: dict, user) -> bool:
    return (
        user is not None
        and user.id == data.get("u")
        and user.email == data.get("e")
        and (_fingerprint(user) == data.get("p"))
    )


def link(endpoint: str, **values) -> str:
    """The absolute URL an account e-mail carries (the current tenant's portal)."""
    return url_for(endpoint, _external=True, **values)
