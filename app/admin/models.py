"""The configuration audit log: who changed the tenant's configuration, when, and what changed."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped


class ConfigChange(TenantScoped, Model):
    """One applied change of the tenant's definition (console edit, import, onboarding).

    ``changes`` is the SyncReport's list of change entries (``app.tenancy.changes``: data such as
    ``{"action": "created", "kind": "status", "key": "x"}``, worded in the reader's language when
    shown); rows written before that format hold English lines, shown as they are.

    ``summary`` says what the change was about, also as data (``app.admin.summaries``:
    ``{"what": "status", "key": "x"}``, worded in the reader's language); rows written before that
    format hold a JSON string, the text as its writer read it, shown as it is.
    """

    __tablename__ = "config_changes"
    __table_args__ = (Index("ix_config_changes_tenant_created", "tenant_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    # Who, as shown in the log: a tenant admin's e-mail, "operator <e-mail>" or "cli".
    actor_name: Mapped[str] = mapped_column(String(320), default="")
    summary: Mapped[dict | str] = mapped_column(JSON)
    changes: Mapped[list] = mapped_column(JSON, default=list)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
