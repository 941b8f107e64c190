"""Festum's "Perustiedot": the requester may still edit the title and severity and add files."""

import io

from sqlalchemy import select

from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Attachment, Ticket, TicketEvent
from tests.conftest import portal_url


def test_festum_requester_edits_basic_information_and_it_is_in_the_timeline(app, client, make_tenant, make_user, login):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi")
    login("festum", "liisa@yritys.fi")
    client.post(
        portal_url("festum", "/portals/asiakastuki/palvelupyynto/new"),
        data={"field_summary": "Lasku", "field_description": "Ei tulostu", "field_severity": "normaali"},
    )
    page = client.get(portal_url("festum", "/requests/FES-1")).get_data(as_text=True)
    assert 'id="details"' in page and 'name="field_severity"' in page and 'name="field_description"' not in page
    response = client.post(
        portal_url("festum", "/requests/FES-1/details"),
        data={
            "field_summary": "Lasku ei tulostu",
            "field_severity": "vakava",
            "field_attachments": [(io.BytesIO(b"virhe"), "virheilmoitus.txt")],
        },
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    with app.app_context(), tenant_scope(festum.id):
        ticket = db.session.execute(select(Ticket)).scalar_one()
        assert ticket.summary == "Lasku ei tulostu"
        changes = db.session.scalars(select(TicketEvent).where(TicketEvent.kind == "field_changed")).all()
        assert {(e.data["field"], e.data["old"], e.data["new"]) for e in changes} == {
            ("summary", "Lasku", "Lasku ei tulostu"),
            ("severity", "normaali", "vakava"),
        }
        assert db.session.scalars(select(Attachment.filename)).all() == ["virheilmoitus.txt"]
    # A value that is not an option is refused and changes nothing.
    client.post(portal_url("festum", "/requests/FES-1/details"), data={"field_summary": "X", "field_severity": "huono"})
    with app.app_context(), tenant_scope(festum.id):
        assert db.session.execute(select(Ticket.summary)).scalar_one() == "Lasku ei tulostu"


def test_tenants_without_editable_fields_show_no_edit_form(app, client, make_tenant, make_user, login):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    login("exea", "anna@firma.pl")
    client.post(
        portal_url("exea", "/portals/support/incident/new"), data={"field_summary": "A", "field_description": "B"}
    )
    ref = (
        client.get(portal_url("exea", "/requests?status=all"))
        .get_data(as_text=True)
        .split('href="/requests/')[1]
        .split('"')[0]
    )
    assert 'id="details"' not in client.get(portal_url("exea", f"/requests/{ref}")).get_data(as_text=True)
    assert client.post(portal_url("exea", f"/requests/{ref}/details"), data={"field_summary": "C"}).status_code == 404
