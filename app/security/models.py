"""The security event trail, one row per event, per tenant (or the platform, ``tenant_id`` NULL)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import Model


class SecurityEvent(Model):
    """Something a security reviewer asks about: who signed in, failed, was locked out, changed a
    role or an address, exported or imported, suspended a vendor.

    Stored as data (``kind`` and ``params``) and worded when shown, in the reader's language
    (``app.security.events.describe_event``). Not ``TenantScoped``: platform events (the operator's
    sign-ins, suspensions) have no tenant, and a failed sign-in must be written whatever scope the
    request is in; readers always filter by tenant explicitly (``services.events_for_tenant``).
    """

    __tablename__ = "security_events"
    __table_args__ = (Index("ix_security_events_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    tenant_id: Mapped[int | None] = mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(40))
    # Who did it: a user of the tenant, or an operator, or nobody (a failed sign-in, the CLI).
    actor_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor_operator_id: Mapped[int | None] = mapped_column(Integer)
    # Whom it concerns (the account signed in, the user whose role changed), if anyone.
    subject_user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # The e-mail address as typed or as it was then (a failed sign-in names no account).
    email: Mapped[str] = mapped_column(String(320), default="")
    ip: Mapped[str] = mapped_column(String(64), default="")
    params: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
