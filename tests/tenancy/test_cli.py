"""The operator's `flask --app wsgi tenants ...` commands, in the operator's language."""

import pytest
import yaml

from tests.conftest import DEMO_TENANTS, TENANTS_DIR, portal_url, translated


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
    # Both are on the vendor's security trail, as when the operator does it in the console.
    from sqlalchemy import select

    from app.extensions import db
    from app.security.models import SecurityEvent
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import all_tenants

    with app.app_context(), all_tenants():
        exea = db.session.execute(select(Tenant.id).where(Tenant.slug == "exea")).scalar_one()
        kinds = db.session.scalars(
            select(SecurityEvent.kind).where(SecurityEvent.tenant_id == exea).order_by(SecurityEvent.id)
        ).all()
    assert kinds == ["tenant_suspended", "tenant_resumed"]


def test_demo_seed_creates_the_demo_users_and_their_organizations(app):
    from sqlalchemy import select

    from app.accounts.models import Membership, User
    from app.accounts.hashing import verify_password
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


# --- the operator's language ----------------------------------------------------------------------

NO_LOCALE = {"LANGUAGE": None, "LC_ALL": None, "LC_MESSAGES": None, "LANG": None}


def _broken_copy(tmp_path, slug, file, change):
    """A copy of a real tenant folder, broken in one place, as the only tenant of TENANTS_DIR."""
    import shutil

    folder = tmp_path / "tenants" / slug
    shutil.copytree(TENANTS_DIR / slug, folder)
    path = folder / file
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(data)
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return folder


def test_the_commands_speak_the_configured_operator_language(app):
    app.config["PORTAL_CLI_LANGUAGE"] = "hu"
    runner = app.test_cli_runner()
    first = runner.invoke(args=["tenants", "sync", "targito"])  # a Czech tenant
    assert first.exit_code == 0, first.output
    assert "  - " + translated(app, "hu", "created status '%(key)s'", key="open") in first.output
    again = runner.invoke(args=["tenants", "sync", "targito"])
    assert translated(app, "hu", "%(slug)s: up to date", slug="targito") in again.output
    suspended = runner.invoke(args=["tenants", "suspend", "targito"])
    assert suspended.output.strip() == translated(app, "hu", "%(slug)s: suspended", slug="targito")
    # Machine-readable output stays as it is: the listing's columns, the slug and the address.
    listing = runner.invoke(args=["tenants", "list"]).output
    assert listing.split()[:2] == ["targito", "suspended"] and "http://targito.portal.test/" in listing


@pytest.mark.parametrize(
    "env, lang",
    [
        ({"LANG": "cs_CZ.UTF-8"}, "cs"),
        ({"LANG": "pl_PL"}, "pl"),
        ({"LANG": "en_US.UTF-8", "LC_ALL": "fi_FI.UTF-8"}, "fi"),  # LC_ALL wins, as for every program
        ({"LANG": "de_DE.UTF-8"}, "en"),  # not a UI language: English
        ({"LANG": "C.UTF-8"}, "en"),
        # Python sets LC_CTYPE=C.UTF-8 when hu_HU is not installed (PEP 538); that names no language.
        ({"LANG": "hu_HU.UTF-8", "LC_CTYPE": "C.UTF-8"}, "hu"),
        ({"LANGUAGE": "pl:en", "LANG": "cs_CZ.UTF-8"}, "pl"),
    ],
)
def test_without_a_setting_the_operators_posix_locale_chooses_the_language(app, env, lang):
    app.config["PORTAL_CLI_LANGUAGE"] = None
    result = app.test_cli_runner().invoke(args=["tenants", "list"], env={**NO_LOCALE, **env})
    assert result.output.strip() == translated(
        app, lang, "no tenants; run %(command)s", command="`flask --app wsgi tenants sync`"
    )


def test_the_setting_wins_over_the_posix_locale(app):
    app.config["PORTAL_CLI_LANGUAGE"] = "pl"
    result = app.test_cli_runner().invoke(args=["tenants", "list"], env={**NO_LOCALE, "LANG": "hu_HU.UTF-8"})
    assert result.output.strip() == translated(
        app, "pl", "no tenants; run %(command)s", command="`flask --app wsgi tenants sync`"
    )


def test_inside_a_tenant_the_operator_keeps_their_language_and_the_invitee_gets_the_tenants(app, outbox):
    """The first admin is invited within the new (Czech) tenant; the operator still reads Hungarian."""
    app.config["PORTAL_CLI_LANGUAGE"] = "hu"
    result = app.test_cli_runner().invoke(
        args=[
            "tenants",
            "create",
            "globex",
            "--name",
            "Globex",
            "--languages",
            "cs,en",
            "--default-language",
            "cs",
            "--admin",
            "admin@globex.example",
        ]
    )
    assert result.exit_code == 0, result.output
    assert (
        translated(app, "hu", "%(slug)s: invitation sent to %(email)s", slug="globex", email="admin@globex.example")
        in result.output
    )
    assert (
        translated(
            app,
            "hu",
            "%(slug)s: created from %(source)s; portal at %(url)s",
            slug="globex",
            source="_template",
            url="http://globex.portal.test/",
        )
        in result.output
    )
    subjects = [subject for _to, subject, _text, _html, kind in outbox() if kind == "invitation"]
    assert subjects == [translated(app, "cs", "You are invited to the %(name)s customer portal", name="Globex")]


def test_definition_problems_reach_the_operator_in_their_language_with_the_file_and_key(app, tmp_path):
    folder = _broken_copy(
        tmp_path, "targito", "workflow.yaml", lambda d: d["workflows"][0]["transitions"][0].update(to="limbo")
    )
    app.config["TENANTS_DIR"] = str(tmp_path / "tenants")
    app.config["PORTAL_CLI_LANGUAGE"] = "cs"
    result = app.test_cli_runner().invoke(args=["tenants", "sync", "targito"])
    assert result.exit_code == 1
    problem = f"{folder}/workflow.yaml: workflows[0].transitions[0].to: " + translated(
        app, "cs", "unknown status '%(key)s'", key="limbo"
    )
    assert translated(app, "cs", "error: %(problem)s", problem=problem) in result.output


def test_schema_problems_are_worded_in_the_operators_language_too(app, tmp_path):
    def break_it(d):
        d.pop("name")
        d["reference_prefix"] = "tar"
        d["languages"] = "cs"

    folder = _broken_copy(tmp_path, "targito", "tenant.yaml", break_it)
    app.config["TENANTS_DIR"] = str(tmp_path / "tenants")
    app.config["PORTAL_CLI_LANGUAGE"] = "hu"
    output = app.test_cli_runner().invoke(args=["tenants", "sync", "targito"]).output
    assert (
        f"{folder}/tenant.yaml: (top level): " + translated(app, "hu", "the key '%(key)s' is missing", key="name")
        in output
    )
    assert (
        f"{folder}/tenant.yaml: reference_prefix: "
        + translated(
            app,
            "hu",
            "%(value)s does not match the expected form (%(pattern)s)",
            value="'tar'",
            pattern="^[A-Z][A-Z0-9]{1,9}$",
        )
        in output
    )
    assert (
        f"{folder}/tenant.yaml: languages: "
        + translated(app, "hu", "must be %(type)s, not %(value)s", type=translated(app, "hu", "a list"), value="'cs'")
        in output
    )
