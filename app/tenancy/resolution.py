"""From the Host header to the current tenant.

``<slug>.<PORTAL_DOMAIN>`` is a tenant's portal; the routing layer hands us the slug (Flask
subdomain routing), we validate it, look it up (cached for a few seconds per process), and make it
the current tenant.

One source of truth: the query scope (``app.tenancy.scoping``) says *which* tenant is current, for
requests, jobs and commands alike. ``g.tenant`` (:func:`current_tenant`) is that tenant's cached
snapshot for views, templates and services: ``g`` is a :class:`TenantGlobals`, whose ``tenant``
answers the stored snapshot unless the scope is another tenant, so the two can never disagree
(inside ``tenant_scope(other_id)`` there is no stale ``g.tenant``).
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass, field

from flask import Response, abort, current_app, g, has_app_context
from flask.ctx import _AppCtxGlobals
from sqlalchemy import select

from app.caching import ProcessCache
from app.extensions import db
from app.tenancy.definition import SLUG_RE
from app.tenancy.models import Tenant, StringOverride
from app.tenancy.scoping import activate, current_tenant_id, deactivate, tenant_scope


@dataclass(frozen=True)
class TenantContext:
    """An immutable snapshot of a tenant, safe to cache and share between requests."""

    id: int
    slug: str
    name: str
    status: str
    default_locale: str
    locales: tuple[str, ...]
    timezone: str
    registration_mode: str
    reference_prefix: str
    config_version: int
    branding: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    string_overrides: dict = field(default_factory=dict)  # {locale: {msgid: msgstr}}
    logo_key: str | None = None

    @property
    def is_active(self) -> bool:
        return self.status == "active"


_MISSING = object()
_cache = ProcessCache("tenant-by-slug")


def load_tenant_context(slug: str) -> TenantContext | None:
    """The tenant with this slug as a snapshot, or None. Two indexed queries."""
    tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()
    if tenant is None:
        return None
    with tenant_scope(tenant.id):
        rows = db.session.execute(select(StringOverride.locale, StringOverride.msgid, StringOverride.msgstr)).all()
    overrides: dict[str, dict[str, str]] = {}
    for locale, msgid, msgstr in rows:
        overrides.setdefault(locale, {})[msgid] = msgstr
    return TenantContext(
        id=tenant.id,
        slug=tenant.slug,
        name=tenant.name,
        status=tenant.status,
        default_locale=tenant.default_locale,
        locales=tuple(tenant.locales),
        timezone=tenant.timezone,
        registration_mode=tenant.registration_mode,
        reference_prefix=tenant.reference_prefix,
        config_version=tenant.config_version,
        branding=dict(tenant.branding or {}),
        settings=dict(tenant.settings or {}),
        string_overrides=overrides,
        logo_key=tenant.logo_key,
    )


def get_tenant_context(slug: str) -> TenantContext | None:
    """Cached lookup of an *active* tenant by slug; None for unknown, invalid or suspended."""
    context = _lookup(slug)
    if context is None or not context.is_active:
        return None
    return context


def _lookup(slug: str) -> TenantContext | None:
    """Cached lookup by slug, whatever the tenant's status; None for unknown or invalid slugs."""
    if not SLUG_RE.match(slug or ""):
        return None
    context = _cache.get(slug, _MISSING)
    if context is _MISSING:
        context = _cache.set(slug, load_tenant_context(slug), ttl=current_app.config["TENANT_CACHE_SECONDS"])
    return context


def invalidate_tenant_cache(slug: str | None = None) -> None:
    if slug is None:
        _cache.clear()
    else:
        _cache.pop(slug)


def enter_tenant(slug: str) -> TenantContext:
    """Make the tenant of this request current, or answer 404 revealing nothing."""
    known = _lookup(slug)
    context = known if known is not None and known.is_active else None
    if context is None:
        if known is not None:
            # A suspended portal says so (its data is kept); nothing else of it is served.
            from flask import render_template

            abort(Response(render_template("operator/suspended.html", name=known.name), 503, {"Retry-After": "3600"}))
        g.unknown_tenant = True
        abort(404)
    g._tenant_scope_token = activate(context.id)
    g.tenant = context
    return context


def leave_tenant(exc=None) -> None:
    token = g.pop("_tenant_scope_token", None)
    if token is not None:
        deactivate(token)


def init_app(app) -> None:
    app.app_ctx_globals_class = TenantGlobals

    @app.url_value_preprocessor
    def _pull_tenant(endpoint, values):
        if values is not None and "tenant" in values:
            enter_tenant(values.pop("tenant"))

    @app.url_defaults
    def _push_tenant(endpoint, values):
        if "tenant" in values or g.get("tenant") is None:
            return
        if app.url_map.is_endpoint_expecting(endpoint, "tenant"):
            values["tenant"] = g.tenant.slug

    app.teardown_request(leave_tenant)


@contextmanager
def tenant_context(tenant_id: int):
    """For jobs and commands: make a tenant current as a web request does (the query scope, and
    ``g.tenant`` for templates, links and the tenant's catalog)."""
    tenant = db.session.get_one(Tenant, tenant_id)
    context = load_tenant_context(tenant.slug)
    previous = g.__dict__.get(_SNAPSHOT)
    g.tenant = context
    try:
        with tenant_scope(tenant_id):
            yield context
    finally:
        g.__dict__[_SNAPSHOT] = previous


def current_tenant() -> TenantContext | None:
    """The current tenant's snapshot (``g.tenant``): None outside a tenant, or outside an app context."""
    return g.tenant if has_app_context() else None


_SNAPSHOT = "_tenant_snapshot"
_NOTHING = object()


class TenantGlobals(_AppCtxGlobals):
    """``flask.g`` whose ``tenant`` follows the query scope.

    Assigning ``g.tenant`` stores the snapshot of a tenant; reading it gives that snapshot unless the
    scope (``current_tenant_id()``) is another tenant, then None. (With no scope at all there is
    nothing to disagree with: a command may name its tenant before it enters the scope.) ``g.get("tenant")``,
    ``"tenant" in g`` and ``g.pop("tenant")`` (the error pages forget the tenant) read and write the
    same snapshot.
    """

    @property
    def tenant(self) -> TenantContext | None:
        snapshot = self.__dict__.get(_SNAPSHOT)
        scope = current_tenant_id()
        if snapshot is None or (scope is not None and snapshot.id != scope):
            return None
        return snapshot

    def __setattr__(self, name: str, value) -> None:
        self.__dict__[_SNAPSHOT if name == "tenant" else name] = value

    def __delattr__(self, name: str) -> None:
        super().__delattr__(_SNAPSHOT if name == "tenant" else name)

    def get(self, name: str, default=None):
        if name == "tenant":
            tenant = self.tenant
            return default if tenant is None else tenant
        return super().get(name, default)

    def pop(self, name: str, default=_NOTHING):
        if name == "tenant":
            tenant = self.tenant
            self.__dict__.pop(_SNAPSHOT, None)
            if tenant is None:
                if default is _NOTHING:
                    raise KeyError(name)
                return default
            return tenant
        return super().pop(name) if default is _NOTHING else super().pop(name, default)

    def setdefault(self, name: str, default=None):
        if name == "tenant":
            raise TypeError("g.tenant is set by entering a tenant, not by setdefault")
        return super().setdefault(name, default)

    def __contains__(self, item: str) -> bool:
        return self.tenant is not None if item == "tenant" else super().__contains__(item)

    def __iter__(self):
        return (name for name in super().__iter__() if name != _SNAPSHOT)
