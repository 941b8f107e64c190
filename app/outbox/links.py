"""Signed, expiring links in notification e-mails, and the reply address that routes back to a request.

A link token names the tenant, the request and the recipient (a user, or a bare CC address), so the
landing page knows whom it is for without a login. Tokens are signed with the secret key, salted
per purpose, and expire; another tenant's token is refused.
"""

from __future__ import annotations

import hashlib
import hmac

from flask import current_app, url_for
from itsdangerous import URLSafeTimedSerializer

from app.security.signing import TokenError, load_tenant_payload
from app.config import signing_keys
from app.security.params import int_arg

VIEW = "view"
UNSUBSCRIBE = "unsubscribe"
RATE = "rate"
MAX_AGE = {VIEW: 90 * 86400, UNSUBSCRIBE: 180 * 86400, RATE: 30 * 86400}


# A link that is not genuine, not for this tenant or expired (``expired`` says which).
LinkError = TokenError


def _serializer(purpose: str) -> URLSafeTimedSerializer:
    # SECRET_KEY signs; the SECRET_KEY_FALLBACKS still verify, so a key rotation keeps links working.
    return URLSafeTimedSerializer(signing_keys(current_app.config), salt=f"notifications.{purpose}")


def make_link_token(purpose: str, *, tenant_id: int, ticket_id: int, user_id: int | None, address: str) -> str:
    return _serializer(purpose).dumps({"t": tenant_id, "k": ticket_id, "u": user_id, "a": address.lower()})


def read_link_token(purpose: str, token: str, tenant_id: int) -> dict:
    return load_tenant_payload(_serializer(purpose), token, MAX_AGE[purpose], tenant_id)


def email_links(ticket, *, user_id: int | None, address: str) -> dict[str, str]:
    """The links one e-mail carries for its recipient (external URLs of the tenant's portal)."""

    def token(purpose):
        return make_link_token(
            purpose, tenant_id=ticket.tenant_id, ticket_id=ticket.id, user_id=user_id, address=address
        )

    view = token(VIEW)
    unsubscribe = token(UNSUBSCRIBE)
    return {
        "view": url_for("notifications.view", token=view, _external=True),
        "comment": url_for("notifications.view", token=view, _anchor="comment-form", _external=True),
        "unsubscribe": url_for("notifications.unsubscribe", token=unsubscribe, _external=True),
        "rate_token": token(RATE),
    }


def rate_link(rate_token: str, score: int) -> str:
    return url_for("notifications.rate", token=rate_token, score=score, _external=True)


# --- the reply address -----------------------------------------------------------------------------
# ``support+r<ticket id>-<signature>@domain``. The signature is an HMAC of the tenant, the request and
# the address the e-mail went to (16 hex digits), so a forwarded e-mail's reply address confirms only
# its first recipient. E-mails sent before carry a signature of the request alone (12 hex digits):
# it still routes, but confirms no sender by itself.


def _reply_signature(tenant_id: int, ticket_id: int, recipient: str | None = None, secret: str | None = None) -> str:
    key = (secret or current_app.config["SECRET_KEY"]).encode()
    if recipient is None:  # the older, per-request signature
        return hmac.new(key, f"reply:{tenant_id}:{ticket_id}".encode(), hashlib.sha256).hexdigest()[:12]
    message = f"reply-to:{tenant_id}:{ticket_id}:{recipient.strip().lower()}"
    return hmac.new(key, message.encode(), hashlib.sha256).hexdigest()[:16]


def reply_address(support_email: str, ticket, recipient: str | None = None) -> str:
    """The address a reply to an e-mail about ``ticket`` goes to (plus-addressing): signed for the
    e-mail's ``recipient``, so that only a reply from that address is taken as theirs."""
    local, _, domain = support_email.partition("@")
    return f"{local}+r{ticket.id}-{_reply_signature(ticket.tenant_id, ticket.id, recipient)}@{domain}"


def reply_address_claim(address: str) -> tuple[int, str] | None:
    """The request number and signature an address claims (not checked yet), if it is a reply address."""
    local = (address or "").split("@", 1)[0]
    if "+r" not in local:
        return None
    number, _, signature = local.rsplit("+r", 1)[1].partition("-")
    ticket_id = int_arg(number)  # ASCII digits within the id range ("²" or 30 digits are no request)
    if ticket_id is None or not signature:
        return None
    return ticket_id, signature.lower()


def _message_id_signature(tenant_id: int, outbox_id: int, secret: str) -> str:
    return hmac.new(secret.encode(), f"message-id:{tenant_id}:{outbox_id}".encode(), hashlib.sha256).hexdigest()[:16]


def outbox_message_id(tenant_id: int, outbox_id: int, domain: str) -> str:
    """The Message-ID of one outbox row: stable across retries, and signed, so that threading
    headers naming it prove the sender received that e-mail (sequential ids alone could be guessed)."""
    signature = _message_id_signature(tenant_id, outbox_id, current_app.config["SECRET_KEY"])
    return f"<outbox-{tenant_id}-{outbox_id}.{signature}@{domain}>"


def message_id_signature_is_valid(signature: str | None, tenant_id: int, outbox_id: int) -> bool:
    """Is ``signature`` the one ``outbox_message_id`` gave that row (under any current signing key)?"""
    from app.config import signing_keys

    if not signature:
        return False
    return any(
        hmac.compare_digest(signature.lower().encode(), _message_id_signature(tenant_id, outbox_id, secret).encode())
        for secret in signing_keys(current_app.config)
    )


def reply_signature_is_for(signature: str, tenant_id: int, ticket_id: int, recipient: str | None = None) -> bool:
    """Is ``signature`` the one we gave ``recipient`` for this request (``None``: the older per-request one),
    under the SECRET_KEY or one of its fallbacks (replies to e-mails sent before a key rotation)?"""
    from app.config import signing_keys

    return any(
        hmac.compare_digest(signature.encode(), _reply_signature(tenant_id, ticket_id, recipient, secret).encode())
        for secret in signing_keys(current_app.config)
    )


def ticket_id_from_reply_address(address: str, tenant_id: int, sender: str | None = None) -> int | None:
    """The request a reply address routes to, if its signature is genuine for this tenant: signed for
    ``sender``, or the older per-request signature."""
    claim = reply_address_claim(address)
    if claim is None:
        return None
    ticket_id, signature = claim
    if (sender and reply_signature_is_for(signature, tenant_id, ticket_id, sender)) or reply_signature_is_for(
        signature, tenant_id, ticket_id
    ):
        return ticket_id
    return None


def thread_root_id(ticket, domain: str) -> str:
    """The Message-ID every e-mail about a request refers to, so mail clients thread them together."""
    return f"<ticket-{ticket.tenant_id}-{ticket.id}@{domain}>"
