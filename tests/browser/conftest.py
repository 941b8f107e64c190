"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

Test tools may not download browsers here, so Playwright launches the system Chromium through
``executable_path``. ``make test`` installs it when missing (scripts/ensure-chromium).
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import threading
import warnings
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.caching import clear_all_caches
from tests.conftest import DEMO_TENANTS, _config, _free_port, _prepare_schema, empty_database

CHROMIUM_FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium_path() -> str | None:
    for candidate in (
        os.environ.get("CHROMIUM_PATH"),
        "/usr/bin/chromium",
        shutil.which("chromium"),
        shutil.which("chromium-browser"),
    ):
        if candidate and os.path.exists(candidate):
            return candidate
    return None


@pytest.fixture(scope="session")
def browser():
    path = _chromium_path()
    if path is None:
        pytest.skip("Chromium is not installed and could not be installed here (see scripts/ensure-chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=path, headless=True, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()


# Records what the Content-Security-Policy blocked (an inline style or script, a foreign source):
# `check(page)` fails on any, since Chromium enforces the policy and the page would be broken.
CSP_LISTENER = """window.__cspViolations = [];
document.addEventListener('securitypolicyviolation',
  (e) => window.__cspViolations.push(e.violatedDirective + ' blocked ' + (e.blockedURI || 'inline') + ' at ' + e.sourceFile + ':' + e.lineNumber));"""


def csp_violations(page) -> list[str]:
    return page.evaluate("window.__cspViolations || []")


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1280, "height": 800})
    context.add_init_script(CSP_LISTENER)
    page = context.new_page()
    yield page
    context.close()


class LiveServer:
    def __init__(self, app, port):
        self.app, self.port = app, port

    def url(self, slug: str | None = None, path: str = "/") -> str:
        host = f"{slug}.localhost" if slug else "localhost"
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def live_server(redis_server):
    """The whole app on 127.0.0.1 with the five demo tenants, as `make run` serves it.

    On a database of its own: it lives for the whole session, so on the shared SQLite file its
    tenants would still be there for the next test that builds the demo tenants itself."""
    sqlite_url = f"sqlite:///{Path(tempfile.mkdtemp(prefix='portal-browser-')) / 'live.sqlite3'}"
    _prepare_schema(sqlite_url)
    port = _free_port()
    app = create_app(
        _config(
            sqlite_url, PORTAL_DOMAIN=f"localhost:{port}", REDIS_URL=redis_server.connection_url, WTF_CSRF_ENABLED=True
        )
    )
    clear_all_caches()
    runner = app.test_cli_runner()
    for slug in DEMO_TENANTS:
        result = runner.invoke(args=["tenants", "sync", slug])
        assert result.exit_code == 0, result.output
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield LiveServer(app, port)
    server.shutdown()
    empty_database(app)


# --- Accessibility: axe-core (tests/browser/package.json, installed by scripts/ensure-axe) -------

AXE_PATH = Path(__file__).with_name("node_modules") / "axe-core" / "axe.min.js"
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
_AXE_MISSING = (
    "axe-core is not installed (npm missing or `npm ci` failed in tests/browser, see "
    "scripts/ensure-axe): the accessibility checks were SKIPPED"
)


def format_violations(violations: list[dict]) -> str:
    lines = []
    for violation in violations:
        lines.append(f"- {violation['id']} ({violation.get('impact')}): {violation['help']}")
        for node in violation["nodes"][:8]:
            lines.append(
                f"    {' '.join(map(str, node['target']))}: {node.get('failureSummary', '').splitlines()[-1:]}"
            )
    return "\n".join(lines)


@pytest.fixture(scope="session")
def axe_source():
    if not AXE_PATH.exists():
        warnings.warn(pytest.PytestWarning(_AXE_MISSING))
        print(f"\nwarning: {_AXE_MISSING}")
        return None
    return AXE_PATH.read_text(encoding="utf-8")


@pytest.fixture(scope="session")
def assert_accessible(axe_source):
    """`assert_accessible(page)`: axe-core's WCAG 2.1 A/AA rules find nothing on the page."""
    skipped = []

    def check(page, context: str | None = None):
        if axe_source is None:
            skipped.append(page.url)
            return
        if not page.evaluate("typeof window.axe === 'object'"):
            # Evaluated by the browser's automation channel: the pages' CSP forbids inline <script>.
            page.evaluate(axe_source + "\n;undefined")
        result = page.evaluate(
            "async (tags) => JSON.stringify((await axe.run(document, {runOnly: {type: 'tag', values: tags},"
            " resultTypes: ['violations']})).violations)",
            WCAG_TAGS,
        )
        violations = json.loads(result)
        assert not violations, (
            f"axe-core found {len(violations)} WCAG 2.1 A/AA violation(s) on "
            f"{context or page.url}:\n{format_violations(violations)}"
        )

    yield check
    if skipped:
        print(f"\nwarning: {_AXE_MISSING} on {len(skipped)} page(s)")


