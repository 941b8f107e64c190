"""Automation rules: time rules (status age) and event rules (a reply on a waiting request)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import LocalizedText, UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

TRIGGERS = ("status_age", "customer_comment", "email_reply", "status_entered")


class AutomationRule(TenantScoped, Model):
    __tablename__ = "automation_rules"
    __table_args__ = (UniqueConstraint("tenant_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(63))
    name: Mapped[dict] = mapped_column(LocalizedText)
    trigger: Mapped[str] = mapped_column(String(30))
    # e.g. {"status": "resolved", "after": "P7D", "clock": "calendar"}
    conditions: Mapped[dict] = mapped_column(JSON, default=dict)
    # e.g. [{"transition_to": "done"}, {"comment": {"en": "...", "hu": "..."}}]
    actions: Mapped[list] = mapped_column(JSON, default=list)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    position: Mapped[int] = mapped_column(Integer, default=0)


class SatisfactionRating(TenantScoped, Model):
    """A requester's 1–5 rating of how a request was handled, with an optional comment (Exea)."""

    __tablename__ = "satisfaction_ratings"
    __table_args__ = (UniqueConstraint("ticket_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    score: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaPolicy(TenantScoped, Model):
    """A tenant's SLA targets (the definition's ``sla`` key, normalized): which clock, which field
    picks the target (priority/severity), the targets per option, the "breaching soon" window."""

    __tablename__ = "sla_policies"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    definition: Mapped[dict] = mapped_column(JSON, default=dict)


class AutomationFiring(TenantScoped, Model):
    """A time rule without a status change (comment or notify only) fired for a request's stay in
    a status: one row per rule, request and the moment it entered the status, so it fires once."""

    __tablename__ = "automation_firings"
    __table_args__ = (UniqueConstraint("tenant_id", "rule_id", "ticket_id", "entered_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    rule_id: Mapped[int] = mapped_column(ForeignKey("automation_rules.id", ondelete="CASCADE"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"), index=True)
    entered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
