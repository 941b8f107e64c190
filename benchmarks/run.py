"""Run the benchmarks described in benchmarks/README.md."""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import event, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

DEMO = ("flexinform", "crmservice", "festum", "targito", "exea")


def main() -> int:
    folder = Path(tempfile.mkdtemp(prefix="portal-bench-"))
    url = os.environ.get("BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite3'}")
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "PORTAL_DOMAIN": "bench.test",
            "STORAGE_URL": f"file://{folder / 'files'}",
            "MAIL_URL": f"maildir://{folder / 'outbox'}",
            "TENANT_CACHE_SECONDS": 5,
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "WTF_CSRF_ENABLED": False,
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    runner = app.test_cli_runner()
    for slug in DEMO:
        runner.invoke(args=["tenants", "sync", slug])
    failures = 0
    client = app.test_client()

    # portal_home
    n = 600
    start = time.perf_counter()
    for i in range(n):
        response = client.get(f"http://{DEMO[i % len(DEMO)]}.bench.test/")
        assert response.status_code == 200
    rate = n / (time.perf_counter() - start)
    failures += _report("portal_home", rate, "req/s", rate >= 300, ">= 300")

    # portal_home_queries
    with app.app_context():
        statements = []
        listener = lambda *args: statements.append(args[2])  # noqa: E731
        event.listen(db.engine, "before_cursor_execute", listener)
        client.get("http://targito.bench.test/")
        event.remove(db.engine, "before_cursor_execute", listener)
    failures += _report("portal_home_queries", len(statements), "statements", len(statements) <= 3, "<= 3")

    # ticket_create
    from app.accounts.users import create_user
    from app.catalog.models import RequestType
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope
    from app.tickets.services import create_ticket

    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "exea")).scalar_one()
        with tenant_scope(tenant.id):
            user = create_user("bench@example.com")
            db.session.commit()
            request_type = db.session.scalars(select(RequestType)).first()
            n = 300
            start = time.perf_counter()
            for i in range(n):
                create_ticket(request_type=request_type, requester=user, summary=f"Benchmark {i}")
                db.session.commit()
            rate = n / (time.perf_counter() - start)
    failures += _report("ticket_create", rate, "/s", rate >= 100, ">= 100")
    failures += _bench_lists(app)
    return 1 if failures else 0


def _bench_lists(app) -> int:
    """The request list and an agent queue with 20,000 requests in the tenant."""
    import random
    from datetime import timedelta

    from sqlalchemy import insert

    from app.accounts.users import create_user
    from app.catalog.models import RequestType
    from app.db_types import utcnow
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope
    from app.tickets.models import Ticket, TicketSequence
    from app.workflow.models import Status

    n = 20_000
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "festum")).scalar_one()
        with tenant_scope(tenant.id):
            agent = create_user("agent@bench.test", role="agent", password="bench-password-1", verified=True)
            customer = create_user("customer@bench.test", password="bench-password-1", verified=True)
            db.session.commit()
            request_type = db.session.scalars(select(RequestType)).first()
            statuses = db.session.scalars(select(Status.id)).all()
            now = utcnow()
            rows = [
                dict(
                    tenant_id=tenant.id,
                    number=i,
                    reference=f"FES-{i}",
                    portal_id=request_type.portal_id,
                    request_type_id=request_type.id,
                    status_id=random.choice(statuses),
                    summary=f"Pyyntö {i}",
                    description="",
                    requester_id=customer.id if i % 10 == 0 else agent.id,
                    assignee_id=None if i % 3 else agent.id,
                    channel="portal",
                    status_changed_at=now,
                    created_at=now - timedelta(minutes=i),
                    updated_at=now - timedelta(minutes=i),
                )
                for i in range(1, n + 1)
            ]
            db.session.execute(insert(Ticket), rows)
            db.session.execute(
                TicketSequence.__table__.update().where(TicketSequence.tenant_id == tenant.id).values(last_number=n)
            )
            db.session.commit()
    client = app.test_client()
    failures = 0
    for who, url, name in (
        ("customer@bench.test", "/requests?status=all", "list_customer_20k"),
        ("agent@bench.test", "/agent/queues/open", "queue_agent_20k"),
    ):
        client.post("http://festum.bench.test/login", data={"email": who, "password": "bench-password-1"})
        client.get(f"http://festum.bench.test{url}")
        start = time.perf_counter()
        for _ in range(20):
            assert client.get(f"http://festum.bench.test{url}").status_code == 200
        ms = (time.perf_counter() - start) / 20 * 1000
        failures += _report(name, ms, "ms/page", ms <= 250, "<= 250")
        client.post("http://festum.bench.test/logout")
    return failures


def _report(name, value, unit, ok, target) -> int:
    print(f"{name} {value:.1f} {unit} (target {target}){'' if ok else '  MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
