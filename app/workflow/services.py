"""The workflow's rules: which steps a request may take now, by whom, and what each step requires.

Pure configuration rules over the tenant's workflow (statuses, transitions): they read a request's
status and request type but know nothing of how requests are stored. Taking a step, which writes
the request, its field values and its timeline, is ``app.tickets.transitions``.
"""

from __future__ import annotations

from collections.abc import Mapping

from flask_babel import gettext as _
from sqlalchemy import or_, select

from app.catalog.models import Field
from app.extensions import db
from app.templating import localized
from app.workflow.models import Status, Transition


class TransitionError(Exception):
    """A step the workflow does not allow now, or whose requirements are not met (translated)."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def actor_kind(user) -> str:
    """``customer``, ``agent`` or ``system`` (no user): the actors a transition names."""
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


def required_fields(ticket, transition: Transition) -> list[Field]:
    """The fields of the request's form that ``transition`` requires, in the form's order."""
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


def check_requirements(transition: Transition, fields: list[Field], comment: str | None, values: Mapping) -> None:
    """Refuse the step (``TransitionError``, naming the field) when what it requires is missing:
    a comment, or a value of one of ``fields`` (``values``: field key → the value the request
    would have after the step)."""
    if "comment" in (transition.requires or []) and not (comment or "").strip():
        raise TransitionError(_("Please write a comment for this step."), "body")
    for field in fields:
        if _missing(values.get(field.key)):
            raise TransitionError(
                _("Please fill in “%(field)s” for this step.", field=localized(field.label)), field.key
            )


def _missing(value) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())
