"""The tenant definition in sections: each module validates, syncs and exports its own part.

``app.tenancy.definition`` reads the files and checks them against the schema and the tenant's own
keys; ``app.tenancy.services`` writes the tenant row and the string overrides. Everything else
(statuses and workflows, portals and forms, rules and SLA targets, queues) belongs to the module
that owns those tables: it contributes a :class:`DefinitionSection` from its ``definition.py``,
registered explicitly by ``create_app`` (``app.register_definition_sections``). The platform layer
thus knows no domain, and a module's definition code lives beside its models.

Sections run in ``order``: ``validate`` after the schema passed, ``sync`` inside the tenant's scope
in one transaction, then ``prune`` in reverse order (removals that must wait until the sections
after it let go of what they referenced), and ``export`` to build the definition back from the
database. A section may also answer ``in_use(kind, id)``: whether its data still uses a piece of
configuration that another section is about to remove (requests in a status, say).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from app.extensions import db
from app.tenancy.changes import CREATED, DELETED, UPDATED, change_entry
from app.tenancy.problems import Problem, Problems, Wording, add_wordings


@dataclass
class SyncReport:
    """What applying a definition changed: ``changes`` are entries of ``app.tenancy.changes``
    (data, worded by ``describe_change`` in the reader's language)."""

    slug: str
    created: bool = False
    changes: list[dict] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.changes)


class SyncContext:
    """What a section's ``sync`` and ``prune`` work with: the report to append changes to, the
    problems that refuse the whole change (nothing is written then), and the ``in_use`` question."""

    def __init__(self, report: SyncReport, registry: SectionRegistry):
        self.report = report
        self.problems: list[Problem] = []
        # Ids by key that a section shares with the sections after it (``ids["workflow"]["support"]``),
        # so that a request type can name its workflow without the catalog importing the workflow module.
        self.ids: dict[str, dict[str, int]] = {}
        self._registry = registry

    def assign(self, obj, kind: str, key: str, /, **values) -> None:
        """Set the attributes that differ; record one change entry per object."""
        is_new = obj in db.session.new
        changed = [name for name, value in values.items() if getattr(obj, name) != value]
        for name in changed:
            setattr(obj, name, values[name])
        if is_new:
            self.report.changes.append(change_entry(CREATED, kind, key))
        elif changed:
            self.report.changes.append(change_entry(UPDATED, kind, key, fields=changed))

    def upsert(self, model, existing: dict, key: str, kind: str, /, **values):
        """The row of ``model`` with this key (added if missing) with ``values`` assigned."""
        obj = existing.get(key)
        if obj is None:
            obj = model(key=key)
            db.session.add(obj)
            existing[key] = obj
        self.assign(obj, kind, key, **values)
        return obj

    def record(self, action: str, kind: str, key: str | None = None, **extra) -> None:
        self.report.changes.append(change_entry(action, kind, key, **extra))

    def deleted(self, kind: str, key: str | None = None, **extra) -> None:
        self.record(DELETED, kind, key, **extra)

    def in_use(self, kind: str, obj_id: int) -> bool:
        """Whether any section's data still uses this piece of configuration."""
        return any(s.in_use(kind, obj_id) for s in self._registry if s.in_use is not None)

    def refuse(self, code: str, /, **params: Any) -> None:
        """A problem that refuses the whole change (the caller leaves the row alone)."""
        self.problems.append(Problem(code, params))


class ExportContext:
    """What a section's ``export`` works with: keys by id that earlier sections shared
    (``keys["workflow"][3] == "support"``)."""

    def __init__(self) -> None:
        self.keys: dict[str, dict[int, str]] = {}


@dataclass(frozen=True)
class DefinitionSection:
    """One module's part of the tenant definition.

    - ``keys``: the top-level keys of the definition it owns (what ``export`` returns).
    - ``normalize(definition)`` / ``compact(definition)``: fill in / drop the defaults of its part (in
      place), so that equivalent definitions compare equal and exports stay short.
    - ``validate(data, problems)``: semantic checks of a schema-valid definition; ``problems.add(path,
      code, **params)`` for each finding.
    - ``sync(definition, context)`` / ``prune(definition, context)``: upsert and remove its rows (in
      the tenant's scope, one transaction); ``context.refuse(code, ...)`` when it must not.
    - ``export(context)``: its keys from the database (in the tenant's scope), in the definition format.
    - ``in_use(kind, id)``: whether its data uses another section's configuration.
    - ``wordings``: the message of each problem code it uses, worded when shown.
    """

    name: str
    order: int
    keys: tuple[str, ...] = ()
    normalize: Callable[[dict], None] | None = None
    compact: Callable[[dict], None] | None = None
    validate: Callable[[dict, Problems], None] | None = None
    sync: Callable[[dict, SyncContext], None] | None = None
    prune: Callable[[dict, SyncContext], None] | None = None
    export: Callable[[ExportContext], dict] | None = None
    in_use: Callable[[str, int], bool] | None = None
    wordings: Mapping[str, Wording] = field(default_factory=dict)


class SectionRegistry:
    """The registered sections, in their order. Registering the same section again is harmless
    (every ``create_app`` registers them); two different sections with one name are a mistake."""

    def __init__(self) -> None:
        self._sections: dict[str, DefinitionSection] = {}

    def register(self, section: DefinitionSection) -> None:
        known = self._sections.get(section.name)
        if known is section:
            return
        if known is not None:
            raise ValueError(f"a definition section {section.name!r} is registered already")
        add_wordings(section.wordings)
        self._sections[section.name] = section

    def __iter__(self) -> Iterator[DefinitionSection]:
        if not self._sections:
            # Validating with no sections would pass anything: refuse instead of guessing.
            raise RuntimeError("no tenant definition sections registered; create_app() registers them")
        return iter(sorted(self._sections.values(), key=lambda s: (s.order, s.name)))


# The sections are code, the same for every app in the process (the CLI, the tests' apps, a worker).
registry = SectionRegistry()


def register_section(section: DefinitionSection) -> None:
    registry.register(section)
