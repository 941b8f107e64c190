"""The tenant definition format: load and validate ``tenants/<slug>/``, and write it back.

One loader and one validator serve ``flask tenants sync``, the admin console's import and
onboarding. The loader reads the files (safely), the JSON schema checks their shape, this module
checks the tenant's own keys (slug, languages, time zone, UI strings), and each module's registered
:class:`~app.tenancy.sections.DefinitionSection` checks its part. Problems are data
(:class:`~app.tenancy.problems.Problem`: the file and key path, a code and its params), worded when
shown, so that a reviewer can fix them directly and the console can show each next to its field.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from jsonschema import Draft202012Validator

from app.tenancy.problems import Problem, Problems, describe
from app.tenancy.sections import registry

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
    """The definition is invalid or cannot be applied; ``problems`` lists every problem as data.
    ``str()`` gives one line per problem ('file: path: message'), in the current locale."""

    problems: list[Problem] = field(default_factory=list)

    def __str__(self) -> str:
        return "\n".join(str(problem) for problem in self.problems)


# --- reading YAML safely -----------------------------------------------------------------------------
# A tenant definition is plain data: no anchors or aliases (an "alias bomb" of a few hundred bytes
# expands to billions of nodes once validated or copied), a bounded depth and a bounded size.
MAX_DEPTH = 50
MAX_NODES = 200_000


class UnsafeYAMLError(yaml.YAMLError):
    """The document is refused before it is built; ``problem`` says why, ``message`` in the reader's
    language."""

    def __init__(self, code: str, **params):
        self.problem = Problem(code, params)
        super().__init__(code)

    @property
    def message(self) -> str:
        return describe(self.problem)


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
            raise UnsafeYAMLError("yaml_alias")
        self._nodes += 1
        if self._nodes > MAX_NODES:
            raise UnsafeYAMLError("yaml_too_many_values", limit=MAX_NODES)
        self._depth += 1
        if self._depth > MAX_DEPTH:
            raise UnsafeYAMLError("yaml_too_deep", limit=MAX_DEPTH)
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


def schema_problem(error) -> tuple[str, dict]:
    """A jsonschema error as a problem code and params, by its keyword; the library's (English)
    message only for keywords the schema does not use."""
    keyword, expected, value = error.validator, error.validator_value, error.instance
    if keyword == "required":
        missing = [name for name in expected if isinstance(value, dict) and name not in value]
        name = next((n for n in missing if error.message.startswith(repr(n))), missing[0] if missing else "")
        return "schema_required", {"key": name}
    if keyword == "type":
        return "schema_type", {"types": expected, "value": value}
    if keyword == "enum":
        return "schema_enum", {"value": value, "allowed": list(expected)}
    if keyword == "const":
        return "schema_const", {"value": expected}
    if keyword == "additionalProperties" and isinstance(value, dict):
        known = error.schema.get("properties", {})
        patterns = error.schema.get("patternProperties", {})
        extra = [k for k in value if k not in known and not any(re.search(p, k) for p in patterns)]
        return "schema_unknown_keys", {"keys": extra}
    if keyword == "pattern":
        return "schema_pattern", {"value": value, "pattern": expected}
    if keyword in ("minLength", "minItems", "minProperties") and expected == 1:
        return "schema_not_empty", {}
    sized = {
        "minLength": "schema_min_length",
        "maxLength": "schema_max_length",
        "minItems": "schema_min_items",
        "maxItems": "schema_max_items",
        "minProperties": "schema_min_properties",
        "maxProperties": "schema_max_properties",
    }
    if keyword in sized:
        return sized[keyword], {"num": expected}
    if keyword == "uniqueItems":
        return "schema_unique_items", {}
    if keyword == "minimum":
        return "schema_minimum", {"value": value, "limit": expected}
    if keyword == "maximum":
        return "schema_maximum", {"value": value, "limit": expected}
    if keyword in ("oneOf", "anyOf") and error.context:
        return "schema_no_form_matches", {"value": value}
    return "schema_other", {"message": error.message}


def _file_of(path) -> str:
    """The file a key path lives in (a path that names no top-level key: tenant.yaml)."""
    top = path[0] if path and isinstance(path[0], str) else ""
    return KEY_TO_FILE.get(top, "tenant.yaml")


def read_definition_files(folder: Path) -> dict:
    """Read and merge the YAML files of a tenant folder (no validation beyond YAML syntax)."""
    folder = Path(folder)
    if not folder.is_dir():
        raise DefinitionError([Problem("no_folder", file=str(folder))])
    merged: dict = {}
    problems = []
    for name, keys in FILES.items():
        path = folder / name
        if not path.exists():
            if name in REQUIRED_FILES:
                problems.append(Problem("file_missing", file=str(path)))
            continue
        try:
            content = load_yaml(path.read_text(encoding="utf-8")) or {}
        except UnsafeYAMLError as exc:
            problems.append(Problem(exc.problem.code, exc.problem.params, file=str(path)))
            continue
        except yaml.YAMLError as exc:
            problems.append(Problem("invalid_yaml", {"error": str(exc)}, file=str(path)))
            continue
        if not isinstance(content, dict):
            problems.append(Problem("not_a_mapping", file=str(path)))
            continue
        for key, value in content.items():
            if key not in keys:
                expected = KEY_TO_FILE.get(key)
                code, params = ("key_in_other_file", {"file": expected}) if expected else ("unknown_key_here", {})
                problems.append(Problem(code, params, path=(str(key),), file=str(path)))
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
    """Validate a merged definition mapping; return it normalized (defaults filled in).

    The schema first (the sections may then rely on the shape), then the tenant's own keys, each
    registered section in its order, and the UI strings last."""
    problems = Problems(source, _file_of)
    for error in sorted(_validator().iter_errors(data), key=lambda e: list(e.absolute_path)):
        code, params = schema_problem(error)
        problems.add(list(error.absolute_path), code, **params)
    if problems:
        raise DefinitionError(problems.items)
    _check_tenant(data, problems, expected_slug)
    for section in registry:
        if section.validate is not None:
            section.validate(data, problems)
    for lang in data.get("strings", {}):
        if lang not in data["languages"]:
            problems.add(["strings", lang], "languages_not_enabled", languages=[lang])
    if problems:
        raise DefinitionError(problems.items)
    return normalize_definition(data)


def check_unique(items: list, path: list, problems: Problems) -> dict:
    """The items by key; a key used twice is a problem (for the sections' lists of keyed items)."""
    seen: dict = {}
    for index, item in enumerate(items):
        key = item["key"]
        if key in seen:
            problems.add(path + [index, "key"], "duplicate_key", key=key)
        seen[key] = item
    return seen


def _check_localized(node, path: list, languages: list[str], problems: Problems) -> None:
    """Every localized text must carry every language of the tenant."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in LOCALIZED_KEYS and isinstance(value, dict) and not (path and path[0] == "strings"):
                missing = [lang for lang in languages if lang not in value]
                extra = [lang for lang in value if lang not in languages]
                if missing:
                    problems.add(path + [key], "missing_languages", languages=missing)
                if extra:
                    problems.add(path + [key], "languages_not_enabled", languages=extra)
            else:
                _check_localized(value, path + [key], languages, problems)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            _check_localized(value, path + [index], languages, problems)


def _check_tenant(data: dict, problems: Problems, expected_slug: str | None) -> None:
    languages = data["languages"]
    if expected_slug is not None and data["slug"] != expected_slug:
        problems.add(["slug"], "slug_not_folder", slug=data["slug"], folder=expected_slug)
    if data["default_language"] not in languages:
        problems.add(
            ["default_language"], "default_language_not_enabled", language=data["default_language"], languages=languages
        )
    if "timezone" in data:
        try:
            ZoneInfo(data["timezone"])
        except (ZoneInfoNotFoundError, ValueError):
            problems.add(["timezone"], "unknown_timezone", timezone=data["timezone"])
    _check_localized(data, [], languages, problems)


def _copy(data):
    return json.loads(json.dumps(data))  # a deep copy of plain data


def normalize_definition(data: dict) -> dict:
    """Fill every optional key with its default, so that two equivalent definitions compare equal
    (the tenant's own keys here, each section's part by its ``normalize``)."""
    out = _copy(data)
    out.setdefault("timezone", "UTC")
    out.setdefault("registration", "open")
    out.setdefault("branding", {})
    out.setdefault("settings", {})
    out.setdefault("strings", {})
    for section in registry:
        if section.normalize is not None:
            section.normalize(out)
    return out


def compact_definition(data: dict) -> dict:
    """The inverse of normalize: drop keys that only repeat a default (for readable exports)."""
    out = _copy(data)
    for key in ("branding", "settings", "strings"):
        if out.get(key) == {}:
            out.pop(key, None)
    for section in registry:
        if section.compact is not None:
            section.compact(out)
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
