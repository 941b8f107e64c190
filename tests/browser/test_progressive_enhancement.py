"""Where JavaScript helps, in the tenant's language: attachments dropped on a drop zone, listed with
their size and taken out again before sending (app/static/js/file_drop.js); request lists and queues
filtered as the filters change, without leaving the page, under a URL that can be shared, reloaded
and gone back to (app/static/js/live_filters.js). Without JavaScript the same pages are plain forms
(test_without_javascript.py)."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import assert_no_horizontal_scroll
from tests.conftest import translated

pytestmark = pytest.mark.browser


def _plural(app, lang, singular, plural, n):
    from flask_babel import force_locale, ngettext

    with app.test_request_context("/"), force_locale(lang):
        return ngettext(singular, plural, n)


def _script_errors(page) -> list[str]:
    """Errors thrown by the page's scripts from now on (the list fills as they happen)."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _drop(page, input_selector, files):
    """Drag files (name, size in bytes) from the desktop and drop them on the input's drop zone."""
    page.evaluate(
        """([selector, files]) => {
        const transfer = new DataTransfer();
        for (const [name, size] of files) {
            transfer.items.add(new File([new Uint8Array(size).fill(120)], name, {type: "application/octet-stream"}));
        }
        const zone = document.querySelector(selector).closest("[data-file-drop-zone]");
        for (const type of ["dragenter", "dragover", "drop"]) {
            zone.dispatchEvent(new DragEvent(type, {bubbles: true, cancelable: true, dataTransfer: transfer}));
        }
    }""",
        [input_selector, files],
    )


def _chosen(page, input_selector):
    """The names of the files the input itself holds (what the form will send)."""
    return page.evaluate("(s) => Array.from(document.querySelector(s).files, (f) => f.name)", input_selector)


def _zone(page, input_selector):
    return page.locator("[data-file-drop-zone]", has=page.locator(input_selector))


@pytest.fixture
def check(assert_accessible):
    """axe-core finds nothing on the page, the page does not scroll sideways at 360 px, and what
    the enhancements add (drop zones with their file lists, the live count) fits that width."""

    def run(page):
        page.wait_for_load_state()
        assert_accessible(page)
        assert_no_horizontal_scroll(page)
        previous = page.viewport_size
        page.set_viewport_size({"width": 360, "height": 740})
        try:
            wide = page.evaluate("""() => [...document.querySelectorAll(
                    "[data-file-drop-zone], [data-file-drop-zone] *, [data-live-count], form[data-live-filters] *")]
                .filter((el) => el.getClientRects().length && el.getBoundingClientRect().right > 360.5)
                .map((el) => el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""))""")
            assert not wide, f"wider than 360 px: {wide}"
        finally:
            page.set_viewport_size(previous)

    return run


