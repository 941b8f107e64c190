"""At a portal whose registration is by invitation, a customer cannot give a stranger an account by
sharing a request: they share with people who have an account there; staff may still invite anyone.
At an open portal sharing with a new address still creates the account (tests/tickets/test_sharing.py).
"""

from flask_babel import force_locale, gettext
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Participant
from tests.conftest import portal_url


def _raise(client, slug):
    response = client.post(
        portal_url(slug, "/portals/support/incident/new"),
        data={"field_summary": "Awaria", "field_description": "Serwer nie odpowiada", "share_with": "private"},
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-2000:]
    return response.headers["Location"].rsplit("/", 1)[-1]


def _account(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _participants(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return sorted(db.session.scalars(select(User.email).join(Participant, Participant.user_id == User.id)))


def test_a_customer_at_an_invite_only_portal_cannot_create_an_account_by_sharing(
    app, client, make_tenant, make_user, login, outbox
):
    exea = make_tenant("exea")
    assert exea.registration_mode != "open"
    make_user(exea, "anna@firma.pl")
    make_user(exea, "piotr@firma.pl")
    login("exea", "anna@firma.pl")
    ref = _raise(client, "exea")
    before = len(outbox())
    response = client.post(portal_url("exea", f"/requests/{ref}/participants"), data={"email": "stranger@evil.example"})
    assert response.status_code == 302
    assert _account(app, exea, "stranger@evil.example") is None
    assert [to for to, *_rest in outbox()[before:]] == []
    with app.test_request_context("/"), force_locale("pl"):
        message = gettext(
            "%(email)s has no account at this portal, and only the support team can invite new people here.",
            email="stranger@evil.example",
        )
    assert message in client.get(portal_url("exea", f"/requests/{ref}")).get_data(as_text=True)
    # Someone with an account there is shared with as before.
    client.post(portal_url("exea", f"/requests/{ref}/participants"), data={"email": "piotr@firma.pl"})
    assert _participants(app, exea) == ["piotr@firma.pl"]
    assert [kind for to, *_rest, kind in outbox()[before:]] == ["request_shared"]


def test_staff_at_an_invite_only_portal_still_invite_by_sharing(app, client, make_tenant, make_user, login, outbox):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    make_user(exea, "agent@exea.test", role="agent")
    login("exea", "anna@firma.pl")
    ref = _raise(client, "exea")
    client.post(portal_url("exea", "/logout"))
    login("exea", "agent@exea.test")
    client.post(portal_url("exea", f"/requests/{ref}/participants"), data={"email": "partner@firma.pl"})
    assert _account(app, exea, "partner@firma.pl") is not None
    assert _participants(app, exea) == ["partner@firma.pl"]
    assert [kind for to, *_rest, kind in outbox() if to == "partner@firma.pl"] == ["shared_invitation"]
