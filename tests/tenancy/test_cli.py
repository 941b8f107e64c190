"""The operator's `flask --app wsgi tenants ...` commands."""
import yaml

from tests.conftest import DEMO_TENANTS, portal_url


def test_sync_list_and_sync_again(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "sync"])
    assert result.exit_code == 0, result.output
    for slug in DEMO_TENANTS:
        assert f"{slug}: created" in result.output
    listing = runner.invoke(args=["tenants", "list"])
    for slug in DEMO_TENANTS:
        assert f"http://{slug}.portal.test/" in listing.output
    assert "_template" not in listing.output and "template" not in listing.output
    again = runner.invoke(args=["tenants", "sync"])
    assert again.exit_code == 0
    assert again.output.count("up to date") == len(DEMO_TENANTS)


def test_sync_one_tenant_with_dry_run_changes_nothing(app):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "sync", "festum", "--dry-run"])
    assert result.exit_code == 0 and "festum: would change" in result.output
    assert "no tenants" in runner.invoke(args=["tenants", "list"]).output


def test_sync_reports_definition_errors_and_fails(app, tmp_path):
    folder = tmp_path / "tenants" / "broken"
    folder.mkdir(parents=True)
    (folder / "tenant.yaml").write_text("slug: broken\n", encoding="utf-8")
    app.config["TENANTS_DIR"] = str(tmp_path / "tenants")
    result = app.test_cli_runner().invoke(args=["tenants", "sync", "broken"])
    assert result.exit_code == 1
    assert "catalog.yaml: file is missing" in result.output


def test_create_from_template_onboards_a_working_portal(app, client):
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "create", "acme", "--from", "_template", "--name", "Acme Software"])
    assert result.exit_code == 0, result.output
    assert "http://acme.portal.test/" in result.output
    page = client.get(portal_url("acme"))
    assert page.status_code == 200 and "Acme Software" in page.get_data(as_text=True)
    again = runner.invoke(args=["tenants", "create", "acme"])
    assert again.exit_code == 1 and "exists already" in again.output
    bad = runner.invoke(args=["tenants", "create", "Bad_Slug"])
    assert bad.exit_code == 1 and "not a valid slug" in bad.output


def test_export_writes_the_definition_files(app, tmp_path):
    runner = app.test_cli_runner()
    runner.invoke(args=["tenants", "sync", "targito"])
    result = runner.invoke(args=["tenants", "export", "targito", "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    tenant = yaml.safe_load((tmp_path / "out" / "tenant.yaml").read_text(encoding="utf-8"))
    assert tenant["slug"] == "targito" and tenant["default_language"] == "cs"
    assert (tmp_path / "out" / "workflow.yaml").exists() and (tmp_path / "out" / "catalog.yaml").exists()


def test_suspend_and_activate(app, client):
    runner = app.test_cli_runner()
    runner.invoke(args=["tenants", "sync", "exea"])
    assert runner.invoke(args=["tenants", "suspend", "exea"]).exit_code == 0
    assert client.get(portal_url("exea")).status_code == 503  # "this support portal is suspended"
    assert "suspended" in runner.invoke(args=["tenants", "list"]).output
    assert runner.invoke(args=["tenants", "activate", "exea"]).exit_code == 0
    assert client.get(portal_url("exea")).status_code == 200
    assert runner.invoke(args=["tenants", "suspend", "nosuch"]).exit_code == 1


def test_demo_seed_creates_the_demo_users_and_their_organizations(app):
    from sqlalchemy import select

    from app.accounts.models import Membership, User
    from app.accounts.services import verify_password
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope

    runner = app.test_cli_runner()
    runner.invoke(args=["tenants", "sync", "targito"])
    result = runner.invoke(args=["demo", "seed"])
    assert result.exit_code == 0, result.output
    assert runner.invoke(args=["demo", "seed"]).exit_code == 0  # idempotent
    with app.app_context():
        tenant = db.session.execute(select(Tenant)).scalar_one()
        with tenant_scope(tenant.id):
            users = {u.email: u for u in db.session.scalars(select(User))}
            assert set(users) == {f"{u}@targito.test" for u in ("customer", "orgadmin", "agent", "admin")}
            assert verify_password(users["agent@targito.test"].password_hash, "demo-password")
            assert users["admin@targito.test"].role == "admin"
            memberships = db.session.scalars(select(Membership)).all()
            customer_orgs = [m for m in memberships if m.user_id == users["customer@targito.test"].id]
            assert len(customer_orgs) == 2  # Targito customers may belong to several organizations
            assert any(m.is_admin for m in memberships if m.user_id == users["orgadmin@targito.test"].id)
