"""SSRF (ASVS 12.6.1, 5.2.6): a tenant admin's IMAP mailbox may not make the portal connect to loopback,
private, link-local or metadata addresses, nor to ports other than IMAP's, unless the operator allows
it; a refusal happens before any connection, and no page ever shows what a remote server said."""

import socket
import threading

import pytest
from flask_babel import force_locale, gettext
from markupsafe import escape
from sqlalchemy import select

from app.extensions import db
from app.mailin.models import Mailbox
from app.tenancy.scoping import tenant_scope
from tests.admin.test_console import _setup, url

BANNER = "ACME-INTERNAL-REDIS-7.2 secret build host db01.corp"


def _czech(app, msgid, **variables):
    with app.test_request_context("/"), force_locale("cs"):
        return str(escape(gettext(msgid, **variables)))


@pytest.fixture
def no_connections(monkeypatch):
    """Records any attempt to open an IMAP connection (the refusal must come before one)."""
    import imaplib

    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise AssertionError("a connection was attempted")

    try:
        from app.security import net
    except ImportError:  # (the code before the check existed)
        net = None
    if net is not None:
        monkeypatch.setattr(net, "connect_imap", refuse)
    monkeypatch.setattr(imaplib.IMAP4, "open", refuse)
    return attempts


def _test_connection(client, host, port, security="none"):
    return client.post(
        url("/email/mailboxes"),
        data={
            "host": host,
            "port": str(port),
            "security": security,
            "username": "support@firma.cz",
            "password": "secret",
            "folder": "INBOX",
            "action": "test",
        },
    )


@pytest.mark.parametrize(
    "host,port",
    [
        ("127.0.0.1", 143),
        ("10.0.0.1", 993),
        ("169.254.169.254", 143),
        ("[::1]", 993),
        ("::1", 143),
        ("localhost", 993),
        ("::ffff:127.0.0.1", 143),
        ("::ffff:10.0.0.1", 993),
        ("0.0.0.0", 143),
        ("192.168.1.10", 993),
        ("100.64.0.1", 143),
        ("224.0.0.1", 143),
        ("8.8.8.8", 22),
        ("8.8.8.8", 6379),
    ],
)
def test_private_and_local_addresses_and_other_ports_are_refused_without_connecting(
    app, client, make_tenant, make_user, login, no_connections, host, port
):
    _setup(make_tenant, make_user, login)
    app.config["MAILBOX_ALLOWED_HOSTS"] = []
    page = _test_connection(client, host, port)
    assert no_connections == []
    assert page.status_code == 422
    assert _czech(
        app,
        "This address is not allowed for a mailbox: it is a private or local address, or the "
        "port is not an IMAP port (143 or 993).",
    ) in page.get_data(as_text=True)


def test_a_saved_mailbox_pointing_inside_is_refused_by_the_poller_too(app, make_tenant, no_connections):
    from app.mailin.jobs import poll_mailbox
    from app.mailin.mailboxes import set_mailbox

    tenant = make_tenant("targito")
    app.config["MAILBOX_ALLOWED_HOSTS"] = []
    with app.app_context(), tenant_scope(tenant.id):
        mailbox_id = set_mailbox(host="169.254.169.254", port=80, security="none", username="x", password="y").id
        result = poll_mailbox(mailbox_id)
        assert result["error"] == "address_not_allowed"
        mailbox = db.session.get(Mailbox, mailbox_id)
        assert mailbox.failing and mailbox.last_error == "address_not_allowed"
    assert no_connections == []


class FakeServer:
    """A TCP server on 127.0.0.1 that greets with ``greeting``; CAPABILITY is answered as IMAP, any
    other command with ``reply``."""

    def __init__(self, greeting: bytes, reply: bytes = b""):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(5)
        self.port = self.sock.getsockname()[1]
        self.greeting, self.reply = greeting, reply
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            with conn:
                conn.sendall(self.greeting)
                conn.settimeout(5)
                try:
                    while True:
                        line = conn.recv(4096)
                        if not line:
                            break
                        tag, _, command = line.partition(b" ")
                        if command.upper().startswith(b"CAPABILITY"):
                            conn.sendall(b"* CAPABILITY IMAP4rev1 AUTH=PLAIN\r\n" + tag + b" OK done\r\n")
                        else:
                            conn.sendall(self.reply.replace(b"TAG", tag))
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def test_a_server_that_is_not_imap_has_its_banner_never_shown(app, client, make_tenant, make_user, login):
    _setup(make_tenant, make_user, login)
    server = FakeServer(f"SSH-2.0-OpenSSH_9.6 {BANNER}\r\n".encode())
    try:
        page = _test_connection(client, "127.0.0.1", server.port)
    finally:
        server.close()
    text = page.get_data(as_text=True)
    assert page.status_code == 422
    assert BANNER not in text and "OpenSSH" not in text
    assert f"127.0.0.1:{server.port}" in text  # what the admin typed is fine to show


def test_an_imap_server_refusing_the_login_has_its_words_never_shown(app, client, make_tenant, make_user, login):
    targito = _setup(make_tenant, make_user, login)
    server = FakeServer(
        f"* OK [CAPABILITY IMAP4rev1 AUTH=PLAIN] {BANNER}\r\n".encode(),
        f"TAG NO [AUTHENTICATIONFAILED] {BANNER}\r\n".encode(),
    )
    try:
        page = _test_connection(client, "127.0.0.1", server.port)
        text = page.get_data(as_text=True)
        assert page.status_code == 422 and BANNER not in text
        assert _czech(app, "The server refused the user name or the password.") in text
        # The poller records a code, and the console words it: the server's text is in neither.
        from app.mailin.jobs import poll_mailbox
        from app.mailin.mailboxes import set_mailbox

        with app.app_context(), tenant_scope(targito.id):
            mailbox_id = set_mailbox(host="127.0.0.1", port=server.port, security="none", username="x", password="y").id
            result = poll_mailbox(mailbox_id)
            assert BANNER not in str(result)
            assert BANNER not in (db.session.get(Mailbox, mailbox_id).last_error or "")
            db.session.commit()  # the job's boundary (AppJob)
        page = client.get(url("/email")).get_data(as_text=True)
        assert BANNER not in page
        assert _czech(app, "The server refused the user name or the password.") in page
    finally:
        server.close()


def test_the_operator_may_allow_a_private_host(app, make_tenant):
    from app.security.net import AddressNotAllowed, vet_target

    assert vet_target("127.0.0.1", 12345, allowed=["127.0.0.1"]).addresses == ("127.0.0.1",)
    assert vet_target("10.1.2.3", 143, allowed=["10.0.0.0/8"]).addresses == ("10.1.2.3",)
    assert vet_target("8.8.8.8", 993, allowed=[]).addresses == ("8.8.8.8",)
    for host, port in (
        ("10.1.2.3", 143),
        ("8.8.8.8", 25),
        ("2001:db8::1", 993),
        ("fe80::1", 993),
        ("fc00::1", 143),
        ("2002:0a00:0001::1", 143),
    ):
        with pytest.raises(AddressNotAllowed):
            vet_target(host, port, allowed=["192.168.0.0/16"])
    with app.app_context(), tenant_scope(make_tenant("targito").id):
        assert db.session.scalars(select(Mailbox)).all() == []
