"""What parsing an inbound message yields: the message's fields and its files."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass
class Attachment:
    """A file carried by the message (including inline images referenced by ``cid:``)."""

    filename: str
    content_type: str
    data: bytes
    content_id: str | None = None
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMessage:
    """Everything the routing needs from one inbound message."""

    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    subject: str = ""
    from_name: str = ""
    from_address: str = ""
    reply_to: str | None = None
    to: list[str] = field(default_factory=list)
    cc: list[str] = field(default_factory=list)
    date: datetime | None = None
    text: str = ""
    text_is_from_html: bool = False
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    auto_submitted: str | None = None
    is_auto_reply: bool = False
    auto_reply_reason: str | None = None
    is_bounce: bool = False
    bounced_message_id: str | None = None
    is_noreply_sender: bool = False
    size: int = 0
    malformed: bool = False
    malformed_reason: str | None = None
    defects: list[str] = field(default_factory=list)
