"""Requests at the demo tenants, moved to a status, for the automation tests."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from app.tickets.services import raise_request
from app.workflow.models import Status
from app.tickets.transitions import move_to_status
from tests.conftest import portal_url


@pytest.fixture
def tenant_with_people(app, make_tenant, make_user):
    made = {}

    def make(slug):
        if slug not in made:
            tenant = make_tenant(slug)
            customer = make_user(tenant, "customer@example.com", name="Customer")
            agent = make_user(tenant, "agent@example.com", role="agent", name="Agent")
            made[slug] = (tenant, customer, agent)
        return made[slug]

    return make


@pytest.fixture
def make_request(app, tenant_with_people):
    """``make_request(slug, status=None, values=None, entered_ago=None)`` -> (tenant, reference):
    a request raised by the customer, moved to ``status`` by the agent, ``entered_ago`` (a
    timedelta) back in time when given."""

    def make(slug, status=None, values=None, type_key=None, entered_ago=None, summary="Gond"):
        tenant, customer_id, agent_id = tenant_with_people(slug)
        with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id):
            from flask import g

            g.tenant = get_tenant_context(slug)
            query = select(RequestType).order_by(RequestType.id)
            if type_key:
                query = query.where(RequestType.key == type_key)
            request_type = db.session.scalars(query).first()
            customer = db.session.get(User, customer_id)
            ticket = raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={"summary": summary, "description": "Leírás", **(values or {})},
            )
            if status:
                target = db.session.execute(select(Status).where(Status.key == status)).scalar_one()
                move_to_status(ticket, target, actor_user=db.session.get(User, agent_id))
            if entered_ago is not None:
                ticket.status_changed_at = ticket.status_changed_at - entered_ago
            db.session.commit()
            return tenant, ticket.reference

    return make


def ticket_state(app, tenant, reference):
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        return ticket.status.key, ticket.status_changed_at


def later(**kwargs):
    from app.db_types import utcnow

    return utcnow() + timedelta(**kwargs)
