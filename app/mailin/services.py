"""The inbound e-mail pipeline: one ``ingest(raw, tenant_id)`` for every intake path (CLI, HTTP, IMAP).

1. Store first: the raw message goes to the storage layer (``<tenant>/mail/<uuid>``) and an
   ``InboundMessage`` row is committed before anything else happens, once per Message-ID (a message
   fetched twice is stored once; the second ``ingest`` returns the first row, marked ``duplicate``).
   Only then may an IMAP poller flag or move it.
2. Safety: too large (refused politely), bounces (recorded on the request of our outbox message that
   bounced), auto-replies, malformed MIME (kept for an agent), our own messages coming back, and a
   per-sender rate limit (stored as ``rate_limited``, never answered). No-reply addresses and
   auto-replies are never answered.
3. Routing: the signed reply address, then ``In-Reply-To``/``References`` (our outbox Message-IDs and
   the request's thread root), then the subject tag. Finding the request confirms no one: a reply is
   taken as its From address's only through the reply address signed for that address, or when that
   address takes part in the request and the reply names a reply address of the request or an e-mail
   we sent to that address (``confirm_sender``). Otherwise it is held for the request's agents (who
   add or discard it), and the sender is told, at most once an hour, that it will be reviewed. A
   confirmed sender becomes the comment's author if they may comment there; otherwise, and for a
   message that is about no request, the tenant's rule for new messages applies (a request of ``settings.email_request_type``, an account for an unknown
   sender where ``settings.unknown_sender`` is ``create_account``, else a polite refusal).
4. Effects: a comment runs the tenant's ``email_reply`` rules (in ``add_comment``); a reply to a
   closed request does not reopen it, the sender is told to raise a new one.

Every outcome is logged (tenant, row id, outcome, reason, request), never a message body.
"""

from __future__ import annotations

import hashlib
import imaplib
import io
import logging
import re
from datetime import timedelta

from flask import current_app, g, url_for
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import FileStorage

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from app.mailin import models as m
from app.mailin.models import InboundMessage
from app.mailin.parsing import ParsedMessage, parse_message
from app.mailin.reply import strip_reply
from app.tenancy.resolution import tenant_context
from app.tickets.models import Ticket

log = logging.getLogger(__name__)

DEFAULT_MAX_EMAIL_MB = 25
DEFAULT_RATE_PER_HOUR = 20
RATE_WINDOW = timedelta(hours=1)
# Our Message-IDs: outbox-<tenant>-<row>.<signature>@<domain> (older e-mails have no signature) and
# ticket-<tenant>-<request>@<domain> (the thread root). Groups: kind, tenant, number, domain, signature.
_THREAD_ID_RE = re.compile(r"^(outbox|ticket)-(\d+)-(\d+)(?:\.([0-9a-f]+))?@(.+)$", re.IGNORECASE)


def _thread_id(message_id: str | None) -> tuple[str, int, int, str, str | None] | None:
    """(kind, tenant id, number, domain, signature) of one of our Message-IDs, else None."""
    match = _THREAD_ID_RE.match((message_id or "").strip().strip("<>"))
    if not match or len(match.group(2)) > 9 or len(match.group(3)) > 9:  # beyond our ids: nothing of ours
        return None
    return (match.group(1).lower(), int(match.group(2)), int(match.group(3)), match.group(5).lower(), match.group(4))


_SUBJECT_PREFIX_RE = re.compile(
    r"^\s*(?:(?:re|aw|sv|vs|odp|odp\.|fw|fwd|tr|wg|pd|vá|továbbítás|továbbítva|vl|vb|rv|r|i)\s*(?:\[\d+\])?\s*:\s*)+",
    re.IGNORECASE,
)


class IngestError(Exception):
    """The message could not be stored (storage or database down): the caller must keep it and retry."""


# --- the pipeline ---------------------------------------------------------------------------------


def ingest(raw: bytes, tenant_id: int, *, source: str = "cli", envelope_to: tuple[str, ...] = ()) -> InboundMessage:
    """Store and process one raw RFC 822 message for the tenant; never raises for anything the
    message contains (only :class:`IngestError` when it could not be stored)."""
    with tenant_context(tenant_id) as tenant:
        return _ingest(bytes(raw or b""), tenant, source, tuple(a.lower() for a in envelope_to if a))


def _ingest(raw: bytes, tenant, source: str, envelope_to: tuple[str, ...]) -> InboundMessage:
    from app.storage import StorageError, get_storage, make_key

    parsed = parse_message(raw)
    message_id = (parsed.message_id or "sha256:" + hashlib.sha256(raw).hexdigest())[:500]
    existing = _stored(message_id)
    if existing is not None:
        return _duplicate(existing)
    too_large = len(raw) > max_email_bytes(tenant)
    storage = get_storage()
    key = make_key(tenant.id, "mail")
    try:
        # A message over the size limit is kept as its header only: enough for an agent to see it.
        storage.put(key, io.BytesIO(_header_section(raw) if too_large else raw), "message/rfc822")
    except StorageError as exc:
        log.error("inbound mail of tenant %s not stored (storage: %s)", tenant.id, exc)
        raise IngestError("the message could not be stored") from exc
    inbound = InboundMessage(
        message_id=message_id,
        sender=(parsed.from_address or "")[:320],
        subject=(parsed.subject or "")[:500],
        size=len(raw),
        source=source[:10],
        raw_key=key,
        received_at=utcnow(),
        outcome=m.RECEIVED,
    )
    db.session.add(inbound)
    try:
        db.session.commit()
    except IntegrityError:  # a twin (another worker, a second fetch) stored it meanwhile
        db.session.rollback()
        _forget(storage, key)
        existing = _stored(message_id)
        if existing is None:
            raise IngestError("the message could not be stored") from None
        return _duplicate(existing)
    except Exception as exc:
        db.session.rollback()
        _forget(storage, key)
        log.error("inbound mail of tenant %s not stored (database: %s)", tenant.id, type(exc).__name__)
        raise IngestError("the message could not be stored") from exc

    inbound = _process_and_record(inbound, parsed, tenant, too_large=too_large, envelope_to=envelope_to)
    log.info(
        "inbound mail %s of tenant %s (%s, %d bytes): %s%s%s",
        inbound.id,
        tenant.id,
        source,
        inbound.size,
        inbound.outcome,
        f" ({inbound.reason})" if inbound.reason else "",
        f", request {inbound.ticket_id}" if inbound.ticket_id else "",
    )
    return inbound


