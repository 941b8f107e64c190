"""Tenant lifecycle: apply a definition (sync / onboarding / import), export it, suspend.

``apply_definition`` is an idempotent, non-destructive upsert by key: running it twice changes
nothing the second time, and configuration that requests still use is never removed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.agent.models import Queue
from app.automation.models import AutomationRule
from app.catalog.models import Field, Form, Portal, RequestType
from app.extensions import db
from app.tenancy.changes import CREATED, DELETED, UPDATED, change_entry
from app.tenancy.definition import DefinitionError, load_definition, normalize_definition
from app.tenancy.models import TENANT_ACTIVE, TENANT_SUSPENDED, StringOverride, Tenant
from app.tenancy.resolution import invalidate_tenant_cache
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tickets.models import Ticket, TicketFieldValue
from app.tickets.services import ensure_ticket_sequence
from app.workflow.models import Status, Transition, Workflow


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


def _assign(obj, report: SyncReport, kind: str, key: str, /, **values) -> None:
    """Set attributes that differ; record one change entry per object."""
    is_new = obj in db.session.new
    changed = [name for name, value in values.items() if getattr(obj, name) != value]
    for name in changed:
        setattr(obj, name, values[name])
    if is_new:
        report.changes.append(change_entry(CREATED, kind, key))
    elif changed:
        report.changes.append(change_entry(UPDATED, kind, key, fields=changed))


def _deleted(report: SyncReport, kind: str, key: str | None = None, **extra) -> None:
    report.changes.append(change_entry(DELETED, kind, key, **extra))


def _upsert(model, existing: dict, key: str, report: SyncReport, kind: str, /, **values):
    obj = existing.get(key)
    if obj is None:
        obj = model(key=key)
        db.session.add(obj)
        existing[key] = obj
    _assign(obj, report, kind, key, **values)
    return obj


def _refuse_if_used(count_query, problem: str, problems: list[str]) -> bool:
    if db.session.execute(count_query).scalar_one():
        problems.append(problem)
        return True
    return False


def apply_definition(definition: dict, *, dry_run: bool = False, on_applied=None) -> SyncReport:
    """Create or update the tenant described by a validated, normalized definition.

    Runs in one transaction: on any problem (DefinitionError) nothing is changed. With
    ``dry_run`` the changes are computed and reported, then rolled back. ``on_applied(tenant,
    report)`` runs in the same transaction just before the commit (the console's audit entry).
    """
    d = normalize_definition(definition)
    report = SyncReport(slug=d["slug"])
    try:
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == d["slug"])).scalar_one_or_none()
        if tenant is None:
            tenant = Tenant(slug=d["slug"], status=TENANT_ACTIVE, config_version=1)
            db.session.add(tenant)
            report.created = True
        _assign(
            tenant,
            report,
            "tenant",
            d["slug"],
            name=d["name"],
            default_locale=d["default_language"],
            locales=list(d["languages"]),
            timezone=d["timezone"],
            registration_mode=d["registration"],
            reference_prefix=d["reference_prefix"],
            branding=d["branding"],
            settings=d["settings"],
        )
        db.session.flush()
        with tenant_scope(tenant.id):
            problems: list[str] = []
            ensure_ticket_sequence()
            _sync_configuration(d, report, problems)
            if problems:
                raise DefinitionError([f"tenant '{d['slug']}': {p}" for p in problems])
            if report.changes and not report.created:
                tenant.config_version = (tenant.config_version or 0) + 1
            db.session.flush()
        if dry_run:
            db.session.rollback()
        else:
            if on_applied is not None:
                on_applied(tenant, report)
            db.session.commit()
            invalidate_tenant_cache(d["slug"])
    except Exception:
        db.session.rollback()
        raise
    return report


def _sync_configuration(d: dict, report: SyncReport, problems: list[str]) -> None:
    session = db.session
    # Statuses.
    statuses = {s.key: s for s in session.scalars(select(Status))}
    wanted = set()
    for position, s in enumerate(d["statuses"]):
        wanted.add(s["key"])
        _upsert(
            Status,
            statuses,
            s["key"],
            report,
            "status",
            name=s["name"],
            customer_name=s["customer_name"],
            category=s["category"],
            color=s["color"],
            notify=s["notify"],
            position=position,
        )
    session.flush()

    # Workflows and transitions.
    workflows = {w.key: w for w in session.scalars(select(Workflow))}
    for w in d["workflows"]:
        workflow = _upsert(
            Workflow,
            workflows,
            w["key"],
            report,
            "workflow",
            name=w["name"],
            initial_status_id=statuses[w["initial_status"]].id,
        )
        session.flush()
        existing = {t.key: t for t in workflow.transitions}
        keep = set()
        for position, t in enumerate(w["transitions"]):
            sources = t["from"] or [None]
            for source in sources:
                # A transition from several statuses is stored once per source status.
                key = t["key"] if len(sources) == 1 else f"{t['key']}@{source}"
                keep.add(key)
                obj = existing.get(key)
                if obj is None:
                    obj = Transition(key=key, workflow=workflow)
                    session.add(obj)
                    existing[key] = obj
                _assign(
                    obj,
                    report,
                    "transition",
                    f"{w['key']}/{key}",
                    name=t["name"],
                    from_status_id=statuses[source].id if source else None,
                    to_status_id=statuses[t["to"]].id,
                    actors=list(t["actors"]),
                    requires=list(t["requires"]),
                    position=position,
                )
        for key, obj in existing.items():
            if key not in keep:
                session.delete(obj)
                _deleted(report, "transition", f"{w['key']}/{key}")
    session.flush()

    # Forms and fields.
    forms = {f.key: f for f in session.scalars(select(Form))}
    for f in d["forms"]:
        form = _upsert(Form, forms, f["key"], report, "form")
        session.flush()
        existing = {x.key: x for x in form.fields}
        keep = set()
        for position, fd in enumerate(f["fields"]):
            keep.add(fd["key"])
            obj = existing.get(fd["key"])
            if obj is None:
                obj = Field(key=fd["key"], form=form)
                session.add(obj)
            _assign(
                obj,
                report,
                "field",
                f"{f['key']}/{fd['key']}",
                type=fd["type"],
                label=fd["label"],
                help=fd["help"],
                required=fd["required"],
                options=fd["options"],
                visible_when=fd["visible_when"],
                value_when_hidden=fd["value_when_hidden"],
                default=fd["default"],
                fixed_value=fd["fixed_value"],
                editable_by=fd["editable_by"],
                position=position,
            )
        for key, obj in existing.items():
            if key in keep:
                continue
            used = select(func.count()).select_from(TicketFieldValue).where(TicketFieldValue.field_id == obj.id)
            if not _refuse_if_used(
                used,
                _(
                    "field '%(key)s' was removed but requests have values for it; keep it in the definition",
                    key=f"{f['key']}/{key}",
                ),
                problems,
            ):
                session.delete(obj)
                _deleted(report, "field", f"{f['key']}/{key}")
    session.flush()

    # Portals and request types.
    portals = {p.key: p for p in session.scalars(select(Portal))}
    all_types = list(session.scalars(select(RequestType)))
    keep_types = set()
    for position, p in enumerate(d["portals"]):
        portal = _upsert(
            Portal, portals, p["key"], report, "portal", name=p["name"], description=p["description"], position=position
        )
        session.flush()
        existing = {rt.key: rt for rt in all_types if rt.portal_id == portal.id}
        for rt_position, rt in enumerate(p["request_types"]):
            obj = existing.get(rt["key"])
            if obj is None:
                obj = RequestType(key=rt["key"], portal_id=portal.id)
                session.add(obj)
            _assign(
                obj,
                report,
                "request_type",
                f"{p['key']}/{rt['key']}",
                name=rt["name"],
                description=rt["description"],
                icon=rt["icon"],
                position=rt_position,
                form_id=forms[rt["form"]].id,
                workflow_id=workflows[rt["workflow"]].id,
            )
            session.flush()
            keep_types.add(obj.id)
    for obj in all_types:
        if obj.id in keep_types:
            continue
        used = select(func.count()).select_from(Ticket).where(Ticket.request_type_id == obj.id)
        if not _refuse_if_used(
            used,
            _("request type '%(key)s' was removed but requests use it; keep it in the definition", key=obj.key),
            problems,
        ):
            session.delete(obj)
            _deleted(report, "request_type", obj.key)
    session.flush()
    wanted_portals = {p["key"] for p in d["portals"]}
    for key, obj in portals.items():
        if key not in wanted_portals:
            used = select(func.count()).select_from(Ticket).where(Ticket.portal_id == obj.id)
            if not _refuse_if_used(
                used,
                _("portal '%(key)s' was removed but requests belong to it; keep it in the definition", key=key),
                problems,
            ):
                session.delete(obj)
                _deleted(report, "portal", key)
    wanted_forms = {f["key"] for f in d["forms"]}
    for key, obj in forms.items():
        if key not in wanted_forms:
            session.delete(obj)
            _deleted(report, "form", key)
    wanted_workflows = {w["key"] for w in d["workflows"]}
    for key, obj in workflows.items():
        if key not in wanted_workflows:
            session.delete(obj)
            _deleted(report, "workflow", key)
    session.flush()
    for key, obj in statuses.items():
        if key in wanted:
            continue
        used = select(func.count()).select_from(Ticket).where(Ticket.status_id == obj.id)
        if not _refuse_if_used(
            used,
            _(
                "status '%(key)s' was removed but requests are in it; move them to "
                "another status first or keep it in the definition",
                key=key,
            ),
            problems,
        ):
            session.delete(obj)
            _deleted(report, "status", key)

    # Automation rules.
    rules = {r.key: r for r in session.scalars(select(AutomationRule))}
    for position, r in enumerate(d["rules"]):
        _upsert(
            AutomationRule,
            rules,
            r["key"],
            report,
            "rule",
            name=r.get("name", {}),
            trigger=r["trigger"],
            conditions=r["conditions"],
            actions=r["actions"],
            enabled=r["enabled"],
            position=position,
        )
    for key, obj in rules.items():
        if key not in {r["key"] for r in d["rules"]}:
            session.delete(obj)
            _deleted(report, "rule", key)

    # SLA targets (one row per tenant; no request refers to it: the due moments are on the requests).
    from app.automation.models import SlaPolicy

    policy = session.execute(select(SlaPolicy)).scalar_one_or_none()
    if d["sla"] and policy is None:
        session.add(SlaPolicy(definition=d["sla"]))
        report.changes.append(change_entry(CREATED, "sla"))
    elif d["sla"] and policy.definition != d["sla"]:
        policy.definition = d["sla"]
        report.changes.append(change_entry(UPDATED, "sla"))
    elif not d["sla"] and policy is not None:
        session.delete(policy)
        _deleted(report, "sla")

    # Agent queues (no request refers to one: removed from the files, removed here).
    queues = {q.key: q for q in session.scalars(select(Queue))}
    for position, q in enumerate(d["queues"]):
        _upsert(Queue, queues, q["key"], report, "queue", name=q["name"], filters=q["filters"], position=position)
    for key, obj in queues.items():
        if key not in {q["key"] for q in d["queues"]}:
            session.delete(obj)
            _deleted(report, "queue", key)

    # UI string overrides.
    overrides = {(o.locale, o.msgid): o for o in session.scalars(select(StringOverride))}
    wanted_overrides = {(lang, msgid): text for lang, items in d["strings"].items() for msgid, text in items.items()}
    for (lang, msgid), text in wanted_overrides.items():
        obj = overrides.get((lang, msgid))
        if obj is None:
            session.add(StringOverride(locale=lang, msgid=msgid, msgstr=text))
            report.changes.append(change_entry(CREATED, "string_override", msgid, language=lang))
        elif obj.msgstr != text:
            obj.msgstr = text
            report.changes.append(change_entry(UPDATED, "string_override", msgid, language=lang))
    for key, obj in overrides.items():
        if key not in wanted_overrides:
            session.delete(obj)
            _deleted(report, "string_override", key[1], language=key[0])


def sync_tenant_folder(folder: Path, *, dry_run: bool = False) -> SyncReport:
    return apply_definition(load_definition(folder), dry_run=dry_run)


def create_tenant_from_template(template_folder: Path, slug: str, name: str, prefix: str | None = None) -> SyncReport:
    """Onboard a new tenant from a template definition (the same path as sync)."""
    from app.tenancy.definition import read_definition_files, validate_definition

    existing = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one_or_none()
    if existing is not None:
        raise DefinitionError([_("a tenant '%(slug)s' exists already", slug=slug)])
    data = read_definition_files(template_folder)
    data["slug"] = slug
    data["name"] = name
    data["reference_prefix"] = (prefix or "".join(ch for ch in slug.upper() if ch.isalnum())[:3]).upper()
    if len(data["reference_prefix"]) < 2:
        data["reference_prefix"] = (data["reference_prefix"] + "XX")[:2]
    definition = validate_definition(data, source=str(template_folder))
    return apply_definition(definition)


def export_definition(slug: str) -> dict:
    """The tenant's configuration from the database, in the normalized definition format."""
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise DefinitionError([_("no tenant '%(slug)s'", slug=slug)])
    with tenant_scope(tenant.id):
        statuses = list(db.session.scalars(select(Status).order_by(Status.position)))
        status_key = {s.id: s.key for s in statuses}
        workflows = list(db.session.scalars(select(Workflow).order_by(Workflow.id)))
        workflow_key = {w.id: w.key for w in workflows}
        transitions = list(
            db.session.scalars(select(Transition).order_by(Transition.workflow_id, Transition.position, Transition.id))
        )
        forms = list(db.session.scalars(select(Form).order_by(Form.id)))
        form_key = {f.id: f.key for f in forms}
        fields = list(db.session.scalars(select(Field).order_by(Field.form_id, Field.position)))
        portals = list(db.session.scalars(select(Portal).order_by(Portal.position)))
        request_types = list(
            db.session.scalars(select(RequestType).order_by(RequestType.portal_id, RequestType.position))
        )
        rules = list(db.session.scalars(select(AutomationRule).order_by(AutomationRule.position)))
        overrides = list(db.session.scalars(select(StringOverride).order_by(StringOverride.locale, StringOverride.id)))
        queues = list(db.session.scalars(select(Queue).order_by(Queue.position, Queue.id)))
        from app.automation.models import SlaPolicy

        sla = db.session.execute(select(SlaPolicy.definition)).scalar_one_or_none() or {}

    def transitions_of(workflow_id):
        merged: dict[str, dict] = {}
        for t in transitions:
            if t.workflow_id != workflow_id:
                continue
            base_key = t.key.split("@", 1)[0]
            item = merged.get(base_key)
            if item is None:
                item = merged[base_key] = {
                    "key": base_key,
                    "name": t.name,
                    "from": [],
                    "to": status_key[t.to_status_id],
                    "actors": list(t.actors),
                    "requires": list(t.requires or []),
                }
            if t.from_status_id is not None:
                item["from"].append(status_key[t.from_status_id])
        return list(merged.values())

    data = {
        "slug": tenant.slug,
        "name": tenant.name,
        "languages": list(tenant.locales),
        "default_language": tenant.default_locale,
        "timezone": tenant.timezone,
        "registration": tenant.registration_mode,
        "reference_prefix": tenant.reference_prefix,
        "branding": dict(tenant.branding or {}),
        "settings": dict(tenant.settings or {}),
        "portals": [
            {
                "key": p.key,
                "name": p.name,
                "description": p.description or {},
                "request_types": [
                    {
                        "key": rt.key,
                        "name": rt.name,
                        "description": rt.description or {},
                        "icon": rt.icon,
                        "form": form_key[rt.form_id],
                        "workflow": workflow_key[rt.workflow_id],
                    }
                    for rt in request_types
                    if rt.portal_id == p.id
                ],
            }
            for p in portals
        ],
        "forms": [
            {
                "key": f.key,
                "fields": [
                    {
                        "key": x.key,
                        "type": x.type,
                        "label": x.label,
                        "help": x.help or {},
                        "required": x.required,
                        "options": x.options or [],
                        "visible_when": x.visible_when,
                        "value_when_hidden": x.value_when_hidden,
                        "default": x.default,
                        "fixed_value": x.fixed_value,
                        "editable_by": x.editable_by,
                    }
                    for x in fields
                    if x.form_id == f.id
                ],
            }
            for f in forms
        ],
        "statuses": [
            {
                "key": s.key,
                "name": s.name,
                "customer_name": s.customer_name,
                "category": s.category,
                "color": s.color,
                "notify": s.notify,
            }
            for s in statuses
        ],
        "workflows": [
            {
                "key": w.key,
                "name": w.name,
                "initial_status": status_key[w.initial_status_id],
                "transitions": transitions_of(w.id),
            }
            for w in workflows
        ],
        "rules": [
            {
                "key": r.key,
                "name": r.name,
                "trigger": r.trigger,
                "enabled": r.enabled,
                "conditions": r.conditions or {},
                "actions": r.actions,
            }
            for r in rules
        ],
        "strings": {},
        "queues": [{"key": q.key, "name": q.name, "filters": dict(q.filters or {})} for q in queues],
        "sla": dict(sla),
    }
    for o in overrides:
        data["strings"].setdefault(o.locale, {})[o.msgid] = o.msgstr
    return normalize_definition(data)


def list_tenants() -> list[Tenant]:
    with all_tenants():
        return list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))


