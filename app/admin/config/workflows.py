"""Workflows and their steps (transitions): who may move a request from which status to which."""

from __future__ import annotations

import copy

from flask import abort, redirect, render_template, request, url_for
from flask_babel import gettext as _, ngettext
from wtforms import StringField

from app.admin.config.base import (
    apply_edit,
    bp,
    current,
    flash_problems,
    keep_problems,
    move_entry,
    render,
    text_of,
)
from app.admin.config.editing import copied, put, refuse, without
from app.admin.config.inputs import ConsoleForm, Flag, Strings, key_field
from app.admin.services import find, require
from app.admin.summaries import summary_of


# --- forms ---------------------------------------------------------------------------------------


class WorkflowForm(ConsoleForm):
    localized = ("name",)
    key = key_field(default="")
    initial_status = StringField(default="")
    copy_from = StringField(default="")


class InitialStatusForm(ConsoleForm):
    initial_status = StringField(default="")


class TransitionForm(ConsoleForm):
    localized = ("name",)
    key = key_field(default="")
    to = StringField(default="")
    from_statuses = Strings(name="from")
    from_any = Flag()
    actors = Strings()
    requires = Strings()

    def transition(self, item: dict) -> dict:
        return dict(
            item,
            key=self.key.data if "key" in self else item["key"],
            name=self.texts("name"),
            to=self.to.data,
            actors=self.actors.data,
            requires=self.requires.data,
            **{"from": [] if self.from_any.data else self.from_statuses.data},
        )


# --- editors -------------------------------------------------------------------------------------


def workflow_users(d: dict, workflow_key: str) -> list[tuple[dict, dict]]:
    """(portal, request type) pairs whose requests follow the workflow."""
    return [(p, rt) for p in d["portals"] for rt in p["request_types"] if rt["workflow"] == workflow_key]


def add_workflow(definition: dict, workflow: dict, copy_from: str = "") -> dict:
    """A new workflow, optionally starting with a copy of another one's steps (its own from then on)."""
    if find(definition["workflows"], workflow["key"]):
        refuse(_("There is already a workflow with the key %(key)s.", key=workflow["key"]), "key")
    d = copied(definition)
    if copy_from:
        source = require(find(d["workflows"], copy_from), copy_from)
        workflow = dict(workflow, transitions=copy.deepcopy(source["transitions"]))
    d["workflows"].append(workflow)
    return d


def save_workflow(definition: dict, key: str, name: dict, initial_status: str) -> dict:
    """An existing workflow's name and initial status (its steps are kept)."""
    d = copied(definition)
    workflow = require(find(d["workflows"], key), key)
    workflow.update(name=name, initial_status=initial_status)
    return d


def set_initial_status(definition: dict, key: str, initial_status: str) -> dict:
    d = copied(definition)
    require(find(d["workflows"], key), key)["initial_status"] = initial_status
    return d


def delete_workflow(definition: dict, key: str) -> dict:
    """Refused while request types follow the workflow."""
    require(find(definition["workflows"], key), key)
    users = workflow_users(definition, key)
    if users:
        refuse(
            ngettext(
                "Request type %(types)s follows workflow '%(key)s': choose another workflow for it first.",
                "Request types %(types)s follow workflow '%(key)s': choose another workflow for them first.",
                len(users),
                key=key,
                types=", ".join(f"{text_of(rt['name'])} ({p['key']}/{rt['key']})" for p, rt in users),
            )
        )
    d = copied(definition)
    d["workflows"] = [w for w in d["workflows"] if w["key"] != key]
    return d


def save_transition(definition: dict, workflow_key: str, transition: dict, *, new: bool) -> dict:
    if not transition["actors"]:
        refuse(_("Choose who may take this step (customer, agent or system)."), "actors")
    d = copied(definition)
    put(require(find(d["workflows"], workflow_key), workflow_key)["transitions"], transition, new=new)
    return d


def delete_transition(definition: dict, workflow_key: str, transition_key: str) -> dict:
    d = copied(definition)
    workflow = require(find(d["workflows"], workflow_key), workflow_key)
    workflow["transitions"] = without(workflow["transitions"], transition_key)
    return d


def requirable_fields(d: dict, workflow_key: str) -> list[dict]:
    """The fields a step of the workflow can ask for: those of the forms its request types use."""
    forms = {rt["form"] for p in d["portals"] for rt in p["request_types"] if rt["workflow"] == workflow_key}
    seen: dict[str, dict] = {}
    for form in d["forms"]:
        if form["key"] in forms:
            for f in form["fields"]:
                if f["key"] not in ("summary", "description", "attachments") and f["type"] != "files":
                    seen.setdefault(f["key"], f)
    return list(seen.values())


# --- views ---------------------------------------------------------------------------------------