def _process_and_record(
    inbound: InboundMessage, parsed: ParsedMessage, tenant, *, too_large: bool, envelope_to: tuple[str, ...]
) -> InboundMessage:
    """Process a stored message in its own transaction; an unexpected error leaves it ``failed``."""
    inbound_id = inbound.id
    try:
        _process(inbound, parsed, tenant, too_large=too_large, envelope_to=envelope_to)
        db.session.commit()
    except Exception as exc:  # never lose the message: it stays for an agent to look at
        db.session.rollback()
        log.exception("inbound mail %s of tenant %s could not be processed", inbound_id, tenant.id)
        inbound = db.session.get(InboundMessage, inbound_id)
        inbound.outcome, inbound.reason = m.FAILED, f"unexpected error: {type(exc).__name__}"[:500]
        db.session.commit()
    return inbound


# Messages whose processing failed, or was cut off (a crash between storing and processing), and
# which ``reprocess`` may take up again; a message still ``received`` this recently may be in flight.
RETRYABLE = (m.FAILED, m.RECEIVED)
IN_FLIGHT = timedelta(minutes=5)


def retryable_messages(tenant_id: int, ids: list[int] | None = None) -> list[int]:
    """Ids of the tenant's stored messages that ``reprocess`` would take up, oldest first."""
    with tenant_context(tenant_id):
        query = select(InboundMessage.id).where(
            or_(
                InboundMessage.outcome == m.FAILED,
                and_(InboundMessage.outcome == m.RECEIVED, InboundMessage.received_at < utcnow() - IN_FLIGHT),
            )
        )
        if ids:
            query = query.where(InboundMessage.id.in_(ids))
        return list(db.session.scalars(query.order_by(InboundMessage.id)))


def reprocess(inbound_id: int, tenant_id: int) -> InboundMessage | None:
    """Process a stored message again from its raw original (after the cause of a failure was
    fixed); ``None`` when the tenant has no such message waiting to be retried. The envelope
    recipient is not stored, so routing relies on the message's own headers."""
    from app.storage import get_storage

    with tenant_context(tenant_id) as tenant:
        inbound = db.session.get(InboundMessage, inbound_id)
        if inbound is None or inbound.outcome not in RETRYABLE or not inbound.raw_key:
            return None
        try:
            stream = get_storage().open(inbound.raw_key)
            try:
                raw = stream.read()
            finally:
                stream.close()
        except Exception as exc:  # the storage is down, or the original is gone
            log.error("inbound mail %s of tenant %s: original not readable (%s)", inbound_id, tenant.id, exc)
            raise IngestError("the original could not be read") from exc
        inbound = _process_and_record(inbound, parse_message(raw), tenant, too_large=False, envelope_to=())
        log.info(
            "inbound mail %s of tenant %s reprocessed: %s%s",
            inbound.id,
            tenant.id,
            inbound.outcome,
            f" ({inbound.reason})" if inbound.reason else "",
        )
        return inbound


def _stored(message_id: str) -> InboundMessage | None:
    return db.session.execute(
        select(InboundMessage).where(InboundMessage.message_id == message_id)
    ).scalar_one_or_none()


def _duplicate(existing: InboundMessage) -> InboundMessage:
    existing.duplicate = True
    log.info(
        "inbound mail of tenant %s already stored as %s (%s): duplicate ignored",
        existing.tenant_id,
        existing.id,
        existing.outcome,
    )
    return existing


def _forget(storage, key: str) -> None:
    from app.storage import StorageError

    try:
        storage.delete(key)
    except StorageError:
        pass


def _header_section(raw: bytes) -> bytes:
    for separator in (b"\r\n\r\n", b"\n\n"):
        index = raw.find(separator)
        if index != -1:
            return raw[: index + len(separator)]
    return raw[:65536]


def max_email_bytes(tenant) -> int:
    return int((tenant.settings or {}).get("max_email_mb", DEFAULT_MAX_EMAIL_MB)) * 1024 * 1024


def _set(inbound: InboundMessage, outcome: str, reason: str | None = None) -> None:
    inbound.outcome = outcome
    inbound.reason = reason[:500] if reason else None