def assert_no_horizontal_scroll(page, width: int = 360):
    """At phone width the page does not scroll sideways."""
    previous = page.viewport_size
    page.set_viewport_size({"width": width, "height": 740})
    try:
        scroll_width = page.evaluate("document.documentElement.scrollWidth")
        if scroll_width > width:
            wide = page.evaluate(
                """(w) => [...document.querySelectorAll('body *')]
                .filter(el => el.getBoundingClientRect().right > w + 0.5)
                .slice(0, 8).map(el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
                  + (el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\\s+/).join('.') : '')
                  + ' right=' + Math.round(el.getBoundingClientRect().right))""",
                width,
            )
            raise AssertionError(f"{page.url} scrolls sideways at {width} px (scrollWidth {scroll_width}): {wide}")
    finally:
        page.set_viewport_size(previous)


# README's screenshots are refreshed with `UPDATE_SCREENSHOTS=1 make test`; other runs write theirs to a
# temporary folder, so that a test run never changes the checkout.
SCREENSHOTS = (
    Path(__file__).resolve().parents[2] / "docs" / "screenshots"
    if os.environ.get("UPDATE_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "portal-screenshots"
)


def save_screenshot(page, name: str):
    """A 1280x800 PNG of the page (the visible viewport), for README (see SCREENSHOTS)."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"))


# --- Journeys: the demo users of `make run`, logged in once per session --------------------------

DEMO_PASSWORD = "demo-password"
# The browser speaks the vendor's language, as its customers' browsers do.
BROWSER_LOCALES = {"flexinform": "hu-HU", "crmservice": "fi-FI", "festum": "fi-FI", "targito": "cs-CZ", "exea": "pl-PL"}


@pytest.fixture(scope="session")
def demo_data(live_server):
    """`flask demo seed` on the live server: the demo users, organizations and sample requests."""
    result = live_server.app.test_cli_runner().invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    return live_server


class Portal:
    """Pages logged in as a demo user; each login happens once per session (its cookies are reused)."""

    def __init__(self, browser, live_server):
        self.browser, self.live_server, self._states, self._contexts = browser, live_server, {}, []

    def url(self, slug, path="/"):
        return self.live_server.url(slug, path)

    def new_page(self, slug: str, state=None):
        context = self.browser.new_context(
            locale=BROWSER_LOCALES.get(slug, "en-US"), viewport={"width": 1280, "height": 800}, storage_state=state
        )
        context.set_default_timeout(10_000)
        context.add_init_script(CSP_LISTENER)
        self._contexts.append(context)
        return context.new_page()

    def page_as(self, slug: str, email: str, password: str = DEMO_PASSWORD):
        if "@" not in email:
            email = f"{email}@{slug}.test"
        key = (slug, email)
        if key not in self._states:
            page = self.new_page(slug)
            page.goto(self.url(slug, "/login"))
            page.fill("#email", email)
            page.fill("#password", password)
            page.click("main form button.btn-primary")
            assert page.locator("form[action='/logout']").count() == 1, f"{email} could not log in at {slug}"
            self._states[key] = page.context.storage_state()
            return page
        page = self.new_page(slug, self._states[key])
        page.goto(self.url(slug))
        return page

    def close(self):
        for context in self._contexts:
            context.close()
        self._contexts.clear()


@pytest.fixture
def portal(browser, demo_data):
    portal = Portal(browser, demo_data)
    yield portal
    portal.close()


@pytest.fixture
def check(assert_accessible):
    """`check(page)`: the page has no axe-core violations and no sideways scroll at 360 px."""

    def run(page, *, narrow: bool = True):
        page.wait_for_load_state()
        assert not csp_violations(page), f"the Content-Security-Policy blocked on {page.url}: {csp_violations(page)}"
        assert_accessible(page)
        if narrow:
            assert_no_horizontal_scroll(page)

    return run


def outbox_messages(live_server, recipient: str):
    """Outbox rows to one recipient, oldest first."""
    from sqlalchemy import select

    from app.extensions import db
    from app.outbox.models import OutboxMessage
    from app.tenancy.scoping import all_tenants

    with live_server.app.app_context(), all_tenants():
        rows = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient).order_by(OutboxMessage.id)
        ).all()
        db.session.expunge_all()
        return rows
