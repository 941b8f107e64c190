"""The tenants/ definition format: validated with clear errors, synced idempotently, exported back."""

import shutil
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from app.extensions import db
from app.tenancy.changes import describe_change
from app.tenancy.definition import DefinitionError, dump_definition_files, load_definition, normalize_definition
from app.tenancy.models import Tenant
from app.tenancy.scoping import tenant_scope
from app.tenancy.services import apply_definition, export_definition
from app.workflow.models import Status
from tests.conftest import DEMO_TENANTS, TENANTS_DIR


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_every_demo_tenant_definition_is_valid(slug):
    definition = load_definition(TENANTS_DIR / slug)
    assert definition["slug"] == slug
    assert definition["default_language"] in definition["languages"] and "en" in definition["languages"]


def test_the_onboarding_template_is_valid():
    assert load_definition(TENANTS_DIR / "_template", template=True)["portals"]


def test_seed_request_types_and_statuses_ship_with_the_demo_tenants():
    def names(slug, key, lang):
        d = load_definition(TENANTS_DIR / slug)
        if key == "request_types":
            return {rt["name"][lang] for p in d["portals"] for rt in p["request_types"]}
        return {s["customer_name" if key == "customer_statuses" else "name"][lang] for s in d["statuses"]}

    assert {"Hiba", "Kérdés/észrevétel", "Fejlesztési javaslat/kérés", "Egyéb"} <= names(
        "flexinform", "request_types", "hu"
    )
    assert {"Nyitott", "Bejelentő válaszára vár", "Folyamatban", "Megoldva", "Kész"} <= names(
        "flexinform", "statuses", "hu"
    )
    assert {"Uusi", "Käsittelyssä", "Odottaa", "Valmis", "Hylätty/Poistettu"} <= names("festum", "statuses", "fi")
    assert {"Otevřeno", "V řešení", "Hotovo"} == names("targito", "customer_statuses", "cs")
    assert {
        "Zgłoś awarię",
        "Zadaj pytanie techniczne",
        "Wsparcie",
        "Zadaj pytanie biznesowe",
        "Zgłoś wizytę kolokacyjną",
    } <= names("exea", "request_types", "pl")
    assert {
        "Zgłoszenie przyjęte",
        "Sprawdzone i skierowane",
        "Zawieszone",
        "Czekamy na Twoją odpowiedź",
        "Rozwiązane",
        "Zamknięte",
    } <= names("exea", "statuses", "pl")


@pytest.fixture
def broken(tmp_path):
    """A copy of a real tenant folder to break in one place."""
    folder = tmp_path / "targito"
    shutil.copytree(TENANTS_DIR / "targito", folder)

    def edit(file, change):
        path = folder / file
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        change(data)
        path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
        return folder

    return edit


def _problems(folder: Path) -> str:
    with pytest.raises(DefinitionError) as info:
        load_definition(folder)
    return str(info.value)


def test_error_names_the_file_and_key_of_an_unknown_form(broken):
    folder = broken("catalog.yaml", lambda d: d["portals"][0]["request_types"][1].update(form="nosuchform"))
    assert f"{folder}/catalog.yaml: portals[0].request_types[1].form: unknown form 'nosuchform'" in _problems(folder)


def test_error_names_a_missing_translation(broken):
    folder = broken("workflow.yaml", lambda d: d["statuses"][0]["name"].pop("en"))
    assert "workflow.yaml: statuses[0].name: missing language en" in _problems(folder)


def test_error_for_a_transition_to_a_missing_status(broken):
    folder = broken("workflow.yaml", lambda d: d["workflows"][0]["transitions"][0].update(to="limbo"))
    assert "workflow.yaml: workflows[0].transitions[0].to: unknown status 'limbo'" in _problems(folder)


def test_error_for_a_schema_violation(broken):
    folder = broken("tenant.yaml", lambda d: d.update(reference_prefix="tar"))
    problems = _problems(folder)
    assert "tenant.yaml: reference_prefix:" in problems and "does not match" in problems


