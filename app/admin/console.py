"""Tenant admin console: the tenant's configuration, edited as its definition.

Each page loads the definition (the export), applies the admin's change to it and hands it to
``app.admin.services.change`` (the validator and ``apply_definition`` of ``flask tenants sync``).
Plain HTML forms, no JavaScript needed: lists are ordered with up/down buttons.
"""

from __future__ import annotations

import json
import re

from flask import Blueprint, Response, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import force_locale, gettext as _, lazy_gettext as _l, ngettext
from flask_login import current_user
from markupsafe import Markup
from werkzeug.datastructures import MultiDict

from app.accounts.policy import is_tenant_admin
from app.admin import services
from app.admin.services import ConsoleError, Problem, find, require
from app.admin.summaries import describe_summary, summary_of
from app.catalog.forms import build_request_form, form_name, prefill
from app.catalog.services import find_request_type, form_fields
from app.tenancy.changes import describe_change
from app.tenancy.definition import FIELD_DEFAULTS

bp = Blueprint("config", __name__, url_prefix="/config")

FIELD_TYPE_LABELS = {
    "text": _l("Text"),
    "textarea": _l("Long text"),
    "number": _l("Number"),
    "date": _l("Date"),
    "select": _l("Choice"),
    "multiselect": _l("Multiple choice"),
    "checkbox": _l("Checkbox"),
    "email": _l("E-mail address"),
    "phone": _l("Phone number"),
    "files": _l("Files"),
}
CATEGORY_LABELS = {"open": _l("Open"), "waiting": _l("Waiting"), "resolved": _l("Resolved"), "closed": _l("Closed")}
ACTOR_LABELS = {"customer": _l("Customer"), "agent": _l("Agent"), "system": _l("System (automation)")}
TRIGGER_LABELS = {
    "status_age": _l("Time in a status"),
    "customer_comment": _l("Customer comment"),
    "email_reply": _l("E-mail reply"),
    "status_entered": _l("Status entered"),
}
NOTIFY_LABELS = {"requester": _l("The requester"), "watchers": _l("The watchers"), "agents": _l("The agents")}
KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")


@bp.before_request
def _tenant_admins_only():
    if not is_tenant_admin(current_user):
        abort(404)


@bp.context_processor
def _console_globals():
    tenant = g.get("tenant")  # None on an error page (the 404 handler forgets the tenant)
    return {
        "tenant_languages": list(tenant.locales) if tenant else [],
        "field_type_labels": FIELD_TYPE_LABELS,
        "category_labels": CATEGORY_LABELS,
        "actor_labels": ACTOR_LABELS,
        "trigger_labels": TRIGGER_LABELS,
        "notify_labels": NOTIFY_LABELS,
        "text_of": _text_of,
        "change_text": describe_change,
        "summary_text": describe_summary,
    }


def _text_of(texts) -> str:
    """A localized text in the admin's language for lists (falls back to any language)."""
    from app.templating import localized

    return localized(texts) if isinstance(texts, dict) else (texts or "")


# --- plumbing ------------------------------------------------------------------------------------


def _apply(mutate, summary: dict) -> bool:
    """Apply a change (``summary``: ``summary_of(...)``, stored as data); flash the outcome in the
    admin's language. Returns False (and stores the problems) on error."""
    try:
        report = services.change(g.tenant.slug, mutate, actor=current_user._get_current_object(), summary=summary)
    except ConsoleError as error:
        g.console_problems = error.problems
        return False
    if report.changed:
        flash(_("Saved: %(summary)s.", summary=describe_summary(summary)), "success")
    else:
        flash(_("Nothing changed."), "info")
    return True


def _problems() -> list[Problem]:
    return g.get("console_problems", [])


def _render(template: str, **context):
    problems = _problems()
    by_attribute: dict[str, list[str]] = {}
    for problem in problems:
        if problem.attribute:
            by_attribute.setdefault(problem.attribute, []).append(problem.text)
    return render_template(template, problems=problems, errors_for=by_attribute, **context), (422 if problems else 200)


def _fail(message: str) -> None:
    raise ConsoleError([Problem(message)])


def _localized(prefix: str) -> dict:
    """{language: text} from inputs named ``<prefix>.<lang>``; empty ones are left out (the
    validator then names the missing language)."""
    return {
        lang: request.form.get(f"{prefix}.{lang}", "").strip()
        for lang in g.tenant.locales
        if request.form.get(f"{prefix}.{lang}", "").strip()
    }


def _new_key(name: str = "key") -> str:
    key = request.form.get(name, "").strip().lower()
    if not KEY_RE.match(key):
        _fail(_("The key must be lowercase letters, digits, '-' or '_' (at most 63), e.g. 'bug-report'."))
    return key


def _typed(raw: str, field_type: str):
    raw = (raw or "").strip()
    if raw == "":
        return None
    if field_type == "checkbox":
        return raw.lower() in ("true", "1", "yes", "on")
    if field_type == "number":
        try:
            return int(raw)
        except ValueError:
            try:
                return float(raw)
            except ValueError:
                _fail(_("'%(value)s' is not a number.", value=raw))
    if field_type == "multiselect":
        return [part for part in re.split(r"[,\s]+", raw) if part]
    return raw


def _keys_list(raw: str) -> list[str]:
    return [part for part in re.split(r"[,\s]+", raw or "") if part]


def _redirect_back(default: str, **values):
    return redirect(url_for(default, **values))


def _moved(items_of, key_name: str, summary: dict, endpoint: str, **values):
    direction = request.form.get("direction")
    key = request.form.get(key_name, "")

    def mutate(d):
        services.move(items_of(d), key, direction)

    if not _apply(mutate, summary):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for(endpoint, **values))


# --- overview ------------------------------------------------------------------------------------


@bp.get("/")
def index():
    d = services.current_definition(g.tenant.slug)
    return render_template("admin/config/index.html", d=d)


# --- request types -------------------------------------------------------------------------------


@bp.get("/request-types")
def request_types():
    d = services.current_definition(g.tenant.slug)
    return render_template("admin/config/request_types.html", d=d, email_type=d["settings"].get("email_request_type"))


@bp.post("/request-types/move")
def move_request_type():
    portal_key = request.form.get("portal", "")
    return _moved(
        lambda d: require(find(d["portals"], portal_key), portal_key)["request_types"],
        "key",
        summary_of("request_type_order"),
        "admin.config.request_types",
    )


def _blank_request_type(d) -> dict:
    return {
        "key": "",
        "name": {},
        "description": {},
        "icon": None,
        "form": d["forms"][0]["key"],
        "workflow": d["workflows"][0]["key"],
    }


def _base_fields(d, workflow_key: str) -> list[dict]:
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


