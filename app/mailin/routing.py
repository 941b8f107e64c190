"""Which request an inbound message is about: the signed reply address, then the threading headers
(our outbox Message-IDs and the request's thread root), then the subject tag. Only keys of this
tenant count, and finding the request says nothing about who wrote (``app.mailin.senders``).

Also how we recognise our own mail coming back: our support address and our Message-IDs.
"""

from __future__ import annotations

import re

from flask import current_app
from sqlalchemy import select

from app.extensions import db
from app.mailin.parsing import ParsedMessage
from app.tenancy.settings import tenant_settings
from app.tickets.models import Ticket


# Our Message-IDs: outbox-<tenant>-<row>.<signature>@<domain> (older e-mails have no signature) and
# ticket-<tenant>-<request>@<domain> (the thread root). Groups: kind, tenant, number, domain, signature.
_THREAD_ID_RE = re.compile(r"^(outbox|ticket)-(\d+)-(\d+)(?:\.([0-9a-f]+))?@(.+)$", re.IGNORECASE)


def thread_id(message_id: str | None) -> tuple[str, int, int, str, str | None] | None:
    """(kind, tenant id, number, domain, signature) of one of our Message-IDs, else None."""
    match = _THREAD_ID_RE.match((message_id or "").strip().strip("<>"))
    if not match or len(match.group(2)) > 9 or len(match.group(3)) > 9:  # beyond our ids: nothing of ours
        return None
    return (match.group(1).lower(), int(match.group(2)), int(match.group(3)), match.group(5).lower(), match.group(4))


# How a message found its request (``routed_by``, also written in the intake log).
BY_SIGNED_ADDRESS = "reply address signed for the sender"


BY_REQUEST_ADDRESS = "reply address of the request"  # the older per-request signature


BY_OTHER_RECIPIENTS_ADDRESS = "reply address of another recipient"


BY_THREADING = "threading headers"


BY_SUBJECT_TAG = "subject tag"


def route(parsed: ParsedMessage, tenant, envelope_to: tuple[str, ...] = ()) -> tuple[Ticket | None, str | None]:
    """The request a message is about, and which key found it: the reply address, the threading
    headers, or the subject tag. Only keys of this tenant count. Finding the request says nothing
    about who wrote: ``confirm_sender`` decides that."""
    for address in [*envelope_to, *parsed.to, *parsed.cc]:
        found = _ticket_of_reply_address(address, parsed.from_address or "", tenant)
        if found[0] is not None:
            return found
    for message_id in [*parsed.in_reply_to, *reversed(parsed.references)]:
        ticket = _ticket_of_message_id(message_id, tenant)
        if ticket is not None:
            return ticket, BY_THREADING
    ticket = _ticket_of_subject(parsed.subject or "", tenant)
    if ticket is not None:
        return ticket, BY_SUBJECT_TAG
    return None, None


def _ticket_of_reply_address(address: str, sender: str, tenant) -> tuple[Ticket | None, str | None]:
    """The request of a genuine reply address of this tenant, and whom its signature names: the
    sender, the request alone (e-mails sent before signatures named their recipient), or someone
    else we wrote to about the request (a forwarded e-mail). A forged signature finds nothing."""
    from app.outbox.links import reply_address_claim, reply_signature_is_for
    from app.outbox.models import OutboxMessage

    claim = reply_address_claim(address)
    if claim is None:
        return None, None
    ticket_id, signature = claim
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return None, None
    if sender and reply_signature_is_for(signature, tenant.id, ticket_id, sender):
        return ticket, BY_SIGNED_ADDRESS
    if reply_signature_is_for(signature, tenant.id, ticket_id):
        return ticket, BY_REQUEST_ADDRESS
    recipients = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.ticket_id == ticket_id).distinct()
    ).all()
    if any(reply_signature_is_for(signature, tenant.id, ticket_id, recipient) for recipient in recipients):
        return ticket, BY_OTHER_RECIPIENTS_ADDRESS
    return None, None


def portal_host() -> str:
    return current_app.config["PORTAL_DOMAIN"].split(":")[0].lower()


def _ticket_of_message_id(message_id: str, tenant) -> Ticket | None:
    from app.outbox.models import OutboxMessage

    ours = thread_id(message_id)
    if not ours or ours[1] != tenant.id or ours[3] != portal_host():
        return None
    number = ours[2]
    if ours[0] == "ticket":
        return db.session.get(Ticket, number)
    outbox = db.session.get(OutboxMessage, number)
    if outbox is None or outbox.ticket_id is None:
        return None
    return db.session.get(Ticket, outbox.ticket_id)


def is_our_message_id(message_id: str | None) -> bool:
    ours = thread_id(message_id)
    return ours is not None and ours[3] == portal_host()


def subject_tag_patterns(tenant) -> list[re.Pattern]:
    """Regular expressions for the tenant's subject tag (``[Festum #12]``) and the default ``[TAR-12]``."""
    prefix = re.escape(tenant.reference_prefix)
    patterns = []
    for template in dict.fromkeys([tenant_settings(tenant).subject_tag, "{reference}"]):
        regex = re.escape(template).replace(r"\ ", r"\s*")
        regex = regex.replace(r"\{reference\}", rf"(?P<reference>{prefix}-\d+)").replace(
            r"\{number\}", r"(?P<number>\d+)"
        )
        patterns.append(re.compile(r"\[\s*" + regex + r"\s*\]", re.IGNORECASE))
    return patterns


def _ticket_of_subject(subject: str, tenant) -> Ticket | None:
    for pattern in subject_tag_patterns(tenant):
        match = pattern.search(subject)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("reference"):
            query = select(Ticket).where(Ticket.reference == groups["reference"].upper())
        else:
            query = select(Ticket).where(Ticket.number == int(groups["number"]))
        ticket = db.session.execute(query).scalar_one_or_none()
        if ticket is not None:
            return ticket
    return None


def _own_addresses(tenant) -> set[str]:
    from app.outbox.services import support_address

    return {support_address(tenant).lower()}


def is_own_address(address: str, tenant) -> bool:
    """Our support address, or one of its plus-addresses (reply tokens)."""
    address = (address or "").lower()
    local, _, domain = address.partition("@")
    for own in _own_addresses(tenant):
        own_local, _, own_domain = own.partition("@")
        if domain == own_domain and (local == own_local or local.startswith(own_local + "+")):
            return True
    return False