def set_tenant_status(slug: str, status: str) -> Tenant:
    if status not in (TENANT_ACTIVE, TENANT_SUSPENDED):
        raise ValueError(status)
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise DefinitionError([_("no tenant '%(slug)s'", slug=slug)])
    tenant.status = status
    db.session.commit()
    invalidate_tenant_cache(slug)
    return tenant


# --- the logo (branding) ------------------------------------------------------------------------

LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_BOX = (480, 160)  # the header shows it at most 48 px high; twice that for sharp screens


class LogoError(ValueError):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def set_logo(tenant_id: int, upload) -> str:
    """Check (a PNG, JPEG or WebP picture, at most 2 MB), scale down and store the tenant's logo;
    the old file is removed. Returns the new storage key. SVG is refused: it can carry scripts."""
    import io

    from PIL import Image, UnidentifiedImageError

    from app.storage import StorageError, get_storage, make_key

    data = upload.read(LOGO_MAX_BYTES + 1) if upload else b""
    if not data:
        raise LogoError(_("Please choose a picture file."))
    if len(data) > LOGO_MAX_BYTES:
        raise LogoError(_("The picture is too large (at most %(size)s MB).", size=LOGO_MAX_BYTES // (1024 * 1024)))
    try:
        image = Image.open(io.BytesIO(data))
        if image.format not in ("PNG", "JPEG", "WEBP"):
            raise LogoError(_("Please upload the logo as a PNG, JPEG or WebP picture."))
        image.thumbnail(LOGO_BOX)
        image = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise LogoError(_("Please upload the logo as a PNG, JPEG or WebP picture.")) from None
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    out.seek(0)
    tenant = db.session.get(Tenant, tenant_id)
    key = make_key(tenant.id, "branding", "logo")
    storage = get_storage()
    try:
        storage.put(key, out, "image/png")
    except StorageError:
        raise LogoError(_("The picture could not be saved just now. Please try again later.")) from None
    old, tenant.logo_key = tenant.logo_key, key
    tenant.config_version += 1
    db.session.commit()
    _forget_logo(old)
    from app.tenancy.resolution import invalidate_tenant_cache

    invalidate_tenant_cache(tenant.slug)
    return key


def remove_logo(tenant_id: int) -> None:
    tenant = db.session.get(Tenant, tenant_id)
    old, tenant.logo_key = tenant.logo_key, None
    tenant.config_version += 1
    db.session.commit()
    _forget_logo(old)
    from app.tenancy.resolution import invalidate_tenant_cache

    invalidate_tenant_cache(tenant.slug)


def _forget_logo(key: str | None) -> None:
    from app.storage import StorageError, get_storage

    if key:
        try:
            get_storage().delete(key)
        except StorageError:
            pass  # an orphan file is harmless; the tenant no longer points at it
