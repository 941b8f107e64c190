"""The automation parts of the tenant definition: SLA targets, business calendar, time rules,
the sla queue filter; errors name the file and key; sync and export round trip."""

import copy
from pathlib import Path

import pytest

from app.tenancy.changes import describe_change
from app.tenancy.definition import DefinitionError, load_definition, read_definition_files, validate_definition

TENANTS = Path(__file__).resolve().parents[2] / "tenants"


def problems_of(slug, change):
    data = copy.deepcopy(read_definition_files(TENANTS / slug))
    change(data)
    with pytest.raises(DefinitionError) as error:
        validate_definition(data, source=f"tenants/{slug}", expected_slug=slug)
    return [str(problem) for problem in error.value.problems]  # each as the command line shows it


def test_seed_definitions_are_valid():
    festum = load_definition(TENANTS / "festum")
    assert "2026-04-03" in festum["settings"]["business_hours"]["holidays"]
    assert festum["sla"]["targets"]["1"] == {"first_response": "PT1H", "resolution": "P1D"}
    crm = load_definition(TENANTS / "crmservice")
    assert "severity_10" not in crm["sla"]["targets"]
    assert any(q["filters"].get("sla") == "breaching" for q in crm["queues"])


def test_sla_errors_name_the_file_and_key():
    def bad(data):
        data["sla"]["targets"]["9"] = {"resolution": "P1M"}
        data["sla"]["by"] = "priority"

    problems = problems_of("festum", bad)
    assert "tenants/festum/sla.yaml: sla.targets.9: '9' is not an option of 'priority'" in problems
    assert any(p.startswith("tenants/festum/sla.yaml: sla.targets.9.resolution: 'P1M': months") for p in problems)

    def not_select(data):
        data["sla"]["by"] = "summary"

    assert "tenants/festum/sla.yaml: sla.by: field 'summary' is not a choice (select) field" in problems_of(
        "festum", not_select
    )


def test_the_business_clock_needs_business_hours():
    def business(data):
        data["sla"]["clock"] = "business"
        data["rules"].append(
            {
                "key": "x",
                "name": {"fi": "x", "en": "x"},
                "trigger": "status_age",
                "conditions": {"status": ["resolved"], "after": "P2D", "clock": "business"},
                "actions": [{"transition_to": "closed"}],
            }
        )

    problems = problems_of("crmservice", business)
    assert (
        "tenants/crmservice/sla.yaml: sla.clock: the business clock needs settings.business_hours in tenant.yaml"
        in problems
    )
    assert any("automation.yaml: rules[1].conditions.clock: the business clock needs" in p for p in problems)


def test_holidays_must_be_dates_and_hours_in_order():
    def bad(data):
        data["settings"]["business_hours"]["holidays"].append("2026-02-30")
        data["settings"]["business_hours"]["start"] = "17:00"

    problems = problems_of("festum", bad)
    assert (
        "tenants/festum/tenant.yaml: settings.business_hours.holidays[30]: '2026-02-30' is not a date (YYYY-MM-DD)"
        in problems
    )
    assert any("settings.business_hours: start 17:00 must be before end 16:00" in p for p in problems)


def test_the_sla_queue_filter_needs_sla_targets():
    def bad(data):
        data["queues"].append({"key": "soon", "name": {"hu": "x", "en": "x"}, "filters": {"sla": "breaching"}})

    assert any(
        "queues.yaml: queues[" in p and "the sla filter needs SLA targets" in p for p in problems_of("flexinform", bad)
    )

    def wrong(data):
        data["queues"][0]["filters"]["sla"] = "later"

    assert any("queues[0].filters.sla" in p for p in problems_of("festum", wrong))


def test_sync_and_export_round_trip_the_sla(app, make_tenant):
    from app.extensions import db
    from app.tenancy.services import apply_definition, export_definition

    make_tenant("festum")
    definition = load_definition(TENANTS / "festum")
    with app.app_context():
        exported = export_definition("festum")
        assert exported["sla"] == definition["sla"]
        assert (
            exported["settings"]["business_hours"]["holidays"] == definition["settings"]["business_hours"]["holidays"]
        )
        assert not apply_definition(definition).changes
        changed = copy.deepcopy(definition)
        changed["sla"]["targets"]["1"]["first_response"] = "PT30M"
        assert [describe_change(c) for c in apply_definition(changed).changes] == ["updated SLA targets"]
        changed["sla"] = {}
        assert "deleted SLA targets" in [describe_change(c) for c in apply_definition(changed).changes]
        assert export_definition("festum")["sla"] == {}
        db.session.remove()
