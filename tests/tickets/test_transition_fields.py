"""Workflow steps that require fields: Targito's "ask the customer" needs the list of information."""

from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from app.catalog.models import Field
from app.extensions import db
from app.unit_of_work import unit
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Comment, Ticket, TicketEvent, TicketFieldValue
from tests.conftest import portal_url
from tests.tickets.test_conversation import act, as_, request_at, status_of, step  # noqa: F401  (fixture)

INFO = "1. ID kampaně\n2. Screenshot chyby"


def _stored(app, tenant, reference):
    with app.app_context(), tenant_scope(tenant.id):
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one()
        value = db.session.execute(
            select(TicketFieldValue.value)
            .join(Field, TicketFieldValue.field_id == Field.id)
            .where(TicketFieldValue.ticket_id == ticket.id, Field.key == "information_needed")
        ).scalar_one_or_none()
        events = db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id)
        ).all()
        return value, [(e.kind, e.data) for e in events]


def _ask(client, ref, transition_id, info=None, body=""):
    data = {"body": body}
    if info is not None:
        data[f"t{transition_id}-field_information_needed"] = info
    return client.post(portal_url("targito", f"/requests/{ref}/transitions/{transition_id}"), data=data)


def test_targito_ask_the_customer_needs_the_information_needed(app, client, request_at, login):
    tenant, ref = request_at("targito", type_key="support")
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    ask = step(app, tenant, ref, "ask_customer")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    assert f'name="t{ask}-field_information_needed"' in page and "Požadované informace a podklady" in page
    # Without the list the step is refused, naming the field, and nothing changes.
    before = _stored(app, tenant, ref)
    response = _ask(client, ref, ask, "   ")
    assert response.status_code == 302
    assert status_of(app, tenant, ref) == "received" and _stored(app, tenant, ref) == before
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    with app.test_request_context("/"), force_locale("cs"):
        refusal = gettext("Please fill in “%(field)s” for this step.", field="Požadované informace a podklady")
    assert str(escape(refusal)) in page
    # With it: stored as the request's field value, a timeline entry, then the status.
    _ask(client, ref, ask, INFO, body="Děkujeme, potřebujeme ještě doplnit:")
    assert status_of(app, tenant, ref) == "waiting_for_customer"
    value, events = _stored(app, tenant, ref)
    assert value == INFO
    assert ("field_changed", {"field": "information_needed", "old": None, "new": INFO}) in events
    assert [kind for kind, _data in events][-3:] == ["field_changed", "status_changed", "commented"]
    with app.app_context(), tenant_scope(tenant.id):
        assert db.session.scalars(select(Comment.body)).all() == ["Děkujeme, potřebujeme ještě doplnit:"]
    # The customer reads the list on the request page (and has no agent step to take).
    as_(client, login, "targito", "customer")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    assert "Požadované informace a podklady" in page and "ID kampaně" in page and "Screenshot chyby" in page
    assert "field_information_needed" not in page
    _ask(client, ref, ask, "Nic")
    assert status_of(app, tenant, ref) == "waiting_for_customer" and _stored(app, tenant, ref)[0] == INFO


def test_asking_again_prefills_the_current_list_and_keeps_it_when_unchanged(app, client, request_at, login):
    tenant, ref = request_at("targito", type_key="bug", values={"priority": "high"})
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    _ask(client, ref, step(app, tenant, ref, "ask_customer"), INFO)
    act(client, "targito", ref, step(app, tenant, ref, "back_to_support"))
    ask = step(app, tenant, ref, "ask_customer")
    page = client.get(portal_url("targito", f"/requests/{ref}")).get_data(as_text=True)
    assert "1. ID kampaně" in page.split(f'name="t{ask}-field_information_needed"', 1)[1].split("</textarea>", 1)[0]
    _ask(client, ref, ask, INFO)
    assert status_of(app, tenant, ref) == "waiting_for_customer"
    _value, events = _stored(app, tenant, ref)
    assert [kind for kind, _data in events].count("field_changed") == 1  # unchanged: no second entry


def test_the_service_refuses_a_missing_required_field_and_bulk_skips_the_step(app, client, request_at, login):
    import pytest

    from app.accounts.models import User
    from app.tickets.transitions import bulk_update, take_transition
    from app.workflow.services import TransitionError

    tenant, ref = request_at("targito", type_key="support")
    as_(client, login, "targito", "agent")
    act(client, "targito", ref, step(app, tenant, ref, "receive"))
    ask = step(app, tenant, ref, "ask_customer")
    with app.test_request_context(portal_url("targito")), tenant_scope(tenant.id), unit():
        from flask import g

        from app.tenancy.resolution import get_tenant_context

        g.tenant = get_tenant_context("targito")
        agent = db.session.scalars(select(User).where(User.role == "agent")).one()
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        with pytest.raises(TransitionError) as info:
            take_transition(ticket, agent, ask, values={"information_needed": ""})
        assert info.value.field == "information_needed" and "Požadované informace a podklady" in info.value.message
        assert bulk_update([ticket], agent, status_key="waiting_for_customer") == (0, 1)
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        assert ticket.status.key == "received"
        take_transition(ticket, agent, ask, values={"information_needed": INFO})
    assert status_of(app, tenant, ref) == "waiting_for_customer"
    assert _stored(app, tenant, ref)[0] == INFO
