"""Browser tests: Debian's Chromium driven by Playwright against the app served on loopback.

Test tools may not download browsers here, so Playwright launches the system Chromium through
``executable_path``. ``make test`` installs it when missing (scripts/ensure-chromium).
"""
from __future__ import annotations

import os
import shutil
import threading

import pytest
from werkzeug.serving import make_server

from app import create_app
from app.caching import clear_all_caches
from tests.conftest import DEMO_TENANTS, _config, _free_port, _prepare_schema, empty_database

CHROMIUM_FLAGS = [
    "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


def _chromium_path() -> str | None:
    for candidate in (os.environ.get("CHROMIUM_PATH"), "/usr/bin/chromium", shutil.which("chromium"),
                      shutil.which("chromium-browser")):
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


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US")
    page = context.new_page()
    yield page
    context.close()


class LiveServer:
    def __init__(self, app, port):
        self.app, self.port = app, port

    def url(self, slug: str | None = None, path: str = "/") -> str:
        host = f"{slug}.localhost" if slug else "localhost"
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="module")
def live_server(sqlite_url, redis_server):
    """The whole app on 127.0.0.1 with the five demo tenants, as `make run` serves it."""
    _prepare_schema(sqlite_url)
    port = _free_port()
    app = create_app(_config(sqlite_url, PORTAL_DOMAIN=f"localhost:{port}", REDIS_URL=redis_server.connection_url,
                             WTF_CSRF_ENABLED=True))
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
