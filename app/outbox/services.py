"""Queue e-mails in the outbox, rendered in the recipient's language with the tenant's branding.

``queue_email`` renders ``templates/<name>.txt`` and ``.html`` and writes an outbox row in the
caller's transaction; once that transaction commits, a delivery job is enqueued (hooks connected by
``init_app``, from ``create_app``). If Redis is down at that moment, nothing is lost: the periodic
sweep (``app.outbox.jobs.sweep_outbox``) enqueues every message still pending.

Also the two things every e-mail about a request shows: the tenant's support address (the sender,
and the base of the signed reply addresses) and the subject tag.
"""

from __future__ import annotations

import logging

from flask import Flask, current_app, g, render_template
from flask_babel import force_locale
from sqlalchemy import event as orm_event, select
from sqlalchemy.orm import Session

from app.extensions import db
from app.outbox.models import OutboxMessage
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


def support_address(tenant) -> str:
    domain = current_app.config["PORTAL_DOMAIN"].split(":")[0]
    return tenant_settings(tenant).support_email or current_app.config["MAIL_FROM"].format(domain=domain)


def subject_tag(tenant, ticket) -> str:
    """``[TAR-123]`` by default; the tenant's format otherwise (Festum: ``Festum #{number}``)."""
    pattern = tenant_settings(tenant).subject_tag
    try:
        return "[" + pattern.format(reference=ticket.reference, number=ticket.number) + "]"
    except (KeyError, IndexError, ValueError):
        return f"[{ticket.reference}]"


def init_app(app: Flask) -> None:
    """Enqueue the delivery of the e-mails a transaction queued once it commits (and forget them on a
    rollback). The hooks are the Session class's, registered once for every app; explicit here, so
    that importing the outbox connects nothing."""
    for name, hook in (("after_commit", _enqueue_after_commit), ("after_rollback", _forget_after_rollback)):
        if not orm_event.contains(Session, name, hook):
            orm_event.listen(Session, name, hook)


def _enqueue_after_commit(session: Session) -> None:
    pending = session.info.pop(_PENDING_KEY, None)
    if not pending:
        return
    from app.jobs import enqueue
    from app.outbox.jobs import deliver_outbox_message

    for message_id, tenant_id in pending:
        try:
            enqueue(deliver_outbox_message, message_id, tenant_id=tenant_id, job_id=f"outbox-{tenant_id}-{message_id}")
        except Exception as exc:  # Redis down: the sweep will pick it up
            log.warning("could not enqueue outbox message %s of tenant %s: %s", message_id, tenant_id, exc)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
