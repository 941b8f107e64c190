"""SLA targets (first response, resolution) by a choice field's value, and the business calendar."""

from __future__ import annotations

from flask import redirect, request, url_for
from flask_babel import lazy_gettext as _l
from wtforms import StringField, TextAreaField

from app.admin.config.base import apply_edit, bp, current, render
from app.admin.config.editing import copied, set_or_pop
from app.admin.config.inputs import ConsoleForm, Flag, Grouped, Strings, strip
from app.admin.summaries import summary_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}
TARGETS = ("first_response", "resolution")


class SlaForm(ConsoleForm):
    """Business hours and the SLA policy; targets are posted as ``target.<option>.<target>`` and
    ``default.<target>`` (durations, upper-cased)."""

    hours_enabled = Flag()
    days = Strings()
    start = StringField(filters=[strip], default="")
    end = StringField(filters=[strip], default="")
    holidays = TextAreaField(default="")
    sla_enabled = Flag()
    clock = StringField(default="calendar")
    by = StringField(default="")
    warn_before = StringField(filters=[strip], default="")
    target = Grouped(prefix="target")
    default = Grouped(prefix="default")

    def business_hours(self) -> dict:
        """``settings.business_hours`` as the inputs set them ({} when the portal has none)."""
        if not self.hours_enabled.data:
            return {}
        hours = {
            "days": [day for day in WEEKDAYS if day in self.days.data],
            "start": self.start.data,
            "end": self.end.data,
            "holidays": [line.strip() for line in (self.holidays.data or "").splitlines() if line.strip()],
        }
        if not hours["holidays"]:
            hours.pop("holidays")
        return hours

    def policy(self, select_fields: dict[str, dict]) -> dict:
        """The SLA policy as the inputs set it ({} without SLA targets); targets are read for the
        options of the field chosen as ``by``."""
        if not self.sla_enabled.data:
            return {}
        by = self.by.data or None
        policy = {"clock": self.clock.data, "warn_before": (self.warn_before.data or "PT4H").upper()}
        targets = {}
        for option in select_fields.get(by, {}).get("options", []) if by else []:
            target = _durations(self.target.data, f"{option['key']}.")
            if target:
                targets[option["key"]] = target
        if by:
            policy["by"] = by
        policy["targets"] = targets
        default = _durations(self.default.data, "")
        if default:
            policy["default"] = default
        return policy


def _durations(posted: dict[str, list[str]], prefix: str) -> dict[str, str]:
    values = {name: ((posted.get(prefix + name) or [""])[0]).strip().upper() for name in TARGETS}
    return {name: value for name, value in values.items() if value}


def select_fields(d: dict) -> dict[str, dict]:
    """The single-choice fields by key (the first form's definition of each)."""
    fields: dict[str, dict] = {}
    for form in d["forms"]:
        for f in form["fields"]:
            if f["type"] == "select":
                fields.setdefault(f["key"], f)
    return fields


def save_sla(definition: dict, hours: dict, policy: dict) -> dict:
    d = copied(definition)
    set_or_pop(d["settings"], "business_hours", hours or None)
    d["sla"] = policy
    return d


@bp.route("/sla", methods=["GET", "POST"])
def sla():
    d = current()
    hours = dict(d["settings"].get("business_hours") or {})
    policy = dict(d["sla"] or {})
    choices = select_fields(d)
    if request.method == "POST":
        form = SlaForm()
        hours, policy = form.business_hours(), form.policy(choices)
        if apply_edit(lambda d: save_sla(d, hours, policy), summary_of("sla")) is not None:
            return redirect(url_for("admin.config.sla"))
    return render(
        "admin/config/sla.html", d=d, hours=hours, policy=policy, select_fields=choices, weekdays=WEEKDAY_LABELS
    )
