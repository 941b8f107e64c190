"""The runtime form builder: a request form built from the tenant's field definitions.

A new form class is made for each request (``type(name, (RequestForm,), fields)``), never by
changing a shared class. Visibility conditions are evaluated here, on the server, whatever the page
did: a field hidden by its condition is neither required nor stored (its ``value_when_hidden`` is).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    MultipleFileField,
    SelectField,
    SelectMultipleField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Email, Length, Optional, Regexp

from app.catalog.services import FieldInfo

FIELD_PREFIX = "field_"
REQUIRED_MESSAGE = _l("Please fill in this field.")
PHONE_PATTERN = r"^\+?[0-9][0-9 ()/.-]{4,24}$"


def form_name(key: str) -> str:
    return FIELD_PREFIX + key


def is_visible(field: FieldInfo, request_type_key: str, values: dict) -> bool:
    """Is ``field`` shown for this request type, given the values of the other fields?"""
    condition = field.visible_when
    if not condition:
        return True
    if "request_type" in condition:
        return request_type_key in condition["request_type"]
    other = values.get(condition["field"])
    chosen = other if isinstance(other, list) else [other]
    if isinstance(other, bool):
        chosen = ["true" if other else "false"]
    return any(str(value) in condition["in"] for value in chosen if value not in (None, ""))


def customer_fields(fields, *, staff: bool) -> list[FieldInfo]:
    """The fields a person fills in: not fixed by the vendor; support-only ones only for staff."""
    return [f for f in fields if f.fixed_value is None and (staff or f.editable_by == "customer")]


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or (hasattr(value, "filename") and not value.filename)


class RequestForm(FlaskForm):
    """Base of every generated request form."""

    _infos: list[FieldInfo] = []
    _request_type_key: str = ""

    def submitted_values(self) -> dict:
        """Plain values by field key (files excluded), as typed."""
        values = {}
        for info in self._infos:
            if info.type == "files":
                continue
            value = self[form_name(info.key)].data
            if isinstance(value, Decimal):
                value = int(value) if value == value.to_integral_value() else float(value)
            elif isinstance(value, date):
                value = value.isoformat()
            values[info.key] = value
        return values

    def visible_infos(self) -> list[FieldInfo]:
        values = self.submitted_values()
        return [info for info in self._infos if is_visible(info, self._request_type_key, values)]

    def validate(self, extra_validators=None) -> bool:
        super().validate(extra_validators)
        visible = {info.key for info in self.visible_infos()}
        for info in self._infos:
            field = self[form_name(info.key)]
            if info.key not in visible:
                field.errors = []  # hidden by its condition: not checked, not stored
                continue
            data = field.data
            if info.type == "files":
                data = [f for f in (data or []) if getattr(f, "filename", "")]
            if info.required and info.type != "checkbox" and _empty(data):
                field.errors = [str(REQUIRED_MESSAGE)]
        return (
            not any(self[form_name(info.key)].errors for info in self._infos)
            and not self.form_errors
            and ("csrf_token" not in self.errors)
        )


def build_request_form(fields, request_type_key: str, localize, *, staff: bool = False) -> type[RequestForm]:
    """A form class for one request type: ``localize`` turns a {lang: text} mapping into text."""
    infos = [
        f
        for f in customer_fields(fields, staff=staff)
        if not (f.visible_when and "request_type" in f.visible_when and not is_visible(f, request_type_key, {}))
    ]
    attrs: dict = {"_infos": infos, "_request_type_key": request_type_key}
    for info in infos:
        label = localize(info.label)
        description = localize(info.help) if info.help else ""
        unconditional_required = info.required and not info.visible_when
        kwargs = {"label": label, "description": description}
        if info.type == "text":
            limit = 500 if info.key == "summary" else 1000
            field = StringField(validators=[Optional(), Length(max=limit)], **kwargs)
        elif info.type == "textarea":
            field = TextAreaField(validators=[Optional(), Length(max=20000)], **kwargs)
        elif info.type == "number":
            field = DecimalField(validators=[Optional()], places=None, **kwargs)
        elif info.type == "date":
            field = DateField(validators=[Optional()], **kwargs)
        elif info.type == "select":
            choices = [SelectChoice("", str(_l("— choose —")))] + [
                SelectChoice(key, localize(lbl)) for key, lbl in info.options
            ]
            field = SelectField(choices=choices, validators=[Optional()], **kwargs)
        elif info.type == "multiselect":
            field = SelectMultipleField(
                choices=[SelectChoice(key, localize(lbl)) for key, lbl in info.options],
                validators=[Optional()],
                **kwargs,
            )
        elif info.type == "checkbox":
            field = BooleanField(**kwargs)
        elif info.type == "email":
            field = EmailField(validators=[Optional(), Email(), Length(max=320)], **kwargs)
        elif info.type == "phone":
            field = TelField(
                validators=[
                    Optional(),
                    Regexp(PHONE_PATTERN, message=_l("Please enter a phone number, e.g. +36 1 234 5678.")),
                ],
                **kwargs,
            )
        elif info.type == "files":
            field = MultipleFileField(**kwargs)
        else:  # the validator of the definition format allows no other type
            raise ValueError(info.type)
        if unconditional_required and info.type not in ("checkbox", "files"):
            field.kwargs.setdefault("render_kw", {})["required"] = True
        attrs[form_name(info.key)] = field
    return type(f"RequestForm_{request_type_key}", (RequestForm,), attrs)


def prefill(form: RequestForm, params, fields) -> None:
    """Fill the form from a deep link's query parameters (``?summary=...&season=2025-26``)."""
    for info in form._infos:
        field = form[form_name(info.key)]
        raw = params.getlist(info.key) if info.type == "multiselect" else params.get(info.key)
        if raw in (None, "", []):
            if info.default is not None and field.data in (None, "", []):
                field.data = info.default
            continue
        if info.type in ("select", "multiselect"):
            allowed = {key for key, _label in info.options}
            raw = [v for v in raw if v in allowed] if isinstance(raw, list) else (raw if raw in allowed else None)
            if not raw:
                continue
        elif info.type == "checkbox":
            raw = raw in ("1", "true", "yes", "on")
        elif info.type in ("number", "date", "files"):
            continue  # typed values are not taken from links
        field.data = raw


def stored_values(form: RequestForm, fields) -> dict:
    """What is stored for each field: visible values as given, hidden ones' value_when_hidden,
    vendor-fixed values, and defaults of support-only fields the customer did not see."""
    submitted = form.submitted_values()
    visible = {info.key for info in form.visible_infos()}
    on_form = {info.key for info in form._infos}
    result = {}
    for info in fields:
        if info.type == "files":
            continue
        if info.fixed_value is not None:
            result[info.key] = info.fixed_value
        elif info.key not in on_form:
            if info.visible_when and not is_visible(info, form._request_type_key, submitted):
                result[info.key] = info.value_when_hidden
            else:
                result[info.key] = info.default
        elif info.key in visible:
            result[info.key] = submitted.get(info.key)
        else:
            result[info.key] = info.value_when_hidden
    return result