@bp.route("/request-types/new", methods=["GET", "POST"])
@bp.route("/request-types/<portal_key>/<type_key>", methods=["GET", "POST"])
def request_type_edit(portal_key=None, type_key=None):
    d = services.current_definition(g.tenant.slug)
    is_new = type_key is None
    if is_new:
        item = _blank_request_type(d)
        portal_key = request.args.get("portal") or d["portals"][0]["key"]
    else:
        portal = find(d["portals"], portal_key) or abort(404)
        item = find(portal["request_types"], type_key) or abort(404)
    email_type = d["settings"].get("email_request_type")
    is_email_type = email_type == f"{portal_key}/{item['key']}"
    if request.method == "POST":
        target_portal = request.form.get("portal", portal_key)
        item = dict(
            item,
            name=_localized("name"),
            description=_localized("description"),
            icon=(request.form.get("icon") or "").strip() or None,
            form=request.form.get("form", ""),
            workflow=request.form.get("workflow", ""),
        )
        is_email_type = request.form.get("email") == "1"
        try:
            key = _new_key() if is_new else item["key"]
            item["key"] = key
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                entry = dict(item)
                if entry["form"] == "__new__":
                    form_key = key if not find(d["forms"], key) else f"{key}-form"
                    d["forms"].append({"key": form_key, "fields": _base_fields(d, entry["workflow"])})
                    entry["form"] = form_key
                old_portal = find(d["portals"], portal_key)
                new_portal = find(d["portals"], target_portal)
                require(new_portal, target_portal)
                if is_new:
                    new_portal["request_types"].append(entry)
                elif old_portal is new_portal:
                    index = services.find_index(new_portal["request_types"], key)
                    new_portal["request_types"][index] = entry
                else:
                    old_portal["request_types"] = [rt for rt in old_portal["request_types"] if rt["key"] != key]
                    new_portal["request_types"].append(entry)
                reference = f"{target_portal}/{key}"
                if is_email_type:
                    d["settings"]["email_request_type"] = reference
                elif d["settings"].get("email_request_type") in (reference, f"{portal_key}/{key}"):
                    d["settings"].pop("email_request_type", None)
                item["form"] = entry["form"]

            if _apply(mutate, summary_of("request_type", key=key)):
                if request.form.get("then") == "fields":
                    return redirect(url_for("admin.config.form_detail", form_key=item["form"]))
                return redirect(url_for("admin.config.request_type_edit", portal_key=target_portal, type_key=key))
        portal_key = target_portal
    return _render(
        "admin/config/request_type.html",
        d=d,
        item=item,
        is_new=is_new,
        portal_key=portal_key,
        is_email_type=is_email_type,
    )


@bp.post("/request-types/<portal_key>/<type_key>/delete")
def request_type_delete(portal_key, type_key):
    def mutate(d):
        portal = require(find(d["portals"], portal_key), portal_key)
        require(find(portal["request_types"], type_key), type_key)
        portal["request_types"] = [rt for rt in portal["request_types"] if rt["key"] != type_key]
        if d["settings"].get("email_request_type") == f"{portal_key}/{type_key}":
            d["settings"].pop("email_request_type")

    if _apply(mutate, summary_of("request_type_deleted", key=type_key)):
        return redirect(url_for("admin.config.request_types"))
    for problem in _problems():
        flash(problem.text, "error")
    return redirect(url_for("admin.config.request_type_edit", portal_key=portal_key, type_key=type_key))


@bp.post("/portals/move")
def move_portal():
    return _moved(lambda d: d["portals"], "key", summary_of("portal_order"), "admin.config.request_types")


@bp.route("/portals/new", methods=["GET", "POST"])
def portal_new():
    """A new portal (service project) with its first request type: a portal is never empty."""
    d = services.current_definition(g.tenant.slug)
    item = {"key": "", "name": {}, "description": {}}
    first = _blank_request_type(d)
    if request.method == "POST":
        item = dict(item, name=_localized("name"), description=_localized("description"))
        first = dict(
            first,
            name=_localized("type_name"),
            form=request.form.get("form", ""),
            workflow=request.form.get("workflow", ""),
        )
        try:
            item["key"] = _new_key()
            first["key"] = _new_key("type_key")
            if find(d["portals"], item["key"]):
                _fail(_("There is already a portal with the key %(key)s.", key=item["key"]))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                entry = dict(first)
                if entry["form"] == "__new__":
                    form_key = entry["key"] if not find(d["forms"], entry["key"]) else f"{entry['key']}-form"
                    d["forms"].append({"key": form_key, "fields": _base_fields(d, entry["workflow"])})
                    entry["form"] = form_key
                d["portals"].append(dict(item, request_types=[entry]))

            if _apply(mutate, summary_of("portal", key=item["key"])):
                return redirect(url_for("admin.config.request_types"))
    return _render("admin/config/portal_new.html", d=d, item=item, first=first)


@bp.route("/portals/<portal_key>", methods=["GET", "POST"])
def portal_edit(portal_key):
    d = services.current_definition(g.tenant.slug)
    item = find(d["portals"], portal_key) or abort(404)
    if request.method == "POST":
        item = dict(item, name=_localized("name"), description=_localized("description"))

        def mutate(d):
            d["portals"][services.find_index(d["portals"], portal_key)] = item

        if _apply(mutate, summary_of("portal", key=portal_key)):
            return redirect(url_for("admin.config.request_types"))
    return _render("admin/config/portal.html", d=d, item=item)


# --- preview -------------------------------------------------------------------------------------


@bp.get("/request-types/<portal_key>/<type_key>/preview")
def preview(portal_key, type_key):
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


# --- forms and fields ----------------------------------------------------------------------------


@bp.get("/forms")
def forms():
    d = services.current_definition(g.tenant.slug)
    used_by: dict[str, list] = {}
    for portal in d["portals"]:
        for rt in portal["request_types"]:
            used_by.setdefault(rt["form"], []).append((portal, rt))
    return render_template("admin/config/forms.html", d=d, used_by=used_by)


@bp.get("/forms/<form_key>")
def form_detail(form_key):
    d = services.current_definition(g.tenant.slug)
    form = find(d["forms"], form_key) or abort(404)
    types = [(p, rt) for p in d["portals"] for rt in p["request_types"] if rt["form"] == form_key]
    return render_template("admin/config/form.html", d=d, form=form, types=types)


@bp.post("/forms/<form_key>/move")
def move_field(form_key):
    return _moved(
        lambda d: require(find(d["forms"], form_key), form_key)["fields"],
        "key",
        summary_of("field_order", key=form_key),
        "admin.config.form_detail",
        form_key=form_key,
    )


