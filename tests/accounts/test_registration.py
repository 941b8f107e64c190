"""Getting in: open registration with verification (Flexinform), invitations (CRM-service, Targito)."""

from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import link_in, portal_url, translated


def _users(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return {u.email: u for u in db.session.scalars(select(User))}


def test_open_registration_sends_a_verification_link_in_the_tenants_language(app, client, make_tenant, outbox, login):
    flexinform = make_tenant("flexinform")
    form = client.get(portal_url("flexinform", "/register"))
    assert form.status_code == 200 and 'name="password"' in form.get_data(as_text=True)
    response = client.post(
        portal_url("flexinform", "/register"),
        data={
            "name": "Kiss Anna",
            "email": "Anna.Kiss@Example.com",
            "password": "hosszu-jelszo-1",
            "confirm": "hosszu-jelszo-1",
        },
    )
    assert response.status_code == 200
    assert "anna.kiss@example.com" in response.get_data(as_text=True).lower()
    user = _users(app, flexinform)["anna.kiss@example.com"]
    assert user.email_verified_at is None and user.password_hash.startswith("$argon2")
    [(to, subject, text, html, kind)] = outbox()
    assert to == "anna.kiss@example.com" and kind == "verify_email"
    assert "hosszu-jelszo-1" not in text + html  # never a password in an e-mail
    link = link_in(text)
    assert link.startswith("http://flexinform.portal.test/verify/")
    # Before confirming, the person can log in but is reminded to confirm.
    assert login("flexinform", "anna.kiss@example.com", "hosszu-jelszo-1").status_code == 302
    client.post(portal_url("flexinform", "/logout"))
    assert client.get(link).status_code == 302
    assert _users(app, flexinform)["anna.kiss@example.com"].email_verified_at is not None


def test_registration_errors_keep_what_was_typed_and_create_nothing(app, client, make_tenant):
    flexinform = make_tenant("flexinform")
    response = client.post(
        portal_url("flexinform", "/register"),
        data={"name": "Kiss Anna", "email": "anna@example.com", "password": "rovid", "confirm": "rovid"},
    )
    assert response.status_code == 422
    html = response.get_data(as_text=True)
    assert 'value="Kiss Anna"' in html and 'value="anna@example.com"' in html
    assert translated(app, "hu", "The password must be at least %(count)d characters long.", count=10) in html
    mismatch = client.post(
        portal_url("flexinform", "/register"),
        data={
            "name": "Kiss Anna",
            "email": "anna@example.com",
            "password": "hosszu-jelszo-1",
            "confirm": "hosszu-jelszo-2",
        },
    )
    assert mismatch.status_code == 422 and 'aria-invalid="true"' in mismatch.get_data(as_text=True)
    assert _users(app, flexinform) == {}


def test_registering_a_known_address_reveals_nothing_and_creates_no_second_account(
    app, client, make_tenant, make_user, outbox
):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@example.com")
    response = client.post(
        portal_url("flexinform", "/register"),
        data={
            "name": "Valaki",
            "email": "anna@example.com",
            "password": "hosszu-jelszo-1",
            "confirm": "hosszu-jelszo-1",
        },
    )
    assert response.status_code == 200
    assert len(_users(app, flexinform)) == 1
    [(to, _subject, text, _html, kind)] = outbox()
    assert to == "anna@example.com" and kind == "already_registered" and "/password/forgot" in text


def test_invalid_or_tampered_verification_link(app, client, make_tenant):
    make_tenant("flexinform")
    response = client.get(portal_url("flexinform", "/verify/not-a-token"))
    assert response.status_code == 400
    assert translated(app, "hu", "This confirmation link is not valid.") in response.get_data(as_text=True)


def test_a_verification_link_of_one_tenant_does_not_work_at_another(app, client, make_tenant, outbox):
    make_tenant("flexinform")
    make_tenant("targito")
    client.post(
        portal_url("flexinform", "/register"),
        data={"name": "Anna", "email": "anna@example.com", "password": "hosszu-jelszo-1", "confirm": "hosszu-jelszo-1"},
    )
    link = link_in(outbox()[0][2])
    assert client.get(link.replace("flexinform.", "targito.")).status_code == 400


def test_invite_only_portal_explains_how_to_get_access(app, client, make_tenant):
    crmservice = make_tenant("crmservice")
    page = client.get(portal_url("crmservice", "/register"))
    assert page.status_code == 200 and 'name="password"' not in page.get_data(as_text=True)
    client.post(
        portal_url("crmservice", "/register"),
        data={"name": "X", "email": "x@example.com", "password": "hosszu-jelszo-1", "confirm": "hosszu-jelszo-1"},
    )
    assert _users(app, crmservice) == {}


def test_agent_invites_a_contact_who_sets_a_password_from_the_email(app, client, make_tenant, make_user, login, outbox):
    crmservice = make_tenant("crmservice")
    make_user(crmservice, "agent@crmservice.test", role="agent")
    login("crmservice", "agent@crmservice.test")
    response = client.post(
        portal_url("crmservice", "/admin/users/invite"),
        data={"email": "matti@asiakas.fi", "name": "Matti Meikäläinen", "role": "customer", "organization": ""},
    )
    assert response.status_code == 302
    client.post(portal_url("crmservice", "/logout"))
    [(to, subject, text, html, kind)] = outbox()
    assert to == "matti@asiakas.fi" and kind == "invitation"
    assert "CRM-service" in subject
    link = link_in(text)
    page = client.get(link)
    assert page.status_code == 200 and "matti@asiakas.fi" in page.get_data(as_text=True)
    done = client.post(
        link, data={"name": "Matti Meikäläinen", "password": "pitka-salasana-1", "confirm": "pitka-salasana-1"}
    )
    assert done.status_code == 302  # logged in and on the home page
    assert "Matti Meikäläinen" in client.get(portal_url("crmservice")).get_data(as_text=True)
    # The link worked once; now it is spent.
    assert client.get(link).status_code == 400
    client.post(portal_url("crmservice", "/logout"))
    assert login("crmservice", "matti@asiakas.fi", "pitka-salasana-1").status_code == 302
    user = _users(app, crmservice)["matti@asiakas.fi"]
    assert user.is_verified


def test_inviting_someone_who_already_has_access_is_refused(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    make_user(targito, "admin@targito.test", role="admin")
    make_user(targito, "jana@example.cz")
    login("targito", "admin@targito.test")
    response = client.post(
        portal_url("targito", "/admin/users/invite"),
        data={"email": "jana@example.cz", "role": "customer", "organization": ""},
    )
    assert response.status_code == 422
    assert "jana@example.cz" in response.get_data(as_text=True)


def test_account_created_from_an_email_gets_a_set_password_link(app, make_tenant, outbox):
    """Festum: the first e-mail of an unknown sender creates the account; the auto-reply says how to log in."""
    from flask import g

    from app.accounts.registration import create_contact_account
    from app.tenancy.resolution import get_tenant_context

    festum = make_tenant("festum")
    with app.test_request_context(portal_url("festum")), tenant_scope(festum.id):
        g.tenant = get_tenant_context("festum")
        user, created = create_contact_account("liisa@yritys.fi", name="Liisa Laine")
        db.session.commit()
        again, created_again = create_contact_account("liisa@yritys.fi")
        assert created and not created_again and again.id == user.id
    [(to, subject, text, _html, kind)] = outbox()
    assert to == "liisa@yritys.fi" and kind == "account_created"
    assert "http://festum.portal.test/welcome/" in text
    assert "Festum" in subject
