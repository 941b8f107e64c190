"""Parse a raw RFC 822 message into a :class:`ParsedMessage`.

Pure functions over the standard library ``email`` package (``policy.default``); no database,
no Flask. The one entry point is :func:`parse_message`, which never raises: whatever cannot be
read is recorded in ``malformed`` / ``malformed_reason`` and the rest is kept, so the intake can
store the message for an agent to look at. :func:`html_to_text` is public too, for callers that
have only an HTML body.

What the fields are for:

- ``message_id``, ``in_reply_to``, ``references``: threading and deduplication (ids without
  angle brackets).
- ``from_*``, ``reply_to``, ``to``, ``cc``: routing (addresses lowercased).
- ``text`` (best plain-text body), ``html`` (raw HTML or ``None``), ``attachments``.
- ``is_auto_reply``, ``is_bounce``, ``bounced_message_id``, ``is_noreply_sender``, ``size``:
  loop protection; ``auto_reply_reason`` says which rule fired, for the record.

Each step has its module: ``headers``, ``bodies`` (with ``charsets`` and ``html_text``),
``attachments`` and ``loops``; the result types are in ``results``. The public API is the four
names of ``__all__``, importable from this package.
"""

from __future__ import annotations

from email import message_from_bytes, policy
from email.message import Message

from app.mailin.parsing.attachments import read_attachments
from app.mailin.parsing.bodies import read_bodies
from app.mailin.parsing.headers import read_addresses, read_date, read_identifiers, read_subject
from app.mailin.parsing.html_text import html_to_text
from app.mailin.parsing.loops import read_loop_signals
from app.mailin.parsing.results import Attachment, ParsedMessage

__all__ = ["Attachment", "ParsedMessage", "html_to_text", "parse_message"]


def parse_message(raw: bytes) -> ParsedMessage:
    """Parse ``raw`` (an RFC 822 message) without ever raising.

    Each field is read on its own; a failure in one is recorded as the ``malformed_reason``
    (the first one wins) and leaves the field at its default.
    """
    if isinstance(raw, str):
        raw = raw.encode("utf-8", "surrogateescape")
    raw = bytes(raw or b"")
    result = ParsedMessage(size=len(raw))
    if not raw.strip():
        _mark_malformed(result, "empty message")
        return result
    try:
        msg = message_from_bytes(raw, policy=policy.default)
    except Exception as exc:  # the parser is lenient, but never trust that
        _mark_malformed(result, f"unparseable message: {type(exc).__name__}")
        return result

    steps = (
        ("identifiers", read_identifiers),
        ("subject", read_subject),
        ("addresses", read_addresses),
        ("date", read_date),
        ("body", read_bodies),
        ("attachments", read_attachments),
        ("loop headers", read_loop_signals),
        ("structure", _read_defects),
    )
    for name, step in steps:
        try:
            step(msg, result)
        except Exception as exc:
            _mark_malformed(result, f"{name}: {type(exc).__name__}")
    return result


def _mark_malformed(result: ParsedMessage, reason: str) -> None:
    result.malformed = True
    if result.malformed_reason is None:
        result.malformed_reason = reason


def _read_defects(msg: Message, result: ParsedMessage) -> None:
    """Record parser defects; structural ones make the message ``malformed``."""
    serious = {
        "NoBoundaryInMultipartDefect",
        "StartBoundaryNotFoundDefect",
        "MultipartInvariantViolationDefect",
        "InvalidMultipartContentTransferEncodingDefect",
    }
    names: list[str] = []
    for part in msg.walk():
        for defect in getattr(part, "defects", ()):
            names.append(type(defect).__name__)
    result.defects = names
    for name in names:
        if name in serious:
            _mark_malformed(result, f"broken MIME structure: {name}")
            break
