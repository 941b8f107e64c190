"""Replies held for an agent: a message routed to a request whose sender could not be confirmed.

The security trail names the address, the sender hears at most once an hour that it will be
reviewed, and one of the request's agents adds it (as the sender's comment or an internal note) or
sets it aside; of two agents acting at once, one wins.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from flask import g
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from app.mailin import models as m
from app.mailin.answers import answer
from app.mailin.comments import new_text, uploads
from app.mailin.models import InboundMessage
from app.mailin.parsing import ParsedMessage, parse_message
from app.tickets.models import Ticket
from app.unit_of_work import atomic

log = logging.getLogger(__name__)


GUIDANCE_WINDOW = timedelta(hours=1)


class ReviewError(Exception):
    """An agent's review of a held message could not be done; ``message`` says why, translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def hold(inbound, parsed, tenant, ticket, sender, routed_by, reason, answerable) -> None:
    """Keep a reply whose sender could not be confirmed for the request's agents; the security trail
    names the address, and the sender hears (at most once an hour) that it will be reviewed."""
    from app.security.events import INBOUND_HELD
    from app.security.services import record_event

    inbound.ticket_id, inbound.hold_reason = ticket.id, reason
    inbound.set_outcome(m.HELD, f"held for an agent: {reason} (routed by {routed_by})")
    record_event(
        INBOUND_HELD,
        tenant_id=tenant.id,
        subject=sender,
        email=parsed.from_address,
        inbound_message_id=inbound.id,
        reference=ticket.reference,
        reason=reason,
    )
    if answerable and not _guided_recently(parsed.from_address):
        answer(inbound, parsed, "held", user=sender)


def _guided_recently(address: str) -> bool:
    """Has this address been told about a held message within the hour? (A flood of forged mail must
    not turn the portal into a spam cannon aimed at whoever's address was forged.)"""
    from app.outbox.models import OutboxMessage

    return (
        db.session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == "mailin_held",
                func.lower(OutboxMessage.recipient) == address.lower(),
                OutboxMessage.created_at >= utcnow() - GUIDANCE_WINDOW,
            )
            .limit(1)
        ).first()
        is not None
    )


def held_messages(ticket: Ticket) -> list[InboundMessage]:
    """The request's messages waiting for an agent's review, oldest first."""
    return list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.ticket_id == ticket.id, InboundMessage.outcome == m.HELD)
            .order_by(InboundMessage.id)
        )
    )


def _read_original(inbound: InboundMessage) -> ParsedMessage:
    from app.storage import StorageError, get_storage

    try:
        stream = get_storage().open(inbound.raw_key)
        try:
            return parse_message(stream.read())
        finally:
            stream.close()
    except (StorageError, OSError) as exc:
        log.error("inbound mail %s of tenant %s: original not readable (%s)", inbound.id, inbound.tenant_id, exc)
        raise ReviewError(_("The original e-mail could not be read. Please try again later.")) from exc


def held_preview(inbound: InboundMessage, tenant, limit: int = 4000) -> str:
    """What the held message's sender wrote (without quotes), for the agent who reviews it."""
    try:
        text = new_text(_read_original(inbound), tenant)
    except ReviewError:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


def held_sender(inbound: InboundMessage, ticket: Ticket) -> User | None:
    """The account whose comment the held message would become, if its address may comment there."""
    from app.accounts.users import find_user
    from app.tickets.policy import can

    user = find_user(inbound.sender) if inbound.sender else None
    return user if user is not None and user.active and can(user, "comment", ticket) else None


def _held_on(ticket: Ticket, inbound_id: int) -> InboundMessage:
    inbound = db.session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.ticket_id != ticket.id or inbound.hold_reason is None:
        raise LookupError(inbound_id)
    if inbound.outcome != m.HELD:
        raise ReviewError(_("Another agent has already reviewed this message."))
    return inbound


def _claim(inbound: InboundMessage, agent: User, outcome: str) -> None:
    """Mark a held message reviewed, once: of two agents acting at the same moment, one wins."""
    from sqlalchemy import update

    claimed = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound.id, InboundMessage.outcome == m.HELD)
        .values(outcome=outcome, reviewed_by_id=agent.id, reviewed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        raise ReviewError(_("Another agent has already reviewed this message."))


@atomic()
def accept_held(ticket: Ticket, inbound_id: int, agent: User, *, internal: bool) -> int:
    """An agent adds a held message to its request: as its sender's comment (the sender must be able
    to comment there) or as the agent's internal note, the claim and the comment together or neither.
    Returns the comment's id.

    Raises LookupError for a message that is not held on this request, ReviewError with a reason."""
    from app.tickets.conversation import add_comment
    from app.tickets.errors import RequestError

    inbound = _held_on(ticket, inbound_id)
    author = agent
    if not internal:
        author = held_sender(inbound, ticket)
        if author is None:
            raise ReviewError(
                _(
                    "The sender cannot comment on this request. Add the message as an internal note, "
                    "or share the request with them first."
                )
            )
        if ticket.status.is_final:
            raise ReviewError(_("The request is closed. Add the message as an internal note instead."))
    tenant = g.tenant
    parsed = _read_original(inbound)
    files, _skipped = uploads(tenant, parsed)
    inbound_id = inbound.id
    _claim(inbound, agent, m.COMMENT)
    try:
        comment = add_comment(
            ticket, author, new_text(parsed, tenant), uploads=files, is_internal=internal, channel="email"
        )
    except RequestError as error:
        raise ReviewError(error.message) from None
    inbound = db.session.get(InboundMessage, inbound_id)
    inbound.comment_id = comment.id
    inbound.reason = ((inbound.reason or "") + f"; accepted by agent {agent.id}")[:500]
    log.info(
        "held inbound mail %s of tenant %s accepted by agent %s as %s",
        inbound_id,
        tenant.id,
        agent.id,
        "an internal note" if internal else "the sender's comment",
    )
    return comment.id


def discard_held(ticket: Ticket, inbound_id: int, agent: User) -> None:
    """An agent sets a held message aside: it stays stored (and downloadable), outside the request."""
    inbound = _held_on(ticket, inbound_id)
    _claim(inbound, agent, m.DISCARDED)
    log.info("held inbound mail %s of tenant %s discarded by agent %s", inbound_id, inbound.tenant_id, agent.id)
