"""Help-center fixtures: Exea (Polish) with a customer in an organization, an outsider, an agent,
a few articles and requests, all made through the app's services."""

from __future__ import annotations

import pytest
from flask import g
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.accounts.organizations import add_membership
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from tests.conftest import portal_url


class TenantWorld:
    """Runs service calls inside the tenant's request context, like a view would."""

    def __init__(self, app, tenant, slug):
        self.app, self.tenant, self.slug = app, tenant, slug

    def __call__(self, fn):
        with self.app.test_request_context(portal_url(self.slug)), tenant_scope(self.tenant.id):
            g.tenant = get_tenant_context(self.slug)
            result = fn()
            db.session.commit()  # the boundary a view would have (app.unit_of_work)
            return result

    def user(self, email):
        return db.session.execute(select(User).where(User.email == email)).scalar_one()

    def article(
        self,
        title,
        body="",
        *,
        author="agent@exea.pl",
        publish=True,
        language="pl",
        visibility="public",
        organizations=(),
        category="",
    ):
        from app.helpcenter.services import ArticleData, create_article

        def make():
            org_ids = [
                db.session.execute(select(Organization.id).where(Organization.name == n)).scalar_one()
                for n in organizations
            ]
            return create_article(
                g.tenant,
                self.user(author),
                ArticleData(
                    title=title,
                    body=body,
                    language=language,
                    visibility=visibility,
                    organization_ids=org_ids,
                    category=category,
                ),
                publish=publish,
            ).slug

        return self(make)

    def request(self, who, summary, description="", type_key="support"):
        from app.tickets.services import raise_request

        def make():
            request_type = db.session.execute(select(RequestType).where(RequestType.key == type_key)).scalar_one()
            person = self.user(who)
            return raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=person,
                created_by=person,
                values={"summary": summary, "description": description},
            ).reference

        return self(make)


@pytest.fixture
def exea(app, make_tenant, make_user):
    tenant = make_tenant("exea")
    for email, role in (
        ("klient@pcl.pl", "customer"),
        ("kolega@pcl.pl", "customer"),
        ("obcy@inna.pl", "customer"),
        ("agent@exea.pl", "agent"),
        ("admin@exea.pl", "admin"),
    ):
        make_user(tenant, email, role=role, name=email.split("@")[0], locale="pl")
    world = TenantWorld(app, tenant, "exea")

    def organize():
        company = Organization(name="PCL")
        db.session.add(company)
        db.session.flush()
        add_membership(world.user("klient@pcl.pl"), company)
        add_membership(world.user("kolega@pcl.pl"), company)
        db.session.commit()

    world(organize)
    return world
