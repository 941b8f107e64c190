"""What requests need from the tenant definition: a request counter per tenant, and the guard
that configuration requests still use (a status, a field, a request type, a portal) stays.

Registered with the tenant definition's sections by ``create_app``; the catalog and workflow
sections ask ``in_use`` before they remove anything.
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.extensions import db
from app.tenancy.sections import DefinitionSection, SyncContext
from app.tickets.models import Ticket, TicketFieldValue
from app.tickets.services import ensure_ticket_sequence

# Which column of which table refers to each kind of configuration.
_USES = {
    "status": (Ticket, Ticket.status_id),
    "request_type": (Ticket, Ticket.request_type_id),
    "portal": (Ticket, Ticket.portal_id),
    "field": (TicketFieldValue, TicketFieldValue.field_id),
}


def sync(definition: dict, context: SyncContext) -> None:
    ensure_ticket_sequence()


def in_use(kind: str, obj_id: int) -> bool:
    use = _USES.get(kind)
    if use is None:
        return False
    model, column = use
    return bool(db.session.execute(select(func.count()).select_from(model).where(column == obj_id)).scalar_one())


SECTION = DefinitionSection(name="requests", order=0, sync=sync, in_use=in_use)
