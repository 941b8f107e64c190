"""The conversation and the workflow as the seeds describe them, driven through the portal pages."""

import pytest
from sqlalchemy import or_, select

from app.accounts.models import User
from app.catalog.models import RequestType
from app.extensions import db
from app.unit_of_work import unit
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Comment, Participant, Ticket, TicketEvent, Watcher
from app.tickets.services import raise_request
from app.workflow.models import Status, Transition
from tests.conftest import portal_url


@pytest.fixture
def request_at(app, make_tenant, make_user):
    """A tenant with a customer, an agent and one request of its first request type."""

    def make(slug, type_key=None, values=None):
        tenant = make_tenant(slug)
        customer_id = make_user(tenant, "customer@example.com", name="Customer")
        make_user(tenant, "agent@example.com", role="agent", name="Agent")
        with app.test_request_context(portal_url(slug)), tenant_scope(tenant.id), unit():
            from flask import g

            g.tenant = get_tenant_context(slug)
            query = select(RequestType).order_by(RequestType.id)
            if type_key:
                query = query.where(RequestType.key == type_key)
            request_type = db.session.scalars(query).first()
            customer = db.session.get(User, customer_id)
            ticket = raise_request(
                tenant=g.tenant,
                request_type_id=request_type.id,
                requester=customer,
                created_by=customer,
                values={"summary": "Gond", "description": "Leírás", **(values or {})},
            )
            return tenant, ticket.reference

    return make


def status_of(app, tenant, reference):
    with app.app_context(), tenant_scope(tenant.id):
        return db.session.execute(
            select(Status.key).join(Ticket, Ticket.status_id == Status.id).where(Ticket.reference == reference)
        ).scalar_one()


def step(app, tenant, reference, base_key):
    """The id of the workflow step ``base_key`` from the request's current status."""
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        return db.session.scalars(
            select(Transition.id).where(
                Transition.workflow_id == ticket.request_type.workflow_id,
                or_(Transition.key == base_key, Transition.key.like(f"{base_key}@%")),
                or_(Transition.from_status_id == ticket.status_id, Transition.from_status_id.is_(None)),
            )
        ).first()


def act(client, slug, reference, transition_id, body=""):
    return client.post(portal_url(slug, f"/requests/{reference}/transitions/{transition_id}"), data={"body": body})


def as_(client, login, slug, who):
    client.post(portal_url(slug, "/logout"))
    login(slug, f"{who}@example.com")


def test_flexinform_status_flow_with_reply_confirm_and_no_reopening(app, client, request_at, login):
    tenant, ref = request_at("flexinform", values={})
    as_(client, login, "flexinform", "agent")
    # Asking the reporter needs the list of what is needed.
    assert act(client, "flexinform", ref, step(app, tenant, ref, "visszakerdezes")).status_code == 302
    assert status_of(app, tenant, ref) == "nyitott"
    act(client, "flexinform", ref, step(app, tenant, ref, "visszakerdezes"), "Kérjük, küldje el az ügyiratszámot.")
    assert status_of(app, tenant, ref) == "valaszra-var"
    # The reporter's reply moves it back to "Folyamatban" by the tenant's rule.
    as_(client, login, "flexinform", "customer")
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert "Kérjük, küldje el az ügyiratszámot." in page
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Az ügyiratszám: TAO/1"})
    assert status_of(app, tenant, ref) == "folyamatban"
    as_(client, login, "flexinform", "agent")
    act(client, "flexinform", ref, step(app, tenant, ref, "megold"))
    assert status_of(app, tenant, ref) == "megoldva"
    # The customer sends it back (a comment is required), then confirms the next resolution.
    as_(client, login, "flexinform", "customer")
    act(client, "flexinform", ref, step(app, tenant, ref, "visszakuld"))
    assert status_of(app, tenant, ref) == "megoldva"
    act(client, "flexinform", ref, step(app, tenant, ref, "visszakuld"), "Még mindig hibás.")
    assert status_of(app, tenant, ref) == "folyamatban"
    as_(client, login, "flexinform", "agent")
    act(client, "flexinform", ref, step(app, tenant, ref, "megold"))
    as_(client, login, "flexinform", "customer")
    act(client, "flexinform", ref, step(app, tenant, ref, "keszre-jelol"))
    assert status_of(app, tenant, ref) == "kesz"
    # Kész is final: no actions, no comments, and the page says to raise a new request.
    page = client.get(portal_url("flexinform", f"/requests/{ref}")).get_data(as_text=True)
    assert 'id="comment-form"' not in page and "/transitions/" not in page and ref in page
    client.post(portal_url("flexinform", f"/requests/{ref}/comments"), data={"body": "Újra"})
    assert status_of(app, tenant, ref) == "kesz"
    with app.app_context(), tenant_scope(tenant.id):
        kinds = db.session.scalars(select(TicketEvent.kind).order_by(TicketEvent.id)).all()
    assert kinds.count("status_changed") == 6 and kinds[0] == "created"


