"""The console's form input: WTForms fields for the names its hand-written HTML posts.

The pages keep their plain inputs (``name.cs``, ``option_0_key``, ``fields.priority``...): these
field classes read exactly those names, so a page and its form class agree without JavaScript.
A form class with per-language inputs is built for the tenant's languages on every request
(``ConsoleForm.build``: ``type(name, (cls,), fields)``, never a change to a shared class).
Input errors become console problems with the input's name as their attribute, so the page shows
them next to the field and in the list above the form.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from flask import g
from flask_babel import gettext as _, lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import Field, StringField
from wtforms.validators import Regexp, ValidationError

from app.admin.services import Problem
from app.security.params import int_arg

KEY_RE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}$")
KEY_MESSAGE = _l("The key must be lowercase letters, digits, '-' or '_' (at most 63), e.g. 'bug-report'.")
# A field form has a few dozen option rows; more are not read.
MAX_OPTION_ROWS = 500


def strip(value):
    return value.strip() if isinstance(value, str) else value


def lower(value):
    return value.lower() if isinstance(value, str) else value


def split_keys(raw: str | None) -> list[str]:
    """'bug, incident  task' -> ['bug', 'incident', 'task'] (commas or white space between keys)."""
    return [part for part in re.split(r"[,\s]+", raw or "") if part]


class Flag(Field):
    """A checkbox posting ``1`` when ticked (absent otherwise)."""

    def process_data(self, value):
        self.data = bool(value)

    def process_formdata(self, valuelist):
        self.data = bool(valuelist) and valuelist[0] == "1"


class Strings(Field):
    """Every value posted under the name (ticked checkboxes, a multiple select), in order."""

    def process_data(self, value):
        self.data = list(value or [])

    def process_formdata(self, valuelist):
        self.data = list(valuelist)


class Grouped(Field):
    """The values of every input named ``<prefix>.<rest>``, as ``{rest: [values]}``: inputs made per
    definition entry (``fields.priority``, ``target.high.resolution``)."""

    def __init__(self, label=None, validators=None, *, prefix: str, **kwargs):
        super().__init__(label, validators, **kwargs)
        self.prefix = prefix + "."

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = {}
        for name in formdata or ():
            if name.startswith(self.prefix):
                self.data[name[len(self.prefix) :]] = formdata.getlist(name)


class WholeNumber(StringField):
    """An optional whole number; ``number`` is None when left empty."""

    def __init__(self, label=None, validators=None, **kwargs):
        super().__init__(label, validators, filters=[strip], **kwargs)

    @property
    def number(self) -> int | None:
        return int_arg(self.data) if self.data else None

    def pre_validate(self, form):
        if self.data and self.number is None:
            raise ValidationError(_("%(label)s: please enter a whole number.", label=self.label.text))


class OptionRows(Field):
    """The option table of a choice field: ``option_rows`` rows of ``option_<i>_key`` and
    ``option_<i>_label.<lang>``; rows left entirely empty are dropped."""

    def __init__(self, label=None, validators=None, *, languages: Sequence[str] = (), **kwargs):
        super().__init__(label, validators, **kwargs)
        self.languages = tuple(languages)

    def process(self, formdata, data=None, extra_filters=None):
        self.process_errors = []
        self.data = []
        if formdata is None:
            return
        for index in range(int_arg(formdata.get("option_rows"), 0, maximum=MAX_OPTION_ROWS)):
            key = (formdata.get(f"option_{index}_key") or "").strip()
            label = localized_values(formdata, f"option_{index}_label", self.languages)
            if key or label:
                self.data.append({"key": key, "label": label})


def key_field(**kwargs) -> StringField:
    """The key of a new entry: trimmed, lowercased, checked against the definition's key pattern."""
    return StringField(filters=[strip, lower], validators=[Regexp(KEY_RE, message=KEY_MESSAGE)], **kwargs)


def localized_values(formdata, prefix: str, languages: Iterable[str]) -> dict[str, str]:
    """{language: text} from inputs named ``<prefix>.<lang>``; empty ones are left out (the validator
    then names the missing language)."""
    values = {lang: (formdata.get(f"{prefix}.{lang}") or "").strip() for lang in languages}
    return {lang: text for lang, text in values.items() if text}


class ConsoleForm(FlaskForm):
    """Base of the console's forms. ``localized`` names the per-language texts of the form
    (``name`` -> inputs ``name.cs``, ``name.en``...)."""

    localized: tuple[str, ...] = ()
    tenant_languages: tuple[str, ...] = ()

    @classmethod
    def build(cls, languages: Iterable[str], **fields: Field | None) -> type[ConsoleForm]:
        """A form class for one tenant's languages (plus ``fields`` made for its definition)."""
        languages = tuple(languages)
        attrs: dict = {"tenant_languages": languages, **fields}
        for prefix in cls.localized:
            for lang in languages:
                attrs[f"{prefix}.{lang}"] = StringField(filters=[strip])
        return type(cls.__name__, (cls,), attrs)

    @classmethod
    def for_tenant(cls, *, new: bool = True, **fields: Field | None) -> type[ConsoleForm]:
        """The form class for the current tenant's languages. An existing entry's ``key`` is no
        input (a key never changes): the field is left out (WTForms drops a field set to None)."""
        if not new:
            fields["key"] = None
        return cls.build(g.tenant.locales, **fields)

    def texts(self, prefix: str) -> dict[str, str]:
        """The non-empty texts of a localized input, by language."""
        texts = {lang: self[f"{prefix}.{lang}"].data for lang in self.tenant_languages}
        return {lang: text for lang, text in texts.items() if text}

    def problems(self) -> list[Problem]:
        """The input errors as console problems; the attribute is the input's name without its
        language (``name.cs`` -> ``name``), as the templates look them up."""
        found = []
        for name, messages in self.errors.items():
            attribute = None if name is None else name.split(".")[0]
            found += [Problem(str(message), attribute) for message in messages]
        return found


class MoveForm(FlaskForm):
    """An up/down button next to an entry of an ordered list."""

    key = StringField(default="")
    direction = StringField(default="")
