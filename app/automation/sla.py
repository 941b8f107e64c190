"""SLA clocks: time to first response and time to resolution, per tenant and priority/severity.

The tenant's ``sla`` definition (``sla.yaml``) names the clock (``business`` hours or
``calendar``), the select field that picks the target (CRM-service's severity, Festum's priority),
the targets per option (an option without a target, e.g. "Severity 10 – Not in SLA", has none),
an optional ``default`` target for requests without a value, and ``warn_before``: how long before
the due moment a request counts as "breaching soon".

What the ticket stores (``Ticket.first_response_at``, ``sla_response_due_at``,
``sla_resolution_due_at``, ``sla_paused_at``, ``sla_paused_seconds``):
- the due moments are absolute instants: created + target + the time paused so far, on the clock;
- the clocks pause while the request waits for the customer (status category ``waiting``) and
  while it is resolved (waiting for the customer's confirmation); leaving the pause moves the due
  moments on by the paused time on the clock (a request already breached when it paused stays
  breached); a closed request has stopped clocks;
- the first response is support's first public comment; the resolution is ``resolved_at`` (or
  ``closed_at``).

Everything here is a pure function of those columns plus the tenant's policy, so the sweep can
apply the same change to thousands of rows at once (``on_status_change`` returns the column
changes instead of touching an ORM object).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import g, has_app_context
from sqlalchemy import and_, or_, select

from app.automation.calendar import CALENDAR, BusinessCalendar, CalendarClock, clock_for, parse_duration
from app.automation.models import SlaPolicy
from app.caching import ProcessCache
from app.catalog.models import Field
from app.db_types import utcnow
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scoping import current_tenant_id, tenant_scope
from app.tickets.models import Ticket, TicketFieldValue
from app.workflow.models import Status

PAUSED_CATEGORIES = ("waiting", "resolved")
DEFAULT_WARN_BEFORE = "PT4H"
_cache = ProcessCache("sla-policies")


@dataclass(frozen=True)
class Policy:
    clock_kind: str
    field: str | None
    targets: dict  # option key -> {"first_response": seconds|None, "resolution": seconds|None}
    default: dict | None
    warn_before: int  # seconds on the clock
    clock: CalendarClock | BusinessCalendar

    def target_for(self, value) -> dict | None:
        if value in (None, "", []):
            return self.default
        return self.targets.get(str(value))


def _seconds(clock, text: str | None) -> int | None:
    if not text:
        return None
    return clock.seconds_of(parse_duration(text))


def build_policy(definition: dict | None, tenant) -> Policy | None:
    if not definition:
        return None
    kind = definition.get("clock", "business")
    clock = clock_for(tenant, kind)

    def target(item):
        if item is None:
            return None
        return {
            "first_response": _seconds(clock, item.get("first_response")),
            "resolution": _seconds(clock, item.get("resolution")),
        }

    return Policy(
        clock_kind=kind,
        field=definition.get("by"),
        targets={str(k): target(v) for k, v in (definition.get("targets") or {}).items()},
        default=target(definition.get("default")),
        warn_before=_seconds(clock, definition.get("warn_before") or DEFAULT_WARN_BEFORE) or 0,
        clock=clock,
    )


def _tenant_row(tenant_id: int):
    """The tenant as the request or job knows it (``g.tenant``), else its row."""
    context = g.get("tenant") if has_app_context() else None
    if context is not None and context.id == tenant_id:
        return context
    return db.session.get(Tenant, tenant_id)


def policy_for(tenant) -> Policy | None:
    """The tenant's SLA policy (cached per configuration version), or None when it has none."""
    key = (tenant.id, tenant.config_version)
    cached = _cache.get(key, False)
    if cached is not False:
        return cached
    with tenant_scope(tenant.id):
        definition = db.session.execute(select(SlaPolicy.definition)).scalar_one_or_none()
    return _cache.set(key, build_policy(definition, tenant))


def current_policy() -> Policy | None:
    tenant_id = current_tenant_id()
    return policy_for(_tenant_row(tenant_id)) if tenant_id is not None else None


def _field_value(ticket, field_key: str):
    return db.session.execute(
        select(TicketFieldValue.value)
        .join(Field, TicketFieldValue.field_id == Field.id)
        .where(TicketFieldValue.ticket_id == ticket.id, Field.key == field_key)
    ).scalar_one_or_none()


def refresh_targets(ticket, policy: Policy | None = None) -> None:
    """(Re)compute the due moments from the request's priority/severity: at creation and when the
    field changes. Clocks already stopped (responded, resolved) keep their due moment."""
    policy = policy or current_policy()
    if policy is None or ticket.id is None:
        return
    value = _field_value(ticket, policy.field) if policy.field else None
    target = policy.target_for(value) or {}
    paused = ticket.sla_paused_seconds or 0
    created = ticket.created_at or utcnow()
    for column, name in (("sla_response_due_at", "first_response"), ("sla_resolution_due_at", "resolution")):
        seconds = target.get(name)
        setattr(ticket, column, None if seconds is None else policy.clock.add(created, seconds + paused))


