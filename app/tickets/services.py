"""The request aggregate's own writes: its reference, its timeline, creating it, its fields and assignee.

Views and jobs never write models: every change to a request goes through a service of this package
(this module; ``transitions`` for status changes, ``conversation`` for comments and following,
``sharing`` for the people it is shared with, ``merging`` for links and duplicates, ``attachments``
for files). Each change appends a timeline event and publishes a domain event (``app.tickets.events``)
that the reacting modules subscribe to; this package imports none of them.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import Membership, User
from app.accounts.policy import can_raise_requests
from app.catalog.models import Field, RequestType
from app.db_types import utcnow
from app.extensions import db
from app.security.params import single_line
from app.storage import get_storage
from app.tenancy.models import Tenant
from app.tenancy.scoping import current_tenant_id
from app.tickets.attachments import check_uploads, store_attachments
from app.tickets.errors import RequestError
from app.tickets.events import Assigned, EventRecorded, RequestCreated, TextChanged, publish
from app.tickets.models import Ticket, TicketEvent, TicketFieldValue, TicketOrganization, TicketSequence, Watcher
from app.unit_of_work import atomic
from app.workflow.models import Workflow


def ensure_ticket_sequence() -> None:
    """Create the current tenant's counter if it has none (idempotent, safe against a concurrent twin)."""
    if db.session.execute(select(TicketSequence.id)).scalar_one_or_none() is not None:
        return
    try:
        with atomic():
            db.session.add(TicketSequence(last_number=0))
    except IntegrityError:
        pass  # created by a concurrent transaction meanwhile


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
        ensure_ticket_sequence()
        number = db.session.execute(
            update(TicketSequence)
            .values(last_number=TicketSequence.last_number + 1)
            .returning(TicketSequence.last_number)
        ).scalar_one()
    return number


def record_event(ticket: Ticket, kind: str, *, actor: User | None = None, **data) -> TicketEvent:
    """Append to the request's timeline and publish it (``EventRecorded``): the notifications it
    causes are planned at commit, in the same transaction (``app.notifications.planning``)."""
    event = TicketEvent(ticket=ticket, actor_id=actor.id if actor else None, kind=kind, data=data)
    db.session.add(event)
    publish(EventRecorded(ticket, event, actor))
    return event


def create_ticket(
    *,
    request_type: RequestType,
    requester: User,
    summary: str,
    description: str = "",
    created_by: User | None = None,
    channel: str = "portal",
    values: dict | None = None,
) -> Ticket:
    """Create a request of ``request_type`` for ``requester`` in its workflow's initial status, with
    the values of its form's fields (``values``: field key → value, already validated).

    The reference, initial status and the 'created' timeline event are set here, in the caller's
    transaction; ``RequestCreated`` is published once the values are stored (the SLA targets depend
    on them)."""
    summary = single_line(summary).strip()  # one line: it becomes an e-mail subject
    if not summary:
        raise ValueError("a request needs a summary")
    tenant = db.session.get_one(Tenant, current_tenant_id())
    workflow = db.session.get_one(Workflow, request_type.workflow_id)
    number = next_ticket_number()
    now = utcnow()
    actor = created_by or requester
    ticket = Ticket(
        number=number,
        reference=f"{tenant.reference_prefix}-{number}",
        portal_id=request_type.portal_id,
        request_type=request_type,
        status_id=workflow.initial_status_id,
        summary=summary[:500],
        description=description or "",
        requester=requester,
        created_by=actor,
        channel=channel,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
    )
    db.session.add(ticket)
    record_event(ticket, "created", actor=actor, channel=channel)
    db.session.flush()
    if values:
        fields = {f.key: f.id for f in db.session.scalars(select(Field).where(Field.form_id == request_type.form_id))}
        for key, value in values.items():
            if key in ("summary", "description") or key not in fields or value in (None, "", []):
                continue
            db.session.add(
                TicketFieldValue(
                    ticket_id=ticket.id, field_id=fields[key], value=value, value_text=TicketFieldValue.text_of(value)
                )
            )
    publish(RequestCreated(ticket, actor, channel))
    return ticket


# --- raising a request on the portal ----------------------------------------------------------


