"""Semantic checks of the definition's automation parts (called by ``app.tenancy.definition``):
time rules' clocks and durations, the business calendar, the SLA targets and the ``sla`` queue
filter. Each problem names its key path; the loader adds the file."""

from __future__ import annotations

from datetime import date

from flask_babel import gettext as _

from app.automation.calendar import parse_duration


def check_automation(data: dict, problems) -> None:
    settings = data.get("settings", {})
    hours = settings.get("business_hours")
    _check_business_hours(hours, problems)
    for index, rule in enumerate(data.get("rules", [])):
        conditions = rule.get("conditions", {})
        if rule["trigger"] != "status_age" or "after" not in conditions:
            continue
        path = ["rules", index, "conditions"]
        _check_duration(
            conditions["after"], conditions.get("clock", "calendar"), bool(hours), path + ["after"], problems
        )
        if conditions.get("clock") == "business" and not hours:
            problems.add(path + ["clock"], _("the business clock needs settings.business_hours in tenant.yaml"))
    _check_sla(data, bool(hours), problems)
    for index, queue in enumerate(data.get("queues", [])):
        if queue.get("filters", {}).get("sla") and not data.get("sla"):
            problems.add(["queues", index, "filters", "sla"], _("the sla filter needs SLA targets (sla.yaml)"))


def _check_business_hours(hours, problems) -> None:
    if not hours:
        return
    path = ["settings", "business_hours"]
    if hours.get("start", "08:00") >= hours.get("end", "16:00"):
        problems.add(
            path,
            _(
                "start %(start)s must be before end %(end)s",
                start=hours.get("start", "08:00"),
                end=hours.get("end", "16:00"),
            ),
        )
    for name in ("start", "end"):
        value = hours.get(name)
        if value is not None and not (value[:2].isdigit() and int(value[:2]) < 24 and int(value[3:]) < 60):
            problems.add(path + [name], _("'%(value)s' is not a time of day (HH:MM)", value=value))
    for index, text in enumerate(hours.get("holidays", [])):
        try:
            date.fromisoformat(text)
        except ValueError:
            problems.add(path + ["holidays", index], _("'%(value)s' is not a date (YYYY-MM-DD)", value=text))


def _check_duration(text: str, clock: str, has_hours: bool, path: list, problems) -> None:
    try:
        duration = parse_duration(text)
    except ValueError:
        problems.add(path, _("'%(value)s' is not an ISO 8601 duration", value=text))
        return
    if clock == "business" and duration.has_months:
        problems.add(
            path,
            _(
                "'%(value)s': months and years cannot be counted in business hours; use days (working days) or hours",
                value=text,
            ),
        )


def _check_sla(data: dict, has_hours: bool, problems) -> None:
    sla = data.get("sla")
    if not sla:
        return
    clock = sla.get("clock", "calendar")
    if clock == "business" and not has_hours:
        problems.add(["sla", "clock"], _("the business clock needs settings.business_hours in tenant.yaml"))
    field = sla.get("by")
    options: set | None = None
    if field is not None:
        found = [f for form in data.get("forms", []) for f in form["fields"] if f["key"] == field]
        if not found:
            problems.add(["sla", "by"], _("no form has a field '%(key)s'", key=field))
        elif any(f["type"] != "select" for f in found):
            problems.add(["sla", "by"], _("field '%(key)s' is not a choice (select) field", key=field))
        else:
            options = {o["key"] for f in found for o in f.get("options", [])}
    if sla.get("targets") and field is None:
        problems.add(["sla", "targets"], _("targets per option need 'by' (the field whose option picks the target)"))
    for key, target in (sla.get("targets") or {}).items():
        if options is not None and key not in options:
            problems.add(
                ["sla", "targets", key], _("'%(value)s' is not an option of '%(field)s'", value=key, field=field)
            )
        for name, text in target.items():
            _check_duration(text, clock, has_hours, ["sla", "targets", key, name], problems)
    for name, text in (sla.get("default") or {}).items():
        _check_duration(text, clock, has_hours, ["sla", "default", name], problems)
    if "warn_before" in sla:
        _check_duration(sla["warn_before"], clock, has_hours, ["sla", "warn_before"], problems)
