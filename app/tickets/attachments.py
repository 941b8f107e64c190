"""Files attached to a request: the tenant's limits, the check before anything is stored, the upload.

Files are checked as a whole before the first is stored (a refused file leaves nothing behind), and
stored before their rows are written (a storage failure removes what was uploaded)."""

from __future__ import annotations

from flask_babel import gettext as _

from app.accounts.models import User
from app.extensions import db
from app.storage import StorageError, get_storage, make_key
from app.storage.files import SNIFF_BYTES, safe_filename, sniff_content_type
from app.tenancy.settings import tenant_settings
from app.tickets.errors import RequestError
from app.tickets.models import Attachment, Ticket

# Files that run when opened are refused; everything else is stored and served as a download.
BLOCKED_EXTENSIONS = {
    "exe",
    "com",
    "bat",
    "cmd",
    "msi",
    "scr",
    "pif",
    "cpl",
    "vbs",
    "vbe",
    "js",
    "jse",
    "wsf",
    "wsh",
    "ps1",
    "hta",
    "jar",
    "lnk",
    "reg",
    "dll",
    "sys",
}


def attachment_limits(tenant) -> tuple[int, int]:
    """The tenant's limits for attached files: bytes per file and files per upload."""
    settings = tenant_settings(tenant)
    return settings.max_attachment_mb * 1024 * 1024, settings.max_attachments


def check_uploads(tenant, uploads) -> list:
    """The files to store, or RequestError if any breaks the tenant's limits (nothing is stored then)."""
    files = [f for f in uploads or [] if getattr(f, "filename", "")]
    max_bytes, max_count = attachment_limits(tenant)
    if len(files) > max_count:
        raise RequestError(_("You can attach at most %(count)d files at once.", count=max_count), "attachments")
    for upload in files:
        name = safe_filename(upload.filename)
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        if extension in BLOCKED_EXTENSIONS:
            raise RequestError(
                _("Files of type .%(extension)s cannot be attached for safety reasons.", extension=extension),
                "attachments",
            )
        upload.stream.seek(0, 2)
        size = upload.stream.tell()
        upload.stream.seek(0)
        if size > max_bytes:
            raise RequestError(
                _("%(name)s is too large: at most %(size)d MB per file.", name=name, size=max_bytes // (1024 * 1024)),
                "attachments",
            )
        if size == 0:
            raise RequestError(_("%(name)s is empty.", name=name), "attachments")
    return files


def store_attachments(ticket: Ticket, files, *, uploaded_by: User | None, comment_id: int | None = None) -> list:
    """Upload to storage first, then record the rows; on failure remove what was uploaded.

    The stored name is normalised (``safe_filename``) and the content type is read from the bytes
    (``sniff_content_type``): the client's name and claimed type are not trusted."""
    storage = get_storage()
    stored = []
    try:
        for upload in files:
            name = safe_filename(upload.filename)
            key = make_key(ticket.tenant_id, ticket.id)
            upload.stream.seek(0)
            content_type = sniff_content_type(upload.stream.read(SNIFF_BYTES), name)
            upload.stream.seek(0, 2)
            size = upload.stream.tell()
            upload.stream.seek(0)
            storage.put(key, upload.stream, content_type)
            stored.append(key)
            db.session.add(
                Attachment(
                    ticket_id=ticket.id,
                    comment_id=comment_id,
                    storage_key=key,
                    filename=name,
                    content_type=content_type,
                    size=size,
                    uploaded_by_id=uploaded_by.id if uploaded_by else None,
                )
            )
    except StorageError:
        for key in stored:
            try:
                storage.delete(key)
            except StorageError:
                pass
        raise RequestError(
            _("The files could not be saved just now. Nothing was sent; please try again."), "attachments"
        ) from None
    return stored
