"""Reading the tenant's catalog: portals and their request types, cached per configuration version."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from app.caching import ProcessCache
from app.catalog.models import Portal, RequestType
from app.extensions import db


@dataclass(frozen=True)
class RequestTypeInfo:
    id: int
    key: str
    name: dict
    description: dict
    icon: str | None


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
            id=p.id, key=p.key, name=dict(p.name), description=dict(p.description or {}),
            request_types=tuple(
                RequestTypeInfo(id=rt.id, key=rt.key, name=dict(rt.name), description=dict(rt.description or {}),
                                icon=rt.icon)
                for rt in types if rt.portal_id == p.id
            ),
        )
        for p in portals
    )
    return _cache.set(key, result)
