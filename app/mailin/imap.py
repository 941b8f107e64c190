"""Talking to a tenant's IMAP server: connecting (address vetted first, no SSRF), selecting a folder
by the name the admin wrote, and the error codes a poll or a connection test ends with, worded
only when shown (never the server's own words). Used by the poll (``jobs``) and by the admin's
connection test (``mailboxes``).
"""

from __future__ import annotations

import imaplib
import logging
import ssl

from app.mailin.models import Mailbox

log = logging.getLogger(__name__)


TIMEOUT = 30


# Why the last poll failed (``Mailbox.last_error``): a code, worded when shown; never the server's text.
ERROR_ADDRESS = "address_not_allowed"


ERROR_CONNECT = "connect_failed"


ERROR_LOGIN = "login_refused"


ERROR_FOLDER = "folder_missing"


ERROR_PASSWORD = "password_unreadable"


class MailboxError(Exception):
    """A poll or a connection test failed; ``code`` is one of the ERROR_* codes above."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code


def connect(mailbox: Mailbox) -> imaplib.IMAP4:
    """Connect to the mailbox's server, once its address and port are vetted (no SSRF: see
    app.security.net). Raises MailboxError(ERROR_ADDRESS or ERROR_CONNECT), never the server's words."""
    from flask import current_app

    from app.security.net import AddressNotAllowed, HostNotFound, connect_imap, vet_target

    try:
        target = vet_target(mailbox.host, mailbox.port, allowed=current_app.config.get("MAILBOX_ALLOWED_HOSTS", []))
    except AddressNotAllowed:
        raise MailboxError(ERROR_ADDRESS) from None
    except HostNotFound:
        raise MailboxError(ERROR_CONNECT) from None
    context = ssl.create_default_context()
    if not mailbox.verify_certificate:
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    try:
        return connect_imap(target, security=mailbox.security, context=context, timeout=TIMEOUT)
    except (OSError, imaplib.IMAP4.error, ValueError) as exc:
        log.info("IMAP connection to %s:%s failed: %s", mailbox.host, mailbox.port, type(exc).__name__)
        raise MailboxError(ERROR_CONNECT) from None


def select_folder(connection: imaplib.IMAP4, folder: str, readonly: bool = False):
    """SELECT a folder by its name as the admin wrote it (modified UTF-7 for non-ASCII names)."""
    return connection.select(quote_folder(encode_folder_name(folder)), readonly=readonly)


def encode_folder_name(name: str) -> str:
    """IMAP's modified UTF-7 (RFC 3501 5.1.3): "Beérkezett üzenetek" → "Be&AOk-rkezett &APw-zenetek"."""
    import base64

    out, pending = [], []

    def flush():
        if pending:
            data = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(data).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for char in name:
        if 0x20 <= ord(char) <= 0x7E:
            flush()
            out.append("&-" if char == "&" else char)
        else:
            pending.append(char)
    flush()
    return "".join(out)


def quote_folder(folder: str) -> str:
    return '"' + folder.replace("\\", "\\\\").replace('"', '\\"') + '"'


def error_words(code: str | None) -> str:
    """Why a mailbox's last poll failed, in the reader's language (the stored code, worded when read;
    anything else stored by older releases is not shown, as it may hold the server's text)."""
    from flask_babel import gettext as _

    words = {
        ERROR_ADDRESS: _(
            "This address is not allowed for a mailbox: it is a private or local address, or the "
            "port is not an IMAP port (143 or 993)."
        ),
        ERROR_CONNECT: _("The server could not be reached, or it did not answer as an IMAP server."),
        ERROR_LOGIN: _("The server refused the user name or the password."),
        ERROR_FOLDER: _("The folder does not exist on the server."),
        ERROR_PASSWORD: _("The stored password can no longer be decrypted; please enter it again."),
    }
    return words.get(code or "", _("The last poll failed."))
