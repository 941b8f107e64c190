"""Forms and their fields: what a request type asks, in which order, shown when, filled in by whom."""

from __future__ import annotations

from flask import abort, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from wtforms import StringField, ValidationError

from app.admin.config.base import apply_edit, bp, current, flash_problems, keep_problems, move_entry, render
from app.admin.config.editing import copied, put, refuse, without
from app.admin.config.inputs import KEY_RE, ConsoleForm, Flag, OptionRows, Strings, key_field, split_keys
from app.admin.services import find, require
from app.admin.summaries import summary_of
from app.catalog.definition import FIELD_DEFAULTS

CHOICE_TYPES = ("select", "multiselect")


# --- forms ---------------------------------------------------------------------------------------


def typed(raw: str | None, field_type: str):
    """A value typed in for a field (default, fixed value...) as the field's type stores it; None
    when empty. ValueError when a number field gets something else."""
    raw = (raw or "").strip()
    if raw == "":
        return None
    if field_type == "checkbox":
        return raw.lower() in ("true", "1", "yes", "on")
    if field_type == "number":
        try:
            return int(raw)
        except ValueError:
            return float(raw)
    if field_type == "multiselect":
        return split_keys(raw)
    return raw


class FieldForm(ConsoleForm):
    localized = ("label", "help")
    key = key_field(default="")
    type = StringField(default="text")  # the field's type as it was when not posted
    required = Flag()
    editable_by = StringField(default="")
    visible_mode = StringField(default="always")
    visible_field = StringField(default="")
    visible_in = StringField(default="")
    visible_types = Strings()
    value_when_hidden = StringField(default="")
    default = StringField(default="")
    fixed_value = StringField(default="")

    @classmethod
    def for_tenant(cls, *, new: bool = True, **fields) -> type[ConsoleForm]:
        return super().for_tenant(new=new, options=OptionRows(languages=g.tenant.locales), **fields)

    def _check_typed(self, field):
        try:
            typed(field.data, self.type.data or "text")
        except ValueError:
            raise ValidationError(_("'%(value)s' is not a number.", value=field.data.strip())) from None

    validate_default = validate_fixed_value = _check_typed

    def validate_value_when_hidden(self, field):
        if self.visible_mode.data in ("field", "request_type"):  # stored only under a condition
            self._check_typed(field)

    def field(self, item: dict) -> dict:
        """The field definition the inputs describe (``item``: the field as it was)."""
        field_type = self.type.data or "text"
        field = dict(
            item,
            type=field_type,
            label=self.texts("label"),
            help=self.texts("help"),
            required=self.required.data,
            editable_by=self.editable_by.data or "customer",
            options=self.options.data if field_type in CHOICE_TYPES else [],
        )
        if "key" in self:
            field["key"] = self.key.data
        if self.visible_mode.data == "field":
            field["visible_when"] = {"field": self.visible_field.data, "in": split_keys(self.visible_in.data)}
        elif self.visible_mode.data == "request_type":
            field["visible_when"] = {"request_type": self.visible_types.data}
        else:
            field["visible_when"] = None
        values = {}
        for name in ("value_when_hidden", "default", "fixed_value"):
            try:
                values[name] = typed(self[name].data, field_type)
            except ValueError:
                values[name] = self[name].data  # reported by the form's validation
        field.update(values)
        if not field["visible_when"]:
            field["value_when_hidden"] = None
        return field


# --- editors -------------------------------------------------------------------------------------


def check_field(field: dict) -> None:
    """What the form must say before the validator sees the field."""
    condition = field.get("visible_when")
    if condition and "in" in condition and not condition["in"]:
        refuse(_("Visible when: list the option keys that show the field, e.g. 'bug, incident'."), "in")
    if condition and "request_type" in condition and not condition["request_type"]:
        refuse(_("Visible when: choose at least one request type."), "request_type")
    for option in field.get("options", []):
        if not KEY_RE.match(option["key"] or ""):
            refuse(_("Each option needs a key of lowercase letters, digits, '-' or '_'."), "options")


def save_field(definition: dict, form_key: str, field: dict, *, new: bool) -> dict:
    check_field(field)
    d = copied(definition)
    put(require(find(d["forms"], form_key), form_key)["fields"], field, new=new)
    return d


def delete_field(definition: dict, form_key: str, field_key: str) -> dict:
    d = copied(definition)
    form = require(find(d["forms"], form_key), form_key)
    form["fields"] = without(form["fields"], field_key)
    return d


# --- views ---------------------------------------------------------------------------------------


@bp.get("/forms")
def forms():
    d = current()
    used_by: dict[str, list] = {}
    for portal in d["portals"]:
        for rt in portal["request_types"]:
            used_by.setdefault(rt["form"], []).append((portal, rt))
    return render_template("admin/config/forms.html", d=d, used_by=used_by)


@bp.get("/forms/<form_key>")
def form_detail(form_key):
    d = current()
    form = find(d["forms"], form_key) or abort(404)
    types = [(p, rt) for p in d["portals"] for rt in p["request_types"] if rt["form"] == form_key]
    return render_template("admin/config/form.html", d=d, form=form, types=types)


@bp.post("/forms/<form_key>/move")
def move_field(form_key):
    return move_entry(
        lambda d: require(find(d["forms"], form_key), form_key)["fields"],
        summary_of("field_order", key=form_key),
        "admin.config.form_detail",
        form_key=form_key,
    )


@bp.route("/forms/<form_key>/fields/new", methods=["GET", "POST"])
@bp.route("/forms/<form_key>/fields/<field_key>", methods=["GET", "POST"])
def field_edit(form_key, field_key=None):
    d = current()
    form = find(d["forms"], form_key) or abort(404)
    is_new = field_key is None
    item = (
        dict(FIELD_DEFAULTS, key="", type="text", label={})
        if is_new
        else (find(form["fields"], field_key) or abort(404))
    )
    if request.method == "POST":
        inputs = FieldForm.for_tenant(new=is_new)(data={"type": item.get("type") or "text"})
        item = inputs.field(item)
        if not inputs.validate():
            keep_problems(inputs.problems())
        else:
            summary = summary_of("field", field=item["key"], form=form_key)
            if apply_edit(lambda d: save_field(d, form_key, item, new=is_new), summary) is not None:
                return redirect(url_for("admin.config.form_detail", form_key=form_key))
    types = [rt for p in d["portals"] for rt in p["request_types"] if rt["form"] == form_key]
    choice_fields = [
        f for f in form["fields"] if f["type"] in ("select", "multiselect", "checkbox") and f["key"] != item.get("key")
    ]
    return render(
        "admin/config/field.html", d=d, form=form, item=item, is_new=is_new, types=types, choice_fields=choice_fields
    )


@bp.post("/forms/<form_key>/fields/<field_key>/delete")
def field_delete(form_key, field_key):
    summary = summary_of("field_deleted", field=field_key, form=form_key)
    if apply_edit(lambda d: delete_field(d, form_key, field_key), summary) is None:
        flash_problems()
    return redirect(url_for("admin.config.form_detail", form_key=form_key))
