"""Logging in and out, passwords, throttling, profile, avatar; sessions never cross tenants."""

import io
import re
from datetime import datetime, timezone

from PIL import Image
from sqlalchemy import select

from app.accounts.models import User
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from tests.conftest import link_in, portal_url, translated


def _user(app, tenant, email):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(User).where(User.email == email)).scalar_one()


def test_login_and_logout(app, client, make_tenant, make_user, login):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl", name="Anna Kowalska")
    response = login("exea", "ANNA@firma.pl ", remember="y")
    assert response.status_code == 302 and response.headers["Location"] == "/"
    # No "keep me logged in" cookie (tests/accounts/test_sessions.py says why).
    assert not any(c.startswith("remember_token=") for c in response.headers.getlist("Set-Cookie"))
    home = client.get(portal_url("exea")).get_data(as_text=True)
    assert "Anna Kowalska" in home
    client.post(portal_url("exea", "/logout"))
    assert "Anna Kowalska" not in client.get(portal_url("exea")).get_data(as_text=True)


def test_wrong_password_gives_one_message_for_unknown_and_known_accounts(app, client, make_tenant, make_user, login):
    make_user(make_tenant("exea"), "anna@firma.pl")
    wrong = login("exea", "anna@firma.pl", "wrong-password").get_data(as_text=True)
    unknown = login("exea", "nobody@firma.pl", "wrong-password").get_data(as_text=True)
    message = translated(app, "pl", "The e-mail address or the password is not correct.")
    assert message in wrong and message in unknown


def _wait_message(app, lang: str, minutes: int) -> str:
    """The "please wait" of a slowed-down login as the page shows it in ``lang``."""
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale(lang):
        return ngettext(
            "Too many failed login attempts. Please wait %(num)d minute and try again.",
            "Too many failed login attempts. Please wait %(num)d minutes and try again.",
            minutes,
        )


def test_login_is_throttled_per_account_with_a_translated_message(app, client, make_tenant, make_user, login):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    make_user(exea, "piotr@firma.pl")
    for _ in range(5):
        assert login("exea", "anna@firma.pl", "wrong-password").status_code == 422
    blocked = login("exea", "anna@firma.pl")  # even the right password waits now
    assert blocked.status_code == 429 and 55 <= int(blocked.headers["Retry-After"]) <= 60
    assert _wait_message(app, "pl", 1) in blocked.get_data(as_text=True)
    assert login("exea", "piotr@firma.pl").status_code == 302  # other accounts are not affected


def test_login_is_throttled_per_ip_address(app, client, make_tenant, make_user, login):
    """A sprayer's failures from one address slow that address down (successes never count)."""
    exea = make_tenant("exea")
    make_user(exea, "piotr@firma.pl")
    for n in range(60):
        login("exea", f"guess{n}@firma.pl", "wrong-password")
    slowed = login("exea", "piotr@firma.pl")
    assert slowed.status_code == 429 and _wait_message(app, "pl", 1) in slowed.get_data(as_text=True)


def test_a_login_at_one_vendor_is_not_valid_at_another(app, client, make_tenant, make_user, login):
    exea, targito = make_tenant("exea"), make_tenant("targito")
    make_user(exea, "anna@firma.pl", name="Anna Kowalska")
    make_user(targito, "anna@firma.pl", name="Anna z Targita")
    login("exea", "anna@firma.pl")
    session_cookie = client.get_cookie("session", domain="exea.portal.test")
    assert session_cookie is not None and client.get_cookie("session", domain="targito.portal.test") is None
    # Even a session cookie carried over by hand is refused by another tenant.
    client.set_cookie("session", session_cookie.value, domain="targito.portal.test")
    page = client.get(portal_url("targito")).get_data(as_text=True)
    assert "Anna z Targita" not in page and "Anna Kowalska" not in page


def test_forgot_password_answers_the_same_and_the_link_works_once(app, client, make_tenant, make_user, login, outbox):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi")
    known = client.post(portal_url("festum", "/password/forgot"), data={"email": "liisa@yritys.fi"})
    unknown = client.post(portal_url("festum", "/password/forgot"), data={"email": "nobody@yritys.fi"})
    assert known.status_code == unknown.status_code == 200

    def strip(html: str) -> str:
        """The page without the address typed and the per-response CSP nonce."""
        html = re.sub(r'nonce="[^"]+"', 'nonce="N"', html)
        return html.replace("liisa@yritys.fi", "X").replace("nobody@yritys.fi", "X")

    assert strip(known.get_data(as_text=True)) == strip(unknown.get_data(as_text=True))
    [(to, _subject, text, _html, kind)] = outbox()
    assert to == "liisa@yritys.fi" and kind == "password_reset"
    link = link_in(text)
    assert client.post(link, data={"password": "uusi-salasana-1", "confirm": "uusi-salasana-1"}).status_code == 302
    client.post(portal_url("festum", "/logout"))
    assert client.get(link).status_code == 400
    assert login("festum", "liisa@yritys.fi", "correct-horse-battery").status_code == 422
    assert login("festum", "liisa@yritys.fi", "uusi-salasana-1").status_code == 302


