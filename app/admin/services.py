"""The configuration console: every edit is a change of the tenant's *definition*.

A console page loads the current definition (the export), changes that mapping, validates it with
the validator of ``flask tenants sync`` and applies it with the same ``apply_definition``: every rule
(a status in use cannot be deleted, a transition needs an existing status, localized texts need
every language) holds identically for the CLI, the console and an import, and an export always
loads again. Every applied change is recorded as a ``ConfigChange`` in the same transaction.
"""

from __future__ import annotations

import io
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Callable

import yaml
from flask_babel import gettext as _
from sqlalchemy import func, select

from app.admin.models import ConfigChange
from app.extensions import db
from app.tenancy.definition import (
    FILES,
    LOCALIZED_KEYS,
    MAX_DEPTH,
    DefinitionError,
    UnsafeYAMLError,
    compact_definition,
    dump_definition_files,
    dump_yaml,
    load_yaml,
    nesting_exceeds,
    read_definition_files,
    validate_definition,
)
from app.tenancy.changes import CREATED, attribute_word, change_entry
from app.tenancy.problems import Problem as DefinitionProblem, describe, problem_line
from app.tenancy.scoping import tenant_scope
from app.tenancy.sections import SyncReport
from app.tenancy.services import apply_definition, export_definition

# An import is a few dozen kilobytes; anything above this is refused before it is read any further.
MAX_IMPORT_BYTES = 1024 * 1024
MAX_IMPORT_WORDS = "1 MiB"


@dataclass(frozen=True)
class Problem:
    """A validation problem in words an admin can act on; ``attribute`` is the last key of its path
    (``to``, ``name``, ``visible_when``...) so that a form can show it next to its field."""

    text: str
    attribute: str | None = None


class ConsoleError(Exception):
    def __init__(self, problems: list[Problem]):
        super().__init__("; ".join(p.text for p in problems))
        self.problems = problems


# --- reading problems ----------------------------------------------------------------------------

# The collections whose items a problem's place names by key ("field 'priority'").
_COLLECTIONS = (
    "portals",
    "request_types",
    "forms",
    "fields",
    "options",
    "statuses",
    "workflows",
    "transitions",
    "rules",
    "queues",
)
# The identifier-like pieces of a key, each named in the admin's words ("sla", "targets").
_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _item_label(collection: str, item) -> str | None:
    key = item.get("key") if isinstance(item, dict) else None
    labels = {
        "portals": _("portal '%(key)s'", key=key),
        "request_types": _("request type '%(key)s'", key=key),
        "forms": _("form '%(key)s'", key=key),
        "fields": _("field '%(key)s'", key=key),
        "options": _("option '%(key)s'", key=key),
        "statuses": _("status '%(key)s'", key=key),
        "workflows": _("workflow '%(key)s'", key=key),
        "transitions": _("transition '%(key)s'", key=key),
        "rules": _("rule '%(key)s'", key=key),
        "queues": _("queue '%(key)s'", key=key),
    }
    return labels.get(collection) if key else None


def readable_problem(problem: DefinitionProblem, data: dict | None) -> Problem:
    """A problem of the definition in the admin's words, its place named from the definition it was
    found in: ``("forms", 0, "fields", 3, "visible_when", "field")`` becomes "form 'default' › field
    'priority' › visibility condition › field"; ``attribute`` is the last key of that path."""
    message = describe(problem)
    if not problem.path:
        return Problem(message)
    parts: list[str] = []
    node = data
    collection = None
    attribute = None
    for part in problem.path:
        if isinstance(part, int):
            item = node[part] if isinstance(node, list) and part < len(node) else None
            label = _item_label(collection, item) if collection else None
            if label:
                parts.append(label)
            elif parts and parts[-1] == attribute_word(attribute):
                parts[-1] = f"{attribute_word(attribute)} {part + 1}"
            else:
                parts.append(f"{attribute_word(collection or attribute)} {part + 1}")
            node, collection = item, None
            continue
        for name in _NAME_RE.findall(part):
            attribute = name
            node = node.get(name) if isinstance(node, dict) else None
            if name in _COLLECTIONS:
                collection = name
                continue
            parts.append(attribute_word(name))
    return Problem(f"{' › '.join(parts)}: {message}" if parts else message, attribute)


