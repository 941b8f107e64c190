"""Tenant lifecycle: apply a definition (sync / onboarding / import), export it, suspend.

``apply_definition`` is an idempotent, non-destructive upsert by key: running it twice changes
nothing the second time, and configuration that requests still use is never removed. This module
writes the tenant row and its UI string overrides; every other part of the definition is synced and
exported by the section of the module that owns it (``app.tenancy.sections``).
"""

from __future__ import annotations

from pathlib import Path

from flask_babel import gettext as _
from sqlalchemy import select

from app.extensions import db
from app.tenancy.changes import CREATED, UPDATED
from app.tenancy.definition import (
    DefinitionError,
    load_definition,
    normalize_definition,
    read_definition_files,
    validate_definition,
)
from app.tenancy.models import TENANT_ACTIVE, TENANT_SUSPENDED, StringOverride, Tenant
from app.tenancy.problems import Problem
from app.tenancy.resolution import invalidate_tenant_cache
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tenancy.sections import ExportContext, SyncContext, SyncReport, registry
from app.unit_of_work import after_commit, atomic

# The order of the definition's keys in an export (a merged YAML keeps it).
_EXPORT_ORDER = (
    "slug",
    "name",
    "languages",
    "default_language",
    "timezone",
    "registration",
    "reference_prefix",
    "branding",
    "settings",
    "portals",
    "forms",
    "statuses",
    "workflows",
    "rules",
    "strings",
    "queues",
    "sla",
)


def apply_definition(definition: dict, *, dry_run: bool = False, on_applied=None) -> SyncReport:
    """Create or update the tenant described by a validated, normalized definition.

    All or nothing (``atomic()``): on any problem (DefinitionError) nothing is changed; the caller's
    unit of work commits. With ``dry_run`` the changes are computed and reported, then rolled back.
    ``on_applied(tenant, report)`` runs with the changes (the console's audit entry).
    """
    d = normalize_definition(definition)
    report = SyncReport(slug=d["slug"])
    with atomic(keep=not dry_run):
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == d["slug"])).scalar_one_or_none()
        if tenant is None:
            tenant = Tenant(slug=d["slug"], status=TENANT_ACTIVE, config_version=1)
            db.session.add(tenant)
            report.created = True
        context = SyncContext(report, registry)
        context.assign(
            tenant,
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
            sections = list(registry)
            for section in sections:
                if section.sync is not None:
                    section.sync(d, context)
            _sync_string_overrides(d, context)
            for section in reversed(sections):
                if section.prune is not None:
                    section.prune(d, context)
            if context.problems:
                raise DefinitionError([Problem(p.code, p.params, tenant=d["slug"]) for p in context.problems])
            if report.changes and not report.created:
                tenant.config_version = (tenant.config_version or 0) + 1
            db.session.flush()
        if not dry_run and on_applied is not None:
            on_applied(tenant, report)
    if not dry_run:
        after_commit(lambda: invalidate_tenant_cache(d["slug"]))
    return report


def _sync_string_overrides(d: dict, context: SyncContext) -> None:
    session = db.session
    overrides = {(o.locale, o.msgid): o for o in session.scalars(select(StringOverride))}
    wanted = {(lang, msgid): text for lang, items in d["strings"].items() for msgid, text in items.items()}
    for (lang, msgid), text in wanted.items():
        obj = overrides.get((lang, msgid))
        if obj is None:
            session.add(StringOverride(locale=lang, msgid=msgid, msgstr=text))
            context.record(CREATED, "string_override", msgid, language=lang)
        elif obj.msgstr != text:
            obj.msgstr = text
            context.record(UPDATED, "string_override", msgid, language=lang)
    for key, obj in overrides.items():
        if key not in wanted:
            session.delete(obj)
            context.deleted("string_override", key[1], language=key[0])


def sync_tenant_folder(folder: Path, *, dry_run: bool = False) -> SyncReport:
    return apply_definition(load_definition(folder), dry_run=dry_run)


def create_tenant_from_template(template_folder: Path, slug: str, name: str, prefix: str | None = None) -> SyncReport:
    """Onboard a new tenant from a template definition (the same path as sync)."""
    existing = db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one_or_none()
    if existing is not None:
        raise DefinitionError([Problem("tenant_exists", {"slug": slug})])
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
        raise DefinitionError([Problem("no_tenant", {"slug": slug})])
    parts: dict = {}
    context = ExportContext()
    with tenant_scope(tenant.id):
        for section in registry:
            if section.export is not None:
                parts.update(section.export(context))
        overrides = list(db.session.scalars(select(StringOverride).order_by(StringOverride.locale, StringOverride.id)))
    strings: dict = {}
    for o in overrides:
        strings.setdefault(o.locale, {})[o.msgid] = o.msgstr
    parts.update(
        slug=tenant.slug,
        name=tenant.name,
        languages=list(tenant.locales),
        default_language=tenant.default_locale,
        timezone=tenant.timezone,
        registration=tenant.registration_mode,
        reference_prefix=tenant.reference_prefix,
        branding=dict(tenant.branding or {}),
        settings=dict(tenant.settings or {}),
        strings=strings,
    )
    data = {key: parts.pop(key) for key in _EXPORT_ORDER if key in parts}
    data.update(parts)  # a section's key the format lists nowhere yet comes last
    return normalize_definition(data)


def list_tenants() -> list[Tenant]:
    with all_tenants():
        return list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))


def set_tenant_status(slug: str, status: str) -> Tenant:
    if status not in (TENANT_ACTIVE, TENANT_SUSPENDED):
        raise ValueError(status)
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        raise DefinitionError([Problem("no_tenant", {"slug": slug})])
    tenant.status = status
    after_commit(lambda: invalidate_tenant_cache(slug))
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
        picture = Image.open(io.BytesIO(data))
        if picture.format not in ("PNG", "JPEG", "WEBP"):
            raise LogoError(_("Please upload the logo as a PNG, JPEG or WebP picture."))
        picture.thumbnail(LOGO_BOX)
        image = picture.convert("RGBA")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError):
        raise LogoError(_("Please upload the logo as a PNG, JPEG or WebP picture.")) from None
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    out.seek(0)
    tenant = db.session.get_one(Tenant, tenant_id)
    key = make_key(tenant.id, "branding", "logo")
    storage = get_storage()
    try:
        storage.put(key, out, "image/png")
    except StorageError:
        raise LogoError(_("The picture could not be saved just now. Please try again later.")) from None
    old, tenant.logo_key = tenant.logo_key, key
    tenant.config_version += 1
    _after_logo_change(tenant.slug, old)
    return key


def remove_logo(tenant_id: int) -> None:
    tenant = db.session.get_one(Tenant, tenant_id)
    old, tenant.logo_key = tenant.logo_key, None
    tenant.config_version += 1
    _after_logo_change(tenant.slug, old)


def _after_logo_change(slug: str, old_key: str | None) -> None:
    """Once the change is committed: the old file goes and the tenant's cached configuration too."""
    after_commit(lambda: _forget_logo(old_key))
    after_commit(lambda: invalidate_tenant_cache(slug))


def _forget_logo(key: str | None) -> None:
    from app.storage import StorageError, get_storage

    if key:
        try:
            get_storage().delete(key)
        except StorageError:
            pass  # an orphan file is harmless; the tenant no longer points at it
