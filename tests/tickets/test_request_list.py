"""The request list: own open requests by default, filters and sorting in the URL, constant queries."""

import re

import pytest
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.accounts.organizations import add_membership
from app.catalog.models import RequestType
from app.extensions import db
from app.unit_of_work import unit
from app.tenancy.scoping import tenant_scope
from app.tickets.services import raise_request
from app.workflow.models import Status
from tests.conftest import portal_url

# Listing: filters, sorting, paging and query counts are SQL of each engine.
pytestmark = pytest.mark.both_databases


def _references(html):
    return re.findall(r'href="/requests/(CRM-\d+)"', html)


@pytest.fixture
def crm(app, make_tenant, make_user):
    """CRM-service with a basic user, a colleague, their company admin and a few requests."""
    from app.tenancy.resolution import get_tenant_context

    tenant = make_tenant("crmservice")
    ids = {
        name: make_user(tenant, f"{name}@asiakas.fi", name=name.capitalize())
        for name in ("basic", "colleague", "paakayttaja", "outsider")
    }
    with app.test_request_context(portal_url("crmservice")), tenant_scope(tenant.id):
        from flask import g

        g.tenant = get_tenant_context("crmservice")
        people = {name: db.session.get(User, user_id) for name, user_id in ids.items()}
        company = Organization(name="Asiakas Oy")
        db.session.add(company)
        db.session.flush()
        add_membership(people["basic"], company)
        add_membership(people["colleague"], company)
        add_membership(people["paakayttaja"], company, is_admin=True)
        db.session.commit()
        request_type = db.session.scalars(select(RequestType)).one()

        def make(who, summary, category, severity, priority):
            return raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=people[who],
                created_by=people[who],
                values={
                    "summary": summary,
                    "description": "x",
                    "category": category,
                    "severity": severity,
                    "priority": priority,
                },
            )

        make("basic", "Raportti ei aukea", "bug", "severity_2", "high")  # CRM-1
        make("basic", "Käyttäjän lisäys", "work_order", "severity_10", "low")  # CRM-2
        make("colleague", "Kollegan virhe", "bug", "severity_1", "urgent")  # CRM-3
        closed = make("basic", "Vanha asia", "support", "severity_10", "medium")  # CRM-4
        closed.status_id = db.session.scalars(select(Status.id).where(Status.category == "closed")).first()
        db.session.commit()
    return tenant


def test_default_is_my_own_open_requests(client, crm, login):
    login("crmservice", "basic@asiakas.fi")
    html = client.get(portal_url("crmservice", "/requests")).get_data(as_text=True)
    assert sorted(_references(html)) == ["CRM-1", "CRM-2"]


def test_closed_requests_are_found_through_the_status_filter(client, crm, login):
    login("crmservice", "basic@asiakas.fi")
    assert _references(client.get(portal_url("crmservice", "/requests?status=closed")).get_data(as_text=True)) == [
        "CRM-4"
    ]
    assert len(_references(client.get(portal_url("crmservice", "/requests?status=all")).get_data(as_text=True))) == 3


def test_filter_by_category_severity_and_several_priorities(client, crm, login):
    login("crmservice", "paakayttaja@asiakas.fi")
    base = "/requests?scope=organization&status=all"
    assert sorted(
        _references(client.get(portal_url("crmservice", base + "&f.category=bug")).get_data(as_text=True))
    ) == ["CRM-1", "CRM-3"]
    both = client.get(portal_url("crmservice", base + "&f.priority=high&f.priority=urgent")).get_data(as_text=True)
    assert sorted(_references(both)) == ["CRM-1", "CRM-3"]
    assert 'value="high" selected' in both and 'value="urgent" selected' in both  # the filter state stays in the URL
    assert _references(
        client.get(portal_url("crmservice", base + "&f.severity=severity_1")).get_data(as_text=True)
    ) == ["CRM-3"]


