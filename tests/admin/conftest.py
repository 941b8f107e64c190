"""Helpers shared by the admin console tests."""

from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scoping import tenant_scope


def config_version(app, slug="targito"):
    """The tenant's configuration version: it changes on every applied edit, and only then."""
    with app.app_context():
        return db.session.execute(select(Tenant.config_version).where(Tenant.slug == slug)).scalar_one()


def row_count(app, tenant, model):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(select(func.count()).select_from(model)).scalar_one()
