"""Statuses: the states a request is in, their names for support and for customers, and category."""

from __future__ import annotations

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, keep_problems, move_entry, render
from app.admin.config.editing import copied, put, refuse
from app.admin.config.inputs import ConsoleForm, Flag, key_field, strip
from app.admin.services import find, require
from app.admin.summaries import summary_of

DEFAULT_COLOR = "#6c757d"


class StatusForm(ConsoleForm):
    localized = ("name", "customer_name")
    key = key_field(default="")
    category = StringField(default="open")
    color = StringField(filters=[strip])
    notify = Flag()

    def status(self, item: dict) -> dict:
        """The status the inputs describe; customers see the support name unless given their own."""
        name = self.texts("name")
        return dict(
            item,
            key=self.key.data if "key" in self else item["key"],
            name=name,
            customer_name=self.texts("customer_name") or dict(name),
            category=self.category.data,
            color=self.color.data or DEFAULT_COLOR,
            notify=self.notify.data,
        )


def save_status(definition: dict, status: dict, *, new: bool) -> dict:
    d = copied(definition)
    put(d["statuses"], status, new=new)
    return d


def delete_status(definition: dict, key: str) -> dict:
    """Remove a status and what points at it (transitions into it, its source in others, rules on
    it); ``apply_definition`` still refuses when requests are in the status."""
    d = copied(definition)
    require(find(d["statuses"], key), key)
    for workflow in d["workflows"]:
        if workflow["initial_status"] == key:
            refuse(
                _(
                    "New requests of workflow '%(workflow)s' start in status '%(key)s': "
                    "choose another initial status first.",
                    workflow=workflow["key"],
                    key=key,
                )
            )
    d["statuses"] = [s for s in d["statuses"] if s["key"] != key]
    for workflow in d["workflows"]:
        kept = []
        for transition in workflow["transitions"]:
            if transition["to"] == key:
                continue
            if key in transition["from"]:
                transition["from"] = [s for s in transition["from"] if s != key]
                if not transition["from"]:
                    continue
            kept.append(transition)
        workflow["transitions"] = kept
    kept_rules = []
    for rule in d["rules"]:
        statuses = rule.get("conditions", {}).get("status")
        if statuses and key in statuses:
            statuses = [s for s in statuses if s != key]
            if not statuses:
                continue
            rule["conditions"]["status"] = statuses
        rule["actions"] = [a for a in rule["actions"] if a.get("transition_to") != key]
        if rule["actions"]:
            kept_rules.append(rule)
    d["rules"] = kept_rules
    return d


@bp.get("/statuses")
def statuses():
    return render_template("admin/config/statuses.html", d=current())


@bp.post("/statuses/move")
def move_status():
    return move_entry(lambda d: d["statuses"], summary_of("status_order"), "admin.config.statuses")


@bp.route("/statuses/new", methods=["GET", "POST"])
@bp.route("/statuses/<status_key>", methods=["GET", "POST"])
def status_edit(status_key=None):
    d = current()
    is_new = status_key is None
    item = (
        {"key": "", "name": {}, "customer_name": {}, "category": "open", "color": DEFAULT_COLOR, "notify": True}
        if is_new
        else (find(d["statuses"], status_key) or abort(404))
    )
    if request.method == "POST":
        form = StatusForm.for_tenant(new=is_new)()
        item = form.status(item)
        if not form.validate():
            keep_problems(form.problems())
        elif apply_edit(lambda d: save_status(d, item, new=is_new), summary_of("status", key=item["key"])) is not None:
            return redirect(url_for("admin.config.statuses"))
    return render("admin/config/status.html", d=d, item=item, is_new=is_new)


@bp.post("/statuses/<status_key>/delete")
def status_delete(status_key):
    summary = summary_of("status_deleted", key=status_key)
    if apply_edit(lambda d: delete_status(d, status_key), summary) is not None:
        return redirect(url_for("admin.config.statuses"))
    d = current()
    item = find(d["statuses"], status_key) or abort(404)
    return render("admin/config/status.html", d=d, item=item, is_new=False)
