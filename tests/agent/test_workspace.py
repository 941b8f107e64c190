"""The agents' workspace: queues with counts, assignment, field edits, history; customers kept out."""

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.catalog.models import RequestType
from app.extensions import db
from app.unit_of_work import unit
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from app.tickets.services import raise_request
from tests.conftest import portal_url


@pytest.fixture
def festum(app, make_tenant, make_user):
    tenant = make_tenant("festum")
    customer_id = make_user(tenant, "liisa@yritys.fi", name="Liisa")
    make_user(tenant, "agent@festum.test", role="agent", name="Aino Agentti")
    make_user(tenant, "other@festum.test", role="agent", name="Olli Agentti")
    with app.test_request_context(portal_url("festum")), tenant_scope(tenant.id), unit():
        from flask import g

        g.tenant = get_tenant_context("festum")
        customer = db.session.get(User, customer_id)
        request_type = db.session.scalars(select(RequestType)).one()
        for summary in ("Lasku ei tulostu", "Kofax-erä jumissa", "Salasana vanhentunut"):
            raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={
                    "summary": summary,
                    "description": "x",
                    "severity": "normaali",
                    "priority": "3",
                    "queue": "asiakastuki",
                },
            )
    return tenant


def _refs(html):
    import re

    return re.findall(r'href="/requests/(FES-\d+)"', html)


def test_queues_with_counts_and_assignment(app, client, festum, login):
    login("festum", "agent@festum.test")
    unassigned = client.get(portal_url("festum", "/agent/queues/unassigned")).get_data(as_text=True)
    assert sorted(_refs(unassigned)) == ["FES-1", "FES-2", "FES-3"]
    client.post(portal_url("festum", "/requests/FES-2/assign"), data={"assignee": "me"})
    mine = client.get(portal_url("festum", "/agent/queues/mine")).get_data(as_text=True)
    assert _refs(mine) == ["FES-2"] and "Aino Agentti" in mine
    unassigned = client.get(portal_url("festum", "/agent/queues/unassigned")).get_data(as_text=True)
    assert sorted(_refs(unassigned)) == ["FES-1", "FES-3"]
    assert '<span class="count">2</span>' in unassigned and '<span class="count">1</span>' in unassigned


def test_only_agents_can_be_assigned(app, client, festum, login):
    login("festum", "agent@festum.test")
    with app.app_context(), tenant_scope(festum.id):
        customer_id = db.session.scalars(select(User.id).where(User.role == "customer")).first()
    client.post(portal_url("festum", "/requests/FES-1/assign"), data={"assignee": str(customer_id)})
    with app.app_context(), tenant_scope(festum.id):
        assert db.session.execute(select(Ticket.assignee_id).where(Ticket.reference == "FES-1")).scalar_one() is None


def test_agent_sets_festum_priority_and_queue_and_the_history_shows_it(app, client, festum, login):
    login("festum", "agent@festum.test")
    page = client.get(portal_url("festum", "/requests/FES-1")).get_data(as_text=True)
    assert 'name="field_priority"' in page and 'name="field_queue"' in page
    client.post(
        portal_url("festum", "/requests/FES-1/details"),
        data={
            "field_summary": "Lasku ei tulostu",
            "field_priority": "1",
            "field_queue": "kofax",
            "field_severity": "normaali",
            "field_cc": "",
        },
    )
    page = client.get(portal_url("festum", "/requests/FES-1")).get_data(as_text=True)
    assert 'id="history"' in page and "Aino Agentti" in page
    with app.app_context(), tenant_scope(festum.id):
        from app.tickets.models import TicketEvent

        changes = {
            e.data["field"]: (e.data["old"], e.data["new"])
            for e in db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "field_changed"))
        }
    assert changes == {"priority": ("3", "1"), "queue": ("asiakastuki", "kofax")}
    # The customer sees neither the history nor the support-only fields' editor.
    client.post(portal_url("festum", "/logout"))
    login("festum", "liisa@yritys.fi")
    page = client.get(portal_url("festum", "/requests/FES-1")).get_data(as_text=True)
    assert 'id="history"' not in page and 'name="field_priority"' not in page


def test_customers_have_no_workspace(client, festum, login):
    login("festum", "liisa@yritys.fi")
    assert client.get(portal_url("festum", "/agent/queues/unassigned")).status_code == 404
    assert client.post(portal_url("festum", "/requests/FES-1/assign"), data={"assignee": "me"}).status_code == 404