@atomic()
def raise_request(
    *,
    tenant,
    request_type_id: int,
    requester: User,
    created_by: User,
    values: dict,
    uploads=(),
    share_with_organization_ids=(),
    channel: str = "portal",
) -> Ticket:
    """Create a request from a validated form: the ticket, its field values, sharing, the requester
    as watcher, and the attachments, all or nothing (``atomic()``: an upload failure leaves nothing behind)."""
    # By e-mail, the message itself comes from the address (as a reply adding a comment does).
    if channel != "email" and not can_raise_requests(created_by):
        raise RequestError(_("Please confirm your e-mail address before raising a request."))
    files = check_uploads(tenant, uploads)
    request_type = db.session.get_one(RequestType, request_type_id)
    allowed_orgs = set(db.session.scalars(select(Membership.organization_id).where(Membership.user_id == requester.id)))
    share_ids = [int(i) for i in share_with_organization_ids]
    if any(org_id not in allowed_orgs for org_id in share_ids):
        raise RequestError(_("The request can only be shared with the requester's organizations."), "share_with")
    stored_keys = []
    try:
        ticket = create_ticket(
            request_type=request_type,
            requester=requester,
            summary=values.get("summary") or "",
            description=values.get("description") or "",
            created_by=created_by,
            channel=channel,
            values=values,
        )
        for org_id in share_ids:
            db.session.add(TicketOrganization(ticket_id=ticket.id, organization_id=org_id))
        db.session.add(Watcher(ticket_id=ticket.id, user_id=requester.id))
        if share_ids:
            record_event(ticket, "shared_with_organizations", actor=created_by, organizations=share_ids)
        stored_keys = store_attachments(ticket, files, uploaded_by=created_by)
        if stored_keys:
            record_event(ticket, "attachments_added", actor=created_by, count=len(stored_keys))
    except Exception:
        storage = get_storage()
        for key in stored_keys:
            storage.delete(key)
        raise
    return ticket


# --- editing the basic information --------------------------------------------------------------


@atomic()
def update_details(ticket: Ticket, by: User | None, values: dict, uploads=()) -> list[str]:
    """Change the fields the tenant lets requesters edit after creation (Festum's "Perustiedot"),
    add files; every change is a timeline entry with the old and the new value. All or nothing."""
    files = check_uploads(g.tenant, uploads)
    changed = set_field_values(ticket, by, values)
    stored = store_attachments(ticket, files, uploaded_by=by)
    if stored:
        record_event(ticket, "attachments_added", actor=by, count=len(stored))
        changed.append("attachments")
    if changed:
        ticket.updated_at = utcnow()
    return changed


def set_field_values(ticket: Ticket, by: User | None, values: dict) -> list[str]:
    """Store field values (and the summary) of the request's form; each change is a
    ``field_changed`` timeline entry with the old and the new value. The caller commits."""
    changed = []
    for key, value in values.items():
        if key == "summary":
            value = single_line(value).strip()[:500]
            if value and value != ticket.summary:
                record_event(ticket, "field_changed", actor=by, field="summary", old=ticket.summary, new=value)
                ticket.summary = value
                publish(TextChanged(ticket, by, ("summary",)))
                changed.append(key)
            continue
        field = db.session.execute(
            select(Field).where(Field.form_id == ticket.request_type.form_id, Field.key == key)
        ).scalar_one_or_none()
        if field is None:
            continue
        row = db.session.execute(
            select(TicketFieldValue).where(
                TicketFieldValue.ticket_id == ticket.id, TicketFieldValue.field_id == field.id
            )
        ).scalar_one_or_none()
        old = row.value if row else None
        if value in ("", []):
            value = None
        if value == old:
            continue
        if row is None:
            db.session.add(
                TicketFieldValue(
                    ticket_id=ticket.id, field_id=field.id, value=value, value_text=TicketFieldValue.text_of(value)
                )
            )
        else:
            row.value, row.value_text = value, TicketFieldValue.text_of(value)
        record_event(ticket, "field_changed", actor=by, field=key, old=old, new=value)
        changed.append(key)
    if changed:
        ticket.updated_at = utcnow()
    return changed


def assign_ticket(ticket: Ticket, by: User, assignee_id: int | None) -> None:
    """Assign to an agent of the tenant (or to nobody); a timeline entry records who did it."""
    if assignee_id is not None:
        assignee = db.session.get(User, assignee_id)
        if assignee is None or not assignee.is_staff or not assignee.active:
            raise RequestError(_("Requests can only be assigned to agents."))
    if assignee_id == ticket.assignee_id:
        return
    previous_id = ticket.assignee_id
    record_event(ticket, "assigned", actor=by, old=previous_id, new=assignee_id)
    ticket.assignee_id = assignee_id
    ticket.updated_at = utcnow()
    publish(Assigned(ticket, by, previous_id, assignee_id))


def change_request_type(ticket: Ticket, by: User, request_type_id: int) -> None:
    """Move a request to another request type (and its portal); values of fields the new form also
    has stay, the others stay stored but are no longer shown. The status is kept."""
    new_type = db.session.get(RequestType, request_type_id)
    if new_type is None:
        raise RequestError(_("Please choose a request type."))
    if new_type.id == ticket.request_type_id:
        return
    record_event(ticket, "field_changed", actor=by, field="request_type", old=ticket.request_type.key, new=new_type.key)
    ticket.request_type_id = new_type.id
    ticket.request_type = new_type
    ticket.portal_id = new_type.portal_id
    ticket.updated_at = utcnow()
