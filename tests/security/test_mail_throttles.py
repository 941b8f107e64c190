"""E-mails a visitor or a customer can make the portal send are throttled per recipient, per sender
(a user, or for anonymous forms the client address) and per tenant. A throttled password reset or
registration shows the same neutral page (no enumeration) and queues nothing; a throttled invitation
or share says so, translated.
"""

import re
import time

from sqlalchemy import select

from app.accounts import ratelimit
from app.accounts.models import User
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import portal_url


def _page(response) -> str:
    """A page without what differs on every response anyway (the CSP nonce, the CSRF token)."""
    return re.sub(r'(nonce|name="csrf_token" value)="[^"]*"', "", response.get_data(as_text=True))


def _forgot(app, slug, email, address="198.51.100.7"):
    return app.test_client().post(
        portal_url(slug, "/password/forgot"), data={"email": email}, environ_base={"REMOTE_ADDR": address}
    )


def _kinds_to(outbox, email):
    return [kind for to, _subject, _text, _html, kind in outbox() if to == email]


def test_password_reset_e_mails_to_one_address_are_throttled_with_the_same_answer(app, make_tenant, make_user, outbox):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi")
    pages = []
    for n in range(4):
        time.sleep(1.05)  # a reset link made in another second (the outbox drops a same-second repeat)
        pages.append(_page(_forgot(app, "festum", "liisa@yritys.fi", address=f"198.51.100.{n}")))
    assert _kinds_to(outbox, "liisa@yritys.fi") == ["password_reset"] * 3
    assert pages[3] == pages[0]  # the fourth request looks the same, and sends nothing


def test_password_reset_requests_from_one_client_are_throttled(app, make_tenant, make_user, outbox):
    festum = make_tenant("festum")
    for n in range(12):
        make_user(festum, f"user{n}@yritys.fi")
    for n in range(11):
        assert _forgot(app, "festum", f"user{n}@yritys.fi", address="203.0.113.5").status_code == 200
    assert len(outbox()) == 10
    assert _forgot(app, "festum", "user11@yritys.fi", address="192.0.2.1").status_code == 200  # another client
    assert len(outbox()) == 11


def test_registrations_from_one_client_are_throttled_without_creating_accounts(app, make_tenant, outbox):
    flexinform = make_tenant("flexinform")
    pages = []
    for n in range(11):
        pages.append(
            _page(
                app.test_client().post(
                    portal_url("flexinform", "/register"),
                    data={
                        "name": "Kiss Anna",
                        "email": f"anna{n}@example.com",
                        "password": "hosszu-jelszo-1",
                        "confirm": "hosszu-jelszo-1",
                    },
                    environ_base={"REMOTE_ADDR": "203.0.113.5"},
                )
            ).replace(f"anna{n}@", "X@")
        )
    assert [kind for *_rest, kind in outbox()] == ["verify_email"] * 10
    assert pages[10] == pages[0]
    with app.app_context(), tenant_scope(flexinform.id):
        assert db.session.execute(select(User.id).where(User.email == "anna10@example.com")).first() is None


def test_invitations_to_one_address_are_throttled_with_a_message(app, client, make_tenant, make_user, login, outbox):
    targito = make_tenant("targito")
    make_user(targito, "admin@targito.test", role="admin")
    login("targito", "admin@targito.test")
    for _ in range(3):  # invited again while the person has set no password yet
        time.sleep(1.05)  # another second: another link (the outbox drops a same-second repeat)
        response = client.post(
            portal_url("targito", "/admin/users/invite"),
            data={"email": "jana@firma.cz", "role": "customer", "organization": ""},
        )
        assert response.status_code == 302
    time.sleep(1.05)
    refused = client.post(
        portal_url("targito", "/admin/users/invite"),
        data={"email": "jana@firma.cz", "role": "customer", "organization": ""},
    )
    assert refused.status_code == 422
    assert _kinds_to(outbox, "jana@firma.cz") == ["invitation"] * 3
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale("cs"):
        message = gettext(
            "The invitation could not be sent just now: too many e-mails have been sent. Please try again later."
        )
    assert message in refused.get_data(as_text=True)


def test_shares_by_one_customer_are_throttled_with_a_message(app, client, make_tenant, make_user, login, outbox):
    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@sportklub.hu")
    login("flexinform", "anna@sportklub.hu")
    created = client.post(
        portal_url("flexinform", "/portals/verseny/kerdes/new"),
        data={"field_summary": "Versenyengedély", "field_description": "Kérdés"},
    )
    ref = created.headers["Location"].rsplit("/", 1)[-1]
    for n in range(21):
        client.post(portal_url("flexinform", f"/requests/{ref}/participants"), data={"email": f"guest{n}@example.com"})
    invited = [to for to, *_rest, kind in outbox() if kind == "shared_invitation"]
    assert len(invited) == 20 and "guest20@example.com" not in invited
    with app.app_context(), tenant_scope(flexinform.id):
        assert db.session.execute(select(User.id).where(User.email == "guest20@example.com")).first() is None
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale("hu"):
        message = gettext(
            "The request could not be shared just now: too many e-mails have been sent. Please try again later."
        )
    assert message in client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)


def test_a_tenants_budget_is_its_own(app, make_tenant, make_user, outbox, monkeypatch):
    monkeypatch.setattr(ratelimit, "MAIL_PER_TENANT_PER_HOUR", 3)
    festum, exea = make_tenant("festum"), make_tenant("exea")
    for n in range(4):
        make_user(festum, f"user{n}@yritys.fi")
    make_user(exea, "anna@firma.pl")
    for n in range(4):
        _forgot(app, "festum", f"user{n}@yritys.fi", address=f"198.51.100.{n}")
    assert len(outbox()) == 3
    _forgot(app, "exea", "anna@firma.pl")
    assert _kinds_to(outbox, "anna@firma.pl") == ["password_reset"]


def test_resent_invitations_and_confirmation_links_are_throttled_too(
    app, client, make_tenant, make_user, login, outbox
):
    """The people admin's "send the invitation again" and a customer's "send a new confirmation link"
    count like every other invitation or link: a button pressed a hundred times sends three."""
    targito = make_tenant("targito")
    make_user(targito, "admin@targito.test", role="admin")
    jana = make_user(targito, "jana@firma.cz", password=None)
    login("targito", "admin@targito.test")
    for _ in range(4):
        time.sleep(1.05)  # another second: another link (the outbox drops a same-second repeat)
        client.post(portal_url("targito", f"/admin/users/{jana}/resend"))
    assert _kinds_to(outbox, "jana@firma.cz") == ["invitation"] * 3

    flexinform = make_tenant("flexinform")
    make_user(flexinform, "anna@example.com", verified=False)
    login("flexinform", "anna@example.com")
    for _ in range(4):
        time.sleep(1.05)
        response = client.post(portal_url("flexinform", "/verify/resend"), follow_redirects=True)
    assert _kinds_to(outbox, "anna@example.com") == ["verify_email"] * 3
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale("hu"):
        message = gettext(
            "A new confirmation link could not be sent just now: several have been sent lately. "
            "Please check your mailbox, or try again later."
        )
    assert message in response.get_data(as_text=True)
