"""Inbound e-mail over HTTP (the mail gate for MTAs and webhooks, on the platform domain) and the
download of an e-mail's full original for agents (on the tenant's portal)."""

from __future__ import annotations

import hmac

from flask import Blueprint, abort, current_app, flash, jsonify, redirect, request, send_file, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.extensions import csrf, db
from app.mailin import models as m
from app.mailin.models import InboundMessage
from app.tickets.models import Ticket
from app.tickets.policy import can

mailgate_bp = Blueprint("mailgate", __name__)
bp = Blueprint("mailin", __name__, subdomain="<tenant>")

# Form fields that carry the raw message in inbound-mail webhooks (ours, Mailgun's MIME route, SendGrid's raw parse).
RAW_FIELDS = ("message", "body-mime", "email")


def _authorized() -> bool:
    token = current_app.config.get("MAILGATE_TOKEN")
    header = request.headers.get("Authorization", "")
    if not token or not header.startswith("Bearer "):
        return False
    return hmac.compare_digest(header[len("Bearer ") :].strip().encode(), token.encode())


def _raw_message() -> bytes:
    if request.mimetype in ("multipart/form-data", "application/x-www-form-urlencoded"):
        for name in RAW_FIELDS:
            if name in request.files:
                return request.files[name].read()
            if name in request.form:
                return request.form[name].encode("utf-8", "surrogateescape")
        return b""
    return request.get_data(cache=False)


@mailgate_bp.post("/mailgate/<slug>")
@csrf.exempt  # a machine posts here with its token, never a browser with a session
def mailgate(slug):
    """Accept one raw RFC 822 message for the tenant ``slug`` (``Authorization: Bearer $MAILGATE_TOKEN``).

    200 with the outcome for anything stored (also refused or ignored messages: do not retry them);
    503 if it could not be stored (retry later); 401 without the token; 404 for an unknown tenant."""
    from app.mailin.intake import IngestError, ingest, max_email_bytes
    from app.tenancy.resolution import get_tenant_context

    if not _authorized():
        return jsonify(error="unauthorized"), 401, {"WWW-Authenticate": 'Bearer realm="mailgate"'}
    tenant = get_tenant_context(slug)
    if tenant is None:
        abort(404)
    # Room above the tenant's limit, so that a too large message is still recorded and answered.
    request.max_content_length = max_email_bytes(tenant) * 2 + 1024 * 1024
    raw = _raw_message()
    if not raw.strip():
        return jsonify(error="empty message"), 400
    recipients = tuple(filter(None, [request.values.get("recipient")]))
    try:
        inbound = ingest(raw, tenant.id, source="http", envelope_to=recipients)
    except IngestError:
        return jsonify(error="not stored, try again later"), 503, {"Retry-After": "60"}
    return jsonify(
        id=inbound.id,
        outcome="duplicate" if inbound.duplicate else inbound.outcome,
        ticket_id=inbound.ticket_id,
        comment_id=inbound.comment_id,
    )


def _send_original(inbound: InboundMessage | None, name: str):
    from app.storage import StorageError, get_storage

    if inbound is None or not inbound.raw_key:
        abort(404)
    try:
        stream = get_storage().open(inbound.raw_key)
    except StorageError:
        abort(503)
    return send_file(stream, mimetype="message/rfc822", as_attachment=True, download_name=name, max_age=0)


def _staff_ticket(reference: str) -> Ticket:
    ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one_or_none()
    if ticket is None or not current_user.is_staff or not can(current_user, "view", ticket):
        abort(404)
    return ticket


@bp.get("/requests/<reference>/comments/<int:comment_id>/original")
@login_required
def comment_original(reference, comment_id):
    """The full original e-mail of a comment that arrived by e-mail (agents only)."""
    ticket = _staff_ticket(reference)
    inbound = (
        db.session.execute(
            select(InboundMessage).where(InboundMessage.ticket_id == ticket.id, InboundMessage.comment_id == comment_id)
        )
        .scalars()
        .first()
    )
    return _send_original(inbound, f"{ticket.reference}-{comment_id}.eml")


