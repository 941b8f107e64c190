"""The core journeys work with JavaScript switched off: conditions are decided on the server, every
action is a plain form. Targito (cs): a customer raises "Něco mi nefunguje" with its priority, the
agent asks for information, the customer answers and sees the request move on."""

import re

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser


def _no_js_page(portal, slug, email):
    """A logged-in page of a browser context with JavaScript disabled (the login itself is a form too)."""
    context = portal.browser.new_context(
        java_script_enabled=False, locale="cs-CZ", viewport={"width": 1280, "height": 800}
    )
    context.set_default_timeout(10_000)
    portal._contexts.append(context)
    page = context.new_page()
    page.goto(portal.url(slug, "/login"))
    page.fill("#email", email)
    page.fill("#password", "demo-password")
    page.click("main form button.btn-primary")
    expect(page.locator("form[action='/logout']")).to_have_count(1)
    return page


def test_targito_request_answer_and_progress_without_javascript(portal):
    # (axe-core needs JavaScript; the same pages are checked by the journeys with it)
    customer = _no_js_page(portal, "targito", "customer@targito.test")
    customer.goto(portal.url("targito", "/portals/support/bug/new"))
    # Without JavaScript every field is on the page; the server decides which ones count.
    customer.fill("#field_summary", "Bez JavaScriptu: export neběží")
    customer.fill("#field_description", "Export kontaktů se zastaví.")
    if customer.locator("#field_priority").count():
        customer.select_option("#field_priority", index=1)
    customer.click("form.request-form button.btn-primary")
    match = re.search(r"/requests/(TAR-\d+)", customer.url)
    assert match, customer.url
    reference = match.group(1)
    assert customer.locator("aside .status").first.inner_text().strip() == "Otevřeno"

    agent = _no_js_page(portal, "targito", "agent@targito.test")
    agent.goto(portal.url("targito", f"/requests/{reference}"))
    agent.locator("form.transition-form", has=agent.locator("button", has_text="Přijmout")).locator("button").click()
    ask = agent.locator("form.transition-form", has=agent.locator("button", has_text="Vyžádat"))
    ask.locator("textarea").first.fill("Pošlete prosím soubor s exportem.")
    ask.locator("button", has_text="Vyžádat").click()

    customer.goto(portal.url("targito", f"/requests/{reference}"))
    assert "Pošlete prosím soubor s exportem." in customer.locator("main").inner_text()
    customer.fill("#comment-body", "Soubor posílám.")
    customer.locator("#comment-form button[type=submit]").click()
    assert "Soubor posílám." in customer.locator("main").inner_text()
    agent.goto(portal.url("targito", f"/requests/{reference}"))
    assert agent.locator("aside .status").first.inner_text().strip() == "Waiting for support"