def test_exea_customer_drops_two_files_takes_one_out_and_sends_the_other(portal, check):
    app = portal.live_server.app
    page = portal.page_as("exea", "customer")
    errors = _script_errors(page)
    page.goto(portal.url("exea", "/portals/support/incident/new"))
    assert page.locator("html").get_attribute("lang") == "pl"
    zone = _zone(page, "#field_attachments")
    expect(zone).to_contain_text(translated(app, "pl", "Drop files here or choose them"))
    # The native input stays the labelled, keyboard-reachable control; Enter opens the file chooser.
    assert page.get_by_label("Załączniki").get_attribute("id") == "field_attachments"  # the tenant's label
    page.on("filechooser", lambda chooser: None)  # file choosers are intercepted from now on, not raced
    page.focus("#field_phone")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") == "field_attachments"
    with page.expect_file_chooser() as chooser:
        page.keyboard.press("Enter")
    assert chooser.value.is_multiple()

    _drop(page, "#field_attachments", [("zrzut-ekranu.png", 1536), ("vpn.log", 300)])
    items = zone.locator("[data-file-drop-list] li")
    expect(items).to_have_count(2)
    expect(items.nth(0)).to_contain_text("zrzut-ekranu.png (1,5 kB)")  # Polish decimal comma
    expect(items.nth(1)).to_contain_text("vpn.log (300 B)")
    expect(zone.locator("[role=status]")).to_have_text(
        _plural(app, "pl", "%(num)d file selected", "%(num)d files selected", 2)
    )
    assert _chosen(page, "#field_attachments") == ["zrzut-ekranu.png", "vpn.log"]
    check(page)

    # Taken out again: one is left, in the list and in the input; focus stays in the list.
    page.get_by_role("button", name=translated(app, "pl", "Remove %(name)s", name="vpn.log")).click()
    expect(items).to_have_count(1)
    assert _chosen(page, "#field_attachments") == ["zrzut-ekranu.png"]
    expect(zone.locator("[role=status]")).to_contain_text(
        translated(app, "pl", "%(name)s was taken out of the selection.", name="vpn.log")
    )
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == translated(
        app, "pl", "Remove %(name)s", name="zrzut-ekranu.png"
    )

    # A file over the tenant's limit is refused at once, in Polish; the selection stays as it was.
    _drop(page, "#field_attachments", [("obraz-dysku.img", 20 * 1024 * 1024 + 1)])
    expect(zone.locator("[role=alert]")).to_have_text(
        translated(app, "pl", "%(name)s is too large: at most %(size)d MB per file.", name="obraz-dysku.img", size=20)
    )
    assert page.get_attribute("#field_attachments", "aria-invalid") == "true"
    assert _chosen(page, "#field_attachments") == ["zrzut-ekranu.png"]
    # Drops add up (the input takes several files).
    _drop(page, "#field_attachments", [("konfiguracja.txt", 2048)])
    expect(items).to_have_count(2)
    expect(zone.locator("[role=alert]")).to_have_count(0)
    assert page.get_attribute("#field_attachments", "aria-invalid") is None
    page.get_by_role("button", name=translated(app, "pl", "Remove %(name)s", name="konfiguracja.txt")).click()
    check(page)

    page.fill("#field_summary", "Zrzut ekranu błędu VPN")
    page.fill("#field_description", "Klient VPN zgłasza błąd uwierzytelnienia.")
    page.locator("form:has(#field_attachments) button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/requests/[A-Z]+-\d+$"))
    expect(page.get_by_role("link", name="zrzut-ekranu.png")).to_be_visible()
    expect(page.locator("main")).to_contain_text("zrzut-ekranu.png (1,5 kB)")  # as the page listed it
    assert "vpn.log" not in page.locator("main").inner_text()

    # The comment form's input has its own zone; the dropped file arrives with the comment.
    comment_zone = _zone(page, "#comment-files")
    _drop(page, "#comment-files", [("traceroute.txt", 700)])
    expect(comment_zone.locator("[data-file-drop-list] li")).to_have_count(1)
    check(page)
    page.fill("#comment-body", "Wynik traceroute w załączniku.")
    page.locator("#comment-form button[type=submit]").click()
    expect(page.locator("main")).to_contain_text("Wynik traceroute w załączniku.")
    expect(page.get_by_role("link", name="traceroute.txt")).to_be_visible()
    assert not errors


def _rows(page):
    return page.locator("[data-live-results] table tbody tr")


def _references(page) -> list[str]:
    return page.locator("[data-live-results] table tbody tr td a[href*='/requests/']").all_inner_texts()


def _query(page) -> dict:
    return parse_qs(urlsplit(page.url).query)