def test_bulk_assign_and_change_status_through_the_workflow(app, client, festum, login):
    login("festum", "agent@festum.test")
    with app.app_context(), tenant_scope(festum.id):
        ids = {t.reference: t.id for t in db.session.scalars(select(Ticket))}
        olli = db.session.scalars(select(User.id).where(User.email == "other@festum.test")).one()
    response = client.post(
        portal_url("festum", "/agent/bulk"),
        data={
            "ticket": [ids["FES-1"], ids["FES-2"]],
            "assignee": str(olli),
            "status": "kasittelyssa",
            "next": "/agent/queues/open",
        },
    )
    assert response.status_code == 302 and response.headers["Location"] == "/agent/queues/open"
    with app.app_context(), tenant_scope(festum.id):
        rows = {t.reference: (t.assignee_id, t.status.key) for t in db.session.scalars(select(Ticket))}
    assert rows["FES-1"] == (olli, "kasittelyssa") and rows["FES-2"] == (olli, "kasittelyssa")
    assert rows["FES-3"] == (None, "uusi")
    # A status no agent step reaches from "Käsittelyssä" is skipped, not forced.
    client.post(
        portal_url("festum", "/agent/bulk"),
        data={"ticket": [ids["FES-1"]], "status": "uusi", "next": "/agent/queues/open"},
    )
    with app.app_context(), tenant_scope(festum.id):
        assert (
            db.session.execute(select(Ticket).where(Ticket.id == ids["FES-1"])).scalar_one().status.key
            == "kasittelyssa"
        )
    page = client.get(portal_url("festum", "/agent/queues/open")).get_data(as_text=True)
    assert 'id="bulk-form"' in page and 'name="ticket"' in page


def test_bulk_actions_never_reach_another_tenants_requests(app, client, festum, make_tenant, make_user, login):
    exea = make_tenant("exea")
    make_user(exea, "agent@exea.test", role="agent")
    with app.app_context(), tenant_scope(festum.id):
        ids = [t.id for t in db.session.scalars(select(Ticket))]
    login("exea", "agent@exea.test")
    client.post(portal_url("exea", "/agent/bulk"), data={"ticket": ids, "assignee": "me", "next": "/agent/"})
    with app.app_context(), tenant_scope(festum.id):
        assert all(t.assignee_id is None for t in db.session.scalars(select(Ticket)))


def test_link_related_requests_and_close_a_duplicate(app, client, festum, login):
    login("festum", "agent@festum.test")
    assert client.post(portal_url("festum", "/requests/FES-1/links"), data={"reference": "fes-2"}).status_code == 302
    page = client.get(portal_url("festum", "/requests/FES-2")).get_data(as_text=True)
    assert 'href="/requests/FES-1"' in page
    client.post(portal_url("festum", "/requests/FES-1/links"), data={"reference": "FES-404"})
    client.post(portal_url("festum", "/requests/FES-1/links"), data={"reference": "FES-1"})
    client.post(portal_url("festum", "/requests/FES-3/links"), data={"reference": "FES-1", "merge": "1"})
    with app.app_context(), tenant_scope(festum.id):
        from app.tickets.models import Comment, TicketLink

        duplicate = db.session.execute(select(Ticket).where(Ticket.reference == "FES-3")).scalar_one()
        assert duplicate.status.is_final
        links = {(link.ticket_id, link.other_id, link.kind) for link in db.session.scalars(select(TicketLink))}
        assert len(links) == 2 and any(kind == "duplicate" for *_ids, kind in links)
        notes = db.session.scalars(select(Comment.body)).all()
    assert any("FES-1" in body for body in notes) and any("FES-3" in body for body in notes)
    # The customer sees the duplicate note but not the agents' link controls.
    client.post(portal_url("festum", "/logout"))
    login("festum", "liisa@yritys.fi")
    page = client.get(portal_url("festum", "/requests/FES-3")).get_data(as_text=True)
    assert "FES-1" in page and 'class="related"' not in page
    assert client.post(portal_url("festum", "/requests/FES-2/links"), data={"reference": "FES-1"}).status_code == 404


def test_agent_changes_the_request_type_and_the_customer_sees_it(app, client, make_tenant, make_user, login):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@sportklub.hu")
    make_user(flexinform, "agent@flexinform.test", role="agent")
    login("flexinform", "anna@sportklub.hu")
    client.post(
        portal_url("flexinform", "/portals/verseny/kerdes/new"),
        data={"field_summary": "Valójában hiba", "field_description": "A mentés nem működik"},
    )
    client.post(portal_url("flexinform", "/logout"))
    login("flexinform", "agent@flexinform.test")
    from app.catalog.models import Portal

    with app.app_context(), tenant_scope(flexinform.id):
        bug = (
            db.session.execute(
                select(RequestType)
                .join(Portal, RequestType.portal_id == Portal.id)
                .where(Portal.key == "verseny", RequestType.key == "hiba")
            )
            .scalar_one()
            .id
        )
    client.post(portal_url("flexinform", "/requests/FLX-1/type"), data={"request_type": str(bug)})
    with app.app_context(), tenant_scope(flexinform.id):
        ticket = db.session.execute(select(Ticket)).scalar_one()
        assert ticket.request_type_id == bug
    client.post(portal_url("flexinform", "/logout"))
    login("flexinform", "anna@sportklub.hu")
    page = client.get(portal_url("flexinform", "/requests/FLX-1")).get_data(as_text=True)
    assert "Hiba" in page and 'name="request_type"' not in page
    assert client.post(portal_url("flexinform", "/requests/FLX-1/type"), data={"request_type": "1"}).status_code == 404
