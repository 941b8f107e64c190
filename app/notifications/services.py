"""Notification actions that are not planning: a recipient stops hearing about a request, and an
e-mail about a request that will never arrive is shown to its agents.

Queueing and delivering e-mail is the outbox's (``app.outbox``).
"""

from __future__ import annotations

from flask import Flask, g
from sqlalchemy import select

from app.extensions import db
from app.outbox.events import delivery_failed
from app.outbox.models import OutboxMessage
from app.tenancy.settings import tenant_settings


def init_app(app: Flask) -> None:
    """Show a failed e-mail on its request's timeline, for ``app`` (connected from ``create_app``)."""
    delivery_failed.connect(_record_failed_delivery, app)


def _record_failed_delivery(app: Flask, *, message: OutboxMessage) -> None:
    """A message that will never arrive is shown to agents on its request's timeline."""
    if message.ticket_id is None:
        return
    from app.tickets.models import Ticket
    from app.tickets.services import record_event

    ticket = db.session.get(Ticket, message.ticket_id)
    if ticket is not None:
        record_event(
            ticket,
            "email_failed",
            recipient=message.recipient,
            error=(message.last_error or "")[:300],
            subject=message.subject,
        )


def stop_notifications(ticket, user, address: str) -> None:
    """ "Stop notifications for this request" from an e-mail: the user stops watching it; a bare CC
    address is taken off the request's CC field. Idempotent; the request's timeline records it."""
    from app.tickets.conversation import set_watching

    if user is not None:
        set_watching(ticket, user, False)
        return
    from app.notifications.settings import cc_addresses
    from app.tickets.services import update_details

    key = tenant_settings(g.tenant).notifications.cc_field
    if not key:
        return
    from app.catalog.models import Field
    from app.tickets.models import TicketFieldValue

    text = db.session.execute(
        select(TicketFieldValue.value_text)
        .join(Field, TicketFieldValue.field_id == Field.id)
        .where(TicketFieldValue.ticket_id == ticket.id, Field.key == key)
    ).scalar_one_or_none()
    remaining = [a for a in cc_addresses(text) if a != address.lower()]
    if len(remaining) != len(cc_addresses(text)):
        update_details(ticket, None, {key: ", ".join(remaining)})
