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
"""

from __future__ import annotations

import codecs
import mimetypes
import re
from dataclasses import dataclass, field
from datetime import datetime, timezone
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import Message
from email.parser import HeaderParser
from email.utils import getaddresses, parsedate_to_datetime
from html import unescape
from html.parser import HTMLParser

__all__ = ["Attachment", "ParsedMessage", "html_to_text", "parse_message"]


# --- result types ---------------------------------------------------------------------------


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


# --- entry point ----------------------------------------------------------------------------


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
        ("identifiers", _read_identifiers),
        ("subject", _read_subject),
        ("addresses", _read_addresses),
        ("date", _read_date),
        ("body", _read_bodies),
        ("attachments", _read_attachments),
        ("loop headers", _read_loop_signals),
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


# --- headers --------------------------------------------------------------------------------

_MESSAGE_ID_RE = re.compile(r"<\s*([^<>\s]+?)\s*>")


def _raw_header(msg: Message, name: str) -> str | None:
    """The header's unparsed value (first occurrence), unfolded; ``None`` when absent.

    Reading the raw value sidesteps the structured header classes, which can choke on the
    garbage some mailers put into ``Message-ID`` or ``References``.
    """
    lowered = name.lower()
    for key, value in msg.raw_items():
        if key.lower() == lowered:
            return _fix_surrogates(re.sub(r"\r?\n[ \t]+", " ", str(value))).strip()
    return None


def _header_text(msg: Message, name: str) -> str | None:
    """The header decoded from RFC 2047 (falls back to the raw value)."""
    try:
        value = msg.get(name)
        if value is None:
            return None
        return _fix_surrogates(str(value)).strip()
    except Exception:
        raw = _raw_header(msg, name)
        return _decode_words(raw) if raw is not None else None


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


def _read_identifiers(msg: Message, result: ParsedMessage) -> None:
    result.message_id = normalize_message_id(_raw_header(msg, "Message-ID"))
    result.in_reply_to = _message_ids(_raw_header(msg, "In-Reply-To"))
    result.references = _message_ids(_raw_header(msg, "References"))


def _read_subject(msg: Message, result: ParsedMessage) -> None:
    result.subject = re.sub(r"\s+", " ", _header_text(msg, "Subject") or "").strip()


def _read_addresses(msg: Message, result: ParsedMessage) -> None:
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
                pairs.append((_fix_surrogates(address.display_name or ""), _fix_surrogates(address.addr_spec or "")))
    except Exception:
        pairs = []
    if not pairs or not any("@" in address for _, address in pairs):
        raw = _raw_header(msg, name)
        if raw:
            pairs = [(_decode_words(display), address) for display, address in getaddresses([raw])]
    cleaned = []
    for display, address in pairs:
        address = address.strip().strip("<>").lower()
        if address and address != "<>":
            cleaned.append((display.strip().strip('"').strip(), address))
    return cleaned


def _read_date(msg: Message, result: ParsedMessage) -> None:
    raw = _raw_header(msg, "Date")
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


def _decode_words(value: str) -> str:
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


def _fix_surrogates(value: str) -> str:
    """Undo ``surrogateescape`` from raw 8-bit headers (RFC 6532 UTF-8, or a legacy charset)."""
    if not any("\udc80" <= ch <= "\udcff" for ch in value):
        return value
    data = value.encode("utf-8", "surrogateescape")
    return decode_bytes(data, None)


# --- charsets -------------------------------------------------------------------------------

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


def _part_text(part: Message) -> str:
    """The decoded text of a leaf part (transfer encoding and charset)."""
    payload = part.get_payload(decode=True)
    if payload is None:
        payload = part.get_payload()
        if isinstance(payload, str):
            return _fix_surrogates(payload)
        return ""
    try:
        charset = part.get_content_charset()
    except Exception:
        charset = None
    return decode_bytes(payload, charset)


# --- bodies ---------------------------------------------------------------------------------


def _read_bodies(msg: Message, result: ParsedMessage) -> None:
    plain_part, html_part = _body_parts(msg)
    plain = _normalize_newlines(_part_text(plain_part)) if plain_part is not None else ""
    if html_part is not None:
        result.html = _part_text(html_part)
    if plain.strip():
        result.text = plain
    elif result.html:
        result.text = html_to_text(result.html)
        result.text_is_from_html = True
    else:
        result.text = plain


def _body_parts(msg: Message) -> tuple[Message | None, Message | None]:
    """The text/plain and text/html parts that make up the body (either may be ``None``)."""
    plain = html = None
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:
        plain = html = None
    if plain is None and html is None:
        # A broken structure: take the first inline text parts found anywhere.
        for part in _leaf_parts(msg):
            if _is_attachment(part):
                continue
            ctype = part.get_content_type()
            if ctype == "text/plain" and plain is None:
                plain = part
            elif ctype == "text/html" and html is None:
                html = part
    return plain, html


def _normalize_newlines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


# --- attachments ----------------------------------------------------------------------------

# Machine-readable report parts: kept in the raw message, not offered as files.
_REPORT_TYPES = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/global-disposition-notification",
    "text/rfc822-headers",
    "message/rfc822-headers",
}


def _leaf_parts(msg: Message):
    """Leaf parts in document order; an attached message counts as one leaf."""
    if msg.get_content_maintype() == "multipart":
        payload = msg.get_payload()
        if isinstance(payload, list):
            for child in payload:
                yield from _leaf_parts(child)
        return
    yield msg


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    return disposition == "attachment"


def _read_attachments(msg: Message, result: ParsedMessage) -> None:
    plain_part, html_part = _body_parts(msg)
    body_ids = {id(plain_part), id(html_part)}
    if msg.get_content_maintype() != "multipart":
        return
    for part in _leaf_parts(msg):
        if id(part) in body_ids:
            continue
        ctype = part.get_content_type()
        if ctype in _REPORT_TYPES:
            continue
        disposition = part.get_content_disposition()
        filename = _filename(part)
        if ctype in ("text/plain", "text/html") and disposition != "attachment" and not filename:
            continue  # an alternative body we did not pick, not a file
        data = _part_bytes(part)
        content_id = _content_id(part)
        inline = disposition == "inline" or (disposition is None and content_id is not None)
        result.attachments.append(
            Attachment(
                filename=filename or _fallback_filename(ctype, len(result.attachments) + 1),
                content_type=ctype,
                data=data,
                content_id=content_id,
                inline=inline,
            )
        )


def _part_bytes(part: Message) -> bytes:
    if part.get_content_maintype() == "message":  # an attached e-mail: keep it as .eml
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else payload
        if isinstance(inner, Message):
            return inner.as_bytes(policy=policy.default.clone(linesep="\r\n"))
    data = part.get_payload(decode=True)
    if data is None:
        payload = part.get_payload()
        data = payload.encode("utf-8", "surrogateescape") if isinstance(payload, str) else b""
    return data


def _filename(part: Message) -> str | None:
    """The original file name: RFC 2231 and (non-standard but common) RFC 2047 decoded."""
    try:
        name = part.get_filename()
    except Exception:
        name = None
    if not name:
        try:
            name = part.get_param("name", header="content-type")
            if isinstance(name, tuple):  # an RFC 2231 triple from the compat path
                name = decode_bytes(name[2].encode("latin-1", "replace"), name[0])
        except Exception:
            name = None
    loose = _loose_filename(part)
    if loose and (not name or (loose != name and loose.startswith(str(name)))):
        name = loose  # an unquoted name with spaces, or an unquoted encoded word
    if not name:
        return None
    name = _fix_surrogates(str(name))
    name = _decode_words(name)
    # Keep the original name, minus any folder part and control characters.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()
    return name or None


_LOOSE_PARAM_RE = re.compile(r'(?:^|;)\s*(?:file)?name\s*=\s*(?:"([^"]*)"|([^;]*))', re.IGNORECASE)


def _loose_filename(part: Message) -> str | None:
    """``filename=`` / ``name=`` read leniently from the raw headers (no RFC 2231 here: the
    policy handles ``name*=`` correctly)."""
    for header in ("Content-Disposition", "Content-Type"):
        raw = _raw_header(part, header)
        if not raw:
            continue
        match = _LOOSE_PARAM_RE.search(raw)
        if match:
            value = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
            if value:
                return _decode_words(value)
    return None


def _fallback_filename(content_type: str, number: int) -> str:
    if content_type == "message/rfc822":
        return f"message-{number}.eml"
    extension = mimetypes.guess_extension(content_type, strict=False) or ".bin"
    stem = "image" if content_type.startswith("image/") else "attachment"
    return f"{stem}-{number}{extension}"


def _content_id(part: Message) -> str | None:
    raw = part.get("Content-ID")
    if raw is None:
        return None
    value = str(raw).strip().strip("<>").strip()
    return value or None


# --- loop protection ------------------------------------------------------------------------

_AUTO_REPLY_SUBJECT_RE = re.compile(
    r"^\s*(?:(?:re|aw|vs|odp|sv|fw|fwd)\s*:\s*)*(?:"
    r"out of (?:the )?office|automatic reply|auto(?:matic)?[- ]?reply|auto[- ]?response"
    r"|autoreply|away from (?:the )?office|on vacation|vacation reply|abwesenheitsnotiz"
    r"|automatikus válasz|házon kívül|irodán kívül|távol vagyok"
    r"|poissa toimistolta|automaattinen vastaus|lomavastaaja"
    r"|automatická odpověď|mimo kancelář|nepřítomnost"
    r"|odpowiedź automatyczna|automatyczna odpowiedź|poza biurem|nieobecność"
    r")(?:\s+auto-?reply)?\s*(?::|$|[-–(])",
    re.IGNORECASE,
)
_BOUNCE_SUBJECT_RE = re.compile(
    r"undeliver|undelivered|delivery status notification|delivery (?:has )?failed"
    r"|delivery failure|mail delivery|failure notice|returned mail|returned to sender"
    r"|non-?delivery|could not be delivered|not delivered|nondeliverable"
    r"|kézbesíthetetlen|nem kézbesíthető|kézbesítési hiba"
    r"|toimitus epäonnistui|ei voitu toimittaa|viestiä ei voitu"
    r"|nedoručitelné|nelze doručit|nedoručeno"
    r"|niedostarczalne|nie można dostarczyć|niedostarczona",
    re.IGNORECASE,
)
_DAEMON_LOCAL_RE = re.compile(r"^(?:mailer[-_.]?daemon|postmaster|mail[-_.]?delivery[-_.]?\w*)$", re.IGNORECASE)
_NOREPLY_LOCAL_RE = re.compile(
    r"(?:^|[-_.+])(?:no[-_.]?reply|do[-_.]?not[-_.]?reply|dont[-_.]?reply|no[-_.]?response)"
    r"(?:$|[-_.+])|^(?:mailer[-_.]?daemon|postmaster|bounces?)(?:$|[-_.+])",
    re.IGNORECASE,
)


def _read_loop_signals(msg: Message, result: ParsedMessage) -> None:
    auto_submitted = _raw_header(msg, "Auto-Submitted")
    if auto_submitted is not None:
        result.auto_submitted = auto_submitted.strip().lower()
    result.auto_reply_reason = _auto_reply_reason(msg, result)
    result.is_auto_reply = result.auto_reply_reason is not None
    result.is_bounce = _is_bounce(msg, result)
    if result.is_bounce:
        result.bounced_message_id = _bounced_message_id(msg, result)
    local_part = result.from_address.split("@", 1)[0]
    result.is_noreply_sender = bool(_NOREPLY_LOCAL_RE.search(local_part)) if local_part else True


def _auto_reply_reason(msg: Message, result: ParsedMessage) -> str | None:
    """Which rule says this message was generated automatically (``None``: a person wrote it)."""
    if result.auto_submitted and result.auto_submitted.split(";")[0].strip() != "no":
        return f"Auto-Submitted: {result.auto_submitted}"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autoresponder"):
        value = _raw_header(msg, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name}: {value}"
    precedence = (_raw_header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "auto-reply", "list"):
        return f"Precedence: {precedence}"
    suppress = (_raw_header(msg, "X-Auto-Response-Suppress") or "").lower()
    tokens = {token.strip() for token in suppress.split(",")}
    if tokens & {"all", "oof"}:
        return f"X-Auto-Response-Suppress: {suppress}"
    if _content_type_with_report(msg) == "disposition-notification":
        return "read receipt (disposition-notification report)"
    if _AUTO_REPLY_SUBJECT_RE.search(result.subject):
        return f"out-of-office subject: {result.subject[:80]}"
    return None


def _content_type_with_report(msg: Message) -> str | None:
    """The ``report-type`` of a multipart/report message ("" when missing), else ``None``."""
    if msg.get_content_type() != "multipart/report":
        return None
    return str(msg.get_param("report-type", "") or "").strip().lower()


def _is_bounce(msg: Message, result: ParsedMessage) -> bool:
    report_type = _content_type_with_report(msg)
    if report_type == "delivery-status":
        return True
    if report_type is not None and any(
        part.get_content_type() in ("message/delivery-status", "message/global-delivery-status")
        for part in _leaf_parts(msg)
    ):
        return True  # a DSN without (or with a wrong) report-type parameter
    local_part = result.from_address.split("@", 1)[0]
    from_daemon = bool(_DAEMON_LOCAL_RE.match(local_part)) or bool(
        re.search(r"mail delivery (?:subsystem|system)|mailer-daemon|postmaster", result.from_name, re.IGNORECASE)
    )
    null_sender = (_raw_header(msg, "Return-Path") or "").replace(" ", "") == "<>"
    return (from_daemon or null_sender) and bool(_BOUNCE_SUBJECT_RE.search(result.subject))


def _bounced_message_id(msg: Message, result: ParsedMessage) -> str | None:
    """The Message-ID of the message that bounced, from the DSN's returned headers or text."""
    for part in _leaf_parts(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if isinstance(inner, Message):
                value = normalize_message_id(_raw_header(inner, "Message-ID"))
                if value:
                    return value
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = HeaderParser(policy=policy.compat32).parsestr(_part_text(part))
            value = normalize_message_id(headers.get("Message-ID"))
            if value:
                return value
    # Plain-text bounces (qmail, Gmail) quote the original headers in the body.
    match = re.search(r"^\s*Message-ID:\s*(<[^>\s]+>)", result.text or "", re.IGNORECASE | re.MULTILINE)
    if match:
        value = normalize_message_id(match.group(1))
        if value and value != result.message_id:
            return value
    return None


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


# --- HTML to text ---------------------------------------------------------------------------

_SKIPPED_TAGS = {"script", "style", "head", "title", "template", "noscript", "xml", "svg", "object"}
_BLOCK_TAGS = {
    "address",
    "article",
    "aside",
    "center",
    "dd",
    "div",
    "dl",
    "dt",
    "fieldset",
    "figcaption",
    "figure",
    "footer",
    "form",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "header",
    "li",
    "main",
    "nav",
    "ol",
    "p",
    "pre",
    "section",
    "table",
    "tbody",
    "thead",
    "tfoot",
    "tr",
    "ul",
}
_PARAGRAPH_TAGS = {"p", "h1", "h2", "h3", "h4", "h5", "h6", "ul", "ol", "table", "pre"}
_VOID_TAGS = {"br", "hr", "img", "meta", "link", "input", "area", "base", "col", "wbr"}
# Outlook's plain-text rendering of its reply separator; reply stripping recognises it.
_RULE_LINE = "_" * 32


class _TextExtractor(HTMLParser):
    """Collects text as lines, each with the ``<blockquote>`` depth it appeared at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[tuple[int, str]] = []
        self.current = ""
        self.depth = 0
        self.skip = 0
        self.pre = 0
        self.outlook_lines: list[bool] = []

    # line bookkeeping
    def _flush(self) -> None:
        text = self.current.rstrip()
        if text.strip():
            self.lines.append((self.depth, text.lstrip() if not self.pre else text))
        self.current = ""

    def _break(self) -> None:
        self._flush()

    def _paragraph(self) -> None:
        self._flush()
        if self.lines and self.lines[-1][1] != "":
            self.lines.append((self.depth, ""))

    # parser callbacks
    def handle_starttag(self, tag, attrs):
        tag = tag.lower()
        if tag in _SKIPPED_TAGS:
            if tag not in _VOID_TAGS:
                self.skip += 1
            return
        if self.skip:
            return
        if tag == "br":
            self._break()
        elif tag == "hr":
            self._break()
            self.lines.append((self.depth, _RULE_LINE))
        elif tag == "blockquote":
            self._paragraph()
            self.depth += 1
        elif tag == "p" and _is_outlook_line(attrs):
            self.outlook_lines.append(True)
            self._break()
        elif tag in _PARAGRAPH_TAGS:
            if tag == "p":
                self.outlook_lines.append(False)
            self._paragraph()
            if tag == "pre":
                self.pre += 1
        elif tag in _BLOCK_TAGS:
            self._break()
            if tag == "li":
                self.current = "- "
        elif tag in ("td", "th") and self.current.strip():
            self.current += " "

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag.lower() in _SKIPPED_TAGS and tag.lower() not in _VOID_TAGS:
            self.skip = max(0, self.skip - 1)

    def handle_endtag(self, tag):
        tag = tag.lower()
        if tag in _SKIPPED_TAGS:
            self.skip = max(0, self.skip - 1)
            return
        if self.skip:
            return
        if tag == "blockquote":
            self._paragraph()
            self.depth = max(0, self.depth - 1)
        elif tag == "p" and self.outlook_lines and self.outlook_lines.pop():
            self._break()
        elif tag in _PARAGRAPH_TAGS:
            if tag == "pre":
                self.pre = max(0, self.pre - 1)
            self._paragraph()
        elif tag in _BLOCK_TAGS:
            self._break()

    def handle_data(self, data):
        if self.skip:
            return
        data = data.replace("\xa0", " ")
        if self.pre:
            parts = data.split("\n")
            for index, piece in enumerate(parts):
                if index:
                    self._break()
                self.current += piece
            return
        data = re.sub(r"[ \t\r\n\f]+", " ", data)
        if not self.current.strip():
            data = data.lstrip()
        self.current += data

    def text(self) -> str:
        self._flush()
        while self.lines and not self.lines[-1][1]:
            self.lines.pop()
        rendered: list[str] = []
        for depth, line in self.lines:
            prefix = "> " * depth
            rendered.append((prefix + line).rstrip() if line else prefix.rstrip())
        text = "\n".join(rendered)
        text = re.sub(r"\n(?:[ >]*\n){2,}", "\n\n", text)  # at most one empty line in a row
        return text.strip("\n")


def _is_outlook_line(attrs) -> bool:
    """Outlook writes every line as ``<p class=MsoNormal>``: treat those as plain lines."""
    classes = dict(attrs).get("class") or ""
    return "msonormal" in classes.lower()


def html_to_text(html: str) -> str:
    """Convert an HTML body into readable plain text, safely (no markup survives).

    Block elements become line breaks, ``<blockquote>`` content is kept with ``"> "`` line
    prefixes (so reply stripping sees it as a quote), links keep their text, ``<hr>`` becomes an
    Outlook-style rule line, scripts/styles/head are dropped and entities are decoded.
    """
    if not html:
        return ""
    parser = _TextExtractor()
    try:
        parser.feed(html)
        parser.close()
    except Exception:  # html.parser is lenient; this is a last resort
        stripped = re.sub(r"(?is)<(script|style|head)\b.*?</\1\s*>", " ", html)
        stripped = re.sub(r"(?s)<[^>]*>", " ", stripped)
        return re.sub(r"[ \t]+", " ", unescape(stripped)).strip()
    return parser.text()
