"""Every request type of every demo tenant can be raised by its demo customer with its real form."""

import pytest
from sqlalchemy import select

from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from tests.conftest import DEMO_TENANTS, portal_url


def _sample(info, request_type_key):
    """A value a customer would give, for a field as the form shows it."""

    if info.type in ("select", "multiselect"):
        return info.options[0][0]
    return {
        "text": "Teszt",
        "textarea": "Részletes leírás",
        "number": "3",
        "date": "2026-11-20",
        "checkbox": "y",
        "email": "someone@example.com",
        "phone": "+36 1 234 5678",
    }.get(info.type)


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_request_type_can_be_raised(app, client, make_tenant, make_user, login, slug):
    from app.catalog.services import form_fields, portal_catalog
    from app.tenancy.resolution import get_tenant_context

    tenant = make_tenant(slug)
    make_user(tenant, "customer@example.com")
    login(slug, "customer@example.com")
    with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id):
        context = get_tenant_context(slug)
        forms = [
            (p.key, rt.key, form_fields(context, rt.form_id)) for p in portal_catalog(context) for rt in p.request_types
        ]
    for portal_key, type_key, fields in forms:
        url = portal_url(slug, f"/portals/{portal_key}/{type_key}/new")
        page = client.get(url).get_data(as_text=True)
        data = {}
        for info in fields:
            if f'name="field_{info.key}"' in page and info.type != "files":
                value = _sample(info, type_key)
                if value is not None:
                    data[f"field_{info.key}"] = value
        response = client.post(url, data=data)
        assert response.status_code == 302, (slug, portal_key, type_key, response.get_data(as_text=True)[-1500:])
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.execute(select(db.func.count()).select_from(Ticket)).scalar() == len(forms)
