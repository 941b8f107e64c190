"""Sharing a request with people by e-mail (Flexinform) and with the organization (Exea)."""

from sqlalchemy import select

from app.accounts.models import Organization, User
from app.accounts.organizations import add_membership
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Participant, Watcher
from tests.conftest import link_in, portal_url


def _raise(client, slug, path, data):
    response = client.post(portal_url(slug, path), data=data)
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response.headers["Location"].rsplit("/", 1)[-1]


def test_flexinform_share_with_a_colleague_and_an_outsider(app, client, make_tenant, make_user, login, outbox):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@sportklub.hu", name="Kiss Anna")
    colleague_id = make_user(flexinform, "peter@sportklub.hu", name="Nagy Péter")
    login("flexinform", "anna@sportklub.hu")
    ref = _raise(
        client,
        "flexinform",
        "/portals/verseny/kerdes/new",
        {"field_summary": "Versenyengedély", "field_description": "Kérdés az engedélyről"},
    )
    assert (
        client.post(
            portal_url("flexinform", f"/requests/{ref}/participants"), data={"email": "peter@sportklub.hu"}
        ).status_code
        == 302
    )
    client.post(portal_url("flexinform", f"/requests/{ref}/participants"), data={"email": "Kulsos@Szovetseg.hu"})
    client.post(portal_url("flexinform", f"/requests/{ref}/participants"), data={"email": "not an address"})
    mails = {to: (kind, text) for to, _subject, text, _html, kind in outbox()}
    assert mails["peter@sportklub.hu"][0] == "request_shared" and f"/requests/{ref}" in mails["peter@sportklub.hu"][1]
    assert mails["kulsos@szovetseg.hu"][0] == "shared_invitation"
    assert "/welcome/" in link_in(mails["kulsos@szovetseg.hu"][1]) and ref in mails["kulsos@szovetseg.hu"][1]
    with app.app_context(), tenant_scope(flexinform.id):
        participants = db.session.scalars(select(User.email).join(Participant, Participant.user_id == User.id)).all()
        watchers = db.session.scalars(select(Watcher.user_id)).all()
    assert sorted(participants) == ["kulsos@szovetseg.hu", "peter@sportklub.hu"]
    assert colleague_id in watchers
    # The colleague sees the request and comments, but cannot share it further.
    client.post(portal_url("flexinform", "/logout"))
    login("flexinform", "peter@sportklub.hu")
    page = client.get(portal_url("flexinform", f"/requests/{ref}"))
    assert page.status_code == 200 and 'id="comment-form"' in page.get_data(as_text=True)
    assert (
        client.post(
            portal_url("flexinform", f"/requests/{ref}/participants"), data={"email": "x@example.com"}
        ).status_code
        == 404
    )
    # The requester removes him: the request is no longer visible to him.
    client.post(portal_url("flexinform", "/logout"))
    login("flexinform", "anna@sportklub.hu")
    client.post(portal_url("flexinform", f"/requests/{ref}/participants/{colleague_id}/remove"))
    client.post(portal_url("flexinform", "/logout"))
    login("flexinform", "peter@sportklub.hu")
    assert client.get(portal_url("flexinform", f"/requests/{ref}")).status_code == 404


def test_exea_share_with_the_organization_and_stop_sharing(app, client, make_tenant, make_user, login):
    exea = make_tenant("exea")
    owner = make_user(exea, "anna@firma.pl")
    colleague = make_user(exea, "piotr@firma.pl")
    with app.app_context(), tenant_scope(exea.id):
        org = Organization(name="Firma sp. z o.o.")
        db.session.add(org)
        db.session.flush()
        add_membership(db.session.get(User, owner), org)
        add_membership(db.session.get(User, colleague), org)
        db.session.commit()
        org_id = org.id
    login("exea", "anna@firma.pl")
    ref = _raise(
        client,
        "exea",
        "/portals/support/incident/new",
        {"field_summary": "Awaria", "field_description": "Serwer nie odpowiada", "share_with": "private"},
    )

    def colleague_sees():
        client.post(portal_url("exea", "/logout"))
        login("exea", "piotr@firma.pl")
        status = client.get(portal_url("exea", f"/requests/{ref}")).status_code
        client.post(portal_url("exea", "/logout"))
        login("exea", "anna@firma.pl")
        return status == 200

    assert not colleague_sees()
    client.post(portal_url("exea", f"/requests/{ref}/organizations"), data={"organization": org_id, "share": "1"})
    assert colleague_sees()
    client.post(portal_url("exea", f"/requests/{ref}/organizations"), data={"organization": org_id, "share": "0"})
    assert not colleague_sees()