def _field_from_request(item: dict) -> dict:
    field_type = request.form.get("type", item.get("type") or "text")
    field = dict(
        item,
        type=field_type,
        label=_localized("label"),
        help=_localized("help"),
        required=request.form.get("required") == "1",
        editable_by=request.form.get("editable_by") or "customer",
    )
    options = []
    from app.security.params import int_arg

    for index in range(int_arg(request.form.get("option_rows"), 0, maximum=500)):  # (a form has a few dozen)
        key = request.form.get(f"option_{index}_key", "").strip()
        label = _localized(f"option_{index}_label")
        if key or label:
            options.append({"key": key, "label": label})
    field["options"] = options if field_type in ("select", "multiselect") else []
    mode = request.form.get("visible_mode", "always")
    if mode == "field":
        field["visible_when"] = {
            "field": request.form.get("visible_field", ""),
            "in": _keys_list(request.form.get("visible_in", "")),
        }
    elif mode == "request_type":
        field["visible_when"] = {"request_type": request.form.getlist("visible_types")}
    else:
        field["visible_when"] = None
    field["value_when_hidden"] = (
        _typed(request.form.get("value_when_hidden", ""), field_type) if field["visible_when"] else None
    )
    field["default"] = _typed(request.form.get("default", ""), field_type)
    field["fixed_value"] = _typed(request.form.get("fixed_value", ""), field_type)
    return field


def _check_field_input(field: dict) -> None:
    condition = field.get("visible_when")
    if condition and "in" in condition and not condition["in"]:
        _fail(_("Visible when: list the option keys that show the field, e.g. 'bug, incident'."))
    if condition and "request_type" in condition and not condition["request_type"]:
        _fail(_("Visible when: choose at least one request type."))
    for option in field.get("options", []):
        if not KEY_RE.match(option["key"] or ""):
            _fail(_("Each option needs a key of lowercase letters, digits, '-' or '_'."))


@bp.route("/forms/<form_key>/fields/new", methods=["GET", "POST"])
@bp.route("/forms/<form_key>/fields/<field_key>", methods=["GET", "POST"])
def field_edit(form_key, field_key=None):
    d = services.current_definition(g.tenant.slug)
    form = find(d["forms"], form_key) or abort(404)
    is_new = field_key is None
    item = (
        dict(FIELD_DEFAULTS, key="", type="text", label={})
        if is_new
        else (find(form["fields"], field_key) or abort(404))
    )
    if request.method == "POST":
        try:
            item = _field_from_request(item)
            if is_new:
                item["key"] = _new_key()
            _check_field_input(item)
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                fields = require(find(d["forms"], form_key), form_key)["fields"]
                if is_new:
                    fields.append(item)
                else:
                    fields[services.find_index(fields, item["key"])] = item

            if _apply(mutate, summary_of("field", field=item["key"], form=form_key)):
                return redirect(url_for("admin.config.form_detail", form_key=form_key))
    types = [rt for p in d["portals"] for rt in p["request_types"] if rt["form"] == form_key]
    choice_fields = [
        f for f in form["fields"] if f["type"] in ("select", "multiselect", "checkbox") and f["key"] != item.get("key")
    ]
    return _render(
        "admin/config/field.html", d=d, form=form, item=item, is_new=is_new, types=types, choice_fields=choice_fields
    )


@bp.post("/forms/<form_key>/fields/<field_key>/delete")
def field_delete(form_key, field_key):
    def mutate(d):
        form = require(find(d["forms"], form_key), form_key)
        require(find(form["fields"], field_key), field_key)
        form["fields"] = [f for f in form["fields"] if f["key"] != field_key]

    if not _apply(mutate, summary_of("field_deleted", field=field_key, form=form_key)):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for("admin.config.form_detail", form_key=form_key))


# --- statuses ------------------------------------------------------------------------------------


@bp.get("/statuses")
def statuses():
    d = services.current_definition(g.tenant.slug)
    return render_template("admin/config/statuses.html", d=d)


@bp.post("/statuses/move")
def move_status():
    return _moved(lambda d: d["statuses"], "key", summary_of("status_order"), "admin.config.statuses")


@bp.route("/statuses/new", methods=["GET", "POST"])
@bp.route("/statuses/<status_key>", methods=["GET", "POST"])
def status_edit(status_key=None):
    d = services.current_definition(g.tenant.slug)
    is_new = status_key is None
    item = (
        {"key": "", "name": {}, "customer_name": {}, "category": "open", "color": "#6c757d", "notify": True}
        if is_new
        else (find(d["statuses"], status_key) or abort(404))
    )
    if request.method == "POST":
        name = _localized("name")
        customer_name = _localized("customer_name") or dict(name)
        item = dict(
            item,
            name=name,
            customer_name=customer_name,
            category=request.form.get("category", "open"),
            color=(request.form.get("color") or "#6c757d").strip(),
            notify=request.form.get("notify") == "1",
        )
        try:
            if is_new:
                item["key"] = _new_key()
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                if is_new:
                    d["statuses"].append(item)
                else:
                    d["statuses"][services.find_index(d["statuses"], item["key"])] = item

            if _apply(mutate, summary_of("status", key=item["key"])):
                return redirect(url_for("admin.config.statuses"))
    return _render("admin/config/status.html", d=d, item=item, is_new=is_new)


@bp.post("/statuses/<status_key>/delete")
def status_delete(status_key):
    if _apply(lambda d: services.delete_status(d, status_key), summary_of("status_deleted", key=status_key)):
        return redirect(url_for("admin.config.statuses"))
    d = services.current_definition(g.tenant.slug)
    item = find(d["statuses"], status_key) or abort(404)
    return _render("admin/config/status.html", d=d, item=item, is_new=False)


# --- workflows and transitions -------------------------------------------------------------------


def _workflow_users(d, workflow_key: str) -> list[tuple[dict, dict]]:
    """(portal, request type) pairs whose requests follow the workflow."""
    return [(p, rt) for p in d["portals"] for rt in p["request_types"] if rt["workflow"] == workflow_key]


@bp.get("/workflows")
def workflows():
    d = services.current_definition(g.tenant.slug)
    used_by = {w["key"]: _workflow_users(d, w["key"]) for w in d["workflows"]}
    return render_template(
        "admin/config/workflows.html", d=d, statuses={s["key"]: s for s in d["statuses"]}, used_by=used_by
    )


