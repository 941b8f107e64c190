"""The operator's tenant lifecycle: onboarding (from ``_template`` or another tenant's export, the
same loader and ``apply_definition`` as ``flask tenants sync``), counts per tenant, suspension."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.definition import (
    SLUG_RE,
    SUPPORTED_LANGUAGES,
    DefinitionError,
    compact_definition,
    read_definition_files,
    validate_definition,
)
from app.tenancy.models import Tenant
from app.tenancy.problems import Problem
from app.tenancy.scoping import all_tenants
from app.unit_of_work import atomic


@dataclass
class TenantRow:
    tenant: Tenant
    users: int
    requests: int
    open_requests: int


def tenant_rows() -> list[TenantRow]:
    """Every tenant with its number of users, requests and open requests: one grouped query each."""
    from app.accounts.models import User
    from app.tickets.models import Ticket
    from app.workflow.models import Status

    with all_tenants():
        tenants = list(db.session.scalars(select(Tenant).order_by(Tenant.slug)))
        users = dict(db.session.execute(select(User.tenant_id, func.count()).group_by(User.tenant_id)).all())
        requests = dict(db.session.execute(select(Ticket.tenant_id, func.count()).group_by(Ticket.tenant_id)).all())
        open_requests = dict(
            db.session.execute(
                select(Ticket.tenant_id, func.count())
                .join(Status, Ticket.status_id == Status.id)
                .where(Status.category.in_(("open", "waiting")))
                .group_by(Ticket.tenant_id)
            ).all()
        )
    return [TenantRow(t, users.get(t.id, 0), requests.get(t.id, 0), open_requests.get(t.id, 0)) for t in tenants]


def source_definition(source: str) -> dict:
    """The definition a new tenant starts from: a template folder of ``tenants/`` (``_template``) or
    an existing tenant's export (``tenant:<slug>``)."""
    from app.tenancy.services import export_definition

    if source.startswith("tenant:"):
        return compact_definition(export_definition(source.split(":", 1)[1]))
    if not source.startswith("_") or "/" in source or ".." in source:
        raise DefinitionError([Problem("unknown_template", {"source": source})])
    return read_definition_files(Path(current_app.config["TENANTS_DIR"]) / source)


def default_prefix(slug: str) -> str:
    prefix = "".join(ch for ch in slug.upper() if ch.isalnum())[:3]
    if not prefix or not prefix[0].isalpha():
        prefix = ("T" + prefix)[:3]
    return (prefix + "XX")[: max(len(prefix), 2)]


def onboard_tenant(
    *,
    slug: str,
    name: str,
    source: str = "_template",
    languages: list[str] | None = None,
    default_language: str | None = None,
    admin_email: str | None = None,
    prefix: str | None = None,
    actor=None,
) -> Tenant:
    """Create a tenant from a template or another tenant's export, then invite its first admin.

    Raises DefinitionError (with every problem) and changes nothing when something is wrong.
    """
    from app.accounts.registration import invite
    from app.accounts.users import AccountError
    from app.admin.services import change_recorder, relocalize
    from app.admin.summaries import summary_of
    from app.tenancy.resolution import tenant_context
    from app.tenancy.services import apply_definition

    slug = (slug or "").strip().lower()
    problems = []
    if not SLUG_RE.match(slug):
        problems.append(Problem("invalid_slug", {"slug": slug}))
    if db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one_or_none() is not None:
        problems.append(Problem("tenant_exists", {"slug": slug}))
    if admin_email is not None and "@" not in admin_email:
        problems.append(Problem("not_an_email", {"email": admin_email}))
    if problems:
        raise DefinitionError(problems)
    data = source_definition(source)
    data.update(
        slug=slug,
        name=(name or "").strip() or slug.capitalize(),
        reference_prefix=(prefix or default_prefix(slug)).upper(),
    )
    data.get("settings", {}).pop("support_email", None)  # another tenant's address is not this one's
    if languages:
        languages = [lang for lang in SUPPORTED_LANGUAGES if lang in languages]
        default_language = default_language if default_language in languages else languages[0]
        relocalize(
            data, languages, data["default_language"] if data["default_language"] in data["languages"] else languages[0]
        )
        data["languages"], data["default_language"] = languages, default_language
    elif default_language:
        data["default_language"] = default_language
    definition = validate_definition(data, source=source)
    with atomic():  # the tenant and its first admin, or neither
        # Not inside all_tenants(): apply_definition scopes its queries to the new tenant itself.
        apply_definition(definition, on_applied=change_recorder(actor, summary_of("onboarded", source=source)))
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        if admin_email:
            with tenant_context(tenant.id):
                try:
                    invite(admin_email, role="admin")
                except AccountError as error:
                    raise DefinitionError([Problem("message", {"text": error.message})]) from None
    return tenant


def change_tenant_status(slug: str, status: str, *, actor) -> Tenant:
    """Suspend or resume a vendor's portal (``active`` / ``suspended``), its data kept.

    The change goes on the vendor's own security trail, the operator as its actor, so the vendor's
    admins can see who closed their portal and when. Setting the status it has already records nothing.
    DefinitionError for an unknown slug.
    """
    from app.security.events import TENANT_RESUMED, TENANT_SUSPENDED
    from app.security.services import record_event
    from app.tenancy import models
    from app.tenancy.services import set_tenant_status

    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is not None and status in (models.TENANT_ACTIVE, models.TENANT_SUSPENDED) and tenant.status != status:
        record_event(
            TENANT_SUSPENDED if status == models.TENANT_SUSPENDED else TENANT_RESUMED, tenant_id=tenant.id, actor=actor
        )
    return set_tenant_status(slug, status)  # the event and the change are one unit
