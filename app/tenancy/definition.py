"""The tenant definition format: load and validate ``tenants/<slug>/``, and write it back.

One loader and one validator serve ``flask tenants sync``, the admin console's import and
onboarding. Errors name the file and the key path so that a reviewer can fix them directly.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from flask_babel import gettext as _, ngettext
from jsonschema import Draft202012Validator

SUPPORTED_LANGUAGES = ("hu", "fi", "cs", "pl", "en")
SCHEMA_PATH = Path(__file__).resolve().parents[2] / "tenants" / "definition.schema.json"

# Which top-level keys live in which file.
FILES = {
    "tenant.yaml": (
        "slug",
        "name",
        "languages",
        "default_language",
        "timezone",
        "registration",
        "reference_prefix",
        "branding",
        "settings",
    ),
    "catalog.yaml": ("portals", "forms"),
    "workflow.yaml": ("statuses", "workflows"),
    "queues.yaml": ("queues",),
    "automation.yaml": ("rules",),
    "sla.yaml": ("sla",),
    "strings.yaml": ("strings",),
}
REQUIRED_FILES = ("tenant.yaml", "catalog.yaml", "workflow.yaml")
KEY_TO_FILE = {key: name for name, keys in FILES.items() for key in keys}
LOCALIZED_KEYS = {"name", "label", "description", "help", "customer_name", "tagline", "comment"}


@dataclass
class DefinitionError(Exception):
    """The definition is invalid; ``problems`` lists every error as 'file: path: message'."""

    problems: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(self.problems)


# --- reading YAML safely -----------------------------------------------------------------------------
# A tenant definition is plain data: no anchors or aliases (an "alias bomb" of a few hundred bytes
# expands to billions of nodes once validated or copied), a bounded depth and a bounded size.
MAX_DEPTH = 50
MAX_NODES = 200_000


class UnsafeYAMLError(yaml.YAMLError):
    """The document is refused before it is built; ``message`` says why, in the reader's language."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _too_deep_message() -> str:
    return _("The file is nested too deeply (more than %(limit)s levels).", limit=MAX_DEPTH)


class _DefinitionLoader(yaml.SafeLoader):
    """SafeLoader that refuses anchors and aliases and caps the nesting depth and the number of nodes
    while composing, i.e. before any object is built."""

    def __init__(self, stream):
        super().__init__(stream)
        self._depth = 0
        self._nodes = 0

    def compose_node(self, parent, index):
        event = self.peek_event()
        if isinstance(event, yaml.AliasEvent) or getattr(event, "anchor", None):
            raise UnsafeYAMLError(
                _("The file uses YAML anchors or aliases (& and *), which are not accepted; write each value out.")
            )
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise UnsafeYAMLError(_("The file has too many values (more than %(limit)s).", limit=MAX_NODES))
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise UnsafeYAMLError(_too_deep_message())
        try:
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _DefinitionDumper(yaml.SafeDumper):
    """Writes every value out (never an anchor), so that what we export our loader reads back."""

    def ignore_aliases(self, data) -> bool:
        return True


def load_yaml(text: str):
    """Parse one YAML document of a tenant definition. Raises UnsafeYAMLError (a translated reason)
    or yaml.YAMLError (a syntax error)."""
    return yaml.load(text, Loader=_DefinitionLoader)  # noqa: S506 (a SafeLoader subclass)


def dump_yaml(data) -> str:
    return yaml.dump(data, Dumper=_DefinitionDumper, allow_unicode=True, sort_keys=False, width=100)


