"""Reply stripping: keep only what the sender wrote above the quoted history and signature.

``strip_reply(text)`` works on plain text (use :func:`app.mailin.parsing.html_to_text` first for
HTML-only mail) and returns a :class:`StrippedReply` with three parts that together hold every
line of the input: ``visible`` (the new text), ``quoted`` (history, forwarded headers, our own
notification below the marker) and ``signature``.

Approach (studied from discourse/email_reply_trimmer, github/email_reply_parser, mailgun/talon
and crisp-oss/email-reply-parser; written from scratch):

1. Normalise line endings, a leading BOM and no-break spaces.
2. Find the first *cut line*, scanning top-down. A cut line is one of: our "reply above this
   line" marker; a quote attribution ("On … wrote:", "… írta:", "… kirjoitti:",
   "… napsal(a):", "… napisał(a):" and other languages, also wrapped over up to three lines); an
   "Original Message" separator; a forwarded-message separator; an Outlook-style header block
   (From:/Sent:/To:/Subject: and translations, at least three header lines, one of them a
   "From"); an Outlook rule line (a row of underscores); or a line starting with ``>``.
3. If the sender wrote something above the cut line, that is the visible text and everything
   from the cut line on is quoted.
4. If nothing was written above it (judgement calls, see below), the message *starts* with
   quoted material:

   - a forwarded message or header block with nothing above it: the sender forwarded a message
     to us without comment, so the forwarded message's own body is what they want to submit;
     its separator and header lines become ``quoted`` and its body is stripped in turn;
   - an attribution followed by a ``>`` quote and then unquoted text: a bottom-posted reply;
     the text after the quote is visible;
   - an attribution followed by unquoted (e.g. indented) text: Outlook's forward/reply
     without ``>``; that text is treated as above;
   - only quoted text and nothing else: the quote itself stays visible, so nothing the sender
     sent disappears silently (discourse does the same);
   - our own marker is never "nothing above": a reply with nothing above the marker has an empty
     visible text, because everything below it is our own notification.

5. From the visible text, a trailing signature is split off: an RFC 3676 ``-- `` (or ``--``)
   delimiter followed by a short block, trailing phone/app lines ("Sent from my iPhone",
   "Odesláno z iPhonu", "Wysłane z iPhone'a", "Lähetetty iPhonesta", "iPhone-ról küldve",
   "Get Outlook for iOS" …), or a final "-Name" sign-off.

A line that merely contains "wrote" (or any other verb) mid-sentence is never a cut line: an
attribution must end with the verb and a colon (or be one of the known date-first/verb-first
layouts) and carry an e-mail address, a time or a date.

The words mail clients write in each language (attributions, separators, header labels, signature
lines) are data in ``app.mailin.reply_patterns``; this module holds the rules that use them.
"""

from __future__ import annotations

import re
import textwrap
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from app.mailin import reply_patterns as patterns

__all__ = ["DEFAULT_MARKERS", "StrippedReply", "strip_reply"]


@dataclass
class StrippedReply:
    """The parts of a reply: the new text, the quoted history, and the signature."""

    visible: str
    quoted: str
    signature: str


#: The "reply above this line" markers of our notification e-mails, one per language.
DEFAULT_MARKERS: tuple[str, ...] = (
    "Reply above this line",
    "Please reply above this line",
    "Válaszát e sor fölé írja",
    "Válaszoljon e sor fölé",
    "Vastaa tämän rivin yläpuolelle",
    "Odpověď vložte nad tento řádek",
    "Odpovězte nad tento řádek",
    "Odpowiedz powyżej tej linii",
)

_MAX_DEPTH = 3

# --- line kinds -----------------------------------------------------------------------------

MARKER = "marker"
ATTRIBUTION = "attribution"
ORIGINAL = "original"
FORWARD = "forward"
HEADERS = "headers"
RULE = "rule"
QUOTE = "quote"

