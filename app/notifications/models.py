"""Notifications: the changes of a request that one recipient should hear about, batched into one e-mail
(written to the outbox, ``app.outbox``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped


NOTIFICATION_PENDING = "pending"
NOTIFICATION_SENT = "sent"  # went out in the outbox message ``outbox_message_id``


class Notification(TenantScoped, Model):
    """One change of a request that one recipient should hear about.

    Written in the transaction of the change. Pending notifications of the same request and
    recipient are batched into one e-mail once the oldest has waited the tenant's window
    (``settings.notifications.batch_seconds``): a status change and the agent's comment arrive together.
    """

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("event_id", "recipient"),
        Index("ix_notifications_status_due", "status", "due_at"),
        Index("ix_notifications_tenant_ticket_recipient", "tenant_id", "ticket_id", "recipient", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("ticket_events.id", ondelete="CASCADE"))
    recipient: Mapped[str] = mapped_column(String(320))  # lower-cased address
    recipient_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    audience: Mapped[str] = mapped_column(String(10))  # "customer" or "agent": what the e-mail may show
    status: Mapped[str] = mapped_column(String(10), default=NOTIFICATION_PENDING)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    outbox_message_id: Mapped[int | None] = mapped_column(ForeignKey("outbox_messages.id", ondelete="SET NULL"))
