"""Agent queues at run time: the tenant's configured queues (or the presets), as request filters.

A queue is a set of the request list's filters; its page narrows it further with the person's own
filters, and each queue's count is one query. The queues are cached per configuration version.
"""

from __future__ import annotations

from dataclasses import dataclass

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from app.agent.models import Queue
from app.caching import ProcessCache
from app.catalog.services import portal_catalog
from app.extensions import db
from app.tickets.listing import SORTS, RequestFilters


@dataclass(frozen=True)
class QueueInfo:
    key: str
    name: object  # {language: text} from the definition, or a translated preset name
    filters: dict

    @property
    def configured(self) -> bool:
        return isinstance(self.name, dict)


# What a tenant without queues of its own gets.
DEFAULT_QUEUES = (
    QueueInfo("unassigned", _l("Unassigned"), {"status": "open", "assignee": "none"}),
    QueueInfo("mine", _l("Assigned to me"), {"status": "open", "assignee": "me"}),
    QueueInfo("waiting", _l("Waiting for the customer"), {"status": "waiting"}),
    QueueInfo("open", _l("All open"), {"status": "open"}),
    QueueInfo("resolved", _l("Resolved"), {"status": "resolved"}),
)

_cache = ProcessCache("agent-queues")


def tenant_queues(tenant) -> tuple[QueueInfo, ...]:
    """The current tenant's queues in order (one query, then cached); the presets if it has none."""
    key = (tenant.id, tenant.config_version)
    cached = _cache.get(key)
    if cached is not None:
        return cached
    rows = db.session.scalars(select(Queue).order_by(Queue.position, Queue.id)).all()
    queues = tuple(QueueInfo(q.key, dict(q.name), dict(q.filters or {})) for q in rows) or DEFAULT_QUEUES
    return _cache.set(key, queues)


def queue_filters(tenant, queue: QueueInfo) -> RequestFilters:
    """The queue as request filters (request type keys resolved to the tenant's ids)."""
    f = queue.filters
    portal = f.get("portal") or ""
    type_ids = []
    for ref in f.get("request_types") or ():
        portal_key, _sep, type_key = ref.rpartition("/")
        for p in portal_catalog(tenant):
            if (portal_key or portal or p.key) == p.key:
                type_ids += [rt.id for rt in p.request_types if rt.key == type_key]
    sort = f.get("sort") or "-updated"
    assignee = f.get("assignee") or "any"
    return RequestFilters(
        scope="all",
        status=f.get("status") or "open",
        statuses=tuple(f.get("statuses") or ()),
        portal=portal,
        # A queue naming request types that no longer exist shows nothing rather than everything.
        request_types=tuple(type_ids) or ((-1,) if f.get("request_types") else ()),
        fields=tuple((k, tuple(v)) for k, v in sorted((f.get("fields") or {}).items())),
        assignee="" if assignee == "any" else assignee,
        sort=sort if sort.lstrip("-") in SORTS else "-updated",
        sla=f.get("sla") or "",
    )
