"""Reading the tenant's catalog: portals and their request types, cached per configuration version."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.caching import ProcessCache
from app.catalog.models import Field, Portal, RequestType
from app.extensions import db


@dataclass(frozen=True)
class RequestTypeInfo:
    id: int
    key: str
    name: dict
    description: dict
    icon: str | None
    portal_key: str
    form_id: int
    workflow_id: int


@dataclass(frozen=True)
class FieldInfo:
    """A field of a request form, as configured by the tenant (immutable, cacheable)."""

    id: int
    key: str
    type: str
    label: dict
    help: dict
    required: bool
    options: tuple[tuple[str, dict], ...]  # (option key, localized label)
    visible_when: dict | None
    value_when_hidden: object
    default: object
    fixed_value: object
    editable_by: str

    def option_label(self, key) -> dict:
        return next((label for option_key, label in self.options if option_key == key), {})


@dataclass(frozen=True)
class PortalInfo:
    id: int
    key: str
    name: dict
    description: dict
    request_types: tuple[RequestTypeInfo, ...]


_cache = ProcessCache("portal-catalog")


def portal_catalog(tenant) -> tuple[PortalInfo, ...]:
    """The current tenant's portals with their request types, in order (two queries, then cached)."""
    key = (tenant.id, tenant.config_version)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    portals = db.session.scalars(select(Portal).order_by(Portal.position, Portal.id)).all()
    types = db.session.scalars(select(RequestType).order_by(RequestType.position, RequestType.id)).all()
    result = tuple(
        PortalInfo(
            id=p.id,
            key=p.key,
            name=dict(p.name),
            description=dict(p.description or {}),
            request_types=tuple(
                RequestTypeInfo(
                    id=rt.id,
                    key=rt.key,
                    name=dict(rt.name),
                    description=dict(rt.description or {}),
                    icon=rt.icon,
                    portal_key=p.key,
                    form_id=rt.form_id,
                    workflow_id=rt.workflow_id,
                )
                for rt in types
                if rt.portal_id == p.id
            ),
        )
        for p in portals
    )
    return _cache.set(key, result)


def find_request_type(tenant, portal_key: str, type_key: str) -> tuple[PortalInfo, RequestTypeInfo] | None:
    for portal in portal_catalog(tenant):
        if portal.key == portal_key:
            for request_type in portal.request_types:
                if request_type.key == type_key:
                    return portal, request_type
    return None


def request_type_by_id(tenant, request_type_id: int) -> tuple[PortalInfo, RequestTypeInfo]:
    """The portal and request type of a request: the catalog lists every request type, active or not,
    so one that a request refers to is always found."""
    for portal in portal_catalog(tenant):
        for request_type in portal.request_types:
            if request_type.id == request_type_id:
                return portal, request_type
    raise LookupError(f"request type {request_type_id} is not in the catalog of tenant {tenant.id}")


_fields_cache = ProcessCache("form-fields")


def form_fields(tenant, form_id: int) -> tuple[FieldInfo, ...]:
    """The fields of one form, in order; all forms of the tenant load in one query, then cached."""
    key = (tenant.id, tenant.config_version)
    by_form = _fields_cache.get(key)
    if by_form is None:
        by_form = {}
        for f in db.session.scalars(select(Field).order_by(Field.form_id, Field.position)):
            by_form.setdefault(f.form_id, []).append(
                FieldInfo(
                    id=f.id,
                    key=f.key,
                    type=f.type,
                    label=dict(f.label),
                    help=dict(f.help or {}),
                    required=f.required,
                    options=tuple((o["key"], dict(o["label"])) for o in (f.options or [])),
                    visible_when=f.visible_when,
                    value_when_hidden=f.value_when_hidden,
                    default=f.default,
                    fixed_value=f.fixed_value,
                    editable_by=f.editable_by,
                )
            )
        by_form = {form: tuple(fields) for form, fields in by_form.items()}
        _fields_cache.set(key, by_form)
    return by_form.get(form_id, ())


def filterable_fields(tenant) -> tuple[FieldInfo, ...]:
    """Choice fields a request list can be filtered by (one per key across the tenant's forms)."""
    seen: dict[str, FieldInfo] = {}
    for portal in portal_catalog(tenant):
        for request_type in portal.request_types:
            for info in form_fields(tenant, request_type.form_id):
                if info.type == "select" and info.key not in seen:
                    seen[info.key] = info
    return tuple(seen.values())
