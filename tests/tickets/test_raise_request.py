"""Raising requests with each tenant's own form: conditions, required fields, deep links, files, sharing."""

import io

import pytest
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.accounts.organizations import add_membership
from app.catalog.models import Field
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Attachment, Ticket, TicketFieldValue, TicketOrganization, Watcher
from tests.conftest import portal_url, translated


def _values(app, tenant, reference):
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        ticket.status  # loaded while in the session, for the assertions
        rows = db.session.execute(
            select(Field.key, TicketFieldValue.value)
            .join(TicketFieldValue, TicketFieldValue.field_id == Field.id)
            .where(TicketFieldValue.ticket_id == ticket.id)
        ).all()
        return ticket, dict(rows)


def _tickets(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.scalars(select(Ticket)).all()


@pytest.fixture
def customer(make_user, login):
    def make(tenant, email="customer@example.com", **kwargs):
        user_id = make_user(tenant, email, **kwargs)
        login(tenant.slug, email)
        return user_id

    return make


def test_crmservice_severity_is_chosen_for_bugs_and_fixed_otherwise(app, client, make_tenant, customer):
    crm = make_tenant("crmservice")
    customer(crm)
    url = portal_url("crmservice", "/portals/support/ticket/new")
    page = client.get(url).get_data(as_text=True)
    assert 'data-visible-field="field_category" data-visible-in="bug"' in page
    base = {"field_summary": "Raportti ei aukea", "field_description": "Virhe raportissa", "field_priority": "medium"}
    # A bug needs its severity.
    missing = client.post(url, data={**base, "field_category": "bug"})
    assert missing.status_code == 422 and 'id="field_severity-error"' in missing.get_data(as_text=True)
    bug = client.post(url, data={**base, "field_category": "bug", "field_severity": "severity_2"})
    assert bug.status_code == 302
    _ticket, values = _values(app, crm, "CRM-1")
    assert values["severity"] == "severity_2" and values["category"] == "bug"
    # Support requests are always "Severity 10 – Not in SLA", whatever the page sent.
    support = client.post(url, data={**base, "field_category": "support", "field_severity": "severity_1"})
    assert support.status_code == 302
    _ticket, values = _values(app, crm, "CRM-2")
    assert values["severity"] == "severity_10"


def test_targito_priority_only_for_something_broken(app, client, make_tenant, customer):
    targito = make_tenant("targito")
    customer(targito)
    question = client.get(portal_url("targito", "/portals/support/support/new")).get_data(as_text=True)
    broken = client.get(portal_url("targito", "/portals/support/bug/new")).get_data(as_text=True)
    assert 'name="field_priority"' not in question and 'name="field_priority"' in broken
    response = client.post(
        portal_url("targito", "/portals/support/bug/new"),
        data={"field_summary": "Export nefunguje", "field_description": "Chyba 500", "field_priority": "high"},
    )
    assert response.status_code == 302 and response.headers["Location"] == "/requests/TAR-1"
    _ticket, values = _values(app, targito, "TAR-1")
    assert values["priority"] == "high"
    detail = client.get(portal_url("targito", "/requests/TAR-1")).get_data(as_text=True)
    assert "Vysoká" in detail and "Export nefunguje" in detail and "Otevřeno" in detail


def test_flexinform_tao_form_requires_every_required_field(app, client, make_tenant, customer):
    flexinform = make_tenant("flexinform")
    customer(flexinform)
    url = portal_url("flexinform", "/portals/tao/hiba/new")
    empty = client.post(url, data={"field_summary": "Hiba a beadásnál"})
    assert empty.status_code == 422
    html = empty.get_data(as_text=True)
    for key in ("sportszervezet", "ugyiratszam", "evad", "reszleg", "description"):
        assert f'id="field_{key}-error"' in html
    assert translated(app, "hu", "Please fill in this field.") in html
    assert 'value="Hiba a beadásnál"' in html  # what was typed is kept
    assert _tickets(app, flexinform) == []
    ok = client.post(
        url,
        data={
            "field_summary": "Hiba a beadásnál",
            "field_sportszervezet": "Kovács SE",
            "field_ugyiratszam": "TAO/2026/123",
            "field_evad": "2025-26",
            "field_reszleg": "utanpotlas",
            "field_description": "A beadás gomb nem működik.",
        },
    )
    assert ok.status_code == 302
    ticket, values = _values(app, flexinform, "FLX-1")
    assert values == {
        "sportszervezet": "Kovács SE",
        "ugyiratszam": "TAO/2026/123",
        "evad": "2025-26",
        "reszleg": "utanpotlas",
    }
    assert ticket.summary == "Hiba a beadásnál" and ticket.description == "A beadás gomb nem működik."
    assert ticket.status.key == "nyitott"


def test_an_unconfirmed_account_cannot_raise_requests(app, client, make_tenant, customer):
    flexinform = make_tenant("flexinform")
    customer(flexinform, verified=False)
    url = portal_url("flexinform", "/portals/verseny/kerdes/new")
    page = client.get(url)
    assert translated(app, "hu", "Please confirm your e-mail address before raising a request.") in page.get_data(
        as_text=True
    )
    response = client.post(url, data={"field_summary": "Kérdés", "field_description": "Szöveg"})
    assert response.status_code == 422
    assert _tickets(app, flexinform) == []


def test_deep_link_prefills_the_form_and_survives_the_login(app, client, make_tenant, make_user):
    targito = make_tenant("targito")
    make_user(targito, "jana@example.cz")
    link = portal_url("targito", "/portals/support/bug/new?summary=Import%20kontakt%C5%AF&priority=high&priority_x=1")
    to_login = client.get(link)
    assert to_login.status_code == 302 and "/login?next=" in to_login.headers["Location"]
    back = client.post(
        portal_url("targito", to_login.headers["Location"]),
        data={"email": "jana@example.cz", "password": "correct-horse-battery"},
    )
    form = client.get(portal_url("targito", back.headers["Location"])).get_data(as_text=True)
    assert 'value="Import kontaktů"' in form
    assert '<option selected value="high">' in form or 'value="high" selected' in form


def test_festum_support_fields_are_not_on_the_customer_form_but_get_their_defaults(app, client, make_tenant, customer):
    festum = make_tenant("festum")
    customer(festum)
    url = portal_url("festum", "/portals/asiakastuki/palvelupyynto/new")
    page = client.get(url).get_data(as_text=True)
    assert 'name="field_priority"' not in page and 'name="field_queue"' not in page and 'name="field_cc"' in page
    client.post(
        url,
        data={
            "field_summary": "Lasku ei tulostu",
            "field_description": "Tulostus kaatuu",
            "field_severity": "vakava",
            "field_cc": "pomo@yritys.fi",
        },
    )
    _ticket, values = _values(app, festum, "FES-1")
    assert values["priority"] == "3" and values["queue"] == "asiakastuki" and values["cc"] == "pomo@yritys.fi"


def test_agent_raises_a_request_for_a_caller_who_gets_an_account(app, client, make_tenant, customer, outbox):
    festum = make_tenant("festum")
    customer(festum, "agent@festum.test", role="agent")
    url = portal_url("festum", "/portals/asiakastuki/palvelupyynto/new")
    page = client.get(url).get_data(as_text=True)
    assert 'name="on_behalf_of"' in page and 'name="field_priority"' in page
    response = client.post(
        url,
        data={
            "on_behalf_of": "soittaja@yritys.fi",
            "field_summary": "Puhelimessa: tulostus",
            "field_description": "Asiakas soitti",
            "field_priority": "2",
            "field_queue": "kofax",
            "field_severity": "normaali",
        },
    )
    assert response.status_code == 302
    ticket, values = _values(app, festum, "FES-1")
    with app.app_context(), tenant_scope(festum.id):
        requester = db.session.get(User, ticket.requester_id)
        assert requester.email == "soittaja@yritys.fi" and ticket.created_by_id != ticket.requester_id
    assert values["priority"] == "2" and values["queue"] == "kofax"
    [(to, _subject, text, _html, kind)] = outbox()
    assert to == "soittaja@yritys.fi" and kind == "account_created" and "/welcome/" in text


def test_sharing_with_the_organization_targito_default(app, client, make_tenant, customer):
    targito = make_tenant("targito")
    user_id = customer(targito)
    with app.app_context(), tenant_scope(targito.id):
        user = db.session.get(User, user_id)
        first, second = Organization(name="Alfa s.r.o."), Organization(name="Beta a.s.")
        db.session.add_all([first, second])
        db.session.flush()
        add_membership(user, first)
        add_membership(user, second)
        db.session.commit()
        second_id = second.id
    page = client.get(portal_url("targito", "/portals/support/support/new")).get_data(as_text=True)
    assert "Alfa s.r.o." in page and "Beta a.s." in page
    client.post(
        portal_url("targito", "/portals/support/support/new"),
        data={"field_summary": "Dotaz", "field_description": "Text", "share_with": f"org:{second_id}"},
    )
    with app.app_context(), tenant_scope(targito.id):
        shares = db.session.scalars(select(TicketOrganization.organization_id)).all()
        watchers = db.session.scalars(select(Watcher.user_id)).all()
    assert shares == [second_id] and watchers == [user_id]


def test_sharing_with_someone_elses_organization_is_refused(app, client, make_tenant, customer):
    exea = make_tenant("exea")
    user_id = customer(exea)
    with app.app_context(), tenant_scope(exea.id):
        own, foreign = Organization(name="Nasza sp. z o.o."), Organization(name="Obca sp. z o.o.")
        db.session.add_all([own, foreign])
        db.session.flush()
        add_membership(db.session.get(User, user_id), own)
        db.session.commit()
        foreign_id = foreign.id
    response = client.post(
        portal_url("exea", "/portals/support/incident/new"),
        data={"field_summary": "Awaria", "field_description": "Opis", "share_with": f"org:{foreign_id}"},
    )
    assert response.status_code == 422
    assert _tickets(app, exea) == []


def test_attachments_are_stored_in_s3_and_downloaded_with_their_names(
    app, client, make_tenant, customer, s3_server, make_user, login
):
    from app.storage import S3Storage

    S3Storage(
        "portal-files", endpoint_url=s3_server, region="us-east-1", access_key="t", secret_key="t"
    ).ensure_bucket()
    app.config.update(
        STORAGE_URL="s3://portal-files", S3_ENDPOINT_URL=s3_server, S3_ACCESS_KEY_ID="t", S3_SECRET_ACCESS_KEY="t"
    )
    app.extensions.pop("storage", None)
    crm = make_tenant("crmservice")
    customer(crm)
    response = client.post(
        portal_url("crmservice", "/portals/support/ticket/new"),
        data={
            "field_summary": "Liite",
            "field_description": "Katso liite",
            "field_category": "support",
            "field_priority": "medium",
            "field_attachments": [(io.BytesIO("Hyvää päivää".encode()), "Lokitiedosto äö.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(crm.id):
        attachment = db.session.scalars(select(Attachment)).one()
        assert attachment.storage_key.startswith(f"{crm.id}/")
    download = client.get(portal_url("crmservice", f"/requests/CRM-1/attachments/{attachment.id}"))
    assert download.status_code == 200 and download.data == "Hyvää päivää".encode()
    disposition = download.headers["Content-Disposition"]
    assert disposition.startswith("attachment;") and "filename*=UTF-8''Lokitiedosto%20%C3%A4%C3%B6.txt" in disposition
    # Another customer of the same tenant cannot see the request nor its file.
    client.post(portal_url("crmservice", "/logout"))
    make_user(crm, "other@example.com")
    login("crmservice", "other@example.com")
    assert client.get(portal_url("crmservice", "/requests/CRM-1")).status_code == 404
    assert client.get(portal_url("crmservice", f"/requests/CRM-1/attachments/{attachment.id}")).status_code == 404


def test_a_dangerous_file_or_a_storage_failure_leaves_no_request_behind(app, client, make_tenant, customer):
    crm = make_tenant("crmservice")
    customer(crm)
    data = {"field_summary": "Liite", "field_description": "x", "field_category": "support", "field_priority": "medium"}
    blocked = client.post(
        portal_url("crmservice", "/portals/support/ticket/new"),
        data={**data, "field_attachments": [(io.BytesIO(b"MZ"), "setup.exe")]},
        content_type="multipart/form-data",
    )
    assert blocked.status_code == 422
    app.config.update(
        STORAGE_URL="s3://nowhere", S3_ENDPOINT_URL="http://127.0.0.1:9", S3_ACCESS_KEY_ID="t", S3_SECRET_ACCESS_KEY="t"
    )
    app.extensions.pop("storage", None)
    failed = client.post(
        portal_url("crmservice", "/portals/support/ticket/new"),
        data={**data, "field_attachments": [(io.BytesIO(b"data"), "ok.txt")]},
        content_type="multipart/form-data",
    )
    assert failed.status_code == 422
    assert _tickets(app, crm) == []
    # The number was not used up: the next request is still CRM-1.
    app.config["STORAGE_URL"] = "file:///tmp/portal-test-files"
    app.extensions.pop("storage", None)
    assert (
        client.post(portal_url("crmservice", "/portals/support/ticket/new"), data=data).headers["Location"]
        == "/requests/CRM-1"
    )


def test_what_people_write_is_shown_safely(app, client, make_tenant, customer):
    exea = make_tenant("exea")
    customer(exea)
    client.post(
        portal_url("exea", "/portals/support/incident/new"),
        data={
            "field_summary": "Awaria <b>serwera</b>",
            "field_description": "Zobacz https://status.example.pl\n<script>alert('x')</script><img src=x onerror=alert(1)>",
        },
    )
    html = client.get(portal_url("exea", f"/requests/{_tickets(app, exea)[0].reference}")).get_data(as_text=True)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>serwera</b>" not in html
    assert '<a href="https://status.example.pl"' in html and "<br>" in html


def test_light_markdown_in_what_people_write(app, client, make_tenant, customer):
    exea = make_tenant("exea")
    customer(exea)
    client.post(
        portal_url("exea", "/portals/support/incident/new"),
        data={
            "field_summary": "Formatowanie",
            "field_description": "**Pilne**: serwer _nie_ odpowiada\n\n- krok 1\n- krok 2\n\n`ping 10.0.0.1`\n[link](javascript:alert(1))",
        },
    )
    html = client.get(portal_url("exea", f"/requests/{_tickets(app, exea)[0].reference}")).get_data(as_text=True)
    assert "<strong>Pilne</strong>" in html and "<em>nie</em>" in html and "<li>krok 1</li>" in html
    assert "<code>ping 10.0.0.1</code>" in html and 'href="javascript' not in html
