"""Sharing a request: with people (invited if they have no account yet) and with the requester's
organizations; and, for agents, forwarding a summary to an outside address."""

from __future__ import annotations

from flask import flash, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app import unit_of_work
from app.accounts import users as accounts
from app.security.params import int_arg
from app.tickets import errors, sharing
from app.tickets.views.base import act, bp, staff_ticket_or_404, ticket_or_404


@bp.post("/requests/<reference>/participants")
@login_required
def add_participant(reference):
    ticket = ticket_or_404(reference, "share")
    try:
        user, invited = sharing.share_with_person(
            ticket, current_user._get_current_object(), request.form.get("email", "")
        )
    except (errors.RequestError, accounts.AccountError) as error:
        unit_of_work.discard()
        flash(error.message, "error")
    else:
        flash(
            _("The request is shared with %(email)s; we have sent them an invitation.", email=user.email)
            if invited
            else _("The request is shared with %(email)s.", email=user.email),
            "success",
        )
    return redirect(url_for("tickets.detail", reference=reference) + "#sharing")


@bp.post("/requests/<reference>/participants/<int:user_id>/remove")
@login_required
def remove_participant(reference, user_id):
    ticket = ticket_or_404(reference, "share")
    return act(
        reference,
        lambda: sharing.remove_participant(ticket, current_user._get_current_object(), user_id),
        anchor="#sharing",
    )


@bp.post("/requests/<reference>/organizations")
@login_required
def share_organization(reference):
    ticket = ticket_or_404(reference, "share")
    return act(
        reference,
        lambda: sharing.set_organization_sharing(
            ticket,
            current_user._get_current_object(),
            int_arg(request.form.get("organization"), 0),
            request.form.get("share") == "1",
        ),
        anchor="#sharing",
    )


@bp.post("/requests/<reference>/forward")
@login_required
def forward(reference):
    """Agents: e-mail a summary to an outside address; the reply comes back as a comment."""
    ticket = staff_ticket_or_404(reference)
    return act(
        reference,
        lambda: sharing.forward_summary(
            ticket, current_user._get_current_object(), request.form.get("email", ""), request.form.get("note", "")
        ),
        success=lambda outsider: _(
            "The summary was sent to %(email)s. Their reply will be added to the request.", email=outsider.email
        ),
        anchor="#forward",
    )
