"""Delivery of outbox messages (RQ jobs) and the sweep that retries whatever is still pending."""
from __future__ import annotations

import logging
from datetime import timedelta
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

from flask import current_app
from sqlalchemy import select, update

from app.db_types import utcnow
from app.extensions import db
from app.notifications.mailer import MailDeliveryError, deliver
from app.notifications.models import OUTBOX_FAILED, OUTBOX_PENDING, OUTBOX_SENDING, OUTBOX_SENT, OutboxMessage
from app.tenancy.models import Tenant
from app.tenancy.scoping import all_tenants, current_tenant_id

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 8
STALE_SENDING = timedelta(minutes=10)


def _backoff(attempts: int) -> timedelta:
    return timedelta(minutes=min(2 ** attempts, 240))


def build_email(message: OutboxMessage, tenant: Tenant) -> EmailMessage:
    domain = current_app.config["PORTAL_DOMAIN"].split(":")[0]
    sender = (tenant.settings or {}).get("support_email") or current_app.config["MAIL_FROM"].format(domain=domain)
    email = EmailMessage()
    email["From"] = formataddr((tenant.name, sender))
    email["To"] = message.recipient
    email["Subject"] = message.subject
    email["Date"] = format_datetime(message.created_at)
    # Stable per outbox row: a retry that does reach the recipient twice is recognised as one message.
    email["Message-ID"] = f"<outbox-{tenant.id}-{message.id}@{domain}>"
    email["Auto-Submitted"] = "auto-generated"
    for name, value in (message.headers or {}).items():
        email[name] = value
    email.set_content(message.body_text)
    if message.body_html:
        email.add_alternative(message.body_html, subtype="html")
    return email


def deliver_outbox_message(message_id: int) -> str:
    """Send one message (runs in its tenant's scope). Idempotent: a sent message is never sent again."""
    claimed = db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status == OUTBOX_PENDING)
        .values(status=OUTBOX_SENDING, attempts=OutboxMessage.attempts + 1, next_attempt_at=utcnow())
    ).rowcount
    db.session.commit()
    if not claimed:
        return "skipped"
    message = db.session.get(OutboxMessage, message_id)
    tenant = db.session.get(Tenant, current_tenant_id())
    try:
        deliver(build_email(message, tenant))
    except MailDeliveryError as exc:
        message.status = OUTBOX_FAILED if message.attempts >= MAX_ATTEMPTS else OUTBOX_PENDING
        message.last_error = str(exc)[:1000]
        message.next_attempt_at = utcnow() + _backoff(message.attempts)
        db.session.commit()
        log.warning("outbox message %s of tenant %s not delivered (attempt %s): %s",
                    message.id, tenant.id, message.attempts, exc)
        return "retry"
    message.status = OUTBOX_SENT
    message.sent_at = utcnow()
    message.last_error = None
    db.session.commit()
    return "sent"


def sweep_outbox(now=None) -> int:
    """Enqueue every message that is due (pending, or stuck in 'sending'); a platform-wide, set-based job."""
    from app.jobs import enqueue

    now = now or utcnow()
    with all_tenants():
        db.session.execute(
            update(OutboxMessage)
            .where(OutboxMessage.status == OUTBOX_SENDING, OutboxMessage.next_attempt_at <= now - STALE_SENDING)
            .values(status=OUTBOX_PENDING)
        )
        db.session.commit()
        due = db.session.execute(
            select(OutboxMessage.id, OutboxMessage.tenant_id)
            .where(OutboxMessage.status == OUTBOX_PENDING, OutboxMessage.next_attempt_at <= now)
            .order_by(OutboxMessage.id)
        ).all()
    for message_id, tenant_id in due:
        enqueue(deliver_outbox_message, message_id, tenant_id=tenant_id)
    return len(due)
