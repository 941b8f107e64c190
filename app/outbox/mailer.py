"""Deliver one e-mail through the configured transport.

``MAIL_URL=maildir:///path`` writes each message to a Maildir (the dev outbox, readable with any
mail client or `ls`); ``smtp://user:password@host:port`` delivers over SMTP (``smtps://`` for TLS on
connect, ``?starttls=1`` to upgrade a plain connection).
"""

from __future__ import annotations

import mailbox
import re
import smtplib
import ssl
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from flask import current_app


class MailDeliveryError(RuntimeError):
    """The transport refused or could not be reached; the caller keeps the message for a retry.

    ``permanent`` means the server refused for good (a 5xx answer, e.g. an unknown mailbox): retrying
    would not help, and the failure is recorded for agents instead."""

    def __init__(self, message: str, permanent: bool = False):
        super().__init__(message)
        self.permanent = permanent


class MessageBuildError(ValueError):
    """The message can never be sent as it stands (an impossible recipient address, say): a
    permanent failure, recorded for agents, never retried."""


def header_text(value) -> str:
    """The one way a header is written from text a person typed (a summary in a subject, a name, an
    address): on one line, without control characters, so nobody can add a header (ASVS 5.2.3)."""
    from email.policy import default

    from app.security.params import single_line

    text = single_line("" if value is None else str(value))
    # The header parser decodes RFC 2047 encoded words ("=?utf-8?q?a=0D=0AX-Evil:_1?="), so what it will
    # read is cleaned too, until nothing changes (an encoded word inside an encoded word ...).
    for _ in range(5):
        decoded = single_line(str(default.header_factory("subject", text)))
        if decoded == text:
            break
        text = decoded
    else:
        text = text.replace("=?", "= ?")
    return text.strip()


_ADDRESS = re.compile(r"[^\s@<>,;:\"()\[\]\\]+@[^\s@<>,;:\"()\[\]\\]+\.[^\s@<>,;:\"()\[\]\\.]+")


def recipient_address(value: str) -> str:
    """``value`` if it is one plain address (local@domain.tld), else MessageBuildError."""
    address = header_text(value)
    if not _ADDRESS.fullmatch(address):
        raise MessageBuildError(f"not a valid recipient address: {address[:200]}")
    return address


def deliver(message: EmailMessage, mail_url: str | None = None) -> None:
    url = mail_url or current_app.config["MAIL_URL"]
    parsed = urlparse(url)
    if parsed.scheme == "maildir":
        _deliver_maildir(message, Path(unquote(parsed.path)))
    elif parsed.scheme in ("smtp", "smtps"):
        _deliver_smtp(message, parsed)
    else:
        raise ValueError(f"unsupported MAIL_URL {url!r}: use maildir:///path or smtp://host:port")


def _deliver_maildir(message: EmailMessage, path: Path) -> None:
    try:
        for sub in ("tmp", "new", "cur"):
            (path / sub).mkdir(parents=True, exist_ok=True)
        mailbox.Maildir(path, create=False).add(message)
    except OSError as exc:
        raise MailDeliveryError(str(exc)) from exc


def _deliver_smtp(message: EmailMessage, parsed) -> None:
    host = parsed.hostname or "localhost"
    options = parse_qs(parsed.query)
    try:
        if parsed.scheme == "smtps":
            client: smtplib.SMTP = smtplib.SMTP_SSL(
                host, parsed.port or 465, timeout=30, context=ssl.create_default_context()
            )
        else:
            client = smtplib.SMTP(host, parsed.port or 25, timeout=30)
        with client:
            if options.get("starttls", ["0"])[0] in ("1", "true", "yes"):
                client.starttls(context=ssl.create_default_context())
            if parsed.username:
                client.login(unquote(parsed.username), unquote(parsed.password or ""))
            client.send_message(message)
    except smtplib.SMTPRecipientsRefused as exc:
        codes = [code for code, _message in exc.recipients.values()]
        raise MailDeliveryError(
            f"SMTP server {host} refused the recipient: {exc.recipients}", permanent=all(code >= 500 for code in codes)
        ) from exc
    except smtplib.SMTPResponseException as exc:
        raise MailDeliveryError(
            f"SMTP delivery to {host} failed: {exc.smtp_code} {exc.smtp_error!r}",
            permanent=exc.smtp_code >= 500 and not isinstance(exc, smtplib.SMTPAuthenticationError),
        ) from exc
    except (OSError, smtplib.SMTPException) as exc:
        raise MailDeliveryError(f"SMTP delivery to {host} failed: {exc}") from exc
