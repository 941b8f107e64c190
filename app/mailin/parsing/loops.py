"""Loop protection: auto-replies (headers and out-of-office subjects in our languages), bounces and
the Message-ID of what bounced, and no-reply senders, so that the intake never answers a machine.
"""

from __future__ import annotations

import re
from email import policy
from email.message import Message
from email.parser import HeaderParser

from app.mailin.parsing.bodies import leaf_parts
from app.mailin.parsing.charsets import part_text
from app.mailin.parsing.headers import normalize_message_id, raw_header
from app.mailin.parsing.results import ParsedMessage


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


def read_loop_signals(msg: Message, result: ParsedMessage) -> None:
    auto_submitted = raw_header(msg, "Auto-Submitted")
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
        value = raw_header(msg, name)
        if value is not None and value.strip().lower() not in ("no", "false", "0"):
            return f"{name}: {value}"
    precedence = (raw_header(msg, "Precedence") or "").strip().lower()
    if precedence in ("bulk", "junk", "auto_reply", "auto-reply", "list"):
        return f"Precedence: {precedence}"
    suppress = (raw_header(msg, "X-Auto-Response-Suppress") or "").lower()
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
        for part in leaf_parts(msg)
    ):
        return True  # a DSN without (or with a wrong) report-type parameter
    local_part = result.from_address.split("@", 1)[0]
    from_daemon = bool(_DAEMON_LOCAL_RE.match(local_part)) or bool(
        re.search(r"mail delivery (?:subsystem|system)|mailer-daemon|postmaster", result.from_name, re.IGNORECASE)
    )
    null_sender = (raw_header(msg, "Return-Path") or "").replace(" ", "") == "<>"
    return (from_daemon or null_sender) and bool(_BOUNCE_SUBJECT_RE.search(result.subject))


def _bounced_message_id(msg: Message, result: ParsedMessage) -> str | None:
    """The Message-ID of the message that bounced, from the DSN's returned headers or text."""
    for part in leaf_parts(msg):
        ctype = part.get_content_type()
        if ctype in ("message/rfc822", "message/global"):
            payload = part.get_payload()
            inner = payload[0] if isinstance(payload, list) and payload else payload
            if isinstance(inner, Message):
                value = normalize_message_id(raw_header(inner, "Message-ID"))
                if value:
                    return value
        elif ctype in ("text/rfc822-headers", "message/rfc822-headers"):
            headers = HeaderParser(policy=policy.compat32).parsestr(part_text(part))
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
