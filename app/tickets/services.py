"""The ticket service: every change to a request goes through here (views and jobs never write models).

This module holds the rules every later feature builds on: the tenant-prefixed reference handed out
without gaps or races, and a timeline event for everything that happens.
"""
from __future__ import annotations

from sqlalchemy import select, update

from app.accounts.models import User
from app.catalog.models import RequestType
from app.db_types import utcnow
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scoping import current_tenant_id
from app.tickets.models import Ticket, TicketEvent, TicketSequence
from app.workflow.models import Workflow


def ensure_ticket_sequence() -> None:
    """Create the current tenant's counter (once, when the tenant is created)."""
    exists = db.session.execute(select(TicketSequence.id)).scalar_one_or_none()
    if exists is None:
        db.session.add(TicketSequence(last_number=0))
        db.session.flush()


def next_ticket_number() -> int:
    """Take the next number of the current tenant.

    One atomic ``UPDATE ... RETURNING`` inside the caller's transaction: concurrent creators queue
    on the counter's row lock (PostgreSQL) or the write lock (SQLite), and a rolled-back request
    gives its number back, so references have neither duplicates nor gaps.
    """
    number = db.session.execute(
        update(TicketSequence).values(last_number=TicketSequence.last_number + 1).returning(TicketSequence.last_number)
    ).scalar_one_or_none()
    if number is None:
        raise RuntimeError("the tenant has no ticket sequence; was it created through apply_definition()?")
    return number


def record_event(ticket: Ticket, kind: str, *, actor: User | None = None, **data) -> TicketEvent:
    event = TicketEvent(ticket=ticket, actor_id=actor.id if actor else None, kind=kind, data=data)
    db.session.add(event)
    return event


def create_ticket(*, request_type: RequestType, requester: User, summary: str, description: str = "",
                  created_by: User | None = None, channel: str = "portal") -> Ticket:
    """Create a request of ``request_type`` for ``requester`` in its workflow's initial status.

    The caller validates the form (catalog) and commits; the reference, initial status and the
    'created' timeline event are set here, in the same transaction.
    """
    summary = (summary or "").strip()
    if not summary:
        raise ValueError("a request needs a summary")
    tenant = db.session.get(Tenant, current_tenant_id())
    workflow = db.session.get(Workflow, request_type.workflow_id)
    number = next_ticket_number()
    now = utcnow()
    ticket = Ticket(
        number=number, reference=f"{tenant.reference_prefix}-{number}", portal_id=request_type.portal_id,
        request_type=request_type, status_id=workflow.initial_status_id, summary=summary[:500],
        description=description or "", requester=requester, created_by=created_by or requester,
        channel=channel, status_changed_at=now, created_at=now, updated_at=now,
    )
    db.session.add(ticket)
    record_event(ticket, "created", actor=created_by or requester, channel=channel)
    db.session.flush()
    return ticket
