"""The application factory."""

from __future__ import annotations

import logging
import os

from flask import Flask

from app.config import load_settings
from app.db_types import render_migration_type
from flask_babel import lazy_gettext as _l


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_relative_config=True, subdomain_matching=True)
    os.makedirs(app.instance_path, exist_ok=True)
    app.config.update(load_settings(app.instance_path, config))
    # <int:...> in URLs stops at the database's id range: a larger id is a 404, not an overflow.
    from app.security.params import BoundedIntegerConverter

    app.url_map.converters["int"] = BoundedIntegerConverter
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("app").setLevel(logging.INFO)

    from app.extensions import csrf, db, login_manager, migrate
    from app.i18n.babel import babel
    from app.i18n.selection import select_locale, select_timezone
    from app.tenancy.scoping import install_scoping

    db.init_app(app)
    from app import unit_of_work

    unit_of_work.init_app(app)  # first after_request handler: it runs last and commits once
    migrate.init_app(
        app,
        db,
        directory=os.path.join(os.path.dirname(app.root_path), "migrations"),
        render_as_batch=True,
        compare_type=True,
        render_item=render_migration_type,
    )
    csrf.init_app(app)
    _init_rate_limits(app)
    login_manager.init_app(app)
    login_manager.login_view = "accounts.login"
    login_manager.login_message = _l("Please log in to see this page.")
    login_manager.login_message_category = "warning"
    babel.init_app(app, locale_selector=select_locale, timezone_selector=select_timezone)
    install_scoping()
    _import_models()
    from app.outbox import services as outbox

    outbox.init_app(app)  # after commit, the delivery of the e-mails a transaction queued is enqueued
    register_definition_sections()

    from app.tenancy import resolution

    resolution.init_app(app)

    from app import templating

    templating.init_app(app)
    from app.security import headers

    headers.init_app(app)
    _init_reactions(app)

    from app.accounts.views import bp as accounts_bp
    from app.admin.views import bp as admin_bp
    from app.agent.views import bp as agent_bp
    from app.health.views import bp as health_bp
    from app.helpcenter.views import bp as helpcenter_bp
    from app.mailin.views import bp as mailin_bp, mailgate_bp
    from app.notifications.views import bp as notifications_bp
    from app.operator.views import bp as operator_bp
    from app.portal.views import bp as portal_bp, static_bp
    from app.tickets.views import bp as tickets_bp

    app.register_blueprint(health_bp)
    app.register_blueprint(operator_bp)
    app.register_blueprint(portal_bp)
    app.register_blueprint(accounts_bp)
    app.register_blueprint(admin_bp)
    app.register_blueprint(tickets_bp)
    app.register_blueprint(helpcenter_bp)
    app.register_blueprint(agent_bp)
    app.register_blueprint(notifications_bp)
    app.register_blueprint(mailgate_bp)
    app.register_blueprint(mailin_bp)
    app.register_blueprint(static_bp)

    from app.errors import init_app as init_errors

    init_errors(app)

    from app.dev.cli import demo_cli, dev_cli
    from app.tenancy.cli import tenants_cli

    app.cli.add_command(tenants_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(dev_cli)
    from app.automation.cli import automation_cli
    from app.automation.templating import init_app as init_automation_templates

    app.cli.add_command(automation_cli)
    init_automation_templates(app)
    from app.mailin.cli import mail_cli

    app.cli.add_command(mail_cli)
    from app.helpcenter.cli import helpcenter_cli

    app.cli.add_command(helpcenter_cli)
    return app


def _init_rate_limits(app: Flask) -> None:
    """Flask-Limiter on the app's Redis (REDIS_URL); ProxyFix when behind a proxy (PROXY_FIX_*).

    Without a proxy, X-Forwarded-For is anyone's to send: it is trusted only for the configured
    number of hops, so that rate limits count the real client and not the proxy.
    """
    from werkzeug.middleware.proxy_fix import ProxyFix

    from app.extensions import limiter

    hops = {name: int(app.config.get(f"PROXY_FIX_X_{name.upper()}") or 0) for name in ("for", "proto", "host")}
    if any(hops.values()):
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops["for"], x_proto=hops["proto"], x_host=hops["host"])
    redis_url = app.config.get("REDIS_URL")
    if redis_url and redis_url.startswith("unix://"):
        redis_url = "redis+unix://" + redis_url[len("unix://") :]
    # Without REDIS_URL (a development machine) the limits live in this process's memory.
    app.config.setdefault("RATELIMIT_STORAGE_URI", redis_url or "memory://")
    app.config.setdefault(
        "RATELIMIT_STORAGE_OPTIONS",
        {"socket_connect_timeout": 1, "socket_timeout": 1, "wrap_exceptions": True} if redis_url else {},
    )
    app.config.setdefault("RATELIMIT_KEY_PREFIX", "portal")
    limiter.init_app(app)


def register_definition_sections() -> None:
    """Each module's part of the tenant definition (validate / sync / export), in one explicit list;
    ``app.tenancy`` runs them in their order without knowing any of them."""
    from app.agent.definition import SECTION as queues
    from app.automation.definition import SECTION as automation
    from app.catalog.definition import SECTION as catalog
    from app.tenancy.sections import register_section
    from app.tickets.definition import SECTION as requests
    from app.workflow.definition import SECTION as workflow

    for section in (requests, workflow, catalog, automation, queues):
        register_section(section)


def _init_reactions(app: Flask) -> None:
    """Connect the modules that react to what happens to a request (``app.tickets.events``): who is
    notified, the SLA clocks and automation rules, the search index. Explicit, per app: importing
    a module connects nothing."""
    from app.automation import reactions as automation_reactions
    from app.helpcenter import search
    from app.notifications import planning, services as notifications

    planning.init_app(app)
    notifications.init_app(app)  # an e-mail that will never arrive is shown on its request's timeline
    automation_reactions.init_app(app)
    search.init_app(app)


def _import_models() -> None:
    """Register every table with the metadata (for Alembic and relationships)."""
    import app.accounts.models  # noqa: F401
    import app.admin.models  # noqa: F401
    import app.agent.models  # noqa: F401
    import app.automation.models  # noqa: F401
    import app.catalog.models  # noqa: F401
    import app.helpcenter.models  # noqa: F401
    import app.mailin.models  # noqa: F401
    import app.notifications.models  # noqa: F401
    import app.outbox.models  # noqa: F401
    import app.security.models  # noqa: F401
    import app.tenancy.models  # noqa: F401
    import app.tickets.models  # noqa: F401
    import app.workflow.models  # noqa: F401
