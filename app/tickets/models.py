"""Requests (tickets) and everything that hangs on them."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, BigInteger, Boolean, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from app.accounts.models import Organization, User
from app.catalog.models import Field, Portal, RequestType
from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped
from app.workflow.models import Status

CHANNELS = ("portal", "email", "phone")


class TicketSequence(TenantScoped, Model):
    """The last ticket number handed out at a tenant; incremented in the ticket's transaction."""

    __tablename__ = "ticket_sequences"
    __table_args__ = (UniqueConstraint("tenant_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    last_number: Mapped[int] = mapped_column(Integer, default=0)


class Ticket(TenantScoped, Model):
    __tablename__ = "tickets"
    __table_args__ = (
        UniqueConstraint("tenant_id", "number"),
        UniqueConstraint("tenant_id", "reference"),
        Index("ix_tickets_tenant_requester_status", "tenant_id", "requester_id", "status_id"),
        Index("ix_tickets_tenant_status_updated", "tenant_id", "status_id", "updated_at"),
        Index("ix_tickets_tenant_updated", "tenant_id", "updated_at"),
        # The automation sweep: requests of a status that entered it before a cutoff.
        Index("ix_tickets_tenant_status_changed", "tenant_id", "status_id", "status_changed_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[int] = mapped_column(Integer)
    reference: Mapped[str] = mapped_column(String(30))  # e.g. TAR-123
    portal_id: Mapped[int] = mapped_column(ForeignKey("portals.id"))
    request_type_id: Mapped[int] = mapped_column(ForeignKey("request_types.id"))
    status_id: Mapped[int] = mapped_column(ForeignKey("statuses.id"))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str] = mapped_column(Text, default="")
    requester_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str] = mapped_column(String(10), default="portal")
    # When the ticket entered its current status: time rules count from here.
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # SLA clocks (app.automation.sla): the first public reply of support, the due moments (already
    # moved on by the time spent waiting for the customer), and the pause in progress.
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_response_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_resolution_due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    portal: Mapped[Portal] = relationship()
    request_type: Mapped[RequestType] = relationship()
    status: Mapped[Status] = relationship()
    requester: Mapped[User] = relationship(foreign_keys=[requester_id])
    created_by: Mapped[User | None] = relationship(foreign_keys=[created_by_id])
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])
    field_values: Mapped[list["TicketFieldValue"]] = relationship(back_populates="ticket", cascade="all, delete-orphan")


class TicketFieldValue(TenantScoped, Model):
    __tablename__ = "ticket_field_values"
    __table_args__ = (
        UniqueConstraint("ticket_id", "field_id"),
        Index("ix_ticket_field_values_tenant_field_text", "tenant_id", "field_id", "value_text"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    field_id: Mapped[int] = mapped_column(ForeignKey("fields.id"))
    value: Mapped[object | None] = mapped_column(JSON)
    # The value as plain text (option keys space-joined for multi-selects), for filters and search.
    value_text: Mapped[str | None] = mapped_column(String(1000))

    @staticmethod
    def text_of(value) -> str | None:
        if value is None:
            return None
        if isinstance(value, list):
            return " ".join(str(v) for v in value)[:1000]
        if isinstance(value, bool):
            return "true" if value else "false"
        return str(value)[:1000]

    ticket: Mapped[Ticket] = relationship(back_populates="field_values")
    field: Mapped[Field] = relationship()


class Comment(TenantScoped, Model):
    __tablename__ = "comments"
    __table_args__ = (Index("ix_comments_tenant_ticket_created", "tenant_id", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # null: the system
    body: Mapped[str] = mapped_column(Text)
    is_internal: Mapped[bool] = mapped_column(Boolean, default=False)
    channel: Mapped[str] = mapped_column(String(10), default="portal")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    author: Mapped[User | None] = relationship()


class Attachment(TenantScoped, Model):
    __tablename__ = "attachments"
    __table_args__ = (Index("ix_attachments_tenant_ticket", "tenant_id", "ticket_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    storage_key: Mapped[str] = mapped_column(String(300), unique=True)  # <tenant>/<ticket>/<uuid>
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size: Mapped[int] = mapped_column(BigInteger)
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Participant(TenantScoped, Model):
    """Someone the request is shared with by name (Flexinform's "Megosztás")."""

    __tablename__ = "participants"
    __table_args__ = (
        UniqueConstraint("ticket_id", "user_id"),
        Index("ix_participants_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    added_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Watcher(TenantScoped, Model):
    """Someone who gets the request's notifications (the bell, "Értesítést kérek")."""

    __tablename__ = "watchers"
    __table_args__ = (
        UniqueConstraint("ticket_id", "user_id"),
        Index("ix_watchers_tenant_user", "tenant_id", "user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TicketOrganization(TenantScoped, Model):
    """The request is shared with (visible to) the members of this organization."""

    __tablename__ = "ticket_organizations"
    __table_args__ = (
        UniqueConstraint("ticket_id", "organization_id"),
        Index("ix_ticket_organizations_tenant_org", "tenant_id", "organization_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    organization_id: Mapped[int] = mapped_column(ForeignKey("organizations.id", ondelete="CASCADE"))

    organization: Mapped[Organization] = relationship()


class TicketEvent(TenantScoped, Model):
    """One entry of a request's timeline: everything that happened to it, by whom, when."""

    __tablename__ = "ticket_events"
    __table_args__ = (Index("ix_ticket_events_tenant_ticket_created", "tenant_id", "ticket_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))  # null: the system
    kind: Mapped[str] = mapped_column(String(40))  # created, status_changed, commented, ...
    data: Mapped[dict] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    ticket: Mapped[Ticket] = relationship()


class TicketLink(TenantScoped, Model):
    """Two related requests; ``kind`` is "relates" or "duplicate" (ticket is a duplicate of other)."""

    __tablename__ = "ticket_links"
    __table_args__ = (
        UniqueConstraint("ticket_id", "other_id"),
        Index("ix_ticket_links_tenant_other", "tenant_id", "other_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    other_id: Mapped[int] = mapped_column(ForeignKey("tickets.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default="relates")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
