"""Who may see and act on a request: the one place every view, list and download asks.

Relations of a person to a request:
- staff: an agent or tenant admin of the request's tenant (everything except approving, which is
  the customer's word);
- requester: the person the request is for (every customer action);
- org_admin: an organization admin ("pääkäyttäjä") of an organization the requester belongs to or
  the request is shared with (sees and acts on all of them);
- participant: someone the request is shared with by name (sees, comments, watches);
- org_member: a member of an organization the request is shared with (sees, comments, watches).
Anyone else, anonymous visitors and people of other tenants have no access at all.
"""

from __future__ import annotations

from sqlalchemy import and_, false, or_, select

from app.accounts.models import Membership, User
from app.extensions import db
from app.tickets.models import Participant, Ticket, TicketOrganization

ACTIONS = ("view", "comment", "see_attachments", "share", "watch", "approve", "close", "reopen", "edit")

_GRANTS = {
    "staff": {"view", "comment", "see_attachments", "share", "watch", "close", "reopen", "edit"},
    "requester": set(ACTIONS),
    "org_admin": set(ACTIONS),
    "participant": {"view", "comment", "see_attachments", "watch"},
    "org_member": {"view", "comment", "see_attachments", "watch"},
}


def _is_tenant_user(user) -> bool:
    return isinstance(user, User) and user.is_authenticated and user.active


def relations(user, ticket: Ticket) -> set[str]:
    """How ``user`` relates to ``ticket`` (at most three small queries)."""
    if not _is_tenant_user(user) or user.tenant_id != ticket.tenant_id:
        return set()
    if user.is_staff:
        return {"staff"}
    found = set()
    if ticket.requester_id == user.id:
        found.add("requester")
    participant = db.session.execute(
        select(Participant.id).where(Participant.ticket_id == ticket.id, Participant.user_id == user.id)
    ).first()
    if participant:
        found.add("participant")
    my_memberships = dict(
        db.session.execute(select(Membership.organization_id, Membership.is_admin).where(Membership.user_id == user.id))
        .tuples()
        .all()
    )
    if my_memberships:
        shared_with = set(
            db.session.scalars(
                select(TicketOrganization.organization_id).where(TicketOrganization.ticket_id == ticket.id)
            )
        )
        requester_orgs = set(
            db.session.scalars(select(Membership.organization_id).where(Membership.user_id == ticket.requester_id))
        )
        for org_id, is_admin in my_memberships.items():
            if is_admin and (org_id in shared_with or org_id in requester_orgs):
                found.add("org_admin")
            elif org_id in shared_with:
                found.add("org_member")
    return found


def allowed_actions(user, ticket: Ticket) -> set[str]:
    granted: set[str] = set()
    for relation in relations(user, ticket):
        granted |= _GRANTS[relation]
    return granted


def can(user, action: str, ticket: Ticket) -> bool:
    if action not in ACTIONS:
        raise ValueError(f"unknown action {action!r}")
    return action in allowed_actions(user, ticket)


def visible_tickets_clause(user):
    """The same rule as ``can(user, 'view', ticket)``, as a SQL condition for lists and search."""
    if not _is_tenant_user(user):
        return false()
    same_tenant = Ticket.tenant_id == user.tenant_id  # never trust the scope alone
    if user.is_staff:
        return same_tenant
    my_orgs = select(Membership.organization_id).where(Membership.user_id == user.id)
    my_admin_orgs = my_orgs.where(Membership.is_admin.is_(True))
    return and_(
        same_tenant,
        or_(
            Ticket.requester_id == user.id,
            Ticket.id.in_(select(Participant.ticket_id).where(Participant.user_id == user.id)),
            Ticket.id.in_(select(TicketOrganization.ticket_id).where(TicketOrganization.organization_id.in_(my_orgs))),
            Ticket.requester_id.in_(select(Membership.user_id).where(Membership.organization_id.in_(my_admin_orgs))),
        ),
    )


# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "tickets.index": "USER",
    "tickets.new_request": "USER",
    "tickets.detail": "REQUEST_VIEWER",
    "tickets.comment": "REQUEST_VIEWER",
    "tickets.watch": "REQUEST_VIEWER",
    "tickets.download": "REQUEST_VIEWER",
    "tickets.add_participant": "REQUEST_SHARER",
    "tickets.remove_participant": "REQUEST_SHARER",
    "tickets.share_organization": "REQUEST_SHARER",
    "tickets.update_details": "REQUEST_EDITOR",
    "tickets.transition": "REQUEST_EDITOR",
    "tickets.assign": "REQUEST_STAFF",
    "tickets.link": "REQUEST_STAFF",
    "tickets.change_type": "REQUEST_STAFF",
    "tickets.forward": "REQUEST_STAFF",
}