@bp.route("/workflows/new", methods=["GET", "POST"])
@bp.route("/workflows/<workflow_key>", methods=["GET", "POST"])
def workflow_edit(workflow_key=None):
    """A new workflow (optionally with a copy of another one's steps), or an existing one's name and
    initial status; its steps are edited on the Workflows page."""
    d = services.current_definition(g.tenant.slug)
    is_new = workflow_key is None
    item = (
        {"key": "", "name": {}, "initial_status": d["workflows"][0]["initial_status"], "transitions": []}
        if is_new
        else (find(d["workflows"], workflow_key) or abort(404))
    )
    copy_from = request.form.get("copy_from", "") if request.method == "POST" else request.args.get("copy_from", "")
    if request.method == "POST":
        item = dict(item, name=_localized("name"), initial_status=request.form.get("initial_status", ""))
        try:
            if is_new:
                item["key"] = _new_key()
                if find(d["workflows"], item["key"]):
                    _fail(_("There is already a workflow with the key %(key)s.", key=item["key"]))
                if copy_from:
                    source = require(find(d["workflows"], copy_from), copy_from)
                    item["transitions"] = json.loads(json.dumps(source["transitions"]))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                if is_new:
                    d["workflows"].append(item)
                else:
                    d["workflows"][services.find_index(d["workflows"], item["key"])] = item

            if _apply(mutate, summary_of("workflow", key=item["key"])):
                return redirect(url_for("admin.config.workflows"))
    return _workflow_page(d, item, is_new, copy_from)


def _workflow_page(d, item: dict, is_new: bool, copy_from: str = ""):
    status_choices = [(s["key"], _text_of(s["name"])) for s in d["statuses"]]
    copy_choices = [
        (w["key"], _("a copy of the steps of %(workflow)s", workflow=f"{_text_of(w['name'])} ({w['key']})"))
        for w in d["workflows"]
    ]
    return _render(
        "admin/config/workflow.html",
        d=d,
        item=item,
        is_new=is_new,
        copy_from=copy_from,
        status_choices=status_choices,
        copy_choices=copy_choices,
        used_by=[] if is_new else _workflow_users(d, item["key"]),
    )


@bp.post("/workflows/<workflow_key>/delete")
def workflow_delete(workflow_key):
    def mutate(d):
        require(find(d["workflows"], workflow_key), workflow_key)
        users = _workflow_users(d, workflow_key)
        if users:
            _fail(
                ngettext(
                    "Request type %(types)s follows workflow '%(key)s': choose another workflow for it first.",
                    "Request types %(types)s follow workflow '%(key)s': choose another workflow for them first.",
                    len(users),
                    key=workflow_key,
                    types=", ".join(f"{_text_of(rt['name'])} ({p['key']}/{rt['key']})" for p, rt in users),
                )
            )
        d["workflows"] = [w for w in d["workflows"] if w["key"] != workflow_key]

    if _apply(mutate, summary_of("workflow_deleted", key=workflow_key)):
        return redirect(url_for("admin.config.workflows"))
    d = services.current_definition(g.tenant.slug)
    item = find(d["workflows"], workflow_key) or abort(404)
    return _workflow_page(d, item, False)


@bp.post("/workflows/<workflow_key>/initial")
def workflow_initial(workflow_key):
    initial = request.form.get("initial_status", "")

    def mutate(d):
        require(find(d["workflows"], workflow_key), workflow_key)["initial_status"] = initial

    if not _apply(mutate, summary_of("workflow_initial_status", key=workflow_key)):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for("admin.config.workflows"))


@bp.post("/workflows/<workflow_key>/move")
def move_transition(workflow_key):
    return _moved(
        lambda d: require(find(d["workflows"], workflow_key), workflow_key)["transitions"],
        "key",
        summary_of("transition_order", key=workflow_key),
        "admin.config.workflows",
    )


def _requirable_fields(d, workflow_key: str) -> list[dict]:
    forms = {rt["form"] for p in d["portals"] for rt in p["request_types"] if rt["workflow"] == workflow_key}
    seen: dict[str, dict] = {}
    for form in d["forms"]:
        if form["key"] in forms:
            for f in form["fields"]:
                if f["key"] not in ("summary", "description", "attachments") and f["type"] != "files":
                    seen.setdefault(f["key"], f)
    return list(seen.values())


@bp.route("/workflows/<workflow_key>/transitions/new", methods=["GET", "POST"])
@bp.route("/workflows/<workflow_key>/transitions/<transition_key>", methods=["GET", "POST"])
def transition_edit(workflow_key, transition_key=None):
    d = services.current_definition(g.tenant.slug)
    workflow = find(d["workflows"], workflow_key) or abort(404)
    is_new = transition_key is None
    item = (
        {"key": "", "name": {}, "from": [], "to": "", "actors": ["agent"], "requires": []}
        if is_new
        else (find(workflow["transitions"], transition_key) or abort(404))
    )
    if request.method == "POST":
        item = dict(
            item,
            name=_localized("name"),
            to=request.form.get("to", ""),
            actors=request.form.getlist("actors"),
            requires=request.form.getlist("requires"),
        )
        item["from"] = [] if request.form.get("from_any") == "1" else request.form.getlist("from")
        try:
            if is_new:
                item["key"] = _new_key()
            if not item["actors"]:
                _fail(_("Choose who may take this step (customer, agent or system)."))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                transitions = require(find(d["workflows"], workflow_key), workflow_key)["transitions"]
                if is_new:
                    transitions.append(item)
                else:
                    transitions[services.find_index(transitions, item["key"])] = item

            if _apply(mutate, summary_of("transition", key=item["key"], workflow=workflow_key)):
                return redirect(url_for("admin.config.workflows"))
    return _render(
        "admin/config/transition.html",
        d=d,
        workflow=workflow,
        item=item,
        is_new=is_new,
        requirable=_requirable_fields(d, workflow_key),
    )


@bp.post("/workflows/<workflow_key>/transitions/<transition_key>/delete")
def transition_delete(workflow_key, transition_key):
    def mutate(d):
        workflow = require(find(d["workflows"], workflow_key), workflow_key)
        require(find(workflow["transitions"], transition_key), transition_key)
        workflow["transitions"] = [t for t in workflow["transitions"] if t["key"] != transition_key]

    if not _apply(mutate, summary_of("transition_deleted", key=transition_key, workflow=workflow_key)):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for("admin.config.workflows"))


# --- agent queues --------------------------------------------------------------------------------

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


def _queue_choice_fields(d) -> list[dict]:
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


def _type_refs(d, ref: str, portal: str | None) -> set[str]:
    """The ``portal/type`` references a queue's request type reference stands for."""
    portal_key, _sep, type_key = ref.rpartition("/")
    if portal_key:
        return {ref}
    return {
        f"{p['key']}/{type_key}"
        for p in d["portals"]
        if portal in (None, p["key"]) and any(rt["key"] == type_key for rt in p["request_types"])
    }


def _queue_type_refs(d, original: list[str], checked: list[str], portal: str | None) -> list[str]:
    """The request types ticked on the form, written as the definition had them: a bare type key whose
    request types are all still ticked stays a bare key; others are ``portal/type``."""
    remaining = list(dict.fromkeys(checked))
    out = []
    for ref in original:
        expanded = _type_refs(d, ref, portal)
        if "/" not in ref and expanded and expanded <= set(remaining):
            out.append(ref)
            remaining = [r for r in remaining if r not in expanded]
        elif ref in remaining:
            out.append(ref)
            remaining.remove(ref)
    return out + remaining