def _process(
    inbound: InboundMessage, parsed: ParsedMessage, tenant, *, too_large: bool, envelope_to: tuple[str, ...]
) -> None:
    settings = tenant.settings or {}
    answerable = not (parsed.is_noreply_sender or parsed.is_auto_reply or parsed.is_bounce) and bool(
        parsed.from_address
    )
    if not tenant.is_active:
        return _set(inbound, m.REJECTED, "tenant is not active")
    if too_large:
        limit = max_email_bytes(tenant) // (1024 * 1024)
        if answerable and not _is_own_address(parsed.from_address, tenant):
            _answer(inbound, parsed, "too_large", size=max(1, parsed.size // (1024 * 1024)), limit=limit)
        return _set(inbound, m.TOO_LARGE, f"larger than {limit} MB")
    if parsed.is_bounce:
        return _record_bounce(inbound, parsed)
    if parsed.is_auto_reply:
        return _set(inbound, m.IGNORED_AUTO_REPLY, parsed.auto_reply_reason or "auto-reply")
    if parsed.malformed or not parsed.from_address:
        return _set(inbound, m.MALFORMED, parsed.malformed_reason or "no sender address")
    if _is_own_address(parsed.from_address, tenant) or _is_our_message_id(parsed.message_id):
        return _set(inbound, m.IGNORED_AUTO_REPLY, "our own message came back")
    limit = int(settings.get("email_rate_per_hour", DEFAULT_RATE_PER_HOUR))
    recent = db.session.scalar(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.sender == inbound.sender, InboundMessage.received_at >= utcnow() - RATE_WINDOW
        )
    )
    if recent > limit:
        return _set(inbound, m.RATE_LIMITED, f"more than {limit} messages in an hour")

    from app.accounts.users import find_user
    from app.tickets.policy import can

    sender = find_user(parsed.from_address)
    ticket, routed_by = route(parsed, tenant, envelope_to)
    note = None
    if ticket is not None:
        hold_reason = confirm_sender(parsed, tenant, ticket, routed_by, sender)
        if hold_reason is not None:
            return _hold(inbound, parsed, tenant, ticket, sender, routed_by, hold_reason, answerable)
        if sender is not None and can(sender, "comment", ticket):
            return _comment(inbound, parsed, tenant, ticket, sender, routed_by, answerable)
        note = f"sender may not comment on {ticket.reference} (routed by {routed_by})"
    return _new_request(inbound, parsed, tenant, sender, answerable, note)


# --- routing ----------------------------------------------------------------------------------------

# How a message found its request (``routed_by``, also written in the intake log).
BY_SIGNED_ADDRESS = "reply address signed for the sender"
BY_REQUEST_ADDRESS = "reply address of the request"  # the older per-request signature
BY_OTHER_RECIPIENTS_ADDRESS = "reply address of another recipient"
BY_THREADING = "threading headers"
BY_SUBJECT_TAG = "subject tag"


def route(parsed: ParsedMessage, tenant, envelope_to: tuple[str, ...] = ()) -> tuple[Ticket | None, str | None]:
    """The request a message is about, and which key found it: the reply address, the threading
    headers, or the subject tag. Only keys of this tenant count. Finding the request says nothing
    about who wrote: ``confirm_sender`` decides that."""
    for address in [*envelope_to, *parsed.to, *parsed.cc]:
        found = _ticket_of_reply_address(address, parsed.from_address or "", tenant)
        if found[0] is not None:
            return found
    for message_id in [*parsed.in_reply_to, *reversed(parsed.references)]:
        ticket = _ticket_of_message_id(message_id, tenant)
        if ticket is not None:
            return ticket, BY_THREADING
    ticket = _ticket_of_subject(parsed.subject or "", tenant)
    if ticket is not None:
        return ticket, BY_SUBJECT_TAG
    return None, None


def _ticket_of_reply_address(address: str, sender: str, tenant) -> tuple[Ticket | None, str | None]:
    """The request of a genuine reply address of this tenant, and whom its signature names: the
    sender, the request alone (e-mails sent before signatures named their recipient), or someone
    else we wrote to about the request (a forwarded e-mail). A forged signature finds nothing."""
    from app.notifications.links import reply_address_claim, reply_signature_is_for
    from app.notifications.models import OutboxMessage

    claim = reply_address_claim(address)
    if claim is None:
        return None, None
    ticket_id, signature = claim
    ticket = db.session.get(Ticket, ticket_id)
    if ticket is None:
        return None, None
    if sender and reply_signature_is_for(signature, tenant.id, ticket_id, sender):
        return ticket, BY_SIGNED_ADDRESS
    if reply_signature_is_for(signature, tenant.id, ticket_id):
        return ticket, BY_REQUEST_ADDRESS
    recipients = db.session.scalars(
        select(OutboxMessage.recipient).where(OutboxMessage.ticket_id == ticket_id).distinct()
    ).all()
    if any(reply_signature_is_for(signature, tenant.id, ticket_id, recipient) for recipient in recipients):
        return ticket, BY_OTHER_RECIPIENTS_ADDRESS
    return None, None


def confirm_sender(parsed: ParsedMessage, tenant, ticket: Ticket, routed_by: str, sender: User | None) -> str | None:
    """``None`` when the message may be taken as written by its From address; otherwise why it must be
    held for an agent (one of ``m.HOLD_REASONS``).

    Anyone can write any From address and copy a subject tag, so the sender is confirmed only by the
    reply address we signed for that address, or by taking part in the request (requester, shared
    with, watcher, CC, staff) together with a reply address of the request or the threading headers
    of an e-mail we sent to that very address about it."""
    address = (parsed.from_address or "").lower()
    if routed_by == BY_SIGNED_ADDRESS:
        return None
    if not takes_part(ticket, sender, address, tenant):
        return m.HOLD_NOT_PARTICIPANT
    if routed_by == BY_REQUEST_ADDRESS or _names_our_email_to(parsed, tenant, ticket, address):
        return None
    if routed_by == BY_OTHER_RECIPIENTS_ADDRESS:
        return m.HOLD_OTHER_RECIPIENT
    return m.HOLD_SUBJECT_TAG if routed_by == BY_SUBJECT_TAG else m.HOLD_UNCONFIRMED_THREAD


def takes_part(ticket: Ticket, user: User | None, address: str, tenant) -> bool:
    """Does the person at ``address`` take part in the request: its staff, its requester, someone it
    is shared with or who watches it, or an address in its CC field (where the tenant has one)?"""
    from app.notifications.planning import cc_addresses, notification_settings
    from app.tickets.models import Participant, TicketFieldValue, Watcher

    if user is not None and user.active and user.tenant_id == ticket.tenant_id:
        if user.is_staff or ticket.requester_id == user.id:
            return True
        for table in (Participant, Watcher):
            if (
                db.session.execute(
                    select(table.id).where(table.ticket_id == ticket.id, table.user_id == user.id)
                ).first()
                is not None
            ):
                return True
    cc_field = notification_settings(tenant).get("cc_field")
    if cc_field:
        from app.catalog.models import Field

        text = db.session.execute(
            select(TicketFieldValue.value_text)
            .join(Field, TicketFieldValue.field_id == Field.id)
            .where(TicketFieldValue.ticket_id == ticket.id, Field.key == cc_field)
        ).scalar_one_or_none()
        if address in cc_addresses(text):
            return True
    return False


def _names_our_email_to(parsed: ParsedMessage, tenant, ticket: Ticket, address: str) -> bool:
    """Do the threading headers name an e-mail we sent to ``address`` about this request?"""
    from app.notifications.models import OutboxMessage

    from app.notifications.links import message_id_signature_is_valid

    ids = []
    for message_id in [*parsed.in_reply_to[:5], *parsed.references[-50:]]:
        ours = _thread_id(message_id)
        # Only a signed Message-ID proves the e-mail reached the sender: the numbers alone are guessable.
        if (
            ours
            and ours[0] == "outbox"
            and ours[1] == tenant.id
            and ours[3] == _portal_host()
            and message_id_signature_is_valid(ours[4], tenant.id, ours[2])
        ):
            ids.append(ours[2])
    if not ids:
        return False
    return (
        db.session.execute(
            select(OutboxMessage.id).where(
                OutboxMessage.id.in_(ids),
                OutboxMessage.ticket_id == ticket.id,
                func.lower(OutboxMessage.recipient) == address,
            )
        ).first()
        is not None
    )


def _portal_host() -> str:
    return current_app.config["PORTAL_DOMAIN"].split(":")[0].lower()


def _ticket_of_message_id(message_id: str, tenant) -> Ticket | None:
    from app.notifications.models import OutboxMessage

    ours = _thread_id(message_id)
    if not ours or ours[1] != tenant.id or ours[3] != _portal_host():
        return None
    number = ours[2]
    if ours[0] == "ticket":
        return db.session.get(Ticket, number)
    outbox = db.session.get(OutboxMessage, number)
    if outbox is None or outbox.ticket_id is None:
        return None
    return db.session.get(Ticket, outbox.ticket_id)


def _is_our_message_id(message_id: str | None) -> bool:
    ours = _thread_id(message_id)
    return ours is not None and ours[3] == _portal_host()


def subject_tag_patterns(tenant) -> list[re.Pattern]:
    """Regular expressions for the tenant's subject tag (``[Festum #12]``) and the default ``[TAR-12]``."""
    prefix = re.escape(tenant.reference_prefix)
    patterns = []
    for template in dict.fromkeys([(tenant.settings or {}).get("subject_tag") or "{reference}", "{reference}"]):
        regex = re.escape(template).replace(r"\ ", r"\s*")
        regex = regex.replace(r"\{reference\}", rf"(?P<reference>{prefix}-\d+)").replace(
            r"\{number\}", r"(?P<number>\d+)"
        )
        patterns.append(re.compile(r"\[\s*" + regex + r"\s*\]", re.IGNORECASE))
    return patterns


def _ticket_of_subject(subject: str, tenant) -> Ticket | None:
    for pattern in subject_tag_patterns(tenant):
        match = pattern.search(subject)
        if not match:
            continue
        groups = match.groupdict()
        if groups.get("reference"):
            query = select(Ticket).where(Ticket.reference == groups["reference"].upper())
        else:
            query = select(Ticket).where(Ticket.number == int(groups["number"]))
        ticket = db.session.execute(query).scalar_one_or_none()
        if ticket is not None:
            return ticket
    return None


def _own_addresses(tenant) -> set[str]:
    from app.notifications.composer import support_address

    return {support_address(tenant).lower()}


def _is_own_address(address: str, tenant) -> bool:
    """Our support address, or one of its plus-addresses (reply tokens)."""
    address = (address or "").lower()
    local, _, domain = address.partition("@")
    for own in _own_addresses(tenant):
        own_local, _, own_domain = own.partition("@")
        if domain == own_domain and (local == own_local or local.startswith(own_local + "+")):
            return True
    return False


# --- comments ---------------------------------------------------------------------------------------


def reply_markers(tenant) -> list[str]:
    """ "Reply above this line" as our notification e-mails write it, in each of the tenant's languages."""
    from flask_babel import gettext

    markers = []
    for locale in dict.fromkeys([*tenant.locales, tenant.default_locale, "en"]):
        with force_locale(locale):
            markers.append(gettext("Reply above this line"))
    return markers


def new_text(parsed: ParsedMessage, tenant) -> str:
    """What the sender wrote, without the quoted history and signature."""
    return strip_reply(parsed.text or "", markers=reply_markers(tenant)).visible.strip()


def _uploads(tenant, parsed: ParsedMessage) -> tuple[list[FileStorage], list[str]]:
    """The attachments (inline images too) as uploads the ticket service accepts, and the names of
    those it would refuse (blocked types, too large, too many): those are left out, not the message."""
    from app.tickets.services import DEFAULT_MAX_ATTACHMENTS, RequestError, check_uploads

    accepted, skipped = [], []
    max_count = int((tenant.settings or {}).get("max_attachments", DEFAULT_MAX_ATTACHMENTS))
    for attachment in parsed.attachments:
        upload = FileStorage(
            stream=io.BytesIO(attachment.data),
            filename=attachment.filename or "attachment",
            content_type=attachment.content_type or "application/octet-stream",
        )
        try:
            check_uploads(tenant, [upload])
        except RequestError:
            skipped.append(upload.filename)
            continue
        if len(accepted) >= max_count:
            skipped.append(upload.filename)
            continue
        accepted.append(upload)
    return accepted, skipped


def _skipped_note(skipped: list[str]) -> str | None:
    return f"files left out: {', '.join(skipped)}" if skipped else None


def _comment(inbound, parsed, tenant, ticket, sender, routed_by, answerable) -> None:
    from app.tickets.services import RequestError, add_comment

    inbound.ticket_id = ticket.id
    if ticket.status.is_final:
        if answerable:
            _answer(inbound, parsed, "closed_request", user=sender, ticket=ticket)
        return _set(inbound, m.REJECTED, f"{ticket.reference} is closed (routed by {routed_by})")
    files, skipped = _uploads(tenant, parsed)
    body = new_text(parsed, tenant)
    try:
        comment = add_comment(ticket, sender, body, uploads=files, channel="email")
    except RequestError as error:  # nothing written and no file: nothing to add
        db.session.rollback()
        inbound = db.session.get(InboundMessage, inbound.id)
        inbound.ticket_id = ticket.id
        return _set(inbound, m.REJECTED, f"not added to {ticket.reference}: {error.message}")
    inbound = db.session.get(InboundMessage, inbound.id)
    inbound.ticket_id, inbound.comment_id = ticket.id, comment.id
    _add_cc_participants(ticket, sender, parsed, tenant)
    _set(inbound, m.COMMENT, "; ".join(filter(None, [f"routed by {routed_by}", _skipped_note(skipped)])))


def _add_cc_participants(ticket, sender, parsed, tenant) -> None:
    """Where the tenant allows it (``settings.email_cc_participants``), people with an account whom the
    sender copied become participants, if the sender may share the request."""
    from app.accounts.users import find_user
    from app.tickets.models import Participant, Watcher
    from app.tickets.policy import can
    from app.tickets.services import record_event

    if not (tenant.settings or {}).get("email_cc_participants") or not can(sender, "share", ticket):
        return
    for address in dict.fromkeys([*parsed.to, *parsed.cc]):
        if address == sender.email or _is_own_address(address, tenant):
            continue
        user = find_user(address)
        if user is None or not user.active or user.is_staff or user.id == ticket.requester_id:
            continue
        if db.session.execute(
            select(Participant.id).where(Participant.ticket_id == ticket.id, Participant.user_id == user.id)
        ).first():
            continue
        db.session.add(Participant(ticket_id=ticket.id, user_id=user.id, added_by_id=sender.id))
        if (
            db.session.execute(
                select(Watcher.id).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)
            ).first()
            is None
        ):
            db.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
        record_event(ticket, "participant_added", actor=sender, user_id=user.id, invited=False, channel="email")


