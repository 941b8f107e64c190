"""Batched notifications of requests: each (request, recipient) batch is sent as one e-mail once its
window has passed, and the sweep sends whatever is due. Delivering the e-mails is the outbox's
(``app.outbox.jobs``).
"""

from __future__ import annotations

import logging

from sqlalchemy import select

from app.db_types import utcnow
from app.extensions import db
from app.tenancy.scoping import all_tenants
from app.unit_of_work import atomic

log = logging.getLogger(__name__)


def _batch_job_id(tenant_id: int, ticket_id: int, address: str) -> str:
    import hashlib

    return f"notify-{tenant_id}-{ticket_id}-{hashlib.sha1(address.encode()).hexdigest()[:12]}"


def schedule_batches(batches) -> None:
    """After a commit: have each (request, recipient) batch sent once its window has passed.

    If Redis is down, nothing is lost: the periodic sweep sends whatever is due."""
    from app.jobs import enqueue, get_queue

    for tenant_id, ticket_id, address, due_at in sorted(batches, key=lambda b: b[3]):
        job_id = _batch_job_id(tenant_id, ticket_id, address)
        try:
            if due_at <= utcnow():
                enqueue(send_notification_batch, ticket_id, address, tenant_id=tenant_id, job_id=job_id)
            else:
                get_queue().enqueue_at(
                    due_at, send_notification_batch, ticket_id, address, job_id=job_id, meta={"tenant_id": tenant_id}
                )
        except Exception as exc:  # Redis down: the sweep will pick it up
            log.warning("could not schedule notifications of ticket %s of tenant %s: %s", ticket_id, tenant_id, exc)


def sweep_notifications(now=None) -> int:
    """Send every batch whose oldest notification is due (platform-wide, set-based, idempotent)."""
    from sqlalchemy import func

    from app.jobs import enqueue
    from app.notifications.models import NOTIFICATION_PENDING, Notification

    now = now or utcnow()
    with all_tenants():
        due = db.session.execute(
            select(Notification.tenant_id, Notification.ticket_id, Notification.recipient)
            .where(Notification.status == NOTIFICATION_PENDING)
            .group_by(Notification.tenant_id, Notification.ticket_id, Notification.recipient)
            .having(func.min(Notification.due_at) <= now)
        ).all()
    for tenant_id, ticket_id, address in due:
        enqueue(
            send_notification_batch,
            ticket_id,
            address,
            now.isoformat(),
            tenant_id=tenant_id,
            job_id=_batch_job_id(tenant_id, ticket_id, address),
        )
    return len(due)


def send_notification_batch(ticket_id: int, address: str, now: str | None = None) -> str:
    """Write one e-mail to ``address`` with every pending change of the request (runs in its tenant's
    scope). Idempotent: the outbox row's key is the batch's first notification, so a second run, or
    a second worker, writes nothing more."""
    from datetime import datetime

    from sqlalchemy.exc import IntegrityError

    from app.notifications.composer import compose_update
    from app.notifications.models import NOTIFICATION_PENDING, NOTIFICATION_SENT, Notification
    from app.tenancy.resolution import tenant_context

    moment = datetime.fromisoformat(now) if now else utcnow()
    rows = db.session.scalars(
        select(Notification)
        .where(
            Notification.ticket_id == ticket_id,
            Notification.recipient == address,
            Notification.status == NOTIFICATION_PENDING,
        )
        .order_by(Notification.id)
    ).all()
    if not rows:
        return "nothing"
    if min(r.due_at for r in rows) > moment:
        return "not yet"
    with tenant_context(rows[0].tenant_id):
        try:
            with atomic():
                message = compose_update(rows)
                for row in rows:
                    row.status = NOTIFICATION_SENT
                    row.outbox_message_id = message.id if message is not None else None
                db.session.flush()
        except IntegrityError:  # a twin job wrote this batch meanwhile
            return "skipped"
    return "sent" if message is not None else "dropped"