def readable_problems(error: DefinitionError, data: dict | None) -> list[Problem]:
    return [readable_problem(p, data) for p in error.problems]


# --- applying a change ---------------------------------------------------------------------------


def actor_name(actor) -> str:
    if actor is None:
        return "cli"
    if isinstance(actor, str):
        return actor
    from app.accounts.models import Operator

    if isinstance(actor, Operator):
        return f"operator {actor.email}"
    return actor.email


def change_recorder(actor, summary: dict):
    """The ``on_applied`` callback of ``apply_definition`` that records an applied change (the console's
    edits, the operator's onboarding). ``summary`` is data (``app.admin.summaries.summary_of``), worded
    when shown."""
    from app.accounts.models import User

    def record(tenant, report: SyncReport) -> None:
        if not report.changed:
            return
        with tenant_scope(tenant.id):
            db.session.add(
                ConfigChange(
                    tenant_id=tenant.id,
                    actor_id=actor.id if isinstance(actor, User) else None,
                    actor_name=actor_name(actor)[:320],
                    summary=summary,
                    changes=list(report.changes) or [change_entry(CREATED, "tenant", tenant.slug)],
                )
            )
            db.session.flush()

    return record


def current_definition(slug: str) -> dict:
    """The tenant's configuration as a normalized definition (every optional key present)."""
    return export_definition(slug)


def apply_data(
    data: dict, *, slug: str, actor, summary: dict | None, dry_run: bool = False, source: str = "console"
) -> SyncReport:
    """Validate a definition mapping and apply it (or dry-run it); ConsoleError on any problem."""
    try:
        definition = validate_definition(data, source=source, expected_slug=slug)
        return apply_definition(
            definition, dry_run=dry_run, on_applied=None if dry_run else change_recorder(actor, summary)
        )
    except DefinitionError as error:
        raise ConsoleError(readable_problems(error, data)) from None


def change(slug: str, mutate: Callable[[dict], object], *, actor, summary: dict) -> SyncReport:
    """Load the definition, let ``mutate`` change it (it may raise ConsoleError), validate, apply."""
    definition = current_definition(slug)
    mutate(definition)
    return apply_data(compact_definition(definition), slug=slug, actor=actor, summary=summary)


# --- helpers for the editors ---------------------------------------------------------------------


def find(items: list, key: str) -> dict | None:
    return next((item for item in items if item.get("key") == key), None)


def find_index(items: list, key: str) -> int | None:
    return next((i for i, item in enumerate(items) if item.get("key") == key), None)


def move(items: list, key: str, direction: str) -> None:
    index = find_index(items, key)
    if index is None:
        raise ConsoleError([Problem(_("'%(key)s' does not exist (any more).", key=key))])
    target = index - 1 if direction == "up" else index + 1
    if 0 <= target < len(items):
        items[index], items[target] = items[target], items[index]


def require(item, key: str):
    if item is None:
        raise ConsoleError([Problem(_("'%(key)s' does not exist (any more).", key=key))])
    return item


def relocalize(node, languages: list[str], default: str, *, path: tuple = ()) -> None:
    """Make every localized text carry exactly ``languages``: a newly enabled language starts as a
    copy of the default language's text (to be translated), a disabled one is dropped."""
    if isinstance(node, dict):
        for key, value in list(node.items()):
            if path == () and key == "strings":
                node[key] = {lang: texts for lang, texts in value.items() if lang in languages}
                continue
            if key in LOCALIZED_KEYS and isinstance(value, dict) and value:
                source = value.get(default) or next(iter(value.values()))
                node[key] = {lang: value.get(lang) or source for lang in languages}
            else:
                relocalize(value, languages, default, path=path + (key,))
    elif isinstance(node, list):
        for item in node:
            relocalize(item, languages, default, path=path + ("[]",))


# --- contrast (branding colours under white text) ------------------------------------------------


