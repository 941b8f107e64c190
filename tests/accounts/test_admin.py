"""Tenant admins manage people and organizations; agents invite; customers see no admin pages."""

import pytest
from sqlalchemy import select

from app.accounts.models import Membership, Organization, User
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import link_in, portal_url


def _user(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def test_customers_see_no_admin_pages(client, make_tenant, make_user, login):
    make_user(make_tenant("crmservice"), "asiakas@yritys.fi")
    login("crmservice", "asiakas@yritys.fi")
    assert client.get(portal_url("crmservice", "/admin/users")).status_code == 404


def test_anonymous_visitors_are_sent_to_login(client, make_tenant):
    make_tenant("crmservice")
    assert "/login" in client.get(portal_url("crmservice", "/admin/users")).headers["Location"]


def test_admin_changes_role_email_and_deactivates(app, client, make_tenant, make_user, login, outbox):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    user_id = make_user(crm, "matti@asiakas.fi", name="Matti")
    login("crmservice", "admin@crmservice.test")
    listing = client.get(portal_url("crmservice", "/admin/users?q=matti")).get_data(as_text=True)
    assert "<td>matti@asiakas.fi</td>" in listing and "<td>admin@crmservice.test</td>" not in listing
    response = client.post(
        portal_url("crmservice", f"/admin/users/{user_id}"),
        data={"name": "Matti M.", "email": "matti.m@asiakas.fi", "role": "agent"},
    )
    assert response.status_code == 302
    # The new address takes over once it confirms the change (the link went there).
    [link] = [
        link_in(text)
        for to, _s, text, _h, kind in outbox()
        if kind == "email_change_confirm" and to == "matti.m@asiakas.fi"
    ]
    assert client.post(link).status_code == 302
    user = _user(app, crm, "matti.m@asiakas.fi")
    assert user.role == "agent" and user.name == "Matti M." and user.is_verified
    client.post(portal_url("crmservice", f"/admin/users/{user_id}/active"), data={"active": "0"})
    client.post(portal_url("crmservice", "/logout"))
    assert login("crmservice", "matti.m@asiakas.fi").status_code == 422  # deactivated accounts cannot log in


def test_email_change_to_an_address_in_use_is_refused_and_keeps_the_form(app, client, make_tenant, make_user, login):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    user_id = make_user(crm, "matti@asiakas.fi")
    make_user(crm, "liisa@asiakas.fi")
    login("crmservice", "admin@crmservice.test")
    response = client.post(
        portal_url("crmservice", f"/admin/users/{user_id}"),
        data={"name": "Matti", "email": "liisa@asiakas.fi", "role": "customer"},
    )
    assert response.status_code == 422 and 'value="liisa@asiakas.fi"' in response.get_data(as_text=True)
    assert _user(app, crm, "matti@asiakas.fi") is not None


def test_admins_cannot_lock_themselves_out(app, client, make_tenant, make_user, login):
    crm = make_tenant("crmservice")
    admin_id = make_user(crm, "admin@crmservice.test", role="admin")
    login("crmservice", "admin@crmservice.test")
    client.post(portal_url("crmservice", f"/admin/users/{admin_id}/active"), data={"active": "0"})
    client.post(
        portal_url("crmservice", f"/admin/users/{admin_id}"),
        data={"name": "", "email": "admin@crmservice.test", "role": "customer"},
    )
    admin = _user(app, crm, "admin@crmservice.test")
    assert admin.active and admin.role == "admin"


def test_agents_invite_but_do_not_change_roles(app, client, make_tenant, make_user, login):
    crm = make_tenant("crmservice")
    make_user(crm, "agent@crmservice.test", role="agent")
    user_id = make_user(crm, "matti@asiakas.fi")
    login("crmservice", "agent@crmservice.test")
    assert client.get(portal_url("crmservice", "/admin/users/invite")).status_code == 200
    response = client.post(
        portal_url("crmservice", f"/admin/users/{user_id}"),
        data={"name": "", "email": "matti@asiakas.fi", "role": "admin"},
    )
    assert response.status_code == 403
    assert _user(app, crm, "matti@asiakas.fi").role == "customer"
    # An agent may only invite customers.
    client.post(
        portal_url("crmservice", "/admin/users/invite"),
        data={"email": "boss@asiakas.fi", "role": "admin", "organization": ""},
    )
    assert _user(app, crm, "boss@asiakas.fi") is None


def test_organizations_and_organization_admins(app, client, make_tenant, make_user, login):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    make_user(crm, "matti@asiakas.fi")
    login("crmservice", "admin@crmservice.test")
    created = client.post(portal_url("crmservice", "/admin/organizations"), data={"name": "Asiakas Oy"})
    assert created.status_code == 302
    duplicate = client.post(portal_url("crmservice", "/admin/organizations"), data={"name": "asiakas oy"})
    assert duplicate.status_code == 422
    with app.app_context(), tenant_scope(crm.id):
        org_id = db.session.scalars(select(Organization.id)).one()
    url = portal_url("crmservice", f"/admin/organizations/{org_id}")
    assert client.post(url, data={"email": "nobody@asiakas.fi"}).status_code == 422
    assert client.post(url, data={"email": "matti@asiakas.fi", "is_admin": "y"}).status_code == 302
    with app.app_context(), tenant_scope(crm.id):
        membership = db.session.scalars(select(Membership)).one()
        assert membership.is_admin
    matti = _user(app, crm, "matti@asiakas.fi")
    client.post(
        portal_url("crmservice", f"/admin/organizations/{org_id}/members/{matti.id}"), data={"action": "make_member"}
    )
    with app.app_context(), tenant_scope(crm.id):
        assert not db.session.scalars(select(Membership)).one().is_admin
    client.post(
        portal_url("crmservice", f"/admin/organizations/{org_id}/members/{matti.id}"), data={"action": "remove"}
    )
    with app.app_context(), tenant_scope(crm.id):
        assert db.session.scalars(select(Membership)).all() == []


@pytest.mark.both_databases
def test_the_people_list_has_a_constant_number_of_queries(app, client, make_tenant, make_user, login, queries_for):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    login("crmservice", "admin@crmservice.test")
    url = portal_url("crmservice", "/admin/users")
    queries_for(url)  # warm the configuration caches
    few = queries_for(url)
    with app.app_context(), tenant_scope(crm.id):
        org = Organization(name="Iso Oy")
        db.session.add(org)
        db.session.flush()
        for n in range(30):
            user = User(email=f"user{n}@iso.fi", name=f"User {n}")
            db.session.add(user)
            db.session.flush()
            db.session.add(Membership(user_id=user.id, organization_id=org.id))
        db.session.commit()
    assert queries_for(url) == few