_QUOTE_PREFIX_RE = re.compile(r"^[ \t]*>")
_DECORATION_RE = re.compile(r"^[\s\-_=*~#+.•·—–]*$")
_URL_RE = re.compile(r"<?(?:https?|mailto):[^\s>]*>?")
_MARKDOWN_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")


# --- entry point ----------------------------------------------------------------------------


def strip_reply(text: str, markers: Iterable[str] = ()) -> StrippedReply:
    """Split ``text`` into what the sender wrote, the quoted history and the signature.

    ``markers`` are extra "reply above this line" texts (e.g. a tenant's own wording); the
    :data:`DEFAULT_MARKERS` are always recognised too. Matching ignores case, surrounding
    decoration ("## … ##", "-- … --") and a leading quote prefix.
    """
    lines = _normalize(text or "").split("\n")
    marker_keys = _marker_keys(tuple(markers))
    visible, quoted, signature = _split(lines, marker_keys, depth=0)
    return StrippedReply(
        visible=_join(visible).rstrip(),
        quoted=_join(quoted).strip("\n"),
        signature=_join(signature).strip(),
    )


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").lstrip("\ufeff")
    text = text.replace("\u00a0", " ").replace("\u202f", " ")
    return re.sub("[\u200b\u200e\u200f\u2060]", "", text)  # invisible marks (Outlook)


def _join(lines: list[str]) -> str:
    trimmed = list(lines)
    while trimmed and not trimmed[0].strip():
        trimmed.pop(0)
    return "\n".join(line.rstrip() for line in trimmed)


def _split(lines: list[str], markers: frozenset[str], depth: int):
    """Return ``(visible, quoted, signature)`` line lists."""
    cut = _first_cut(lines, markers)
    if cut is None:
        visible, signature = _split_signature(lines)
        return visible, [], signature
    index, kind, size = cut
    above = lines[:index]
    if kind == MARKER or _has_content(above) or depth >= _MAX_DEPTH:
        visible, signature = _split_signature(_trim_decoration(above))
        return visible, lines[index:], signature
    return _leading_quote(lines, index, kind, size, markers, depth)


def _leading_quote(lines, index, kind, size, markers, depth):
    """The message starts with quoted material (nothing of the sender's own above it)."""
    if kind in (FORWARD, ORIGINAL, HEADERS, RULE):
        body_start, unquote = _skip_forward_header(lines, index, kind)
        body = lines[body_start:]
        if unquote:
            body = [_unquote_line(line) for line in body]
        if _has_content(body):
            visible, quoted, signature = _split(body, markers, depth + 1)
            return visible, lines[:body_start] + quoted, signature
    elif kind == ATTRIBUTION:
        after = _skip_blank(lines, index + size)
        if after < len(lines) and _QUOTE_PREFIX_RE.match(lines[after]):
            rest = _skip_blank(lines, _skip_quote_block(lines, after))
        else:
            rest = after
        body = textwrap.dedent("\n".join(lines[rest:])).split("\n")
        if _has_content(body) and not _contains_marker(lines[index:rest], markers):
            visible, quoted, signature = _split(body, markers, depth + 1)
            return visible, lines[:rest] + quoted, signature
    elif kind == QUOTE:
        rest = _skip_blank(lines, _skip_quote_block(lines, index))
        body = lines[rest:]
        if _has_content(body) and not _contains_marker(lines[index:rest], markers):
            visible, quoted, signature = _split(body, markers, depth + 1)
            return visible, lines[:rest] + quoted, signature
    # Only quoted material: keep it visible, unless it quotes our own notification.
    if _contains_marker(lines, markers):
        return [], lines, []
    visible, signature = _split_signature(lines)
    return visible, [], signature


def _has_content(lines: list[str]) -> bool:
    return any(not _DECORATION_RE.match(line) for line in lines)


def _trim_decoration(lines: list[str]) -> list[str]:
    """Drop trailing blank and decoration lines (e.g. Outlook's " -----" above its headers)."""
    end = len(lines)
    while end and _DECORATION_RE.match(lines[end - 1]):
        end -= 1
    return lines[:end]


