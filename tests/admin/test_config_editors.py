"""The console's definition editors and form classes, without the portal app or a database.

An editor takes a definition and returns the edited copy (the one given stays as it was) or refuses
with a problem the admin can act on; a form class turns the inputs a console page posts into the
values the editors take. The pages themselves are tested in test_console*.py.
"""

import copy

import pytest
from flask import Flask
from flask_babel import Babel

from app.admin.config import automation, fields, languages, portals, queues, request_types, sla, statuses, texts
from app.admin.config import workflows
from app.admin.config.editing import moved, put, without
from app.admin.config.inputs import OptionRows
from app.admin.services import ConsoleError


def _definition() -> dict:
    """A small definition in the shape of the export (every optional key present)."""
    return {
        "slug": "acme",
        "name": "Acme",
        "registration": "open",
        "timezone": "Europe/Prague",
        "languages": ["en", "cs"],
        "default_language": "en",
        "settings": {"email_request_type": "support/bug"},
        "branding": {},
        "strings": {"cs": {"Send request": "Odeslat"}},
        "sla": {},
        "portals": [
            {
                "key": "support",
                "name": {"en": "Support", "cs": "Podpora"},
                "description": {},
                "request_types": [
                    {
                        "key": "bug",
                        "name": {"en": "Bug"},
                        "description": {},
                        "icon": None,
                        "form": "default",
                        "workflow": "support",
                    },
                    {
                        "key": "question",
                        "name": {"en": "Question"},
                        "description": {},
                        "icon": None,
                        "form": "default",
                        "workflow": "support",
                    },
                ],
            },
            {"key": "sales", "name": {"en": "Sales"}, "description": {}, "request_types": []},
        ],
        "forms": [
            {
                "key": "default",
                "fields": [
                    {"key": "summary", "type": "text", "label": {"en": "Summary"}, "visible_when": None},
                    {"key": "description", "type": "textarea", "label": {"en": "Description"}, "visible_when": None},
                    {
                        "key": "priority",
                        "type": "select",
                        "label": {"en": "Priority"},
                        "visible_when": None,
                        "options": [{"key": "low", "label": {"en": "Low"}}, {"key": "high", "label": {"en": "High"}}],
                    },
                    {"key": "version", "type": "text", "label": {"en": "Version"}, "visible_when": None},
                ],
            }
        ],
        "statuses": [
            {"key": "open", "name": {"en": "Open"}, "category": "open"},
            {"key": "waiting", "name": {"en": "Waiting"}, "category": "waiting"},
            {"key": "done", "name": {"en": "Done"}, "category": "resolved"},
        ],
        "workflows": [
            {
                "key": "support",
                "name": {"en": "Support"},
                "initial_status": "open",
                "transitions": [
                    {"key": "ask", "from": ["open"], "to": "waiting", "actors": ["agent"], "requires": ["version"]},
                    {"key": "solve", "from": ["open", "waiting"], "to": "done", "actors": ["agent"], "requires": []},
                    {"key": "reopen", "from": ["done"], "to": "open", "actors": ["customer"], "requires": []},
                ],
            }
        ],
        "rules": [
            {
                "key": "close",
                "trigger": "status_age",
                "conditions": {"status": ["done"], "after": "P7D"},
                "actions": [{"transition_to": "open"}, {"comment": {"en": "Reopened"}}],
            },
            {
                "key": "nudge",
                "trigger": "status_age",
                "conditions": {"status": ["waiting"]},
                "actions": [{"notify": "requester"}],
            },
        ],
        "queues": [],
    }


@pytest.fixture
def definition():
    return _definition()


def _refused(edit, *args, **kwargs):
    with pytest.raises(ConsoleError) as caught:
        edit(*args, **kwargs)
    return caught.value.problems


# --- shared helpers ------------------------------------------------------------------------------


def test_an_edit_returns_a_copy_and_leaves_the_definition_given_as_it_was(definition):
    before = copy.deepcopy(definition)
    edited = moved(definition, lambda d: d["statuses"], "done", "up")
    assert [s["key"] for s in edited["statuses"]] == ["open", "done", "waiting"]
    assert definition == before


def test_put_replaces_an_existing_entry_and_refuses_one_that_is_gone():
    items = [{"key": "a", "v": 1}]
    put(items, {"key": "a", "v": 2}, new=False)
    assert items == [{"key": "a", "v": 2}]
    with pytest.raises(ConsoleError):
        put(items, {"key": "b"}, new=False)
    with pytest.raises(ConsoleError):
        without(items, "b")


# --- request types and portals -------------------------------------------------------------------


def test_a_request_type_with_a_new_form_gets_the_base_fields_and_those_its_workflow_asks_for(definition):
    entry = dict(request_types.blank_request_type(definition), key="outage", name={"en": "Outage"}, form="__new__")
    edited = request_types.save_request_type(
        definition, entry, portal_key="support", target_portal="support", new=True, email_type=False
    )
    new_form = edited["forms"][-1]
    assert new_form["key"] == "outage"
    assert [f["key"] for f in new_form["fields"]] == ["summary", "description", "version"]
    assert request_types.saved_form_key(edited, "support", "outage") == "outage"