def nesting_exceeds(data, limit: int = MAX_DEPTH) -> bool:
    """Whether ``data`` (from JSON, say) is nested deeper than ``limit``; iterative, so any depth is safe."""
    stack = [(data, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, (dict, list)):
            if depth > limit:
                return True
            stack.extend((child, depth + 1) for child in (node.values() if isinstance(node, dict) else node))
    return False


@lru_cache(maxsize=1)
def _validator() -> Draft202012Validator:
    return Draft202012Validator(json.loads(SCHEMA_PATH.read_text(encoding="utf-8")))


def _path_str(parts) -> str:
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _shown(value) -> str:
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


def schema_message(error) -> str:
    """A jsonschema error in the reader's language, by its keyword; the library's (English) message
    only for keywords the schema does not use."""
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        name = next((n for n in missing if error.message.startswith(repr(n))), missing[0] if missing else "")
        return _("the key '%(key)s' is missing", key=name)
    if keyword == "type":
        return _("must be %(type)s, not %(value)s", type=_type_words(expected), value=_shown(value))
    if keyword == "enum":
        return _(
            "%(value)s is not one of %(allowed)s", value=_shown(value), allowed=", ".join(_shown(v) for v in expected)
        )
    if keyword == "const":
        return _("must be %(value)s", value=_shown(expected))
    if keyword == "additionalProperties" and isinstance(value, dict):
        known = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in value if k not in known and not any(re.search(p, k) for p in patterns)]
        return ngettext(
            "unknown key %(keys)s", "unknown keys %(keys)s", len(extra), keys=", ".join(f"'{k}'" for k in extra)
        )
    if keyword == "pattern":
        return _("%(value)s does not match the expected form (%(pattern)s)", value=_shown(value), pattern=expected)
    if keyword == "minLength":
        return (
            _("must not be empty")
            if expected == 1
            else ngettext(
                "must be at least %(num)d character long", "must be at least %(num)d characters long", expected
            )
        )
    if keyword == "maxLength":
        return ngettext("must be at most %(num)d character long", "must be at most %(num)d characters long", expected)
    if keyword == "minItems":
        return (
            _("must not be empty")
            if expected == 1
            else ngettext("needs at least %(num)d item", "needs at least %(num)d items", expected)
        )
    if keyword == "maxItems":
        return ngettext("takes at most %(num)d item", "takes at most %(num)d items", expected)
    if keyword == "minProperties":
        return (
            _("must not be empty")
            if expected == 1
            else ngettext("needs at least %(num)d key", "needs at least %(num)d keys", expected)
        )
    if keyword == "maxProperties":
        return ngettext("takes at most %(num)d key", "takes at most %(num)d keys", expected)
    if keyword == "uniqueItems":
        return _("lists the same item more than once")
    if keyword == "minimum":
        return _("%(value)s is less than the minimum of %(limit)s", value=_shown(value), limit=expected)
    if keyword == "maximum":
        return _("%(value)s is more than the maximum of %(limit)s", value=_shown(value), limit=expected)
    if keyword in ("oneOf", "anyOf") and error.context:
        return _("%(value)s is not valid here: it matches none of the allowed forms", value=_shown(value))
    return error.message


class _Problems:
    def __init__(self, source: str):
        self.source = source.rstrip("/")
        self.items: list[str] = []

    def add(self, path: list, message: str) -> None:
        top = path[0] if path and isinstance(path[0], str) else None
        file = KEY_TO_FILE.get(top, "tenant.yaml")
        self.items.append(f"{self.source}/{file}: {_path_str(path)}: {message}")


