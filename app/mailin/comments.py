"""A confirmed sender's reply becomes a comment on its request: the new text without the quoted
history, the attachments the request accepts, and (where the tenant allows it) the people copied
as participants. A reply to a closed request does not reopen it; the sender is told to raise a new one.
"""

from __future__ import annotations

import io

from flask_babel import force_locale
from sqlalchemy import select
from werkzeug.datastructures import FileStorage

from app.extensions import db
from app.mailin import models as m
from app.mailin.answers import answer
from app.mailin.models import InboundMessage
from app.mailin.parsing import ParsedMessage
from app.mailin.reply import strip_reply
from app.mailin.routing import is_own_address
from app.tenancy.settings import tenant_settings


def reply_markers(tenant) -> list[str]:
    """ "Reply above this line" as our notification e-mails write it, in each of the tenant's languages."""
    from flask_babel import gettext

    markers = []
    for locale in dict.fromkeys([*tenant.locales, tenant.default_locale, "en"]):
        with force_locale(locale):
            markers.append(gettext("Reply above this line"))
    return markers


def new_text(parsed: ParsedMessage, tenant) -> str:
    """What the sender wrote, without the quoted history and signature."""
    return strip_reply(parsed.text or "", markers=reply_markers(tenant)).visible.strip()


def uploads(tenant, parsed: ParsedMessage) -> tuple[list[FileStorage], list[str]]:
    """The attachments (inline images too) as uploads the ticket service accepts, and the names of
    those it would refuse (blocked types, too large, too many): those are left out, not the message."""
    from app.tickets.attachments import check_uploads
    from app.tickets.errors import RequestError

    accepted, skipped = [], []
    max_count = tenant_settings(tenant).max_attachments
    for attachment in parsed.attachments:
        upload = FileStorage(
            stream=io.BytesIO(attachment.data),
            filename=attachment.filename or "attachment",
            content_type=attachment.content_type or "application/octet-stream",
        )
        try:
            check_uploads(tenant, [upload])
        except RequestError:
            skipped.append(upload.filename)
            continue
        if len(accepted) >= max_count:
            skipped.append(upload.filename)
            continue
        accepted.append(upload)
    return accepted, skipped


def skipped_note(skipped: list[str]) -> str | None:
    return f"files left out: {', '.join(skipped)}" if skipped else None


def add_as_comment(inbound, parsed, tenant, ticket, sender, routed_by, answerable) -> None:
    from app.tickets.conversation import add_comment
    from app.tickets.errors import RequestError

    inbound.ticket_id = ticket.id
    if ticket.status.is_final:
        if answerable:
            answer(inbound, parsed, "closed_request", user=sender, ticket=ticket)
        return inbound.set_outcome(m.REJECTED, f"{ticket.reference} is closed (routed by {routed_by})")
    files, skipped = uploads(tenant, parsed)
    body = new_text(parsed, tenant)
    try:
        comment = add_comment(ticket, sender, body, uploads=files, channel="email")
    except RequestError as error:  # nothing written and no file: nothing to add
        inbound = db.session.get(InboundMessage, inbound.id)
        inbound.ticket_id = ticket.id
        return inbound.set_outcome(m.REJECTED, f"not added to {ticket.reference}: {error.message}")
    inbound = db.session.get(InboundMessage, inbound.id)
    inbound.ticket_id, inbound.comment_id = ticket.id, comment.id
    add_cc_participants(ticket, sender, parsed, tenant)
    inbound.set_outcome(m.COMMENT, "; ".join(filter(None, [f"routed by {routed_by}", skipped_note(skipped)])))


def add_cc_participants(ticket, sender, parsed, tenant) -> None:
    """Where the tenant allows it (``settings.email_cc_participants``), people with an account whom the
    sender copied become participants, if the sender may share the request."""
    from app.accounts.users import find_user
    from app.tickets.models import Participant, Watcher
    from app.tickets.policy import can
    from app.tickets.services import record_event

    if not tenant_settings(tenant).email_cc_participants or not can(sender, "share", ticket):
        return
    for address in dict.fromkeys([*parsed.to, *parsed.cc]):
        if address == sender.email or is_own_address(address, tenant):
            continue
        user = find_user(address)
        if user is None or not user.active or user.is_staff or user.id == ticket.requester_id:
            continue
        if db.session.execute(
            select(Participant.id).where(Participant.ticket_id == ticket.id, Participant.user_id == user.id)
        ).first():
            continue
        db.session.add(Participant(ticket_id=ticket.id, user_id=user.id, added_by_id=sender.id))
        if (
            db.session.execute(
                select(Watcher.id).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)
            ).first()
            is None
        ):
            db.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
        record_event(ticket, "participant_added", actor=sender, user_id=user.id, invited=False, channel="email")
