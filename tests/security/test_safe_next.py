"""Open redirects: a login's ``next=`` never sends the browser to another site.

Every payload of ``payloads/open_redirect.txt`` goes through the real login POST of a tenant and of
the platform operator, twice: as written (the server decodes it once) and encoded once more (the
login sees the line itself, as behind a proxy that decodes twice). The Location must resolve, the
way a browser reads it, to the same host.
"""

import re
import unicodedata
from pathlib import Path
from urllib.parse import quote, unquote, urljoin, urlsplit

import pytest

from app.extensions import db
from tests.conftest import portal_url

PAYLOAD_FILE = Path(__file__).parent / "payloads" / "open_redirect.txt"
PAYLOADS = [
    line for line in PAYLOAD_FILE.read_text(encoding="utf-8").splitlines() if line.strip() and not line.startswith("#")
]
# Printable ASCII stays as written; anything else is percent-encoded as a browser would send it.
_AS_WRITTEN = "".join(chr(code) for code in range(0x21, 0x7F))


def _browser_target(location: str, page: str):
    """Where a browser goes for ``location``: it drops tabs and newlines, strips leading and trailing
    control characters and spaces, reads backslashes as slashes and folds look-alike characters."""
    cleaned = re.sub(r"[\t\n\r]", "", location).strip("".join(chr(c) for c in range(0x21)))
    cleaned = unicodedata.normalize("NFKC", cleaned.replace("\\", "/")).replace("\\", "/")
    return urlsplit(urljoin(page, cleaned))


def _assert_same_host(response, page: str, payload: str) -> None:
    assert response.status_code == 302, (payload, response.status_code)
    location = response.headers["Location"]
    host = urlsplit(page).netloc
    for reading in (location, unquote(location), unquote(unquote(location))):
        target = _browser_target(reading, page)
        assert target.scheme in ("http", "https") and target.netloc == host, (payload, location)


def _send_both_ways(app, page: str, data: dict):
    """Each payload as written and encoded once more, each through a fresh login (a new client)."""
    for payload in PAYLOADS:
        as_written = quote(payload, safe=_AS_WRITTEN)
        for query in ("next=" + as_written, "next=" + quote(payload, safe="")):
            yield payload, app.test_client().post(page, query_string=query, data=data)


@pytest.fixture
def operator(app):
    from app.accounts.models import Operator
    from app.accounts.hashing import hash_password

    with app.app_context():
        db.session.add(Operator(email="operator@portal.test", password_hash=hash_password("operator-password")))
        db.session.commit()


def test_the_payload_list_is_substantial():
    assert len(PAYLOADS) >= 60


def test_tenant_login_never_redirects_to_another_site(app, make_tenant, make_user):
    make_user(make_tenant("exea"), "anna@firma.pl")
    page = portal_url("exea", "/login")
    for payload, response in _send_both_ways(
        app, page, {"email": "anna@firma.pl", "password": "correct-horse-battery"}
    ):
        _assert_same_host(response, page, payload)


def test_operator_login_never_redirects_to_another_site(app, operator):
    page = portal_url(None, "/login")
    for payload, response in _send_both_ways(
        app, page, {"email": "operator@portal.test", "password": "operator-password"}
    ):
        _assert_same_host(response, page, payload)


def test_a_logged_in_visit_of_the_login_page_never_redirects_to_another_site(
    app, client, make_tenant, make_user, login
):
    make_user(make_tenant("exea"), "anna@firma.pl")
    assert login("exea", "anna@firma.pl").status_code == 302
    page = portal_url("exea", "/login")
    for payload in PAYLOADS:
        response = client.get(page, query_string="next=" + quote(payload, safe=_AS_WRITTEN))
        _assert_same_host(response, page, payload)


def test_local_targets_are_followed_by_both_logins(app, client, make_tenant, make_user, operator):
    make_user(make_tenant("exea"), "anna@firma.pl")
    tenant = client.post(
        portal_url("exea", "/login?next=/profile%3Ftab%3Dpassword"),
        data={"email": "anna@firma.pl", "password": "correct-horse-battery"},
    )
    assert tenant.headers["Location"] == "/profile?tab=password"
    platform = app.test_client().post(
        portal_url(None, "/login?next=/tenants/new"),
        data={"email": "operator@portal.test", "password": "operator-password"},
    )
    assert platform.status_code == 302 and platform.headers["Location"] == "/tenants/new"


def test_the_language_switcher_stays_on_the_site(client, make_tenant):
    make_tenant("exea")
    for payload in ("//evil.example", "/%09/evil.example", "/\\evil.example", "https:evil.example"):
        response = client.post(portal_url("exea", "/language"), data={"language": "en", "next": payload})
        _assert_same_host(response, portal_url("exea", "/language"), payload)


def test_a_deep_link_with_spaces_and_letters_in_its_query_is_kept():
    """A vendor's deep link prefills the form ("?summary=Import%20kontaktů"): what follows the "?" may
    hold spaces once decoded, since nothing there can make the target another site."""
    from app.security.urls import is_safe_next

    assert is_safe_next("/portals/support/bug/new?summary=Import%20kontakt%C5%AF&priority=high")
    assert not is_safe_next("/%09/evil.example") and not is_safe_next("/ /evil.example")
    assert not is_safe_next("/portals/x?summary=a\tb")  # raw control characters anywhere: refused
