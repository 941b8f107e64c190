"""The list of requests a person can see, with its filters, scopes and paging."""

from __future__ import annotations

from flask import g, render_template, request, url_for
from flask_login import current_user, login_required
from sqlalchemy import select

from app.accounts.models import Membership
from app.accounts.policy import is_staff
from app.catalog.services import filterable_fields, portal_catalog
from app.extensions import db
from app.tickets.listing import SCOPES, RequestFilters, list_requests
from app.tickets.views.base import bp
from app.workflow.models import Status


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
