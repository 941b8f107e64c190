"""The customer request blueprint and what every section of it shares: finding the request a URL
names (or answering 404), running one service call for a form of the request page, and the
tenant's upload limits for the pages that take files."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, flash, g, redirect, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select
from werkzeug.wrappers import Response

from app import unit_of_work
from app.accounts import users as accounts
from app.accounts.models import Membership, Organization, User
from app.accounts.policy import is_staff
from app.extensions import db
from app.tickets import attachments, errors
from app.tickets.models import Ticket
from app.tickets.policy import can
from app.workflow.services import TransitionError

bp = Blueprint("tickets", __name__, subdomain="<tenant>")


@bp.context_processor
def _upload_limits():
    """The tenant's attachment limits, for the pages' immediate check of chosen files
    (macros/file_drop.html); the server checks every file again when the form is sent."""

    def upload_limits() -> dict:
        max_bytes, max_files = attachments.attachment_limits(g.tenant)
        return {
            "max_bytes": max_bytes,
            "max_mb": max_bytes // (1024 * 1024),
            "max_files": max_files,
            "blocked_extensions": sorted(attachments.BLOCKED_EXTENSIONS),
        }

    return {"upload_limits": upload_limits}


def organizations_of(user: User) -> list[Organization]:
    """The organizations a person belongs to, by name: whom a request can be shared with."""
    return list(
        db.session.scalars(
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
    )


def ticket_or_404(reference: str, action: str = "view") -> Ticket:
    """The request a URL names, if the current user may do ``action`` on it."""
    ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one_or_none()
    if ticket is None or not can(current_user, action, ticket):
        abort(404)  # the same answer whether it does not exist or is not yours
    return ticket


def staff_ticket_or_404(reference: str) -> Ticket:
    """The request a URL names, for agents' actions: customers get the same 404 as for a stranger's."""
    ticket = ticket_or_404(reference)
    if not is_staff(current_user):
        abort(404)
    return ticket


def act(
    reference: str,
    change: Callable[[], Any],
    success: Callable[[Any], str] | None = None,
    anchor: str = "",
) -> Response:
    """Run one service call for a request page's form: flash its error or success, go back."""
    try:
        result = change()
    except (errors.RequestError, TransitionError, accounts.AccountError) as error:
        unit_of_work.discard()  # what the call did before it was refused: the redirect would commit it
        flash(error.message, "error")
    else:
        flash(success(result) if success else _("Saved."), "success")
    return redirect(url_for("tickets.detail", reference=reference) + anchor)