def _blank_queue() -> dict:
    from app.tenancy.definition import QUEUE_FILTER_DEFAULTS

    return {"key": "", "name": {}, "filters": json.loads(json.dumps(QUEUE_FILTER_DEFAULTS))}


def _queue_from_request(d, item: dict) -> dict:
    filters = dict(item["filters"])
    portal = request.form.get("portal") or None
    fields = {}
    posted = [name[len("fields.") :] for name in request.form if name.startswith("fields.")]
    for key in [f["key"] for f in _queue_choice_fields(d)] + posted:
        values = [v for v in request.form.getlist(f"fields.{key}") if v]
        if values and key not in fields:
            fields[key] = values
    sort_by = request.form.get("sort") or "updated"
    filters.update(
        status=request.form.get("status") or "open",
        statuses=request.form.getlist("statuses"),
        assignee=request.form.get("assignee") or "any",
        portal=portal,
        request_types=_queue_type_refs(
            d, item["filters"].get("request_types") or [], request.form.getlist("request_types"), portal
        ),
        fields=fields,
        sort=("-" if request.form.get("sort_order") == "desc" else "") + sort_by,
    )
    _set_or_pop(filters, "sla", request.form.get("sla") or None)
    return dict(item, name=_localized("name"), filters=filters)


def _queue_hidden_statuses(d, filters: dict) -> list[str]:
    """Chosen statuses that the queue's status group leaves out (such a queue never shows them)."""
    from app.tickets.listing import STATUS_GROUPS

    group = STATUS_GROUPS.get(filters.get("status") or "open")
    if group is None:
        return []
    categories = {s["key"]: s["category"] for s in d["statuses"]}
    return [key for key in filters.get("statuses") or [] if key in categories and categories[key] not in group]


def _preset_queues(tenant) -> list[dict]:
    """The presets agents see while the tenant has no queues, as queues of its own (names in each of
    its languages)."""
    from app.agent.services import DEFAULT_QUEUES

    queues = []
    for preset in DEFAULT_QUEUES:
        name = {}
        for lang in tenant.locales:
            with force_locale(lang):
                name[lang] = str(preset.name)
        queues.append({"key": preset.key, "name": name, "filters": dict(preset.filters)})
    return queues


def _queue_shows(d, filters: dict) -> dict:
    """What a queue shows, in the admin's words, for the list: status, assignee, other filters, order."""
    statuses = {s["key"]: s for s in d["statuses"]}
    status = str(QUEUE_STATUS_LABELS.get(filters.get("status") or "open", filters.get("status")))
    chosen = [_text_of(statuses[k]["name"]) if k in statuses else k for k in filters.get("statuses") or []]
    other = []
    portal = find(d["portals"], filters.get("portal") or "")
    if portal:
        other.append(f"{_('Portal')}: {_text_of(portal['name'])}")
    names = {}
    for p in d["portals"]:
        for rt in p["request_types"]:
            names[f"{p['key']}/{rt['key']}"] = _text_of(rt["name"])
            names.setdefault(rt["key"], _text_of(rt["name"]))
    if filters.get("request_types"):
        other.append(f"{_('Request types')}: " + ", ".join(names.get(r, r) for r in filters["request_types"]))
    choice = {f["key"]: f for f in _queue_choice_fields(d)}
    for key, values in (filters.get("fields") or {}).items():
        field = choice.get(key)
        labels = {o["key"]: _text_of(o["label"]) for o in field["options"]} if field else {}
        other.append(f"{_text_of(field['label']) if field else key}: " + ", ".join(labels.get(v, v) for v in values))
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


@bp.get("/queues")
def queues():
    from app.agent.services import DEFAULT_QUEUES

    d = services.current_definition(g.tenant.slug)
    return render_template(
        "admin/config/queues.html", d=d, presets=DEFAULT_QUEUES, shows=lambda filters: _queue_shows(d, filters)
    )


def _queue_labels() -> dict:
    return {
        "queue_status_labels": QUEUE_STATUS_LABELS,
        "assignee_labels": ASSIGNEE_LABELS,
        "sort_labels": SORT_LABELS,
        "sort_order_labels": SORT_ORDER_LABELS,
        "sla_filter_labels": SLA_FILTER_LABELS,
    }


@bp.post("/queues/move")
def move_queue():
    return _moved(lambda d: d["queues"], "key", summary_of("queue_order"), "admin.config.queues")


@bp.post("/queues/presets")
def queue_presets():
    def mutate(d):
        if d["queues"]:
            _fail(_("This portal already has queues of its own."))
        d["queues"] = _preset_queues(g.tenant)

    if not _apply(mutate, summary_of("queue_presets")):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for("admin.config.queues"))


@bp.route("/queues/new", methods=["GET", "POST"])
@bp.route("/queues/<queue_key>", methods=["GET", "POST"])
def queue_edit(queue_key=None):
    d = services.current_definition(g.tenant.slug)
    is_new = queue_key is None
    item = _blank_queue() if is_new else (find(d["queues"], queue_key) or abort(404))
    if request.method == "POST":
        item = _queue_from_request(d, item)
        try:
            if is_new:
                item["key"] = _new_key()
                if find(d["queues"], item["key"]):
                    _fail(_("There is already a queue with the key %(key)s.", key=item["key"]))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:
            had_own = bool(d["queues"])

            def mutate(d):
                if is_new:
                    d["queues"].append(item)
                else:
                    d["queues"][services.find_index(d["queues"], item["key"])] = item

            if _apply(mutate, summary_of("queue", key=item["key"])):
                hidden = _queue_hidden_statuses(d, item["filters"])
                if hidden:
                    flash(
                        _(
                            "The queue never shows requests in %(statuses)s: they are not in its status group "
                            "%(group)s.",
                            statuses=", ".join(_text_of(find(d["statuses"], k)["name"]) for k in hidden),
                            group=QUEUE_STATUS_LABELS[item["filters"]["status"]],
                        ),
                        "warning",
                    )
                if not had_own:
                    flash(_("Agents now see this portal's own queues instead of the presets."), "info")
                return redirect(url_for("admin.config.queues"))
    types = [
        (f"{p['key']}/{rt['key']}", f"{_text_of(p['name'])} › {_text_of(rt['name'])}")
        for p in d["portals"]
        for rt in p["request_types"]
    ]
    ticked = set()
    for ref in item["filters"].get("request_types") or []:
        ticked |= _type_refs(d, ref, item["filters"].get("portal")) or {ref}
    known = {ref for ref, _label in types}
    types += [(ref, ref) for ref in sorted(ticked - known)]  # unknown ones, to untick
    portal_choices = [("", _("All portals"))] + [(p["key"], _text_of(p["name"])) for p in d["portals"]]
    return _render(
        "admin/config/queue.html",
        d=d,
        item=item,
        is_new=is_new,
        types=types,
        ticked_types=ticked,
        portal_choices=portal_choices,
        choice_fields=_queue_choice_fields(d),
        has_sla=bool(d["sla"]),
        **_queue_labels(),
    )


