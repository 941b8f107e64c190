"""The body of a message: which parts are its text (plain, else converted from HTML), and the walk
over its leaf parts that the attachments and the bounce detection share.
"""

from __future__ import annotations

from email.message import Message

from app.mailin.parsing.charsets import part_text
from app.mailin.parsing.html_text import html_to_text
from app.mailin.parsing.results import ParsedMessage


def read_bodies(msg: Message, result: ParsedMessage) -> None:
    plain_part, html_part = body_parts(msg)
    plain = _normalize_newlines(part_text(plain_part)) if plain_part is not None else ""
    if html_part is not None:
        result.html = part_text(html_part)
    if plain.strip():
        result.text = plain
    elif result.html:
        result.text = html_to_text(result.html)
        result.text_is_from_html = True
    else:
        result.text = plain


def body_parts(msg: Message) -> tuple[Message | None, Message | None]:
    """The text/plain and text/html parts that make up the body (either may be ``None``)."""
    plain = html = None
    try:
        plain = msg.get_body(preferencelist=("plain",))
        html = msg.get_body(preferencelist=("html",))
    except Exception:
        plain = html = None
    if plain is None and html is None:
        # A broken structure: take the first inline text parts found anywhere.
        for part in leaf_parts(msg):
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


def leaf_parts(msg: Message):
    """Leaf parts in document order; an attached message counts as one leaf."""
    if msg.get_content_maintype() == "multipart":
        payload = msg.get_payload()
        if isinstance(payload, list):
            for child in payload:
                yield from leaf_parts(child)
        return
    yield msg


def _is_attachment(part: Message) -> bool:
    try:
        disposition = part.get_content_disposition()
    except Exception:
        disposition = None
    return disposition == "attachment"
