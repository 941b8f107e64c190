"""IMAP polling against a real IMAP server: Debian's dovecot, started by the fixture on a free port with
a temporary configuration (``scripts/ensure-dovecot`` installs it for ``make test`` and CI)."""

from __future__ import annotations

import imaplib
import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest
from sqlalchemy import select

from app.extensions import db
from app.unit_of_work import unit
from app.mailin.models import InboundMessage, Mailbox
from app.tenancy.scoping import tenant_scope
from tests.mailin.conftest import SUPPORT, comments_of, new_message, reply_message

# An in-process RQ worker runs the jobs, each committing on a session of its own (not nested in the test's).
pytestmark = pytest.mark.real_commits

DOVECOT = shutil.which("dovecot") or next((p for p in ("/usr/sbin/dovecot",) if os.path.exists(p)), None)
USER, PASSWORD = "support@targito.example", "imap-secret"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _config(folder: Path, port: int) -> str:
    import grp
    import pwd

    if os.geteuid() == 0:  # dovecot never runs mail processes as root: the mail belongs to nobody
        mail_uid, mail_gid = pwd.getpwnam("nobody").pw_uid, grp.getgrnam("nogroup").gr_gid
        internal = "dovecot" if _user_exists("dovecot") else "nobody"
        login = "dovenull" if _user_exists("dovenull") else "nobody"
    else:
        mail_uid, mail_gid = os.getuid(), os.getgid()
        internal = login = pwd.getpwuid(os.getuid()).pw_name
    return f"""
base_dir = {folder}/run
state_dir = {folder}/state
instance_name = portal-test-{port}
listen = 127.0.0.1
protocols = imap
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {folder}/dovecot.log
mail_location = maildir:{folder}/mail/%n
first_valid_uid = {mail_uid}
first_valid_gid = {mail_gid}
default_internal_user = {internal}
default_login_user = {login}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {folder}/users
}}
userdb {{
  driver = static
  args = uid={mail_uid} gid={mail_gid} home={folder}/mail/%n
}}
service imap-login {{
  chroot =
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
namespace inbox {{
  inbox = yes
  mailbox Processed {{
    auto = create
  }}
}}
"""


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
        return True
    except KeyError:
        return False


@pytest.fixture(scope="module")
def dovecot():
    if DOVECOT is None:
        pytest.skip("dovecot is not installed (scripts/ensure-dovecot installs Debian's dovecot-imapd as root)")
    folder = Path(tempfile.mkdtemp(prefix="portal-dovecot-"))
    for sub in ("run", "state", "mail"):
        (folder / sub).mkdir()
    os.chmod(folder, 0o755)
    os.chmod(folder / "mail", 0o777)
    port = _free_port()
    (folder / "dovecot.conf").write_text(_config(folder, port))
    (folder / "users").write_text(f"{USER}:{{PLAIN}}{PASSWORD}\n")
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(folder / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
    )
    deadline = time.monotonic() + 15
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                process.kill()
                log = (folder / "dovecot.log").read_text() if (folder / "dovecot.log").exists() else ""
                pytest.fail(f"dovecot did not start: {process.stdout.read().decode()} {log}")
            time.sleep(0.1)
    yield {"port": port}
    process.terminate()
    process.wait(timeout=10)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def imap(dovecot):
    """A client of the test server; the mailbox starts empty for each test."""
    client = imaplib.IMAP4("127.0.0.1", dovecot["port"])
    client.login(USER, PASSWORD)
    for folder in ("INBOX", "Processed"):
        if int(client.select(folder)[1][0]):
            client.store("1:*", "+FLAGS", "(\\Deleted)")
            client.expunge()
    yield client
    client.logout()


def _mailbox(app, tenant, dovecot, **extra):
    from app.mailin.mailboxes import set_mailbox

    with app.app_context(), tenant_scope(tenant.id), unit():  # the boundary of `flask mail mailbox set`
        return set_mailbox(
            host="127.0.0.1", port=dovecot["port"], security="none", username=USER, password=PASSWORD, **extra
        ).id


