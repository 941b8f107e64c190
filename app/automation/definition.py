"""The automation part of the tenant definition: rules (``automation.yaml``), SLA targets
(``sla.yaml``) and the business calendar they count in (``settings.business_hours``).

Validated, synced and exported here, registered with the tenant definition's sections by
``create_app``. No request refers to a rule or to the SLA row (the due moments are on the requests),
so what the definition no longer has is removed.
"""

from __future__ import annotations

import copy

from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select

from app.automation.calendar import parse_duration
from app.automation.models import AutomationRule, SlaPolicy
from app.extensions import db
from app.tenancy.changes import CREATED, UPDATED
from app.tenancy.definition import check_unique
from app.tenancy.problems import Problems
from app.tenancy.sections import DefinitionSection, ExportContext, SyncContext


SLA_DEFAULTS: dict[str, object] = {"clock": "calendar", "warn_before": "PT4H", "targets": {}}


def normalize(out: dict) -> None:
    out.setdefault("rules", [])
    out.setdefault("sla", {})
    if out["sla"]:
        for key, default in SLA_DEFAULTS.items():
            out["sla"].setdefault(key, copy.deepcopy(default))
    for rule in out["rules"]:
        rule.setdefault("enabled", True)
        rule.setdefault("conditions", {})
        status = rule["conditions"].get("status")
        if isinstance(status, str):
            rule["conditions"]["status"] = [status]


def compact(out: dict) -> None:
    if out.get("rules") == []:
        out.pop("rules")
    if out.get("sla") == {}:
        out.pop("sla")
    for key, default in SLA_DEFAULTS.items():
        if out.get("sla", {}).get(key) == default:
            out["sla"].pop(key)
    for rule in out.get("rules", []):
        if rule.get("enabled") is True:
            rule.pop("enabled")
        status = rule.get("conditions", {}).get("status")
        if isinstance(status, list) and len(status) == 1:
            rule["conditions"]["status"] = status[0]


def validate(data: dict, problems: Problems) -> None:
    statuses = {s["key"] for s in data["statuses"]}
    check_unique(data.get("rules", []), ["rules"], problems)
    for r_index, rule in enumerate(data.get("rules", [])):
        rpath = ["rules", r_index]
        conditions = rule.get("conditions", {})
        status_keys = conditions.get("status", [])
        for key in [status_keys] if isinstance(status_keys, str) else status_keys:
            if key not in statuses:
                problems.add(rpath + ["conditions", "status"], "unknown_status", key=key)
        if rule["trigger"] == "status_age" and not ("status" in conditions and "after" in conditions):
            problems.add(rpath + ["conditions"], "status_age_needs_status_and_after")
        for a_index, action in enumerate(rule["actions"]):
            target = action.get("transition_to")
            if target is not None and target not in statuses:
                problems.add(rpath + ["actions", a_index, "transition_to"], "unknown_status", key=target)

    hours = data.get("settings", {}).get("business_hours")
    _check_business_hours(hours, problems)
    for index, rule in enumerate(data.get("rules", [])):
        conditions = rule.get("conditions", {})
        if rule["trigger"] != "status_age" or "after" not in conditions:
            continue
        path = ["rules", index, "conditions"]
        _check_duration(conditions["after"], conditions.get("clock", "calendar"), path + ["after"], problems)
        if conditions.get("clock") == "business" and not hours:
            problems.add(path + ["clock"], "business_clock_needs_hours")
    _check_sla(data, bool(hours), problems)
    for index, queue in enumerate(data.get("queues", [])):
        if queue.get("filters", {}).get("sla") and not data.get("sla"):
            problems.add(["queues", index, "filters", "sla"], "sla_filter_needs_targets")


def _check_business_hours(hours, problems: Problems) -> None:
    if not hours:
        return
    path = ["settings", "business_hours"]
    if hours.get("start", "08:00") >= hours.get("end", "16:00"):
        problems.add(path, "start_not_before_end", start=hours.get("start", "08:00"), end=hours.get("end", "16:00"))
    for name in ("start", "end"):
        value = hours.get(name)
        if value is not None and not (value[:2].isdigit() and int(value[:2]) < 24 and int(value[3:]) < 60):
            problems.add(path + [name], "not_a_time_of_day", value=value)
    for index, text in enumerate(hours.get("holidays", [])):
        try:
            date.fromisoformat(text)
        except ValueError:
            problems.add(path + ["holidays", index], "not_a_date", value=text)


