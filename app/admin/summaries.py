"""What a configuration change was about (``ConfigChange.summary``), stored as data and worded when shown.

A summary is a small JSON mapping: ``what`` names the edit (one of ``SENTENCES``), the other keys
are the values its sentence names (keys of the tenant's configuration, never words)::

    {"what": "branding"}
    {"what": "status", "key": "waiting"}
    {"what": "field_deleted", "field": "severity", "form": "bug"}
    {"what": "string_override", "language": "pl", "msgid": "Help center"}
    {"what": "onboarded", "source": "_template"}

``describe_summary`` words a summary in the current locale (the viewer's on the Audit page, the
admin's in the "Saved: ..." message), like ``app.tenancy.changes.describe_change`` does for the
change entries next to it. Rows written before this format hold text in the writer's language (a
plain string); they are shown as they are.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l

# One whole sentence per kind of edit; "key" is the key of the thing named (the form for
# "field_order", the workflow for "workflow_initial_status" and "transition_order").
SENTENCES = {
    "portal": _l("portal '%(key)s'"),
    "portal_order": _l("order of the portals"),
    "request_type": _l("request type '%(key)s'"),
    "request_type_deleted": _l("deleted request type '%(key)s'"),
    "request_type_order": _l("order of the request types"),
    "field": _l("field '%(field)s' of form '%(form)s'"),
    "field_deleted": _l("deleted field '%(field)s' of form '%(form)s'"),
    "field_order": _l("order of the fields of form '%(key)s'"),
    "status": _l("status '%(key)s'"),
    "status_deleted": _l("deleted status '%(key)s'"),
    "status_order": _l("order of the statuses"),
    "workflow": _l("workflow '%(key)s'"),
    "workflow_deleted": _l("deleted workflow '%(key)s'"),
    "workflow_initial_status": _l("initial status of workflow '%(key)s'"),
    "transition": _l("transition '%(key)s' of workflow '%(workflow)s'"),
    "transition_deleted": _l("deleted transition '%(key)s' of workflow '%(workflow)s'"),
    "transition_order": _l("order of the transitions of workflow '%(key)s'"),
    "queue": _l("queue '%(key)s'"),
    "queue_deleted": _l("deleted queue '%(key)s'"),
    "queue_order": _l("order of the queues"),
    "queue_presets": _l("queues started from the presets"),
    "rule": _l("rule '%(key)s'"),
    "rule_deleted": _l("deleted rule '%(key)s'"),
    "notifications": _l("notification settings"),
    "email_channel": _l("e-mail channel"),
    "general": _l("name, registration and languages"),
    "sla": _l("SLA targets and business hours"),
    "string_override": _l("UI string override %(language)s: %(msgid)s"),
    "branding": _l("branding"),
    "import": _l("imported a definition"),
    "onboarded": _l("created from '%(source)s'"),
}


def summary_of(what: str, **values: str) -> dict:
    """A summary to store: ``summary_of("status", key="waiting")``. Only the known kinds of edit."""
    if what not in SENTENCES:
        raise ValueError(f"unknown kind of configuration change: {what!r}")
    return {"what": what, **values}


def describe_summary(value) -> str:
    """A summary in the current locale's words; a legacy plain-text summary as it is."""
    if not isinstance(value, dict):
        return "" if value is None else str(value)
    values = {name: item for name, item in value.items() if name != "what"}
    sentence = SENTENCES.get(value.get("what"))
    if sentence is not None:
        try:
            return str(sentence) % values
        except (KeyError, TypeError, ValueError):
            pass  # values this version's sentence does not expect: shown as data below
    # A kind this version does not know: still readable.
    return " ".join(str(part) for part in (value.get("what"), *values.values()) if part)
