"""The catalog part of the tenant definition (``catalog.yaml``): portals, request types, forms, fields.

Validated, synced and exported here, registered with the tenant definition's sections by
``create_app``. Also checks what other parts say about fields: the fields a transition requires
and the field settings of ``tenant.yaml`` (``editable_after_creation``, ``notifications.cc_field``).
A field, request type or portal that requests still use is kept (the change is refused).
"""

from __future__ import annotations

import copy

from flask_babel import gettext as _
from sqlalchemy import select

from app.catalog.models import Field, Form, Portal, RequestType
from app.extensions import db
from app.tenancy.definition import check_unique
from app.tenancy.problems import Problems
from app.tenancy.sections import DefinitionSection, ExportContext, SyncContext


FIELD_DEFAULTS = {
    "help": {},
    "required": False,
    "options": [],
    "visible_when": None,
    "value_when_hidden": None,
    "default": None,
    "fixed_value": None,
    "editable_by": "customer",
}


def normalize(out: dict) -> None:
    for portal in out["portals"]:
        portal.setdefault("description", {})
        for request_type in portal["request_types"]:
            request_type.setdefault("description", {})
            request_type.setdefault("icon", None)
    for form in out["forms"]:
        for fdef in form["fields"]:
            for key, default in FIELD_DEFAULTS.items():
                fdef.setdefault(key, copy.deepcopy(default))


def compact(out: dict) -> None:
    for portal in out["portals"]:
        if not portal.get("description"):
            portal.pop("description", None)
        for request_type in portal["request_types"]:
            for key in ("description", "icon"):
                if not request_type.get(key):
                    request_type.pop(key, None)
    for form in out["forms"]:
        for fdef in form["fields"]:
            for key, default in FIELD_DEFAULTS.items():
                if fdef.get(key) == default:
                    fdef.pop(key, None)


def validate(data: dict, problems: Problems) -> None:
    forms = check_unique(data["forms"], ["forms"], problems)
    check_unique(data["portals"], ["portals"], problems)
    workflows = {w["key"] for w in data["workflows"]}

    # Which request types use which form (for request_type conditions).
    types_by_form: dict[str, set] = {}
    for p_index, portal in enumerate(data["portals"]):
        ppath = ["portals", p_index]
        check_unique(portal["request_types"], ppath + ["request_types"], problems)
        for r_index, request_type in enumerate(portal["request_types"]):
            rpath = ppath + ["request_types", r_index]
            if request_type["form"] not in forms:
                problems.add(rpath + ["form"], "unknown_form", key=request_type["form"])
            if request_type["workflow"] not in workflows:
                problems.add(rpath + ["workflow"], "unknown_workflow", key=request_type["workflow"])
            types_by_form.setdefault(request_type["form"], set()).add(request_type["key"])

    for f_index, form in enumerate(data["forms"]):
        fpath = ["forms", f_index]
        fields = check_unique(form["fields"], fpath + ["fields"], problems)
        summary = fields.get("summary")
        if summary is None:
            problems.add(fpath + ["fields"], "form_without_summary")
        elif summary["type"] != "text" or not summary.get("required"):
            problems.add(fpath + ["fields"], "summary_not_required_text")
        if "description" in fields and fields["description"]["type"] != "textarea":
            problems.add(fpath + ["fields"], "description_not_textarea")
        if "attachments" in fields and fields["attachments"]["type"] != "files":
            problems.add(fpath + ["fields"], "attachments_not_files")
        for i, fdef in enumerate(form["fields"]):
            _check_field(fdef, fpath + ["fields", i], fields, types_by_form.get(form["key"], set()), problems)

    _check_transition_requirements(data, forms, problems)

    all_field_keys = {f["key"] for form in data["forms"] for f in form["fields"]}
    for i, key in enumerate(data.get("settings", {}).get("editable_after_creation", [])):
        if key not in all_field_keys:
            problems.add(["settings", "editable_after_creation", i], "no_field", key=key)
    cc_field = data.get("settings", {}).get("notifications", {}).get("cc_field")
    text_keys = {
        f["key"] for form in data["forms"] for f in form["fields"] if f["type"] in ("text", "textarea", "email")
    }
    if cc_field is not None and cc_field not in text_keys:
        problems.add(["settings", "notifications", "cc_field"], "no_text_field", key=cc_field)


