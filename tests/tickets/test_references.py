"""Request references: tenant-prefixed, sequential per tenant, with neither gaps nor duplicates."""

import threading

import pytest
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.users import create_user
from app.catalog.models import RequestType
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket, TicketEvent
from app.tickets.services import create_ticket

# Reference numbers come from a counter row updated under each engine's locking.
pytestmark = pytest.mark.both_databases


@pytest.fixture
def customers(app, make_tenant):
    tenants = {slug: make_tenant(slug) for slug in ("targito", "exea")}
    with app.app_context():
        for tenant in tenants.values():
            with tenant_scope(tenant.id):
                create_user(f"customer@{tenant.slug}.test")
                db.session.commit()
    return tenants


def _raise(app, tenant_id, summary):
    with app.app_context(), tenant_scope(tenant_id):
        user = db.session.scalars(select(User)).first()
        request_type = db.session.scalars(select(RequestType).order_by(RequestType.id)).first()
        ticket = create_ticket(request_type=request_type, requester=user, summary=summary)
        db.session.commit()
        return ticket.reference


def test_references_carry_the_tenant_prefix_and_count_per_tenant(app, customers):
    targito, exea = customers["targito"], customers["exea"]
    assert _raise(app, targito.id, "a") == "TAR-1"
    assert _raise(app, targito.id, "b") == "TAR-2"
    assert _raise(app, exea.id, "c") == f"{exea.reference_prefix}-1"
    assert _raise(app, targito.id, "d") == "TAR-3"


def test_a_new_request_starts_in_the_initial_status_with_a_timeline_entry(app, customers):
    _raise(app, customers["targito"].id, "Export kontaktů nefunguje")
    with app.app_context(), tenant_scope(customers["targito"].id):
        ticket = db.session.scalars(select(Ticket)).one()
        assert ticket.status.key == "open" and ticket.status.customer_name["cs"] == "Otevřeno"
        events = db.session.scalars(select(TicketEvent)).all()
        assert [e.kind for e in events] == ["created"] and events[0].actor_id == ticket.requester_id


def test_a_rolled_back_request_gives_its_number_back(app, customers):
    tenant_id = customers["exea"].id
    with app.app_context(), tenant_scope(tenant_id):
        user = db.session.scalars(select(User)).first()
        request_type = db.session.scalars(select(RequestType)).first()
        create_ticket(request_type=request_type, requester=user, summary="abandoned")
        db.session.rollback()
    assert _raise(app, tenant_id, "kept").endswith("-1")


@pytest.mark.real_commits  # two threads, each on a connection of its own
def test_concurrent_requests_get_distinct_gapless_numbers(app, customers):
    tenant_id = customers["targito"].id
    references, errors = [], []

    def worker(n):
        try:
            for i in range(5):
                references.append(_raise(app, tenant_id, f"worker {n} request {i}"))
        except Exception as exc:  # collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    numbers = sorted(int(ref.split("-")[1]) for ref in references)
    assert numbers == list(range(1, 31))
