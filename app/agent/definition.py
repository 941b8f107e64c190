"""The agent queues of the tenant definition (``queues.yaml``).

Validated, synced and exported here, registered with the tenant definition's sections by
``create_app``. A queue's filters use the request list's vocabulary (statuses, portal, request
types, choice-field options); no request refers to a queue, so a queue the definition no longer has
is removed.
"""

from __future__ import annotations

import copy

from flask_babel import gettext as _
from sqlalchemy import select

from app.agent.models import Queue
from app.extensions import db
from app.tenancy.definition import check_unique
from app.tenancy.problems import Problems
from app.tenancy.sections import DefinitionSection, ExportContext, SyncContext


# An agent queue's filters (the request list's vocabulary); "any" assignee means no filter.
QUEUE_FILTER_DEFAULTS: dict[str, object] = {
    "status": "open",
    "statuses": [],
    "assignee": "any",
    "portal": None,
    "request_types": [],
    "fields": {},
    "sort": "-updated",
}


def normalize(out: dict) -> None:
    out.setdefault("queues", [])
    for queue in out["queues"]:
        filters = queue.setdefault("filters", {})
        for key, default in QUEUE_FILTER_DEFAULTS.items():
            filters.setdefault(key, copy.deepcopy(default))


def compact(out: dict) -> None:
    if out.get("queues") == []:
        out.pop("queues")
    for queue in out.get("queues", []):
        filters = queue.get("filters", {})
        for key, default in QUEUE_FILTER_DEFAULTS.items():
            if key in filters and filters[key] == default:
                filters.pop(key)
        if not filters:
            queue.pop("filters", None)


def validate(data: dict, problems: Problems) -> None:
    """Agent queues filter by known statuses, portals, request types and choice-field options."""
    statuses = {s["key"] for s in data["statuses"]}
    queues = data.get("queues", [])
    check_unique(queues, ["queues"], problems)
    portals = {p["key"]: {rt["key"] for rt in p["request_types"]} for p in data["portals"]}
    choice_options: dict[str, set] = {}
    for form in data["forms"]:
        for fdef in form["fields"]:
            if fdef["type"] == "select":
                choice_options.setdefault(fdef["key"], set()).update(o["key"] for o in fdef.get("options", []))
    for q_index, queue in enumerate(queues):
        path = ["queues", q_index, "filters"]
        filters = queue.get("filters", {})
        for i, key in enumerate(filters.get("statuses", [])):
            if key not in statuses:
                problems.add(path + ["statuses", i], "unknown_status", key=key)
        portal = filters.get("portal")
        if portal is not None and portal not in portals:
            problems.add(path + ["portal"], "unknown_portal", key=portal)
        for i, ref in enumerate(filters.get("request_types", [])):
            portal_key, _sep, type_key = ref.rpartition("/")
            if portal_key:
                known = type_key in portals.get(portal_key, set())
            else:
                known = any(type_key in types for key, types in portals.items() if portal in (None, key))
            if not known:
                problems.add(path + ["request_types", i], "unknown_request_type", key=ref)
        for key, values in filters.get("fields", {}).items():
            if key not in choice_options:
                problems.add(path + ["fields", key], "no_select_field", key=key)
                continue
            for i, value in enumerate(values):
                if value not in choice_options[key]:
                    problems.add(path + ["fields", key, i], "not_an_option_of", value=value, field=key)


def sync(d: dict, context: SyncContext) -> None:
    queues = {q.key: q for q in db.session.scalars(select(Queue))}
    for position, q in enumerate(d["queues"]):
        context.upsert(Queue, queues, q["key"], "queue", name=q["name"], filters=q["filters"], position=position)
    wanted = {q["key"] for q in d["queues"]}
    for key, obj in queues.items():
        if key not in wanted:
            db.session.delete(obj)
            context.deleted("queue", key)


def export(context: ExportContext) -> dict:
    queues = db.session.scalars(select(Queue).order_by(Queue.position, Queue.id))
    return {"queues": [{"key": q.key, "name": q.name, "filters": dict(q.filters or {})} for q in queues]}


SECTION = DefinitionSection(
    name="queues",
    order=40,
    keys=("queues",),
    normalize=normalize,
    compact=compact,
    validate=validate,
    sync=sync,
    export=export,
    wordings={
        "unknown_portal": lambda key: _("unknown portal '%(key)s'", key=key),
        "unknown_request_type": lambda key: _("unknown request type '%(key)s'", key=key),
        "no_select_field": lambda key: _("no form has a choice (select) field '%(key)s'", key=key),
    },
)