# --- held replies ----------------------------------------------------------------------------------

GUIDANCE_WINDOW = timedelta(hours=1)


class ReviewError(Exception):
    """An agent's review of a held message could not be done; ``message`` says why, translated."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _hold(inbound, parsed, tenant, ticket, sender, routed_by, reason, answerable) -> None:
    """Keep a reply whose sender could not be confirmed for the request's agents; the security trail
    names the address, and the sender hears (at most once an hour) that it will be reviewed."""
    from app.security.events import INBOUND_HELD
    from app.security.services import record_event

    inbound.ticket_id, inbound.hold_reason = ticket.id, reason
    _set(inbound, m.HELD, f"held for an agent: {reason} (routed by {routed_by})")
    record_event(
        INBOUND_HELD,
        tenant_id=tenant.id,
        subject=sender,
        email=parsed.from_address,
        inbound_message_id=inbound.id,
        reference=ticket.reference,
        reason=reason,
    )
    if answerable and not _guided_recently(parsed.from_address):
        _answer(inbound, parsed, "held", user=sender)


def _guided_recently(address: str) -> bool:
    """Has this address been told about a held message within the hour? (A flood of forged mail must
    not turn the portal into a spam cannon aimed at whoever's address was forged.)"""
    from app.notifications.models import OutboxMessage

    return (
        db.session.execute(
            select(OutboxMessage.id)
            .where(
                OutboxMessage.kind == "mailin_held",
                func.lower(OutboxMessage.recipient) == address.lower(),
                OutboxMessage.created_at >= utcnow() - GUIDANCE_WINDOW,
            )
            .limit(1)
        ).first()
        is not None
    )


def held_messages(ticket: Ticket) -> list[InboundMessage]:
    """The request's messages waiting for an agent's review, oldest first."""
    return list(
        db.session.scalars(
            select(InboundMessage)
            .where(InboundMessage.ticket_id == ticket.id, InboundMessage.outcome == m.HELD)
            .order_by(InboundMessage.id)
        )
    )


def _read_original(inbound: InboundMessage) -> ParsedMessage:
    from app.storage import StorageError, get_storage

    try:
        stream = get_storage().open(inbound.raw_key)
        try:
            return parse_message(stream.read())
        finally:
            stream.close()
    except (StorageError, OSError) as exc:
        log.error("inbound mail %s of tenant %s: original not readable (%s)", inbound.id, inbound.tenant_id, exc)
        raise ReviewError(_("The original e-mail could not be read. Please try again later.")) from exc


def held_preview(inbound: InboundMessage, tenant, limit: int = 4000) -> str:
    """What the held message's sender wrote (without quotes), for the agent who reviews it."""
    try:
        text = new_text(_read_original(inbound), tenant)
    except ReviewError:
        return ""
    return text if len(text) <= limit else text[:limit] + "…"


def held_sender(inbound: InboundMessage, ticket: Ticket) -> User | None:
    """The account whose comment the held message would become, if its address may comment there."""
    from app.accounts.users import find_user
    from app.tickets.policy import can

    user = find_user(inbound.sender) if inbound.sender else None
    return user if user is not None and user.active and can(user, "comment", ticket) else None


def _held_on(ticket: Ticket, inbound_id: int) -> InboundMessage:
    inbound = db.session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.ticket_id != ticket.id or inbound.hold_reason is None:
        raise LookupError(inbound_id)
    if inbound.outcome != m.HELD:
        raise ReviewError(_("Another agent has already reviewed this message."))
    return inbound


def _claim(inbound: InboundMessage, agent: User, outcome: str) -> None:
    """Mark a held message reviewed, once: of two agents acting at the same moment, one wins."""
    from sqlalchemy import update

    claimed = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == inbound.id, InboundMessage.outcome == m.HELD)
        .values(outcome=outcome, reviewed_by_id=agent.id, reviewed_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    if not claimed:
        db.session.rollback()
        raise ReviewError(_("Another agent has already reviewed this message."))


def accept_held(ticket: Ticket, inbound_id: int, agent: User, *, internal: bool) -> int:
    """An agent adds a held message to its request: as its sender's comment (the sender must be able
    to comment there) or as the agent's internal note. Returns the comment's id.

    Raises LookupError for a message that is not held on this request, ReviewError with a reason."""
    from app.tickets.services import RequestError, add_comment

    inbound = _held_on(ticket, inbound_id)
    author = agent
    if not internal:
        author = held_sender(inbound, ticket)
        if author is None:
            raise ReviewError(
                _(
                    "The sender cannot comment on this request. Add the message as an internal note, "
                    "or share the request with them first."
                )
            )
        if ticket.status.is_final:
            raise ReviewError(_("The request is closed. Add the message as an internal note instead."))
    tenant = g.tenant
    parsed = _read_original(inbound)
    files, _skipped = _uploads(tenant, parsed)
    inbound_id = inbound.id
    _claim(inbound, agent, m.COMMENT)
    try:
        comment = add_comment(
            ticket, author, new_text(parsed, tenant), uploads=files, is_internal=internal, channel="email"
        )  # commits the claim with the comment
    except RequestError as error:
        raise ReviewError(error.message) from None
    inbound = db.session.get(InboundMessage, inbound_id)
    inbound.comment_id = comment.id
    inbound.reason = ((inbound.reason or "") + f"; accepted by agent {agent.id}")[:500]
    db.session.commit()
    log.info(
        "held inbound mail %s of tenant %s accepted by agent %s as %s",
        inbound_id,
        tenant.id,
        agent.id,
        "an internal note" if internal else "the sender's comment",
    )
    return comment.id


def discard_held(ticket: Ticket, inbound_id: int, agent: User) -> None:
    """An agent sets a held message aside: it stays stored (and downloadable), outside the request."""
    inbound = _held_on(ticket, inbound_id)
    _claim(inbound, agent, m.DISCARDED)
    db.session.commit()
    log.info("held inbound mail %s of tenant %s discarded by agent %s", inbound_id, inbound.tenant_id, agent.id)


# --- new requests ----------------------------------------------------------------------------------


def clean_subject(subject: str, tenant) -> str:
    """The subject without reply/forward prefixes and our tags: the new request's summary."""
    text = subject or ""
    for pattern in subject_tag_patterns(tenant):
        text = pattern.sub(" ", text)
    text = _SUBJECT_PREFIX_RE.sub("", text.strip())
    return " ".join(text.split())


def email_request_type(tenant):
    """The request type of requests created by e-mail (``settings.email_request_type``: portal/type)."""
    from app.catalog.services import find_request_type

    setting = (tenant.settings or {}).get("email_request_type") or ""
    portal_key, _, type_key = setting.partition("/")
    found = find_request_type(tenant, portal_key, type_key) if type_key else None
    return found[1] if found else None


def _new_request(inbound, parsed, tenant, sender: User | None, answerable: bool, note: str | None) -> None:
    from app.accounts.registration import create_contact_account
    from app.accounts.users import AccountError
    from app.notifications.planning import notification_settings
    from app.tickets.services import RequestError, raise_request

    settings = tenant.settings or {}
    request_type = email_request_type(tenant)
    reasons = [note] if note else []
    if sender is None:
        if settings.get("unknown_sender", "reject") != "create_account" or request_type is None:
            if answerable:
                _answer(inbound, parsed, "unknown_sender")
            return _set(inbound, m.REJECTED, "; ".join([*reasons, "unknown sender"]))
    elif not sender.active:
        return _set(inbound, m.REJECTED, "; ".join([*reasons, "the sender's account is not active"]))
    if request_type is None:
        if answerable:
            _answer(inbound, parsed, "no_email_requests", user=sender)
        return _set(inbound, m.REJECTED, "; ".join([*reasons, "no request type for e-mail"]))
    created_account = False
    if sender is None:
        try:
            sender, created_account = create_contact_account(
                parsed.from_address, name=parsed.from_name[:200], reason="account_created"
            )
        except AccountError:
            return _set(inbound, m.REJECTED, "; ".join([*reasons, "the sender's address is not valid"]))
    files, skipped = _uploads(tenant, parsed)
    values = {
        "summary": clean_subject(parsed.subject, tenant)[:500] or _no_subject(sender),
        "description": new_text(parsed, tenant),
    }
    cc_field = notification_settings(tenant).get("cc_field")
    copied = [a for a in parsed.cc if a != sender.email and not _is_own_address(a, tenant)]
    if cc_field and copied:
        values[cc_field] = ", ".join(copied)  # Festum's "Kopio": they get the thread once support answers
    inbound_id = inbound.id
    try:
        ticket = raise_request(
            tenant=tenant,
            request_type_id=request_type.id,
            requester=sender,
            created_by=sender,
            values=values,
            uploads=files,
            channel="email",
        )
    except RequestError as error:
        db.session.rollback()
        inbound = db.session.get(InboundMessage, inbound_id)
        return _set(inbound, m.REJECTED, "; ".join([*reasons, f"no request created: {error.message}"]))
    inbound = db.session.get(InboundMessage, inbound_id)
    inbound.ticket_id = ticket.id
    _add_cc_participants(ticket, sender, parsed, tenant)
    if answerable:
        _answer(inbound, parsed, "request_received", user=sender, ticket=ticket, created_account=created_account)
    reasons += ["account created" if created_account else None, _skipped_note(skipped)]
    _set(inbound, m.CREATED, "; ".join(filter(None, reasons)) or None)


def _no_subject(user) -> str:
    from app.notifications.services import recipient_locale

    with force_locale(recipient_locale(user)):
        return _("(no subject)")


# --- bounces ----------------------------------------------------------------------------------------


def _record_bounce(inbound, parsed) -> None:
    """A bounce of one of our outbox messages: the message is marked failed and, if it was about a
    request, the request's timeline shows agents that it did not arrive."""
    from app.notifications.models import OUTBOX_FAILED, OutboxMessage
    from app.tickets.services import record_event

    from app.notifications.links import message_id_signature_is_valid

    ours = _thread_id(parsed.bounced_message_id)
    if (
        not ours
        or ours[0] != "outbox"
        or ours[1] != inbound.tenant_id
        or not message_id_signature_is_valid(ours[4], inbound.tenant_id, ours[2])
    ):
        # A forged bounce must not mark a genuine message failed: only signed Message-IDs count.
        return _set(inbound, m.BOUNCE, "not one of our messages")
    outbox = db.session.get(OutboxMessage, ours[2])
    if outbox is None:
        return _set(inbound, m.BOUNCE, "our message is gone")
    outbox.status = OUTBOX_FAILED
    outbox.last_error = "bounced"
    if outbox.ticket_id is not None:
        ticket = db.session.get(Ticket, outbox.ticket_id)
        if ticket is not None:
            record_event(
                ticket,
                "email_bounced",
                recipient=outbox.recipient,
                subject=outbox.subject,
                inbound_message_id=inbound.id,
            )
            inbound.ticket_id = ticket.id
    _set(inbound, m.BOUNCE, f"outbox message {outbox.id} to {outbox.recipient} bounced")


# --- answers to the sender -------------------------------------------------------------------------


def _answer(inbound, parsed, kind: str, *, user: User | None = None, ticket: Ticket | None = None, **context) -> None:
    """Queue a short, translated answer to the sender (their account's language, else the tenant's),
    threaded under their message. Callers make sure the sender may be answered at all."""
    from app.notifications.composer import subject_tag, support_address
    from app.notifications.links import reply_address, thread_root_id
    from app.notifications.services import queue_email, recipient_locale

    own = f"<{parsed.message_id}>" if parsed.message_id else None
    headers = {"X-Auto-Response-Suppress": "All"}
    if own:
        headers["In-Reply-To"] = own
        headers["References"] = " ".join([*(f"<{r}>" for r in parsed.references[-5:]), own])
    if kind == "request_received" and ticket is not None:
        domain = _portal_host()
        headers["Reply-To"] = reply_address(support_address(g.tenant), ticket, parsed.from_address)
        headers["References"] = " ".join(filter(None, [thread_root_id(ticket, domain), own]))
    queue_email(
        kind=f"mailin_{kind}",
        to=parsed.from_address,
        user=user,
        locale=recipient_locale(user),
        template=f"mailin/email/{kind}",
        idempotency_key=f"mailin:{inbound.id}:{kind}",
        headers=headers,
        ticket_id=ticket.id if ticket is not None else None,
        ticket=ticket,
        tag=subject_tag(g.tenant, ticket) if ticket is not None else "",
        original_subject=parsed.subject or "",
        sender_address=parsed.from_address,
        portal_link=url_for("portal.home", _external=True),
        request_link=url_for("tickets.detail", reference=ticket.reference, _external=True) if ticket else "",
        **context,
    )


# --- IMAP mailboxes -------------------------------------------------------------------------------

SECURITY_MODES = ("ssl", "starttls", "none")


def _derived_key(secret: str) -> bytes:
    """The Fernet key of the first releases: HKDF-SHA256 of a SECRET_KEY, with its own purpose string."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal mailin mailbox password").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


def _fernet():
    """MultiFernet over MAILBOX_ENCRYPTION_KEYS (the first encrypts), then the keys derived from
    SECRET_KEY and its fallbacks: a password stored before the dedicated keys existed, or before the
    session key was rotated, still decrypts. Without MAILBOX_ENCRYPTION_KEYS (development only, the
    configuration refuses it in production) the key derived from SECRET_KEY encrypts."""
    from cryptography.fernet import Fernet, MultiFernet

    config = current_app.config
    keys = [
        *config.get("MAILBOX_ENCRYPTION_KEYS", []),
        *(_derived_key(secret) for secret in (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", []))),
    ]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_password(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def decrypt_password(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt_mailbox_passwords() -> tuple[int, int]:
    """Re-encrypt every tenant's stored mailbox password with the first key (after adding a new key
    in front of MAILBOX_ENCRYPTION_KEYS, or before dropping SECRET_KEY from the fallbacks).
    Returns (re-encrypted, unreadable): an unreadable one is left as it is, for the admin to re-enter."""
    from cryptography.fernet import InvalidToken

    from app.mailin.models import Mailbox
    from app.tenancy.scoping import all_tenants

    fernet = _fernet()
    done = unreadable = 0
    with all_tenants():
        for mailbox in db.session.scalars(select(Mailbox).order_by(Mailbox.id)):
            try:
                mailbox.password_encrypted = fernet.rotate(mailbox.password_encrypted.encode()).decode()
                done += 1
            except InvalidToken:
                unreadable += 1
        db.session.commit()
    return done, unreadable


def set_mailbox(
    *,
    host: str,
    username: str,
    password: str,
    port: int | None = None,
    security: str = "ssl",
    folder: str = "INBOX",
    processed_folder: str | None = None,
    verify_certificate: bool = True,
):
    """Add the current tenant's mailbox, or update the one with the same host, user and folder."""
    from app.mailin.models import Mailbox

    if security not in SECURITY_MODES:
        raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}")
    port = port or (993 if security == "ssl" else 143)
    mailbox = db.session.execute(
        select(Mailbox).where(Mailbox.host == host, Mailbox.username == username, Mailbox.folder == folder)
    ).scalar_one_or_none()
    if mailbox is None:
        mailbox = Mailbox(host=host, username=username, folder=folder)
        db.session.add(mailbox)
    mailbox.port, mailbox.security, mailbox.processed_folder = port, security, processed_folder or None
    mailbox.verify_certificate, mailbox.enabled, mailbox.failing = verify_certificate, True, False
    mailbox.password_encrypted = encrypt_password(password)
    db.session.commit()
    return mailbox