def read_definition_files(folder: Path) -> dict:
    """Read and merge the YAML files of a tenant folder (no validation beyond YAML syntax)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError([f"{folder}: " + _("no such tenant folder")])
    merged: dict = {}
    problems = []
    for name, keys in FILES.items():
        path = folder / name
        if not path.exists():
            if name in REQUIRED_FILES:
                problems.append(f"{path}: " + _("file is missing"))
            continue
        try:
            content = load_yaml(path.read_text(encoding="utf-8")) or {}
        except UnsafeYAMLError as exc:
            problems.append(f"{path}: " + exc.message)
            continue
        except yaml.YAMLError as exc:
            problems.append(f"{path}: " + _("not valid YAML: %(error)s", error=exc))
            continue
        if not isinstance(content, dict):
            problems.append(f"{path}: " + _("must be a mapping of keys"))
            continue
        for key, value in content.items():
            if key not in keys:
                expected = KEY_TO_FILE.get(key)
                message = (
                    _("unknown key here (it belongs in %(file)s)", file=expected) if expected else _("unknown key here")
                )
                problems.append(f"{path}: {key}: {message}")
                continue
            merged[key] = value
    if problems:
        raise DefinitionError(problems)
    return merged


def load_definition(folder: Path, *, template: bool = False) -> dict:
    """Read, validate and normalize ``tenants/<slug>/``. Raises DefinitionError."""
    folder = Path(folder)
    data = read_definition_files(folder)
    expected_slug = None if template else folder.name
    return validate_definition(data, source=str(folder), expected_slug=expected_slug)


def validate_definition(data: dict, *, source: str = "definition", expected_slug: str | None = None) -> dict:
    """Validate a merged definition mapping; return it normalized (defaults filled in)."""
    problems = _Problems(source)
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        problems.add(list(error.absolute_path), schema_message(error))
    if problems.items:
        raise DefinitionError(problems.items)
    _check_semantics(data, problems, expected_slug)
    if problems.items:
        raise DefinitionError(problems.items)
    return normalize_definition(data)


def _check_unique(items: list, path: list, problems: _Problems) -> dict:
    seen: dict = {}
    for index, item in enumerate(items):
        key = item["key"]
        if key in seen:
            problems.add(path + [index, "key"], _("the key '%(key)s' is used more than once", key=key))
        seen[key] = item
    return seen


def _check_localized(node, path: list, languages: list[str], problems: _Problems) -> None:
    """Every localized text must carry every language of the tenant."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in LOCALIZED_KEYS and isinstance(value, dict) and not (path and path[0] == "strings"):
                missing = [lang for lang in languages if lang not in value]
                extra = [lang for lang in value if lang not in languages]
                if missing:
                    problems.add(
                        path + [key],
                        ngettext(
                            "missing language %(languages)s",
                            "missing languages %(languages)s",
                            len(missing),
                            languages=", ".join(missing),
                        ),
                    )
                if extra:
                    problems.add(
                        path + [key],
                        ngettext(
                            "language %(languages)s is not enabled for this tenant",
                            "languages %(languages)s are not enabled for this tenant",
                            len(extra),
                            languages=", ".join(extra),
                        ),
                    )
            else:
                _check_localized(value, path + [key], languages, problems)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_localized(value, path + [index], languages, problems)


