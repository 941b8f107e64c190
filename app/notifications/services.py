"""Queue e-mails in the outbox, rendered in the recipient's language with the tenant's branding.

``queue_email`` renders ``templates/<name>.txt`` and ``.html`` and writes an outbox row in the
caller's transaction; once that transaction commits, a delivery job is enqueued. If Redis is down
at that moment, nothing is lost: the periodic sweep (``app.notifications.jobs.sweep_outbox``)
enqueues every message still pending.
"""

from __future__ import annotations

import logging

from flask import g, render_template
from flask_babel import force_locale
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.notifications.models import OutboxMessage
from app.tenancy.scoping import current_tenant_id
from app.tenancy.settings import tenant_settings

log = logging.getLogger(__name__)
_PENDING_KEY = "outbox_enqueue"


def recipient_locale(user=None) -> str:
    tenant = g.get("tenant")
    if user is not None and user.locale and (tenant is None or user.locale in tenant.locales):
        return user.locale
    return tenant.default_locale if tenant is not None else "en"


def queue_email(
    *,
    kind: str,
    to: str,
    template: str,
    idempotency_key: str,
    user=None,
    locale: str | None = None,
    headers: dict | None = None,
    ticket_id: int | None = None,
    **context,
) -> OutboxMessage:
    """Render and queue one e-mail. The caller commits (the e-mail goes only if the change does)."""
    existing = db.session.execute(
        select(OutboxMessage).where(OutboxMessage.idempotency_key == idempotency_key)
    ).scalar_one_or_none()
    if existing is not None:
        return existing
    with force_locale(locale or recipient_locale(user)):
        subject = render_template(f"{template}.subject.txt", user=user, **context).strip()
        text = render_template(f"{template}.txt", user=user, **context)
        html = render_template(f"{template}.html", user=user, subject=subject, **context)
    message = OutboxMessage(
        kind=kind,
        recipient=to,
        recipient_user_id=user.id if user else None,
        subject=subject,
        body_text=text,
        body_html=html,
        idempotency_key=idempotency_key,
        headers=dict(headers or {}),
        ticket_id=ticket_id,
    )
    db.session.add(message)
    db.session.flush()
    db.session.info.setdefault(_PENDING_KEY, []).append((message.id, current_tenant_id()))
    return message


@event.listens_for(Session, "after_commit")
def _enqueue_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    from app.jobs import enqueue
    from app.notifications.jobs import deliver_outbox_message

    for message_id, tenant_id in pending:
        try:
            enqueue(deliver_outbox_message, message_id, tenant_id=tenant_id, job_id=f"outbox-{tenant_id}-{message_id}")
        except Exception as exc:  # Redis down: the sweep will pick it up
            log.warning("could not enqueue outbox message %s of tenant %s: %s", message_id, tenant_id, exc)


@event.listens_for(Session, "after_rollback")
def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)


def stop_notifications(ticket, user, address: str) -> None:
    """ "Stop notifications for this request" from an e-mail: the user stops watching it; a bare CC
    address is taken off the request's CC field. Idempotent; the request's timeline records it."""
    from app.tickets.conversation import set_watching

    if user is not None:
        set_watching(ticket, user, False)
        return
    from app.notifications.settings import cc_addresses
    from app.tickets.services import update_details

    key = tenant_settings(g.tenant).notifications.cc_field
    if not key:
        return
    from app.catalog.models import Field
    from app.tickets.models import TicketFieldValue

    text = db.session.execute(
        select(TicketFieldValue.value_text)
        .join(Field, TicketFieldValue.field_id == Field.id)
        .where(TicketFieldValue.ticket_id == ticket.id, Field.key == key)
    ).scalar_one_or_none()
    remaining = [a for a in cc_addresses(text) if a != address.lower()]
    if len(remaining) != len(cc_addresses(text)):
        update_details(ticket, None, {key: ", ".join(remaining)})