def test_crmservice_comment_with_change_status_to(app, client, request_at, login):
    from app.workflow.services import available_transitions

    tenant, ref = request_at(
        "crmservice", values={"category": "support", "severity": "severity_10", "priority": "medium"}
    )
    as_(client, login, "crmservice", "agent")
    act(client, "crmservice", ref, step(app, tenant, ref, "ask_customer"), "Missä raportissa virhe näkyy?")
    as_(client, login, "crmservice", "customer")
    page = client.get(portal_url("crmservice", f"/requests/{ref}")).get_data(as_text=True)
    assert 'name="transition"' in page
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        waiting = next(t for t in available_transitions(ticket, "customer") if t.to_status.key == "waiting_crm")
        waiting_id = waiting.id
    response = client.post(
        portal_url("crmservice", f"/requests/{ref}/comments"),
        data={"body": "Odotamme vastausta", "transition": str(waiting_id)},
    )
    assert response.status_code == 302
    assert status_of(app, tenant, ref) == "waiting_crm"
    page = client.get(portal_url("crmservice", f"/requests/{ref}")).get_data(as_text=True)
    assert "Odotamme vastausta" in page


def test_targito_approval_reject_needs_a_comment_then_approve(app, client, request_at, login):
    tenant, ref = request_at("targito", type_key="support")
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    act(client, "targito", ref, step(app, tenant, ref, "resolve"))
    assert status_of(app, tenant, ref) == "waiting_for_approval"
    as_(client, login, "targito", "customer")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    assert "V řešení" in page  # customers see the customer-facing name
    act(client, "targito", ref, step(app, tenant, ref, "reject"))
    assert status_of(app, tenant, ref) == "waiting_for_approval"
    act(client, "targito", ref, step(app, tenant, ref, "reject"), "Export pořád padá.")
    assert status_of(app, tenant, ref) == "waiting_for_support"
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "reopen"))
    assert status_of(app, tenant, ref) == "re_open"
    act(client, "targito", ref, step(app, tenant, ref, "resolve"))
    as_(client, login, "targito", "customer")
    act(client, "targito", ref, step(app, tenant, ref, "approve"))
    assert status_of(app, tenant, ref) == "done"
    assert "Hotovo" in client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)


def test_exea_customer_closes_and_reopens(app, client, request_at, login):
    tenant, ref = request_at("exea")
    as_(client, login, "exea", "agent")
    act(client, "exea", ref, step(app, tenant, ref, "resolve"))
    as_(client, login, "exea", "customer")
    act(client, "exea", ref, step(app, tenant, ref, "reopen"))
    assert status_of(app, tenant, ref) == "received"
    act(client, "exea", ref, step(app, tenant, ref, "close"))
    assert status_of(app, tenant, ref) == "closed"


