"""A message about no request (or from someone who may not comment there) follows the tenant's rule
for new messages: a request of ``settings.email_request_type``, an account for an unknown sender
where ``settings.unknown_sender`` is ``create_account``, else a polite refusal.
"""

from __future__ import annotations

import re

from flask_babel import force_locale
from flask_babel import gettext as _

from app.accounts.models import User
from app.extensions import db
from app.mailin import models as m
from app.mailin.answers import answer
from app.mailin.comments import add_cc_participants, new_text, skipped_note, uploads
from app.mailin.models import InboundMessage
from app.mailin.routing import is_own_address, subject_tag_patterns
from app.tenancy.settings import tenant_settings


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|odp|odp\.|fw|fwd|tr|wg|pd|vá|továbbítás|továbbítva|vl|vb|rv|r|i)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


def clean_subject(subject: str, tenant) -> str:
    """The subject without reply/forward prefixes and our tags: the new request's summary."""
    text = subject or ""
    for pattern in subject_tag_patterns(tenant):
        text = pattern.sub(" ", text)
    text = _SUBJECT_PREFIX_RE.sub("", text.strip())
    return " ".join(text.split())


def email_request_type(tenant):
    """The request type of requests created by e-mail (``settings.email_request_type``: portal/type)."""
    from app.catalog.services import find_request_type

    setting = tenant_settings(tenant).email_request_type or ""
    portal_key, _, type_key = setting.partition("/")
    found = find_request_type(tenant, portal_key, type_key) if type_key else None
    return found[1] if found else None


def new_request(inbound, parsed, tenant, sender: User | None, answerable: bool, note: str | None) -> None:
    from app.accounts.registration import create_contact_account
    from app.accounts.users import AccountError
    from app.tickets.errors import RequestError
    from app.tickets.services import raise_request

    settings = tenant_settings(tenant)
    request_type = email_request_type(tenant)
    reasons = [note] if note else []
    if sender is None:
        if settings.unknown_sender != "create_account" or request_type is None:
            if answerable:
                answer(inbound, parsed, "unknown_sender")
            return inbound.set_outcome(m.REJECTED, "; ".join([*reasons, "unknown sender"]))
    elif not sender.active:
        return inbound.set_outcome(m.REJECTED, "; ".join([*reasons, "the sender's account is not active"]))
    if request_type is None:
        if answerable:
            answer(inbound, parsed, "no_email_requests", user=sender)
        return inbound.set_outcome(m.REJECTED, "; ".join([*reasons, "no request type for e-mail"]))
    created_account = False
    if sender is None:
        try:
            sender, created_account = create_contact_account(
                parsed.from_address, name=parsed.from_name[:200], reason="account_created"
            )
        except AccountError:
            return inbound.set_outcome(m.REJECTED, "; ".join([*reasons, "the sender's address is not valid"]))
    files, skipped = uploads(tenant, parsed)
    values = {
        "summary": clean_subject(parsed.subject, tenant)[:500] or _no_subject(sender),
        "description": new_text(parsed, tenant),
    }
    cc_field = settings.notifications.cc_field
    copied = [a for a in parsed.cc if a != sender.email and not is_own_address(a, tenant)]
    if cc_field and copied:
        values[cc_field] = ", ".join(copied)  # Festum's "Kopio": they get the thread once support answers
    inbound_id = inbound.id
    try:
        ticket = raise_request(
            tenant=tenant,
            request_type_id=request_type.id,
            requester=sender,
            created_by=sender,
            values=values,
            uploads=files,
            channel="email",
        )
    except RequestError as error:  # raise_request is all or nothing: nothing of it was kept
        inbound = db.session.get(InboundMessage, inbound_id)
        return inbound.set_outcome(m.REJECTED, "; ".join([*reasons, f"no request created: {error.message}"]))
    inbound = db.session.get(InboundMessage, inbound_id)
    inbound.ticket_id = ticket.id
    add_cc_participants(ticket, sender, parsed, tenant)
    if answerable:
        answer(inbound, parsed, "request_received", user=sender, ticket=ticket, created_account=created_account)
    reasons += ["account created" if created_account else None, skipped_note(skipped)]
    inbound.set_outcome(m.CREATED, "; ".join(filter(None, reasons)) or None)


def _no_subject(user) -> str:
    from app.outbox.services import recipient_locale

    with force_locale(recipient_locale(user)):
        return _("(no subject)")
