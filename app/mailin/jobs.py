"""IMAP polling (RQ jobs): a platform-wide sweep enqueues one poll per enabled mailbox; a poll fetches
the unseen messages, feeds each to ``ingest`` and only then flags it ``\\Seen`` (or moves it to the
mailbox's processed folder). A message that could not be stored stays unseen for the next poll; one
stored twice (two polls at once, a crash before the flag) is recognised by its Message-ID.
"""

from __future__ import annotations

import imaplib
import logging
import ssl

from sqlalchemy import select

from app.db_types import utcnow
from app.extensions import db
from app.mailin.models import Mailbox
from app.tenancy.scoping import all_tenants, current_tenant_id

log = logging.getLogger(__name__)
BATCH = 50
TIMEOUT = 30


def poll_mailboxes() -> int:
    """Enqueue a poll of every enabled mailbox (periodic, set-based, idempotent)."""
    from app.jobs import enqueue

    with all_tenants():
        rows = db.session.execute(
            select(Mailbox.id, Mailbox.tenant_id).where(Mailbox.enabled.is_(True)).order_by(Mailbox.id)
        ).all()
    for mailbox_id, tenant_id in rows:
        enqueue(poll_mailbox, mailbox_id, tenant_id=tenant_id, job_id=f"imap-poll-{tenant_id}-{mailbox_id}")
    return len(rows)


# Why the last poll failed (``Mailbox.last_error``): a code, worded when shown; never the server's text.
ERROR_ADDRESS = "address_not_allowed"
ERROR_CONNECT = "connect_failed"
ERROR_LOGIN = "login_refused"
ERROR_FOLDER = "folder_missing"
ERROR_PASSWORD = "password_unreadable"


class MailboxError(Exception):
    """A poll or a connection test failed; ``code`` is one of the ERROR_* codes above."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Connect to the mailbox's server, once its address and port are vetted (no SSRF: see
    app.security.net). Raises MailboxError(ERROR_ADDRESS or ERROR_CONNECT), never the server's words."""
    from flask import current_app

    from app.security.net import AddressNotAllowed, HostNotFound, connect_imap, vet_target

    try:
        target = vet_target(mailbox.host, mailbox.port, allowed=current_app.config.get("MAILBOX_ALLOWED_HOSTS", []))
    except AddressNotAllowed:
        raise MailboxError(ERROR_ADDRESS) from None
    except HostNotFound:
        raise MailboxError(ERROR_CONNECT) from None
    context = ssl.create_default_context()
    if not mailbox.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        return connect_imap(target, security=mailbox.security, context=context, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error, ValueError) as exc:
        log.info("IMAP connection to %s:%s failed: %s", mailbox.host, mailbox.port, type(exc).__name__)
        raise MailboxError(ERROR_CONNECT) from None


def _select(connection: imaplib.IMAP4, folder: str, readonly: bool = False):
    """SELECT a folder by its name as the admin wrote it (modified UTF-7 for non-ASCII names)."""
    return connection.select(_quoted(encode_folder_name(folder)), readonly=readonly)


def encode_folder_name(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3): "Beérkezett üzenetek" → "Be&AOk-rkezett &APw-zenetek"."""
    import base64

    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_of(fetched) -> bytes | None:
    for part in fetched or ():
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def poll_mailbox(mailbox_id: int) -> dict:
    """Fetch and ingest the unseen messages of one mailbox (runs in its tenant's scope)."""
    from cryptography.fernet import InvalidToken

    from app.mailin.intake import IngestError, ingest
    from app.mailin.mailboxes import decrypt_password

    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.enabled:
        return {"skipped": True}
    tenant_id = current_tenant_id()
    counts = {"stored": 0, "duplicates": 0, "left": 0}
    try:
        try:
            password = decrypt_password(mailbox.password_encrypted)
        except InvalidToken:
            raise MailboxError(ERROR_PASSWORD) from None
        connection = _connect(mailbox)
        try:
            try:
                connection.login(mailbox.username, password)
            except imaplib.IMAP4.error:
                raise MailboxError(ERROR_LOGIN) from None
            status, _ = _select(connection, mailbox.folder)
            if status != "OK":
                raise MailboxError(ERROR_FOLDER)
            status, data = connection.uid("SEARCH", None, "UNSEEN")
            uids = (data[0] or b"").split() if status == "OK" else []
            status, data = connection.capability()  # after login: servers announce MOVE, UIDPLUS only now
            capabilities = set((data[0] or b"").decode().upper().split()) if status == "OK" else set()
            for uid in uids[:BATCH]:
                status, fetched = connection.uid("FETCH", uid, "(BODY.PEEK[])")
                raw = _raw_of(fetched) if status == "OK" else None
                if raw is None:
                    counts["left"] += 1
                    continue
                try:
                    inbound = ingest(raw, tenant_id, source="imap")
                except IngestError:
                    counts["left"] += len(uids[:BATCH]) - counts["stored"] - counts["duplicates"]
                    break  # storage is down: leave this and the rest unseen for the next poll
                counts["duplicates" if inbound.duplicate else "stored"] += 1
                # Each message is its own unit: committed before the server is told it is done, so
                # that a crash later in the batch never loses a message already moved or marked seen.
                db.session.commit()
                _mark_done(connection, uid, mailbox, capabilities)
            counts["left"] += max(0, len(uids) - BATCH)
        finally:
            try:
                connection.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
    except (MailboxError, imaplib.IMAP4.error, OSError, ValueError) as exc:
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.failing, mailbox.last_error = True, exc.code if isinstance(exc, MailboxError) else ERROR_CONNECT
        mailbox.last_polled_at = utcnow()
        log.warning("IMAP mailbox %s of tenant %s failed: %s", mailbox_id, tenant_id, mailbox.last_error)
        return {**counts, "error": mailbox.last_error}
    mailbox = db.session.get(Mailbox, mailbox_id)
    mailbox.failing, mailbox.last_error, mailbox.last_polled_at = False, None, utcnow()
    log.info("IMAP mailbox %s of tenant %s polled: %s", mailbox_id, tenant_id, counts)
    return counts


def _mark_done(connection: imaplib.IMAP4, uid: bytes, mailbox: Mailbox, capabilities: set[str]) -> None:
    """Flag a stored message seen, or move it to the processed folder."""
    connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    if not mailbox.processed_folder:
        return
    target = _quoted(encode_folder_name(mailbox.processed_folder))
    if "MOVE" in capabilities:
        connection.uid("MOVE", uid, target)
        return
    status, _ = connection.uid("COPY", uid, target)
    if status == "OK":
        connection.uid("STORE", uid, "+FLAGS", "(\\Deleted)")
        if "UIDPLUS" in capabilities:
            connection.uid("EXPUNGE", uid)
        else:
            connection.expunge()


def error_words(code: str | None) -> str:
    """Why a mailbox's last poll failed, in the reader's language (the stored code, worded when read;
    anything else stored by older releases is not shown, as it may hold the server's text)."""
    from flask_babel import gettext as _

    words = {
        ERROR_ADDRESS: _(
            "This address is not allowed for a mailbox: it is a private or local address, or the "
            "port is not an IMAP port (143 or 993)."
        ),
        ERROR_CONNECT: _("The server could not be reached, or it did not answer as an IMAP server."),
        ERROR_LOGIN: _("The server refused the user name or the password."),
        ERROR_FOLDER: _("The folder does not exist on the server."),
        ERROR_PASSWORD: _("The stored password can no longer be decrypted; please enter it again."),
    }
    return words.get(code or "", _("The last poll failed."))
