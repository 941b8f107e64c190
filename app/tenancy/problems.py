"""Problems of a tenant definition, kept as data until someone reads them.

The validator and the definition sections create :class:`Problem` values (where: the file and the
key path; what: a code and its params). They are worded only when shown, in the reader's language:
:func:`describe` for the message, :func:`problem_line` for the command line's
``<file>: <key path>: <message>``, and the admin console builds its own summary of the key path from
the same data. Each section brings the wording of its own codes (``DefinitionSection.wordings``).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import gettext as _, ngettext

Path = tuple[str | int, ...]
Wording = Callable[..., str]


@dataclass(frozen=True)
class Problem:
    """One problem: ``code`` and ``params`` say what is wrong, ``file``, ``path`` and ``tenant`` where.

    ``path`` is the key path inside the definition (``("forms", 0, "fields", 3, "options")``); the
    empty path is the top level, None means the problem concerns a whole file (or nothing in one).
    """

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)
    path: Path | None = None
    file: str | None = None
    tenant: str | None = None

    def __str__(self) -> str:
        return problem_line(self)


class Problems:
    """Collects the problems of one definition; ``file_of(path)`` names the file a key path lives in."""

    def __init__(self, source: str, file_of: Callable[[Path], str]):
        self.source = source.rstrip("/")
        self.file_of = file_of
        self.items: list[Problem] = []

    def add(self, path: list | tuple, code: str, /, **params: Any) -> None:
        path = tuple(path)
        self.items.append(Problem(code, params, path, f"{self.source}/{self.file_of(path)}"))

    def __bool__(self) -> bool:
        return bool(self.items)


def path_text(path: Path) -> str:
    """``forms[0].fields[3].options`` (as a YAML author reads a key path)."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def problem_line(problem: Problem) -> str:
    """The problem as one line of the command line: ``<where>: <message>``."""
    parts = []
    if problem.tenant is not None:
        parts.append(f"tenant '{problem.tenant}'")
    if problem.file is not None:
        parts.append(problem.file)
    if problem.path is not None:
        parts.append(path_text(problem.path))
    parts.append(describe(problem))
    return ": ".join(parts)


def describe(problem: Problem) -> str:
    """The problem's message in the current locale (the operator's on the command line, the admin's
    on a page). A code this version does not know is shown by its name and params."""
    wording = _wordings.get(problem.code)
    if wording is None:
        return " ".join([problem.code, *(f"{k}={v}" for k, v in problem.params.items())])
    return wording(**problem.params)


def add_wordings(wordings: Mapping[str, Wording]) -> None:
    """Make a section's codes known to :func:`describe` (called by the section registry)."""
    for code, wording in wordings.items():
        known = _wordings.get(code)
        if known is not None and known is not wording:
            raise ValueError(f"problem code {code!r} is worded twice")
        _wordings[code] = wording


# --- how values are quoted --------------------------------------------------------------------------


