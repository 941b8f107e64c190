"""Role boundaries in the people admin (issue: an agent could take over a tenant admin's account).

Only tenant admins change roles and e-mail addresses, deactivate, manage organizations and their
members and invite staff or organization admins; agents invite customers only. A changed e-mail
address takes effect once the new address is confirmed, and the old address hears of it.
"""

import pytest
from sqlalchemy import select

from app.accounts.models import Membership, Organization, User
from app.extensions import db
from app.security.models import SecurityEvent
from app.tenancy.scoping import all_tenants, tenant_scope
from tests.conftest import link_in, portal_url


def _user(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _events(app, tenant, kind):
    with app.app_context(), all_tenants():
        return db.session.scalars(
            select(SecurityEvent)
            .where(SecurityEvent.tenant_id == tenant.id, SecurityEvent.kind == kind)
            .order_by(SecurityEvent.id)
        ).all()


def _organization(app, tenant, name="Asiakas Oy"):
    with app.app_context(), tenant_scope(tenant.id):
        org = Organization(name=name)
        db.session.add(org)
        db.session.commit()
        return org.id


@pytest.fixture
def crm(app, make_tenant, make_user):
    tenant = make_tenant("crmservice")
    make_user(tenant, "admin@crmservice.test", role="admin", name="Pääkäyttäjä")
    make_user(tenant, "agent@crmservice.test", role="agent")
    make_user(tenant, "matti@asiakas.fi", name="Matti")
    return tenant


def test_an_agent_cannot_change_anyones_email_address(app, client, crm, login, outbox):
    """The takeover: an agent set the tenant admin's address to their own, then reset its password."""
    admin = _user(app, crm, "admin@crmservice.test")
    login("crmservice", "agent@crmservice.test")
    response = client.post(
        portal_url("crmservice", f"/admin/users/{admin.id}"),
        data={"name": admin.name, "email": "evil@attacker.example", "role": "admin"},
    )
    assert response.status_code == 403
    assert _user(app, crm, "admin@crmservice.test") is not None
    assert _user(app, crm, "evil@attacker.example") is None
    assert outbox() == []  # not even a confirmation link went out
    matti = _user(app, crm, "matti@asiakas.fi")
    response = client.post(
        portal_url("crmservice", f"/admin/users/{matti.id}"),
        data={"name": "Matti", "email": "matti@elsewhere.fi", "role": "customer"},
    )
    assert response.status_code == 403 and _user(app, crm, "matti@asiakas.fi") is not None


def test_an_agent_cannot_change_roles_or_deactivate(app, client, crm, login):
    admin = _user(app, crm, "admin@crmservice.test")
    matti = _user(app, crm, "matti@asiakas.fi")
    login("crmservice", "agent@crmservice.test")
    for user, role in ((admin, "customer"), (matti, "agent"), (matti, "admin")):
        response = client.post(
            portal_url("crmservice", f"/admin/users/{user.id}"),
            data={"name": user.name, "email": user.email, "role": role},
        )
        assert response.status_code == 403
    assert (
        client.post(portal_url("crmservice", f"/admin/users/{admin.id}/active"), data={"active": "0"}).status_code
        == 403
    )
    assert _user(app, crm, "admin@crmservice.test").role == "admin"
    assert _user(app, crm, "admin@crmservice.test").active
    assert _user(app, crm, "matti@asiakas.fi").role == "customer"
    assert _events(app, crm, "role_changed") == [] and _events(app, crm, "user_deactivated") == []


def test_an_agent_sees_a_person_but_no_controls_to_change_them(app, client, crm, login):
    matti = _user(app, crm, "matti@asiakas.fi")
    login("crmservice", "agent@crmservice.test")
    page = client.get(portal_url("crmservice", f"/admin/users/{matti.id}")).get_data(as_text=True)
    assert "matti@asiakas.fi" in page
    assert 'name="role"' not in page and 'name="email"' not in page
    assert "/active" not in page  # no (de)activation button
    response = client.post(
        portal_url("crmservice", f"/admin/users/{matti.id}"),
        data={"name": "Matti Meikäläinen", "email": "matti@asiakas.fi", "role": "customer"},
    )
    assert response.status_code == 403
    assert _user(app, crm, "matti@asiakas.fi").name == "Matti"


def test_an_agent_invites_customers_only_never_staff_or_organization_admins(app, client, crm, login):
    org_id = _organization(app, crm)
    login("crmservice", "agent@crmservice.test")
    page = client.get(portal_url("crmservice", "/admin/users/invite")).get_data(as_text=True)
    assert 'name="org_admin"' not in page and 'value="admin"' not in page and 'value="agent"' not in page
    response = client.post(
        portal_url("crmservice", "/admin/users/invite"),
        data={"email": "boss@asiakas.fi", "role": "customer", "organization": str(org_id), "org_admin": "y"},
    )
    assert response.status_code == 403
    assert _user(app, crm, "boss@asiakas.fi") is None
    for role in ("agent", "admin"):
        client.post(
            portal_url("crmservice", "/admin/users/invite"),
            data={"email": f"{role}@asiakas.fi", "role": role, "organization": ""},
        )
        assert _user(app, crm, f"{role}@asiakas.fi") is None
    # A plain customer invitation, into an organization, is fine.
    response = client.post(
        portal_url("crmservice", "/admin/users/invite"),
        data={"email": "liisa@asiakas.fi", "role": "customer", "organization": str(org_id)},
    )
    assert response.status_code == 302
    liisa = _user(app, crm, "liisa@asiakas.fi")
    assert liisa.role == "customer"
    with app.app_context(), tenant_scope(crm.id):
        assert not db.session.scalars(select(Membership).where(Membership.user_id == liisa.id)).one().is_admin
    [event] = _events(app, crm, "user_invited")
    assert event.params == {"role": "customer"} and event.subject_user_id == liisa.id


def test_an_agent_cannot_manage_organizations_or_their_members(app, client, crm, login):
    org_id = _organization(app, crm)
    matti = _user(app, crm, "matti@asiakas.fi")
    with app.app_context(), tenant_scope(crm.id):
        db.session.add(Membership(user_id=matti.id, organization_id=org_id))
        db.session.commit()
    login("crmservice", "agent@crmservice.test")
    page = client.get(portal_url("crmservice", f"/admin/organizations/{org_id}")).get_data(as_text=True)
    assert "make_admin" not in page and 'name="is_admin"' not in page
    member_url = portal_url("crmservice", f"/admin/organizations/{org_id}/members/{matti.id}")
    assert client.post(member_url, data={"action": "make_admin"}).status_code == 403
    assert client.post(member_url, data={"action": "remove"}).status_code == 403
    assert (
        client.post(
            portal_url("crmservice", f"/admin/organizations/{org_id}"),
            data={"email": "agent@crmservice.test", "is_admin": "y"},
        ).status_code
        == 403
    )
    assert client.post(portal_url("crmservice", "/admin/organizations"), data={"name": "Uusi Oy"}).status_code == 403
    with app.app_context(), tenant_scope(crm.id):
        [membership] = db.session.scalars(select(Membership)).all()
        assert membership.user_id == matti.id and not membership.is_admin
        assert db.session.scalars(select(Organization.name)).all() == ["Asiakas Oy"]


def test_the_services_refuse_too(app, crm):
    """A view that forgets its check still cannot hand an agent these powers."""
    from app.accounts import organizations, registration, users

    from app.tenancy.resolution import tenant_context

    with app.test_request_context(portal_url("crmservice", "/")), tenant_context(crm.id):
        agent = db.session.execute(select(User).where(User.email == "agent@crmservice.test")).scalar_one()
        admin = db.session.execute(select(User).where(User.email == "admin@crmservice.test")).scalar_one()
        matti = db.session.execute(select(User).where(User.email == "matti@asiakas.fi")).scalar_one()
        attempts = [
            lambda: users.change_role(matti, "admin", by=agent),
            lambda: users.set_active(admin, False, by=agent),
            lambda: users.request_email_change(admin, "evil@attacker.example", by=agent),
            lambda: registration.invite("boss@asiakas.fi", role="admin", invited_by=agent),
            lambda: registration.invite(
                "boss@asiakas.fi",
                role="customer",
                organization=organizations.get_or_create_organization("X"),
                org_admin=True,
                invited_by=agent,
            ),
            lambda: organizations.create_organization("Uusi Oy", by=agent),
        ]
        for attempt in attempts:
            with pytest.raises(users.AccountError):
                attempt()
            db.session.rollback()
        db.session.expire_all()
        assert admin.email == "admin@crmservice.test" and admin.active and matti.role == "customer"


def test_a_tenant_admin_changes_roles_deactivates_and_manages_members_with_a_trail(app, client, crm, login):
    org_id = _organization(app, crm)
    matti = _user(app, crm, "matti@asiakas.fi")
    login("crmservice", "admin@crmservice.test")
    page = client.get(portal_url("crmservice", f"/admin/users/{matti.id}")).get_data(as_text=True)
    assert 'name="role"' in page and 'type="email"' in page and "/active" in page
    response = client.post(
        portal_url("crmservice", f"/admin/users/{matti.id}"),
        data={"name": "Matti", "email": "matti@asiakas.fi", "role": "agent"},
    )
    assert response.status_code == 302 and _user(app, crm, "matti@asiakas.fi").role == "agent"
    [event] = _events(app, crm, "role_changed")
    assert event.params == {"old_role": "customer", "new_role": "agent"} and event.subject_user_id == matti.id
    client.post(portal_url("crmservice", f"/admin/users/{matti.id}/active"), data={"active": "0"})
    client.post(portal_url("crmservice", f"/admin/users/{matti.id}/active"), data={"active": "1"})
    assert len(_events(app, crm, "user_deactivated")) == 1 and len(_events(app, crm, "user_reactivated")) == 1
    assert (
        client.post(
            portal_url("crmservice", f"/admin/organizations/{org_id}"),
            data={"email": "matti@asiakas.fi", "is_admin": "y"},
        ).status_code
        == 302
    )
    client.post(
        portal_url("crmservice", f"/admin/organizations/{org_id}/members/{matti.id}"), data={"action": "remove"}
    )
    changes = [e.params["change"] for e in _events(app, crm, "membership_changed")]
    assert changes == ["added_as_admin", "removed"]
    response = client.post(
        portal_url("crmservice", "/admin/users/invite"),
        data={"email": "uusi.agentti@crmservice.fi", "role": "agent", "organization": ""},
    )
    assert response.status_code == 302 and _user(app, crm, "uusi.agentti@crmservice.fi").role == "agent"


def test_an_email_change_takes_effect_once_the_new_address_confirms_it(app, client, crm, login, outbox, make_tenant):
    make_tenant("festum")
    matti = _user(app, crm, "matti@asiakas.fi")
    login("crmservice", "admin@crmservice.test")
    response = client.post(
        portal_url("crmservice", f"/admin/users/{matti.id}"),
        data={"name": "Matti", "email": "Matti.M@Uusi.fi", "role": "customer"},
    )
    assert response.status_code == 302
    assert _user(app, crm, "matti@asiakas.fi") is not None  # not yet
    messages = {(to, kind): text for to, _subject, text, _html, kind in outbox()}
    assert set(messages) == {
        ("matti.m@uusi.fi", "email_change_confirm"),
        ("matti@asiakas.fi", "email_change_requested"),
    }
    assert "matti.m@uusi.fi" in messages[("matti@asiakas.fi", "email_change_requested")]
    link = link_in(messages[("matti.m@uusi.fi", "email_change_confirm")])
    assert link.startswith("http://crmservice.portal.test/")
    [requested] = _events(app, crm, "email_change_requested")
    assert requested.params == {"new_email": "matti.m@uusi.fi"} and requested.actor_user_id != matti.id
    # The link is bound to its tenant.
    client.post(portal_url("crmservice", "/logout"))
    assert client.get(link.replace("crmservice.", "festum.")).status_code == 400
    # Opening the link asks for a confirmation; confirming changes the address.
    assert client.get(link).status_code == 200
    assert _user(app, crm, "matti@asiakas.fi") is not None
    assert client.post(link).status_code == 302
    assert _user(app, crm, "matti@asiakas.fi") is None
    changed = _user(app, crm, "matti.m@uusi.fi")
    assert changed.id == matti.id and changed.is_verified
    notices = [(to, kind) for to, _s, _t, _h, kind in outbox()]
    assert ("matti@asiakas.fi", "email_changed") in notices
    [event] = _events(app, crm, "email_changed")
    assert event.params == {"old_email": "matti@asiakas.fi", "new_email": "matti.m@uusi.fi"}
    # A link works once.
    assert client.post(link).status_code == 400
    assert login("crmservice", "matti@asiakas.fi").status_code == 422
    assert login("crmservice", "matti.m@uusi.fi").status_code == 302


def test_an_email_change_to_an_address_taken_meanwhile_is_refused(app, client, crm, login, outbox, make_user):
    matti = _user(app, crm, "matti@asiakas.fi")
    login("crmservice", "admin@crmservice.test")
    client.post(
        portal_url("crmservice", f"/admin/users/{matti.id}"),
        data={"name": "Matti", "email": "matti@uusi.fi", "role": "customer"},
    )
    [link] = [link_in(text) for to, _s, text, _h, kind in outbox() if kind == "email_change_confirm"]
    make_user(crm, "matti@uusi.fi")
    assert client.post(link).status_code == 400
    assert _user(app, crm, "matti@asiakas.fi") is not None


def test_a_profile_picture_is_for_its_owner_and_staff_only(app, client, crm, login, make_user):
    import io

    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (300, 300), (10, 120, 200)).save(buffer, "PNG")
    buffer.seek(0)
    matti = _user(app, crm, "matti@asiakas.fi")
    make_user(crm, "liisa@asiakas.fi")
    login("crmservice", "matti@asiakas.fi")
    assert (
        client.post(
            portal_url("crmservice", "/profile/avatar"),
            data={"avatar": (buffer, "me.png")},
            content_type="multipart/form-data",
        ).status_code
        == 302
    )
    url = portal_url("crmservice", f"/people/{matti.id}/avatar")
    assert client.get(url).status_code == 200
    for email, status in (("liisa@asiakas.fi", 404), ("agent@crmservice.test", 200)):
        client.post(portal_url("crmservice", "/logout"))
        login("crmservice", email)
        assert client.get(url).status_code == status, email