@bp.get("/requests/<reference>/original")
@login_required
def request_original(reference):
    """The e-mail a request was created from (agents only)."""
    from app.mailin.models import CREATED

    ticket = _staff_ticket(reference)
    inbound = (
        db.session.execute(
            select(InboundMessage).where(InboundMessage.ticket_id == ticket.id, InboundMessage.outcome == CREATED)
        )
        .scalars()
        .first()
    )
    return _send_original(inbound, f"{ticket.reference}.eml")


# --- replies held for review (their senders could not be confirmed) ------------------------------

# Why a reply was held, in the agent's words (the stored reason is a code).
HOLD_REASON_WORDS = {
    m.HOLD_NOT_PARTICIPANT: _l("The sender takes no part in this request."),
    m.HOLD_OTHER_RECIPIENT: _l(
        "The sender replied through a reply address that was sent to someone else, for example in a forwarded e-mail."
    ),
    m.HOLD_SUBJECT_TAG: _l("Only the subject names this request, so the sender could not be confirmed."),
    m.HOLD_UNCONFIRMED_THREAD: _l("The e-mail answers a message that was not sent to the sender's address."),
}


HELD_SHOWN = 20


@bp.app_template_global("held_messages")
def held_messages_for(ticket: Ticket) -> list[dict]:
    """The request page's panel: held e-mails of ``ticket`` with what they say, for its agents only."""
    from flask import g

    from app.mailin.held import held_messages, held_preview, held_sender

    if not current_user.is_authenticated or not current_user.is_staff or not can(current_user, "view", ticket):
        return []
    # Each one is read back from storage: a flood of forged mail shows a page at a time, oldest first.
    return [
        {
            "message": inbound,
            "reason": HOLD_REASON_WORDS.get(inbound.hold_reason, inbound.hold_reason),
            "preview": held_preview(inbound, g.tenant),
            "sender": held_sender(inbound, ticket),
        }
        for inbound in held_messages(ticket)[:HELD_SHOWN]
    ]


@bp.app_template_global("held_count")
def held_count_for(ticket: Ticket) -> int:
    """How many e-mails wait for review on ``ticket`` (the panel shows the first ``HELD_SHOWN``)."""
    from sqlalchemy import func

    return (
        db.session.scalar(
            select(func.count(InboundMessage.id)).where(
                InboundMessage.ticket_id == ticket.id, InboundMessage.outcome == m.HELD
            )
        )
        or 0
    )


def _back_to(ticket: Ticket):
    return redirect(url_for("tickets.detail", reference=ticket.reference, _anchor="held-messages"))


@bp.get("/requests/<reference>/held/<int:inbound_id>/original")
@login_required
def held_original(reference, inbound_id):
    """The full original of an e-mail held on the request (agents only)."""
    ticket = _staff_ticket(reference)
    inbound = db.session.get(InboundMessage, inbound_id)
    if inbound is None or inbound.ticket_id != ticket.id or inbound.hold_reason is None:
        abort(404)
    return _send_original(inbound, f"{ticket.reference}-held-{inbound.id}.eml")


@bp.post("/requests/<reference>/held/<int:inbound_id>/accept")
@login_required
def accept_held(reference, inbound_id):
    """Add a held e-mail to the request: as its sender's comment (``as=comment``) or an internal note."""
    from app.mailin.held import ReviewError, accept_held as accept

    ticket = _staff_ticket(reference)
    if request.form.get("as") not in ("comment", "internal"):
        abort(400)
    internal = request.form.get("as") == "internal"
    try:
        accept(ticket, inbound_id, current_user, internal=internal)
    except LookupError:
        abort(404)
    except ReviewError as error:
        flash(error.message, "error")
    else:
        flash(
            _("The e-mail was added to the request as an internal note.")
            if internal
            else _("The e-mail was added to the request as its sender's comment."),
            "success",
        )
    return _back_to(ticket)


@bp.post("/requests/<reference>/held/<int:inbound_id>/discard")
@login_required
def discard_held(reference, inbound_id):
    """Set a held e-mail aside: it is not added to the request, and stays stored."""
    from app.mailin.held import ReviewError, discard_held as discard

    ticket = _staff_ticket(reference)
    try:
        discard(ticket, inbound_id, current_user)
    except LookupError:
        abort(404)
    except ReviewError as error:
        flash(error.message, "error")
    else:
        flash(_("The e-mail was discarded; it was not added to the request."), "success")
    return _back_to(ticket)