def shown(value) -> str:
    """A value as a problem quotes it: short, and in the YAML author's terms."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if value is None:
        return "null"
    if isinstance(value, (dict, list)):
        text = json.dumps(value, ensure_ascii=False)
        return text if len(text) <= 60 else text[:57] + "..."
    return f"'{value}'" if isinstance(value, str) else str(value)


def _type_words(types) -> str:
    words = {
        "object": _("a mapping of keys"),
        "array": _("a list"),
        "string": _("text"),
        "integer": _("a whole number"),
        "number": _("a number"),
        "boolean": _("true or false"),
        "null": _("empty"),
    }
    types = [types] if isinstance(types, str) else list(types)
    return " / ".join(words.get(t, t) for t in types)


def _languages(languages) -> str:
    return ", ".join(languages)


# --- the wording of the loader's, the schema's and the tenant's own problems -------------------------

_wordings: dict[str, Wording] = {
    # An already worded message from another service (an invitation refused, say).
    "message": lambda text: text,
    # Reading the files.
    "no_folder": lambda: _("no such tenant folder"),
    "file_missing": lambda: _("file is missing"),
    "not_a_mapping": lambda: _("must be a mapping of keys"),
    "invalid_yaml": lambda error: _("not valid YAML: %(error)s", error=error),
    "yaml_alias": lambda: _(
        "The file uses YAML anchors or aliases (& and *), which are not accepted; write each value out."
    ),
    "yaml_too_many_values": lambda limit: _("The file has too many values (more than %(limit)s).", limit=limit),
    "yaml_too_deep": lambda limit: _("The file is nested too deeply (more than %(limit)s levels).", limit=limit),
    "key_in_other_file": lambda file: _("unknown key here (it belongs in %(file)s)", file=file),
    "unknown_key_here": lambda: _("unknown key here"),
    # The JSON schema, by keyword.
    "schema_required": lambda key: _("the key '%(key)s' is missing", key=key),
    "schema_type": lambda types, value: _(
        "must be %(type)s, not %(value)s", type=_type_words(types), value=shown(value)
    ),
    "schema_enum": lambda value, allowed: _(
        "%(value)s is not one of %(allowed)s", value=shown(value), allowed=", ".join(shown(v) for v in allowed)
    ),
    "schema_const": lambda value: _("must be %(value)s", value=shown(value)),
    "schema_unknown_keys": lambda keys: ngettext(
        "unknown key %(keys)s", "unknown keys %(keys)s", len(keys), keys=", ".join(f"'{k}'" for k in keys)
    ),
    "schema_pattern": lambda value, pattern: _(
        "%(value)s does not match the expected form (%(pattern)s)", value=shown(value), pattern=pattern
    ),
    "schema_not_empty": lambda: _("must not be empty"),
    "schema_min_length": lambda num: ngettext(
        "must be at least %(num)d character long", "must be at least %(num)d characters long", num
    ),
    "schema_max_length": lambda num: ngettext(
        "must be at most %(num)d character long", "must be at most %(num)d characters long", num
    ),
    "schema_min_items": lambda num: ngettext("needs at least %(num)d item", "needs at least %(num)d items", num),
    "schema_max_items": lambda num: ngettext("takes at most %(num)d item", "takes at most %(num)d items", num),
    "schema_min_properties": lambda num: ngettext("needs at least %(num)d key", "needs at least %(num)d keys", num),
    "schema_max_properties": lambda num: ngettext("takes at most %(num)d key", "takes at most %(num)d keys", num),
    "schema_unique_items": lambda: _("lists the same item more than once"),
    "schema_minimum": lambda value, limit: _(
        "%(value)s is less than the minimum of %(limit)s", value=shown(value), limit=limit
    ),
    "schema_maximum": lambda value, limit: _(
        "%(value)s is more than the maximum of %(limit)s", value=shown(value), limit=limit
    ),
    "schema_no_form_matches": lambda value: _(
        "%(value)s is not valid here: it matches none of the allowed forms", value=shown(value)
    ),
    "schema_other": lambda message: message,  # a keyword the schema does not use: the library's words
    # The tenant's own keys.
    "slug_not_folder": lambda slug, folder: _(
        "'%(slug)s' must equal the folder name '%(folder)s'", slug=slug, folder=folder
    ),
    "default_language_not_enabled": lambda language, languages: _(
        "'%(language)s' is not one of the languages (%(languages)s)", language=language, languages=_languages(languages)
    ),
    "unknown_timezone": lambda timezone: _("unknown time zone '%(timezone)s'", timezone=timezone),
    "missing_languages": lambda languages: ngettext(
        "missing language %(languages)s",
        "missing languages %(languages)s",
        len(languages),
        languages=_languages(languages),
    ),
    "languages_not_enabled": lambda languages: ngettext(
        "language %(languages)s is not enabled for this tenant",
        "languages %(languages)s are not enabled for this tenant",
        len(languages),
        languages=_languages(languages),
    ),
    "duplicate_key": lambda key: _("the key '%(key)s' is used more than once", key=key),
    # The tenant as a whole (onboarding, export, status).
    "invalid_slug": lambda slug: _(
        "'%(slug)s' is not a valid slug: lowercase letters, digits and '-', at most 63", slug=slug
    ),
    "tenant_exists": lambda slug: _("a tenant '%(slug)s' exists already", slug=slug),
    "no_tenant": lambda slug: _("no tenant '%(slug)s'", slug=slug),
    "unknown_template": lambda source: _("unknown template '%(source)s'", source=source),
    "not_an_email": lambda email: _("'%(email)s' is not an e-mail address", email=email),
}
