"""Tenant isolation: one vendor's data is invisible and untouchable from another, even by id."""

import pytest
from sqlalchemy import delete, func, select, update

from app.accounts.models import User
from app.accounts.users import create_user
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.scoping import TenantScopeError, all_tenants, tenant_scope
from app.tickets.models import Ticket
from app.tickets.services import create_ticket

# Automatic tenant scoping rewrites SQL: checked on each engine.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def two_tenants(app, make_tenant):
    a = make_tenant("flexinform")
    b = make_tenant("targito")
    ids = {}
    with app.app_context():
        for tenant in (a, b):
            with tenant_scope(tenant.id):
                user = create_user(f"same@{'example.com'}", name=tenant.slug, password="secret-password-1")
                db.session.flush()
                request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
                ticket = create_ticket(request_type=request_type, requester=user, summary=f"{tenant.slug} problem")
                db.session.commit()
                ids[tenant.slug] = {"tenant": tenant.id, "user": user.id, "ticket": ticket.id}
    return ids


def test_the_same_email_at_two_vendors_is_two_accounts(app, two_tenants):
    with app.app_context(), all_tenants():
        users = db.session.scalars(select(User).where(User.email == "same@example.com")).all()
    assert len(users) == 2 and len({u.tenant_id for u in users}) == 2


def test_objects_of_another_tenant_are_invisible_even_by_id(app, two_tenants):
    a, b = two_tenants["flexinform"], two_tenants["targito"]
    with app.app_context():
        with tenant_scope(b["tenant"]):
            assert db.session.get(Ticket, a["ticket"]) is None
            assert db.session.get(User, a["user"]) is None
            assert db.session.execute(select(Ticket).where(Ticket.id == a["ticket"])).first() is None
            summaries = db.session.scalars(select(Ticket.summary)).all()
            assert summaries == ["targito problem"]
            # Joins and aggregates are scoped too.
            joined = db.session.execute(
                select(func.count()).select_from(Ticket).join(User, Ticket.requester_id == User.id)
            ).scalar()
            assert joined == 1


def test_bulk_update_and_delete_touch_only_the_current_tenant(app, two_tenants):
    with app.app_context():
        with tenant_scope(two_tenants["targito"]["tenant"]):
            db.session.execute(update(Ticket).values(summary="changed"))
            db.session.execute(delete(User).where(User.email == "nobody@example.com"))
            db.session.commit()
        with tenant_scope(two_tenants["flexinform"]["tenant"]):
            assert db.session.scalars(select(Ticket.summary)).all() == ["flexinform problem"]


def test_querying_tenant_data_without_a_tenant_is_refused(app, two_tenants):
    with app.app_context():
        with pytest.raises(TenantScopeError):
            db.session.execute(select(Ticket)).all()
        with pytest.raises(TenantScopeError):
            db.session.get(User, two_tenants["flexinform"]["user"])


def test_writing_a_row_of_another_tenant_is_refused(app, two_tenants):
    with app.app_context():
        with tenant_scope(two_tenants["targito"]["tenant"]):
            db.session.add(User(email="intruder@example.com", tenant_id=two_tenants["flexinform"]["tenant"]))
            with pytest.raises(TenantScopeError):
                db.session.flush()
            db.session.rollback()
        with pytest.raises(TenantScopeError):
            db.session.add(User(email="nobody@example.com"))
            db.session.flush()
        db.session.rollback()


def test_new_rows_belong_to_the_current_tenant(app, two_tenants):
    with app.app_context():
        with tenant_scope(two_tenants["targito"]["tenant"]):
            user = create_user("new@example.com", password="secret-password-1")
            db.session.commit()
            assert user.tenant_id == two_tenants["targito"]["tenant"]


def test_explicit_cross_tenant_access_sees_everything(app, two_tenants):
    with app.app_context(), all_tenants():
        assert db.session.execute(select(func.count()).select_from(Ticket)).scalar() == 2
