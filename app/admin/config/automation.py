"""Automation rules: when something happens (or a request waits), move it, comment, notify, survey."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, flash_problems, keep_problems, render
from app.admin.config.editing import copied, put, refuse, without
from app.admin.config.inputs import ConsoleForm, Flag, Strings, key_field, strip
from app.admin.services import find
from app.admin.summaries import summary_of


class RuleForm(ConsoleForm):
    localized = ("name", "comment")
    key = key_field(default="")
    trigger = StringField(default="status_age")
    status = Strings()
    after = StringField(filters=[strip])
    clock = StringField(filters=[strip])
    transition_to = StringField(default="")
    notify = StringField(default="")
    survey = Flag()
    enabled = Flag()

    def rule(self, item: dict) -> dict:
        """The rule the inputs describe; ``after`` and ``clock`` count only for time in a status."""
        trigger = self.trigger.data
        conditions = dict(item.get("conditions") or {})
        conditions["status"] = self.status.data
        if not conditions["status"]:
            conditions.pop("status")
        for name in ("after", "clock"):
            value = self[name].data
            if value and trigger == "status_age":
                conditions[name] = value.upper() if name == "after" else value
            else:
                conditions.pop(name, None)
        actions: list[dict] = []
        if self.transition_to.data:
            actions.append({"transition_to": self.transition_to.data})
        if self.texts("comment"):
            actions.append({"comment": self.texts("comment")})
        if self.notify.data:
            actions.append({"notify": self.notify.data})
        if self.survey.data:
            actions.append({"survey": "satisfaction"})
        return dict(
            item,
            key=self.key.data if "key" in self else item["key"],
            name=self.texts("name"),
            trigger=trigger,
            enabled=self.enabled.data,
            conditions=conditions,
            actions=actions,
        )


def rule_actions(rule: dict) -> dict:
    """A rule's actions as the form shows them (one input per kind of action)."""
    out = {"transition_to": "", "comment": {}, "notify": "", "survey": False}
    for action in rule.get("actions", []):
        if "transition_to" in action:
            out["transition_to"] = action["transition_to"]
        elif "comment" in action:
            out["comment"] = action["comment"]
        elif "notify" in action:
            out["notify"] = action["notify"]
        elif "survey" in action:
            out["survey"] = True
    return out


def save_rule(definition: dict, rule: dict, *, new: bool) -> dict:
    if not rule["actions"]:
        refuse(_("Choose at least one action (move to a status, comment, notify or survey)."), "actions")
    d = copied(definition)
    put(d["rules"], rule, new=new)
    return d


def delete_rule(definition: dict, key: str) -> dict:
    d = copied(definition)
    d["rules"] = without(d["rules"], key)
    return d


@bp.get("/rules")
def rules():
    d = current()
    return render_template("admin/config/rules.html", d=d, statuses={s["key"]: s for s in d["statuses"]})


@bp.route("/rules/new", methods=["GET", "POST"])
@bp.route("/rules/<rule_key>", methods=["GET", "POST"])
def rule_edit(rule_key=None):
    d = current()
    is_new = rule_key is None
    item = (
        {
            "key": "",
            "name": {},
            "trigger": "status_age",
            "enabled": True,
            "conditions": {"status": [], "after": "P7D", "clock": "calendar"},
            "actions": [],
        }
        if is_new
        else (find(d["rules"], rule_key) or abort(404))
    )
    if request.method == "POST":
        form = RuleForm.for_tenant(new=is_new)()
        item = form.rule(item)
        if not form.validate():
            keep_problems(form.problems())
        elif apply_edit(lambda d: save_rule(d, item, new=is_new), summary_of("rule", key=item["key"])) is not None:
            return redirect(url_for("admin.config.rules"))
    return render(
        "admin/config/rule.html",
        d=d,
        item=item,
        is_new=is_new,
        actions=rule_actions(item),
        has_business_hours=bool(d["settings"].get("business_hours")),
    )


@bp.post("/rules/<rule_key>/delete")
def rule_delete(rule_key):
    if apply_edit(lambda d: delete_rule(d, rule_key), summary_of("rule_deleted", key=rule_key)) is None:
        flash_problems()
    return redirect(url_for("admin.config.rules"))
