"""Taking part in a request's conversation: commenting (optionally moving the request on), taking a
workflow step with the fields it requires, and watching the request for notifications."""

from __future__ import annotations

from flask import abort, flash, g, redirect, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required

from app.accounts.policy import is_staff
from app.catalog.forms import form_name
from app.catalog.services import form_fields, request_type_by_id
from app.extensions import db
from app.security.params import int_arg
from app.templating import localized
from app.tickets import conversation, errors, transitions
from app.tickets.policy import allowed_actions
from app.tickets.views.base import bp, ticket_or_404
from app.tickets.views.detail import transition_form
from app.workflow.models import Transition
from app.workflow.services import TransitionError


@bp.post("/requests/<reference>/comments")
@login_required
def comment(reference):
    ticket = ticket_or_404(reference, "comment")
    transition_id = int_arg(request.form.get("transition"))
    if transition_id and not ({"close", "reopen", "approve"} & allowed_actions(current_user, ticket)):
        transition_id = None
    try:
        conversation.add_comment(
            ticket,
            current_user._get_current_object(),
            request.form.get("body", ""),
            uploads=request.files.getlist("files"),
            transition_id=transition_id,
            is_internal=request.form.get("internal") == "1",
        )
    except (errors.RequestError, TransitionError) as error:
        flash(error.message, "error")
        return redirect(url_for("tickets.detail", reference=reference) + "#comment-form")
    flash(_("Your comment has been added."), "success")
    return redirect(url_for("tickets.detail", reference=reference))


@bp.post("/requests/<reference>/transitions/<int:transition_id>")
@login_required
def transition(reference, transition_id):
    ticket = ticket_or_404(reference)
    if not is_staff(current_user) and not ({"close", "reopen", "approve"} & allowed_actions(current_user, ticket)):
        abort(404)
    values = None
    step = db.session.get(Transition, transition_id)
    if step is not None and step.workflow_id == ticket.request_type.workflow_id:
        _portal, request_type = request_type_by_id(g.tenant, ticket.request_type_id)
        form = transition_form(step, form_fields(g.tenant, request_type.form_id), formdata=request.form)
        if form is not None:
            if not form.validate():
                flash(
                    " ".join(
                        f"{form[form_name(info.key)].label.text}: {error}"
                        for info in form._infos
                        for error in form[form_name(info.key)].errors
                    ),
                    "error",
                )
                return redirect(url_for("tickets.detail", reference=reference) + f"#transition-{transition_id}")
            values = form.submitted_values()
    try:
        transitions.take_transition(
            ticket, current_user._get_current_object(), transition_id, request.form.get("body", ""), values=values
        )
    except TransitionError as error:
        flash(error.message, "error")
    else:
        flash(
            _(
                "The request is now: %(status)s.",
                status=localized(ticket.status.name if is_staff(current_user) else ticket.status.customer_name),
            ),
            "success",
        )
    return redirect(url_for("tickets.detail", reference=reference))


@bp.post("/requests/<reference>/watch")
@login_required
def watch(reference):
    ticket = ticket_or_404(reference, "watch")
    watching = request.form.get("watch") == "1"
    conversation.set_watching(ticket, current_user._get_current_object(), watching)
    flash(
        _("You will get notifications about this request.")
        if watching
        else _("You will no longer get notifications about this request."),
        "success",
    )
    return redirect(url_for("tickets.detail", reference=reference))