class MailboxConnectionError(Exception):
    """The mailbox could not be reached or refused the login; ``message`` says why, for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def test_mailbox_connection(
    *,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str,
    folder: str = "INBOX",
    verify_certificate: bool = True,
) -> int:
    """Connect, log in and open the folder as the poller would; the number of messages in it.

    Raises MailboxConnectionError with a translated reason; never stores anything."""
    from flask_babel import gettext as _

    from app.mailin.jobs import ERROR_CONNECT, MailboxError, _connect, _select, error_words
    from app.mailin.models import Mailbox

    if security not in SECURITY_MODES or not host or not username:
        raise MailboxConnectionError(_("Please give the server, the security and the user name."))
    probe = Mailbox(
        host=host,
        port=port or (993 if security == "ssl" else 143),
        security=security,
        username=username,
        folder=folder or "INBOX",
        verify_certificate=verify_certificate,
    )
    try:
        connection = _connect(probe)
    except MailboxError as error:
        # Fixed words: what the admin typed, never what the remote server said (its banner, its errors).
        if error.code == ERROR_CONNECT:
            raise MailboxConnectionError(
                _(
                    "The server %(host)s:%(port)s could not be reached, or it did not answer as an IMAP server.",
                    host=probe.host,
                    port=probe.port,
                )
            ) from None
        raise MailboxConnectionError(error_words(error.code)) from None
    try:
        try:
            connection.login(username, password)
        except imaplib.IMAP4.error:
            raise MailboxConnectionError(_("The server refused the user name or the password.")) from None
        except OSError:
            raise MailboxConnectionError(error_words(ERROR_CONNECT)) from None
        try:
            status, data = _select(connection, probe.folder, readonly=True)
        except (imaplib.IMAP4.error, OSError):
            status, data = "NO", None
        if status != "OK":
            raise MailboxConnectionError(_("The folder %(folder)s does not exist on the server.", folder=probe.folder))
        count = (data or [b"0"])[0] or b"0"
        return int(count) if count.isdigit() else 0
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def remove_mailbox(mailbox_id: int) -> bool:
    """Stop polling one of the current tenant's mailboxes; False if it has none with that id."""
    from app.mailin.models import Mailbox

    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        return False
    db.session.delete(mailbox)
    db.session.commit()
    return True
