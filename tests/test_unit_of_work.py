"""One unit of work per request, job and command (app.unit_of_work): the boundary commits once, an
error answer or a failed command leaves nothing half-written, and a savepoint keeps all or nothing."""

import pytest
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.extensions import db
from app.security.models import SecurityEvent
from app.tenancy.scoping import tenant_scope
from app.unit_of_work import after_commit, atomic, unit
from tests.conftest import portal_url

# Savepoints and commits are where the engines differ (pysqlite opens its transactions lazily).
pytestmark = pytest.mark.both_databases


def _organizations(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return sorted(db.session.scalars(select(Organization.name)))


def test_a_failed_block_leaves_no_trace_and_the_others_are_committed(app, make_tenant):
    tenant = make_tenant("festum")
    ran = []
    with app.app_context(), tenant_scope(tenant.id), unit():
        with atomic():
            db.session.add(Organization(name="Kept"))
            after_commit(lambda: ran.append("kept"))
        with pytest.raises(RuntimeError), atomic():
            db.session.add(Organization(name="Refused"))
            after_commit(lambda: ran.append("refused"))
            db.session.flush()
            raise RuntimeError("refused")
        with atomic():
            db.session.add(Organization(name="Also kept"))
        assert ran == []  # nothing runs before the unit commits
    assert ran == ["kept"]
    assert _organizations(app, tenant) == ["Also kept", "Kept"]


def test_a_savepoint_commits_nothing_before_the_unit_does(app, make_tenant):
    """On SQLite a SAVEPOINT before any write used to open the transaction itself, and its RELEASE
    committed the block at once: a later rollback of the request could not undo it."""
    tenant = make_tenant("festum")
    ran = []
    with app.app_context(), tenant_scope(tenant.id):
        db.session.execute(select(Organization.id)).all()  # a read first, as a view does
        with atomic():
            db.session.add(Organization(name="Never committed"))
            after_commit(lambda: ran.append("committed"))
        db.session.rollback()
    assert _organizations(app, tenant) == []
    assert ran == []


def test_an_error_answer_changes_nothing(app, client, make_tenant, make_user, login, outbox):
    """An admin asks for their own address to change and, in the same form, for their own role: the
    role is refused (422), and the address change asked for first is not kept either."""
    tenant = make_tenant("festum")
    admin_id = make_user(tenant, "admin@festum.test", role="admin", name="Anna Admin", locale="en")
    login("festum", "admin@festum.test")
    before = outbox()
    response = client.post(
        portal_url("festum", f"/admin/users/{admin_id}"),
        data={"name": "Anna Admin", "email": "anna@uusi.example", "role": "agent"},
    )
    assert response.status_code == 422
    assert "You cannot change your own role." in response.get_data(as_text=True)
    assert outbox() == before  # neither the confirmation link nor the notice
    with app.app_context(), tenant_scope(tenant.id):
        kinds = set(db.session.scalars(select(SecurityEvent.kind)))
        user = db.session.get(User, admin_id)
        assert (user.email, user.role) == ("admin@festum.test", "admin")
    assert "email_change_requested" not in kinds


def test_a_failed_login_is_kept_although_the_answer_is_an_error(app, make_tenant, make_user, login):
    tenant = make_tenant("festum")
    make_user(tenant, "liisa@yritys.fi")
    assert login("festum", "liisa@yritys.fi", password="wrong-password").status_code == 422
    with app.app_context(), tenant_scope(tenant.id):
        assert "login_failed" in set(db.session.scalars(select(SecurityEvent.kind)))


def test_a_command_that_fails_halfway_leaves_nothing_written(app, monkeypatch):
    """`flask demo seed` over two tenants, failing at the second: the first tenant's demo people and
    requests are not kept either (the command is one unit of work)."""
    from app.dev import cli as dev_cli
    from app.tickets.models import Ticket

    runner = app.test_cli_runner()
    assert runner.invoke(args=["tenants", "sync", "festum"]).exit_code == 0
    assert runner.invoke(args=["tenants", "sync", "targito"]).exit_code == 0
    seed_requests, calls = dev_cli._seed_requests, []

    def fail_at_the_second_tenant(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("the disk is full")
        return seed_requests(*args, **kwargs)

    monkeypatch.setattr(dev_cli, "_seed_requests", fail_at_the_second_tenant)
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code != 0 and len(calls) == 2
    from app.tenancy.scoping import all_tenants

    with app.app_context(), all_tenants():
        assert db.session.scalars(select(User)).all() == []
        assert db.session.scalars(select(Ticket)).all() == []
