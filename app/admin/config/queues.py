"""Agent queues: saved filters of the agents' workspace (status group, assignee, portal, types...)."""

from __future__ import annotations

import copy

from flask import abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l
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
from app.admin.config.editing import copied, put, refuse, set_or_pop, without
from app.admin.config.inputs import ConsoleForm, Grouped, Strings, key_field
from app.admin.services import find
from app.admin.summaries import summary_of
from app.agent.definition import QUEUE_FILTER_DEFAULTS

QUEUE_STATUS_LABELS = {
    "open": _l("Open and waiting"),
    "waiting": _l("Waiting"),
    "resolved": _l("Resolved"),
    "closed": _l("Closed"),
    "all": _l("All"),
}
ASSIGNEE_LABELS = {
    "any": _l("Anyone or nobody"),
    "me": _l("The agent looking at the queue"),
    "none": _l("Nobody (unassigned)"),
}
SORT_LABELS = {
    "updated": _l("Updated"),
    "created": _l("Created"),
    "reference": _l("Reference"),
    "summary": _l("Summary"),
    "status": _l("Status"),
    "portal": _l("Portal"),
    "requester": _l("Requester"),
}
SORT_ORDER_LABELS = {"asc": _l("ascending"), "desc": _l("descending")}
SLA_FILTER_LABELS = {"breaching": _l("Due soon or breached"), "breached": _l("Breached")}


# --- forms ---------------------------------------------------------------------------------------


class QueueForm(ConsoleForm):
    """A queue's filters; ``fields.<key>`` are the values of a choice field the queue keeps."""

    localized = ("name",)
    key = key_field(default="")
    status = StringField(default="")
    statuses = Strings()
    assignee = StringField(default="")
    portal = StringField(default="")
    request_types = Strings()
    fields = Grouped(prefix="fields")
    sla = StringField(default="")
    sort = StringField(default="")
    sort_order = StringField(default="")

    def queue(self, d: dict, item: dict) -> dict:
        """The queue the inputs describe (``item``: the queue as it was; ``d``: the definition)."""
        filters = dict(item["filters"])
        portal = self.portal.data or None
        posted = {key: [v for v in values if v] for key, values in self.fields.data.items()}
        fields = {}
        for key in [f["key"] for f in queue_choice_fields(d)] + list(posted):
            if posted.get(key) and key not in fields:
                fields[key] = posted[key]
        filters.update(
            status=self.status.data or "open",
            statuses=self.statuses.data,
            assignee=self.assignee.data or "any",
            portal=portal,
            request_types=queue_type_refs(
                d, item["filters"].get("request_types") or [], self.request_types.data, portal
            ),
            fields=fields,
            sort=("-" if self.sort_order.data == "desc" else "") + (self.sort.data or "updated"),
        )
        set_or_pop(filters, "sla", self.sla.data or None)
        return dict(item, key=self.key.data if "key" in self else item["key"], name=self.texts("name"), filters=filters)


# --- editors -------------------------------------------------------------------------------------


def blank_queue() -> dict:
    return {"key": "", "name": {}, "filters": copy.deepcopy(QUEUE_FILTER_DEFAULTS)}


def queue_choice_fields(d: dict) -> list[dict]:
    """The select fields a queue can filter by: one per key, with the options of every form that has it
    (the validator accepts an option of any of them)."""
    fields: dict[str, dict] = {}
    for form in d["forms"]:
        for f in form["fields"]:
            if f["type"] != "select":
                continue
            entry = fields.setdefault(f["key"], {"key": f["key"], "label": f["label"], "options": []})
            known = {o["key"] for o in entry["options"]}
            entry["options"] += [o for o in f.get("options", []) if o["key"] not in known]
    return list(fields.values())


def type_refs(d: dict, ref: str, portal: str | None) -> set[str]:
    """The ``portal/type`` references a queue's request type reference stands for."""
    portal_key, _sep, type_key = ref.rpartition("/")
    if portal_key:
        return {ref}
    return {
        f"{p['key']}/{type_key}"
        for p in d["portals"]
        if portal in (None, p["key"]) and any(rt["key"] == type_key for rt in p["request_types"])
    }