def _check_field(fdef: dict, path: list, fields: dict, form_types: set, problems: Problems) -> None:
    choice = fdef["type"] in ("select", "multiselect")
    options = fdef.get("options", [])
    if choice and not options:
        problems.add(path + ["options"], "field_needs_options", type=fdef["type"])
    if not choice and options:
        problems.add(path + ["options"], "field_takes_no_options", type=fdef["type"])
    option_keys = set(check_unique(options, path + ["options"], problems)) if options else set()
    for name in ("value_when_hidden", "default", "fixed_value"):
        if name in fdef and choice:
            values = fdef[name] if isinstance(fdef[name], list) else [fdef[name]]
            for value in values:
                if value not in option_keys:
                    problems.add(path + [name], "not_an_option", value=value)
    condition = fdef.get("visible_when")
    if condition:
        if "field" in condition:
            other = fields.get(condition["field"])
            if other is None or other is fdef:
                problems.add(path + ["visible_when", "field"], "unknown_field_in_form", key=condition["field"])
            elif other["type"] not in ("select", "multiselect", "checkbox"):
                problems.add(path + ["visible_when", "field"], "not_a_choice_field", key=condition["field"])
            else:
                known = (
                    {o["key"] for o in other.get("options", [])} if other["type"] != "checkbox" else {"true", "false"}
                )
                for value in condition["in"]:
                    if value not in known:
                        problems.add(
                            path + ["visible_when", "in"], "not_an_option_of", value=value, field=condition["field"]
                        )
        else:
            for key in condition["request_type"]:
                if key not in form_types:
                    problems.add(path + ["visible_when", "request_type"], "form_not_used_by", key=key)
    elif "value_when_hidden" in fdef:
        problems.add(path + ["value_when_hidden"], "value_when_hidden_without_condition")


def _check_transition_requirements(data: dict, forms: dict, problems: Problems) -> None:
    """A field a transition requires must be on the form of every request type using the workflow,
    be stored as a field value (not the description or files), and be fillable by its actors."""
    types_by_workflow: dict[str, list] = {}
    for portal in data["portals"]:
        for request_type in portal["request_types"]:
            types_by_workflow.setdefault(request_type["workflow"], []).append((portal["key"], request_type))
    all_field_keys = {f["key"] for form in data["forms"] for f in form["fields"]}
    for w_index, workflow in enumerate(data["workflows"]):
        for t_index, transition in enumerate(workflow["transitions"]):
            for r_index, key in enumerate(transition.get("requires", [])):
                if key == "comment":
                    continue
                path = ["workflows", w_index, "transitions", t_index, "requires", r_index]
                found: list[tuple[str, dict]] = []
                if key not in all_field_keys:
                    found.append(("no_field", {"key": key}))
                for portal_key, request_type in types_by_workflow.get(workflow["key"], []):
                    form = forms.get(request_type["form"])
                    fdef = next((f for f in form["fields"] if f["key"] == key), None) if form else None
                    if form is None or key not in all_field_keys:
                        continue
                    if fdef is None:
                        found.append(
                            (
                                "required_field_not_on_form",
                                {
                                    "key": key,
                                    "form": request_type["form"],
                                    "request_type": f"{portal_key}/{request_type['key']}",
                                },
                            )
                        )
                    elif key in ("description", "attachments") or fdef["type"] == "files":
                        found.append(("field_not_requirable", {"key": key}))
                    elif "fixed_value" in fdef:
                        found.append(("field_has_fixed_value", {"key": key}))
                    elif "customer" in transition["actors"] and fdef.get("editable_by") == "agent":
                        found.append(("field_set_by_support", {"key": key}))
                seen = []
                for code, params in found:
                    if (code, params) not in seen:  # the same problem once, however many request types share it
                        seen.append((code, params))
                        problems.add(path, code, **params)