def test_error_for_a_form_without_summary(broken):
    def drop_summary(d):
        d["forms"][0]["fields"] = [f for f in d["forms"][0]["fields"] if f["key"] != "summary"]

    assert "a form needs a field with key 'summary'" in _problems(broken("catalog.yaml", drop_summary))


def test_error_for_a_key_in_the_wrong_file(broken):
    folder = broken("tenant.yaml", lambda d: d.update(statuses=[]))
    assert f"{folder}/tenant.yaml: statuses: unknown key here (it belongs in workflow.yaml)" in _problems(folder)


def test_error_for_invalid_yaml(tmp_path):
    folder = tmp_path / "exea"
    shutil.copytree(TENANTS_DIR / "exea", folder)
    (folder / "catalog.yaml").write_text("portals: [\n", encoding="utf-8")
    assert "catalog.yaml: not valid YAML" in _problems(folder)


def test_slug_must_match_the_folder(tmp_path):
    folder = tmp_path / "other"
    shutil.copytree(TENANTS_DIR / "exea", folder)
    assert "slug: 'exea' must equal the folder name 'other'" in _problems(folder)


def test_sync_is_idempotent(app):
    definition = load_definition(TENANTS_DIR / "flexinform")
    with app.app_context():
        first = apply_definition(definition)
        version = db.session.execute(select(Tenant.config_version)).scalar_one()
        second = apply_definition(definition)
        assert first.created and first.changes
        assert not second.changed
        assert db.session.execute(select(Tenant.config_version)).scalar_one() == version


def test_a_changed_name_is_applied_and_bumps_the_configuration_version(app):
    definition = load_definition(TENANTS_DIR / "exea")
    with app.app_context():
        apply_definition(definition)
        version = db.session.execute(select(Tenant.config_version)).scalar_one()
        definition["statuses"][0]["name"]["pl"] = "Przyjęte"
        report = apply_definition(definition)
        assert [describe_change(c) for c in report.changes] == [
            f"updated status '{definition['statuses'][0]['key']}' (name)"
        ]
        assert db.session.execute(select(Tenant.config_version)).scalar_one() == version + 1


def test_removing_a_status_still_in_use_is_refused_and_changes_nothing(app):
    from app.accounts.users import create_user
    from app.catalog.models import RequestType
    from app.tickets.services import create_ticket

    definition = load_definition(TENANTS_DIR / "exea")
    with app.app_context():
        apply_definition(definition)
        tenant = db.session.execute(select(Tenant)).scalar_one()
        with tenant_scope(tenant.id):
            user = create_user("customer@example.com")
            db.session.flush()
            ticket = create_ticket(
                request_type=db.session.scalars(select(RequestType)).first(),
                requester=user,
                summary="Serwer nie odpowiada",
            )
            db.session.commit()
            initial = ticket.status.key
        changed = normalize_definition(definition)
        changed["statuses"] = [s for s in changed["statuses"] if s["key"] != initial]
        for workflow in changed["workflows"]:
            workflow["initial_status"] = changed["statuses"][0]["key"]
            workflow["transitions"] = [
                t for t in workflow["transitions"] if t["to"] != initial and initial not in t["from"]
            ]
        changed["rules"] = []
        changed["statuses"][0]["name"]["pl"] = "Zmienione"
        with pytest.raises(DefinitionError) as info:
            apply_definition(changed)
        assert f"status '{initial}' was removed but requests are in it" in str(info.value)
        with tenant_scope(tenant.id):
            keys = set(db.session.scalars(select(Status.key)))
            assert initial in keys
            assert "Zmienione" not in {s.name["pl"] for s in db.session.scalars(select(Status))}


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_export_gives_back_the_same_definition(app, slug, tmp_path):
    definition = load_definition(TENANTS_DIR / slug)
    with app.app_context():
        apply_definition(definition)
        exported = export_definition(slug)
    assert exported == normalize_definition(definition)
    # Written as files, it loads again to the same definition.
    folder = tmp_path / slug
    folder.mkdir()
    for name, text in dump_definition_files(exported).items():
        (folder / name).write_text(text, encoding="utf-8")
    assert load_definition(folder) == normalize_definition(definition)


