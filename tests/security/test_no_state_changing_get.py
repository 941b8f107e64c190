"""Opening a link from an e-mail changes nothing: mail scanners and link previews follow links.
Stopping notifications and rating a request happen on a button press (POST); the RFC 8058 one-click
POST of mail clients stays a single request (defect 12)."""

from __future__ import annotations

from flask import g
from sqlalchemy import select

from app.accounts.models import User
from app.automation.models import SatisfactionRating
from app.extensions import db
from app.outbox.links import email_links, rate_link
from app.tenancy.resolution import get_tenant_context
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket, Watcher
from tests.conftest import portal_url, translated
from tests.notifications.test_request_notifications import request_at  # noqa: F401 (fixture)


def _links(app, tenant, ref):
    with app.test_request_context(portal_url(tenant.slug)), tenant_scope(tenant.id):
        g.tenant = get_tenant_context(tenant.slug)
        ticket = db.session.execute(select(Ticket).where(Ticket.reference == ref)).scalar_one()
        customer = db.session.execute(select(User).where(User.email == "customer@example.com")).scalar_one()
        links = email_links(ticket, user_id=customer.id, address=customer.email)
        return links["unsubscribe"], rate_link(links["rate_token"], 4)


def _watching(app, tenant) -> bool:
    with app.app_context(), tenant_scope(tenant.id):
        customer = db.session.execute(select(User).where(User.email == "customer@example.com")).scalar_one()
        return db.session.execute(select(Watcher.id).where(Watcher.user_id == customer.id)).first() is not None


def _ratings(app, tenant) -> list[tuple]:
    with app.app_context(), tenant_scope(tenant.id):
        return [(r.score, r.comment) for r in db.session.scalars(select(SatisfactionRating))]


def test_opening_the_unsubscribe_link_only_asks_and_the_button_stops_notifications(app, client, request_at):
    tenant, ref = request_at("flexinform")
    unsubscribe, _rate = _links(app, tenant, ref)
    assert _watching(app, tenant)

    page = client.get(unsubscribe)
    assert page.status_code == 200
    body = page.get_data(as_text=True)
    assert _watching(app, tenant)  # a mail scanner opening the link changes nothing
    assert 'method="post"' in body and "Nem kérek több értesítést" in body  # Flexinform's wording

    done = client.post(unsubscribe)
    assert done.status_code == 200
    assert translated(app, "hu", "Notifications are off") in done.get_data(as_text=True)
    assert not _watching(app, tenant)


def test_one_click_unsubscribe_of_rfc_8058_is_still_one_request(app, client, request_at):
    tenant, ref = request_at("exea")
    unsubscribe, _rate = _links(app, tenant, ref)
    response = client.post(unsubscribe, data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 204
    assert not _watching(app, tenant)


def test_opening_a_rating_link_preselects_the_score_and_only_the_button_records_it(app, client, request_at):
    tenant, ref = request_at("exea")
    _unsubscribe, four = _links(app, tenant, ref)

    page = client.get(four)
    assert page.status_code == 200
    assert 'value="4" checked' in page.get_data(as_text=True)
    assert _ratings(app, tenant) == []  # no rating from a page open

    response = client.post(four.split("?")[0], data={"score": "4", "comment": "Dobrze"})
    assert translated(app, "pl", "Thank you for your feedback") in response.get_data(as_text=True)
    assert _ratings(app, tenant) == [(4, "Dobrze")]
