"""Downloading a request's files: always as a download, never rendered as a page of the portal."""

from __future__ import annotations

from flask import abort, send_file
from flask_login import login_required

from app.extensions import db
from app.storage import StorageError, get_storage
from app.storage.files import safe_filename
from app.tickets.models import Attachment
from app.tickets.views.base import bp, ticket_or_404


@bp.get("/requests/<reference>/attachments/<int:attachment_id>")
@login_required
def download(reference, attachment_id):
    ticket = ticket_or_404(reference, "see_attachments")
    attachment = db.session.get(Attachment, attachment_id)
    if attachment is None or attachment.ticket_id != ticket.id:
        abort(404)
    try:
        stream = get_storage().open(attachment.storage_key)
    except StorageError:
        abort(503)
    # Always a download (never rendered as a page of the portal, whatever the type), with the
    # type read from the bytes at upload; the sandbox policy stops anything active even if opened.
    response = send_file(
        stream,
        mimetype=attachment.content_type or "application/octet-stream",
        as_attachment=True,
        download_name=safe_filename(attachment.filename),
        max_age=0,
    )
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
