"""IMAP polling (RQ jobs): a platform-wide sweep enqueues one poll per enabled mailbox; a poll fetches
the unseen messages, feeds each to ``ingest`` and only then flags it ``\\Seen`` (or moves it to the
mailbox's processed folder). A message that could not be stored stays unseen for the next poll; one
stored twice (two polls at once, a crash before the flag) is recognised by its Message-ID.
"""
from __future__ import annotations

import imaplib
import logging
import re
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
        rows = db.session.execute(select(Mailbox.id, Mailbox.tenant_id).where(Mailbox.enabled.is_(True))
                                  .order_by(Mailbox.id)).all()
    for mailbox_id, tenant_id in rows:
        enqueue(poll_mailbox, mailbox_id, tenant_id=tenant_id, job_id=f"imap-poll-{tenant_id}-{mailbox_id}")
    return len(rows)


def _connect(mailbox: Mailbox) -> imaplib.IMAP4:
    context = ssl.create_default_context()
    if not mailbox.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    if mailbox.security == "ssl":
        return imaplib.IMAP4_SSL(mailbox.host, mailbox.port, ssl_context=context, timeout=TIMEOUT)
    connection = imaplib.IMAP4(mailbox.host, mailbox.port, timeout=TIMEOUT)
    if mailbox.security == "starttls":
        connection.starttls(ssl_context=context)
    return connection


def _quoted(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _raw_of(fetched) -> bytes | None:
    for part in fetched or ():
        if isinstance(part, tuple) and len(part) == 2 and isinstance(part[1], bytes):
            return part[1]
    return None


def poll_mailbox(mailbox_id: int) -> dict:
    """Fetch and ingest the unseen messages of one mailbox (runs in its tenant's scope)."""
    from app.mailin.services import IngestError, decrypt_password, ingest

    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None or not mailbox.enabled:
        return {"skipped": True}
    tenant_id = current_tenant_id()
    counts = {"stored": 0, "duplicates": 0, "left": 0}
    try:
        connection = _connect(mailbox)
        try:
            connection.login(mailbox.username, decrypt_password(mailbox.password_encrypted))
            status, _ = connection.select(_quoted(mailbox.folder))
            if status != "OK":
                raise imaplib.IMAP4.error(f"cannot open folder {mailbox.folder}")
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
                _mark_done(connection, uid, mailbox, capabilities)
            counts["left"] += max(0, len(uids) - BATCH)
        finally:
            try:
                connection.logout()
            except (imaplib.IMAP4.error, OSError):
                pass
    except (imaplib.IMAP4.error, OSError, ValueError) as exc:
        mailbox = db.session.get(Mailbox, mailbox_id)
        mailbox.failing, mailbox.last_error = True, _safe_error(exc)
        mailbox.last_polled_at = utcnow()
        db.session.commit()
        log.warning("IMAP mailbox %s of tenant %s failed: %s", mailbox_id, tenant_id, mailbox.last_error)
        return {**counts, "error": mailbox.last_error}
    mailbox = db.session.get(Mailbox, mailbox_id)
    mailbox.failing, mailbox.last_error, mailbox.last_polled_at = False, None, utcnow()
    db.session.commit()
    log.info("IMAP mailbox %s of tenant %s polled: %s", mailbox_id, tenant_id, counts)
    return counts


def _mark_done(connection: imaplib.IMAP4, uid: bytes, mailbox: Mailbox, capabilities: set[str]) -> None:
    """Flag a stored message seen, or move it to the processed folder."""
    connection.uid("STORE", uid, "+FLAGS", "(\\Seen)")
    if not mailbox.processed_folder:
        return
    target = _quoted(mailbox.processed_folder)
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


def _safe_error(exc: Exception) -> str:
    """The error without anything that looks like a credential."""
    text = f"{type(exc).__name__}: {exc}"
    return re.sub(r"(?i)(password|passwd|pass)\S*", "[…]", text)[:500]