@bp.get("/workflows")
def workflows():
    d = current()
    used_by = {w["key"]: workflow_users(d, w["key"]) for w in d["workflows"]}
    return render_template(
        "admin/config/workflows.html", d=d, statuses={s["key"]: s for s in d["statuses"]}, used_by=used_by
    )


@bp.route("/workflows/new", methods=["GET", "POST"])
@bp.route("/workflows/<workflow_key>", methods=["GET", "POST"])
def workflow_edit(workflow_key=None):
    """A new workflow (optionally with a copy of another one's steps), or an existing one's name and
    initial status; its steps are edited on the Workflows page."""
    d = current()
    is_new = workflow_key is None
    item = (
        {"key": "", "name": {}, "initial_status": d["workflows"][0]["initial_status"], "transitions": []}
        if is_new
        else (find(d["workflows"], workflow_key) or abort(404))
    )
    copy_from = request.args.get("copy_from", "")
    if request.method == "POST":
        form = WorkflowForm.for_tenant(new=is_new)()
        copy_from = form.copy_from.data
        item = dict(item, name=form.texts("name"), initial_status=form.initial_status.data)
        if is_new:
            item["key"] = form.key.data
        if not form.validate():
            keep_problems(form.problems())
        else:

            def edit(d: dict) -> dict:
                if is_new:
                    return add_workflow(d, item, copy_from)
                return save_workflow(d, item["key"], item["name"], item["initial_status"])

            if apply_edit(edit, summary_of("workflow", key=item["key"])) is not None:
                return redirect(url_for("admin.config.workflows"))
    return _workflow_page(d, item, is_new, copy_from)


def _workflow_page(d: dict, item: dict, is_new: bool, copy_from: str = ""):
    status_choices = [(s["key"], text_of(s["name"])) for s in d["statuses"]]
    copy_choices = [
        (w["key"], _("a copy of the steps of %(workflow)s", workflow=f"{text_of(w['name'])} ({w['key']})"))
        for w in d["workflows"]
    ]
    return render(
        "admin/config/workflow.html",
        d=d,
        item=item,
        is_new=is_new,
        copy_from=copy_from,
        status_choices=status_choices,
        copy_choices=copy_choices,
        used_by=[] if is_new else workflow_users(d, item["key"]),
    )


@bp.post("/workflows/<workflow_key>/delete")
def workflow_delete(workflow_key):
    summary = summary_of("workflow_deleted", key=workflow_key)
    if apply_edit(lambda d: delete_workflow(d, workflow_key), summary) is not None:
        return redirect(url_for("admin.config.workflows"))
    d = current()
    item = find(d["workflows"], workflow_key) or abort(404)
    return _workflow_page(d, item, False)


@bp.post("/workflows/<workflow_key>/initial")
def workflow_initial(workflow_key):
    initial = InitialStatusForm().initial_status.data
    summary = summary_of("workflow_initial_status", key=workflow_key)
    if apply_edit(lambda d: set_initial_status(d, workflow_key, initial), summary) is None:
        flash_problems()
    return redirect(url_for("admin.config.workflows"))


@bp.post("/workflows/<workflow_key>/move")
def move_transition(workflow_key):
    return move_entry(
        lambda d: require(find(d["workflows"], workflow_key), workflow_key)["transitions"],
        summary_of("transition_order", key=workflow_key),
        "admin.config.workflows",
    )


@bp.route("/workflows/<workflow_key>/transitions/new", methods=["GET", "POST"])
@bp.route("/workflows/<workflow_key>/transitions/<transition_key>", methods=["GET", "POST"])
def transition_edit(workflow_key, transition_key=None):
    d = current()
    workflow = find(d["workflows"], workflow_key) or abort(404)
    is_new = transition_key is None
    item = (
        {"key": "", "name": {}, "from": [], "to": "", "actors": ["agent"], "requires": []}
        if is_new
        else (find(workflow["transitions"], transition_key) or abort(404))
    )
    if request.method == "POST":
        form = TransitionForm.for_tenant(new=is_new)()
        item = form.transition(item)
        if not form.validate():
            keep_problems(form.problems())
        else:
            summary = summary_of("transition", key=item["key"], workflow=workflow_key)
            if apply_edit(lambda d: save_transition(d, workflow_key, item, new=is_new), summary) is not None:
                return redirect(url_for("admin.config.workflows"))
    return render(
        "admin/config/transition.html",
        d=d,
        workflow=workflow,
        item=item,
        is_new=is_new,
        requirable=requirable_fields(d, workflow_key),
    )


@bp.post("/workflows/<workflow_key>/transitions/<transition_key>/delete")
def transition_delete(workflow_key, transition_key):
    summary = summary_of("transition_deleted", key=transition_key, workflow=workflow_key)
    if apply_edit(lambda d: delete_transition(d, workflow_key, transition_key), summary) is None:
        flash_problems()
    return redirect(url_for("admin.config.workflows"))
