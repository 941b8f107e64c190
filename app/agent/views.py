"""The agents' workspace: the tenant's queues of requests (unassigned, mine, waiting for PM, ...)."""

from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.policy import is_staff
from app.agent.services import queue_filters, tenant_queues
from app.automation.sla import breaching_clause
from app.catalog.services import filterable_fields, portal_catalog
from app.extensions import db
from app.security.params import int_arg
from app.security.urls import safe_next
from app.tickets import transitions
from app.tickets.listing import RequestFilters, count_requests, list_requests
from app.tickets.models import Ticket
from app.tickets.policy import visible_tickets_clause
from app.workflow.models import Status

bp = Blueprint("agent", __name__, subdomain="<tenant>", url_prefix="/agent")


@bp.before_request
@login_required
def _agents_only():
    if not is_staff(current_user):
        abort(404)


@bp.get("/")
def home():
    return redirect(url_for("agent.queue", key=tenant_queues(g.tenant)[0].key))


@bp.get("/queues/<key>")
def queue(key):
    queues = tenant_queues(g.tenant)
    current = next((q for q in queues if q.key == key), None)
    if current is None:
        abort(404)
    within = {q.key: queue_filters(g.tenant, q) for q in queues}
    choice_fields = filterable_fields(g.tenant)
    # The page's own filters narrow the queue down; by default they add nothing to it.
    filters = replace(
        RequestFilters.from_args(
            request.args,
            field_keys=[f.key for f in choice_fields],
            staff=True,
            default_status="all",
            default_sort=within[key].sort,
        ),
        scope="all",
    )
    everything = RequestFilters(scope="all", status="all")
    counts = {
        q.key: count_requests(current_user, everything, within[q.key], sla_clause=breaching_clause) for q in queues
    }
    statuses = db.session.scalars(select(Status).order_by(Status.position)).all()
    agents = db.session.scalars(
        select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True)).order_by(User.name, User.email)
    ).all()
    return render_template(
        "tickets/index.html",
        page=list_requests(current_user, filters, within[key], sla_clause=breaching_clause),
        filters=filters,
        statuses=statuses,
        portals=portal_catalog(g.tenant),
        choice_fields=choice_fields,
        staff=True,
        scopes=[],
        queues=queues,
        queue=current,
        queue_counts=counts,
        agents=agents,
        list_base=url_for("agent.queue", key=key),
        list_url=lambda **changes: url_for("agent.queue", key=key, **filters.args(**changes)),
    )


@bp.post("/bulk")
def bulk():
    """Apply one change to the selected requests (assign, change status)."""
    ids = [i for i in (int_arg(raw) for raw in request.form.getlist("ticket")) if i is not None]
    back = safe_next(request.form.get("next"), url_for("agent.home"))
    if not ids:
        flash(_("Select at least one request."), "error")
        return redirect(back)
    tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(ids), visible_tickets_clause(current_user))).all()
    raw = request.form.get("assignee", "")
    assign = raw != ""
    assignee_id = current_user.id if raw == "me" else int_arg(raw)  # "none": unassign
    changed, skipped = transitions.bulk_update(
        tickets,
        current_user._get_current_object(),
        assign=assign,
        assignee_id=assignee_id,
        status_key=request.form.get("status") or None,
    )
    flash(
        _("Changed: %(changed)d. Not possible in their status: %(skipped)d.", changed=changed, skipped=skipped),
        "success" if not skipped else "warning",
    )
    return redirect(back)
