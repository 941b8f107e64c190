"""The request page: what was asked, the conversation, the files, who it is shared with, and for
agents the history, related requests and their actions; with the forms the page shows (a workflow
step's required fields, the request's editable details), rebuilt by the views those forms post to."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from flask import g, render_template, request
from flask_login import current_user, login_required
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from app.accounts.models import Organization, User
from app.accounts.policy import is_staff
from app.catalog.forms import RequestForm, build_request_form, form_name
from app.catalog.services import FieldInfo, form_fields, portal_catalog, request_type_by_id
from app.extensions import db
from app.templating import localized
from app.tenancy.settings import tenant_settings
from app.tickets.models import (
    Attachment,
    Comment,
    Participant,
    Ticket,
    TicketEvent,
    TicketFieldValue,
    TicketLink,
    TicketOrganization,
    Watcher,
)
from app.tickets.policy import allowed_actions
from app.tickets.views.base import bp, organizations_of, ticket_or_404
from app.workflow.models import Status, Transition
from app.workflow.services import actor_kind, available_transitions


@bp.get("/requests/<reference>")
@login_required
def detail(reference):
    ticket = ticket_or_404(reference)
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
    transition_forms = {t.id: form for t in transitions if (form := transition_form(t, fields, values)) is not None}
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
    requester_orgs = organizations_of(ticket.requester) if "share" in actions else []
    form_for_details = (
        details_form(ticket, fields, values) if "edit" in actions and not ticket.status.is_final else None
    )
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
        details_form=form_for_details,
        agents=agents,
        history=history,
        related=related,
        portals=portal_catalog(g.tenant),
        status_names=status_names,
        field_labels=field_labels,
        people=people,
    )


def transition_form(
    transition: Transition,
    fields: Sequence[FieldInfo],
    values: Mapping[int, Any] | None = None,
    *,
    formdata: MultiDict | None = None,
) -> RequestForm | None:
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
        by_id = values or {}
        for info in form._infos:
            if info.id in by_id:
                form[form_name(info.key)].data = by_id[info.id]
    return form


def _editable_fields(fields: Sequence[FieldInfo]) -> list[FieldInfo]:
    """Agents edit every field (priority, queue, severity...); requesters what the tenant allows."""
    if is_staff(current_user):
        return [f for f in fields if f.key != "description"]
    keys = set(tenant_settings(g.tenant).editable_after_creation)
    return [f for f in fields if f.key in keys and f.editable_by == "customer" and f.fixed_value is None]


def details_form(
    ticket: Ticket,
    fields: Sequence[FieldInfo],
    values: Mapping[int, Any] | None = None,
    *,
    formdata: MultiDict | None = None,
) -> RequestForm | None:
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
