"""What a sync, an import or a console edit changed, stored as data and worded when it is shown.

A change entry is a plain JSON mapping (``SyncReport.changes``, ``ConfigChange.changes``)::

    {"action": "created" | "updated" | "deleted", "kind": "status", "key": "waiting",
     "fields": ["name", "color"]}          # "fields" only for "updated" (attribute names)
    {"action": "created", "kind": "string_override", "key": "Help center", "language": "pl"}

``describe_change`` words an entry in the current locale (the operator's for the CLI, the viewer's
on a page), so the same stored change reads in Czech for one admin and in Hungarian for another.
Entries stored before this format are plain English strings; they are shown as they are.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

CREATED, UPDATED, DELETED = "created", "updated", "deleted"


def change_entry(action: str, kind: str, key: str | None = None, *, fields=None, **extra) -> dict:
    entry: dict[str, object] = {"action": action, "kind": kind}
    if key is not None:
        entry["key"] = key
    if fields:
        entry["fields"] = list(fields)
    entry.update(extra)
    return entry


# One whole sentence per kind and action, so that each language can agree words as it needs to.
_SENTENCES = {
    ("created", "tenant"): _l("created tenant '%(key)s'"),
    ("updated", "tenant"): _l("updated tenant '%(key)s' (%(fields)s)"),
    ("created", "status"): _l("created status '%(key)s'"),
    ("updated", "status"): _l("updated status '%(key)s' (%(fields)s)"),
    ("deleted", "status"): _l("deleted status '%(key)s'"),
    ("created", "workflow"): _l("created workflow '%(key)s'"),
    ("updated", "workflow"): _l("updated workflow '%(key)s' (%(fields)s)"),
    ("deleted", "workflow"): _l("deleted workflow '%(key)s'"),
    ("created", "transition"): _l("created transition '%(key)s'"),
    ("updated", "transition"): _l("updated transition '%(key)s' (%(fields)s)"),
    ("deleted", "transition"): _l("deleted transition '%(key)s'"),
    ("created", "form"): _l("created form '%(key)s'"),
    ("updated", "form"): _l("updated form '%(key)s' (%(fields)s)"),
    ("deleted", "form"): _l("deleted form '%(key)s'"),
    ("created", "field"): _l("created field '%(key)s'"),
    ("updated", "field"): _l("updated field '%(key)s' (%(fields)s)"),
    ("deleted", "field"): _l("deleted field '%(key)s'"),
    ("created", "portal"): _l("created portal '%(key)s'"),
    ("updated", "portal"): _l("updated portal '%(key)s' (%(fields)s)"),
    ("deleted", "portal"): _l("deleted portal '%(key)s'"),
    ("created", "request_type"): _l("created request type '%(key)s'"),
    ("updated", "request_type"): _l("updated request type '%(key)s' (%(fields)s)"),
    ("deleted", "request_type"): _l("deleted request type '%(key)s'"),
    ("created", "rule"): _l("created rule '%(key)s'"),
    ("updated", "rule"): _l("updated rule '%(key)s' (%(fields)s)"),
    ("deleted", "rule"): _l("deleted rule '%(key)s'"),
    ("created", "queue"): _l("created queue '%(key)s'"),
    ("updated", "queue"): _l("updated queue '%(key)s' (%(fields)s)"),
    ("deleted", "queue"): _l("deleted queue '%(key)s'"),
    ("created", "sla"): _l("created SLA targets"),
    ("updated", "sla"): _l("updated SLA targets"),
    ("deleted", "sla"): _l("deleted SLA targets"),
    ("created", "string_override"): _l("created UI string override %(language)s: '%(key)s'"),
    ("updated", "string_override"): _l("updated UI string override %(language)s: '%(key)s'"),
    ("deleted", "string_override"): _l("deleted UI string override %(language)s: '%(key)s'"),
}

# The attributes an "updated ..." entry names, in words (unknown ones are shown as identifiers).
_FIELD_WORDS = {
    "name": _l("name"),
    "customer_name": _l("name for customers"),
    "category": _l("category"),
    "color": _l("colour"),
    "notify": _l("notifications"),
    "position": _l("order"),
    "initial_status_id": _l("initial status"),
    "from_status_id": _l("from status"),
    "to_status_id": _l("target status"),
    "actors": _l("who may use it"),
    "requires": _l("required fields"),
    "type": _l("type"),
    "label": _l("label"),
    "help": _l("help text"),
    "required": _l("required"),
    "options": _l("options"),
    "visible_when": _l("visibility condition"),
    "value_when_hidden": _l("value when hidden"),
    "default": _l("default value"),
    "fixed_value": _l("fixed value"),
    "editable_by": _l("who may edit it"),
    "description": _l("description"),
    "icon": _l("icon"),
    "form_id": _l("form"),
    "workflow_id": _l("workflow"),
    "trigger": _l("trigger"),
    "conditions": _l("conditions"),
    "actions": _l("actions"),
    "enabled": _l("enabled"),
    "filters": _l("filters"),
    "default_locale": _l("default language"),
    "locales": _l("languages"),
    "timezone": _l("time zone"),
    "registration_mode": _l("registration"),
    "reference_prefix": _l("reference prefix"),
    "branding": _l("branding"),
    "settings": _l("settings"),
    # further attributes that problems' key paths name (queues, conditions, time rules)
    "key": _l("key"),
    "status": _l("status"),
    "statuses": _l("statuses"),
    "field": _l("field"),
    "in": _l("values"),
    "assignee": _l("assignee"),
    "sort": _l("sort order"),
    "after": _l("waiting time"),
    "portal": _l("portal"),
    "request_types": _l("request types"),
}


def attribute_word(name: str) -> str:
    """A definition attribute in the current locale's words (e.g. for a problem's key path)."""
    return str(_FIELD_WORDS.get(name, name))


def describe_change(entry) -> str:
    """One change in the current locale's words; a legacy plain-string entry as it is."""
    if not isinstance(entry, dict):
        return str(entry)
    action, kind = entry.get("action"), entry.get("kind")
    fields = [str(_FIELD_WORDS.get(name, name)) for name in entry.get("fields") or []]
    values = {"key": entry.get("key", ""), "language": entry.get("language", ""), "fields": ", ".join(fields)}
    sentence = _SENTENCES.get((str(action), str(kind)))
    if sentence is None:  # a kind this version does not know: still readable
        return " ".join(str(part) for part in (action, kind, entry.get("key"), *fields) if part)
    return str(sentence) % values
