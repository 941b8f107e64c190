"""Request types: what customers can ask for on each portal, with its form and workflow."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import force_locale
from markupsafe import Markup
from werkzeug.datastructures import MultiDict
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, flash_problems, keep_problems, move_entry, render
from app.admin.config.editing import copied, put
from app.admin.config.inputs import ConsoleForm, Flag, MoveForm, key_field, strip
from app.admin.services import find, require
from app.admin.summaries import summary_of
from app.catalog.forms import build_request_form, form_name, prefill
from app.catalog.services import find_request_type, form_fields

NEW_FORM = "__new__"  # the form choice "a new form of its own"


# --- forms ---------------------------------------------------------------------------------------


class RequestTypeForm(ConsoleForm):
    localized = ("name", "description")
    key = key_field(default="")
    icon = StringField(filters=[strip])
    portal = StringField()
    form = StringField(default="")
    workflow = StringField(default="")
    email = Flag()
    then = StringField(default="")  # "fields": go on to the form's fields


class RequestTypeMoveForm(MoveForm):
    portal = StringField(default="")


# --- editors -------------------------------------------------------------------------------------


def blank_request_type(d: dict) -> dict:
    return {
        "key": "",
        "name": {},
        "description": {},
        "icon": None,
        "form": d["forms"][0]["key"],
        "workflow": d["workflows"][0]["key"],
    }


def base_fields(d: dict, workflow_key: str) -> list[dict]:
    """The fields of a new form: summary, description and attachments of an existing form, and the
    fields the workflow's steps ask for (they must be on every form using the workflow)."""
    workflow = find(d["workflows"], workflow_key)
    required = {
        key for t in (workflow or {}).get("transitions", []) for key in t.get("requires", []) if key != "comment"
    }
    wanted = ("summary", "description", "attachments", *sorted(required))
    fields: dict[str, dict] = {}
    for form in d["forms"]:
        for f in form["fields"]:
            if f["key"] in wanted and f["key"] not in fields:
                fields[f["key"]] = dict(f, visible_when=None, value_when_hidden=None)
    return [fields[key] for key in wanted if key in fields]


def with_own_form(d: dict, entry: dict) -> dict:
    """``entry`` with its form; "a new form of its own" is added to ``d`` (already a copy) under the
    request type's key (or ``<key>-form`` when that form key is taken)."""
    if entry["form"] != NEW_FORM:
        return entry
    form_key = entry["key"] if not find(d["forms"], entry["key"]) else f"{entry['key']}-form"
    d["forms"].append({"key": form_key, "fields": base_fields(d, entry["workflow"])})
    return dict(entry, form=form_key)


def save_request_type(
    definition: dict, entry: dict, *, portal_key: str, target_portal: str, new: bool, email_type: bool
) -> dict:
    """A new or changed request type, possibly moved from ``portal_key`` to ``target_portal``;
    ``email_type``: new e-mails create requests of this type."""
    d = copied(definition)
    entry = with_own_form(d, dict(entry))
    key = entry["key"]
    old_portal = find(d["portals"], portal_key)
    new_portal = require(find(d["portals"], target_portal), target_portal)
    if new or old_portal is new_portal:
        put(new_portal["request_types"], entry, new=new)
    else:
        old_portal["request_types"] = [rt for rt in old_portal["request_types"] if rt["key"] != key]
        new_portal["request_types"].append(entry)
    reference = f"{target_portal}/{key}"
    if email_type:
        d["settings"]["email_request_type"] = reference
    elif d["settings"].get("email_request_type") in (reference, f"{portal_key}/{key}"):
        d["settings"].pop("email_request_type", None)
    return d


def delete_request_type(definition: dict, portal_key: str, type_key: str) -> dict:
    d = copied(definition)
    portal = require(find(d["portals"], portal_key), portal_key)
    require(find(portal["request_types"], type_key), type_key)
    portal["request_types"] = [rt for rt in portal["request_types"] if rt["key"] != type_key]
    if d["settings"].get("email_request_type") == f"{portal_key}/{type_key}":
        d["settings"].pop("email_request_type")
    return d