def test_a_customer_cannot_take_an_agents_step(app, client, request_at, login):
    tenant, ref = request_at("exea")
    login("exea", "customer@example.com")
    act(client, "exea", ref, step(app, tenant, ref, "resolve"))
    assert status_of(app, tenant, ref) == "received"


def test_internal_notes_are_never_shown_to_customers(app, client, request_at, login):
    tenant, ref = request_at("festum")
    login("festum", "agent@example.com")
    client.post(
        portal_url("festum", f"/requests/{ref}/comments"),
        data={"body": "Sisäinen: asiakas on hankala", "internal": "1"},
    )
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Hei, katsomme asiaa."})
    as_(client, login, "festum", "customer")
    page = client.get(portal_url("festum", f"/requests/{ref}")).get_data(as_text=True)
    assert "Hei, katsomme asiaa." in page and "asiakas on hankala" not in page
    # A customer cannot make a note internal.
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Kiitos", "internal": "1"})
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(Comment.is_internal).where(Comment.body == "Kiitos")).one() is False


def test_conversation_order_and_files_on_comments(app, client, request_at, login):
    import io

    tenant, ref = request_at("festum")
    login("festum", "customer@example.com")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Ensimmäinen"})
    client.post(
        portal_url("festum", f"/requests/{ref}/comments"),
        data={"body": "Toinen", "files": [(io.BytesIO(b"kuva"), "kuvakaappaus.png")]},
        content_type="multipart/form-data",
    )
    newest = client.get(portal_url("festum", f"/requests/{ref}")).get_data(as_text=True)
    oldest = client.get(portal_url("festum", f"/requests/{ref}?order=oldest")).get_data(as_text=True)
    assert newest.index("Toinen") < newest.index("Ensimmäinen")
    assert oldest.index("Ensimmäinen") < oldest.index("Toinen")
    assert "kuvakaappaus.png" in newest
    empty = client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "  "})
    assert empty.status_code == 302
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(Comment)).all().__len__() == 2


def test_watch_and_unwatch_and_followers_cannot_change_the_status(app, client, request_at, login, make_user):
    tenant, ref = request_at("exea")
    helper_id = make_user(tenant, "kolega@example.com")
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        db.session.add(Participant(ticket_id=ticket.id, user_id=helper_id))
        db.session.commit()
        ticket_id = ticket.id
    login("exea", "kolega@example.com")
    page = client.get(portal_url("exea", f"/requests/{ref}")).get_data(as_text=True)
    assert 'id="comment-form"' in page and "/transitions/" not in page
    assert act(client, "exea", ref, step(app, tenant, ref, "close")).status_code == 404
    client.post(portal_url("exea", f"/requests/{ref}/watch"), data={"watch": "1"})
    with app.app_context(), tenant_scope(tenant.id):
        assert helper_id in db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket_id)).all()
    client.post(portal_url("exea", f"/requests/{ref}/watch"), data={"watch": "0"})
    with app.app_context(), tenant_scope(tenant.id):
        assert helper_id not in db.session.scalars(select(Watcher.user_id).where(Watcher.ticket_id == ticket_id)).all()


def test_festum_a_message_on_a_done_request_reopens_it(app, client, request_at, login):
    tenant, ref = request_at("festum")
    as_(client, login, "festum", "agent")
    act(client, "festum", ref, step(app, tenant, ref, "kasittelyyn"))
    act(client, "festum", ref, step(app, tenant, ref, "valmiiksi"))
    assert status_of(app, tenant, ref) == "valmis"
    as_(client, login, "festum", "customer")
    client.post(portal_url("festum", f"/requests/{ref}/comments"), data={"body": "Ongelma palasi."})
    assert status_of(app, tenant, ref) == "kasittelyssa"
    with app.app_context(), tenant_scope(tenant.id):
        reopened = db.session.scalars(
            select(TicketEvent).where(TicketEvent.kind == "status_changed").order_by(TicketEvent.id.desc())
        ).first()
        assert reopened.actor_id is None and reopened.data["rule"]  # done by the tenant's rule, as "System"
