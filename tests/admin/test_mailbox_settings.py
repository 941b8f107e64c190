"""The tenant admin sets up the IMAP mailbox of the e-mail channel in the console, testing the
connection against a real IMAP server (Debian's dovecot, started by the fixture) before saving."""

from sqlalchemy import select

from app.extensions import db
from app.mailin.models import Mailbox
from app.mailin.mailboxes import decrypt_password
from app.tenancy.scoping import tenant_scope
from tests.admin.test_console import _setup, url
from tests.conftest import translated
from tests.mailin.test_imap import PASSWORD, USER, dovecot  # noqa: F401  (the IMAP server fixture)


def _form(dovecot, **changes):
    form = {
        "host": "127.0.0.1",
        "port": str(dovecot["port"]),
        "security": "none",
        "username": USER,
        "password": PASSWORD,
        "folder": "INBOX",
        "verify_certificate": "1",
    }
    form.update(changes)
    return form


def _mailboxes(app, tenant):
    with app.app_context(), tenant_scope(tenant.id):
        return [
            (m.host, m.username, decrypt_password(m.password_encrypted)) for m in db.session.scalars(select(Mailbox))
        ]


def test_test_connection_checks_the_login_and_stores_nothing(app, client, make_tenant, make_user, login, dovecot):
    targito = _setup(make_tenant, make_user, login)
    page = client.post(url("/email/mailboxes"), data={**_form(dovecot), "action": "test"})
    assert page.status_code == 200
    assert "INBOX" in page.get_data(as_text=True)
    assert _mailboxes(app, targito) == []
    wrong = client.post(url("/email/mailboxes"), data={**_form(dovecot, password="nope"), "action": "test"})
    assert wrong.status_code == 422
    assert translated(app, "cs", "The server refused the user name or the password.") in wrong.get_data(as_text=True)


def test_a_working_mailbox_is_saved_with_its_password_encrypted_and_can_be_removed(
    app, client, make_tenant, make_user, login, dovecot
):
    targito = _setup(make_tenant, make_user, login)
    response = client.post(url("/email/mailboxes"), data={**_form(dovecot), "action": "save"})
    assert response.status_code == 302
    assert _mailboxes(app, targito) == [("127.0.0.1", USER, PASSWORD)]
    with app.app_context(), tenant_scope(targito.id):
        mailbox = db.session.scalars(select(Mailbox)).one()
        assert PASSWORD not in mailbox.password_encrypted
        mailbox_id = mailbox.id
    assert PASSWORD not in client.get(url("/email")).get_data(as_text=True)
    client.post(url(f"/email/mailboxes/{mailbox_id}/remove"))
    assert _mailboxes(app, targito) == []


def test_an_unreachable_server_is_refused_with_a_reason_and_nothing_changes(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login)
    page = client.post(
        url("/email/mailboxes"),
        data={
            "host": "127.0.0.1",
            "port": "9",
            "security": "none",
            "username": USER,
            "password": "x",
            "action": "save",
        },
    )
    assert page.status_code == 422 and "127.0.0.1:9" in page.get_data(as_text=True)
    assert _mailboxes(app, targito) == []
    no_password = client.post(
        url("/email/mailboxes"), data={"host": "127.0.0.1", "security": "none", "username": USER, "action": "save"}
    )
    assert no_password.status_code == 422
    assert _mailboxes(app, targito) == []


def test_only_tenant_admins_reach_the_mailbox_settings(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login, role="agent")
    assert client.post(url("/email/mailboxes"), data={"host": "x", "action": "test"}).status_code == 404
