"""Each vendor's portal opens in a real browser, in the vendor's language, and the switcher works."""

import pytest

pytestmark = pytest.mark.browser

HOMES = {
    "flexinform": ("hu", "Hiba"),
    "crmservice": ("fi", None),
    "festum": ("fi", None),
    "targito": ("cs", "Něco mi nefunguje"),
    "exea": ("pl", "Zgłoś awarię"),
}


@pytest.mark.parametrize("slug", list(HOMES))
def test_tenant_home_opens_in_its_language(page, live_server, slug):
    lang, request_type = HOMES[slug]
    response = page.goto(live_server.url(slug))
    assert response.status == 200
    assert page.locator("html").get_attribute("lang") == lang
    assert page.locator(".brand").inner_text().strip()
    assert page.locator(".request-type").count() >= 1
    if request_type:
        assert page.get_by_text(request_type, exact=True).first.is_visible()


def test_switching_language_in_the_browser(page, live_server):
    page.goto(live_server.url("flexinform"))
    assert page.locator("html").get_attribute("lang") == "hu"
    page.locator("#language-select").select_option("en")
    page.locator(".language-switcher button[type=submit]").click()
    page.wait_for_load_state()
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.get_by_text("Bug", exact=True).first.is_visible()


def test_keyboard_user_can_skip_to_the_content(page, live_server):
    page.goto(live_server.url("exea"))
    page.keyboard.press("Tab")
    skip = page.locator(".skip-link")
    assert skip.evaluate("el => el === document.activeElement")
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"


def test_unknown_vendor_is_a_404_page(page, live_server):
    response = page.goto(live_server.url("nosuchvendor"))
    assert response.status == 404


def test_screenshot_of_a_portal(page, live_server, tmp_path):
    page.set_viewport_size({"width": 360, "height": 740})
    page.goto(live_server.url("targito"))
    # Works at phone width: nothing overflows horizontally.
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    page.screenshot(path=str(tmp_path / "targito-360.png"), full_page=True)