def sync(d: dict, context: SyncContext) -> None:
    session = db.session
    workflow_ids = context.ids["workflow"]  # shared by the workflow section, which syncs first
    forms = {f.key: f for f in session.scalars(select(Form))}
    for f in d["forms"]:
        form = context.upsert(Form, forms, f["key"], "form")
        session.flush()
        existing = {x.key: x for x in form.fields}
        keep = set()
        for position, fd in enumerate(f["fields"]):
            keep.add(fd["key"])
            obj = existing.get(fd["key"])
            if obj is None:
                obj = Field(key=fd["key"], form=form)
                session.add(obj)
            context.assign(
                obj,
                "field",
                f"{f['key']}/{fd['key']}",
                type=fd["type"],
                label=fd["label"],
                help=fd["help"],
                required=fd["required"],
                options=fd["options"],
                visible_when=fd["visible_when"],
                value_when_hidden=fd["value_when_hidden"],
                default=fd["default"],
                fixed_value=fd["fixed_value"],
                editable_by=fd["editable_by"],
                position=position,
            )
        for key, obj in existing.items():
            if key in keep:
                continue
            if context.in_use("field", obj.id):
                context.refuse("field_in_use", key=f"{f['key']}/{key}")
            else:
                session.delete(obj)
                context.deleted("field", f"{f['key']}/{key}")
    session.flush()

    portals = {p.key: p for p in session.scalars(select(Portal))}
    all_types = list(session.scalars(select(RequestType)))
    keep_types = set()
    for position, p in enumerate(d["portals"]):
        portal = context.upsert(
            Portal, portals, p["key"], "portal", name=p["name"], description=p["description"], position=position
        )
        session.flush()
        existing = {rt.key: rt for rt in all_types if rt.portal_id == portal.id}
        for rt_position, rt in enumerate(p["request_types"]):
            obj = existing.get(rt["key"])
            if obj is None:
                obj = RequestType(key=rt["key"], portal_id=portal.id)
                session.add(obj)
            context.assign(
                obj,
                "request_type",
                f"{p['key']}/{rt['key']}",
                name=rt["name"],
                description=rt["description"],
                icon=rt["icon"],
                position=rt_position,
                form_id=forms[rt["form"]].id,
                workflow_id=workflow_ids[rt["workflow"]],
            )
            session.flush()
            keep_types.add(obj.id)
    for obj in all_types:
        if obj.id in keep_types:
            continue
        if context.in_use("request_type", obj.id):
            context.refuse("request_type_in_use", key=obj.key)
        else:
            session.delete(obj)
            context.deleted("request_type", obj.key)
    session.flush()
    wanted_portals = {p["key"] for p in d["portals"]}
    for key, obj in portals.items():
        if key not in wanted_portals:
            if context.in_use("portal", obj.id):
                context.refuse("portal_in_use", key=key)
            else:
                session.delete(obj)
                context.deleted("portal", key)
    wanted_forms = {f["key"] for f in d["forms"]}
    for key, obj in forms.items():
        if key not in wanted_forms:
            session.delete(obj)
            context.deleted("form", key)


