"""Status changes: the one write path for a request's status.

``status_change`` is a pure function: the ticket columns and the ``status_changed`` timeline data of
a move from one status to another at a moment. ``move_to_status`` applies it to one request, records
the timeline entry and publishes ``StatusChanged``; the automation sweep applies the same values to
thousands of requests with one UPDATE (``app.automation.sweep``). ``apply_transition`` and
``take_transition`` are a person's workflow step: the workflow's rules (``app.workflow.services``)
say whether it may be taken and what it requires; here the request is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from app.tickets.errors import RequestError
from app.tickets.events import CommentAdded, StatusChanged, publish
from app.tickets.models import Comment, Ticket, TicketFieldValue
from app.tickets.services import assign_ticket, record_event, set_field_values
from app.unit_of_work import atomic
from app.workflow.models import Status, Transition
from app.workflow.services import (
    TransitionError,
    actor_kind,
    available_transitions,
    check_requirements,
    required_fields,
)


@dataclass(frozen=True)
class StatusChange:
    """What a status change writes: ``values`` (ticket column → value) and ``event_data`` (the
    ``status_changed`` timeline entry's data)."""

    values: dict[str, Any] = field(default_factory=dict)
    event_data: dict[str, Any] = field(default_factory=dict)


def status_change(
    previous: Status, target: Status, moment: datetime, *, caused_by_rule: str | None = None, **event_data
) -> StatusChange:
    """The columns and timeline data of moving a request from ``previous`` to ``target`` at ``moment``.

    Entering a resolved or closed status stamps when; leaving resolved or closed for an open one
    clears the resolution. ``caused_by_rule`` is stored as the entry's ``rule`` (shown as "by the
    rule ..."); ``event_data`` adds what the caller knows (the transition's key, the duplicate)."""
    values: dict[str, Any] = {"status_id": target.id, "status_changed_at": moment, "updated_at": moment}
    if target.category == "resolved":
        values["resolved_at"] = moment
    elif target.category == "closed":
        values["closed_at"] = moment
    elif previous.category in ("resolved", "closed"):
        values["resolved_at"] = None
    data = {"from_status": previous.key, "to_status": target.key, **event_data}
    if caused_by_rule is not None:
        data["rule"] = caused_by_rule
    return StatusChange(values, data)


def move_to_status(
    ticket: Ticket,
    target: Status,
    *,
    actor_user: User | None = None,
    caused_by_rule: str | None = None,
    **event_data,
) -> None:
    """Move the request to ``target`` (callers have checked the workflow): its columns, the timeline
    entry, and ``StatusChanged`` for the SLA clocks and the rules of the status entered."""
    if ticket.status.is_final:
        raise TransitionError(_("A closed request cannot be changed any more; please raise a new request."))
    previous = ticket.status
    moment = utcnow()
    change = status_change(previous, target, moment, caused_by_rule=caused_by_rule, **event_data)
    for column, value in change.values.items():
        setattr(ticket, column, value)
    ticket.status = target
    record_event(ticket, "status_changed", actor=actor_user, **change.event_data)
    publish(StatusChanged(ticket, previous, target, actor_user, moment, caused_by_rule))


def apply_transition(
    ticket: Ticket,
    transition: Transition,
    *,
    actor_user: User | None,
    comment: str | None = None,
    values: dict | None = None,
) -> None:
    """Move ``ticket`` along ``transition``; the caller adds the comment (if any) and commits.

    The fields the transition requires are stored from ``values`` (a field not given keeps its
    current value); one still empty refuses the step, naming the field, and nothing changes."""
    if transition.id not in {t.id for t in available_transitions(ticket, actor_kind(actor_user))}:
        raise TransitionError(_("This step is not possible for the request in its current status."))
    fields = required_fields(ticket, transition)
    values = values or {}
    stored: dict[int, object] = (
        {
            field_id: value
            for field_id, value in db.session.execute(
                select(TicketFieldValue.field_id, TicketFieldValue.value).where(
                    TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id.in_([f.id for f in fields])
                )
            )
        }
        if fields
        else {}
    )
    after = {f.key: values[f.key] if f.key in values else stored.get(f.id) for f in fields}
    check_requirements(transition, fields, comment, after)
    if fields:
        set_field_values(ticket, actor_user, {f.key: values[f.key] for f in fields if f.key in values})
    move_to_status(
        ticket,
        db.session.get_one(Status, transition.to_status_id),
        actor_user=actor_user,
        transition=transition.key.split("@", 1)[0],
    )


@atomic()
def take_transition(
    ticket: Ticket, actor: User, transition_id: int, comment: str = "", values: dict | None = None
) -> None:
    """A workflow step (confirm, send back, approve, reject, close, reopen...), with its comment and
    the values of the fields it requires (Targito's list of information needed); all or nothing."""
    transition = db.session.get(Transition, transition_id)
    if transition is None:
        raise TransitionError("unknown transition")
    apply_transition(ticket, transition, actor_user=actor, comment=comment, values=values)
    if (comment or "").strip():
        note = Comment(ticket_id=ticket.id, author_id=actor.id, body=comment.strip())
        db.session.add(note)
        db.session.flush()
        record_event(ticket, "commented", actor=actor, comment_id=note.id)
        publish(CommentAdded(ticket, note, actor, "portal", with_step=True))


# --- bulk actions (agents) ------------------------------------------------------------------------


def bulk_update(
    tickets, by: User, *, assignee_id: int | None = None, assign: bool = False, status_key: str | None = None
) -> tuple[int, int]:
    """Assign and/or move several requests through the same services and checks as one by one.

    Each request is its own ``atomic()`` unit: one whose workflow has no agent step to ``status_key``
    from its current status, or whose change is refused, is left entirely as it was (its assignment
    included) and counted as skipped, while the others keep their changes. Returns (changed,
    skipped); changed counts only the requests whose changes were kept."""
    changed = skipped = 0
    for ticket in tickets:
        try:
            with atomic():
                if assign:
                    assign_ticket(ticket, by, assignee_id)
                if status_key:
                    step = next(
                        (
                            t
                            for t in available_transitions(ticket, actor_kind(by))
                            if t.to_status.key == status_key and not t.requires
                        ),
                        None,
                    )
                    if step is None:
                        raise _NoStep
                    take_transition(ticket, by, step.id)
        except (_NoStep, RequestError, TransitionError):
            skipped += 1
        else:
            changed += 1
    return changed, skipped


class _NoStep(Exception):
    """A bulk item's workflow has no agent step to the status asked for: its changes are undone."""
