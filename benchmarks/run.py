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
    app = create_app({"ENV": "testing", "DATABASE_URL": url, "PORTAL_DOMAIN": "bench.test",
                      "STORAGE_URL": f"file://{folder / 'files'}", "MAIL_URL": f"maildir://{folder / 'outbox'}",
                      "TENANT_CACHE_SECONDS": 5, "REDIS_URL": "redis://127.0.0.1:1/0"})
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
    from app.accounts.services import create_user
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
    return 1 if failures else 0


def _report(name, value, unit, ok, target) -> int:
    print(f"{name} {value:.1f} {unit} (target {target}){'' if ok else '  MISSED'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
