"""Reading the headers: identifiers for threading, the subject, the addresses and the date.

Values are read raw where the structured header classes of the ``email`` package could choke on
what some mailers write, and RFC 2047 encoded words are decoded leniently.
"""

from __future__ import annotations

import re
from datetime import timezone
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses, parsedate_to_datetime

from app.mailin.parsing.charsets import decode_bytes, fix_surrogates
from app.mailin.parsing.results import ParsedMessage


_MESSAGE_ID_RE = re.compile(r"<\s*([^<>\s]+?)\s*>")


def raw_header(msg: Message, name: str) -> str | None:
    """The header's unparsed value (first occurrence), unfolded; ``None`` when absent.

    Reading the raw value sidesteps the structured header classes, which can choke on the
    garbage some mailers put into ``Message-ID`` or ``References``.
    """
    lowered = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lowered:
            return fix_surrogates(re.sub(r"\r?\n[ \t]+", " ", str(value))).strip()
    return None


def _header_text(msg: Message, name: str) -> str | None:
    """The header decoded from RFC 2047 (falls back to the raw value)."""
    try:
        value = msg.get(name)
        if value is None:
            return None
        return fix_surrogates(str(value)).strip()
    except Exception:
        raw = raw_header(msg, name)
        return decode_words(raw) if raw is not None else None


def normalize_message_id(value: str | None) -> str | None:
    """``<abc@host>`` → ``abc@host``; ``None`` for an empty value."""
    if not value:
        return None
    ids = _message_ids(value)
    if ids:
        return ids[0]
    cleaned = value.strip().strip("<>").strip()
    return cleaned or None


def _message_ids(value: str | None) -> list[str]:
    """All message ids in a ``References`` / ``In-Reply-To`` value, in order, de-duplicated."""
    if not value:
        return []
    found = _MESSAGE_ID_RE.findall(value)
    if not found:  # some mailers omit the angle brackets
        found = [token for token in value.split() if "@" in token]
    seen: list[str] = []
    for item in found:
        item = item.strip()
        if item and item not in seen:
            seen.append(item)
    return seen


def read_identifiers(msg: Message, result: ParsedMessage) -> None:
    result.message_id = normalize_message_id(raw_header(msg, "Message-ID"))
    result.in_reply_to = _message_ids(raw_header(msg, "In-Reply-To"))
    result.references = _message_ids(raw_header(msg, "References"))


def read_subject(msg: Message, result: ParsedMessage) -> None:
    result.subject = re.sub(r"\s+", " ", _header_text(msg, "Subject") or "").strip()


def read_addresses(msg: Message, result: ParsedMessage) -> None:
    senders = _addresses(msg, "From")
    if senders:
        result.from_name, result.from_address = senders[0]
    reply_to = _addresses(msg, "Reply-To")
    result.reply_to = reply_to[0][1] if reply_to else None
    result.to = [address for _, address in _addresses(msg, "To")]
    result.cc = [address for _, address in _addresses(msg, "Cc")]


def _addresses(msg: Message, name: str) -> list[tuple[str, str]]:
    """``(display name, lowercased address)`` pairs of an address header."""
    pairs: list[tuple[str, str]] = []
    try:
        headers = msg.get_all(name) or []
        for header in headers:
            for address in getattr(header, "addresses", ()):
                pairs.append((fix_surrogates(address.display_name or ""), fix_surrogates(address.addr_spec or "")))
    except Exception:
        pairs = []
    if not pairs or not any("@" in address for _, address in pairs):
        raw = raw_header(msg, name)
        if raw:
            pairs = [(decode_words(display), address) for display, address in getaddresses([raw])]
    cleaned = []
    for display, address in pairs:
        address = address.strip().strip("<>").lower()
        if address and address != "<>":
            cleaned.append((display.strip().strip('"').strip(), address))
    return cleaned


def read_date(msg: Message, result: ParsedMessage) -> None:
    raw = raw_header(msg, "Date")
    if not raw:
        return
    try:
        parsed = parsedate_to_datetime(raw)
    except (TypeError, ValueError, IndexError):
        return
    if parsed is None:
        return
    if parsed.tzinfo is None:  # "-0000": time zone unknown; RFC 5322 says treat as UTC
        parsed = parsed.replace(tzinfo=timezone.utc)
    result.date = parsed.astimezone(timezone.utc)


def decode_words(value: str) -> str:
    """Decode RFC 2047 encoded words, tolerating unknown charsets and broken encodings."""
    if "=?" not in value:
        return value
    try:
        return str(make_header(decode_header(value)))
    except Exception:
        pieces = []
        try:
            for chunk, charset in decode_header(value):
                if isinstance(chunk, bytes):
                    pieces.append(decode_bytes(chunk, charset))
                else:
                    pieces.append(chunk)
            return "".join(pieces)
        except Exception:
            return value
