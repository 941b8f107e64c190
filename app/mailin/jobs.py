"""IMAP polling (RQ jobs): a platform-wide sweep enqueues one poll per enabled mailbox; a poll fetches
the unseen messages, feeds each to ``ingest`` and only then flags it ``\\Seen`` (or moves it to the
mailbox's processed folder). A message that could not be stored stays unseen for the next poll; one
stored twice (two polls at once, a crash before the flag) is recognised by its Message-ID.
"""

from __future__ import annotations

import imaplib
import logging

from sqlalchemy import select

from app.db_types import utcnow
from app.extensions import db
from app.mailin.imap import (
    ERROR_CONNECT,
    ERROR_FOLDER,
    ERROR_LOGIN,
    ERROR_PASSWORD,
    MailboxError,
    connect,
    encode_folder_name,
    quote_folder,
    select_folder,
)
from app.mailin.models import Mailbox
from app.tenancy.scoping import all_tenants, current_tenant_id

log = logging.getLogger(__name__)
BATCH = 50


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
        connection = connect(mailbox)
        try:
            try:
                connection.login(mailbox.username, password)
            except imaplib.IMAP4.error:
                raise MailboxError(ERROR_LOGIN) from None
            status, _ = select_folder(connection, mailbox.folder)
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
    target = quote_folder(encode_folder_name(mailbox.processed_folder))
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
