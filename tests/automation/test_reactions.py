"""Automation reacts to the request's domain events, and the sweep writes a status change exactly as
a single request's move does: the same columns, timeline data and notification recipients."""

from datetime import timedelta

from flask import g
from sqlalchemy import select

from app.accounts.models import User
from app.automation.sweep import run_time_rules
from app.extensions import db
from app.notifications.models import Notification
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets import events
from app.tickets.conversation import add_comment
from app.tickets.models import Ticket, TicketEvent
from app.tickets.services import assign_ticket
from app.tickets.transitions import move_to_status
from app.workflow.models import Status
from tests.automation.conftest import ticket_state
from tests.conftest import portal_url


def _ticket(reference: str) -> Ticket:
    return db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()


def test_a_rule_caused_move_is_published_with_the_rule_that_caused_it(app, make_request):
    """Festum: the customer's answer on a waiting request moves it back to "In progress" by the
    rule; a subscriber sees the agent's move without a rule and the rule's move with its key."""
    tenant, ref = make_request("festum", status="odottaa")
    received = []

    def on_status_changed(sender, *, event: events.StatusChanged) -> None:
        received.append((event.previous.key, event.target.key, event.caused_by_rule, event.actor))

    with app.test_request_context(portal_url("festum")), tenant_scope(tenant.id):
        g.tenant = get_tenant_context("festum")
        ticket = _ticket(ref)
        customer = db.session.get(User, ticket.requester_id)
        with events.status_changed.connected_to(on_status_changed, app):
            add_comment(ticket, customer, "Tässä puuttuvat tiedot.")
        assert ticket.status.key == "kasittelyssa"

    assert received == [("odottaa", "kasittelyssa", "odottaa-vastaus-portaalissa", None)]


def test_a_persons_move_carries_no_rule(app, make_request):
    tenant, ref = make_request("exea")
    received = []

    def on_status_changed(sender, *, event: events.StatusChanged) -> None:
        received.append((event.target.key, event.caused_by_rule, event.actor.email))

    with app.app_context(), tenant_scope(tenant.id):
        ticket = _ticket(ref)
        agent = db.session.execute(select(User).where(User.email == "agent@example.com")).scalar_one()
        resolved = db.session.execute(select(Status).where(Status.key == "resolved")).scalar_one()
        with events.status_changed.connected_to(on_status_changed, app):
            move_to_status(ticket, resolved, actor_user=agent)
        db.session.rollback()

    assert received == [("resolved", None, "agent@example.com")]


def _status_change_of(app, tenant, reference):
    """The request's last status change: its timeline data, and who was notified of it."""
    with app.app_context(), tenant_scope(tenant.id):
        ticket = _ticket(reference)
        change = db.session.scalars(
            select(TicketEvent)
            .where(TicketEvent.ticket_id == ticket.id, TicketEvent.kind == "status_changed")
            .order_by(TicketEvent.id.desc())
        ).first()
        recipients = set(
            db.session.execute(
                select(Notification.recipient, Notification.audience).where(Notification.event_id == change.id)
            ).all()
        )
        stamps = (ticket.status.key, ticket.closed_at is not None, ticket.resolved_at is not None)
        return change.actor_id, change.data, recipients, stamps


def test_the_sweep_and_a_single_move_write_the_same_status_change(app, make_request):
    """Flexinform closes a request a week after its resolution. The sweep does it set-based for many
    requests; the same rule's move of one request (``move_to_status`` with the rule as its cause)
    must leave the same trace: columns, timeline data, notification recipients."""
    tenant, by_sweep = make_request("flexinform", status="megoldva")
    _tenant, one_by_one = make_request("flexinform", status="megoldva")
    with app.app_context(), tenant_scope(tenant.id):
        agent = db.session.execute(select(User).where(User.email == "agent@example.com")).scalar_one()
        for reference in (by_sweep, one_by_one):
            assign_ticket(_ticket(reference), agent, agent.id)  # the assignee hears of the system's moves
        done = db.session.execute(select(Status).where(Status.key == "kesz")).scalar_one()
        move_to_status(_ticket(one_by_one), done, actor_user=None, caused_by_rule="lezaras-megoldva")
        db.session.commit()

    _status, entered = ticket_state(app, tenant, by_sweep)
    with app.app_context():
        [run] = run_time_rules(entered + timedelta(days=7, minutes=1))
    assert run.references == [by_sweep]

    swept, single = _status_change_of(app, tenant, by_sweep), _status_change_of(app, tenant, one_by_one)
    assert swept == single
    actor_id, data, recipients, stamps = swept
    assert actor_id is None
    assert data == {"from_status": "megoldva", "to_status": "kesz", "rule": "lezaras-megoldva"}
    assert recipients == {("customer@example.com", "customer"), ("agent@example.com", "agent")}
    assert stamps == ("kesz", True, True)
