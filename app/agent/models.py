"""Agent queues: named presets of the request list's filters, configured per tenant."""

from __future__ import annotations

from sqlalchemy import JSON, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import LocalizedText
from app.extensions import Model
from app.tenancy.scoping import TenantScoped


class Queue(TenantScoped, Model):
    """One queue of the agents' workspace (Targito's "Waiting for PM", Festum's Kofax queue ...)."""

    __tablename__ = "queues"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)
    # The normalized filters of the definition: status, statuses, assignee, portal, request_types,
    # fields, sort (see tenants/README.md).
    filters: Mapped[dict] = mapped_column(JSON, default=dict)
    position: Mapped[int] = mapped_column(Integer, default=0)