def _skip_blank(lines: list[str], index: int) -> int:
    while index < len(lines) and not lines[index].strip():
        index += 1
    return index


def _skip_quote_block(lines: list[str], index: int) -> int:
    """Index after a run of ``>`` lines (blank lines inside the run belong to it)."""
    end = index
    position = index
    while position < len(lines):
        if _QUOTE_PREFIX_RE.match(lines[position]):
            end = position + 1
        elif lines[position].strip():
            break
        position += 1
    return end


def _unquote_line(line: str) -> str:
    return re.sub(r"^[ \t]*> ?", "", line, count=1)


# --- cut detection --------------------------------------------------------------------------


def _first_cut(lines: list[str], markers: frozenset[str]):
    """``(index, kind, line count)`` of the first line where quoted material starts."""
    for index, line in enumerate(lines):
        if not line.strip():
            continue
        if _is_marker(line, markers):
            return index, MARKER, 1
        size = _attribution_size(lines, index)
        if size:
            return index, ATTRIBUTION, size
        if patterns.ORIGINAL_MESSAGE_RE.match(line):
            return index, ORIGINAL, 1
        if patterns.FORWARD_RE.match(line):
            return index, FORWARD, 1
        if _is_header_block(lines, index):
            return index, HEADERS, 1
        if patterns.RULE_RE.match(line):
            return index, RULE, 1
        if _QUOTE_PREFIX_RE.match(line):
            return index, QUOTE, 1
    return None


def _attribution_size(lines: list[str], index: int) -> int:
    """How many lines (1–3) form an attribution starting at ``index``; 0 if none does."""
    if _is_attribution(lines[index]):
        return 1
    if not _may_start_wrapped_attribution(lines[index]):
        return 0
    for size in (2, 3):
        chunk = lines[index : index + size]
        if len(chunk) < size or not all(part.strip() for part in chunk):
            return 0
        if _is_attribution(" ".join(part.strip() for part in chunk)):
            # Prefer a later start when the next line begins an attribution by itself
            # ("Contact me at a@b.c" / "On Mon, … wrote:").
            following = lines[index + 1]
            if patterns.ATTRIBUTION_START_RE.match(following.strip()) and _attribution_size(lines, index + 1):
                return 0
            return size
    return 0


def _may_start_wrapped_attribution(line: str) -> bool:
    stripped = line.strip()
    if len(stripped) > 200 or _QUOTE_PREFIX_RE.match(stripped):
        return False
    return bool(
        patterns.ATTRIBUTION_START_RE.match(stripped)
        or patterns.WEEKDAY_DATE_START_RE.match(stripped)
        or re.match(r"^\d", stripped)
        or "@" in stripped
        or patterns.VERB_RE.search(stripped)
        or stripped.endswith("<")
    )


def _is_attribution(line: str) -> bool:
    """Whether ``line`` (wrapped lines already joined) is a quote attribution."""
    stripped = line.strip()
    if not stripped or len(stripped) > 300 or _QUOTE_PREFIX_RE.match(stripped):
        return False
    decorated = stripped.startswith("--")
    core = stripped.strip("-").strip() if decorated else stripped
    if decorated and not core.endswith(":"):
        core += ":"  # "---- On … wrote ----"
    has_address = "@" in core or "&lt;" in core
    if patterns.ISO_DATE_ATTRIBUTION_RE.match(core) or patterns.DATE_FIRST_ADDRESS_RE.match(core):
        return True
    if patterns.ATTRIBUTION_START_RE.match(core):
        return bool(patterns.VERB_ANYWHERE_RE.search(core)) and bool(
            has_address or patterns.TIME_RE.search(core) or patterns.DATE_RE.search(core)
        )
    return bool(patterns.VERB_AT_END_RE.search(core)) and bool(has_address or patterns.TIME_RE.search(core))


