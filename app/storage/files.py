"""What the portal believes about an uploaded file: a name that is safe on every file system and in
a ``Content-Disposition`` header, and a content type read from the bytes, never from the client.

Used for request attachments (portal and inbound e-mail) and their downloads.
"""

from __future__ import annotations

import mimetypes
import re
import unicodedata

import filetype

MAX_FILENAME_LENGTH = 200
FALLBACK_NAME = "file"

# Windows refuses these as file names, with any extension (CON.txt is CON).
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
# Characters Windows forbids in names, besides the control characters.
_FORBIDDEN = re.compile(r'[<>:"|?*]')


def safe_filename(name: str | None, *, max_length: int = MAX_FILENAME_LENGTH) -> str:
    """The name to store and offer for download.

    Keeps letters of every script (``évkönyv–2026.pdf`` stays readable); drops folders
    (``../../etc/passwd`` is ``passwd``), NUL and other control or format characters, characters
    Windows forbids, and trailing dots and spaces; renames Windows' reserved device names
    (``CON.txt`` → ``_CON.txt``); shortens long names keeping the extension; never empty.
    """
    text = unicodedata.normalize("NFC", str(name or ""))
    text = text.replace("\\", "/").rsplit("/", 1)[-1]
    text = "".join(ch for ch in text if unicodedata.category(ch)[0] != "C")  # Cc, Cf, Cs, Co, Cn
    text = _FORBIDDEN.sub("_", text)
    text = " ".join(text.split())  # tabs and runs of spaces become one space
    text = text.strip(" ").rstrip(". ").lstrip(".")
    if not text:
        return FALLBACK_NAME
    stem, dot, extension = text.rpartition(".")
    if not dot:
        stem, extension = text, ""
    if stem.split(".", 1)[0].rstrip(" ").upper() in _WINDOWS_RESERVED:
        stem = "_" + stem
    extension = extension[:20]
    room = max(1, max_length - (len(extension) + 1 if extension else 0))
    stem = stem[:room].rstrip(". ") or FALLBACK_NAME
    return f"{stem}.{extension}" if extension else stem


# Types a browser would run or render as a page of our origin: never shown inline.
ACTIVE_CONTENT_TYPES = {
    "text/html",
    "application/xhtml+xml",
    "image/svg+xml",
    "text/xml",
    "application/xml",
    "text/javascript",
    "application/javascript",
    "application/x-javascript",
    "application/ecmascript",
    "text/ecmascript",
    "application/pdf+html",
}
_MARKUP = (
    (
        re.compile(rb"^\s*(?:<!--.*?-->\s*)*<\?xml[^>]*>\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+svg|<svg)", re.I | re.S),
        "image/svg+xml",
    ),
    (re.compile(rb"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+svg|<svg)", re.I | re.S), "image/svg+xml"),
    (
        re.compile(
            rb"^\s*(?:<!--.*?-->\s*)*(?:<!doctype\s+html|<html|<head|<body|<script|<iframe|<h1|<div|<p\b|"
            rb"<table|<a\s|<img|<style|<title|<br|<b\b|<font)",
            re.I | re.S,
        ),
        "text/html",
    ),
    (re.compile(rb"^\s*<\?xml", re.I), "application/xml"),
)
SNIFF_BYTES = 8192


def sniff_content_type(head: bytes, filename: str = "") -> str:
    """The content type of a file judged from its first bytes (``filetype``'s signatures of binary
    formats; then markup a browser would render; then, for text, the name's type if it is a text
    type). Whatever the client claimed is ignored: an HTML page sent as ``image/png`` is HTML."""
    kind = filetype.guess(head)
    if kind is not None:
        return kind.mime
    for pattern, content_type in _MARKUP:
        if pattern.search(head[:1024]):
            return content_type
    if _is_text(head):
        guessed, _encoding = mimetypes.guess_type(filename or "", strict=False)
        if guessed and (guessed.startswith(("text/", "message/")) or guessed in ACTIVE_CONTENT_TYPES):
            return guessed
        return "text/plain"
    return "application/octet-stream"


def is_active_content(content_type: str | None) -> bool:
    """Would a browser render or run this type (so it must be downloaded, never shown inline)?"""
    base = (content_type or "").split(";", 1)[0].strip().lower()
    return base in ACTIVE_CONTENT_TYPES or base.endswith("+xml") or "javascript" in base


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as error:
        # The sample may end inside a multi-byte character.
        if error.start < len(head) - 4:
            return False
    return True