@bp.post("/queues/<queue_key>/delete")
def queue_delete(queue_key):
    left: list[dict] = []

    def mutate(d):
        require(find(d["queues"], queue_key), queue_key)
        d["queues"] = [q for q in d["queues"] if q["key"] != queue_key]
        left[:] = d["queues"]

    if not _apply(mutate, summary_of("queue_deleted", key=queue_key)):
        for problem in _problems():
            flash(problem.text, "error")
    elif not left:
        flash(_("The portal has no queues of its own any more: agents see the presets."), "info")
    return redirect(url_for("admin.config.queues"))


# --- automation rules ----------------------------------------------------------------------------


@bp.get("/rules")
def rules():
    d = services.current_definition(g.tenant.slug)
    return render_template("admin/config/rules.html", d=d, statuses={s["key"]: s for s in d["statuses"]})


def _rule_actions(rule: dict) -> dict:
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


@bp.route("/rules/new", methods=["GET", "POST"])
@bp.route("/rules/<rule_key>", methods=["GET", "POST"])
def rule_edit(rule_key=None):
    d = services.current_definition(g.tenant.slug)
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
        trigger = request.form.get("trigger", "status_age")
        conditions = dict(item.get("conditions") or {})
        conditions["status"] = request.form.getlist("status")
        if not conditions["status"]:
            conditions.pop("status")
        for name in ("after", "clock"):
            value = (request.form.get(name) or "").strip()
            if value and trigger == "status_age":
                conditions[name] = value.upper() if name == "after" else value
            else:
                conditions.pop(name, None)
        actions = []
        if request.form.get("transition_to"):
            actions.append({"transition_to": request.form["transition_to"]})
        comment = _localized("comment")
        if comment:
            actions.append({"comment": comment})
        if request.form.get("notify"):
            actions.append({"notify": request.form["notify"]})
        if request.form.get("survey") == "1":
            actions.append({"survey": "satisfaction"})
        item = dict(
            item,
            name=_localized("name"),
            trigger=trigger,
            enabled=request.form.get("enabled") == "1",
            conditions=conditions,
            actions=actions,
        )
        try:
            if is_new:
                item["key"] = _new_key()
            if not actions:
                _fail(_("Choose at least one action (move to a status, comment, notify or survey)."))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                if is_new:
                    d["rules"].append(item)
                else:
                    d["rules"][services.find_index(d["rules"], item["key"])] = item

            if _apply(mutate, summary_of("rule", key=item["key"])):
                return redirect(url_for("admin.config.rules"))
    return _render(
        "admin/config/rule.html",
        d=d,
        item=item,
        is_new=is_new,
        actions=_rule_actions(item),
        has_business_hours=bool(d["settings"].get("business_hours")),
    )


@bp.post("/rules/<rule_key>/delete")
def rule_delete(rule_key):
    def mutate(d):
        require(find(d["rules"], rule_key), rule_key)
        d["rules"] = [r for r in d["rules"] if r["key"] != rule_key]

    if not _apply(mutate, summary_of("rule_deleted", key=rule_key)):
        for problem in _problems():
            flash(problem.text, "error")
    return redirect(url_for("admin.config.rules"))


# --- settings: notifications, e-mail channel, general, languages ----------------------------------


def _text_fields(d) -> list[str]:
    return sorted(
        {f["key"] for form in d["forms"] for f in form["fields"] if f["type"] in ("text", "textarea", "email")}
    )


def _int_or_none(name: str, label: str):
    raw = (request.form.get(name) or "").strip()
    if not raw:
        return None
    from app.security.params import int_arg

    value = int_arg(raw)
    if value is None:
        _fail(_("%(label)s: please enter a whole number.", label=label))
    return value


def _set_or_pop(mapping: dict, key: str, value) -> None:
    if value is None or value == "":
        mapping.pop(key, None)
    else:
        mapping[key] = value


@bp.route("/notifications", methods=["GET", "POST"])
def notifications():
    d = services.current_definition(g.tenant.slug)
    values = dict(d["settings"].get("notifications", {}))
    if request.method == "POST":
        try:
            values = dict(values)
            _set_or_pop(values, "batch_seconds", _int_or_none("batch_seconds", _("Batch window")))
            _set_or_pop(values, "cc_field", request.form.get("cc_field") or None)
            _set_or_pop(values, "cc_from", request.form.get("cc_from") or None)
            _set_or_pop(values, "agents", request.form.get("agents") or None)
            values["on_created"] = request.form.get("on_created") == "1"
            if values["on_created"]:
                values.pop("on_created")
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                _set_or_pop(d["settings"], "notifications", values or None)

            if _apply(mutate, summary_of("notifications")):
                return redirect(url_for("admin.config.notifications"))
    return _render("admin/config/notifications.html", d=d, values=values, text_fields=_text_fields(d))


@bp.route("/email", methods=["GET", "POST"])
def email_channel():
    d = services.current_definition(g.tenant.slug)
    settings = dict(d["settings"])
    if request.method == "POST":
        try:
            _set_or_pop(settings, "support_email", (request.form.get("support_email") or "").strip() or None)
            _set_or_pop(settings, "email_request_type", request.form.get("email_request_type") or None)
            _set_or_pop(settings, "unknown_sender", request.form.get("unknown_sender") or None)
            _set_or_pop(settings, "subject_tag", (request.form.get("subject_tag") or "").strip() or None)
            _set_or_pop(
                settings, "email_rate_per_hour", _int_or_none("email_rate_per_hour", _("E-mails per sender per hour"))
            )
            _set_or_pop(settings, "max_email_mb", _int_or_none("max_email_mb", _("Largest e-mail (MB)")))
        except ConsoleError as error:
            g.console_problems = error.problems
        else:

            def mutate(d):
                d["settings"] = settings

            if _apply(mutate, summary_of("email_channel")):
                return redirect(url_for("admin.config.email_channel"))
    return _email_page(d, settings)


def _email_page(d, settings, mailbox_form=None):
    from sqlalchemy import select

    from app.extensions import db
    from app.mailin.models import Mailbox

    from app.mailin.jobs import error_words

    mailboxes = db.session.scalars(select(Mailbox).order_by(Mailbox.id)).all()
    return _render(
        "admin/config/email.html",
        d=d,
        settings=settings,
        mailboxes=mailboxes,
        mailbox_form=mailbox_form or {},
        mailbox_error=error_words,
    )