def on_status_change(row, from_category: str, to_category: str, now: datetime, clock) -> dict:
    """The SLA columns that change when a request moves between status categories.

    ``row`` is anything with the ticket's SLA attributes (an ORM ticket or a result row)."""
    changes: dict = {}
    paused_at = row.sla_paused_at
    if to_category in PAUSED_CATEGORIES:
        if paused_at is None:
            changes["sla_paused_at"] = now
    elif paused_at is not None:
        changes["sla_paused_at"] = None
        if to_category != "closed":
            paused = max(int(clock.between(paused_at, now)), 0)
            changes["sla_paused_seconds"] = (row.sla_paused_seconds or 0) + paused
            if (
                row.sla_response_due_at is not None
                and row.first_response_at is None
                and paused_at < row.sla_response_due_at
            ):
                changes["sla_response_due_at"] = clock.add(row.sla_response_due_at, paused)
            if row.sla_resolution_due_at is not None and paused_at < row.sla_resolution_due_at:
                changes["sla_resolution_due_at"] = clock.add(row.sla_resolution_due_at, paused)
    return changes


def field_changed(ticket: Ticket, field_key: str | None) -> None:
    """A field of the request changed: when it is the one that picks the targets (priority,
    severity), the due moments are computed again."""
    policy = current_policy()
    if policy is not None and policy.field == field_key:
        refresh_targets(ticket, policy)


def status_changed(ticket: Ticket, previous: Status, target: Status, now: datetime) -> None:
    """The request moved between statuses: pause, resume or stop its clocks."""
    if ticket.sla_response_due_at is None and ticket.sla_resolution_due_at is None and ticket.sla_paused_at is None:
        return
    policy = current_policy()
    clock = policy.clock if policy else CALENDAR
    for column, value in on_status_change(ticket, previous.category, target.category, now, clock).items():
        setattr(ticket, column, value)


def comment_recorded(ticket: Ticket, kind: str, actor) -> None:
    """A timeline entry was recorded: support's first public comment is the first response."""
    if (
        kind == "commented"
        and actor is not None
        and getattr(actor, "is_staff", False)
        and ticket.first_response_at is None
    ):
        ticket.first_response_at = utcnow()


# --- what agents see ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clock:
    kind: str  # "first_response" or "resolution"
    due_at: datetime
    state: str  # met | breached | running | soon | paused
    remaining: timedelta  # working (or calendar) time left; negative when overdue

    @property
    def overdue(self) -> timedelta:
        return -self.remaining


def clocks_of(ticket, policy: Policy | None = None, now: datetime | None = None) -> list[Clock]:
    """The request's SLA clocks as agents see them, in the order response, resolution."""
    policy = policy or current_policy()
    if policy is None:
        return []
    now = now or utcnow()
    clock = policy.clock
    category = ticket.status.category
    done_at = {
        "first_response": ticket.first_response_at,
        "resolution": ticket.resolved_at or (ticket.closed_at if category == "closed" else None),
    }
    out = []
    for kind, due in (("first_response", ticket.sla_response_due_at), ("resolution", ticket.sla_resolution_due_at)):
        if due is None:
            continue
        finished = done_at[kind]
        if kind == "first_response" and finished is None and category == "closed":
            finished = ticket.closed_at
        if finished is not None and (kind == "first_response" or category in ("resolved", "closed")):
            state = "met" if finished <= due else "breached"
            out.append(Clock(kind, due, state, timedelta(seconds=clock.between(finished, due))))
            continue
        if category == "closed":
            continue
        reference = ticket.sla_paused_at or now
        remaining = timedelta(seconds=clock.between(reference, due))
        if ticket.sla_paused_at is not None:
            state = "paused" if ticket.sla_paused_at < due else "breached"
        elif due <= now:
            state = "breached"
        elif remaining.total_seconds() <= policy.warn_before:
            state = "soon"
        else:
            state = "running"
        out.append(Clock(kind, due, state, remaining))
    return out


def breaching_clause(mode: str, now: datetime | None = None):
    """Requests whose running clock is breached (``breached``) or due within the tenant's
    ``warn_before`` or breached (``breaching``): for the request list's ``sla`` filter."""
    policy = current_policy()
    if policy is None:
        return Ticket.id.is_(None)
    now = now or utcnow()
    limit = now if mode == "breached" else policy.clock.add(now, policy.warn_before)
    return and_(
        Status.category == "open",
        Ticket.sla_paused_at.is_(None),
        or_(
            Ticket.sla_resolution_due_at <= limit,
            and_(Ticket.first_response_at.is_(None), Ticket.sla_response_due_at <= limit),
        ),
    )
