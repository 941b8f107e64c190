"""The workflow part of the tenant definition (``workflow.yaml``): statuses, workflows, transitions.

Validated, synced and exported here, registered with the tenant definition's sections by
``create_app``. Statuses and workflows are removed only in ``prune``, after the catalog has moved
its request types off them; a status that requests are in is kept (the change is refused).
"""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.tenancy.definition import check_unique
from app.tenancy.problems import Problems
from app.tenancy.sections import DefinitionSection, ExportContext, SyncContext
from app.workflow.models import Status, Transition, Workflow


def normalize(out: dict) -> None:
    for status in out["statuses"]:
        status.setdefault("customer_name", dict(status["name"]))
        status.setdefault("color", "#6c757d")
        status.setdefault("notify", True)
    for workflow in out["workflows"]:
        for transition in workflow["transitions"]:
            sources = transition.get("from")
            transition["from"] = [sources] if isinstance(sources, str) else (sources or [])
            transition.setdefault("requires", [])


def compact(out: dict) -> None:
    for status in out["statuses"]:
        if status.get("customer_name") == status["name"]:
            status.pop("customer_name")
        if status.get("notify") is True:
            status.pop("notify")
    for workflow in out["workflows"]:
        for transition in workflow["transitions"]:
            sources = transition.pop("from", [])
            if len(sources) == 1:
                transition["from"] = sources[0]
            elif sources:
                transition["from"] = sources
            if not transition.get("requires"):
                transition.pop("requires", None)


def validate(data: dict, problems: Problems) -> None:
    statuses = check_unique(data["statuses"], ["statuses"], problems)
    check_unique(data["workflows"], ["workflows"], problems)
    for w_index, workflow in enumerate(data["workflows"]):
        wpath = ["workflows", w_index]
        if workflow["initial_status"] not in statuses:
            problems.add(wpath + ["initial_status"], "unknown_status", key=workflow["initial_status"])
        check_unique(workflow["transitions"], wpath + ["transitions"], problems)
        for t_index, transition in enumerate(workflow["transitions"]):
            tpath = wpath + ["transitions", t_index]
            sources = transition.get("from")
            for source_key in [sources] if isinstance(sources, str) else sources or []:
                if source_key not in statuses:
                    problems.add(tpath + ["from"], "unknown_status", key=source_key)
                elif statuses[source_key]["category"] == "closed":
                    problems.add(tpath + ["from"], "status_is_final", key=source_key)
            if transition["to"] not in statuses:
                problems.add(tpath + ["to"], "unknown_status", key=transition["to"])
    forward_status = data.get("settings", {}).get("forward_status")
    if forward_status is not None and forward_status not in statuses:
        problems.add(["settings", "forward_status"], "unknown_status", key=forward_status)


def sync(d: dict, context: SyncContext) -> None:
    session = db.session
    statuses = {s.key: s for s in session.scalars(select(Status))}
    for position, s in enumerate(d["statuses"]):
        context.upsert(
            Status,
            statuses,
            s["key"],
            "status",
            name=s["name"],
            customer_name=s["customer_name"],
            category=s["category"],
            color=s["color"],
            notify=s["notify"],
            position=position,
        )
    session.flush()

    workflows = {w.key: w for w in session.scalars(select(Workflow))}
    for w in d["workflows"]:
        workflow = context.upsert(
            Workflow,
            workflows,
            w["key"],
            "workflow",
            name=w["name"],
            initial_status_id=statuses[w["initial_status"]].id,
        )
        session.flush()
        existing = {t.key: t for t in workflow.transitions}
        keep = set()
        for position, t in enumerate(w["transitions"]):
            sources = t["from"] or [None]
            for source in sources:
                # A transition from several statuses is stored once per source status.
                key = t["key"] if len(sources) == 1 else f"{t['key']}@{source}"
                keep.add(key)
                obj = existing.get(key)
                if obj is None:
                    obj = Transition(key=key, workflow=workflow)
                    session.add(obj)
                    existing[key] = obj
                context.assign(
                    obj,
                    "transition",
                    f"{w['key']}/{key}",
                    name=t["name"],
                    from_status_id=statuses[source].id if source else None,
                    to_status_id=statuses[t["to"]].id,
                    actors=list(t["actors"]),
                    requires=list(t["requires"]),
                    position=position,
                )
        for key, obj in existing.items():
            if key not in keep:
                session.delete(obj)
                context.deleted("transition", f"{w['key']}/{key}")
    session.flush()
    context.ids["workflow"] = {key: w.id for key, w in workflows.items()}


def prune(d: dict, context: SyncContext) -> None:
    """Remove the workflows and statuses the definition no longer has (the catalog let go of them)."""
    session = db.session
    wanted_workflows = {w["key"] for w in d["workflows"]}
    for workflow in session.scalars(select(Workflow).order_by(Workflow.id)):
        if workflow.key not in wanted_workflows:
            session.delete(workflow)
            context.deleted("workflow", workflow.key)
    session.flush()
    wanted = {s["key"] for s in d["statuses"]}
    for obj in session.scalars(select(Status).order_by(Status.id)):
        if obj.key in wanted:
            continue
        if context.in_use("status", obj.id):
            context.refuse("status_in_use", key=obj.key)
        else:
            session.delete(obj)
            context.deleted("status", obj.key)


def export(context: ExportContext) -> dict:
    statuses = list(db.session.scalars(select(Status).order_by(Status.position)))
    status_key = {s.id: s.key for s in statuses}
    workflows = list(db.session.scalars(select(Workflow).order_by(Workflow.id)))
    context.keys["workflow"] = {w.id: w.key for w in workflows}
    transitions = list(
        db.session.scalars(select(Transition).order_by(Transition.workflow_id, Transition.position, Transition.id))
    )

    def transitions_of(workflow_id):
        merged: dict[str, dict] = {}
        for t in transitions:
            if t.workflow_id != workflow_id:
                continue
            base_key = t.key.split("@", 1)[0]
            item = merged.get(base_key)
            if item is None:
                item = merged[base_key] = {
                    "key": base_key,
                    "name": t.name,
                    "from": [],
                    "to": status_key[t.to_status_id],
                    "actors": list(t.actors),
                    "requires": list(t.requires or []),
                }
            if t.from_status_id is not None:
                item["from"].append(status_key[t.from_status_id])
        return list(merged.values())

    return {
        "statuses": [
            {
                "key": s.key,
                "name": s.name,
                "customer_name": s.customer_name,
                "category": s.category,
                "color": s.color,
                "notify": s.notify,
            }
            for s in statuses
        ],
        "workflows": [
            {
                "key": w.key,
                "name": w.name,
                "initial_status": status_key[w.initial_status_id],
                "transitions": transitions_of(w.id),
            }
            for w in workflows
        ],
    }


SECTION = DefinitionSection(
    name="workflow",
    order=10,
    keys=("statuses", "workflows"),
    normalize=normalize,
    compact=compact,
    validate=validate,
    sync=sync,
    prune=prune,
    export=export,
    wordings={
        "unknown_status": lambda key: _("unknown status '%(key)s'", key=key),
        "status_is_final": lambda key: _("status '%(key)s' is final (closed) and cannot be left", key=key),
        "status_in_use": lambda key: _(
            "status '%(key)s' was removed but requests are in it; move them to "
            "another status first or keep it in the definition",
            key=key,
        ),
    },
)
