"""Sessions that end: logout, password change or reset, deactivation, role and e-mail changes end
every other session of that person (the session carries the account's ``session_version``);
idle and absolute timeouts; no "keep me logged in" cookie; registration takes the same work whether
or not the address is known."""

import time

import pytest
from sqlalchemy import select

from app.accounts import registration, sessions
from app.accounts.models import Operator, User
from app.extensions import db
from app.security.models import SecurityEvent
from app.tenancy.scoping import all_tenants, tenant_scope
from tests.conftest import link_in, portal_url

PASSWORD = "correct-horse-battery"


def _login(app, slug, email, password=PASSWORD):
    """A browser of its own (a second device), logged in."""
    browser = app.test_client()
    response = browser.post(portal_url(slug, "/login"), data={"email": email, "password": password})
    assert response.status_code == 302, response.get_data(as_text=True)
    return browser


def _logged_in(browser, slug) -> bool:
    return browser.get(portal_url(slug, "/profile")).status_code == 200


def _user(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()


def _event_kinds(app, tenant_id=None):
    with app.app_context(), all_tenants():
        return [
            e.kind
            for e in db.session.scalars(
                select(SecurityEvent).where(SecurityEvent.tenant_id == tenant_id).order_by(SecurityEvent.id)
            )
        ]


def test_logout_ends_the_session_even_for_a_copied_cookie_and_every_other_device(app, make_tenant, make_user):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    laptop, phone = _login(app, "exea", "anna@firma.pl"), _login(app, "exea", "anna@firma.pl")
    copied = app.test_client()  # someone who copied the laptop's cookie
    copied.set_cookie(
        "session", laptop.get_cookie("session", domain="exea.portal.test").value, domain="exea.portal.test"
    )
    assert _logged_in(copied, "exea") and _logged_in(phone, "exea")
    laptop.post(portal_url("exea", "/logout"))
    assert not _logged_in(laptop, "exea")
    assert not _logged_in(copied, "exea")
    assert not _logged_in(phone, "exea")
    assert "logout" in _event_kinds(app, exea.id)


def test_a_password_change_ends_other_sessions_keeps_this_one_and_tells_the_user(app, make_tenant, make_user, outbox):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi", locale="fi")
    here, elsewhere = _login(app, "festum", "liisa@yritys.fi"), _login(app, "festum", "liisa@yritys.fi")
    response = here.post(
        portal_url("festum", "/profile/password"),
        data={"current": PASSWORD, "password": "uusi-salasana-1", "confirm": "uusi-salasana-1"},
    )
    assert response.status_code == 302
    assert _logged_in(here, "festum")
    assert not _logged_in(elsewhere, "festum")
    [(to, subject, text, _html, kind)] = outbox()
    assert to == "liisa@yritys.fi" and kind == "password_changed"
    assert "uusi-salasana-1" not in text
    assert "password_changed" in _event_kinds(app, festum.id)
    liisa = _user(app, festum, "liisa@yritys.fi")
    with app.app_context(), all_tenants():
        event = db.session.scalars(select(SecurityEvent).where(SecurityEvent.kind == "password_changed")).one()
        assert (event.subject_user_id, event.actor_user_id, event.email) == (liisa.id, liisa.id, "liisa@yritys.fi")


def test_a_password_reset_ends_every_other_session(app, make_tenant, make_user, outbox):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi")
    elsewhere = _login(app, "festum", "liisa@yritys.fi")
    browser = app.test_client()
    browser.post(portal_url("festum", "/password/forgot"), data={"email": "liisa@yritys.fi"})
    [(_to, _s, text, _h, _kind)] = outbox()
    assert (
        browser.post(link_in(text), data={"password": "uusi-salasana-1", "confirm": "uusi-salasana-1"}).status_code
        == 302
    )
    assert _logged_in(browser, "festum")
    assert not _logged_in(elsewhere, "festum")
    assert "password_reset" in _event_kinds(app, festum.id)
    assert [kind for *_rest, kind in outbox()] == ["password_reset", "password_changed"]


def test_deactivation_and_a_role_change_end_the_persons_sessions(app, make_tenant, make_user):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    matti_id = make_user(crm, "matti@asiakas.fi")
    admin = _login(app, "crmservice", "admin@crmservice.test")
    matti = _login(app, "crmservice", "matti@asiakas.fi")
    admin.post(portal_url("crmservice", f"/admin/users/{matti_id}/active"), data={"active": "0"})
    assert not _logged_in(matti, "crmservice")
    admin.post(portal_url("crmservice", f"/admin/users/{matti_id}/active"), data={"active": "1"})
    assert not _logged_in(matti, "crmservice")  # reactivation does not revive the old session
    matti = _login(app, "crmservice", "matti@asiakas.fi")
    assert (
        admin.post(
            portal_url("crmservice", f"/admin/users/{matti_id}"),
            data={"name": "", "email": "matti@asiakas.fi", "role": "agent"},
        ).status_code
        == 302
    )
    assert not _logged_in(matti, "crmservice")
    assert _logged_in(admin, "crmservice")


def test_a_confirmed_email_change_ends_the_persons_sessions(app, make_tenant, make_user, outbox):
    crm = make_tenant("crmservice")
    make_user(crm, "admin@crmservice.test", role="admin")
    matti_id = make_user(crm, "matti@asiakas.fi")
    admin = _login(app, "crmservice", "admin@crmservice.test")
    matti = _login(app, "crmservice", "matti@asiakas.fi")
    admin.post(
        portal_url("crmservice", f"/admin/users/{matti_id}"),
        data={"name": "", "email": "matti@uusi.fi", "role": "customer"},
    )
    assert _logged_in(matti, "crmservice")  # a mere request changes nothing
    [link] = [link_in(text) for _to, _s, text, _h, kind in outbox() if kind == "email_change_confirm"]
    assert app.test_client().post(link).status_code == 302
    assert not _logged_in(matti, "crmservice")


def _age_session(browser, slug, **seconds_ago):
    with browser.session_transaction(base_url=portal_url(slug)) as session:
        now = int(time.time())
        for key, ago in seconds_ago.items():
            session[key] = now - ago


def test_idle_and_absolute_timeouts(app, make_tenant, make_user):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    assert app.config["SESSION_IDLE_MINUTES"] == 30 and app.config["SESSION_MAX_HOURS"] == 12
    browser = _login(app, "exea", "anna@firma.pl")
    _age_session(browser, "exea", **{sessions.SESSION_SEEN_KEY: 29 * 60})
    assert _logged_in(browser, "exea")  # activity keeps it alive
    _age_session(browser, "exea", **{sessions.SESSION_SEEN_KEY: 31 * 60})
    assert not _logged_in(browser, "exea")

    browser = _login(app, "exea", "anna@firma.pl")
    _age_session(browser, "exea", **{sessions.SESSION_STARTED_KEY: 11 * 3600 + 3000})
    assert _logged_in(browser, "exea")
    _age_session(browser, "exea", **{sessions.SESSION_STARTED_KEY: 12 * 3600 + 60})
    assert not _logged_in(browser, "exea")  # however active it was

    app.config.update(SESSION_IDLE_MINUTES=5, SESSION_MAX_HOURS=1)
    browser = _login(app, "exea", "anna@firma.pl")
    _age_session(browser, "exea", **{sessions.SESSION_SEEN_KEY: 6 * 60})
    assert not _logged_in(browser, "exea")
    browser = _login(app, "exea", "anna@firma.pl")
    _age_session(browser, "exea", **{sessions.SESSION_STARTED_KEY: 3700})
    assert not _logged_in(browser, "exea")


def test_a_session_without_the_version_is_refused(app, make_tenant, make_user):
    """Sessions made before versions existed (or forged without one) do not count."""
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    browser = _login(app, "exea", "anna@firma.pl")
    with browser.session_transaction(base_url=portal_url("exea")) as session:
        del session[sessions.SESSION_VERSION_KEY]
    assert not _logged_in(browser, "exea")


def test_there_is_no_keep_me_logged_in_cookie(app, client, make_tenant, make_user):
    exea = make_tenant("exea")
    user_id = make_user(exea, "anna@firma.pl")
    page = client.get(portal_url("exea", "/login")).get_data(as_text=True)
    assert 'name="remember"' not in page
    response = client.post(
        portal_url("exea", "/login"), data={"email": "anna@firma.pl", "password": PASSWORD, "remember": "y"}
    )
    assert response.status_code == 302
    cookies = response.headers.getlist("Set-Cookie")
    assert not any(c.startswith("remember_token=") and "Expires=Thu, 01 Jan 1970" not in c for c in cookies)
    [session_cookie] = [c for c in cookies if c.startswith("session=")]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    # A remember-me cookie made the way Flask-Login makes one does not log anyone in.
    from flask_login.utils import encode_cookie

    with app.test_request_context():
        forged = encode_cookie(f"user:{user_id}")
    stranger = app.test_client()
    stranger.set_cookie("remember_token", forged, domain="exea.portal.test")
    assert not _logged_in(stranger, "exea")


def test_cookies_are_secure_under_https(app_config, make_tenant, make_user):
    from app import create_app

    secure_app = create_app(dict(app_config, PREFERRED_URL_SCHEME="https"))
    assert secure_app.config["REMEMBER_COOKIE_SECURE"] and secure_app.config["REMEMBER_COOKIE_HTTPONLY"]
    assert secure_app.config["REMEMBER_COOKIE_SAMESITE"] == "Lax"
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    response = secure_app.test_client().post(
        "https://exea.portal.test/login", data={"email": "anna@firma.pl", "password": PASSWORD}
    )
    [session_cookie] = [c for c in response.headers.getlist("Set-Cookie") if c.startswith("session=")]
    assert "Secure" in session_cookie and "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie


def test_the_operators_sessions_end_too(app):
    from app.accounts.hashing import hash_password

    with app.app_context():
        db.session.add(Operator(email="operator@portal.test", password_hash=hash_password("operator-password")))
        db.session.commit()
    desk, copied = app.test_client(), app.test_client()
    assert (
        desk.post(
            portal_url(None, "/login"), data={"email": "operator@portal.test", "password": "operator-password"}
        ).status_code
        == 302
    )
    copied.set_cookie("session", desk.get_cookie("session", domain="portal.test").value, domain="portal.test")
    assert "/tenants/new" in copied.get(portal_url(None)).get_data(as_text=True)
    desk.post(portal_url(None, "/logout"))
    assert "/tenants/new" not in copied.get(portal_url(None)).get_data(as_text=True)
    assert "logout" in _event_kinds(app, None)

    assert (
        desk.post(
            portal_url(None, "/login"), data={"email": "operator@portal.test", "password": "operator-password"}
        ).status_code
        == 302
    )
    _age_session(desk, None, **{sessions.SESSION_SEEN_KEY: 31 * 60})
    assert "/tenants/new" not in desk.get(portal_url(None)).get_data(as_text=True)


@pytest.mark.parametrize("known", [True, False])
def test_registration_hashes_the_password_whether_or_not_the_address_is_known(
    app, client, make_tenant, make_user, monkeypatch, known
):
    """The slow hash is what would tell an attacker apart an existing account (issue, defect 15)."""
    flexinform = make_tenant("flexinform")
    if known:
        make_user(flexinform, "anna@example.com")
    hashed = []
    real = registration.hash_password
    monkeypatch.setattr(registration, "hash_password", lambda password: hashed.append(password) or real(password))
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
    assert hashed == ["hosszu-jelszo-1"]
