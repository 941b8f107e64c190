"""Portals (service projects): each groups request types; a new one comes with its first type."""

from __future__ import annotations

from flask import abort, redirect, request, url_for
from flask_babel import gettext as _
from wtforms import StringField

from app.admin.config.base import apply_edit, bp, current, keep_problems, move_entry, render
from app.admin.config.editing import copied, put, refuse
from app.admin.config.inputs import ConsoleForm, key_field
from app.admin.config.request_types import blank_request_type, with_own_form
from app.admin.services import find, require
from app.admin.summaries import summary_of


class PortalForm(ConsoleForm):
    localized = ("name", "description")


class NewPortalForm(ConsoleForm):
    """A portal and its first request type (``type_key``, ``type_name.<lang>``, form, workflow)."""

    localized = ("name", "description", "type_name")
    key = key_field(default="")
    type_key = key_field(default="")
    form = StringField(default="")
    workflow = StringField(default="")


def add_portal(definition: dict, portal: dict, first_type: dict) -> dict:
    """A new portal with its first request type: a portal is never empty."""
    if find(definition["portals"], portal["key"]):
        refuse(_("There is already a portal with the key %(key)s.", key=portal["key"]), "key")
    d = copied(definition)
    d["portals"].append(dict(portal, request_types=[with_own_form(d, dict(first_type))]))
    return d


def save_portal(definition: dict, portal: dict) -> dict:
    """A portal's name and description (its request types are kept)."""
    d = copied(definition)
    existing = require(find(d["portals"], portal["key"]), portal["key"])
    put(d["portals"], dict(existing, name=portal["name"], description=portal["description"]), new=False)
    return d


@bp.post("/portals/move")
def move_portal():
    return move_entry(lambda d: d["portals"], summary_of("portal_order"), "admin.config.request_types")


@bp.route("/portals/new", methods=["GET", "POST"])
def portal_new():
    d = current()
    item = {"key": "", "name": {}, "description": {}}
    first = blank_request_type(d)
    if request.method == "POST":
        form = NewPortalForm.for_tenant()()
        item = dict(item, key=form.key.data, name=form.texts("name"), description=form.texts("description"))
        first = dict(
            first,
            key=form.type_key.data,
            name=form.texts("type_name"),
            form=form.form.data,
            workflow=form.workflow.data,
        )
        if not form.validate():
            keep_problems(form.problems())
        elif apply_edit(lambda d: add_portal(d, item, first), summary_of("portal", key=item["key"])) is not None:
            return redirect(url_for("admin.config.request_types"))
    return render("admin/config/portal_new.html", d=d, item=item, first=first)


@bp.route("/portals/<portal_key>", methods=["GET", "POST"])
def portal_edit(portal_key):
    d = current()
    item = find(d["portals"], portal_key) or abort(404)
    if request.method == "POST":
        form = PortalForm.for_tenant()()
        item = dict(item, name=form.texts("name"), description=form.texts("description"))
        if not form.validate():
            keep_problems(form.problems())
        elif apply_edit(lambda d: save_portal(d, item), summary_of("portal", key=portal_key)) is not None:
            return redirect(url_for("admin.config.request_types"))
    return render("admin/config/portal.html", d=d, item=item)