def _bad_queue(filters):
    def change(d):
        d["queues"][0]["filters"] = filters

    return change


def test_errors_for_a_queue_naming_unknown_statuses_fields_options_or_request_types(broken):
    folder = broken("queues.yaml", _bad_queue({"statuses": ["waiting_for_pm", "limbo"]}))
    assert f"{folder}/queues.yaml: queues[0].filters.statuses[1]: unknown status 'limbo'" in _problems(folder)
    folder = broken("queues.yaml", _bad_queue({"fields": {"priority": ["urgent"]}}))
    assert "queues.yaml: queues[0].filters.fields.priority[0]: 'urgent' is not an option of 'priority'" in _problems(
        folder
    )
    folder = broken("queues.yaml", _bad_queue({"fields": {"jono": ["kofax"]}}))
    assert "queues.yaml: queues[0].filters.fields.jono: no form has a choice (select) field 'jono'" in _problems(folder)
    folder = broken("queues.yaml", _bad_queue({"request_types": ["bug", "support/nope"], "portal": "support"}))
    assert "queues.yaml: queues[0].filters.request_types[1]: unknown request type 'support/nope'" in _problems(folder)
    folder = broken("queues.yaml", _bad_queue({"assignee": "somebody"}))
    assert "queues.yaml: queues[0].filters.assignee:" in _problems(folder)


def test_error_for_a_queue_name_without_every_language(broken):
    folder = broken("queues.yaml", lambda d: d["queues"][1]["name"].pop("cs"))
    assert "queues.yaml: queues[1].name: missing language cs" in _problems(folder)


def test_error_for_a_transition_requiring_a_field_that_is_not_on_every_form(tmp_path):
    folder = tmp_path / "flexinform"
    shutil.copytree(TENANTS_DIR / "flexinform", folder)
    path = folder / "workflow.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["workflows"][0]["transitions"][0]["requires"] = ["comment", "ugyiratszam"]  # only on the TAO form
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    assert (
        "workflow.yaml: workflows[0].transitions[0].requires[1]: field 'ugyiratszam' is not in form "
        "'altalanos' of request type 'verseny/hiba'"
    ) in _problems(folder)


def test_errors_for_transitions_requiring_unknown_or_unfillable_fields(broken):
    def requires(index, keys):
        return lambda d: d["workflows"][0]["transitions"][index].update(requires=keys)

    folder = broken("workflow.yaml", requires(1, ["nosuch"]))
    assert "workflow.yaml: workflows[0].transitions[1].requires[0]: no form has a field 'nosuch'" in _problems(folder)
    folder = broken("workflow.yaml", requires(1, ["attachments"]))
    assert "requires[0]: field 'attachments' cannot be required by a transition" in _problems(folder)
    # Customers cannot fill in a field set by support (the reject step is the customer's).
    folder = broken("workflow.yaml", requires(7, ["comment", "information_needed"]))
    assert (
        "workflows[0].transitions[7].requires[1]: field 'information_needed' is set by support (editable_by: agent)"
    ) in _problems(folder)


def test_queues_are_synced_and_a_removed_queue_is_removed(app):
    from app.agent.models import Queue

    definition = load_definition(TENANTS_DIR / "targito")
    with app.app_context():
        apply_definition(definition)
        tenant = db.session.execute(select(Tenant)).scalar_one()
        with tenant_scope(tenant.id):
            assert db.session.scalars(select(Queue.key).order_by(Queue.position)).all()[:3] == [
                "unassigned",
                "mine",
                "waiting_for_support",
            ]
        changed = normalize_definition(definition)
        changed["queues"] = [q for q in changed["queues"] if q["key"] != "mine"]
        report = apply_definition(changed)
        assert "deleted queue 'mine'" in [describe_change(c) for c in report.changes]
        with tenant_scope(tenant.id):
            assert "mine" not in db.session.scalars(select(Queue.key)).all()
        assert export_definition("targito")["queues"] == changed["queues"]