def _check_semantics(data: dict, problems: _Problems, expected_slug: str | None) -> None:
    languages = data["languages"]
    if expected_slug is not None and data["slug"] != expected_slug:
        problems.add(
            ["slug"], _("'%(slug)s' must equal the folder name '%(folder)s'", slug=data["slug"], folder=expected_slug)
        )
    if data["default_language"] not in languages:
        problems.add(
            ["default_language"],
            _(
                "'%(language)s' is not one of the languages (%(languages)s)",
                language=data["default_language"],
                languages=", ".join(languages),
            ),
        )
    if "timezone" in data:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.add(["timezone"], _("unknown time zone '%(timezone)s'", timezone=data["timezone"]))
    _check_localized(data, [], languages, problems)

    statuses = _check_unique(data["statuses"], ["statuses"], problems)
    workflows = _check_unique(data["workflows"], ["workflows"], problems)
    forms = _check_unique(data["forms"], ["forms"], problems)
    _check_unique(data["portals"], ["portals"], problems)
    _check_unique(data.get("rules", []), ["rules"], problems)

    for w_index, workflow in enumerate(data["workflows"]):
        wpath = ["workflows", w_index]
        if workflow["initial_status"] not in statuses:
            problems.add(wpath + ["initial_status"], _("unknown status '%(key)s'", key=workflow["initial_status"]))
        _check_unique(workflow["transitions"], wpath + ["transitions"], problems)
        for t_index, transition in enumerate(workflow["transitions"]):
            tpath = wpath + ["transitions", t_index]
            sources = transition.get("from")
            for source_key in [sources] if isinstance(sources, str) else sources or []:
                if source_key not in statuses:
                    problems.add(tpath + ["from"], _("unknown status '%(key)s'", key=source_key))
                elif statuses[source_key]["category"] == "closed":
                    problems.add(
                        tpath + ["from"], _("status '%(key)s' is final (closed) and cannot be left", key=source_key)
                    )
            if transition["to"] not in statuses:
                problems.add(tpath + ["to"], _("unknown status '%(key)s'", key=transition["to"]))

    # Which request types use which form (for request_type conditions).
    types_by_form: dict[str, set] = {}
    for p_index, portal in enumerate(data["portals"]):
        ppath = ["portals", p_index]
        _check_unique(portal["request_types"], ppath + ["request_types"], problems)
        for r_index, request_type in enumerate(portal["request_types"]):
            rpath = ppath + ["request_types", r_index]
            if request_type["form"] not in forms:
                problems.add(rpath + ["form"], _("unknown form '%(key)s'", key=request_type["form"]))
            if request_type["workflow"] not in workflows:
                problems.add(rpath + ["workflow"], _("unknown workflow '%(key)s'", key=request_type["workflow"]))
            types_by_form.setdefault(request_type["form"], set()).add(request_type["key"])

    for f_index, form in enumerate(data["forms"]):
        fpath = ["forms", f_index]
        fields = _check_unique(form["fields"], fpath + ["fields"], problems)
        summary = fields.get("summary")
        if summary is None:
            problems.add(fpath + ["fields"], _("a form needs a field with key 'summary' (the request's title)"))
        elif summary["type"] != "text" or not summary.get("required"):
            problems.add(fpath + ["fields"], _("the 'summary' field must be of type text and required"))
        if "description" in fields and fields["description"]["type"] != "textarea":
            problems.add(fpath + ["fields"], _("the 'description' field must be of type textarea"))
        if "attachments" in fields and fields["attachments"]["type"] != "files":
            problems.add(fpath + ["fields"], _("the 'attachments' field must be of type files"))
        for i, fdef in enumerate(form["fields"]):
            _check_field(fdef, fpath + ["fields", i], fields, types_by_form.get(form["key"], set()), problems)

    for r_index, rule in enumerate(data.get("rules", [])):
        rpath = ["rules", r_index]
        conditions = rule.get("conditions", {})
        status_keys = conditions.get("status", [])
        for key in [status_keys] if isinstance(status_keys, str) else status_keys:
            if key not in statuses:
                problems.add(rpath + ["conditions", "status"], _("unknown status '%(key)s'", key=key))
        if rule["trigger"] == "status_age" and not ("status" in conditions and "after" in conditions):
            problems.add(rpath + ["conditions"], _("a status_age rule needs 'status' and 'after'"))
        for a_index, action in enumerate(rule["actions"]):
            target = action.get("transition_to")
            if target is not None and target not in statuses:
                problems.add(rpath + ["actions", a_index, "transition_to"], _("unknown status '%(key)s'", key=target))

    _check_transition_requirements(data, forms, problems)
    _check_queues(data, statuses, problems)
    from app.automation.validation import check_automation

    check_automation(data, problems)

    all_field_keys = {f["key"] for form in data["forms"] for f in form["fields"]}
    for i, key in enumerate(data.get("settings", {}).get("editable_after_creation", [])):
        if key not in all_field_keys:
            problems.add(["settings", "editable_after_creation", i], _("no form has a field '%(key)s'", key=key))
    forward_status = data.get("settings", {}).get("forward_status")
    if forward_status is not None and forward_status not in statuses:
        problems.add(["settings", "forward_status"], _("unknown status '%(key)s'", key=forward_status))
    cc_field = data.get("settings", {}).get("notifications", {}).get("cc_field")
    text_keys = {
        f["key"] for form in data["forms"] for f in form["fields"] if f["type"] in ("text", "textarea", "email")
    }
    if cc_field is not None and cc_field not in text_keys:
        problems.add(["settings", "notifications", "cc_field"], _("no form has a text field '%(key)s'", key=cc_field))

    for lang in data.get("strings", {}):
        if lang not in languages:
            problems.add(
                ["strings", lang],
                ngettext(
                    "language %(languages)s is not enabled for this tenant",
                    "languages %(languages)s are not enabled for this tenant",
                    1,
                    languages=lang,
                ),
            )


def _check_transition_requirements(data: dict, forms: dict, problems: _Problems) -> None:
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
                messages: list[str] = []
                if key not in all_field_keys:
                    messages.append(_("no form has a field '%(key)s'", key=key))
                for portal_key, request_type in types_by_workflow.get(workflow["key"], []):
                    form = forms.get(request_type["form"])
                    fdef = next((f for f in form["fields"] if f["key"] == key), None) if form else None
                    if form is None or key not in all_field_keys:
                        continue
                    if fdef is None:
                        messages.append(
                            _(
                                "field '%(key)s' is not in form '%(form)s' of request type '%(request_type)s'",
                                key=key,
                                form=request_type["form"],
                                request_type=f"{portal_key}/{request_type['key']}",
                            )
                        )
                    elif key in ("description", "attachments") or fdef["type"] == "files":
                        messages.append(
                            _(
                                "field '%(key)s' cannot be required by a transition (only fields stored "
                                "as the request's values)",
                                key=key,
                            )
                        )
                    elif "fixed_value" in fdef:
                        messages.append(_("field '%(key)s' has a fixed value and cannot be filled in", key=key))
                    elif "customer" in transition["actors"] and fdef.get("editable_by") == "agent":
                        messages.append(
                            _(
                                "field '%(key)s' is set by support (editable_by: agent), so a customer "
                                "transition cannot require it",
                                key=key,
                            )
                        )
                for message in dict.fromkeys(messages):
                    problems.add(path, message)


