"""The tenant definition in sections: each module's part validated, synced and exported through one
registry; problems travel as data (file, key path, code, params) and are worded only when shown."""

import ast
import copy
import shutil
from pathlib import Path

import pytest
from flask_babel import force_locale

from app.admin.services import readable_problem
from app.extensions import db
from app.tenancy.definition import (
    DefinitionError,
    dump_definition_files,
    load_definition,
    read_definition_files,
    validate_definition,
)
from app.tenancy.problems import Problem, describe, problem_line
from app.tenancy.sections import DefinitionSection, SectionRegistry
from app.tenancy.services import apply_definition, export_definition
from tests.conftest import DEMO_TENANTS, TENANTS_DIR

TENANCY = Path(__file__).resolve().parents[2] / "app" / "tenancy"


def _problems_of(slug: str, change) -> list[Problem]:
    data = copy.deepcopy(read_definition_files(TENANTS_DIR / slug))
    change(data)
    with pytest.raises(DefinitionError) as error:
        validate_definition(data, source=f"tenants/{slug}", expected_slug=slug)
    return error.value.problems


def test_a_sections_problem_comes_back_as_data_with_its_file_and_key_path():
    problems = _problems_of("targito", lambda d: d["portals"][0]["request_types"][0].update(form="nosuchform"))
    assert (
        Problem(
            "unknown_form",
            {"key": "nosuchform"},
            ("portals", 0, "request_types", 0, "form"),
            "tenants/targito/catalog.yaml",
        )
        in problems
    )


def test_problems_are_worded_when_shown_in_the_readers_language(app):
    [problem] = _problems_of("targito", lambda d: d["statuses"][0]["name"].pop("en"))
    assert (problem.code, problem.params, problem.path) == (
        "missing_languages",
        {"languages": ["en"]},
        ("statuses", 0, "name"),
    )
    with app.test_request_context("/"):
        assert problem_line(problem) == "tenants/targito/workflow.yaml: statuses[0].name: missing language en"
        with force_locale("cs"):
            assert describe(problem) != "missing language en"  # the catalog's Czech sentence


def test_the_console_shows_a_problem_next_to_its_field_from_the_data(app):
    def bad(data):
        field = next(f for f in data["forms"][0]["fields"] if f["key"] == "summary")
        field["visible_when"] = {"field": "nosuchfield", "in": ["x"]}

    data = copy.deepcopy(read_definition_files(TENANTS_DIR / "targito"))
    bad(data)
    [problem] = _problems_of("targito", bad)
    form = data["forms"][0]["key"]
    with app.test_request_context("/"):
        shown = readable_problem(problem, data)
    assert shown.attribute == "field"
    assert shown.text == (
        f"form '{form}' › field 'summary' › visibility condition › field: unknown field 'nosuchfield' in this form"
    )


def test_a_problem_found_while_syncing_names_the_tenant(app, make_tenant):
    from sqlalchemy import select

    from app.accounts.users import create_user
    from app.catalog.models import RequestType
    from app.tenancy.scoping import tenant_scope
    from app.tickets.services import create_ticket

    tenant = make_tenant("targito")
    with app.app_context():
        with tenant_scope(tenant.id):
            user = create_user("someone@example.com", password="secret-password-1")
            db.session.flush()
            request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
            create_ticket(request_type=request_type, requester=user, summary="Still here")
            db.session.commit()
            used = request_type.key
        changed = export_definition("targito")
        for portal in changed["portals"]:
            portal["request_types"] = [rt for rt in portal["request_types"] if rt["key"] != used]
        with pytest.raises(DefinitionError) as error:
            apply_definition(changed)
        db.session.rollback()
    assert Problem("request_type_in_use", {"key": used}, tenant="targito") in error.value.problems
    with app.test_request_context("/"):
        assert str(error.value) == (
            f"tenant 'targito': request type '{used}' was removed but requests use it; keep it in the definition"
        )


@pytest.mark.parametrize("slug", DEMO_TENANTS)
def test_an_export_loads_and_exports_again_byte_for_byte(app, slug, tmp_path):
    with app.app_context():
        apply_definition(load_definition(TENANTS_DIR / slug))
        db.session.commit()
        exported = dump_definition_files(export_definition(slug))
        folder = tmp_path / slug
        folder.mkdir()
        for name, text in exported.items():
            (folder / name).write_text(text, encoding="utf-8")
        assert not apply_definition(load_definition(folder)).changed
        db.session.commit()
        assert dump_definition_files(export_definition(slug)) == exported


def test_the_registry_refuses_two_sections_of_one_name_and_runs_them_in_order():
    registry = SectionRegistry()
    with pytest.raises(RuntimeError):
        list(registry)  # no sections: validating would pass anything
    late, early = DefinitionSection(name="late", order=20), DefinitionSection(name="early", order=10)
    registry.register(late)
    registry.register(early)
    registry.register(late)  # every create_app registers again: harmless
    assert [s.name for s in registry] == ["early", "late"]
    with pytest.raises(ValueError):
        registry.register(DefinitionSection(name="late", order=30))


def test_the_platform_layer_imports_no_domain_module():
    domains = ("app.catalog", "app.workflow", "app.agent", "app.automation", "app.tickets", "app.notifications")
    for path in TENANCY.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                assert not node.module.startswith(domains), f"{path.name} imports {node.module}"
            elif isinstance(node, ast.Import):
                assert not any(a.name.startswith(domains) for a in node.names), f"{path.name} imports a domain"


def test_a_broken_folder_is_reported_by_file(tmp_path):
    folder = tmp_path / "targito"
    shutil.copytree(TENANTS_DIR / "targito", folder)
    (folder / "catalog.yaml").write_text("- not a mapping\n", encoding="utf-8")
    with pytest.raises(DefinitionError) as error:
        load_definition(folder)
    assert error.value.problems == [Problem("not_a_mapping", file=str(folder / "catalog.yaml"))]
