"""The operator console on the bare domain: tenants with their counts, onboarding (from the template
or another tenant's export, first admin invited), suspend and resume; the same in the CLI."""

import pytest
from sqlalchemy import select

from app.accounts.models import Operator, User
from app.admin.models import ConfigChange
from app.extensions import db
from app.tenancy.models import Tenant
from app.tenancy.scoping import tenant_scope
from app.workflow.models import Status
from tests.conftest import portal_url

OPERATOR = "operator@portal.test"


def _operator(app, client):
    from app.accounts.hashing import hash_password

    with app.app_context():
        db.session.add(Operator(email=OPERATOR, password_hash=hash_password("operator-password")))
        db.session.commit()
    assert (
        client.post(portal_url(None, "/login"), data={"email": OPERATOR, "password": "operator-password"}).status_code
        == 302
    )


def _tenant(app, slug):
    with app.app_context():
        return db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def test_only_the_operator_reaches_the_console(app, client, make_tenant, make_user, login):
    exea = make_tenant("exea")
    make_user(exea, "admin@exea.test", role="admin")
    login("exea", "admin@exea.test")
    assert client.get(portal_url(None, "/tenants/new")).status_code == 404
    assert client.post(portal_url(None, "/tenants/exea/status"), data={"status": "suspended"}).status_code == 404
    assert _tenant(app, "exea").status == "active"
    assert "Onboard a vendor" not in client.get(portal_url(None)).get_data(as_text=True)


@pytest.mark.both_databases
def test_tenants_are_listed_with_their_counts_in_a_fixed_number_of_queries(
    app, client, make_tenant, make_user, login, queries_for
):
    targito = make_tenant("targito")
    make_user(targito, "zakaznik@firma.cz")
    login("targito", "zakaznik@firma.cz")
    client.post(
        portal_url("targito", "/portals/support/support/new"),
        data={"field_summary": "Dotaz", "field_description": "Jak?", "share_with": "private"},
    )
    _operator(app, client)
    one = queries_for(portal_url(None))
    for slug in ("exea", "festum", "crmservice"):
        make_tenant(slug)
    assert queries_for(portal_url(None)) == one  # one grouped query per count, not one per tenant
    page = client.get(portal_url(None)).get_data(as_text=True)
    row = page.split("targito.portal.test</a>", 1)[1].split("</tr>", 1)[0]
    assert [cell.split("</td>")[0] for cell in row.split("<td>")[2:5]] == ["1", "1", "1"]


def test_the_operator_onboards_a_tenant_served_at_once_with_its_admin_invited(app, client, outbox):
    _operator(app, client)
    response = client.post(
        portal_url(None, "/tenants/new"),
        data={
            "slug": "acme",
            "name": "Acme Software",
            "source": "_template",
            "languages": ["cs", "en"],
            "default_language": "cs",
            "admin_email": "boss@acme.example",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    page = client.get(portal_url("acme"))
    assert page.status_code == 200 and "Acme Software" in page.get_data(as_text=True)
    acme = _tenant(app, "acme")
    assert acme.locales == ["cs", "en"] and acme.default_locale == "cs" and acme.reference_prefix == "ACM"
    with app.app_context(), tenant_scope(acme.id):
        admin = db.session.execute(select(User).where(User.email == "boss@acme.example")).scalar_one()
        assert admin.role == "admin" and not admin.has_password
        status = db.session.scalars(select(Status)).first()
        assert set(status.name) == {"cs", "en"}
        change = db.session.scalars(select(ConfigChange)).one()
        assert change.actor_name == f"operator {OPERATOR}"
    invitations = [m for m in outbox() if m[0] == "boss@acme.example"]
    assert len(invitations) == 1 and invitations[0][4] == "invitation"
    assert "http://acme.portal.test/" in invitations[0][2]
    assert "acme.portal.test" in client.get(portal_url(None)).get_data(as_text=True)


def test_a_tenant_starts_from_another_tenants_configuration(app, client, make_tenant, outbox):
    make_tenant("targito")
    _operator(app, client)
    response = client.post(
        portal_url(None, "/tenants/new"),
        data={
            "slug": "targito-sk",
            "name": "Targito SK",
            "source": "tenant:targito",
            "languages": ["en"],
            "default_language": "en",
            "admin_email": "admin@targito-sk.example",
            "prefix": "TSK",
        },
    )
    assert response.status_code == 302, response.get_data(as_text=True)
    copy = _tenant(app, "targito-sk")
    with app.app_context(), tenant_scope(copy.id):
        keys = set(db.session.scalars(select(Status.key)))
    assert "waiting_for_approval" in keys and copy.locales == ["en"] and copy.reference_prefix == "TSK"
    page = client.get(portal_url("targito-sk", "/login")).get_data(as_text=True)
    assert "Targito SK" in page


def test_onboarding_problems_are_shown_and_nothing_is_created(app, client, make_tenant, outbox):
    make_tenant("exea")
    _operator(app, client)
    for slug in ("Bad_Slug", "exea"):
        response = client.post(
            portal_url(None, "/tenants/new"),
            data={
                "slug": slug,
                "name": "X",
                "source": "_template",
                "languages": ["en"],
                "default_language": "en",
                "admin_email": "x@x.example",
            },
        )
        assert response.status_code == 422
        text = response.get_data(as_text=True)
        assert "not a valid slug" in text or "exists already" in text
    assert _tenant(app, "bad_slug") is None and outbox() == []


def test_suspend_and_resume_keep_the_data(app, client, make_tenant, make_user):
    exea = make_tenant("exea")
    make_user(exea, "anna@firma.pl")
    _operator(app, client)
    assert client.post(portal_url(None, "/tenants/exea/status"), data={"status": "suspended"}).status_code == 302
    page = client.get(portal_url("exea", "/login"))
    assert page.status_code == 503 and "This support portal is suspended" in page.get_data(as_text=True)
    assert "Resume Exea" in client.get(portal_url(None)).get_data(as_text=True)
    assert client.post(portal_url(None, "/tenants/exea/status"), data={"status": "active"}).status_code == 302
    assert client.get(portal_url("exea", "/login")).status_code == 200
    with app.app_context(), tenant_scope(exea.id):
        assert db.session.execute(select(User).where(User.email == "anna@firma.pl")).scalar_one()


def test_the_cli_creates_a_tenant_with_languages_and_invites_its_admin(app, client, outbox):
    runner = app.test_cli_runner()
    result = runner.invoke(
        args=[
            "tenants",
            "create",
            "globex",
            "--name",
            "Globex",
            "--languages",
            "pl,en",
            "--default-language",
            "pl",
            "--admin",
            "admin@globex.example",
        ]
    )
    assert result.exit_code == 0, result.output
    assert "invitation sent to admin@globex.example" in result.output
    assert _tenant(app, "globex").locales == ["pl", "en"]
    assert [m[0] for m in outbox() if m[4] == "invitation"] == ["admin@globex.example"]
    assert client.get(portal_url("globex")).status_code == 200
