"""The agents' workspace: queues of requests (unassigned, mine, waiting for the customer, ...)."""
from __future__ import annotations

from dataclasses import replace

from flask import Blueprint, abort, flash, g, redirect, render_template, request, url_for
from flask_babel import gettext as _, lazy_gettext as _l
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.policy import is_staff
from app.catalog.services import filterable_fields, portal_catalog
from app.extensions import db
from app.tickets import services
from app.tickets.listing import RequestFilters, count_requests, list_requests
from app.tickets.models import Ticket
from app.tickets.policy import visible_tickets_clause
from app.workflow.models import Status

bp = Blueprint("agent", __name__, subdomain="<tenant>", url_prefix="/agent")

# Each queue is a preset of the request list's filters; the counts are one query each.
QUEUES = {
    "unassigned": (_l("Unassigned"), {"status": "open", "assignee": "none"}),
    "mine": (_l("Assigned to me"), {"status": "open", "assignee": "me"}),
    "waiting": (_l("Waiting for the customer"), {"status": "waiting"}),
    "open": (_l("All open"), {"status": "open"}),
    "resolved": (_l("Resolved"), {"status": "resolved"}),
}


@bp.before_request
@login_required
def _agents_only():
    if not is_staff(current_user):
        abort(404)


@bp.get("/")
def home():
    return redirect(url_for("agent.queue", key="unassigned"))


@bp.get("/queues/<key>")
def queue(key):
    if key not in QUEUES:
        abort(404)
    choice_fields = filterable_fields(g.tenant)
    base = RequestFilters.from_args(request.args, field_keys=[f.key for f in choice_fields], staff=True)
    preset = QUEUES[key][1]
    filters = replace(base, scope="all", status=request.args.get("status") or preset.get("status", "open"),
                      assignee=request.args.get("assignee") or preset.get("assignee", ""))
    counts = {name: count_requests(current_user, RequestFilters(scope="all", status=p.get("status", "open"),
                                                               assignee=p.get("assignee", "")))
              for name, (_label, p) in QUEUES.items()}
    statuses = db.session.scalars(select(Status).order_by(Status.position)).all()
    agents = db.session.scalars(select(User).where(User.role.in_(("agent", "admin")), User.active.is_(True))
                                .order_by(User.name, User.email)).all()
    return render_template("tickets/index.html", page=list_requests(current_user, filters), filters=filters,
                           statuses=statuses, portals=portal_catalog(g.tenant), choice_fields=choice_fields,
                           staff=True, scopes=[], queues=QUEUES, queue_key=key, queue_counts=counts, agents=agents,
                           list_base=url_for("agent.queue", key=key),
                           list_url=lambda **changes: url_for("agent.queue", key=key, **filters.args(**changes)))


@bp.post("/bulk")
def bulk():
    """Apply one change to the selected requests (assign, change status)."""
    ids = [int(i) for i in request.form.getlist("ticket") if i.isdigit()]
    back = request.form.get("next") or url_for("agent.home")
    if not back.startswith("/") or back.startswith("//"):
        back = url_for("agent.home")
    if not ids:
        flash(_("Select at least one request."), "error")
        return redirect(back)
    tickets = db.session.scalars(select(Ticket).where(Ticket.id.in_(ids), visible_tickets_clause(current_user))).all()
    raw = request.form.get("assignee", "")
    assign = raw != ""
    assignee_id = current_user.id if raw == "me" else (int(raw) if raw.isdigit() else None)  # "none": unassign
    changed, skipped = services.bulk_update(tickets, current_user._get_current_object(), assign=assign,
                                            assignee_id=assignee_id, status_key=request.form.get("status") or None)
    flash(_("Changed: %(changed)d. Not possible in their status: %(skipped)d.", changed=changed, skipped=skipped),
          "success" if not skipped else "warning")
    return redirect(back)
