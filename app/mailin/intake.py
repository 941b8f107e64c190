"""The inbound e-mail pipeline: one ``ingest(raw, tenant_id)`` for every intake path (CLI, HTTP, IMAP).

1. Store first: the raw message goes to the storage layer (``<tenant>/mail/<uuid>``) and an
   ``InboundMessage`` row is committed before anything else happens, once per Message-ID (a message
   fetched twice is stored once; the second ``ingest`` returns the first row, marked ``duplicate``).
   Only then may an IMAP poller flag or move it.
2. Safety: too large (refused politely), bounces (``bounces``: recorded on the request of our outbox
   message that bounced), auto-replies, malformed MIME (kept for an agent), our own messages coming
   back, and a per-sender rate limit (stored as ``rate_limited``, never answered). No-reply addresses
   and auto-replies are never answered.
3. Routing (``routing``): the signed reply address, then ``In-Reply-To``/``References`` (our outbox
   Message-IDs and the request's thread root), then the subject tag. Finding the request confirms no
   one (``senders.confirm_sender``): a reply is taken as its From address's only through the reply
   address signed for that address, or when that address takes part in the request and the reply
   names a reply address of the request or an e-mail we sent to that address. Otherwise it is held
   for the request's agents (``held``), and the sender is told, at most once an hour, that it will be
   reviewed. A confirmed sender becomes the comment's author if they may comment there (``comments``);
   otherwise, and for a message that is about no request, the tenant's rule for new messages applies
   (``new_requests``).
4. Effects: a comment runs the tenant's ``email_reply`` rules (in ``add_comment``); a reply to a
   closed request does not reopen it, the sender is told to raise a new one (``answers``).

Every outcome is logged (tenant, row id, outcome, reason, request), never a message body.
"""

from __future__ import annotations

import hashlib
import io
import logging
from datetime import timedelta

from sqlalchemy import and_, func, or_, select
from sqlalchemy.exc import IntegrityError

from app.db_types import utcnow
from app.extensions import db
from app.mailin import answers, bounces, comments, held, new_requests, routing, senders
from app.mailin import models as m
from app.mailin.models import InboundMessage
from app.mailin.parsing import ParsedMessage, parse_message
from app.tenancy.resolution import tenant_context
from app.tenancy.settings import tenant_settings
from app.unit_of_work import atomic

log = logging.getLogger(__name__)


RATE_WINDOW = timedelta(hours=1)


class IngestError(Exception):
    """The message could not be stored (storage or database down): the caller must keep it and retry."""


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
    try:
        with atomic():  # stored, or not at all
            db.session.add(inbound)
    except IntegrityError:  # a twin (another worker, a second fetch) stored it meanwhile
        _forget(storage, key)
        existing = _stored(message_id)
        if existing is None:
            raise IngestError("the message could not be stored") from None
        return _duplicate(existing)
    except Exception as exc:
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
    """Process a stored message in a savepoint of its own; an unexpected error undoes the processing
    and leaves the message ``failed``, committed with the caller's unit of work."""
    inbound_id = inbound.id
    try:
        with atomic():
            _process(inbound, parsed, tenant, too_large=too_large, envelope_to=envelope_to)
    except Exception as exc:  # never lose the message: it stays for an agent to look at
        log.exception("inbound mail %s of tenant %s could not be processed", inbound_id, tenant.id)
        inbound = db.session.get(InboundMessage, inbound_id)
        inbound.outcome, inbound.reason = m.FAILED, f"unexpected error: {type(exc).__name__}"[:500]
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
    return tenant_settings(tenant).max_email_mb * 1024 * 1024


def _process(
    inbound: InboundMessage, parsed: ParsedMessage, tenant, *, too_large: bool, envelope_to: tuple[str, ...]
) -> None:
    answerable = not (parsed.is_noreply_sender or parsed.is_auto_reply or parsed.is_bounce) and bool(
        parsed.from_address
    )
    if not tenant.is_active:
        return inbound.set_outcome(m.REJECTED, "tenant is not active")
    if too_large:
        limit = max_email_bytes(tenant) // (1024 * 1024)
        if answerable and not routing.is_own_address(parsed.from_address, tenant):
            answers.answer(inbound, parsed, "too_large", size=max(1, parsed.size // (1024 * 1024)), limit=limit)
        return inbound.set_outcome(m.TOO_LARGE, f"larger than {limit} MB")
    if parsed.is_bounce:
        return bounces.record_bounce(inbound, parsed)
    if parsed.is_auto_reply:
        return inbound.set_outcome(m.IGNORED_AUTO_REPLY, parsed.auto_reply_reason or "auto-reply")
    if parsed.malformed or not parsed.from_address:
        return inbound.set_outcome(m.MALFORMED, parsed.malformed_reason or "no sender address")
    if routing.is_own_address(parsed.from_address, tenant) or routing.is_our_message_id(parsed.message_id):
        return inbound.set_outcome(m.IGNORED_AUTO_REPLY, "our own message came back")
    limit = tenant_settings(tenant).email_rate_per_hour
    recent = db.session.scalar(
        select(func.count(InboundMessage.id)).where(
            InboundMessage.sender == inbound.sender, InboundMessage.received_at >= utcnow() - RATE_WINDOW
        )
    )
    if recent > limit:
        return inbound.set_outcome(m.RATE_LIMITED, f"more than {limit} messages in an hour")

    from app.accounts.users import find_user
    from app.tickets.policy import can

    sender = find_user(parsed.from_address)
    ticket, routed_by = routing.route(parsed, tenant, envelope_to)
    note = None
    if ticket is not None:
        hold_reason = senders.confirm_sender(parsed, tenant, ticket, routed_by, sender)
        if hold_reason is not None:
            return held.hold(inbound, parsed, tenant, ticket, sender, routed_by, hold_reason, answerable)
        if sender is not None and can(sender, "comment", ticket):
            return comments.add_as_comment(inbound, parsed, tenant, ticket, sender, routed_by, answerable)
        note = f"sender may not comment on {ticket.reference} (routed by {routed_by})"
    return new_requests.new_request(inbound, parsed, tenant, sender, answerable, note)
