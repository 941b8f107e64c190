"""Signed payloads that name their tenant: the one check behind every signed link we e-mail.

Account links (``app.accounts.tokens``) and the outbox's links (``app.outbox.links``) sign their own
payloads with their own salts; reading one back is the same everywhere: genuine, unexpired, and
for the tenant whose portal it is opened on.
"""

from __future__ import annotations

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer


class TokenError(Exception):
    """A token that is not genuine, not for this tenant, or expired (``expired`` says which)."""

    def __init__(self, expired: bool):
        super().__init__("expired" if expired else "invalid")
        self.expired = expired


def load_tenant_payload(serializer: URLSafeTimedSerializer, token: str, max_age: int, tenant_id: int) -> dict:
    """A signed payload naming its tenant (``t``): genuine, unexpired and this tenant's, else TokenError.
    Shared by every signed link (accounts, notification e-mails)."""
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired:
        raise TokenError(expired=True) from None
    except BadSignature:
        raise TokenError(expired=False) from None
    if not isinstance(data, dict) or data.get("t") != tenant_id:
        raise TokenError(expired=False)
    return data
