"""Customer portal views of requests: raise one with the tenant's form, see it, download its files."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, g, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts import users as accounts
from app.accounts.models import Membership, Organization, User
from app.accounts.policy import can_raise_requests, is_staff
from app.accounts.registration import create_contact_account
from app.catalog.forms import build_request_form, form_name, prefill, stored_values
from app.catalog.services import filterable_fields, find_request_type, form_fields, portal_catalog, request_type_by_id
from app.extensions import db
from app.templating import localized
from app.security.params import int_arg
from app.tickets import attachments, conversation, errors, merging, services, sharing, transitions
from app.tickets.forms import PRIVATE, add_request_options
from app.tickets.listing import SCOPES, RequestFilters, list_requests
from app.tickets.models import (
    Attachment,
    Comment,
    Participant,
    Ticket,
    TicketEvent,
    TicketFieldValue,
    TicketOrganization,
    Watcher,
)
from app.tickets.policy import allowed_actions, can
from app.workflow.models import Status, Transition
from app.workflow.services import TransitionError, actor_kind, available_transitions

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


def _organizations_of(user) -> list[Organization]:
    return list(
        db.session.scalars(
            select(Organization)
            .join(Membership, Membership.organization_id == Organization.id)
            .where(Membership.user_id == user.id)
            .order_by(Organization.name)
        )
    )


@bp.get("/requests")
@login_required
def index():
    staff = is_staff(current_user)
    choice_fields = filterable_fields(g.tenant)
    filters = RequestFilters.from_args(request.args, field_keys=[f.key for f in choice_fields], staff=staff)
    page = list_requests(current_user, filters)
    statuses = db.session.scalars(select(Status).order_by(Status.position)).all()
    has_organizations = (
        db.session.execute(select(Membership.id).where(Membership.user_id == current_user.id).limit(1)).first()
        is not None
    )
    return render_template(
        "tickets/index.html",
        page=page,
        filters=filters,
        statuses=statuses,
        portals=portal_catalog(g.tenant),
        choice_fields=choice_fields,
        staff=staff,
        scopes=[s for s in SCOPES if staff or has_organizations or s == "mine"],
        list_base=url_for("tickets.index"),
        list_url=lambda **changes: url_for("tickets.index", **filters.args(**changes)),
    )


@bp.route("/portals/<portal_key>/<type_key>/new", methods=["GET", "POST"])
@login_required
def new_request(portal_key, type_key):
    found = find_request_type(g.tenant, portal_key, type_key)
    if found is None:
        abort(404)
    portal, request_type = found
    fields = form_fields(g.tenant, request_type.form_id)
    staff = is_staff(current_user)
    organizations = _organizations_of(current_user)
    form_class = build_request_form(fields, request_type.key, localized, staff=staff)
    form_class = add_request_options(
        form_class,
        organizations=organizations,
        staff=staff,
        default_sharing=(g.tenant.settings or {}).get("default_sharing", "private"),
    )
    form = form_class()
    if request.method == "GET":
        prefill(form, request.args, fields)
    if request.method == "POST" and form.validate_on_submit():
        try:
            ticket = _raise(form, fields, request_type, organizations, staff)
        except (errors.RequestError, accounts.AccountError) as error:
            target = None
            if error.field:
                target = getattr(form, form_name(error.field), None) or getattr(form, error.field, None)
            if target is not None:
                target.errors = list(target.errors) + [error.message]
            else:
                form.form_errors.append(error.message)
        else:
            flash(_("Your request %(reference)s has been received.", reference=ticket.reference), "success")
            return redirect(url_for("tickets.detail", reference=ticket.reference))
    status = 200 if not form.errors else 422
    return render_template(
        "tickets/new.html",
        form=form,
        portal=portal,
        request_type=request_type,
        fields=form._infos,
        form_name=form_name,
        can_raise=can_raise_requests(current_user),
    ), status


def _raise(form, fields, request_type, organizations, staff) -> Ticket:
    requester = current_user._get_current_object()
    if staff and getattr(form, "on_behalf_of", None) is not None and form.on_behalf_of.data:
        requester, _created = create_contact_account(form.on_behalf_of.data)
        db.session.flush()
    share_ids = []
    choice = form.share_with.data if hasattr(form, "share_with") else PRIVATE
    if choice and choice != PRIVATE:
        share_ids = [int(choice.split(":", 1)[1])]
    uploads = request.files.getlist(form_name("attachments"))
    return services.raise_request(
        tenant=g.tenant,
        request_type_id=request_type.id,
        requester=requester,
        created_by=current_user._get_current_object(),
        values=stored_values(form, fields),
        uploads=uploads,
        share_with_organization_ids=share_ids,
    )


def _ticket_or_404(reference: str, action: str = "view") -> Ticket:
    ticket = db.session.execute(select(Ticket).where(Ticket.reference == reference)).scalar_one_or_none()
    if ticket is None or not can(current_user, action, ticket):
        abort(404)  # the same answer whether it does not exist or is not yours
    return ticket


@bp.get("/requests/<reference>")
@login_required
def detail(reference):
    ticket = _ticket_or_404(reference)
    portal, request_type = request_type_by_id(g.tenant, ticket.request_type_id)
    fields = form_fields(g.tenant, request_type.form_id)
    values = {
        fv.field_id: fv.value
        for fv in db.session.scalars(select(TicketFieldValue).where(TicketFieldValue.ticket_id == ticket.id))
    }
    shown = [
        (f, values[f.id]) for f in fields if f.id in values and f.key not in ("summary", "description", "attachments")
    ]
    attachments = db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.created_at, Attachment.id)
    ).all()
    shared_with = db.session.scalars(
        select(Organization.name)
        .join(TicketOrganization, TicketOrganization.organization_id == Organization.id)
        .where(TicketOrganization.ticket_id == ticket.id)
        .order_by(Organization.name)
    ).all()
    actions = allowed_actions(current_user, ticket)
    staff = is_staff(current_user)
    newest_first = request.args.get("order", "newest") != "oldest"
    comments = db.session.execute(
        select(Comment, User)
        .outerjoin(User, Comment.author_id == User.id)
        .where(Comment.ticket_id == ticket.id, *([] if staff else [Comment.is_internal.is_(False)]))
        .order_by(Comment.created_at.desc() if newest_first else Comment.created_at.asc(), Comment.id)
    ).all()
    files_by_comment: dict = {}
    for a in attachments:
        files_by_comment.setdefault(a.comment_id, []).append(a)
    transitions = available_transitions(ticket, actor_kind(current_user)) if "comment" in actions else []
    # Customers act on the workflow as requester or organization admin; followers only comment.
    if not staff and not ({"close", "reopen", "approve"} & actions):
        transitions = []
    transition_forms = {t.id: form for t in transitions if (form := _transition_form(t, fields, values)) is not None}
    watching = (
        db.session.execute(
            select(Watcher.id).where(Watcher.ticket_id == ticket.id, Watcher.user_id == current_user.id)
        ).first()
        is not None
    )
    participants = db.session.scalars(
        select(User)
        .join(Participant, Participant.user_id == User.id)
        .where(Participant.ticket_id == ticket.id)
        .order_by(User.email)
    ).all()
    requester_orgs = _organizations_of(ticket.requester) if "share" in actions else []
    details_form = _details_form(ticket, fields, values) if "edit" in actions and not ticket.status.is_final else None
    agents = (
        db.session.scalars(
            select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True)).order_by(User.name, User.email)
        ).all()
        if staff
        else []
    )
    history = (
        db.session.execute(
            select(TicketEvent, User)
            .outerjoin(User, TicketEvent.actor_id == User.id)
            .where(TicketEvent.ticket_id == ticket.id)
            .order_by(TicketEvent.created_at, TicketEvent.id)
        ).all()
        if staff
        else []
    )
    status_names = {s.key: s.name for s in db.session.scalars(select(Status))} if staff else {}
    field_labels = {f.key: f.label for f in fields}
    related = []
    if staff:
        from app.tickets.models import TicketLink

        rows = db.session.execute(
            select(TicketLink, Ticket).join(
                Ticket,
                ((TicketLink.other_id == Ticket.id) & (TicketLink.ticket_id == ticket.id))
                | ((TicketLink.ticket_id == Ticket.id) & (TicketLink.other_id == ticket.id)),
            )
        ).all()
        related = [(link.kind, other, link.ticket_id == ticket.id) for link, other in rows]
    people = {u.id: u.display_name for u in agents}
    return render_template(
        "tickets/detail.html",
        ticket=ticket,
        portal=portal,
        request_type=request_type,
        shown=shown,
        attachments=files_by_comment.get(None, []) if "see_attachments" in actions else [],
        files_by_comment=files_by_comment if "see_attachments" in actions else {},
        shared_with=shared_with,
        staff=staff,
        comments=comments,
        newest_first=newest_first,
        transitions=transitions,
        transition_forms=transition_forms,
        actions=actions,
        watching=watching,
        participants=participants,
        requester_orgs=requester_orgs,
        details_form=details_form,
        agents=agents,
        history=history,
        related=related,
        portals=portal_catalog(g.tenant),
        status_names=status_names,
        field_labels=field_labels,
        people=people,
    )


@bp.post("/requests/<reference>/comments")
@login_required
def comment(reference):
    ticket = _ticket_or_404(reference, "comment")
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
    ticket = _ticket_or_404(reference)
    if not is_staff(current_user) and not ({"close", "reopen", "approve"} & allowed_actions(current_user, ticket)):
        abort(404)
    values = None
    step = db.session.get(Transition, transition_id)
    if step is not None and step.workflow_id == ticket.request_type.workflow_id:
        _portal, request_type = request_type_by_id(g.tenant, ticket.request_type_id)
        form = _transition_form(step, form_fields(g.tenant, request_type.form_id), formdata=request.form)
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
    ticket = _ticket_or_404(reference, "watch")
    watching = request.form.get("watch") == "1"
    conversation.set_watching(ticket, current_user._get_current_object(), watching)
    flash(
        _("You will get notifications about this request.")
        if watching
        else _("You will no longer get notifications about this request."),
        "success",
    )
    return redirect(url_for("tickets.detail", reference=reference))


@bp.get("/requests/<reference>/attachments/<int:attachment_id>")
@login_required
def download(reference, attachment_id):
    from app.storage import StorageError, get_storage
    from app.storage.files import safe_filename

    ticket = _ticket_or_404(reference, "see_attachments")
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


@bp.post("/requests/<reference>/participants")
@login_required
def add_participant(reference):
    ticket = _ticket_or_404(reference, "share")
    try:
        user, invited = sharing.share_with_person(
            ticket, current_user._get_current_object(), request.form.get("email", "")
        )
    except (errors.RequestError, accounts.AccountError) as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(
            _("The request is shared with %(email)s; we have sent them an invitation.", email=user.email)
            if invited
            else _("The request is shared with %(email)s.", email=user.email),
            "success",
        )
    return redirect(url_for("tickets.detail", reference=reference) + "#sharing")


@bp.post("/requests/<reference>/forward")
@login_required
def forward(reference):
    """Agents: e-mail a summary to an outside address; the reply comes back as a comment."""
    ticket = _staff_ticket_or_404(reference)
    return _act(
        reference,
        lambda: sharing.forward_summary(
            ticket, current_user._get_current_object(), request.form.get("email", ""), request.form.get("note", "")
        ),
        success=lambda outsider: _(
            "The summary was sent to %(email)s. Their reply will be added to the request.", email=outsider.email
        ),
        anchor="#forward",
    )


@bp.post("/requests/<reference>/participants/<int:user_id>/remove")
@login_required
def remove_participant(reference, user_id):
    ticket = _ticket_or_404(reference, "share")
    return _act(
        reference,
        lambda: sharing.remove_participant(ticket, current_user._get_current_object(), user_id),
        anchor="#sharing",
    )


@bp.post("/requests/<reference>/organizations")
@login_required
def share_organization(reference):
    ticket = _ticket_or_404(reference, "share")
    return _act(
        reference,
        lambda: sharing.set_organization_sharing(
            ticket,
            current_user._get_current_object(),
            int_arg(request.form.get("organization"), 0),
            request.form.get("share") == "1",
        ),
        anchor="#sharing",
    )


def _transition_form(transition, fields, values=None, *, formdata=None):
    """The fields a workflow step requires (Targito's information needed from the customer), built
    like the request form and prefilled with the request's values; None if it requires none.

    On submission the fields are not marked required: the transition service refuses a missing
    value itself, naming the field."""
    keys = {key for key in (transition.requires or []) if key != "comment"}
    infos = [replace(f, required=formdata is None, visible_when=None) for f in fields if f.key in keys]
    if not infos:
        return None
    form_class = build_request_form(infos, "", localized, staff=is_staff(current_user))
    if not form_class._infos:
        return None
    # The page's CSRF token is checked for every POST by CSRFProtect; several forms share the page.
    form = form_class(formdata=formdata, prefix=f"t{transition.id}-", meta={"csrf": False})
    if formdata is None:
        for info in form._infos:
            if info.id in (values or {}):
                form[form_name(info.key)].data = values[info.id]
    return form


def _editable_fields(fields):
    """Agents edit every field (priority, queue, severity...); requesters what the tenant allows."""
    if is_staff(current_user):
        return [f for f in fields if f.key != "description"]
    keys = set((g.tenant.settings or {}).get("editable_after_creation", []))
    return [f for f in fields if f.key in keys and f.editable_by == "customer" and f.fixed_value is None]


def _details_form(ticket, fields, values=None, *, formdata=None):
    """The "basic information" form: the tenant's editable fields, built like the request form."""
    editable = _editable_fields(fields)
    if not editable:
        return None
    form_class = build_request_form(editable, "", localized, staff=is_staff(current_user))
    form = form_class(formdata=formdata)
    if formdata is None:
        by_id = values or {}
        for info in form._infos:
            if info.key == "summary":
                form[form_name("summary")].data = ticket.summary
            elif info.id in by_id:
                form[form_name(info.key)].data = by_id[info.id]
    return form


@bp.post("/requests/<reference>/details")
@login_required
def update_details(reference):
    ticket = _ticket_or_404(reference, "edit")
    if ticket.status.is_final:
        abort(404)
    _portal, request_type = request_type_by_id(g.tenant, ticket.request_type_id)
    form = _details_form(ticket, form_fields(g.tenant, request_type.form_id), formdata=request.form)
    if form is None:
        abort(404)
    if not form.validate_on_submit():
        flash(" ".join(str(e) for f in form for e in f.errors) or _("Please correct the following:"), "error")
        return redirect(url_for("tickets.detail", reference=reference) + "#details")
    return _act(
        reference,
        lambda: services.update_details(
            ticket,
            current_user._get_current_object(),
            form.submitted_values(),
            uploads=request.files.getlist(form_name("attachments")),
        ),
    )


def _staff_ticket_or_404(reference: str) -> Ticket:
    ticket = _ticket_or_404(reference)
    if not is_staff(current_user):
        abort(404)
    return ticket


def _act(reference: str, change, success=None, anchor: str = ""):
    """Run one service call for a request page's form: flash its error or success, go back."""
    try:
        result = change()
    except (errors.RequestError, TransitionError, accounts.AccountError) as error:
        db.session.rollback()
        flash(error.message, "error")
    else:
        flash(success(result) if success else _("Saved."), "success")
    return redirect(url_for("tickets.detail", reference=reference) + anchor)


@bp.post("/requests/<reference>/assign")
@login_required
def assign(reference):
    ticket = _staff_ticket_or_404(reference)
    raw = request.form.get("assignee", "")
    assignee_id = current_user.id if raw == "me" else int_arg(raw)
    return _act(reference, lambda: services.assign_ticket(ticket, current_user._get_current_object(), assignee_id))


@bp.post("/requests/<reference>/links")
@login_required
def link(reference):
    ticket = _staff_ticket_or_404(reference)
    other = request.form.get("reference", "")
    if request.form.get("merge") == "1":
        return _act(
            reference,
            lambda: merging.merge_into(ticket, current_user._get_current_object(), other),
            lambda target: _("Merged into %(reference)s.", reference=target.reference),
        )
    return _act(
        reference,
        lambda: merging.link_tickets(ticket, current_user._get_current_object(), other),
        lambda target: _("Linked with %(reference)s.", reference=target.reference),
    )


@bp.post("/requests/<reference>/type")
@login_required
def change_type(reference):
    ticket = _staff_ticket_or_404(reference)
    if ticket.status.is_final:
        abort(404)
    return _act(
        reference,
        lambda: services.change_request_type(
            ticket, current_user._get_current_object(), int_arg(request.form.get("request_type"), 0)
        ),
    )
