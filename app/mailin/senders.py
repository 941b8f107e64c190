"""Whether a message routed to a request may be taken as written by its From address.

Anyone can write any From address and copy a subject tag: the sender is confirmed only by the reply
address we signed for that address, or by taking part in the request together with a reply address
of the request or the threading headers of an e-mail we sent to that very address. Otherwise the
message is held for the request's agents (``app.mailin.held``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.accounts.models import User
from app.extensions import db
from app.mailin import models as m
from app.mailin.parsing import ParsedMessage
from app.mailin.routing import (
    BY_OTHER_RECIPIENTS_ADDRESS,
    BY_REQUEST_ADDRESS,
    BY_SIGNED_ADDRESS,
    BY_SUBJECT_TAG,
    portal_host,
    thread_id,
)
from app.tenancy.settings import tenant_settings
from app.tickets.models import Ticket


def confirm_sender(parsed: ParsedMessage, tenant, ticket: Ticket, routed_by: str, sender: User | None) -> str | None:
    """``None`` when the message may be taken as written by its From address; otherwise why it must be
    held for an agent (one of ``m.HOLD_REASONS``).

    Anyone can write any From address and copy a subject tag, so the sender is confirmed only by the
    reply address we signed for that address, or by taking part in the request (requester, shared
    with, watcher, CC, staff) together with a reply address of the request or the threading headers
    of an e-mail we sent to that very address about it."""
    address = (parsed.from_address or "").lower()
    if routed_by == BY_SIGNED_ADDRESS:
        return None
    if not takes_part(ticket, sender, address, tenant):
        return m.HOLD_NOT_PARTICIPANT
    if routed_by == BY_REQUEST_ADDRESS or _names_our_email_to(parsed, tenant, ticket, address):
        return None
    if routed_by == BY_OTHER_RECIPIENTS_ADDRESS:
        return m.HOLD_OTHER_RECIPIENT
    return m.HOLD_SUBJECT_TAG if routed_by == BY_SUBJECT_TAG else m.HOLD_UNCONFIRMED_THREAD


def takes_part(ticket: Ticket, user: User | None, address: str, tenant) -> bool:
    """Does the person at ``address`` take part in the request: its staff, its requester, someone it
    is shared with or who watches it, or an address in its CC field (where the tenant has one)?"""
    from app.notifications.settings import cc_addresses
    from app.tickets.models import Participant, TicketFieldValue, Watcher

    if user is not None and user.active and user.tenant_id == ticket.tenant_id:
        if user.is_staff or ticket.requester_id == user.id:
            return True
        for table in (Participant, Watcher):
            if (
                db.session.execute(
                    select(table.id).where(table.ticket_id == ticket.id, table.user_id == user.id)
                ).first()
                is not None
            ):
                return True
    cc_field = tenant_settings(tenant).notifications.cc_field
    if cc_field:
        from app.catalog.models import Field

        text = db.session.execute(
            select(TicketFieldValue.value_text)
            .join(Field, TicketFieldValue.field_id == Field.id)
            .where(TicketFieldValue.ticket_id == ticket.id, Field.key == cc_field)
        ).scalar_one_or_none()
        if address in cc_addresses(text):
            return True
    return False


def _names_our_email_to(parsed: ParsedMessage, tenant, ticket: Ticket, address: str) -> bool:
    """Do the threading headers name an e-mail we sent to ``address`` about this request?"""
    from app.outbox.links import message_id_signature_is_valid
    from app.outbox.models import OutboxMessage

    ids = []
    for message_id in [*parsed.in_reply_to[:5], *parsed.references[-50:]]:
        ours = thread_id(message_id)
        # Only a signed Message-ID proves the e-mail reached the sender: the numbers alone are guessable.
        if (
            ours
            and ours[0] == "outbox"
            and ours[1] == tenant.id
            and ours[3] == portal_host()
            and message_id_signature_is_valid(ours[4], tenant.id, ours[2])
        ):
            ids.append(ours[2])
    if not ids:
        return False
    return (
        db.session.execute(
            select(OutboxMessage.id).where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.ticket_id == ticket.id,
                func.lower(OutboxMessage.recipient) == address,
            )
        ).first()
        is not None
    )
