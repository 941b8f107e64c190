"""A bounce of one of our outbox messages: the message is marked failed and the request's timeline
shows its agents that it did not arrive. Only a signed Message-ID counts, so a forged bounce fails nothing.
"""

from __future__ import annotations

from app.extensions import db
from app.mailin import models as m
from app.mailin.routing import thread_id
from app.tickets.models import Ticket


def record_bounce(inbound, parsed) -> None:
    """A bounce of one of our outbox messages: the message is marked failed and, if it was about a
    request, the request's timeline shows agents that it did not arrive."""
    from app.outbox.links import message_id_signature_is_valid
    from app.outbox.models import OUTBOX_FAILED, OutboxMessage
    from app.tickets.services import record_event

    ours = thread_id(parsed.bounced_message_id)
    if (
        not ours
        or ours[0] != "outbox"
        or ours[1] != inbound.tenant_id
        or not message_id_signature_is_valid(ours[4], inbound.tenant_id, ours[2])
    ):
        # A forged bounce must not mark a genuine message failed: only signed Message-IDs count.
        return inbound.set_outcome(m.BOUNCE, "not one of our messages")
    outbox = db.session.get(OutboxMessage, ours[2])
    if outbox is None:
        return inbound.set_outcome(m.BOUNCE, "our message is gone")
    outbox.status = OUTBOX_FAILED
    outbox.last_error = "bounced"
    if outbox.ticket_id is not None:
        ticket = db.session.get(Ticket, outbox.ticket_id)
        if ticket is not None:
            record_event(
                ticket,
                "email_bounced",
                recipient=outbox.recipient,
                subject=outbox.subject,
                inbound_message_id=inbound.id,
            )
            inbound.ticket_id = ticket.id
    inbound.set_outcome(m.BOUNCE, f"outbox message {outbox.id} to {outbox.recipient} bounced")