def _check_duration(text: str, clock: str, path: list, problems: Problems) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        problems.add(path, "not_a_duration", value=text)
        return
    if clock == "business" and duration.has_months:
        problems.add(path, "months_in_business_time", value=text)


def _check_sla(data: dict, has_hours: bool, problems: Problems) -> None:
    sla = data.get("sla")
    if not sla:
        return
    clock = sla.get("clock", "calendar")
    if clock == "business" and not has_hours:
        problems.add(["sla", "clock"], "business_clock_needs_hours")
    field = sla.get("by")
    options: set | None = None
    if field is not None:
        found = [f for form in data.get("forms", []) for f in form["fields"] if f["key"] == field]
        if not found:
            problems.add(["sla", "by"], "no_field", key=field)
        elif any(f["type"] != "select" for f in found):
            problems.add(["sla", "by"], "not_a_select_field", key=field)
        else:
            options = {o["key"] for f in found for o in f.get("options", [])}
    if sla.get("targets") and field is None:
        problems.add(["sla", "targets"], "targets_need_by")
    for key, target in (sla.get("targets") or {}).items():
        if options is not None and key not in options:
            problems.add(["sla", "targets", key], "not_an_option_of", value=key, field=field)
        for name, text in target.items():
            _check_duration(text, clock, ["sla", "targets", key, name], problems)
    for name, text in (sla.get("default") or {}).items():
        _check_duration(text, clock, ["sla", "default", name], problems)
    if "warn_before" in sla:
        _check_duration(sla["warn_before"], clock, ["sla", "warn_before"], problems)


def sync(d: dict, context: SyncContext) -> None:
    session = db.session
    rules = {r.key: r for r in session.scalars(select(AutomationRule))}
    for position, r in enumerate(d["rules"]):
        context.upsert(
            AutomationRule,
            rules,
            r["key"],
            "rule",
            name=r.get("name", {}),
            trigger=r["trigger"],
            conditions=r["conditions"],
            actions=r["actions"],
            enabled=r["enabled"],
            position=position,
        )
    wanted = {r["key"] for r in d["rules"]}
    for key, obj in rules.items():
        if key not in wanted:
            session.delete(obj)
            context.deleted("rule", key)

    # SLA targets: one row per tenant.
    policy = session.execute(select(SlaPolicy)).scalar_one_or_none()
    if d["sla"] and policy is None:
        session.add(SlaPolicy(definition=d["sla"]))
        context.record(CREATED, "sla")
    elif d["sla"] and policy is not None and policy.definition != d["sla"]:
        policy.definition = d["sla"]
        context.record(UPDATED, "sla")
    elif not d["sla"] and policy is not None:
        session.delete(policy)
        context.deleted("sla")


def export(context: ExportContext) -> dict:
    rules = list(db.session.scalars(select(AutomationRule).order_by(AutomationRule.position)))
    sla = db.session.execute(select(SlaPolicy.definition)).scalar_one_or_none() or {}
    return {
        "rules": [
            {
                "key": r.key,
                "name": r.name,
                "trigger": r.trigger,
                "enabled": r.enabled,
                "conditions": r.conditions or {},
                "actions": r.actions,
            }
            for r in rules
        ],
        "sla": dict(sla),
    }


SECTION = DefinitionSection(
    name="automation",
    order=30,
    keys=("rules", "sla"),
    normalize=normalize,
    compact=compact,
    validate=validate,
    sync=sync,
    export=export,
    wordings={
        "status_age_needs_status_and_after": lambda: _("a status_age rule needs 'status' and 'after'"),
        "business_clock_needs_hours": lambda: _("the business clock needs settings.business_hours in tenant.yaml"),
        "sla_filter_needs_targets": lambda: _("the sla filter needs SLA targets (sla.yaml)"),
        "start_not_before_end": lambda start, end: _(
            "start %(start)s must be before end %(end)s", start=start, end=end
        ),
        "not_a_time_of_day": lambda value: _("'%(value)s' is not a time of day (HH:MM)", value=value),
        "not_a_date": lambda value: _("'%(value)s' is not a date (YYYY-MM-DD)", value=value),
        "not_a_duration": lambda value: _("'%(value)s' is not an ISO 8601 duration", value=value),
        "months_in_business_time": lambda value: _(
            "'%(value)s': months and years cannot be counted in business hours; use days (working days) or hours",
            value=value,
        ),
        "not_a_select_field": lambda key: _("field '%(key)s' is not a choice (select) field", key=key),
        "targets_need_by": lambda: _("targets per option need 'by' (the field whose option picks the target)"),
    },
)