def saved_form_key(d: dict, portal_key: str, type_key: str) -> str:
    """The form a request type uses in an applied definition (a new form has just got its key)."""
    portal = require(find(d["portals"], portal_key), portal_key)
    return require(find(portal["request_types"], type_key), type_key)["form"]


# --- views ---------------------------------------------------------------------------------------


@bp.get("/request-types")
def request_types():
    d = current()
    return render_template("admin/config/request_types.html", d=d, email_type=d["settings"].get("email_request_type"))


@bp.post("/request-types/move")
def move_request_type():
    portal_key = RequestTypeMoveForm().portal.data
    return move_entry(
        lambda d: require(find(d["portals"], portal_key), portal_key)["request_types"],
        summary_of("request_type_order"),
        "admin.config.request_types",
    )


@bp.route("/request-types/new", methods=["GET", "POST"])
@bp.route("/request-types/<portal_key>/<type_key>", methods=["GET", "POST"])
def request_type_edit(portal_key=None, type_key=None):
    d = current()
    is_new = type_key is None
    if is_new:
        item = blank_request_type(d)
        portal_key = request.args.get("portal") or d["portals"][0]["key"]
    else:
        portal = find(d["portals"], portal_key) or abort(404)
        item = find(portal["request_types"], type_key) or abort(404)
    is_email_type = d["settings"].get("email_request_type") == f"{portal_key}/{item['key']}"
    if request.method == "POST":
        form = RequestTypeForm.for_tenant(new=is_new)()
        target_portal = form.portal.data or portal_key
        item = dict(
            item,
            key=form.key.data if is_new else item["key"],
            name=form.texts("name"),
            description=form.texts("description"),
            icon=form.icon.data or None,
            form=form.form.data,
            workflow=form.workflow.data,
        )
        is_email_type = form.email.data
        if not form.validate():
            keep_problems(form.problems())
        else:
            applied = apply_edit(
                lambda d: save_request_type(
                    d, item, portal_key=portal_key, target_portal=target_portal, new=is_new, email_type=is_email_type
                ),
                summary_of("request_type", key=item["key"]),
            )
            if applied is not None:
                if form.then.data == "fields":
                    form_key = saved_form_key(applied, target_portal, item["key"])
                    return redirect(url_for("admin.config.form_detail", form_key=form_key))
                return redirect(
                    url_for("admin.config.request_type_edit", portal_key=target_portal, type_key=item["key"])
                )
        portal_key = target_portal
    return render(
        "admin/config/request_type.html",
        d=d,
        item=item,
        is_new=is_new,
        portal_key=portal_key,
        is_email_type=is_email_type,
    )


@bp.post("/request-types/<portal_key>/<type_key>/delete")
def request_type_delete(portal_key, type_key):
    summary = summary_of("request_type_deleted", key=type_key)
    if apply_edit(lambda d: delete_request_type(d, portal_key, type_key), summary) is not None:
        return redirect(url_for("admin.config.request_types"))
    flash_problems()
    return redirect(url_for("admin.config.request_type_edit", portal_key=portal_key, type_key=type_key))


@bp.get("/request-types/<portal_key>/<type_key>/preview")
def preview(portal_key, type_key):
    """The request type's form as a customer (or, ``?as=agent``, support) sees it, in one language."""
    found = find_request_type(g.tenant, portal_key, type_key) or abort(404)
    portal, request_type = found
    language = request.args.get("lang") or g.tenant.default_locale
    if language not in g.tenant.locales:
        language = g.tenant.default_locale
    customer = request.args.get("as") != "agent"
    fields = form_fields(g.tenant, request_type.form_id)
    with force_locale(language):
        from app.templating import localized

        form_class = build_request_form(fields, request_type.key, localized, staff=not customer)
        form = form_class(formdata=None, meta={"csrf": False})
        prefill(form, MultiDict(), fields)
        fragment = render_template(
            "admin/config/_preview_form.html",
            form=form,
            fields=form._infos,
            form_name=form_name,
            portal=portal,
            request_type=request_type,
            language=language,
        )
    return render_template(
        "admin/config/preview.html",
        fragment=Markup(fragment),
        portal=portal,
        request_type=request_type,
        language=language,
        customer=customer,
    )
