"""Statuses, workflows and the transitions between statuses."""

from __future__ import annotations

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, UniqueConstraint, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.db_types import LocalizedText
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

# Every status belongs to one category; lists ("open requests"), automation and SLA use these.
STATUS_CATEGORIES = ("open", "waiting", "resolved", "closed")
ACTORS = ("customer", "agent", "system")


class Status(TenantScoped, Model):
    __tablename__ = "statuses"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)  # as agents see it
    customer_name: Mapped[dict] = mapped_column(LocalizedText)  # as customers see it
    category: Mapped[str] = mapped_column(String(20))
    color: Mapped[str] = mapped_column(String(7), default="#6c757d")
    position: Mapped[int] = mapped_column(Integer, default=0)
    # Entering this status notifies the customers following the request (Targito's Open does not).
    notify: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())

    @property
    def is_final(self) -> bool:
        return self.category == "closed"


class Workflow(TenantScoped, Model):
    __tablename__ = "workflows"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)
    initial_status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))

    initial_status: Mapped[Status] = relationship()
    transitions: Mapped[list["Transition"]] = relationship(
        back_populates="workflow", order_by="Transition.position", cascade="all, delete-orphan"
    )


class Transition(TenantScoped, Model):
    """A move from one status (or any, when ``from_status_id`` is null) to another."""

    __tablename__ = "transitions"
    __table_args__ = (UniqueConstraint("workflow_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    workflow_id: Mapped[int] = mapped_column(ForeignKey("workflows.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)  # the action's label, e.g. "Confirm"
    from_status_id: Mapped[int | None] = mapped_column(ForeignKey("statuses.id"))
    to_status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
    actors: Mapped[list] = mapped_column(JSON)  # subset of ACTORS
    # What the actor must give: "comment", or field keys (Targito's list of information needed).
    requires: Mapped[list] = mapped_column(JSON, default=list)
    position: Mapped[int] = mapped_column(Integer, default=0)

    workflow: Mapped[Workflow] = relationship(back_populates="transitions")
    from_status: Mapped[Status | None] = relationship(foreign_keys=[from_status_id])
    to_status: Mapped[Status] = relationship(foreign_keys=[to_status_id])
