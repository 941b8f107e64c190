"""Related requests: links between two requests, and closing one as a duplicate of another."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.tickets.errors import RequestError
from app.tickets.events import ParticipantsChanged, publish
from app.tickets.models import Comment, Participant, Ticket, TicketLink, Watcher
from app.tickets.services import record_event
from app.tickets.transitions import move_to_status
from app.unit_of_work import atomic
from app.workflow.models import Status


def _by_reference(reference: str) -> Ticket:
    other = db.session.execute(
        select(Ticket).where(Ticket.reference == (reference or "").strip().upper())
    ).scalar_one_or_none()
    if other is None:
        raise RequestError(_("There is no request %(reference)s.", reference=(reference or "").strip()), "reference")
    return other


def link_tickets(ticket: Ticket, by: User, reference: str, kind: str = "relates") -> Ticket:
    """Link the request with another one (``relates``, or ``duplicate``); both timelines say so."""
    other = _by_reference(reference)
    if other.id == ticket.id:
        raise RequestError(_("A request cannot be linked to itself."), "reference")
    existing = db.session.execute(
        select(TicketLink).where(
            ((TicketLink.ticket_id == ticket.id) & (TicketLink.other_id == other.id))
            | ((TicketLink.ticket_id == other.id) & (TicketLink.other_id == ticket.id))
        )
    ).scalar_one_or_none()
    if existing is None:
        db.session.add(TicketLink(ticket_id=ticket.id, other_id=other.id, kind=kind, created_by_id=by.id))
        record_event(ticket, "linked", actor=by, other=other.reference, link=kind)
        record_event(other, "linked", actor=by, other=ticket.reference, link=kind)
    elif kind == "duplicate":
        existing.kind = kind
    return other


@atomic()
def merge_into(ticket: Ticket, by: User, reference: str) -> Ticket:
    """Close ``ticket`` as a duplicate of another request: its followers move to the other one, both
    get a note, and the duplicate is closed (a final status). All of it or nothing: a step refused
    late (the close) undoes the link, the followers and the notes too."""
    if ticket.status.is_final:
        raise RequestError(_("This request is already closed."))
    target = link_tickets(ticket, by, reference, kind="duplicate")
    followers = set(db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket.id)))
    already = set(db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == target.id)))
    added = []
    for user_id in sorted(followers - already - {target.requester_id}):
        db.session.add(Watcher(ticket_id=target.id, user_id=user_id))
        if not db.session.execute(
            select(Participant.id).where(Participant.ticket_id == target.id, Participant.user_id == user_id)
        ).first():
            db.session.add(Participant(ticket_id=target.id, user_id=user_id, added_by_id=by.id))
            added.append(user_id)
    if added:
        publish(ParticipantsChanged(target, by, added=tuple(added)))
    db.session.add(
        Comment(
            ticket_id=ticket.id,
            author_id=by.id,
            body=_("Closed as a duplicate of %(reference)s.", reference=target.reference),
        )
    )
    db.session.add(
        Comment(
            ticket_id=target.id,
            author_id=by.id,
            is_internal=True,
            body=_("%(reference)s was merged into this request.", reference=ticket.reference),
        )
    )
    closed = db.session.scalars(
        select(Status).where(Status.category == "closed").order_by(Status.position).limit(1)
    ).one()
    move_to_status(ticket, closed, actor_user=by, merged_into=target.reference)
    return target