def queue_type_refs(d: dict, original: list[str], checked: list[str], portal: str | None) -> list[str]:
    """The request types ticked on the form, written as the definition had them: a bare type key whose
    request types are all still ticked stays a bare key; others are ``portal/type``."""
    remaining = list(dict.fromkeys(checked))
    out = []
    for ref in original:
        expanded = type_refs(d, ref, portal)
        if "/" not in ref and expanded and expanded <= set(remaining):
            out.append(ref)
            remaining = [r for r in remaining if r not in expanded]
        elif ref in remaining:
            out.append(ref)
            remaining.remove(ref)
    return out + remaining


def hidden_statuses(d: dict, filters: dict) -> list[str]:
    """Chosen statuses that the queue's status group leaves out (such a queue never shows them)."""
    from app.tickets.listing import STATUS_GROUPS

    group = STATUS_GROUPS.get(filters.get("status") or "open")
    if group is None:
        return []
    categories = {s["key"]: s["category"] for s in d["statuses"]}
    return [key for key in filters.get("statuses") or [] if key in categories and categories[key] not in group]


def save_queue(definition: dict, queue: dict, *, new: bool) -> dict:
    if new and find(definition["queues"], queue["key"]):
        refuse(_("There is already a queue with the key %(key)s.", key=queue["key"]), "key")
    d = copied(definition)
    put(d["queues"], queue, new=new)
    return d


def delete_queue(definition: dict, key: str) -> dict:
    d = copied(definition)
    d["queues"] = without(d["queues"], key)
    return d


def start_from_presets(definition: dict, presets: list[dict]) -> dict:
    """The preset queues as the tenant's own, while it has none."""
    if definition["queues"]:
        refuse(_("This portal already has queues of its own."))
    d = copied(definition)
    d["queues"] = copy.deepcopy(presets)
    return d


def preset_queues(locales) -> list[dict]:
    """The presets agents see while the tenant has no queues, as queues of its own (names in each of
    its languages)."""
    from app.agent.services import DEFAULT_QUEUES

    queues = []
    for preset in DEFAULT_QUEUES:
        name = {}
        for lang in locales:
            with force_locale(lang):
                name[lang] = str(preset.name)
        queues.append({"key": preset.key, "name": name, "filters": dict(preset.filters)})
    return queues


def queue_shows(d: dict, filters: dict) -> dict:
    """What a queue shows, in the admin's words, for the list: status, assignee, other filters, order."""
    statuses = {s["key"]: s for s in d["statuses"]}
    status = str(QUEUE_STATUS_LABELS.get(filters.get("status") or "open", filters.get("status")))
    chosen = [text_of(statuses[k]["name"]) if k in statuses else k for k in filters.get("statuses") or []]
    other = []
    portal = find(d["portals"], filters.get("portal") or "")
    if portal:
        other.append(f"{_('Portal')}: {text_of(portal['name'])}")
    names = {}
    for p in d["portals"]:
        for rt in p["request_types"]:
            names[f"{p['key']}/{rt['key']}"] = text_of(rt["name"])
            names.setdefault(rt["key"], text_of(rt["name"]))
    if filters.get("request_types"):
        other.append(f"{_('Request types')}: " + ", ".join(names.get(r, r) for r in filters["request_types"]))
    choice = {f["key"]: f for f in queue_choice_fields(d)}
    for key, values in (filters.get("fields") or {}).items():
        field = choice.get(key)
        labels = {o["key"]: text_of(o["label"]) for o in field["options"]} if field else {}
        other.append(f"{text_of(field['label']) if field else key}: " + ", ".join(labels.get(v, v) for v in values))
    if filters.get("sla"):
        other.append(f"{_('SLA')}: {SLA_FILTER_LABELS.get(filters['sla'], filters['sla'])}")
    sort = filters.get("sort") or "-updated"
    order = SORT_ORDER_LABELS["desc" if sort.startswith("-") else "asc"]
    return {
        "status": "; ".join([status] + chosen),
        "other": other,
        "assignee": str(ASSIGNEE_LABELS.get(filters.get("assignee") or "any")),
        "sort": f"{SORT_LABELS.get(sort.lstrip('-'), sort)}, {order}",
    }