def _check_queues(data: dict, statuses: dict, problems: _Problems) -> None:
    """Agent queues filter by known statuses, portals, request types and choice-field options."""
    queues = data.get("queues", [])
    _check_unique(queues, ["queues"], problems)
    portals = {p["key"]: {rt["key"] for rt in p["request_types"]} for p in data["portals"]}
    choice_options: dict[str, set] = {}
    for form in data["forms"]:
        for fdef in form["fields"]:
            if fdef["type"] == "select":
                choice_options.setdefault(fdef["key"], set()).update(o["key"] for o in fdef.get("options", []))
    for q_index, queue in enumerate(queues):
        path = ["queues", q_index, "filters"]
        filters = queue.get("filters", {})
        for i, key in enumerate(filters.get("statuses", [])):
            if key not in statuses:
                problems.add(path + ["statuses", i], _("unknown status '%(key)s'", key=key))
        portal = filters.get("portal")
        if portal is not None and portal not in portals:
            problems.add(path + ["portal"], _("unknown portal '%(key)s'", key=portal))
        for i, ref in enumerate(filters.get("request_types", [])):
            portal_key, _sep, type_key = ref.rpartition("/")
            if portal_key:
                known = type_key in portals.get(portal_key, set())
            else:
                known = any(type_key in types for key, types in portals.items() if portal in (None, key))
            if not known:
                problems.add(path + ["request_types", i], _("unknown request type '%(key)s'", key=ref))
        for key, values in filters.get("fields", {}).items():
            if key not in choice_options:
                problems.add(path + ["fields", key], _("no form has a choice (select) field '%(key)s'", key=key))
                continue
            for i, value in enumerate(values):
                if value not in choice_options[key]:
                    problems.add(
                        path + ["fields", key, i],
                        _("'%(value)s' is not an option of '%(field)s'", value=value, field=key),
                    )


def _check_field(fdef: dict, path: list, fields: dict, form_types: set, problems: _Problems) -> None:
    choice = fdef["type"] in ("select", "multiselect")
    options = fdef.get("options", [])
    if choice and not options:
        problems.add(path + ["options"], _("a field of type %(type)s needs options", type=fdef["type"]))
    if not choice and options:
        problems.add(path + ["options"], _("a field of type %(type)s takes no options", type=fdef["type"]))
    option_keys = set(_check_unique(options, path + ["options"], problems)) if options else set()
    for name in ("value_when_hidden", "default", "fixed_value"):
        if name in fdef and choice:
            values = fdef[name] if isinstance(fdef[name], list) else [fdef[name]]
            for value in values:
                if value not in option_keys:
                    problems.add(path + [name], _("'%(value)s' is not an option of this field", value=value))
    condition = fdef.get("visible_when")
    if condition:
        if "field" in condition:
            other = fields.get(condition["field"])
            if other is None or other is fdef:
                problems.add(
                    path + ["visible_when", "field"], _("unknown field '%(key)s' in this form", key=condition["field"])
                )
            elif other["type"] not in ("select", "multiselect", "checkbox"):
                problems.add(
                    path + ["visible_when", "field"], _("field '%(key)s' is not a choice field", key=condition["field"])
                )
            else:
                known = (
                    {o["key"] for o in other.get("options", [])} if other["type"] != "checkbox" else {"true", "false"}
                )
                for value in condition["in"]:
                    if value not in known:
                        problems.add(
                            path + ["visible_when", "in"],
                            _("'%(value)s' is not an option of '%(field)s'", value=value, field=condition["field"]),
                        )
        else:
            for key in condition["request_type"]:
                if key not in form_types:
                    problems.add(
                        path + ["visible_when", "request_type"], _("no request type '%(key)s' uses this form", key=key)
                    )
        if fdef.get("required") and "value_when_hidden" not in fdef:
            pass  # a hidden required field is simply not required while hidden
    elif "value_when_hidden" in fdef:
        problems.add(path + ["value_when_hidden"], _("only a field with visible_when can have value_when_hidden"))


