"""One source of truth for the current tenant: the query scope says which tenant is current, and
``g.tenant`` is its snapshot only while the scope is that tenant."""

from flask import g, request_finished

from app.tenancy.resolution import current_tenant, get_tenant_context, tenant_context
from app.tenancy.scoping import current_tenant_id, tenant_scope
from tests.conftest import portal_url


def test_a_portal_request_has_one_current_tenant(app, client, make_tenant):
    make_tenant("targito")
    seen = {}

    def look(sender, response, **extra):
        seen.update(
            slug=g.tenant.slug if g.tenant else None, id=getattr(g.tenant, "id", None), scope=current_tenant_id()
        )

    with request_finished.connected_to(look, app):
        assert client.get(portal_url("targito")).status_code == 200
    assert seen["slug"] == "targito" and seen["scope"] == seen["id"]


def test_g_tenant_never_names_another_tenant_than_the_scope(app, make_tenant):
    targito, exea = make_tenant("targito"), make_tenant("exea")
    with app.test_request_context(portal_url("targito")):
        g.tenant = get_tenant_context("targito")
        assert g.tenant.slug == "targito"  # no scope yet: nothing to disagree with
        with tenant_scope(targito.id):
            assert g.tenant.slug == "targito" and current_tenant() is g.tenant and "tenant" in g
            with tenant_scope(exea.id):
                assert g.tenant is None and g.get("tenant") is None and "tenant" not in g  # no stale snapshot
            assert g.tenant.slug == "targito"
            with tenant_context(exea.id) as context:
                assert g.tenant is context and context.slug == "exea" and current_tenant_id() == exea.id
            assert g.tenant.slug == "targito" and current_tenant_id() == targito.id
            assert g.pop("tenant").slug == "targito"  # what the error pages do: forget the tenant
            assert g.tenant is None and current_tenant_id() == targito.id
        assert g.tenant is None and current_tenant_id() is None
