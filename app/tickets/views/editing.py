"""Changing a request from its page: its details (requesters what the tenant allows, agents every
field), and for agents its assignee, its request type, and its links to or merge into another."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.catalog.forms import form_name
from app.catalog.services import form_fields, request_type_by_id
from app.security.params import int_arg
from app.tickets import merging, services
from app.tickets.views.base import act, bp, staff_ticket_or_404, ticket_or_404
from app.tickets.views.detail import details_form


@bp.post("/requests/<reference>/details")
@login_required
def update_details(reference):
    ticket = ticket_or_404(reference, "edit")
    if ticket.status.is_final:
        abort(404)
    _portal, request_type = request_type_by_id(g.tenant, ticket.request_type_id)
    form = details_form(ticket, form_fields(g.tenant, request_type.form_id), formdata=request.form)
    if form is None:
        abort(404)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for f in form for e in f.errors) or _("Please correct the following:"), "error")
        return redirect(url_for("tickets.detail", reference=reference) + "#details")
    return act(
        reference,
        lambda: services.update_details(
            ticket,
            current_user._get_current_object(),
            form.submitted_values(),
            uploads=request.files.getlist(form_name("attachments")),
        ),
    )


@bp.post("/requests/<reference>/assign")
@login_required
def assign(reference):
    ticket = staff_ticket_or_404(reference)
    raw = request.form.get("assignee", "")
    assignee_id = current_user.id if raw == "me" else int_arg(raw)
    return act(reference, lambda: services.assign_ticket(ticket, current_user._get_current_object(), assignee_id))


@bp.post("/requests/<reference>/type")
@login_required
def change_type(reference):
    ticket = staff_ticket_or_404(reference)
    if ticket.status.is_final:
        abort(404)
    return act(
        reference,
        lambda: services.change_request_type(
            ticket, current_user._get_current_object(), int_arg(request.form.get("request_type"), 0)
        ),
    )


@bp.post("/requests/<reference>/links")
@login_required
def link(reference):
    ticket = staff_ticket_or_404(reference)
    other = request.form.get("reference", "")
    if request.form.get("merge") == "1":
        return act(
            reference,
            lambda: merging.merge_into(ticket, current_user._get_current_object(), other),
            lambda target: _("Merged into %(reference)s.", reference=target.reference),
        )
    return act(
        reference,
        lambda: merging.link_tickets(ticket, current_user._get_current_object(), other),
        lambda target: _("Linked with %(reference)s.", reference=target.reference),
    )