# An agent queue's filters (the request list's vocabulary); "any" assignee means no filter.
QUEUE_FILTER_DEFAULTS = {
    "status": "open",
    "statuses": [],
    "assignee": "any",
    "portal": None,
    "request_types": [],
    "fields": {},
    "sort": "-updated",
}
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


def normalize_definition(data: dict) -> dict:
    """Fill every optional key with its default, so that two equivalent definitions compare equal."""
    out = json.loads(json.dumps(data))  # deep copy of plain data
    out.setdefault("timezone", "UTC")
    out.setdefault("registration", "open")
    out.setdefault("branding", {})
    out.setdefault("settings", {})
    out.setdefault("rules", [])
    out.setdefault("strings", {})
    out.setdefault("queues", [])
    out.setdefault("sla", {})
    if out["sla"]:
        out["sla"].setdefault("clock", "calendar")
        out["sla"].setdefault("warn_before", "PT4H")
        out["sla"].setdefault("targets", {})
    for queue in out["queues"]:
        filters = queue.setdefault("filters", {})
        for key, default in QUEUE_FILTER_DEFAULTS.items():
            filters.setdefault(key, json.loads(json.dumps(default)))
    for portal in out["portals"]:
        portal.setdefault("description", {})
        for request_type in portal["request_types"]:
            request_type.setdefault("description", {})
            request_type.setdefault("icon", None)
    for form in out["forms"]:
        for fdef in form["fields"]:
            for key, default in FIELD_DEFAULTS.items():
                fdef.setdefault(key, json.loads(json.dumps(default)))
    for status in out["statuses"]:
        status.setdefault("customer_name", dict(status["name"]))
        status.setdefault("color", "#6c757d")
        status.setdefault("notify", True)
    for workflow in out["workflows"]:
        for transition in workflow["transitions"]:
            sources = transition.get("from")
            transition["from"] = [sources] if isinstance(sources, str) else (sources or [])
            transition.setdefault("requires", [])
    for rule in out["rules"]:
        rule.setdefault("enabled", True)
        rule.setdefault("conditions", {})
        status = rule["conditions"].get("status")
        if isinstance(status, str):
            rule["conditions"]["status"] = [status]
    return out


def compact_definition(data: dict) -> dict:
    """The inverse of normalize: drop keys that only repeat a default (for readable exports)."""
    out = json.loads(json.dumps(data))
    for key, default in (
        ("branding", {}),
        ("settings", {}),
        ("rules", []),
        ("strings", {}),
        ("queues", []),
        ("sla", {}),
    ):
        if out.get(key) == default:
            out.pop(key, None)
    for key, default in (("clock", "calendar"), ("warn_before", "PT4H"), ("targets", {})):
        if out.get("sla", {}).get(key) == default:
            out["sla"].pop(key)
    for queue in out.get("queues", []):
        filters = queue.get("filters", {})
        for key, default in QUEUE_FILTER_DEFAULTS.items():
            if key in filters and filters[key] == default:
                filters.pop(key)
        if not filters:
            queue.pop("filters", None)
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
    for status in out["statuses"]:
        if status.get("customer_name") == status["name"]:
            status.pop("customer_name")
        if status.get("notify") is True:
            status.pop("notify")
    for workflow in out["workflows"]:
        for transition in workflow["transitions"]:
            sources = transition.pop("from", [])
            if len(sources) == 1:
                transition["from"] = sources[0]
            elif sources:
                transition["from"] = sources
            if not transition.get("requires"):
                transition.pop("requires", None)
    for rule in out.get("rules", []):
        if rule.get("enabled") is True:
            rule.pop("enabled")
        status = rule.get("conditions", {}).get("status")
        if isinstance(status, list) and len(status) == 1:
            rule["conditions"]["status"] = status[0]
    return out


def dump_definition_files(data: dict) -> dict[str, str]:
    """Render a definition as the YAML text of each file of ``tenants/<slug>/``."""
    compact = compact_definition(data)
    files = {}
    for name, keys in FILES.items():
        part = {key: compact[key] for key in keys if key in compact}
        if not part:
            continue
        files[name] = dump_yaml(part)
    return files


SLUG_RE = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
