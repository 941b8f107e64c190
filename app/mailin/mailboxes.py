"""The tenants' IMAP mailboxes: their settings, the encrypted passwords (and their key rotation), and
a connection test for the admin console. Polling them is ``app.mailin.jobs``.
"""

from __future__ import annotations

import imaplib

from flask import current_app
from sqlalchemy import select

from app.extensions import db


SECURITY_MODES = ("ssl", "starttls", "none")


def _derived_key(secret: str) -> bytes:
    """The Fernet key of the first releases: HKDF-SHA256 of a SECRET_KEY, with its own purpose string."""
    import base64

    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"portal mailin mailbox password").derive(
        secret.encode()
    )
    return base64.urlsafe_b64encode(key)


def _fernet():
    """MultiFernet over MAILBOX_ENCRYPTION_KEYS (the first encrypts), then the keys derived from
    SECRET_KEY and its fallbacks: a password stored before the dedicated keys existed, or before the
    session key was rotated, still decrypts. Without MAILBOX_ENCRYPTION_KEYS (development only, the
    configuration refuses it in production) the key derived from SECRET_KEY encrypts."""
    from cryptography.fernet import Fernet, MultiFernet

    config = current_app.config
    keys = [
        *config.get("MAILBOX_ENCRYPTION_KEYS", []),
        *(_derived_key(secret) for secret in (config["SECRET_KEY"], *config.get("SECRET_KEY_FALLBACKS", []))),
    ]
    return MultiFernet([Fernet(key) for key in keys])


def encrypt_password(password: str) -> str:
    return _fernet().encrypt(password.encode()).decode()


def decrypt_password(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()


def reencrypt_mailbox_passwords() -> tuple[int, int]:
    """Re-encrypt every tenant's stored mailbox password with the first key (after adding a new key
    in front of MAILBOX_ENCRYPTION_KEYS, or before dropping SECRET_KEY from the fallbacks).
    Returns (re-encrypted, unreadable): an unreadable one is left as it is, for the admin to re-enter."""
    from cryptography.fernet import InvalidToken

    from app.mailin.models import Mailbox
    from app.tenancy.scoping import all_tenants

    fernet = _fernet()
    done = unreadable = 0
    with all_tenants():
        for mailbox in db.session.scalars(select(Mailbox).order_by(Mailbox.id)):
            try:
                mailbox.password_encrypted = fernet.rotate(mailbox.password_encrypted.encode()).decode()
                done += 1
            except InvalidToken:
                unreadable += 1
    return done, unreadable


def set_mailbox(
    *,
    host: str,
    username: str,
    password: str,
    port: int | None = None,
    security: str = "ssl",
    folder: str = "INBOX",
    processed_folder: str | None = None,
    verify_certificate: bool = True,
):
    """Add the current tenant's mailbox, or update the one with the same host, user and folder."""
    from app.mailin.models import Mailbox

    if security not in SECURITY_MODES:
        raise ValueError(f"security must be one of {', '.join(SECURITY_MODES)}")
    port = port or (993 if security == "ssl" else 143)
    mailbox = db.session.execute(
        select(Mailbox).where(Mailbox.host == host, Mailbox.username == username, Mailbox.folder == folder)
    ).scalar_one_or_none()
    if mailbox is None:
        mailbox = Mailbox(host=host, username=username, folder=folder)
        db.session.add(mailbox)
    mailbox.port, mailbox.security, mailbox.processed_folder = port, security, processed_folder or None
    mailbox.verify_certificate, mailbox.enabled, mailbox.failing = verify_certificate, True, False
    mailbox.password_encrypted = encrypt_password(password)
    db.session.flush()  # the caller shows its id
    return mailbox


class MailboxConnectionError(Exception):
    """The mailbox could not be reached or refused the login; ``message`` says why, for the admin."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def test_mailbox_connection(
    *,
    host: str,
    port: int | None,
    security: str,
    username: str,
    password: str,
    folder: str = "INBOX",
    verify_certificate: bool = True,
) -> int:
    """Connect, log in and open the folder as the poller would; the number of messages in it.

    Raises MailboxConnectionError with a translated reason; never stores anything."""
    from flask_babel import gettext as _

    from app.mailin.imap import ERROR_CONNECT, MailboxError, connect, error_words, select_folder
    from app.mailin.models import Mailbox

    if security not in SECURITY_MODES or not host or not username:
        raise MailboxConnectionError(_("Please give the server, the security and the user name."))
    probe = Mailbox(
        host=host,
        port=port or (993 if security == "ssl" else 143),
        security=security,
        username=username,
        folder=folder or "INBOX",
        verify_certificate=verify_certificate,
    )
    try:
        connection = connect(probe)
    except MailboxError as error:
        # Fixed words: what the admin typed, never what the remote server said (its banner, its errors).
        if error.code == ERROR_CONNECT:
            raise MailboxConnectionError(
                _(
                    "The server %(host)s:%(port)s could not be reached, or it did not answer as an IMAP server.",
                    host=probe.host,
                    port=probe.port,
                )
            ) from None
        raise MailboxConnectionError(error_words(error.code)) from None
    try:
        try:
            connection.login(username, password)
        except imaplib.IMAP4.error:
            raise MailboxConnectionError(_("The server refused the user name or the password.")) from None
        except OSError:
            raise MailboxConnectionError(error_words(ERROR_CONNECT)) from None
        try:
            status, data = select_folder(connection, probe.folder, readonly=True)
        except (imaplib.IMAP4.error, OSError):
            status, data = "NO", None
        if status != "OK":
            raise MailboxConnectionError(_("The folder %(folder)s does not exist on the server.", folder=probe.folder))
        count = (data or [b"0"])[0] or b"0"
        return int(count) if count.isdigit() else 0
    finally:
        try:
            connection.logout()
        except (OSError, imaplib.IMAP4.error):
            pass


def remove_mailbox(mailbox_id: int) -> bool:
    """Stop polling one of the current tenant's mailboxes; False if it has none with that id."""
    from app.mailin.models import Mailbox

    mailbox = db.session.get(Mailbox, mailbox_id)
    if mailbox is None:
        return False
    db.session.delete(mailbox)
    return True