def export(context: ExportContext) -> dict:
    workflow_key = context.keys["workflow"]  # shared by the workflow section, which exports first
    forms = list(db.session.scalars(select(Form).order_by(Form.id)))
    form_key = {f.id: f.key for f in forms}
    fields = list(db.session.scalars(select(Field).order_by(Field.form_id, Field.position)))
    portals = list(db.session.scalars(select(Portal).order_by(Portal.position)))
    request_types = list(db.session.scalars(select(RequestType).order_by(RequestType.portal_id, RequestType.position)))
    return {
        "portals": [
            {
                "key": p.key,
                "name": p.name,
                "description": p.description or {},
                "request_types": [
                    {
                        "key": rt.key,
                        "name": rt.name,
                        "description": rt.description or {},
                        "icon": rt.icon,
                        "form": form_key[rt.form_id],
                        "workflow": workflow_key[rt.workflow_id],
                    }
                    for rt in request_types
                    if rt.portal_id == p.id
                ],
            }
            for p in portals
        ],
        "forms": [
            {
                "key": f.key,
                "fields": [
                    {
                        "key": x.key,
                        "type": x.type,
                        "label": x.label,
                        "help": x.help or {},
                        "required": x.required,
                        "options": x.options or [],
                        "visible_when": x.visible_when,
                        "value_when_hidden": x.value_when_hidden,
                        "default": x.default,
                        "fixed_value": x.fixed_value,
                        "editable_by": x.editable_by,
                    }
                    for x in fields
                    if x.form_id == f.id
                ],
            }
            for f in forms
        ],
    }


SECTION = DefinitionSection(
    name="catalog",
    order=20,
    keys=("portals", "forms"),
    normalize=normalize,
    compact=compact,
    validate=validate,
    sync=sync,
    export=export,
    wordings={
        "unknown_form": lambda key: _("unknown form '%(key)s'", key=key),
        "unknown_workflow": lambda key: _("unknown workflow '%(key)s'", key=key),
        "form_without_summary": lambda: _("a form needs a field with key 'summary' (the request's title)"),
        "summary_not_required_text": lambda: _("the 'summary' field must be of type text and required"),
        "description_not_textarea": lambda: _("the 'description' field must be of type textarea"),
        "attachments_not_files": lambda: _("the 'attachments' field must be of type files"),
        "field_needs_options": lambda type: _("a field of type %(type)s needs options", type=type),
        "field_takes_no_options": lambda type: _("a field of type %(type)s takes no options", type=type),
        "not_an_option": lambda value: _("'%(value)s' is not an option of this field", value=value),
        "not_an_option_of": lambda value, field: _(
            "'%(value)s' is not an option of '%(field)s'", value=value, field=field
        ),
        "unknown_field_in_form": lambda key: _("unknown field '%(key)s' in this form", key=key),
        "not_a_choice_field": lambda key: _("field '%(key)s' is not a choice field", key=key),
        "form_not_used_by": lambda key: _("no request type '%(key)s' uses this form", key=key),
        "value_when_hidden_without_condition": lambda: _("only a field with visible_when can have value_when_hidden"),
        "no_field": lambda key: _("no form has a field '%(key)s'", key=key),
        "no_text_field": lambda key: _("no form has a text field '%(key)s'", key=key),
        "required_field_not_on_form": lambda key, form, request_type: _(
            "field '%(key)s' is not in form '%(form)s' of request type '%(request_type)s'",
            key=key,
            form=form,
            request_type=request_type,
        ),
        "field_not_requirable": lambda key: _(
            "field '%(key)s' cannot be required by a transition (only fields stored as the request's values)",
            key=key,
        ),
        "field_has_fixed_value": lambda key: _("field '%(key)s' has a fixed value and cannot be filled in", key=key),
        "field_set_by_support": lambda key: _(
            "field '%(key)s' is set by support (editable_by: agent), so a customer transition cannot require it",
            key=key,
        ),
        "field_in_use": lambda key: _(
            "field '%(key)s' was removed but requests have values for it; keep it in the definition", key=key
        ),
        "request_type_in_use": lambda key: _(
            "request type '%(key)s' was removed but requests use it; keep it in the definition", key=key
        ),
        "portal_in_use": lambda key: _(
            "portal '%(key)s' was removed but requests belong to it; keep it in the definition", key=key
        ),
    },
)