def test_company_admin_sees_colleagues_requests_and_a_basic_user_does_not(client, crm, login):
    login("crmservice", "paakayttaja@asiakas.fi")
    admin_view = _references(
        client.get(portal_url("crmservice", "/requests?scope=organization")).get_data(as_text=True)
    )
    assert sorted(admin_view) == ["CRM-1", "CRM-2", "CRM-3"]
    client.post(portal_url("crmservice", "/logout"))
    login("crmservice", "basic@asiakas.fi")
    basic_view = _references(
        client.get(portal_url("crmservice", "/requests?scope=organization")).get_data(as_text=True)
    )
    assert "CRM-3" not in basic_view
    assert client.get(portal_url("crmservice", "/requests/CRM-3")).status_code == 404
    client.post(portal_url("crmservice", "/logout"))
    login("crmservice", "outsider@asiakas.fi")
    assert (
        _references(client.get(portal_url("crmservice", "/requests?scope=all&status=all")).get_data(as_text=True)) == []
    )


def test_search_and_sort(client, crm, login):
    login("crmservice", "basic@asiakas.fi")
    assert _references(client.get(portal_url("crmservice", "/requests?q=raportti")).get_data(as_text=True)) == ["CRM-1"]
    assert _references(client.get(portal_url("crmservice", "/requests?q=crm-2")).get_data(as_text=True)) == ["CRM-2"]
    ascending = _references(client.get(portal_url("crmservice", "/requests?sort=reference")).get_data(as_text=True))
    descending = _references(client.get(portal_url("crmservice", "/requests?sort=-reference")).get_data(as_text=True))
    assert ascending == ["CRM-1", "CRM-2"] and descending == ["CRM-2", "CRM-1"]
    by_summary = _references(client.get(portal_url("crmservice", "/requests?sort=summary")).get_data(as_text=True))
    assert by_summary == ["CRM-2", "CRM-1"]  # Käyttäjän… before Raportti…
    assert client.get(portal_url("crmservice", "/requests?sort=nonsense&page=x&type=y")).status_code == 200


def test_the_list_needs_the_same_number_of_queries_for_3_or_60_requests(app, client, crm, login, queries_for):
    login("crmservice", "paakayttaja@asiakas.fi")
    url = portal_url("crmservice", "/requests?scope=organization&status=all")
    queries_for(url)  # warm the configuration caches
    few = queries_for(url)
    from app.tenancy.resolution import get_tenant_context

    with app.test_request_context(portal_url("crmservice")), tenant_scope(crm.id), unit():
        from flask import g

        g.tenant = get_tenant_context("crmservice")
        people = db.session.scalars(select(User)).all()
        request_type = db.session.scalars(select(RequestType)).one()
        for n in range(57):
            person = people[n % len(people)]
            raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=person,
                created_by=person,
                values={
                    "summary": f"Pyyntö {n}",
                    "description": "x",
                    "category": "support",
                    "severity": "severity_10",
                    "priority": "low",
                },
            )
    assert queries_for(url) == few


def test_the_portal_home_searches_the_requests_i_can_see(client, crm, login):
    login("crmservice", "paakayttaja@asiakas.fi")
    home = client.get(portal_url("crmservice")).get_data(as_text=True)
    # One search box (the help center's) over the articles and the requests this person may see.
    assert 'role="search"' in home and 'action="/help/search"' in home
    found = client.get(portal_url("crmservice", "/help/search?q=virhe")).get_data(as_text=True)
    assert _references(found) == ["CRM-3"]
    listed = client.get(portal_url("crmservice", "/requests?status=all&scope=all&q=virhe")).get_data(as_text=True)
    assert _references(listed) == ["CRM-3"]


def test_flexinform_list_filters_by_product_portal(app, client, make_tenant, make_user, login):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@sportklub.hu")
    login("flexinform", "anna@sportklub.hu")
    client.post(
        portal_url("flexinform", "/portals/verseny/kerdes/new"),
        data={"field_summary": "Versenyengedély", "field_description": "Kérdés"},
    )
    client.post(
        portal_url("flexinform", "/portals/tao/egyeb/new"),
        data={
            "field_summary": "TAO elszámolás",
            "field_sportszervezet": "SE",
            "field_ugyiratszam": "1",
            "field_evad": "2025-26",
            "field_reszleg": "utanpotlas",
            "field_description": "Kérdés",
        },
    )
    page = client.get(portal_url("flexinform", "/requests?portal=tao")).get_data(as_text=True)
    assert 'name="portal"' in page and "TAO elszámolás" in page and "Versenyengedély" not in page