@bp.post("/email/mailboxes")
def mailbox():
    """Add or update the IMAP mailbox polled for this portal, or only test the connection first.

    The password is stored encrypted and never shown again; a test never stores anything."""
    from app.mailin.services import MailboxConnectionError, set_mailbox, test_mailbox_connection

    form = {
        key: (request.form.get(key) or "").strip()
        for key in ("host", "port", "security", "username", "folder", "processed_folder")
    }
    form["verify_certificate"] = request.form.get("verify_certificate") == "1"
    password = request.form.get("password") or ""
    d = services.current_definition(g.tenant.slug)

    def again(problem: Problem | None = None):
        if problem is not None:
            g.console_problems = [problem]
        return _email_page(d, dict(d["settings"]), form)

    from app.security.params import int_arg

    port = int_arg(form["port"], minimum=1, maximum=65535)
    if form["port"] and port is None:
        return again(Problem(_("The port must be a number."), "port"))
    if not password:
        return again(Problem(_("Please enter the mailbox password."), "password"))
    try:
        count = test_mailbox_connection(
            host=form["host"],
            port=port,
            security=form["security"] or "ssl",
            username=form["username"],
            password=password,
            folder=form["folder"] or "INBOX",
            verify_certificate=form["verify_certificate"],
        )
    except MailboxConnectionError as error:
        return again(Problem(error.message))
    if request.form.get("action") == "test":
        flash(
            ngettext(
                "The connection works: %(num)d message in %(folder)s.",
                "The connection works: %(num)d messages in %(folder)s.",
                count,
                folder=form["folder"] or "INBOX",
            ),
            "success",
        )
        return again()
    set_mailbox(
        host=form["host"],
        port=port,
        security=form["security"] or "ssl",
        username=form["username"],
        password=password,
        folder=form["folder"] or "INBOX",
        processed_folder=form["processed_folder"] or None,
        verify_certificate=form["verify_certificate"],
    )
    flash(
        _("The mailbox %(user)s at %(host)s is polled every minute.", user=form["username"], host=form["host"]),
        "success",
    )
    return redirect(url_for("admin.config.email_channel"))


@bp.post("/email/mailboxes/<int:mailbox_id>/remove")
def remove_mailbox(mailbox_id):
    from app.mailin.services import remove_mailbox as remove

    if not remove(mailbox_id):
        abort(404)
    flash(_("The mailbox is no longer polled; its password is deleted."), "success")
    return redirect(url_for("admin.config.email_channel"))


@bp.route("/general", methods=["GET", "POST"])
def general():
    d = services.current_definition(g.tenant.slug)
    values = {
        "name": d["name"],
        "registration": d["registration"],
        "timezone": d["timezone"],
        "languages": list(d["languages"]),
        "default_language": d["default_language"],
    }
    if request.method == "POST":
        from app.tenancy.definition import SUPPORTED_LANGUAGES

        values = {
            "name": (request.form.get("name") or "").strip(),
            "registration": request.form.get("registration", ""),
            "timezone": (request.form.get("timezone") or "").strip(),
            "languages": [lang for lang in SUPPORTED_LANGUAGES if lang in request.form.getlist("languages")],
            "default_language": request.form.get("default_language", ""),
        }
        added = [lang for lang in values["languages"] if lang not in d["languages"]]

        def mutate(d):
            if not values["languages"]:
                _fail(_("Enable at least one language."))
            if values["default_language"] not in values["languages"]:
                _fail(_("The default language must be one of the enabled languages."))
            d["name"], d["registration"], d["timezone"] = values["name"], values["registration"], values["timezone"]
            if values["languages"] != list(d["languages"]) or values["default_language"] != d["default_language"]:
                services.relocalize(d, values["languages"], d["default_language"])
            d["languages"], d["default_language"] = values["languages"], values["default_language"]

        if _apply(mutate, summary_of("general")):
            if added:
                flash(
                    _(
                        "Texts in the newly enabled language(s) %(languages)s start as a copy of the default "
                        "language: translate them on the configuration pages.",
                        languages=", ".join(added),
                    ),
                    "warning",
                )
            return redirect(url_for("admin.config.general"))
    from app.tenancy.definition import SUPPORTED_LANGUAGES
    from app.templating import LANGUAGE_NAMES

    return _render(
        "admin/config/general.html", d=d, values=values, supported=SUPPORTED_LANGUAGES, language_names=LANGUAGE_NAMES
    )


# --- SLA targets and the business calendar ------------------------------------------------------

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
WEEKDAY_LABELS = {
    "mon": _l("Monday"),
    "tue": _l("Tuesday"),
    "wed": _l("Wednesday"),
    "thu": _l("Thursday"),
    "fri": _l("Friday"),
    "sat": _l("Saturday"),
    "sun": _l("Sunday"),
}


def _select_fields(d) -> dict[str, dict]:
    fields: dict[str, dict] = {}
    for form in d["forms"]:
        for f in form["fields"]:
            if f["type"] == "select":
                fields.setdefault(f["key"], f)
    return fields


@bp.route("/sla", methods=["GET", "POST"])
def sla():
    d = services.current_definition(g.tenant.slug)
    hours = dict(d["settings"].get("business_hours") or {})
    policy = dict(d["sla"] or {})
    select_fields = _select_fields(d)
    if request.method == "POST":
        if request.form.get("hours_enabled") == "1":
            hours = {
                "days": [day for day in WEEKDAYS if day in request.form.getlist("days")],
                "start": (request.form.get("start") or "").strip(),
                "end": (request.form.get("end") or "").strip(),
                "holidays": [
                    line.strip() for line in (request.form.get("holidays") or "").splitlines() if line.strip()
                ],
            }
            if not hours["holidays"]:
                hours.pop("holidays")
        else:
            hours = {}
        if request.form.get("sla_enabled") == "1":
            by = request.form.get("by") or None
            policy = {
                "clock": request.form.get("clock", "calendar"),
                "warn_before": (request.form.get("warn_before") or "PT4H").strip().upper(),
            }
            targets = {}
            for option in select_fields.get(by, {}).get("options", []) if by else []:
                target = {
                    name: request.form.get(f"target.{option['key']}.{name}", "").strip().upper()
                    for name in ("first_response", "resolution")
                }
                target = {name: value for name, value in target.items() if value}
                if target:
                    targets[option["key"]] = target
            if by:
                policy["by"] = by
            policy["targets"] = targets
            default = {
                name: request.form.get(f"default.{name}", "").strip().upper()
                for name in ("first_response", "resolution")
            }
            default = {name: value for name, value in default.items() if value}
            if default:
                policy["default"] = default
        else:
            policy = {}

        def mutate(d):
            _set_or_pop(d["settings"], "business_hours", hours or None)
            d["sla"] = policy

        if _apply(mutate, summary_of("sla")):
            return redirect(url_for("admin.config.sla"))
    return _render(
        "admin/config/sla.html", d=d, hours=hours, policy=policy, select_fields=select_fields, weekdays=WEEKDAY_LABELS
    )


