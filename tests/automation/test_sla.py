"""SLA clocks: targets by severity (CRM-service) and priority on business hours (Festum), pauses
while waiting for the customer, breaches, the breaching-soon queue, and what agents see."""

from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.automation.calendar import CALENDAR
from app.automation.sla import clocks_of, on_status_change, policy_for, refresh_targets
from app.db_types import utcnow
from app.extensions import db
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from app.tickets.conversation import add_comment
from app.tickets.services import set_field_values
from app.workflow.models import Status
from app.tickets.transitions import move_to_status
from tests.conftest import portal_url

# SLA clocks compare stored UTC moments in SQL: each engine's date handling.
pytestmark = pytest.mark.both_databases

HELSINKI = ZoneInfo("Europe/Helsinki")
BUG = {"category": "bug", "priority": "high"}


def in_tenant(app, tenant):
    context = app.test_request_context(portal_url(tenant.slug))
    context.push()
    from flask import g

    g.tenant = get_tenant_context(tenant.slug)
    scope = tenant_scope(tenant.id)
    scope.__enter__()
    return context, scope


def ticket_of(reference):
    return db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()


def test_crmservice_targets_follow_the_severity_and_severity_10_has_none(app, make_request):
    tenant, critical = make_request("crmservice", values={**BUG, "severity": "severity_1"})
    _tenant, support = make_request(
        "crmservice", values={"category": "support", "severity": "severity_10", "priority": "low"}
    )
    with app.app_context(), tenant_scope(tenant.id):
        ticket = ticket_of(critical)
        assert ticket.sla_response_due_at == ticket.created_at + timedelta(hours=1)
        assert ticket.sla_resolution_due_at == ticket.created_at + timedelta(hours=8)
        other = ticket_of(support)
        assert other.sla_response_due_at is None and other.sla_resolution_due_at is None


def test_festum_counts_priority_targets_in_working_hours(app, make_request):
    tenant, ref = make_request("festum", values={"priority": "2"})
    context, scope = in_tenant(app, tenant)
    try:
        ticket = ticket_of(ref)
        friday = datetime(2026, 3, 27, 15, 0, tzinfo=HELSINKI).astimezone(timezone.utc)
        ticket.created_at = friday
        refresh_targets(ticket)
        # Priority 2: first response within 2 working hours, resolution within 2 working days.
        assert ticket.sla_response_due_at.astimezone(HELSINKI) == datetime(2026, 3, 30, 9, 0, tzinfo=HELSINKI)
        assert ticket.sla_resolution_due_at.astimezone(HELSINKI) == datetime(2026, 3, 31, 15, 0, tzinfo=HELSINKI)
        # Support changes the priority: the targets follow.
        agent = db.session.execute(select(User).where(User.role == "agent")).scalar_one()
        set_field_values(ticket, agent, {"priority": "1"})
        assert ticket.sla_response_due_at.astimezone(HELSINKI) == datetime(2026, 3, 27, 16, 0, tzinfo=HELSINKI)
        db.session.rollback()
    finally:
        scope.__exit__(None, None, None)
        context.pop()


def test_waiting_for_the_customer_pauses_the_clocks(app, make_request):
    tenant, ref = make_request("crmservice", values={**BUG, "severity": "severity_3"})
    context, scope = in_tenant(app, tenant)
    try:
        ticket = ticket_of(ref)
        agent = db.session.execute(select(User).where(User.role == "agent")).scalar_one()
        due = ticket.sla_resolution_due_at
        statuses = {s.key: s for s in db.session.scalars(select(Status))}
        move_to_status(ticket, statuses["waiting_customer"], actor_user=agent)
        assert ticket.sla_paused_at is not None
        [_response, resolution] = clocks_of(ticket)
        assert resolution.state == "paused"
        ticket.sla_paused_at = utcnow() - timedelta(hours=5)  # as if it had waited five hours
        move_to_status(ticket, statuses["in_progress"], actor_user=agent)
        assert ticket.sla_paused_at is None and 5 * 3600 - 5 <= ticket.sla_paused_seconds <= 5 * 3600 + 5
        assert abs((ticket.sla_resolution_due_at - due) - timedelta(hours=5)) < timedelta(seconds=5)
        db.session.commit()
    finally:
        scope.__exit__(None, None, None)
        context.pop()


def test_a_pause_after_the_breach_does_not_undo_it():
    class Row:
        sla_paused_at = datetime(2026, 3, 2, 12, tzinfo=timezone.utc)
        sla_paused_seconds = 0
        first_response_at = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
        sla_response_due_at = datetime(2026, 3, 1, 10, tzinfo=timezone.utc)
        sla_resolution_due_at = datetime(2026, 3, 2, 10, tzinfo=timezone.utc)

    now = datetime(2026, 3, 3, 12, tzinfo=timezone.utc)
    changes = on_status_change(Row, "waiting", "open", now, CALENDAR)
    assert changes == {"sla_paused_at": None, "sla_paused_seconds": 86400}
    assert on_status_change(Row, "waiting", "closed", now, CALENDAR) == {"sla_paused_at": None}