def test_targito_customer_filters_the_request_list_without_leaving_the_page(portal, check):
    app = portal.live_server.app
    page = portal.page_as("targito", "customer")
    errors = _script_errors(page)
    page.goto(portal.url("targito", "/requests"))
    assert page.locator("html").get_attribute("lang") == "cs"
    page.evaluate("window.stillTheSamePage = true")
    count = page.locator("[data-live-count]")

    page.select_option("#filter-status", "all")
    expect(page).to_have_url(re.compile(r"[?&]status=all(&|$)"))
    page.fill("#filter-q", "košíku")  # typed: the list follows after a pause
    expect(page).to_have_url(re.compile(r"[?&]q=ko%C5%A1%C3%ADku(&|$)"))
    expect(_rows(page)).to_have_count(1)
    expect(_rows(page).first).to_contain_text("Automatizace opuštěného košíku od pondělí neodesílá e-maily")
    expect(count).to_have_text(_plural(app, "cs", "%(num)d request", "%(num)d requests", 1))
    assert page.evaluate("window.stillTheSamePage") is True  # no page load happened
    assert page.evaluate("document.activeElement.id") == "filter-q"  # focus stayed where the customer types
    check(page)

    # The URL is the list's: reloaded, it shows the same; the language switcher comes back to it.
    filtered = page.url
    if page.locator("#language-select").count():
        assert (
            page.locator("input[name=next]").first.get_attribute("value")
            == filtered.split(str(portal.live_server.port), 1)[1]
        )
    page.reload()
    expect(_rows(page)).to_have_count(1)
    assert page.input_value("#filter-q") == "košíku" and page.input_value("#filter-status") == "all"
    assert page.evaluate("window.stillTheSamePage") is None

    # Sorting (a plain link in the results) keeps the filters.
    page.evaluate("window.stillTheSamePage = true")
    page.locator("[data-live-results] thead a").first.click()
    expect(page).to_have_url(re.compile(r"[?&]sort="))
    assert _query(page)["q"] == ["košíku"]
    expect(_rows(page)).to_have_count(1)

    # Back and forward again: the filtered list, as it was left.
    page.goto(portal.url("targito", "/requests"))
    page.select_option("#filter-status", "all")
    expect(page).to_have_url(re.compile(r"[?&]status=all(&|$)"))
    all_rows = _rows(page).count()
    page.goto(portal.url("targito", "/"))
    page.go_back()
    expect(page).to_have_url(re.compile(r"/requests\?.*status=all"))
    expect(_rows(page)).to_have_count(all_rows)
    page.go_back()
    page.go_forward()
    assert page.input_value("#filter-status") == "all"
    expect(_rows(page)).to_have_count(all_rows)
    assert not errors


def test_exea_agent_filters_a_queue_without_leaving_the_page(portal, check):
    app = portal.live_server.app
    page = portal.page_as("exea", "agent")
    errors = _script_errors(page)
    page.goto(portal.url("exea", "/agent/queues/open"))
    page.evaluate("window.stillTheSamePage = true")
    everything = _rows(page).count()

    # Two quick changes: the newer one wins (the older answer is not waited for).
    page.select_option("#filter-status", "closed")
    page.select_option("#filter-status", "all")
    page.locator("#filter-q").press_sequentially("r12", delay=30)
    expect(page).to_have_url(re.compile(r"/agent/queues/open\?.*q=r12"))
    assert _query(page)["status"] == ["all"]
    rows = _rows(page)
    expect(rows).not_to_have_count(everything)
    found = rows.count()
    references = _references(page)
    assert found >= 1 and any("R12" in rows.nth(i).inner_text() for i in range(found))
    expect(page.locator("[data-live-count]")).to_have_text(
        _plural(app, "pl", "%(num)d request", "%(num)d requests", found)
    )
    assert page.evaluate("window.stillTheSamePage") is True
    # The bulk actions come back to the filtered queue.
    path = page.url.split(str(portal.live_server.port), 1)[1]
    assert page.locator("#bulk-form input[name=next]").get_attribute("value") == path
    check(page)

    # Pressing Enter (or "Apply filters") updates in place too.
    page.fill("#filter-q", "")
    page.press("#filter-q", "Enter")
    expect(rows).to_have_count(everything)
    assert page.evaluate("window.stillTheSamePage") is True

    # The address as it was shared: the same requests, loaded as a page.
    page.goto(portal.url("exea", path))
    expect(rows).to_have_count(found)
    assert _references(page) == references
    assert not errors
