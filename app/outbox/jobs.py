"""Delivery of outbox messages (RQ jobs) and the sweep that retries whatever is still pending."""

from __future__ import annotations

import logging
import re
from datetime import timedelta
from email import policy as email_policy
from email.headerregistry import HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage
from email.utils import format_datetime, formataddr
from typing import Any, cast

from flask import current_app
from sqlalchemy import select, update
from sqlalchemy.engine import CursorResult

from app.db_types import utcnow
from app.extensions import db
from app.outbox.events import publish_delivery_failed
from app.outbox.links import outbox_message_id
from app.outbox.mailer import MailDeliveryError, MessageBuildError, deliver, header_text, recipient_address
from app.outbox.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OutboxMessage
from app.tenancy.models import Tenant
from app.tenancy.scoping import all_tenants, current_tenant_id
from app.tenancy.settings import tenant_settings

log = logging.getLogger(__name__)


MAX_ATTEMPTS = 8


_HEADER_NAME = re.compile(r"[!-9;-~]{1,76}")  # RFC 5322 2.2: printable ASCII except the colon


STALE_SENDING = timedelta(minutes=10)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2**attempts, 240))


class _URLListHeader(UnstructuredHeader):
    """``List-Unsubscribe`` (RFC 2369): a list of ``<URL>``; never RFC 2047-encoded (mail clients
    would not find the URL), folded only between its items."""

    name: str  # BaseHeader's, which the registry mixes in

    def fold(self, *, policy):
        items = [item.strip() for item in str(self).split(",")]
        return f"{self.name}: " + ("," + policy.linesep + " ").join(items) + policy.linesep


_headers = HeaderRegistry()
_headers.map_to_type("list-unsubscribe", _URLListHeader)  # type: ignore[arg-type]  # the registry adds BaseHeader


MAIL_POLICY = email_policy.default.clone(header_factory=_headers)


def build_email(message: OutboxMessage, tenant: Tenant) -> EmailMessage:
    domain = current_app.config["PORTAL_DOMAIN"].split(":")[0]
    sender = tenant_settings(tenant).support_email or current_app.config["MAIL_FROM"].format(domain=domain)
    email = EmailMessage(policy=MAIL_POLICY)
    # Every header built from text goes through header_text (one line): no header injection.
    email["From"] = formataddr((header_text(tenant.name), header_text(sender)))
    email["To"] = recipient_address(message.recipient)
    email["Subject"] = header_text(message.subject)
    email["Date"] = format_datetime(message.created_at)
    # Stable per outbox row: a retry that does reach the recipient twice is recognised as one message.
    email["Message-ID"] = outbox_message_id(tenant.id, message.id, domain)
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        name = header_text(name)
        if not _HEADER_NAME.fullmatch(name):
            raise MessageBuildError(f"not a valid header name: {name[:100]}")
        email[name] = header_text(value)
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def deliver_outbox_message(message_id: int) -> str:
    """Send one message (runs in its tenant's scope). Idempotent: a sent message is never sent again."""
    claimed = cast(
        "CursorResult[Any]",
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.id == message_id, OutboxMessage.status == OUTBOX_PENDING)
            .values(status=OUTBOX_SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=utcnow())
        ),
    ).rowcount
    # The claim is its own unit, committed before the slow send: a twin job (or the sweep) sees the
    # row taken and never sends it twice. What follows is committed by the job's boundary (AppJob).
    db.session.commit()
    if not claimed:
        return "skipped"
    message = db.session.get_one(OutboxMessage, message_id)  # claimed above, so it exists
    tenant = db.session.get_one(Tenant, current_tenant_id())
    try:
        email = build_email(message, tenant)
    except Exception as exc:  # noqa: BLE001 (building is deterministic: whatever failed, fails every time)
        return _give_up(message, tenant, f"the message could not be built: {exc}")
    try:
        deliver(email)
    except (MessageBuildError, ValueError, TypeError, UnicodeError) as exc:  # refused by the mailer, for good
        return _give_up(message, tenant, f"the message could not be sent: {exc}")
    except MailDeliveryError as exc:
        failed = exc.permanent or message.attempts >= MAX_ATTEMPTS
        message.status = OUTBOX_FAILED if failed else OUTBOX_PENDING
        message.last_error = str(exc)[:1000]
        message.next_attempt_at = utcnow() + _backoff(message.attempts)
        if failed:
            _record_failure(message)
        log.warning(
            "outbox message %s of tenant %s not delivered (attempt %s%s): %s",
            message.id,
            tenant.id,
            message.attempts,
            ", given up" if failed else "",
            exc,
        )
        return "failed" if failed else "retry"
    message.status = OUTBOX_SENT
    message.sent_at = utcnow()
    message.last_error = None
    return "sent"


def _give_up(message: OutboxMessage, tenant: Tenant, reason: str) -> str:
    """A permanent failure: the row is marked failed with its reason (never retried), and agents see it
    on the request's timeline."""
    message.status = OUTBOX_FAILED
    message.last_error = reason[:1000]
    _record_failure(message)
    log.warning("outbox message %s of tenant %s given up: %s", message.id, tenant.id, reason)
    return "failed"


def _record_failure(message: OutboxMessage) -> None:
    """A message that will never arrive: the modules that show it somewhere (its request's timeline)
    are told (``app.outbox.events``)."""
    publish_delivery_failed(message)


def sweep_outbox(now=None) -> int:
    """Enqueue every message that is due (pending, or stuck in 'sending'); a platform-wide, set-based job."""
    from app.jobs import enqueue

    now = now or utcnow()
    with all_tenants():
        stale = (OutboxMessage.status == OUTBOX_SENDING) & (OutboxMessage.next_attempt_at <= now - STALE_SENDING)
        # A message whose delivery crashed the worker every time is given up, not retried forever.
        db.session.execute(
            update(OutboxMessage)
            .where(stale, OutboxMessage.attempts >= MAX_ATTEMPTS)
            .values(status=OUTBOX_FAILED, last_error="delivery was interrupted too many times")
        )
        db.session.execute(update(OutboxMessage).where(stale).values(status=OUTBOX_PENDING))
        # Committed before enqueueing: the delivery jobs run in other transactions and must find
        # these rows pending again.
        db.session.commit()
        due = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.tenant_id)
            .where(OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
        ).all()
    for message_id, tenant_id in due:
        enqueue(deliver_outbox_message, message_id, tenant_id=tenant_id)
    return len(due)
