"""Development commands used by ``make run``: demo data and the all-in-one dev server."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import click
import yaml
from flask import current_app
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from app.accounts.models import Operator, User
from app.accounts.hashing import hash_password
from app.accounts.organizations import add_membership, get_or_create_organization
from app.accounts.users import create_user
from app.extensions import db
from app.i18n.cli import OperatorGroup
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tenancy.services import list_tenants

DEMO_PASSWORD = "demo-password"
DEMO_USERS = (("customer", "customer"), ("orgadmin", "customer"), ("agent", "agent"), ("admin", "admin"))

demo_cli = OperatorGroup("demo", help="Demo data for development (never in production).")
dev_cli = OperatorGroup("dev", help="Run the whole platform locally.")


def _refuse_outside_development() -> None:
    if current_app.config["ENV"] not in ("development", "testing"):
        raise click.ClickException(_("demo data is only for development (PORTAL_ENV=development)"))


@demo_cli.command("seed")
def seed_command():
    """Create the demo users of every tenant (password: demo-password) and the platform operator."""
    _refuse_outside_development()
    tenants_dir = Path(current_app.config["TENANTS_DIR"])
    for tenant in list_tenants():
        with tenant_scope(tenant.id):
            users = {}
            for local, role in DEMO_USERS:
                email = f"{local}@{tenant.slug}.test"
                user = db.session.execute(select(User).where(User.email == email)).scalar_one_or_none()
                if user is None:
                    user = create_user(
                        email,
                        name=_demo_name(local, tenant.default_locale),
                        role=role,
                        password=DEMO_PASSWORD,
                        verified=True,
                    )
                    db.session.flush()
                users[local] = user
            demo_file = tenants_dir / tenant.slug / "demo.yaml"
            demo = yaml.safe_load(demo_file.read_text(encoding="utf-8")) or {} if demo_file.exists() else {}
            for org in demo.get("organizations", []):
                organization = get_or_create_organization(org["name"])
                for member in org.get("members", []):
                    add_membership(users[member["user"]], organization, is_admin=bool(member.get("admin")))
            created = _seed_requests(tenant, users, demo.get("requests", []))
            from app.helpcenter.search import index_missing_tickets
            from app.helpcenter.services import seed_demo_articles

            articles = seed_demo_articles(tenant, users["agent"], demo.get("articles", []))
            index_missing_tickets()  # requests raised before the help center existed
        parts = [
            _(
                "%(slug)s: demo users %(users)s",
                slug=tenant.slug,
                users=", ".join(f"{local}@{tenant.slug}.test" for local, _role in DEMO_USERS),
            )
        ]
        if created:
            parts.append(ngettext("%(num)d sample request", "%(num)d sample requests", created))
        if articles:
            parts.append(ngettext("%(num)d help article", "%(num)d help articles", articles))
        click.echo("; ".join(parts))
    with all_tenants():
        operator = db.session.execute(
            select(Operator).where(Operator.email == "operator@portal.test")
        ).scalar_one_or_none()
        if operator is None:
            db.session.add(
                Operator(
                    email="operator@portal.test", name="Platform operator", password_hash=hash_password(DEMO_PASSWORD)
                )
            )
    click.echo(
        _(
            "platform: %(email)s; every demo password is '%(password)s'",
            email="operator@portal.test",
            password=DEMO_PASSWORD,
        )
    )


def _seed_requests(tenant, users: dict, items: list) -> int:
    """Sample requests for a living demo portal, made through the same services as the portal.

    Only for a tenant without requests, so running `make run` again adds nothing."""
    import io
    from datetime import timedelta

    from flask import g
    from werkzeug.datastructures import FileStorage

    from app.accounts.models import Membership
    from app.catalog.models import Portal, RequestType
    from app.db_types import utcnow
    from app.tenancy.resolution import get_tenant_context
    from app.tickets.models import Comment, Ticket, TicketEvent
    from app.tickets.conversation import add_comment
    from app.tickets.services import raise_request
    from app.workflow.models import Status
    from app.tickets.transitions import move_to_status

    if not items or db.session.execute(select(Ticket.id).limit(1)).first() is not None:
        return 0
    from app.notifications.planning import muted_notifications

    domain = current_app.config["PORTAL_DOMAIN"]
    # The sample history is "in the past": nobody is notified of it.
    with current_app.test_request_context(f"http://{tenant.slug}.{domain}/"), muted_notifications(db.session):
        g.tenant = get_tenant_context(tenant.slug)
        for item in items:
            portal_key, type_key = item["type"].split("/", 1)
            request_type = db.session.execute(
                select(RequestType)
                .join(Portal, RequestType.portal_id == Portal.id)
                .where(Portal.key == portal_key, RequestType.key == type_key)
            ).scalar_one()
            requester = users[item.get("requester", "customer")]
            share = []
            if item.get("share_with_organization"):
                first = db.session.scalars(
                    select(Membership.organization_id).where(Membership.user_id == requester.id)
                ).first()
                share = [first] if first else []
            uploads = []
            if item.get("attachment"):
                uploads = [
                    FileStorage(
                        io.BytesIO(item["attachment"]["text"].encode("utf-8")),
                        filename=item["attachment"]["name"],
                        content_type="text/plain",
                    )
                ]
            ticket = raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=requester,
                created_by=requester,
                values={
                    "summary": item["summary"],
                    "description": item.get("description", ""),
                    **item.get("fields", {}),
                },
                uploads=uploads,
                share_with_organization_ids=share,
            )
            for comment in item.get("comments", []):
                add_comment(
                    ticket, users[comment["author"]], comment["body"], is_internal=bool(comment.get("internal"))
                )
            target = db.session.execute(select(Status).where(Status.key == item["status"])).scalar_one()
            if target.id != ticket.status_id:
                move_to_status(ticket, target, actor_user=users["agent"])
            # Spread the history over the request's age, as if it had happened over those days.
            created = utcnow() - timedelta(days=int(item.get("age_days", 1)))
            events = db.session.scalars(
                select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
            ).all()
            comments = db.session.scalars(
                select(Comment).where(Comment.ticket_id == ticket.id).order_by(Comment.id)
            ).all()
            step = (utcnow() - created) / (len(events) + 1)
            for n, event in enumerate(events):
                event.created_at = created + step * n
            for n, comment in enumerate(comments, start=1):
                comment.created_at = created + step * n
            ticket.created_at = created
            ticket.updated_at = ticket.status_changed_at = created + step * len(events)
    return len(items)


_DEMO_NAMES = {
    "hu": {"customer": "Kiss Anna", "orgadmin": "Nagy Péter", "agent": "Szabó Judit", "admin": "Tóth Gábor"},
    "fi": {
        "customer": "Anna Virtanen",
        "orgadmin": "Mikko Korhonen",
        "agent": "Laura Mäkinen",
        "admin": "Juha Nieminen",
    },
    "cs": {"customer": "Jana Nováková", "orgadmin": "Petr Svoboda", "agent": "Lucie Dvořáková", "admin": "Tomáš Černý"},
    "pl": {
        "customer": "Anna Kowalska",
        "orgadmin": "Piotr Nowak",
        "agent": "Katarzyna Wiśniewska",
        "admin": "Tomasz Wójcik",
    },
    "en": {"customer": "Alice Smith", "orgadmin": "Oliver Brown", "agent": "Emma Jones", "admin": "James Taylor"},
}


def _demo_name(local: str, locale: str) -> str:
    return _DEMO_NAMES.get(locale, _DEMO_NAMES["en"])[local]


@dev_cli.command("serve")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=None, type=int, help="Default: the port of PORTAL_DOMAIN.")
def serve_command(host, port):
    """Start Redis (embedded unless REDIS_URL is set), an RQ worker with its scheduler, and the web server."""
    from app.jobs import redis_url

    url = redis_url(current_app)
    domain = current_app.config["PORTAL_DOMAIN"]
    if port is None:
        port = int(domain.rsplit(":", 1)[1]) if ":" in domain else 80
    # The worker and rq cron run in the same posture (PORTAL_ENV) as this server, not the default one.
    env = dict(os.environ, REDIS_URL=url, PORTAL_ENV=current_app.config["ENV"])
    # A plain `kill` (SIGTERM) must stop the worker and rq cron too, as Ctrl-C does: without this
    # handler Python dies without running the `finally` below, and the two keep running on their own.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
    worker = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "rq"),
            "worker",
            "--with-scheduler",
            "--job-class",
            "app.jobs.AppJob",
            "--url",
            url,
            current_app.config["RQ_QUEUE"],
        ],
        env=env,
        cwd=str(Path(current_app.root_path).parent),
    )
    scheduler = None
    try:
        scheduler = subprocess.Popen(
            [str(Path(sys.executable).parent / "rq"), "cron", "app.jobs.schedule", "--url", url],
            env=env,
            cwd=str(Path(current_app.root_path).parent),
        )
        _serve(host, port, url, domain, worker, scheduler)
    finally:
        for process in (worker, scheduler):
            if process is not None:
                process.send_signal(signal.SIGTERM)
        for process in (worker, scheduler):
            try:
                if process is not None:
                    process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()


def _serve(host, port, url, domain, worker, scheduler) -> None:
    """Tell what runs where, then serve the portal until stopped."""
    click.echo(f"Redis: {url}")
    click.echo(
        _(
            "RQ worker with scheduler: pid %(worker)s; periodic jobs (rq cron): pid %(scheduler)s",
            worker=worker.pid,
            scheduler=scheduler.pid,
        )
    )
    click.echo(_("Portals:"))
    scheme = current_app.config["PREFERRED_URL_SCHEME"]
    with all_tenants():
        for tenant in list_tenants():
            click.echo(f"  {tenant.name:<14} {scheme}://{tenant.slug}.{domain}/")
    click.echo(
        _("Platform: %(url)s   health: %(health)s", url=f"{scheme}://{domain}/", health=f"{scheme}://{domain}/healthz")
    )
    click.echo(_("Outbox: %(url)s", url=current_app.config["MAIL_URL"]))
    from werkzeug.serving import run_simple

    run_simple(host, port, current_app._get_current_object(), threaded=True)
