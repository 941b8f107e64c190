"""The files a message carries (inline images too), with their original names decoded however the
mailer encoded them; machine-readable report parts are not offered as files.
"""

from __future__ import annotations

import mimetypes
import re
from email import policy
from email.message import Message

from app.mailin.parsing.bodies import body_parts, leaf_parts
from app.mailin.parsing.charsets import decode_bytes, fix_surrogates
from app.mailin.parsing.headers import decode_words, raw_header
from app.mailin.parsing.results import Attachment, ParsedMessage


# Machine-readable report parts: kept in the raw message, not offered as files.
_REPORT_TYPES = {
    "message/delivery-status",
    "message/global-delivery-status",
    "message/disposition-notification",
    "message/global-disposition-notification",
    "text/rfc822-headers",
    "message/rfc822-headers",
}


def read_attachments(msg: Message, result: ParsedMessage) -> None:
    plain_part, html_part = body_parts(msg)
    body_ids = {id(plain_part), id(html_part)}
    if msg.get_content_maintype() != "multipart":
        return
    for part in leaf_parts(msg):
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
    name = fix_surrogates(str(name))
    name = decode_words(name)
    # Keep the original name, minus any folder part and control characters.
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch >= " " and ch != "\x7f").strip()
    return name or None


_LOOSE_PARAM_RE = re.compile(r'(?:^|;)\s*(?:file)?name\s*=\s*(?:"([^"]*)"|([^;]*))', re.IGNORECASE)


def _loose_filename(part: Message) -> str | None:
    """``filename=`` / ``name=`` read leniently from the raw headers (no RFC 2231 here: the
    policy handles ``name*=`` correctly)."""
    for header in ("Content-Disposition", "Content-Type"):
        raw = raw_header(part, header)
        if not raw:
            continue
        match = _LOOSE_PARAM_RE.search(raw)
        if match:
            value = (match.group(1) if match.group(1) is not None else match.group(2)).strip()
            if value:
                return decode_words(value)
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
