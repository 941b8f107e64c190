"""The conversation on a request: comments (with files, and a customer's optional step) and following.

A comment publishes ``CommentAdded``: the tenant's rules for a customer's reply (e.g. back to
support, reopen a done request) are automation's reaction to it (``app.automation.reactions``).
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts.models import User
from app.db_types import utcnow
from app.extensions import db
from app.storage import get_storage
from app.tickets.attachments import check_uploads, store_attachments
from app.tickets.errors import RequestError
from app.tickets.events import CommentAdded, publish
from app.tickets.models import Comment, Ticket, Watcher
from app.tickets.services import record_event
from app.tickets.transitions import apply_transition
from app.unit_of_work import atomic
from app.workflow.models import Transition
from app.workflow.services import TransitionError


@atomic()
def add_comment(
    ticket: Ticket,
    author: User,
    body: str,
    *,
    uploads=(),
    is_internal: bool = False,
    transition_id: int | None = None,
    channel: str = "portal",
) -> Comment:
    """A comment (with files, and for customers an optional "change status to"), all or nothing.

    ``CommentAdded`` is published after the step, if any: a customer's bare reply runs the tenant's
    ``customer_comment`` or ``email_reply`` rules (automation's reaction)."""
    body = (body or "").strip()
    files = check_uploads(g.tenant, uploads)
    if not body and not files:
        raise RequestError(_("Please write a comment or attach a file."), "body")
    if len(body) > 20000:
        raise RequestError(_("The comment is too long."), "body")
    if is_internal and not author.is_staff:
        is_internal = False
    stored = []
    try:
        comment = Comment(ticket_id=ticket.id, author_id=author.id, body=body, is_internal=is_internal, channel=channel)
        db.session.add(comment)
        db.session.flush()
        record_event(ticket, "internal_note" if is_internal else "commented", actor=author, comment_id=comment.id)
        stored = store_attachments(ticket, files, uploaded_by=author, comment_id=comment.id)
        ticket.updated_at = utcnow()
        if transition_id:
            transition = db.session.get(Transition, transition_id)
            if transition is None:
                raise TransitionError(_("This step is not possible for the request in its current status."))
            apply_transition(ticket, transition, actor_user=author, comment=body)
        publish(CommentAdded(ticket, comment, author, channel, with_step=bool(transition_id)))
    except Exception:
        for key in stored:
            get_storage().delete(key)
        raise
    return comment


def set_watching(ticket: Ticket, user: User, watching: bool) -> None:
    """Follow the request (its notifications) or stop following it."""
    existing = db.session.execute(
        select(Watcher).where(Watcher.ticket_id == ticket.id, Watcher.user_id == user.id)
    ).scalar_one_or_none()
    if watching and existing is None:
        db.session.add(Watcher(ticket_id=ticket.id, user_id=user.id))
        record_event(ticket, "watch_started", actor=user)
    elif not watching and existing is not None:
        db.session.delete(existing)
        record_event(ticket, "watch_stopped", actor=user)
