"""The transition service: the only way a request changes status.

It checks the workflow (the transition starts from the current status, the actor may take it, a
final status is never left, what the transition requires is given), then moves the request and
writes the timeline. Notifications and automation hook onto the events it writes.
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.db_types import utcnow
from app.extensions import db
from app.workflow.models import Status, Transition


class TransitionError(Exception):
    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def actor_kind(user) -> str:
    if user is None:
        return "system"
    return "agent" if getattr(user, "is_staff", False) else "customer"


def available_transitions(ticket, actor: str) -> list[Transition]:
    """Transitions of the request's workflow that ``actor`` (customer/agent/system) may take now."""
    if ticket.status.is_final:
        return []
    transitions = db.session.scalars(
        select(Transition)
        .join(Status, Transition.to_status_id == Status.id)
        .where(
            Transition.workflow_id == ticket.request_type.workflow_id,
            or_(Transition.from_status_id.is_(None), Transition.from_status_id == ticket.status_id),
            Transition.to_status_id != ticket.status_id,
        )
        .order_by(Transition.position, Transition.id)
    ).all()
    return [t for t in transitions if actor in (t.actors or [])]


def required_fields(ticket, transition: Transition) -> list:
    """The fields of the request's form that ``transition`` requires, in the form's order."""
    from app.catalog.models import Field

    keys = [key for key in (transition.requires or []) if key != "comment"]
    if not keys:
        return []
    return list(
        db.session.scalars(
            select(Field)
            .where(Field.form_id == ticket.request_type.form_id, Field.key.in_(keys))
            .order_by(Field.position)
        )
    )


def _missing(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def apply_transition(
    ticket, transition: Transition, *, actor_user, comment: str | None = None, values: dict | None = None
) -> None:
    """Move ``ticket`` along ``transition``; the caller adds the comment (if any) and commits.

    The fields the transition requires are stored from ``values`` (a field not given keeps its
    current value); one still empty refuses the step, naming the field, and nothing changes."""
    from app.templating import localized
    from app.tickets.models import TicketFieldValue

    kind = actor_kind(actor_user)
    if transition.id not in {t.id for t in available_transitions(ticket, kind)}:
        raise TransitionError(_("This step is not possible for the request in its current status."))
    if "comment" in (transition.requires or []) and not (comment or "").strip():
        raise TransitionError(_("Please write a comment for this step."), "body")
    fields = required_fields(ticket, transition)
    values = values or {}
    if fields:
        stored = dict(
            db.session.execute(
                select(TicketFieldValue.field_id, TicketFieldValue.value).where(
                    TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id.in_([f.id for f in fields])
                )
            ).all()
        )
        for f in fields:
            if _missing(values[f.key] if f.key in values else stored.get(f.id)):
                raise TransitionError(_("Please fill in “%(field)s” for this step.", field=localized(f.label)), f.key)
        from app.tickets.services import set_field_values

        set_field_values(ticket, actor_user, {f.key: values[f.key] for f in fields if f.key in values})
    move_to_status(
        ticket,
        db.session.get(Status, transition.to_status_id),
        actor_user=actor_user,
        transition=transition.key.split("@", 1)[0],
    )


def move_to_status(ticket, target: Status, *, actor_user=None, **event_data) -> None:
    """Set the status, its timestamps and the timeline entry (callers have checked the workflow)."""
    from app.tickets.services import record_event

    if ticket.status.is_final:
        raise TransitionError(_("A closed request cannot be changed any more; please raise a new request."))
    previous = ticket.status
    now = utcnow()
    ticket.status_id = target.id
    ticket.status = target
    ticket.status_changed_at = now
    ticket.updated_at = now
    if target.category == "resolved":
        ticket.resolved_at = now
    elif target.category == "closed":
        ticket.closed_at = now
    elif previous.category in ("resolved", "closed"):
        ticket.resolved_at = None
    from app.automation.sla import status_changed as sla_status_changed

    sla_status_changed(ticket, previous, target, now)
    record_event(
        ticket, "status_changed", actor=actor_user, from_status=previous.key, to_status=target.key, **event_data
    )
    from app.automation.services import status_entered

    status_entered(ticket)