def _is_header_block(lines: list[str], index: int) -> bool:
    """An Outlook-style block: ≥ 3 header lines within 8 lines, one of them a "From"."""
    if not patterns.ANY_HEADER_RE.match(lines[index]):
        return False
    window = lines[index : index + 8]
    headers = [line for line in window if patterns.ANY_HEADER_RE.match(line)]
    return len(headers) >= 3 and any(patterns.FROM_HEADER_RE.match(line) for line in headers)


def _skip_forward_header(lines: list[str], index: int, kind: str) -> tuple[int, bool]:
    """Index of the forwarded body after a separator and/or header block, and whether the
    forwarded block is ``>``-quoted (Apple Mail)."""
    unquote = bool(_QUOTE_PREFIX_RE.match(lines[index]))
    view = [_unquote_line(line) if unquote else line for line in lines]
    position = index + 1 if kind in (FORWARD, ORIGINAL, RULE) else index
    position = _skip_blank(view, position)
    if position < len(view) and patterns.ANY_HEADER_RE.match(view[position]):
        while position < len(view):
            line = view[position]
            if patterns.ANY_HEADER_RE.match(line):
                position += 1
            elif line.strip() and position + 1 < len(view) and patterns.ANY_HEADER_RE.match(view[position + 1]):
                position += 1  # a wrapped header value ("Subject: … / spans over 2 lines")
            else:
                break
    return _skip_blank(view, position), unquote


# --- our own marker -------------------------------------------------------------------------


def _marker_key(text: str) -> str:
    text = unicodedata.normalize("NFC", text).casefold()
    text = re.sub(r"[^\w']+", " ", text)
    return " ".join(text.split())


def _marker_keys(extra: tuple[str, ...]) -> frozenset[str]:
    keys = {_marker_key(marker) for marker in DEFAULT_MARKERS + extra}
    return frozenset(key for key in keys if key)


def _is_marker(line: str, markers: frozenset[str]) -> bool:
    """The line is a marker, maybe quoted or decorated ("## … ##", "-- … --", "> …")."""
    key = _marker_key(line)
    if not key or len(key) > 200:
        return False
    return any(key == marker or (marker in key and len(key) <= len(marker) + 25) for marker in markers)


def _contains_marker(lines: list[str], markers: frozenset[str]) -> bool:
    return any(_is_marker(line, markers) for line in lines)


# --- signatures -----------------------------------------------------------------------------


def _split_signature(lines: list[str]) -> tuple[list[str], list[str]]:
    """Split a trailing signature off the visible lines."""
    lines = _trim_decoration(lines)
    # 1. An RFC 3676 delimiter followed by a short block (at most 12 non-blank lines).
    for index in range(len(lines) - 1, -1, -1):
        if patterns.SIGNATURE_DELIMITER_RE.match(lines[index].rstrip("\n")):
            tail = [line for line in lines[index + 1 :] if line.strip()]
            if len(tail) <= 12 and _has_content(lines[:index]):
                return _trim_decoration(lines[:index]), lines[index:]
            break
    # 2. Trailing phone/app lines ("Sent from my iPhone"), possibly several.
    start = len(lines)
    for index in range(len(lines) - 1, -1, -1):
        if not lines[index].strip():
            continue
        if _is_phone_signature(lines[index]):
            start = index
        else:
            break
    if start < len(lines) and _has_content(lines[:start]):
        return _trim_decoration(lines[:start]), lines[start:]
    # 3. A final "-Name" sign-off.
    if lines and patterns.DASH_SIGNOFF_RE.match(lines[-1].strip()) and _has_content(lines[:-1]):
        return _trim_decoration(lines[:-1]), lines[-1:]
    return lines, []


def _is_phone_signature(line: str) -> bool:
    cleaned = _MARKDOWN_LINK_RE.sub(r"\1", line)
    cleaned = _URL_RE.sub("", cleaned)
    cleaned = re.sub(r"^[\W_]+|[\W_]+$", "", cleaned.strip())
    cleaned = " ".join(cleaned.split())
    if not cleaned or len(cleaned) > 100:
        return False
    return any(pattern.search(cleaned) for pattern in patterns.PHONE_SIGNATURE_RES)
