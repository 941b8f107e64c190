"""Bulk actions and merges happen whole or not at all (app.unit_of_work): a refused item keeps none of
its changes, the other items keep theirs, and the report counts only what was kept."""

import pytest
from flask import g
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Comment, Ticket, TicketEvent, TicketLink, Watcher
from app.unit_of_work import unit
from tests.conftest import portal_url

# Savepoints and commits are where the engines differ (pysqlite opens its transactions lazily).
pytestmark = pytest.mark.both_databases


@pytest.fixture
def festum(app, make_tenant, make_user):
    """Festum with a customer, two agents and three new requests (FES-1..3), raised as a view would."""
    from app.tickets.services import raise_request

    tenant = make_tenant("festum")
    customer_id = make_user(tenant, "liisa@yritys.fi", name="Liisa")
    make_user(tenant, "agent@festum.test", role="agent", name="Aino Agentti", locale="en")
    make_user(tenant, "other@festum.test", role="agent", name="Olli Agentti")
    with app.test_request_context(portal_url("festum")), tenant_scope(tenant.id), unit():
        g.tenant = get_tenant_context("festum")
        customer = db.session.get(User, customer_id)
        request_type = db.session.scalars(select(RequestType)).one()
        for summary in ("Lasku ei tulostu", "Kofax-erä jumissa", "Salasana vanhentunut"):
            raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={"summary": summary, "description": "x", "severity": "normaali", "priority": "3"},
            )
    return tenant


def _state(app, tenant):
    """Each request's (assignee, status, timeline kinds), by reference."""
    with app.app_context(), tenant_scope(tenant.id):
        return {
            t.reference: (
                t.assignee_id,
                t.status.key,
                sorted(db.session.scalars(select(TicketEvent.kind).where(TicketEvent.ticket_id == t.id))),
            )
            for t in db.session.scalars(select(Ticket))
        }


def _ids(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        tickets = {t.reference: t.id for t in db.session.scalars(select(Ticket))}
        olli = db.session.scalars(select(User.id).where(User.email == "other@festum.test")).one()
    return tickets, olli


def test_a_refused_item_of_a_bulk_update_keeps_none_of_its_changes(app, client, festum, login):
    login("festum", "agent@festum.test")
    ids, olli = _ids(app, festum)
    client.post(
        portal_url("festum", "/agent/bulk"),
        data={"ticket": [ids["FES-1"]], "status": "kasittelyssa", "next": "/agent/"},
    )
    before = _state(app, festum)
    assert before["FES-1"][1] == "kasittelyssa"
    # FES-1 is already "Käsittelyssä": no agent step leads there again, so its assignment is refused
    # with the status move; FES-2 takes both.
    response = client.post(
        portal_url("festum", "/agent/bulk"),
        data={
            "ticket": [ids["FES-1"], ids["FES-2"]],
            "assignee": str(olli),
            "status": "kasittelyssa",
            "next": "/agent/",
        },
        follow_redirects=True,
    )
    assert "Changed: 1. Not possible in their status: 1." in response.get_data(as_text=True)
    after = _state(app, festum)
    assert after["FES-1"] == before["FES-1"]  # not assigned, no timeline entry
    assert after["FES-2"][:2] == (olli, "kasittelyssa")
    assert {"assigned", "status_changed"} <= set(after["FES-2"][2])
    assert after["FES-3"] == before["FES-3"]


def test_a_merge_that_fails_at_its_last_step_changes_nothing(app, client, festum, login, monkeypatch):
    from app.tickets import merging
    from app.workflow.services import TransitionError

    def refuse(*args, **kwargs):
        raise TransitionError("the duplicate cannot be closed")

    login("festum", "agent@festum.test")
    client.post(portal_url("festum", "/requests/FES-1/watch"), data={"watch": "1"})
    before = _state(app, festum)
    monkeypatch.setattr(merging, "move_to_status", refuse)  # the close, after the link, followers and notes
    response = client.post(portal_url("festum", "/requests/FES-1/links"), data={"reference": "FES-2", "merge": "1"})
    assert response.status_code == 302
    assert _state(app, festum) == before
    with app.app_context(), tenant_scope(festum.id):
        fes2 = db.session.scalars(select(Ticket.id).where(Ticket.reference == "FES-2")).one()
        assert db.session.scalars(select(TicketLink)).all() == []
        assert db.session.scalars(select(Comment)).all() == []
        assert len(db.session.scalars(select(Watcher).where(Watcher.ticket_id == fes2)).all()) == 1  # the requester
