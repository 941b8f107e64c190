"""The request list ("My requests"): filters, sorting, search and pages, all kept in the URL.

One query for the page (status, portal and requester joined in) and one for the count, whatever
the number of requests: no N+1.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import aliased, contains_eager, joinedload

from app.accounts.models import Membership, User
from app.catalog.models import Field, Portal
from app.extensions import db
from app.tickets.models import Participant, Ticket, TicketFieldValue, TicketOrganization
from app.security.params import int_arg, page_arg
from app.tickets.policy import visible_tickets_clause
from app.workflow.models import Status

PAGE_SIZE = 25
STATUS_GROUPS = {"open": ("open", "waiting"), "waiting": ("waiting",), "resolved": ("resolved",), "closed": ("closed",)}
SCOPES = ("mine", "shared", "organization", "all")
SORTS = ("updated", "created", "reference", "summary", "status", "portal", "requester")


@dataclass(frozen=True)
class RequestFilters:
    status: str = "open"  # open | resolved | closed | all | a status key
    scope: str = "mine"
    request_type: int | None = None
    portal: str = ""
    q: str = ""
    fields: tuple[tuple[str, tuple[str, ...]], ...] = ()  # (field key, option keys)
    sort: str = "-updated"
    page: int = 1
    assignee: str = ""  # "" any | "me" | "none" | an agent's id
    # Set by agent queues (not by the list's form): any of these status keys / request type ids.
    statuses: tuple[str, ...] = ()
    request_types: tuple[int, ...] = ()
    sla: str = ""  # "" | "breaching" (due soon or breached) | "breached": needs an ``SlaClause``

    @classmethod
    def from_args(
        cls, args, *, field_keys, staff: bool, default_status: str = "open", default_sort: str = "-updated"
    ) -> "RequestFilters":
        sort = args.get("sort", default_sort)
        if sort.lstrip("-") not in SORTS:
            sort = default_sort
        scope = args.get("scope") or ("all" if staff else "mine")
        raw_type = args.get("type", "")
        raw_page = args.get("page", "1")
        selected = tuple((key, tuple(v for v in args.getlist(f"f.{key}") if v)) for key in field_keys)
        assignee = args.get("assignee", "") if staff else ""
        return cls(
            assignee=assignee if assignee in ("", "me", "none") or int_arg(assignee) is not None else "",
            status=args.get("status") or default_status,
            scope=scope if scope in SCOPES else "mine",
            request_type=int_arg(raw_type),
            portal=args.get("portal", ""),
            q=(args.get("q") or "").strip()[:200],
            fields=tuple((k, v) for k, v in selected if v),
            sort=sort,
            page=page_arg(raw_page),
        )

    def args(self, **changes) -> dict:
        """Query arguments for a link to this list with some filters changed."""
        current = replace(self, **changes)
        out: dict[str, str | int | list[str]] = {"status": current.status, "scope": current.scope, "sort": current.sort}
        if current.request_type:
            out["type"] = current.request_type
        if current.portal:
            out["portal"] = current.portal
        if current.q:
            out["q"] = current.q
        for key, values in current.fields:
            out[f"f.{key}"] = list(values)
        if current.page > 1:
            out["page"] = current.page
        if current.assignee:
            out["assignee"] = current.assignee
        return out

    def selected(self, key: str) -> tuple[str, ...]:
        return dict(self.fields).get(key, ())


@dataclass
class RequestPage:
    rows: list = field(default_factory=list)
    total: int = 0
    page: int = 1

    @property
    def pages(self) -> int:
        return max((self.total + PAGE_SIZE - 1) // PAGE_SIZE, 1)


# The SLA clocks are automation's (a layer above requests): a list filtered by SLA state is given the
# clause by its caller (``app.automation.sla.breaching_clause``), mode -> WHERE clause.
SlaClause = Callable[[str], ColumnElement[bool]]


def filtered_statement(
    viewer, filters: RequestFilters, within: RequestFilters | None = None, *, sla_clause: SlaClause | None = None
):
    """The SELECT of the requests ``viewer`` may see that match ``filters`` (unordered), and
    ``within`` too when given (an agent queue: the person's filters narrow the queue down)."""
    requester = aliased(User)
    statement = (
        select(Ticket)
        .join(Status, Ticket.status_id == Status.id)
        .join(Portal, Ticket.portal_id == Portal.id)
        .join(requester, Ticket.requester_id == requester.id)
        .where(visible_tickets_clause(viewer))
    )
    my_orgs = select(Membership.organization_id).where(Membership.user_id == viewer.id)
    if filters.scope == "mine":
        statement = statement.where(Ticket.requester_id == viewer.id)
    elif filters.scope == "shared":
        statement = statement.where(
            Ticket.requester_id != viewer.id,
            or_(
                Ticket.id.in_(select(Participant.ticket_id).where(Participant.user_id == viewer.id)),
                Ticket.id.in_(
                    select(TicketOrganization.ticket_id).where(TicketOrganization.organization_id.in_(my_orgs))
                ),
            ),
        )
    elif filters.scope == "organization":
        statement = statement.where(
            or_(
                Ticket.id.in_(
                    select(TicketOrganization.ticket_id).where(TicketOrganization.organization_id.in_(my_orgs))
                ),
                Ticket.requester_id.in_(select(Membership.user_id).where(Membership.organization_id.in_(my_orgs))),
            )
        )
    for constraints in (filters, within) if within is not None else (filters,):
        statement = _constrain(statement, viewer, constraints, sla_clause)
    return statement, requester


def _constrain(statement, viewer, filters: RequestFilters, sla_clause: SlaClause | None):
    if filters.status in STATUS_GROUPS:
        statement = statement.where(Status.category.in_(STATUS_GROUPS[filters.status]))
    elif filters.status != "all":
        statement = statement.where(Status.key == filters.status)
    if filters.statuses:
        statement = statement.where(Status.key.in_(filters.statuses))
    if filters.request_types:
        statement = statement.where(Ticket.request_type_id.in_(filters.request_types))
    if filters.request_type:
        statement = statement.where(Ticket.request_type_id == filters.request_type)
    if filters.portal:
        statement = statement.where(Portal.key == filters.portal)
    if filters.q:
        like = f"%{filters.q.lower()}%"
        statement = statement.where(
            or_(
                func.lower(Ticket.summary).like(like),
                func.lower(Ticket.reference).like(like),
                func.lower(Ticket.description).like(like),
            )
        )
    for key, values in filters.fields:
        statement = statement.where(
            Ticket.id.in_(
                select(TicketFieldValue.ticket_id)
                .join(Field, TicketFieldValue.field_id == Field.id)
                .where(Field.key == key, TicketFieldValue.value_text.in_(values))
            )
        )
    if filters.assignee == "me":
        statement = statement.where(Ticket.assignee_id == viewer.id)
    elif filters.assignee == "none":
        statement = statement.where(Ticket.assignee_id.is_(None))
    elif filters.assignee:
        statement = statement.where(Ticket.assignee_id == int(filters.assignee))
    if filters.sla:
        if sla_clause is None:
            raise ValueError("a list filtered by SLA state needs the SLA clause")
        statement = statement.where(sla_clause(filters.sla))
    return statement


def count_requests(
    viewer, filters: RequestFilters, within: RequestFilters | None = None, *, sla_clause: SlaClause | None = None
) -> int:
    statement, _requester = filtered_statement(viewer, filters, within, sla_clause=sla_clause)
    return db.session.execute(
        select(func.count()).select_from(statement.with_only_columns(Ticket.id).subquery())
    ).scalar_one()


def list_requests(
    viewer, filters: RequestFilters, within: RequestFilters | None = None, *, sla_clause: SlaClause | None = None
) -> RequestPage:
    statement, requester = filtered_statement(viewer, filters, within, sla_clause=sla_clause)
    total = db.session.execute(
        select(func.count()).select_from(statement.with_only_columns(Ticket.id).subquery())
    ).scalar_one()
    column = {
        "updated": Ticket.updated_at,
        "created": Ticket.created_at,
        "reference": Ticket.number,
        "summary": func.lower(Ticket.summary),
        "status": Status.position,
        "portal": Portal.position,
        "requester": func.lower(requester.name),
    }[filters.sort.lstrip("-")]
    order = column.desc() if filters.sort.startswith("-") else column.asc()
    rows = (
        db.session.scalars(
            statement.options(
                contains_eager(Ticket.status),
                contains_eager(Ticket.portal),
                contains_eager(Ticket.requester.of_type(requester)),
                joinedload(Ticket.assignee),
            )
            .order_by(order, Ticket.id.desc())
            .limit(PAGE_SIZE)
            .offset((filters.page - 1) * PAGE_SIZE)
        )
        .unique()
        .all()
    )
    return RequestPage(rows=list(rows), total=total, page=filters.page)
