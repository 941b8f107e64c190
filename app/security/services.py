"""Writing and reading the security event trail."""

from __future__ import annotations

from collections.abc import Iterator

from flask import has_request_context, request
from sqlalchemy import column, func, or_, select, table

from app.extensions import db
from app.security.events import KINDS
from app.security.models import SecurityEvent

# The trail sits below accounts (accounts record into it), so it names the accounts' table the way
# its foreign keys do, by name, instead of importing the models.
_users = table("users", column("id"), column("tenant_id"), column("email"))


def record_event(
    kind: str, *, tenant_id: int | None, actor=None, subject=None, email: str = "", ip: str | None = None, **params
) -> SecurityEvent:
    """Add one event to the session (the boundary commits it with the change it describes).

    ``actor`` is whoever acted (a ``User`` or an ``Operator``), ``subject`` the user concerned.
    ``params`` are values, never sentences: they are worded when the trail is read. A failed
    sign-in is kept although its answer is an error (``app.unit_of_work.keep``).
    """
    if kind not in KINDS:
        raise ValueError(f"unknown security event kind {kind!r}")
    by_operator = getattr(actor, "__tablename__", None) == "operators"

    event = SecurityEvent(
        tenant_id=tenant_id,
        kind=kind,
        actor_user_id=getattr(actor, "id", None) if actor is not None and not by_operator else None,
        actor_operator_id=actor.id if by_operator else None,
        subject_user_id=getattr(subject, "id", None),
        email=(email or getattr(subject, "email", "") or "")[:320],
        ip=(ip if ip is not None else (request.remote_addr if has_request_context() else "")) or "",
        params={key: value for key, value in params.items() if value is not None},
    )
    db.session.add(event)
    return event


def events_for_tenant(
    tenant_id: int, *, limit: int = 200, before_id: int | None = None, kind: str | None = None, email: str | None = None
) -> list[SecurityEvent]:
    """The newest events of one tenant first, keyset-paginated by id.

    ``kind`` keeps one kind; ``email`` (part of an address, any case) keeps the events that name
    it, or whose actor or subject account has it (a sign-in names its account only by id).
    """
    query = select(SecurityEvent).where(SecurityEvent.tenant_id == tenant_id)
    if before_id is not None:
        query = query.where(SecurityEvent.id < before_id)
    if kind:
        query = query.where(SecurityEvent.kind == kind)
    needle = (email or "").strip().lower()
    if needle:
        accounts = select(_users.c.id).where(
            _users.c.tenant_id == tenant_id, func.lower(_users.c.email).contains(needle, autoescape=True)
        )
        query = query.where(
            or_(
                func.lower(SecurityEvent.email).contains(needle, autoescape=True),
                SecurityEvent.actor_user_id.in_(accounts),
                SecurityEvent.subject_user_id.in_(accounts),
            )
        )
    return list(db.session.execute(query.order_by(SecurityEvent.id.desc()).limit(limit)).scalars())


def iter_events_for_tenant(
    tenant_id: int, *, kind: str | None = None, email: str | None = None, batch: int = 500
) -> Iterator[SecurityEvent]:
    """Every matching event of one tenant, newest first, read in keyset batches (the CSV export:
    one bounded query at a time however long the trail)."""
    before_id = None
    while True:
        events = events_for_tenant(tenant_id, limit=batch, before_id=before_id, kind=kind, email=email)
        yield from events
        if len(events) < batch:
            return
        before_id = events[-1].id