def _luminance(color: str) -> float:
    channels = [int(color[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast_with_white(color: str) -> float:
    """WCAG 2 contrast ratio of white text on ``color`` (#rrggbb)."""
    return 1.05 / (_luminance(color) + 0.05)


# --- export and import ---------------------------------------------------------------------------


def export_files(slug: str) -> dict[str, str]:
    return dump_definition_files(current_definition(slug))


def export_zip(slug: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in export_files(slug).items():
            archive.writestr(f"{slug}/{name}", text)
    return buffer.getvalue()


def export_yaml(slug: str) -> str:
    """The whole definition as one YAML mapping (importable as it is)."""
    compact = compact_definition(current_definition(slug))
    return dump_yaml(compact)


def _too_large() -> ConsoleError:
    return ConsoleError([Problem(_("The file is too large (at most %(size)s).", size=MAX_IMPORT_WORDS))])


def read_upload(stream) -> bytes:
    """At most MAX_IMPORT_BYTES of an uploaded file; ConsoleError (not a full read) if it is larger."""
    content = stream.read(MAX_IMPORT_BYTES + 1)
    if len(content) > MAX_IMPORT_BYTES:
        raise _too_large()
    return content


def _not_a_mapping() -> ConsoleError:
    return ConsoleError([Problem(_("The file must contain a mapping of keys (a tenant definition)."))])


def parse_upload(filename: str, content: bytes) -> dict:
    """A definition from an uploaded zip of the tenants/<slug>/ files or a single merged YAML,
    read with the loader of ``flask tenants sync``. ConsoleError if it cannot be read."""
    if len(content) > MAX_IMPORT_BYTES:
        raise _too_large()
    if content[:2] == b"PK" or filename.lower().endswith(".zip"):
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
        except zipfile.BadZipFile:
            raise ConsoleError([Problem(_("The file is not a valid zip archive."))]) from None
        with tempfile.TemporaryDirectory(prefix="import-") as folder:
            found = False
            for info in archive.infolist():
                name = Path(info.filename).name  # only the known file names; folders are ignored
                if name in FILES and not info.is_dir() and info.file_size <= MAX_IMPORT_BYTES:
                    (Path(folder) / name).write_bytes(archive.read(info))
                    found = True
            if not found:
                raise ConsoleError(
                    [
                        Problem(
                            _(
                                "The archive contains none of the definition files "
                                "(tenant.yaml, catalog.yaml, workflow.yaml ...)."
                            )
                        )
                    ]
                )
            try:
                return read_definition_files(Path(folder))
            except DefinitionError as error:
                # The files as the admin named them in the archive, not our temporary folder.
                named = [replace(p, file=Path(p.file).name if p.file else None) for p in error.problems]
                raise ConsoleError([Problem(problem_line(p)) for p in named]) from None
    try:
        data = load_yaml(content.decode("utf-8"))
    except UnsafeYAMLError as exc:
        raise ConsoleError([Problem(exc.message)]) from None
    except (UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ConsoleError([Problem(_("The file is not valid YAML: %(error)s", error=str(exc)))]) from None
    if not isinstance(data, dict):
        raise _not_a_mapping()
    return data


def parse_payload(text: str) -> dict:
    """The definition carried by the import page's confirmation form (JSON we wrote, but sent back by
    the browser, so read as untrusted). ConsoleError if it is not a sensible mapping."""
    if len(text) > MAX_IMPORT_BYTES:
        raise _too_large()
    try:
        data = json.loads(text)
    except RecursionError:
        raise _too_deep() from None
    except ValueError:
        raise ConsoleError([Problem(_("The definition could not be read."))]) from None
    if not isinstance(data, dict):
        raise _not_a_mapping()
    if nesting_exceeds(data):
        raise _too_deep()
    return data


def _too_deep() -> ConsoleError:
    return ConsoleError([Problem(_("The file is nested too deeply (more than %(limit)s levels).", limit=MAX_DEPTH))])


def dump_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False)


# --- the audit log -------------------------------------------------------------------------------


def recent_changes(limit: int = 100, offset: int = 0) -> tuple[int, list[ConfigChange]]:
    total = db.session.execute(select(func.count()).select_from(ConfigChange)).scalar_one()
    rows = db.session.scalars(
        select(ConfigChange)
        .order_by(ConfigChange.created_at.desc(), ConfigChange.id.desc())
        .limit(limit)
        .offset(offset)
    ).all()
    return total, list(rows)
