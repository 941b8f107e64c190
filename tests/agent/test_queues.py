"""Agent queues come from the tenant's definition: counts, choice-field queues, presets, constant queries."""

import re

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
from app.workflow.models import Status
from tests.conftest import portal_url

# Queues: filters, sorting, paging and query counts are SQL of each engine.
pytestmark = pytest.mark.both_databases


def _refs(html, prefix):
    return sorted(re.findall(rf'href="/requests/({prefix}-\d+)"', html))


def _count(html, key):
    match = re.search(rf'href="/agent/queues/{key}"[^>]*>[^<]*<span class="count">(\d+)</span>', html)
    return int(match.group(1)) if match else None


def _raise(app, tenant, slug, rows):
    """Raise one request per values mapping (as the tenant's first customer); returns references."""
    with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id), unit():
        from flask import g

        g.tenant = get_tenant_context(slug)
        customer = db.session.scalars(select(User).where(User.role == "customer")).first()
        request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
        return [
            raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={"description": "x", **values},
            ).reference
            for values in rows
        ]


def _set_status(app, tenant, reference, status_key):
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        ticket.status_id = db.session.execute(select(Status.id).where(Status.key == status_key)).scalar_one()
        db.session.commit()


@pytest.fixture
def festum(app, make_tenant, make_user):
    tenant = make_tenant("festum")
    make_user(tenant, "liisa@yritys.fi", name="Liisa")
    make_user(tenant, "agent@festum.test", role="agent", name="Aino Agentti")
    _raise(
        app,
        tenant,
        "festum",
        [
            {"summary": "Lasku ei tulostu", "queue": "taloushallinto"},
            {"summary": "Kofax-erä jumissa", "queue": "kofax"},
            {"summary": "Skannaus hidas", "queue": "kofax"},
            {"summary": "Salasana vanhentunut", "queue": "asiakastuki"},
        ],
    )
    return tenant


def test_targito_queues_from_its_definition_with_counts(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    make_user(targito, "jana@klient.cz", name="Jana")
    make_user(targito, "agent@targito.test", role="agent", name="Petr Podpora")
    refs = _raise(app, targito, "targito", [{"summary": f"Požadavek {n}"} for n in range(4)])
    _set_status(app, targito, refs[0], "waiting_for_pm")
    _set_status(app, targito, refs[1], "waiting_for_pm")
    _set_status(app, targito, refs[2], "waiting_for_approval")
    login("targito", "agent@targito.test")
    assert client.get(portal_url("targito", "/agent/")).headers["Location"] == "/agent/queues/unassigned"
    page = client.get(portal_url("targito", "/agent/queues/waiting_for_pm")).get_data(as_text=True)
    assert "<h1>Čeká na PM</h1>" in page and _refs(page, "TAR") == sorted(refs[:2])
    assert "Čeká na vývoj" in page and "Čeká na potvrzení" in page and "Všechny otevřené" in page
    assert _count(page, "waiting_for_pm") == 2 and _count(page, "waiting_for_approval") == 1
    assert _count(page, "waiting_for_development") == 0 and _count(page, "open") == 4
    # The preset that Targito's definition does not list is not there.
    assert client.get(portal_url("targito", "/agent/queues/resolved")).status_code == 404
    # The page's own filters narrow the queue down: search, status, sort.
    page = client.get(portal_url("targito", "/agent/queues/waiting_for_pm?q=" + "Požadavek 1")).get_data(as_text=True)
    assert _refs(page, "TAR") == [refs[1]]
    page = client.get(portal_url("targito", "/agent/queues/open?status=waiting_for_approval")).get_data(as_text=True)
    assert _refs(page, "TAR") == [refs[2]]
    page = client.get(portal_url("targito", "/agent/queues/unassigned")).get_data(as_text=True)
    ordered = re.findall(r'href="/requests/(TAR-\d+)"', page)
    assert ordered == refs  # the queue's sort: oldest first


def test_festum_queue_per_jono_value(app, client, festum, login):
    login("festum", "agent@festum.test")
    page = client.get(portal_url("festum", "/agent/queues/kofax")).get_data(as_text=True)
    assert _refs(page, "FES") == ["FES-2", "FES-3"]
    assert _count(page, "kofax") == 2 and _count(page, "taloushallinto") == 1 and _count(page, "asiantuntijat") == 0
    assert _count(page, "unassigned") == 4 and _count(page, "open") == 4
    # An agent moves a request to another queue (the Jono field); the counts follow.
    client.post(
        portal_url("festum", "/requests/FES-3/details"),
        data={
            "field_summary": "Skannaus hidas",
            "field_queue": "asiantuntijat",
            "field_priority": "3",
            "field_severity": "normaali",
            "field_cc": "",
        },
    )
    page = client.get(portal_url("festum", "/agent/queues/asiantuntijat")).get_data(as_text=True)
    assert _refs(page, "FES") == ["FES-3"] and _count(page, "kofax") == 1
    # A resolved request leaves the (open) Jono queues.
    _set_status(app, festum, "FES-2", "valmis")
    page = client.get(portal_url("festum", "/agent/queues/kofax")).get_data(as_text=True)
    assert _refs(page, "FES") == [] and _count(page, "kofax") == 0


def test_a_tenant_without_queues_gets_the_presets(app, client, make_tenant, make_user, login):
    festum = make_tenant("festum", queues=[])
    make_user(festum, "liisa@yritys.fi", name="Liisa")
    make_user(festum, "agent@festum.test", role="agent")
    refs = _raise(app, festum, "festum", [{"summary": "Yksi"}, {"summary": "Kaksi"}])
    _set_status(app, festum, refs[1], "odottaa")
    login("festum", "agent@festum.test")
    assert client.get(portal_url("festum", "/agent/")).headers["Location"] == "/agent/queues/unassigned"
    page = client.get(portal_url("festum", "/agent/queues/waiting")).get_data(as_text=True)
    assert _refs(page, "FES") == [refs[1]]  # the waiting category (Odottaa)
    for key, count in (("unassigned", 2), ("mine", 0), ("waiting", 1), ("open", 2), ("resolved", 0)):
        assert _count(page, key) == count, key
    assert client.get(portal_url("festum", "/agent/queues/kofax")).status_code == 404


def test_a_queue_page_costs_the_same_queries_for_4_or_60_requests(app, client, festum, login, queries_for):
    login("festum", "agent@festum.test")
    url = portal_url("festum", "/agent/queues/kofax")
    queries_for(url)  # warm the configuration caches
    few = queries_for(url)
    _raise(
        app, festum, "festum", [{"summary": f"Pyyntö {n}", "queue": ("kofax", "asiakastuki")[n % 2]} for n in range(56)]
    )
    assert queries_for(url) == few
    # One count query per queue, whatever the number of requests; pages of 25.
    page = client.get(url).get_data(as_text=True)
    assert _count(page, "kofax") == 30 and "page=2" in page and len(_refs(page, "FES")) == 25
    assert len(_refs(client.get(url + "?page=2").get_data(as_text=True), "FES")) == 5


def test_customers_have_no_queues(client, festum, login):
    login("festum", "liisa@yritys.fi")
    assert client.get(portal_url("festum", "/agent/queues/kofax")).status_code == 404
