"""Requests in a real browser: CRM-service's severity condition, Targito's approval."""

import pytest

pytestmark = pytest.mark.browser


@pytest.fixture
def people(live_server):
    """Demo-like accounts at the live server's tenants (created once per module)."""
    from app.accounts.users import create_user
    from app.extensions import db
    from app.tenancy.models import Tenant
    from app.tenancy.scoping import tenant_scope

    app = live_server.app
    with app.app_context():
        for slug in ("crmservice", "targito"):
            tenant = db.session.execute(db.select(Tenant).where(Tenant.slug == slug)).scalar_one()
            with tenant_scope(tenant.id):
                from app.accounts.models import User

                for local, role in (("browser-customer", "customer"), ("browser-agent", "agent")):
                    email = f"{local}@{slug}.example"
                    if db.session.execute(db.select(User).where(User.email == email)).scalar_one_or_none() is None:
                        create_user(email, role=role, password="browser-password-1", verified=True, name=local)
                db.session.commit()
    return "browser-password-1"


def _login(page, live_server, slug, local, password):
    page.goto(live_server.url(slug, "/login"))
    page.fill("#email", f"{local}@{slug}.example")
    page.fill("#password", password)
    page.click("form button.btn-primary")


def test_crmservice_severity_appears_only_for_bugs(page, live_server, people):
    _login(page, live_server, "crmservice", "browser-customer", people)
    page.goto(live_server.url("crmservice", "/portals/support/ticket/new"))
    assert not page.locator("#field_severity").is_visible()
    page.select_option("#field_category", "bug")
    assert page.locator("#field_severity").is_visible()
    page.fill("#field_summary", "Raportti kaatuu")
    page.fill("#field_description", "**Virhe** raportissa")
    page.select_option("#field_severity", "severity_2")
    page.select_option("#field_priority", "high")
    page.click("form.request-form button.btn-primary")
    assert "/requests/CRM-" in page.url
    assert page.locator(".user-text strong").first.inner_text() == "Virhe"
    assert page.get_by_text("Severity 2 – High").is_visible()


def test_targito_agent_resolves_and_customer_approves(page, live_server, people):
    _login(page, live_server, "targito", "browser-customer", people)
    page.goto(live_server.url("targito", "/portals/support/bug/new"))
    page.fill("#field_summary", "Export kontaktů padá")
    page.fill("#field_description", "Chyba 500 při exportu")
    page.select_option("#field_priority", "high")
    page.click("form.request-form button.btn-primary")
    reference = page.url.rsplit("/", 1)[-1]
    assert page.locator(".status").first.inner_text() == "Otevřeno"
    page.click("form[action='/logout'] button")
    _login(page, live_server, "targito", "browser-agent", people)
    page.goto(live_server.url("targito", f"/requests/{reference}"))
    page.get_by_role("button", name="Přijmout požadavek").click()
    page.get_by_role("button", name="Vyřízeno – předat ke schválení").click()
    assert page.locator(".status").first.inner_text() == "Čeká na potvrzení"  # agents see the internal name
    page.click("form[action='/logout'] button")
    _login(page, live_server, "targito", "browser-customer", people)
    page.goto(live_server.url("targito", f"/requests/{reference}"))
    assert page.locator(".status").first.inner_text() == "V řešení"
    page.get_by_role("button", name="Schválit").click()
    assert page.locator(".status").first.inner_text() == "Hotovo"
