"""The same request seen by a Hungarian user in Europe/Budapest and a Finnish user in Europe/Helsinki:
each reads the page in their own language, with dates and times in their own format and time zone."""

from datetime import datetime, timezone

from babel.dates import format_datetime
from sqlalchemy import select

from app.extensions import db
from app.tenancy.definition import load_definition
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from tests.conftest import TENANTS_DIR, portal_url, translated


def _with_finnish(node):
    """Flexinform's definition with Finnish enabled: every text also in Finnish (here: the Hungarian one,
    as the admin console's "enable a language" starts it)."""
    if isinstance(node, dict):
        if "hu" in node and all(isinstance(v, str) for v in node.values()):
            return {**node, "fi": node["hu"]}
        return {key: _with_finnish(value) for key, value in node.items()}
    if isinstance(node, list):
        return [_with_finnish(item) for item in node]
    return node


def test_a_hungarian_in_budapest_and_a_finn_in_helsinki_read_the_same_request_their_way(app, make_tenant, make_user):
    definition = _with_finnish(load_definition(TENANTS_DIR / "flexinform"))
    definition["languages"] = ["hu", "fi", "en"]
    tenant = make_tenant("flexinform", **{k: v for k, v in definition.items() if k != "slug"})
    make_user(tenant, "anna@example.hu", role="agent", name="Kiss Anna", locale="hu")
    make_user(tenant, "aino@example.fi", role="agent", name="Aino Virtanen", locale="fi")
    with app.app_context(), tenant_scope(tenant.id):
        from app.accounts.models import User

        db.session.execute(
            select(User).where(User.email == "anna@example.hu")
        ).scalar_one().timezone = "Europe/Budapest"
        db.session.execute(
            select(User).where(User.email == "aino@example.fi")
        ).scalar_one().timezone = "Europe/Helsinki"
        db.session.commit()
    from flask import g

    from app.catalog.models import RequestType
    from app.tenancy.resolution import get_tenant_context
    from app.tickets.services import raise_request

    moment = datetime(2026, 12, 1, 14, 5, tzinfo=timezone.utc)
    with app.test_request_context(portal_url("flexinform")), tenant_scope(tenant.id):
        g.tenant = get_tenant_context("flexinform")
        anna = db.session.execute(select(User).where(User.email == "anna@example.hu")).scalar_one()
        ticket = raise_request(
            tenant=g.tenant,
            request_type_id=db.session.scalars(select(RequestType.id)).first(),
            requester=anna,
            created_by=anna,
            values={"summary": "Időzóna"},
        )
        db.session.get(Ticket, ticket.id).created_at = moment
        db.session.commit()
        reference = ticket.reference
    pages = {}
    for email, lang, zone in (
        ("anna@example.hu", "hu", "Europe/Budapest"),
        ("aino@example.fi", "fi", "Europe/Helsinki"),
    ):
        client = app.test_client()
        client.post(portal_url("flexinform", "/login"), data={"email": email, "password": "correct-horse-battery"})
        pages[lang] = client.get(portal_url("flexinform", f"/requests/{reference}")).get_data(as_text=True)
        expected = format_datetime(moment, "medium", tzinfo=zone, locale=lang)
        assert expected in pages[lang], (lang, expected)
        assert translated(app, lang, "Created") in pages[lang]
    # 15:05 in Budapest is 16:05 in Helsinki: the same moment, each in their own clock and format.
    assert "15:05" in format_datetime(moment, "medium", tzinfo="Europe/Budapest", locale="hu")
    assert "16.05" in format_datetime(moment, "medium", tzinfo="Europe/Helsinki", locale="fi")
    assert pages["hu"] != pages["fi"]
