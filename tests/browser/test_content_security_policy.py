"""The Content-Security-Policy as Chromium enforces it: the pages keep their brand and status
colours (nonce'd <style> blocks) and their scripts, and nothing on them is blocked; anything
inline that slipped in would be (defect 14). Every page `check(page)` looks at is also checked
for violations (tests/browser/conftest.py)."""

import pytest

from tests.browser.conftest import csp_violations

pytestmark = pytest.mark.browser


def test_pages_keep_their_colours_under_the_policy_and_inline_styles_are_blocked(portal, check):
    page = portal.page_as("flexinform", "agent")
    page.goto(portal.url("flexinform", "/requests?scope=all"))
    check(page, narrow=False)
    brand = page.evaluate("getComputedStyle(document.documentElement).getPropertyValue('--brand').trim()")
    assert brand.lower() == "#1d4e89"  # the tenant's colour, from the nonce'd <style>
    colours = page.evaluate("""Array.from(document.querySelectorAll('.status'),
        (el) => getComputedStyle(el).getPropertyValue('--status-color').trim())""")
    assert colours and all(c.startswith("#") for c in colours)  # each status in its own colour

    page.evaluate("""document.querySelector('main').insertAdjacentHTML('beforeend',
        '<p style="color: red">injected</p>')""")
    page.wait_for_function("window.__cspViolations.length > 0")
    assert any(v.startswith("style-src") for v in csp_violations(page))
    colour = page.evaluate("getComputedStyle(document.querySelector('main p:last-child')).color")
    assert colour != "rgb(255, 0, 0)"  # the inline style was not applied
