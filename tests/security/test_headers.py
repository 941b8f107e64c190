"""Every response carries the security headers, and no HTML page needs what the Content-Security-
Policy forbids: no ``style=`` attributes, no inline event handlers, no inline ``<script>`` or
``<style>`` without this response's nonce (defect 14). The pages are found by following the links
each role sees, from its start pages."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import pytest

from app.accounts.models import Operator
from app.extensions import db
from tests.conftest import TEST_DOMAIN, portal_url
from tests.tickets.test_conversation import request_at  # noqa: F401 (fixture)

SKIP = re.compile(r"/export|/attachments/|/files/|/email/|/logo/|/avatar|\.zip|\.yaml|\.csv|/static/")
PAGES_PER_ROLE = 60


class _PageChecker(HTMLParser):
    """Collects what the CSP would refuse on a page, and the page's links."""

    def __init__(self):
        super().__init__()
        self.problems: list[str] = []
        self.links: list[str] = []
        self.nonces: list[str | None] = []
        self.sources: list[str] = []  # style sheets and scripts: 'self' only

    def handle_starttag(self, tag, attrs):
        names = dict(attrs)
        if "style" in names:
            self.problems.append(f"<{tag} style=…>")
        self.problems += [f"<{tag} {name}=…>" for name in names if name.startswith("on")]
        if tag == "script" and not names.get("src"):
            self.nonces.append(names.get("nonce"))
        if tag == "style":
            self.nonces.append(names.get("nonce"))
        if tag == "a" and names.get("href"):
            self.links.append(names["href"])
        if tag == "link" and "stylesheet" in (names.get("rel") or "") and names.get("href"):
            self.sources.append(names["href"])
        if tag == "script" and names.get("src"):
            self.sources.append(names["src"])


