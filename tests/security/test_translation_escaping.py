"""Tenant UI-text overrides (and catalog texts) are text, never markup: a tenant admin's wording
with HTML in it is shown escaped on pages and in HTML e-mails (defect 4)."""

from __future__ import annotations

from tests.conftest import portal_url

ADMIN = "admin@targito.test"
CUSTOMER = "zakaznik@firma.cz"
SCRIPT = "<script>alert(1)</script>"
IMAGE = "<img src=x onerror=alert(1)>"


def _override(client, msgid: str, text: str, language: str = "cs") -> None:
    """Set a UI-text override through the console's texts page (the service tenant admins use)."""
    response = client.post(
        portal_url("targito", "/admin/config/strings"), data={"language": language, "msgid": msgid, "text": text}
    )
    assert response.status_code == 302, response.get_data(as_text=True)


def _assert_escaped(html: str) -> None:
    assert SCRIPT not in html and IMAGE not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html


def test_an_override_with_markup_is_shown_as_text_on_pages(app, client, make_tenant, make_user, login):
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin")
    login("targito", ADMIN)
    _override(client, "Skip to main content", f"Skip {SCRIPT} {IMAGE}")
    client.post(portal_url("targito", "/logout"))

    page = client.get(portal_url("targito", "/login")).get_data(as_text=True)
    _assert_escaped(page)


def test_an_override_with_markup_is_shown_as_text_in_html_emails(app, client, make_tenant, make_user, login, outbox):
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin")
    make_user(targito, CUSTOMER)
    login("targito", ADMIN)
    _override(
        client,
        "Someone, probably you, asked to set a new password for your account. Open this link to do so:",
        f"Reset {SCRIPT} {IMAGE}",
    )
    client.post(portal_url("targito", "/logout"))

    client.post(portal_url("targito", "/password/forgot"), data={"email": CUSTOMER})
    ((recipient, _subject, text, html, kind),) = [m for m in outbox() if m[4] == "password_reset"]
    assert recipient == CUSTOMER
    _assert_escaped(html)
    assert f"Reset {SCRIPT} {IMAGE}" in text  # the plain-text part is text: shown as written


def test_an_override_with_a_percent_sign_reads_as_typed_in_pages_and_in_python_messages(
    app, client, make_tenant, make_user, login
):
    """Admins write text, not format strings: "100 %" in an override must neither break a page (Jinja
    always %-formats) nor show doubled in a message worded by Python (a flash)."""
    targito = make_tenant("targito")
    make_user(targito, ADMIN, role="admin")
    login("targito", ADMIN)
    _override(client, "Skip to main content", "Přeskočit na obsah (100% rychleji)")
    _override(client, "Your profile is saved.", "Profil uložen na 100%.")
    page = client.get(portal_url("targito", "/profile")).get_data(as_text=True)
    assert "Přeskočit na obsah (100% rychleji)" in page
    client.post(portal_url("targito", "/profile"), data={"name": "Admin", "locale": "cs", "timezone": "Europe/Prague"})
    page = client.get(portal_url("targito", "/profile")).get_data(as_text=True)
    assert "Profil uložen na 100%." in page and "100%%" not in page