def test_a_request_type_moved_to_another_portal_takes_the_email_setting_along(definition):
    bug = definition["portals"][0]["request_types"][0]
    edited = request_types.save_request_type(
        definition, dict(bug), portal_key="support", target_portal="sales", new=False, email_type=True
    )
    assert [rt["key"] for rt in edited["portals"][0]["request_types"]] == ["question"]
    assert [rt["key"] for rt in edited["portals"][1]["request_types"]] == ["bug"]
    assert edited["settings"]["email_request_type"] == "sales/bug"
    unticked = request_types.save_request_type(
        definition, dict(bug), portal_key="support", target_portal="support", new=False, email_type=False
    )
    assert "email_request_type" not in unticked["settings"]


def test_deleting_the_email_request_type_forgets_the_setting(definition):
    edited = request_types.delete_request_type(definition, "support", "bug")
    assert "email_request_type" not in edited["settings"]
    assert _refused(request_types.delete_request_type, definition, "support", "nosuch")


def test_a_portal_key_is_taken_once_and_a_new_portal_comes_with_its_first_request_type(definition):
    first = dict(request_types.blank_request_type(definition), key="quote", name={"en": "Quote"})
    edited = portals.add_portal(definition, {"key": "shop", "name": {"en": "Shop"}, "description": {}}, first)
    assert edited["portals"][-1]["request_types"][0]["key"] == "quote"
    (problem,) = _refused(portals.add_portal, definition, {"key": "sales", "name": {}, "description": {}}, first)
    assert problem.attribute == "key" and "sales" in problem.text


# --- fields --------------------------------------------------------------------------------------


def test_typed_values_follow_the_field_type():
    assert fields.typed(" 3 ", "number") == 3 and fields.typed("2.5", "number") == 2.5
    assert fields.typed("yes", "checkbox") is True and fields.typed("no", "checkbox") is False
    assert fields.typed("a, b c", "multiselect") == ["a", "b", "c"]
    assert fields.typed("  ", "text") is None
    with pytest.raises(ValueError):
        fields.typed("many", "number")


def test_a_field_condition_without_values_and_an_option_without_a_key_are_refused_next_to_their_input(definition):
    field = {
        "key": "impact",
        "type": "select",
        "label": {"en": "Impact"},
        "options": [],
        "visible_when": {"field": "priority", "in": []},
    }
    (problem,) = _refused(fields.save_field, definition, "default", field, new=True)
    assert problem.attribute == "in"
    field = dict(field, visible_when=None, options=[{"key": "Bad Key", "label": {"en": "x"}}])
    (problem,) = _refused(fields.save_field, definition, "default", field, new=True)
    assert problem.attribute == "options"
    field["options"] = [{"key": "big", "label": {"en": "Big"}}]
    assert fields.save_field(definition, "default", field, new=True)["forms"][0]["fields"][-1]["key"] == "impact"


# --- statuses and workflows ----------------------------------------------------------------------


def test_deleting_a_status_removes_the_steps_and_rules_that_lead_into_it(definition):
    edited = statuses.delete_status(definition, "done")
    steps = {t["key"]: t for t in edited["workflows"][0]["transitions"]}
    assert set(steps) == {"ask"}  # "solve" led into it, "reopen" only left from it
    assert [r["key"] for r in edited["rules"]] == ["nudge"]
    assert _refused(statuses.delete_status, definition, "open")  # new requests start there


def test_a_new_workflow_can_start_with_its_own_copy_of_another_ones_steps(definition):
    new = {"key": "billing", "name": {"en": "Billing"}, "initial_status": "open", "transitions": []}
    edited = workflows.add_workflow(definition, new, "support")
    copied_steps = edited["workflows"][-1]["transitions"]
    assert copied_steps == definition["workflows"][0]["transitions"]
    assert copied_steps is not edited["workflows"][0]["transitions"]
    (problem,) = _refused(workflows.add_workflow, definition, dict(new, key="support"))
    assert problem.attribute == "key"


def test_a_step_needs_someone_who_may_take_it(definition):
    step = {"key": "pause", "name": {"en": "Pause"}, "from": [], "to": "waiting", "actors": [], "requires": []}
    (problem,) = _refused(workflows.save_transition, definition, "support", step, new=True)
    assert problem.attribute == "actors"
    edited = workflows.save_transition(definition, "support", dict(step, actors=["agent"]), new=True)
    assert edited["workflows"][0]["transitions"][-1]["key"] == "pause"
    assert [f["key"] for f in workflows.requirable_fields(definition, "support")] == ["priority", "version"]


# --- queues, automation, settings ----------------------------------------------------------------


def test_a_bare_request_type_key_stays_bare_while_all_its_types_stay_ticked(definition):
    definition["portals"][1]["request_types"].append(
        {"key": "bug", "name": {"en": "Bug"}, "form": "default", "workflow": "support"}
    )
    assert queues.type_refs(definition, "bug", None) == {"support/bug", "sales/bug"}
    assert queues.queue_type_refs(definition, ["bug"], ["support/bug", "sales/bug"], None) == ["bug"]
    assert queues.queue_type_refs(definition, ["bug"], ["sales/bug", "support/question"], None) == [
        "sales/bug",
        "support/question",
    ]