def test_the_first_public_reply_of_support_meets_the_response_target(app, make_request):
    tenant, ref = make_request("crmservice", values={**BUG, "severity": "severity_2"})
    context, scope = in_tenant(app, tenant)
    try:
        ticket = ticket_of(ref)
        customer = db.session.get(User, ticket.requester_id)
        agent = db.session.execute(select(User).where(User.role == "agent")).scalar_one()
        add_comment(ticket, customer, "Any news?")
        add_comment(ticket, agent, "Looking into it", is_internal=True)
        assert ticket_of(ref).first_response_at is None
        add_comment(ticket, agent, "We found the cause.")
        ticket = ticket_of(ref)
        assert ticket.first_response_at is not None
        response = clocks_of(ticket)[0]
        assert (response.kind, response.state) == ("first_response", "met")
        breached = clocks_of(ticket, now=ticket.sla_resolution_due_at + timedelta(minutes=1))[1]
        assert (breached.kind, breached.state) == ("resolution", "breached")
    finally:
        scope.__exit__(None, None, None)
        context.pop()


def test_the_breaching_soon_queue_and_the_remaining_time_for_agents(app, client, make_request, login):
    tenant, urgent = make_request("crmservice", values={**BUG, "severity": "severity_1"}, summary="Kaatuu")
    _tenant, relaxed = make_request("crmservice", values={**BUG, "severity": "severity_4"}, summary="Kirjoitusvirhe")
    _tenant, no_sla = make_request(
        "crmservice",
        values={"category": "work_order", "severity": "severity_10", "priority": "low"},
        summary="Työtilaus",
    )
    login("crmservice", "agent@example.com")
    page = client.get(portal_url("crmservice", "/agent/queues/sla-breaching")).get_data(as_text=True)
    assert urgent in page and relaxed not in page and no_sla not in page
    assert "sla-soon" in page  # within the 4 hours before the first response is due
    page = client.get(portal_url("crmservice", "/agent/queues/open")).get_data(as_text=True)
    assert relaxed in page and "sla-running" in page
    detail = client.get(portal_url("crmservice", f"/requests/{urgent}")).get_data(as_text=True)
    assert "sla-clocks" in detail and "sla-soon" in detail
    # A breached request stays in the queue; a waiting one leaves it (its clock is paused).
    with app.app_context(), tenant_scope(tenant.id):
        ticket = ticket_of(relaxed)
        ticket.sla_resolution_due_at = utcnow() - timedelta(minutes=5)
        db.session.commit()
    page = client.get(portal_url("crmservice", "/agent/queues/sla-breaching")).get_data(as_text=True)
    assert urgent in page and relaxed in page and "sla-breached" in page


def test_breaching_soon_on_festums_business_hours(app, make_request):
    from app.automation.sla import breaching_clause

    tenant, ref = make_request("festum", values={"priority": "1"})
    context, scope = in_tenant(app, tenant)
    try:
        ticket = ticket_of(ref)
        # Due Monday 10:00; on Friday at 14:00 there are 4 working hours left: breaching soon.
        ticket.sla_response_due_at = ticket.sla_resolution_due_at = datetime(
            2026, 3, 30, 10, 0, tzinfo=HELSINKI
        ).astimezone(timezone.utc)
        db.session.flush()
        query = select(Ticket.reference).join(Status, Ticket.status_id == Status.id)
        friday = datetime(2026, 3, 27, 14, 0, tzinfo=HELSINKI).astimezone(timezone.utc)
        thursday = datetime(2026, 3, 26, 14, 0, tzinfo=HELSINKI).astimezone(timezone.utc)
        assert db.session.scalars(query.where(breaching_clause("breaching", friday))).all() == [ref]
        assert db.session.scalars(query.where(breaching_clause("breaching", thursday))).all() == []
        [clock, _resolution] = clocks_of(ticket, now=friday)
        assert clock.state == "soon" and clock.remaining == timedelta(hours=4)
        db.session.rollback()
    finally:
        scope.__exit__(None, None, None)
        context.pop()


def test_the_policy_comes_from_the_definition(app, make_tenant):
    festum = make_tenant("festum")
    with app.app_context():
        policy = policy_for(festum)
    assert policy.clock_kind == "business" and policy.field == "priority"
    assert policy.targets["1"] == {"first_response": 3600, "resolution": 8 * 3600}
    assert policy.default == {"first_response": 4 * 3600, "resolution": 5 * 8 * 3600}
