"""Who may do what with a request: every role × action, including other tenants and anonymous."""

import pytest
from flask_login import AnonymousUserMixin
from sqlalchemy import select

from app.accounts.models import Organization, User
from app.accounts.organizations import add_membership
from app.accounts.users import create_user
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tickets.models import Participant, Ticket, TicketOrganization
from app.tickets.policy import ACTIONS, can, visible_tickets_clause
from app.tickets.services import create_ticket

ALL = set(ACTIONS)
STAFF = ALL - {"approve"}
FOLLOWER = {"view", "comment", "see_attachments", "watch"}
NONE = set()

# person: (expected on the private request, expected on the request shared with the organization)
MATRIX = {
    "anonymous": (NONE, NONE),
    "other_tenant_agent": (NONE, NONE),
    "other_tenant_same_email": (NONE, NONE),
    "stranger": (NONE, NONE),
    "deactivated_requester": (NONE, NONE),
    "requester": (ALL, ALL),
    "participant": (FOLLOWER, FOLLOWER),
    "colleague": (NONE, FOLLOWER),
    "org_admin": (ALL, ALL),
    "other_org_admin": (NONE, NONE),
    "agent": (STAFF, STAFF),
    "admin": (STAFF, STAFF),
}


@pytest.fixture
def world(app, make_tenant):
    targito, exea = make_tenant("targito"), make_tenant("exea")
    people = {}
    with app.app_context():
        with tenant_scope(exea.id):
            people["other_tenant_agent"] = create_user("agent@exea.test", role="agent")
            people["other_tenant_same_email"] = create_user("requester@example.com")
            db.session.commit()
        with tenant_scope(targito.id):
            for name, role in [
                ("requester", "customer"),
                ("participant", "customer"),
                ("colleague", "customer"),
                ("org_admin", "customer"),
                ("other_org_admin", "customer"),
                ("stranger", "customer"),
                ("deactivated_requester", "customer"),
                ("agent", "agent"),
                ("admin", "admin"),
            ]:
                people[name] = create_user(f"{name}@example.com", role=role)
            db.session.flush()
            acme, other = Organization(name="Acme s.r.o."), Organization(name="Jiná a.s.")
            db.session.add_all([acme, other])
            db.session.flush()
            for name in ("requester", "colleague", "deactivated_requester"):
                add_membership(people[name], acme)
            add_membership(people["org_admin"], acme, is_admin=True)
            add_membership(people["other_org_admin"], other, is_admin=True)
            request_type = db.session.scalars(select(RequestType)).first()
            private = create_ticket(request_type=request_type, requester=people["requester"], summary="Soukromý")
            shared = create_ticket(request_type=request_type, requester=people["requester"], summary="Sdílený")
            db.session.add(TicketOrganization(ticket_id=shared.id, organization_id=acme.id))
            for ticket in (private, shared):
                db.session.add(Participant(ticket_id=ticket.id, user_id=people["participant"].id))
            mine = create_ticket(request_type=request_type, requester=people["deactivated_requester"], summary="x")
            people["deactivated_requester"].active = False
            db.session.commit()
            ids = {name: user.id for name, user in people.items()}
            tickets = {"private": private.id, "shared": shared.id, "deactivated": mine.id}
    return {"targito": targito.id, "exea": exea.id, "people": ids, "tickets": tickets}


def _load(name, world):
    if name == "anonymous":
        return AnonymousUserMixin()
    with all_tenants():
        return db.session.get(User, world["people"][name])


@pytest.mark.parametrize("person", list(MATRIX))
def test_role_action_matrix(app, world, person):
    with app.app_context():
        user = _load(person, world)
        with tenant_scope(world["targito"]):
            for which, expected in zip(("private", "shared"), MATRIX[person]):
                ticket = db.session.get(Ticket, world["tickets"][which])
                granted = {action for action in ACTIONS if can(user, action, ticket)}
                assert granted == expected, (person, which)
                # The list filter agrees with the per-request rule.
                listed = db.session.execute(
                    select(Ticket.id).where(Ticket.id == ticket.id, visible_tickets_clause(user))
                ).first()
                assert bool(listed) == ("view" in expected), (person, which)


def test_a_deactivated_requester_loses_access_to_their_own_request(app, world):
    with app.app_context():
        user = _load("deactivated_requester", world)
        with tenant_scope(world["targito"]):
            ticket = db.session.get(Ticket, world["tickets"]["deactivated"])
            assert not can(user, "view", ticket)


def test_unknown_action_is_a_programming_error(app, world):
    with app.app_context(), tenant_scope(world["targito"]):
        ticket = db.session.get(Ticket, world["tickets"]["private"])
        with pytest.raises(ValueError):
            can(AnonymousUserMixin(), "delete", ticket)


def test_only_confirmed_active_accounts_may_raise_requests(app, make_tenant, make_user):
    from app.accounts.policy import can_raise_requests

    flexinform = make_tenant("flexinform")
    confirmed = make_user(flexinform, "a@example.com")
    unconfirmed = make_user(flexinform, "b@example.com", verified=False)
    agent = make_user(flexinform, "agent@example.com", role="agent", verified=False)
    with app.app_context(), tenant_scope(flexinform.id):
        assert can_raise_requests(db.session.get(User, confirmed))
        assert not can_raise_requests(db.session.get(User, unconfirmed))
        assert can_raise_requests(db.session.get(User, agent))
        assert not can_raise_requests(AnonymousUserMixin())