# --- UI strings and branding ---------------------------------------------------------------------


@bp.route("/strings", methods=["GET", "POST"])
def strings():
    d = services.current_definition(g.tenant.slug)
    entry = {"language": g.tenant.default_locale, "msgid": "", "text": ""}
    if request.method == "POST":
        entry = {
            "language": request.form.get("language", ""),
            "msgid": request.form.get("msgid", "").strip(),
            "text": request.form.get("text", "").strip(),
        }
        delete = request.form.get("delete") == "1"

        def mutate(d):
            if not entry["msgid"]:
                _fail(_("Enter the English text of the catalog to override."))
            texts = d["strings"].setdefault(entry["language"], {})
            if delete:
                texts.pop(entry["msgid"], None)
            elif not entry["text"]:
                _fail(_("Enter the tenant's wording."))
            else:
                texts[entry["msgid"]] = entry["text"]
            if not texts:
                d["strings"].pop(entry["language"])

        if _apply(mutate, summary_of("string_override", language=entry["language"], msgid=entry["msgid"][:80])):
            return redirect(url_for("admin.config.strings"))
    return _render("admin/config/strings.html", d=d, entry=entry)


MIN_CONTRAST = 4.5


@bp.route("/branding", methods=["GET", "POST"])
def branding():
    d = services.current_definition(g.tenant.slug)
    values = dict(d["branding"])
    if request.method == "POST":
        values = dict(values)
        tagline = _localized("tagline")
        _set_or_pop(values, "tagline", tagline or None)
        problems = []
        for name, label in (("primary_color", _("Main colour")), ("accent_color", _("Accent colour"))):
            color = (request.form.get(name) or "").strip().lower()
            _set_or_pop(values, name, color or None)
            if color and re.match(r"^#[0-9a-f]{6}$", color):
                ratio = services.contrast_with_white(color)
                if ratio < MIN_CONTRAST:
                    problems.append(
                        Problem(
                            _(
                                "%(label)s %(color)s is too light for white text on it: its contrast is %(ratio)s:1, "
                                "at least 4.5:1 is needed. Choose a darker colour.",
                                label=label,
                                color=color,
                                ratio=f"{ratio:.2f}",
                            ),
                            name,
                        )
                    )
        if problems:
            g.console_problems = problems
        else:

            def mutate(d):
                d["branding"] = values

            if _apply(mutate, summary_of("branding")):
                return redirect(url_for("admin.config.branding"))
    return _render("admin/config/branding.html", d=d, values=values)


@bp.post("/branding/logo")
def logo():
    """Upload (or remove) the logo shown in the portal's header."""
    from app.tenancy.services import LogoError, remove_logo, set_logo

    if request.form.get("remove") == "1":
        remove_logo(g.tenant.id)
        flash(_("The logo is removed; the header shows the portal's name."), "success")
        return redirect(url_for("admin.config.branding"))
    try:
        set_logo(g.tenant.id, request.files.get("logo"))
    except LogoError as error:
        g.console_problems = [Problem(error.message, "logo")]
        d = services.current_definition(g.tenant.slug)
        return _render("admin/config/branding.html", d=d, values=dict(d["branding"]))
    flash(_("The new logo is in the header."), "success")
    return redirect(url_for("admin.config.branding"))


# --- export, import ------------------------------------------------------------------------------


def _record_export(file_format: str) -> None:
    """The whole configuration leaving the portal (mailbox addresses, rules) is a security event."""
    from app.extensions import db
    from app.security.events import CONFIG_EXPORTED
    from app.security.services import record_event

    record_event(CONFIG_EXPORTED, tenant_id=g.tenant.id, actor=current_user._get_current_object(), format=file_format)
    db.session.commit()


@bp.get("/export.zip")
def export_zip():
    slug = g.tenant.slug
    body = services.export_zip(slug)
    _record_export("zip")
    return Response(
        body, mimetype="application/zip", headers={"Content-Disposition": f'attachment; filename="{slug}.zip"'}
    )


@bp.get("/export.yaml")
def export_yaml():
    slug = g.tenant.slug
    body = services.export_yaml(slug)
    _record_export("yaml")
    return Response(
        body, mimetype="application/yaml", headers={"Content-Disposition": f'attachment; filename="{slug}.yaml"'}
    )


@bp.route("/import", methods=["GET", "POST"])
def import_definition():
    slug = g.tenant.slug
    report = None
    payload = None
    notes: list[str] = []
    if request.method == "POST":
        try:
            if request.form.get("definition"):
                data = services.parse_payload(request.form["definition"])
            else:
                upload = request.files.get("file")
                if upload is None or not upload.filename:
                    _fail(_("Choose a file: a zip of the tenants/ files or a single YAML file."))
                data = services.parse_upload(upload.filename, services.read_upload(upload.stream))
            if data.get("slug") != slug:
                notes.append(
                    _(
                        "The file describes '%(other)s'; it is imported as '%(slug)s'.",
                        other=data.get("slug"),
                        slug=slug,
                    )
                )
                data["slug"] = slug
            if request.form.get("apply") == "1":
                report = services.apply_data(
                    data,
                    slug=slug,
                    actor=current_user._get_current_object(),
                    summary=summary_of("import"),
                    source="import",
                )
                _record_import(len(report.changes))
                flash(
                    _("The definition was imported: %(count)s change(s).", count=len(report.changes))
                    if report.changed
                    else _("Nothing changed."),
                    "success",
                )
                return redirect(
                    url_for("admin.config.audit") if report.changed else url_for("admin.config.import_definition")
                )
            report = services.apply_data(data, slug=slug, actor=None, summary=None, dry_run=True, source="import")
            payload = services.dump_json(data)
        except ConsoleError as error:
            g.console_problems = error.problems
        except ValueError:
            g.console_problems = [Problem(_("The definition could not be read."))]
    return _render("admin/config/import.html", report=report, payload=payload, notes=notes)


def _record_import(changes: int) -> None:
    """An applied import (never the dry run) is a security event, whether or not it changed anything."""
    from app.extensions import db
    from app.security.events import CONFIG_IMPORTED
    from app.security.services import record_event

    record_event(CONFIG_IMPORTED, tenant_id=g.tenant.id, actor=current_user._get_current_object(), changes=changes)
    db.session.commit()


@bp.get("/audit")
def audit():
    from app.security.params import page_arg

    page = page_arg(request.args.get("page"))
    total, changes = services.recent_changes(limit=50, offset=(page - 1) * 50)
    return render_template(
        "admin/config/audit.html", changes=changes, total=total, page=page, pages=max((total + 49) // 50, 1)
    )