def _uids(imap, folder, criterion):
    imap.select(folder)
    return imap.uid("SEARCH", None, criterion)[1][0].split()


def _poll(app, tenant, mailbox_id):
    from app.mailin.jobs import poll_mailbox
    from app.unit_of_work import unit

    with app.app_context(), tenant_scope(tenant.id), unit():  # the job's boundary, as in AppJob
        return poll_mailbox(mailbox_id)


def test_a_reply_in_the_mailbox_becomes_a_comment_and_is_marked_seen_only_after(app, notified, dovecot, imap):
    tenant, ref, mail = notified("targito")
    mailbox_id = _mailbox(app, tenant, dovecot)
    reply = reply_message(mail, sender="customer@example.com", body="Odpověď přes IMAP.")
    imap.append("INBOX", None, None, reply.as_bytes())
    assert _poll(app, tenant, mailbox_id) == {"stored": 1, "duplicates": 0, "left": 0}
    assert comments_of(app, tenant, ref)[-1] == ("customer@example.com", "Odpověď přes IMAP.", "email")
    assert _uids(imap, "INBOX", "UNSEEN") == [] and len(_uids(imap, "INBOX", "SEEN")) == 1
    # The next poll finds nothing new; the same message delivered again is recognised.
    assert _poll(app, tenant, mailbox_id)["stored"] == 0
    imap.append("INBOX", None, None, reply.as_bytes())
    assert _poll(app, tenant, mailbox_id) == {"stored": 0, "duplicates": 1, "left": 0}
    with app.app_context(), tenant_scope(tenant.id):
        assert len(db.session.scalars(select(InboundMessage)).all()) == 1
        mailbox = db.session.get(Mailbox, mailbox_id)
        assert mailbox.last_polled_at is not None and not mailbox.failing
        assert PASSWORD not in mailbox.password_encrypted  # stored encrypted


def test_stored_messages_move_to_the_processed_folder(app, make_tenant, make_user, dovecot, imap):
    tenant = make_tenant("targito")
    make_user(tenant, "customer@example.com")
    mailbox_id = _mailbox(app, tenant, dovecot, processed_folder="Processed")
    imap.append(
        "INBOX",
        None,
        None,
        new_message(
            sender="customer@example.com", to=SUPPORT["targito"], subject="Nový požadavek", body="Dobrý den"
        ).as_bytes(),
    )
    assert _poll(app, tenant, mailbox_id)["stored"] == 1
    assert _uids(imap, "INBOX", "ALL") == [] and len(_uids(imap, "Processed", "ALL")) == 1


def test_a_message_that_could_not_be_stored_stays_unseen(app, make_tenant, make_user, dovecot, imap, monkeypatch):
    from app.mailin import intake

    tenant = make_tenant("targito")
    mailbox_id = _mailbox(app, tenant, dovecot)
    imap.append(
        "INBOX",
        None,
        None,
        new_message(sender="customer@example.com", to=SUPPORT["targito"], subject="Nový", body="x").as_bytes(),
    )

    def storage_down(*args, **kwargs):
        raise intake.IngestError("the message could not be stored")

    monkeypatch.setattr(intake, "ingest", storage_down)
    assert _poll(app, tenant, mailbox_id)["left"] == 1
    assert len(_uids(imap, "INBOX", "UNSEEN")) == 1


def test_a_wrong_password_is_recorded_on_the_mailbox(app, make_tenant, dovecot, imap):
    from app.mailin.mailboxes import set_mailbox

    tenant = make_tenant("targito")
    with app.app_context(), tenant_scope(tenant.id), unit():
        mailbox_id = set_mailbox(
            host="127.0.0.1", port=dovecot["port"], security="none", username=USER, password="wrong"
        ).id
    assert "error" in _poll(app, tenant, mailbox_id)
    with app.app_context(), tenant_scope(tenant.id):
        mailbox = db.session.get(Mailbox, mailbox_id)
        assert mailbox.failing and "wrong" not in (mailbox.last_error or "")
