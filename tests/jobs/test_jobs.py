"""RQ jobs run inside the app, in their tenant's scope, against a real Redis-protocol server."""

import pytest
from rq import SimpleWorker
from sqlalchemy import func, select

from app.accounts.models import User
from app.accounts.users import create_user
from app.extensions import db
from app.jobs import AppJob, enqueue, get_queue
from app.tenancy.scoping import tenant_scope

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits


def count_users_job():
    """A job that reads tenant data: it only works inside a tenant scope."""
    return db.session.execute(select(func.count()).select_from(User)).scalar()


def create_user_job(email):
    create_user(email)


def failing_job(email):
    create_user(email)
    db.session.flush()
    raise RuntimeError("boom")


def _work(app):
    with app.app_context():
        worker = SimpleWorker([get_queue()], connection=get_queue().connection, job_class=AppJob)
        worker.work(burst=True)


def test_a_job_sees_only_its_tenant(app, make_tenant):
    a, b = make_tenant("targito"), make_tenant("exea")
    with app.app_context():
        for tenant, n in ((a, 2), (b, 1)):
            with tenant_scope(tenant.id):
                for i in range(n):
                    create_user(f"user{i}@example.com")
                db.session.commit()
        job_a = enqueue(count_users_job, tenant_id=a.id)
        job_b = enqueue(count_users_job, tenant_id=b.id)
    _work(app)
    with app.app_context():
        assert job_a.latest_result().return_value == 2
        assert job_b.latest_result().return_value == 1


def test_a_job_commits_its_work(app, make_tenant):
    tenant = make_tenant("festum")
    with app.app_context():
        enqueue(create_user_job, "new@example.com", tenant_id=tenant.id)
    _work(app)
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(User.email)).all() == ["new@example.com"]


def test_a_failing_job_changes_nothing(app, make_tenant):
    tenant = make_tenant("festum")
    with app.app_context():
        job = enqueue(failing_job, "half@example.com", tenant_id=tenant.id)
    _work(app)
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(User.email)).all() == []
        assert job.get_status(refresh=True) == "failed"
