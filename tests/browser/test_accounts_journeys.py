"""Getting in, in a real browser: Flexinform's registration, Targito's invitation, the profile."""

import re

import pytest
from sqlalchemy import select

from app.extensions import db
from app.outbox.models import OutboxMessage
from app.tenancy.scoping import all_tenants

pytestmark = pytest.mark.browser


def _last_link(live_server, recipient):
    with live_server.app.app_context(), all_tenants():
        message = db.session.scalars(
            select(OutboxMessage).where(OutboxMessage.recipient == recipient).order_by(OutboxMessage.id.desc())
        ).first()
        return re.search(r"https?://\S+", message.body_text).group(0)


def test_flexinform_registration_verification_and_profile(page, live_server):
    page.goto(live_server.url("flexinform", "/register"))
    assert page.locator("html").get_attribute("lang") == "hu"
    page.fill("#name", "Kiss Anna")
    page.fill("#email", "anna.browser@example.com")
    page.fill("#password", "rovid")
    page.fill("#confirm", "rovid")
    page.click("form button.btn-primary")
    # The error is shown next to the field, and what was typed is kept.
    assert page.locator("#password-error").is_visible()
    assert page.locator("#name").input_value() == "Kiss Anna"
    page.fill("#password", "hosszu-jelszo-1")
    page.fill("#confirm", "hosszu-jelszo-1")
    page.click("form button.btn-primary")
    assert "anna.browser@example.com" in page.content()
    link = _last_link(live_server, "anna.browser@example.com")
    assert link.startswith(live_server.url("flexinform", "/verify/"))
    page.goto(link)
    assert page.locator(".alert-success").is_visible()
    page.fill("#email", "anna.browser@example.com")
    page.fill("#password", "hosszu-jelszo-1")
    page.click("form button.btn-primary")
    page.goto(live_server.url("flexinform", "/profile"))
    page.fill("#name", "Kiss Anna Mária")
    page.select_option("#locale", "en")
    page.select_option("#timezone", "Europe/Budapest")
    page.click("form[action='/profile'] button.btn-primary")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("#name").input_value() == "Kiss Anna Mária"


def test_targito_invitation_sets_a_password_and_logs_in(page, live_server):
    from flask import g

    from app.accounts.registration import invite
    from app.tenancy.resolution import get_tenant_context
    from app.tenancy.scoping import tenant_scope
    from app.unit_of_work import unit

    app = live_server.app
    with app.test_request_context(live_server.url("targito")):
        g.tenant = get_tenant_context("targito")
        with unit(), tenant_scope(g.tenant.id):  # the boundary a view would be
            invite("petr.browser@example.cz", name="Petr Svoboda")
    page.goto(_last_link(live_server, "petr.browser@example.cz"))
    assert page.locator("html").get_attribute("lang") == "cs"
    assert page.locator("#name").input_value() == "Petr Svoboda"
    page.fill("#password", "dlouhe-heslo-123")
    page.fill("#confirm", "dlouhe-heslo-123")
    page.click("form button.btn-primary")
    assert page.get_by_text("Petr Svoboda").first.is_visible()