# --- views ---------------------------------------------------------------------------------------


@bp.get("/queues")
def queues():
    from app.agent.services import DEFAULT_QUEUES

    d = current()
    return render_template(
        "admin/config/queues.html", d=d, presets=DEFAULT_QUEUES, shows=lambda filters: queue_shows(d, filters)
    )


@bp.post("/queues/move")
def move_queue():
    return move_entry(lambda d: d["queues"], summary_of("queue_order"), "admin.config.queues")


@bp.post("/queues/presets")
def queue_presets():
    presets = preset_queues(g.tenant.locales)
    if apply_edit(lambda d: start_from_presets(d, presets), summary_of("queue_presets")) is None:
        flash_problems()
    return redirect(url_for("admin.config.queues"))


@bp.route("/queues/new", methods=["GET", "POST"])
@bp.route("/queues/<queue_key>", methods=["GET", "POST"])
def queue_edit(queue_key=None):
    d = current()
    is_new = queue_key is None
    item = blank_queue() if is_new else (find(d["queues"], queue_key) or abort(404))
    if request.method == "POST":
        form = QueueForm.for_tenant(new=is_new)()
        item = form.queue(d, item)
        if not form.validate():
            keep_problems(form.problems())
        elif apply_edit(lambda d: save_queue(d, item, new=is_new), summary_of("queue", key=item["key"])) is not None:
            _warn_after_saving(d, item)
            return redirect(url_for("admin.config.queues"))
    return _queue_page(d, item, is_new)


def _warn_after_saving(d: dict, item: dict) -> None:
    """What the admin may not expect: statuses the queue never shows; agents leaving the presets."""
    hidden = hidden_statuses(d, item["filters"])
    if hidden:
        flash(
            _(
                "The queue never shows requests in %(statuses)s: they are not in its status group %(group)s.",
                statuses=", ".join(text_of(find(d["statuses"], k)["name"]) for k in hidden),
                group=QUEUE_STATUS_LABELS[item["filters"]["status"]],
            ),
            "warning",
        )
    if not d["queues"]:
        flash(_("Agents now see this portal's own queues instead of the presets."), "info")


def _queue_page(d: dict, item: dict, is_new: bool):
    types = [
        (f"{p['key']}/{rt['key']}", f"{text_of(p['name'])} › {text_of(rt['name'])}")
        for p in d["portals"]
        for rt in p["request_types"]
    ]
    ticked = set()
    for ref in item["filters"].get("request_types") or []:
        ticked |= type_refs(d, ref, item["filters"].get("portal")) or {ref}
    known = {ref for ref, _label in types}
    types += [(ref, ref) for ref in sorted(ticked - known)]  # unknown ones, to untick
    portal_choices = [("", _("All portals"))] + [(p["key"], text_of(p["name"])) for p in d["portals"]]
    return render(
        "admin/config/queue.html",
        d=d,
        item=item,
        is_new=is_new,
        types=types,
        ticked_types=ticked,
        portal_choices=portal_choices,
        choice_fields=queue_choice_fields(d),
        has_sla=bool(d["sla"]),
        queue_status_labels=QUEUE_STATUS_LABELS,
        assignee_labels=ASSIGNEE_LABELS,
        sort_labels=SORT_LABELS,
        sort_order_labels=SORT_ORDER_LABELS,
        sla_filter_labels=SLA_FILTER_LABELS,
    )


@bp.post("/queues/<queue_key>/delete")
def queue_delete(queue_key):
    applied = apply_edit(lambda d: delete_queue(d, queue_key), summary_of("queue_deleted", key=queue_key))
    if applied is None:
        flash_problems()
    elif not applied["queues"]:
        flash(_("The portal has no queues of its own any more: agents see the presets."), "info")
    return redirect(url_for("admin.config.queues"))
