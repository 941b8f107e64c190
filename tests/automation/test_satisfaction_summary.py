"""Tenant admins see how customers rated their requests."""

from sqlalchemy import select

from app.accounts.models import User
from app.automation.services import rate_ticket
from app.extensions import db
from app.tenancy.scoping import tenant_scope
from app.tickets.models import Ticket
from tests.conftest import portal_url


def test_admins_see_count_average_distribution_and_recent_comments(app, client, make_request, make_user, login):
    tenant, first = make_request("exea", status="resolved", summary="VPN nie działa")
    _tenant, second = make_request("exea", status="resolved", summary="Faktura")
    make_user(tenant, "admin@example.com", role="admin", name="Admin")
    with app.app_context(), tenant_scope(tenant.id):
        customer = db.session.execute(select(User).where(User.email == "customer@example.com")).scalar_one()
        for reference, score, comment in ((first, 5, "Szybko i konkretnie"), (second, 2, "")):
            rate_ticket(
                db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one(),
                customer,
                score,
                comment,
            )
        db.session.commit()  # the boundary's commit: services only flush
    agent = app.test_client()
    agent.post(portal_url("exea", "/login"), data={"email": "agent@example.com", "password": "correct-horse-battery"})
    assert agent.get(portal_url("exea", "/admin/satisfaction")).status_code == 403
    login("exea", "admin@example.com")
    page = client.get(portal_url("exea", "/admin/users")).get_data(as_text=True)
    assert "/admin/satisfaction" in page
    page = client.get(portal_url("exea", "/admin/satisfaction")).get_data(as_text=True)
    assert "3,5" in page  # the average of 5 and 2, in Polish
    assert "Szybko i konkretnie" in page and f'/requests/{first}"' in page and f'/requests/{second}"' in page
    assert '<meter min="0" max="2" value="1">' in page
