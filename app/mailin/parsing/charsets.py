"""Turning the bytes of a header or a part into text, whatever charset a mailer declared (or got wrong)."""

from __future__ import annotations

import codecs
from email.message import Message


_CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "utf8": "utf-8",
    "x-unknown": "",
    "unknown-8bit": "",
    "ks_c_5601-1987": "cp949",
    "x-sjis": "shift_jis",
    "iso-8859-8-i": "iso-8859-8",
}


def decode_bytes(data: bytes, charset: str | None) -> str:
    """Decode ``data`` declared as ``charset``; never raises.

    Order: the declared charset strictly; UTF-8 strictly (the usual truth behind a wrong or
    missing declaration); the declared charset with replacement characters; Latin-1.
    US-ASCII declarations are treated as "unknown" because mailers use them for 8-bit text.
    """
    codec = _lookup_charset(charset)
    if codec and codec not in ("ascii",):
        try:
            return data.decode(codec)
        except (UnicodeDecodeError, LookupError):
            pass
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    if codec and codec not in ("ascii", "utf-8"):
        try:
            return data.decode(codec, errors="replace")
        except (LookupError, UnicodeDecodeError):
            pass
    if codec == "utf-8":
        return data.decode("utf-8", errors="replace")
    return data.decode("latin-1")


def _lookup_charset(charset: str | None) -> str | None:
    if not charset:
        return None
    name = str(charset).strip().strip('"').lower()
    name = _CHARSET_ALIASES.get(name, name)
    if not name:
        return None
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def part_text(part: Message) -> str:
    """The decoded text of a leaf part (transfer encoding and charset)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        if isinstance(payload, str):
            return fix_surrogates(payload)
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload, charset)


def fix_surrogates(value: str) -> str:
    """Undo ``surrogateescape`` from raw 8-bit headers (RFC 6532 UTF-8, or a legacy charset)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, None)