def _check(url: str, response, *, signed_in: bool) -> list[str]:
    headers = response.headers
    csp = headers.get("Content-Security-Policy", "")
    for directive in (
        "default-src 'self'",
        "object-src 'none'",
        "base-uri 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ):
        assert directive in csp, (url, csp)
    match = re.search(r"script-src 'self' 'nonce-([^']+)'", csp)
    assert match and f"style-src 'self' 'nonce-{match.group(1)}'" in csp, (url, csp)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert headers.get("X-Content-Type-Options") == "nosniff", url
    assert headers.get("X-Frame-Options") == "DENY", url
    assert headers.get("Referrer-Policy") == "strict-origin-when-cross-origin", url
    assert "Strict-Transport-Security" not in headers, url  # served over plain HTTP here
    if signed_in:
        assert "no-store" in headers.get("Cache-Control", ""), url
    if not response.mimetype == "text/html":
        return []
    checker = _PageChecker()
    checker.feed(response.get_data(as_text=True))
    assert not checker.problems, (url, checker.problems)
    assert all(nonce == match.group(1) for nonce in checker.nonces), (url, checker.nonces)
    foreign = [src for src in checker.sources if urlsplit(urljoin(url, src)).netloc != urlsplit(url).netloc]
    assert not foreign, (url, foreign)  # another host (the bare domain's /static) is blocked by 'self'
    return checker.links


def _crawl(client, start: list[str], *, signed_in: bool) -> set[str]:
    """GET the start pages and the same-host pages they link to (breadth first); check each."""
    host = urlsplit(start[0]).netloc
    seen: set[str] = set()
    paths: set[str] = set()  # one query-string variant of a page is enough (sort orders, filters)
    queue = list(start)
    while queue and len(seen) < PAGES_PER_ROLE:
        url = queue.pop(0).split("#")[0]
        path = url.split("?")[0]
        if url in seen or (path in paths and url != path) or SKIP.search(url):
            continue
        seen.add(url)
        paths.add(path)
        response = client.get(url)
        assert response.status_code < 500, url
        links = _check(url, response, signed_in=signed_in)
        if response.status_code in (301, 302, 303):
            links = [response.location]
        for link in links:
            absolute = urljoin(url, link)
            if urlsplit(absolute).netloc == host and urlsplit(absolute).scheme == "http":
                queue.append(absolute)
    return seen


@pytest.mark.parametrize("role", ["customer", "agent", "admin"])
def test_every_page_a_role_reaches_has_the_security_headers_and_no_inline_styles(
    app, client, request_at, make_user, login, role
):
    tenant, ref = request_at("flexinform")
    make_user(tenant, "admin@example.com", role="admin", name="Admin")
    login("flexinform", f"{role}@example.com")
    start = [portal_url("flexinform", path) for path in ("/", f"/requests/{ref}", "/requests", "/profile", "/help")]
    if role != "customer":
        start += [portal_url("flexinform", path) for path in ("/agent", "/help/manage")]
    if role == "admin":
        start += [
            portal_url("flexinform", path)
            for path in (
                "/admin/users",
                "/admin/config/",
                "/admin/config/statuses",
                "/admin/config/branding",
                "/admin/config/strings",
            )
        ]
    seen = _crawl(client, start, signed_in=True)
    assert len(seen) >= len(start)


def test_anonymous_pages_and_error_pages_have_the_security_headers(app, client, make_tenant):
    make_tenant("flexinform")
    seen = _crawl(client, [portal_url("flexinform", "/login"), portal_url("flexinform", "/help")], signed_in=False)
    assert len(seen) >= 2
    for url, status in (
        (portal_url("flexinform", "/no-such-page"), 404),
        (portal_url("nosuchtenant", "/"), 404),
        (portal_url(None, "/no-such-page"), 404),
    ):
        response = client.get(url)
        assert response.status_code == status
        _check(url, response, signed_in=False)
    from app.tenancy.services import set_tenant_status

    make_tenant("festum")
    with app.app_context():
        set_tenant_status("festum", "suspended")
        db.session.commit()
    suspended = client.get(portal_url("festum", "/"))
    assert suspended.status_code == 503
    _check(portal_url("festum", "/"), suspended, signed_in=False)
    static = client.get(portal_url("flexinform", "/static/css/portal.css"))
    assert static.headers["X-Content-Type-Options"] == "nosniff"
    assert "no-store" not in static.headers.get("Cache-Control", "")


def test_the_operator_console_has_the_security_headers(app, client):
    from app.accounts.hashing import hash_password

    with app.app_context():
        db.session.add(Operator(email="operator@portal.test", password_hash=hash_password("operator-password")))
        db.session.commit()
    assert (
        client.post(
            portal_url(None, "/login"), data={"email": "operator@portal.test", "password": "operator-password"}
        ).status_code
        == 302
    )
    seen = _crawl(client, [portal_url(None, "/")], signed_in=True)
    assert len(seen) >= 1


def test_hsts_only_when_served_over_https(app, client, make_tenant):
    make_tenant("flexinform")
    plain = client.get(portal_url("flexinform", "/login"))
    assert "Strict-Transport-Security" not in plain.headers
    secure = client.get(f"https://flexinform.{TEST_DOMAIN}/login")
    assert secure.headers["Strict-Transport-Security"].startswith("max-age=")


def test_the_tenant_colours_and_status_colours_come_in_nonced_style_blocks(app, client, request_at, login):
    tenant, ref = request_at("flexinform")
    login("flexinform", "customer@example.com")
    response = client.get(portal_url("flexinform", f"/requests/{ref}"))
    nonce = re.search(r"'nonce-([^']+)'", response.headers["Content-Security-Policy"]).group(1)
    page = response.get_data(as_text=True)
    assert f'<style nonce="{nonce}">.status-color-' in page
    assert re.search(r'class="status status-color-[a-z0-9_-]+"', page)
    # A fresh nonce for every response.
    again = client.get(portal_url("flexinform", f"/requests/{ref}"))
    assert nonce not in again.headers["Content-Security-Policy"]
