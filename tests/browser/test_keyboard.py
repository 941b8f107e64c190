"""Keyboard-only use of Flexinform's TAO "Hiba" form: the skip link, a visible focus on everything
Tab reaches, errors announced (role=alert) and linked to their fields; and the axe check itself."""

import pytest

pytestmark = pytest.mark.browser

FOCUS_VISIBLE = """() => {
  const el = document.activeElement, style = getComputedStyle(el);
  const outline = style.outlineStyle !== 'none' && parseFloat(style.outlineWidth) >= 2;
  const shadow = style.boxShadow && style.boxShadow !== 'none';
  return {id: el.id, tag: el.tagName.toLowerCase(), text: (el.innerText || el.value || '').slice(0, 40),
          visible: Boolean(outline || shadow)};
}"""


def _tab_to(page, selector: str, limit: int = 60) -> list[dict]:
    """Press Tab until the element matching ``selector`` has the focus; what got focus on the way."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        seen.append(page.evaluate(FOCUS_VISIBLE))
        if page.evaluate("(s) => document.activeElement.matches(s)", selector):
            return seen
    raise AssertionError(f"Tab never reached {selector}: {seen}")


def test_keyboard_only_request_form(portal, check):
    page = portal.page_as("flexinform", "customer")
    page.goto(portal.url("flexinform", "/portals/tao/hiba/new"))

    # The first Tab shows the skip link; Enter moves the focus to the main content.
    page.keyboard.press("Tab")
    focused = page.evaluate(FOCUS_VISIBLE)
    assert page.evaluate("document.activeElement.classList.contains('skip-link')")
    assert focused["visible"], focused
    assert page.locator(".skip-link").bounding_box()["x"] >= 0  # on screen while focused
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
    assert page.evaluate("document.activeElement.id") == "main"

    # Everything Tab reaches on the way to the form shows where the focus is.
    seen = _tab_to(page, "#field_sportszervezet")
    hidden = [item for item in seen if not item["visible"]]
    assert not hidden, f"no visible focus on {hidden}"

    # Enter in a field sends the form: the errors are announced and lead to their fields.
    page.keyboard.type("Debreceni Vasutas SC")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    alert = page.locator("[role=alert]")
    assert alert.is_visible()
    field = page.locator("#field_ugyiratszam")
    assert field.get_attribute("aria-invalid") == "true"
    error_id = field.get_attribute("aria-describedby").split()[-1]
    assert page.locator(f"#{error_id}").inner_text().strip()
    assert page.locator("#field_sportszervezet").input_value() == "Debreceni Vasutas SC"
    assert page.locator("#field_sportszervezet").get_attribute("aria-invalid") is None
    check(page)
    _tab_to(page, "#form-errors a[href='#field_ugyiratszam']")
    assert page.evaluate(FOCUS_VISIBLE)["visible"]
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "field_ugyiratszam"
    assert page.evaluate(FOCUS_VISIBLE)["visible"]


def test_assert_accessible_reports_what_it_finds(page, assert_accessible, axe_source):
    if axe_source is None:
        pytest.skip("axe-core is not installed (see scripts/ensure-axe)")
    page.set_content(
        "<html><head><title>t</title></head><body><main><img src='x.png'><a href='/x'></a></main></body></html>"
    )
    with pytest.raises(AssertionError) as failure:
        assert_accessible(page)
    message = str(failure.value)
    assert "image-alt (critical)" in message and "link-name (serious)" in message
    assert "img" in message  # the target selector