def test_change_password_needs_the_current_one_and_the_new_one_twice(app, client, make_tenant, make_user, login):
    festum = make_tenant("festum")
    make_user(festum, "liisa@yritys.fi")
    login("festum", "liisa@yritys.fi")
    url = portal_url("festum", "/profile/password")
    wrong = client.post(url, data={"current": "nope", "password": "uusi-salasana-1", "confirm": "uusi-salasana-1"})
    assert wrong.status_code == 422
    assert translated(app, "fi", "The current password is not correct.") in wrong.get_data(as_text=True)
    mismatch = client.post(
        url, data={"current": "correct-horse-battery", "password": "uusi-salasana-1", "confirm": "uusi-salasana-2"}
    )
    assert translated(app, "fi", "The two passwords do not match.") in mismatch.get_data(as_text=True)
    ok = client.post(
        url, data={"current": "correct-horse-battery", "password": "uusi-salasana-1", "confirm": "uusi-salasana-1"}
    )
    assert ok.status_code == 302
    client.post(portal_url("festum", "/logout"))
    assert login("festum", "liisa@yritys.fi", "uusi-salasana-1").status_code == 302


def test_profile_language_and_time_zone_are_followed_by_the_pages(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    user_id = make_user(targito, "jana@example.cz", name="Jana")
    with app.app_context(), tenant_scope(targito.id):
        db.session.get(User, user_id).created_at = datetime(2026, 1, 15, 12, 0, tzinfo=timezone.utc)
        db.session.commit()
    login("targito", "jana@example.cz")
    page = client.get(portal_url("targito", "/profile")).get_data(as_text=True)
    assert '<html lang="cs">' in page and "13:00" in page  # Europe/Prague, the tenant's zone
    response = client.post(
        portal_url("targito", "/profile"),
        data={"name": "Jana Nováková", "locale": "en", "timezone": "America/New_York"},
    )
    assert response.status_code == 302
    page = client.get(portal_url("targito", "/profile")).get_data(as_text=True)
    assert '<html lang="en">' in page and "Jana Nováková" in page and "7:00" in page
    refused = client.post(portal_url("targito", "/profile"), data={"name": "Jana", "locale": "pl", "timezone": "UTC"})
    assert refused.status_code == 422
    assert _user(app, targito, "jana@example.cz").locale == "en"


def _png(size=(400, 300), color=(200, 30, 30)):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, "PNG")
    buffer.seek(0)
    return buffer


def test_avatar_is_checked_resized_stored_and_shown_only_inside_the_tenant(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    user_id = make_user(targito, "jana@example.cz")
    login("targito", "jana@example.cz")
    bad = client.post(
        portal_url("targito", "/profile/avatar"),
        data={"avatar": (io.BytesIO(b"not an image"), "cv.pdf")},
        content_type="multipart/form-data",
    )
    assert bad.status_code == 422
    assert translated(app, "cs", "Please upload a PNG, JPEG, GIF or WebP picture.") in bad.get_data(as_text=True)
    big = io.BytesIO(b"\x89PNG" + b"0" * (2 * 1024 * 1024 + 10))
    assert (
        client.post(
            portal_url("targito", "/profile/avatar"),
            data={"avatar": (big, "huge.png")},
            content_type="multipart/form-data",
        ).status_code
        == 422
    )
    ok = client.post(
        portal_url("targito", "/profile/avatar"),
        data={"avatar": (_png(), "me.png")},
        content_type="multipart/form-data",
    )
    assert ok.status_code == 302
    user = _user(app, targito, "jana@example.cz")
    assert user.avatar_key.startswith(f"{targito.id}/avatars/{user_id}/")
    picture = client.get(portal_url("targito", f"/people/{user_id}/avatar"))
    assert picture.status_code == 200 and picture.mimetype == "image/png"
    assert Image.open(io.BytesIO(picture.data)).size == (256, 256)
    client.post(portal_url("targito", "/logout"))
    assert client.get(portal_url("targito", f"/people/{user_id}/avatar")).status_code == 302  # to the login page


def test_pages_for_logged_in_people_send_others_to_login_and_back(client, make_tenant, make_user, login):
    make_user(make_tenant("exea"), "anna@firma.pl")
    response = client.get(portal_url("exea", "/profile"))
    assert response.status_code == 302 and "/login?next=%2Fprofile" in response.headers["Location"]
    back = client.post(
        portal_url("exea", "/login?next=/profile"), data={"email": "anna@firma.pl", "password": "correct-horse-battery"}
    )
    assert back.headers["Location"] == "/profile"


def test_operator_logs_in_on_the_bare_domain_only(app, client, make_tenant):
    from app.accounts.models import Operator
    from app.accounts.hashing import hash_password

    make_tenant("exea")
    with app.app_context():
        db.session.add(Operator(email="operator@portal.test", password_hash=hash_password("operator-password")))
        db.session.commit()
    response = client.post(
        portal_url(None, "/login"), data={"email": "operator@portal.test", "password": "operator-password"}
    )
    assert response.status_code == 302
    home = client.get(portal_url(None)).get_data(as_text=True)
    assert "exea.portal.test" in home
    # Operators are not tenant users: no tenant page treats them as logged in.
    assert (
        client.post(
            portal_url("exea", "/login"), data={"email": "operator@portal.test", "password": "operator-password"}
        ).status_code
        == 422
    )
