"""Inbound e-mail: every message received (whatever became of it), and the mailboxes polled over IMAP."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, ForeignKey, Index, Integer, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column

from app.db_types import UTCDateTime, utcnow
from app.extensions import Model
from app.tenancy.scoping import TenantScoped

# What became of a message (``InboundMessage.outcome``).
RECEIVED = "received"  # stored, not processed yet (or processing failed before it finished)
COMMENT = "comment"  # added as a comment to its request
CREATED = "created"  # created a new request
REJECTED = "rejected"  # refused; the sender was told why (unless they must never be answered)
IGNORED_AUTO_REPLY = "ignored_auto_reply"
BOUNCE = "bounce"
MALFORMED = "malformed"  # kept for an agent to look at
RATE_LIMITED = "rate_limited"
TOO_LARGE = "too_large"
FAILED = "failed"  # an unexpected error while processing; kept for an agent to look at
# A reply that claims a request but whose sender could not be confirmed (``hold_reason`` says why):
# shown to the request's agents, who add it (``comment``) or set it aside (``discarded``, still stored).
HELD = "held"
DISCARDED = "discarded"
OUTCOMES = (
    RECEIVED,
    COMMENT,
    CREATED,
    REJECTED,
    IGNORED_AUTO_REPLY,
    BOUNCE,
    MALFORMED,
    RATE_LIMITED,
    TOO_LARGE,
    FAILED,
    HELD,
    DISCARDED,
)

# Why a reply was held (``InboundMessage.hold_reason``): codes, worded for agents where they are shown.
HOLD_NOT_PARTICIPANT = "not_participant"  # the sender takes no part in the request (or has no account)
HOLD_OTHER_RECIPIENT = "other_recipient"  # a reply address we gave someone else (a forwarded e-mail)
HOLD_SUBJECT_TAG = "subject_tag"  # only the subject names the request
HOLD_UNCONFIRMED_THREAD = "unconfirmed_thread"  # the threading headers name no e-mail we sent to the sender
HOLD_REASONS = (HOLD_NOT_PARTICIPANT, HOLD_OTHER_RECIPIENT, HOLD_SUBJECT_TAG, HOLD_UNCONFIRMED_THREAD)
# Not stored: a message seen before is returned as the row that first stored it, marked ``duplicate``.
DUPLICATE = "duplicate"


class InboundMessage(TenantScoped, Model):
    """One e-mail received for a tenant, stored once per Message-ID; the raw original is in storage."""

    __tablename__ = "inbound_messages"
    __table_args__ = (
        UniqueConstraint("tenant_id", "message_id"),
        Index("ix_inbound_messages_tenant_sender_received", "tenant_id", "sender", "received_at"),
        Index("ix_inbound_messages_tenant_ticket", "tenant_id", "ticket_id"),
        Index("ix_inbound_messages_tenant_comment", "tenant_id", "comment_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # The Message-ID without angle brackets; "sha256:<digest of the raw message>" when it has none.
    message_id: Mapped[str] = mapped_column(String(500))
    sender: Mapped[str] = mapped_column(String(320), default="")  # the From address, lower-cased
    subject: Mapped[str] = mapped_column(String(500), default="")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    size: Mapped[int] = mapped_column(Integer, default=0)
    source: Mapped[str] = mapped_column(String(10), default="cli")  # cli, http, imap
    raw_key: Mapped[str | None] = mapped_column(String(300))  # <tenant>/mail/<uuid> in the storage layer
    outcome: Mapped[str] = mapped_column(String(20), default=RECEIVED)
    reason: Mapped[str | None] = mapped_column(String(500))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id", ondelete="SET NULL"))
    comment_id: Mapped[int | None] = mapped_column(ForeignKey("comments.id", ondelete="SET NULL"))
    # For a held reply: why (one of ``HOLD_REASONS``); kept after an agent's review, with who and when.
    hold_reason: Mapped[str | None] = mapped_column(String(40))
    reviewed_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    reviewed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Set (not stored) when ``ingest`` met this message a second time.
    duplicate = False

    def set_outcome(self, outcome: str, reason: str | None = None) -> None:
        """Record what became of the message and why (the reason cut to its column)."""
        self.outcome = outcome
        self.reason = reason[:500] if reason else None


class Mailbox(TenantScoped, Model):
    """A tenant's support mailbox, polled over IMAP; the password is stored encrypted (Fernet)."""

    __tablename__ = "mailboxes"
    __table_args__ = (UniqueConstraint("tenant_id", "host", "username", "folder"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    port: Mapped[int] = mapped_column(Integer, default=993)
    # "ssl" (IMAPS), "starttls", or "none" (only for a local test server).
    security: Mapped[str] = mapped_column(String(10), default="ssl")
    username: Mapped[str] = mapped_column(String(320))
    password_encrypted: Mapped[str] = mapped_column(String(1000))
    folder: Mapped[str] = mapped_column(String(255), default="INBOX")
    # Where stored messages are moved; empty: they are only flagged \Seen.
    processed_folder: Mapped[str | None] = mapped_column(String(255))
    enabled: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    verify_certificate: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    last_polled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(500))
    failing: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