def test_queues_start_from_the_presets_only_while_there_are_none(definition):
    presets = [{"key": "mine", "name": {"en": "Mine"}, "filters": {"assignee": "me"}}]
    edited = queues.start_from_presets(definition, presets)
    assert edited["queues"] == presets
    assert _refused(queues.start_from_presets, edited, presets)
    (problem,) = _refused(queues.save_queue, edited, dict(presets[0]), new=True)
    assert problem.attribute == "key"
    definition["statuses"][2]["category"] = "resolved"
    assert queues.hidden_statuses(definition, {"status": "open", "statuses": ["done", "open"]}) == ["done"]


def test_a_rule_needs_an_action_and_its_actions_show_one_input_each(definition):
    rule = {"key": "idle", "trigger": "status_age", "conditions": {}, "actions": []}
    (problem,) = _refused(automation.save_rule, definition, rule, new=True)
    assert problem.attribute == "actions"
    assert automation.rule_actions(definition["rules"][0]) == {
        "transition_to": "open",
        "comment": {"en": "Reopened"},
        "notify": "",
        "survey": False,
    }


def test_enabling_a_language_copies_the_default_texts_and_the_default_must_be_enabled(definition):
    values = {
        "name": "Acme",
        "registration": "open",
        "timezone": "UTC",
        "languages": ["en", "cs", "pl"],
        "default_language": "en",
    }
    edited = languages.save_general(definition, values)
    assert edited["statuses"][0]["name"] == {"en": "Open", "cs": "Open", "pl": "Open"}
    (problem,) = _refused(languages.save_general, definition, dict(values, default_language="fi"))
    assert problem.attribute == "default_language"


def test_a_string_override_needs_its_wording_and_the_last_deleted_drops_the_language(definition):
    (problem,) = _refused(texts.save_string, definition, "cs", "Help center", "")
    assert problem.attribute == "text"
    assert texts.save_string(definition, "pl", "Help center", "Pomoc")["strings"]["pl"] == {"Help center": "Pomoc"}
    assert "cs" not in texts.delete_string(definition, "cs", "Send request")["strings"]


# --- form classes --------------------------------------------------------------------------------


@pytest.fixture
def web():
    """A bare Flask app (no portal, no database) to post form data to the console's form classes."""
    flask_app = Flask(__name__)
    flask_app.config.update(SECRET_KEY="test", WTF_CSRF_ENABLED=False)
    Babel(flask_app)
    return flask_app


def test_a_field_form_reads_the_option_rows_and_reports_a_wrong_number_next_to_its_input(web):
    posted = {
        "key": "bad key",
        "type": "number",
        "label.en": "Impact",
        "label.cs": " ",
        "option_rows": "2",
        "option_0_key": "one",
        "option_0_label.en": "One",
        "visible_mode": "always",
        "default": "many",
    }
    with web.test_request_context("/", method="POST", data=posted):
        form = fields.FieldForm.build(("en", "cs"), options=OptionRows(languages=("en", "cs")))()
        field = form.field({"key": ""})
        assert not form.validate()
        assert [p.attribute for p in form.problems()] == ["key", "default"]  # in the page's order
    assert field["label"] == {"en": "Impact"}  # the empty language is left to the validator to name
    assert field["options"] == []  # a number field has no options
    assert field["editable_by"] == "customer" and field["visible_when"] is None


def test_the_sla_form_reads_targets_for_the_options_of_the_chosen_field(web):
    posted = {
        "sla_enabled": "1",
        "by": "priority",
        "clock": "business",
        "target.high.first_response": " pt1h ",
        "target.gone.resolution": "P1D",
        "default.resolution": "p2d",
        "hours_enabled": "1",
        "days": ["tue", "mon"],
        "start": "08:00",
        "end": "16:00",
        "holidays": "2026-12-24\n\n2026-12-25",
    }
    with web.test_request_context("/", method="POST", data=posted):
        form = sla.SlaForm()
        policy = form.policy(sla.select_fields(_definition()))
        hours = form.business_hours()
    assert policy == {
        "clock": "business",
        "warn_before": "PT4H",
        "by": "priority",
        "targets": {"high": {"first_response": "PT1H"}},
        "default": {"resolution": "P2D"},
    }
    assert hours == {"days": ["mon", "tue"], "start": "08:00", "end": "16:00", "holidays": ["2026-12-24", "2026-12-25"]}


def test_a_queue_form_keeps_the_values_of_each_choice_field(web):
    posted = {"name.en": "Urgent", "fields.priority": ["high", ""], "sort": "created", "sort_order": "desc"}
    with web.test_request_context("/", method="POST", data=posted):
        form = queues.QueueForm.build(("en",))()
        queue = form.queue(_definition(), queues.blank_queue())
    assert queue["name"] == {"en": "Urgent"}
    assert queue["filters"]["fields"] == {"priority": ["high"]}
    assert queue["filters"]["sort"] == "-created"
    assert queue["filters"]["status"] == "open" and queue["filters"]["assignee"] == "any"
