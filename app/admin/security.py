"""Tenant admins: the tenant's security trail (sign-ins, failed sign-ins, lockouts, role and e-mail
changes, exports, imports, suspensions), worded in the reader's language, and its CSV export.

The events are data (``app.security.models.SecurityEvent``); this page words them when read
(``app.security.events.describe_event``), as the configuration Audit page does for its changes.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable

from flask import Blueprint, Response, abort, g, render_template, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from app.accounts.models import User
from app.accounts.policy import is_tenant_admin
from app.extensions import db
from app.security import events as kinds
from app.security.events import describe_event
from app.security.models import SecurityEvent
from app.security.params import int_arg
from app.security.services import events_for_tenant, iter_events_for_tenant

bp = Blueprint("security", __name__, url_prefix="/security")
PAGE_SIZE = 50

# The kinds as the filter offers them (a kind missing here, added later, is offered by its key).
KIND_LABELS = {
    kinds.LOGIN_SUCCEEDED: _l("Sign-in"),
    kinds.LOGIN_FAILED: _l("Failed sign-in"),
    kinds.ACCOUNT_LOCKED: _l("Sign-in paused after failed attempts"),
    kinds.LOGOUT: _l("Sign-out"),
    kinds.PASSWORD_CHANGED: _l("Password changed"),
    kinds.PASSWORD_RESET: _l("Password set from an e-mailed link"),
    kinds.EMAIL_CHANGE_REQUESTED: _l("Change of e-mail address requested"),
    kinds.EMAIL_CHANGED: _l("E-mail address changed"),
    kinds.ROLE_CHANGED: _l("Role changed"),
    kinds.USER_DEACTIVATED: _l("Account deactivated"),
    kinds.USER_REACTIVATED: _l("Account reactivated"),
    kinds.USER_INVITED: _l("Invitation"),
    kinds.MEMBERSHIP_CHANGED: _l("Membership changed"),
    kinds.CONFIG_EXPORTED: _l("Configuration exported"),
    kinds.CONFIG_IMPORTED: _l("Configuration imported"),
    kinds.TENANT_SUSPENDED: _l("Portal suspended"),
    kinds.TENANT_RESUMED: _l("Portal resumed"),
    kinds.INBOUND_HELD: _l("E-mail held for review"),
}

CSV_COLUMNS = (
    "id",
    "created_at",
    "kind",
    "email",
    "actor_type",
    "actor_user_id",
    "actor_email",
    "subject_user_id",
    "subject_email",
    "ip",
    "params",
)


@bp.before_request
def _tenant_admins_only():
    # Customers never reach here (the admin area answers them 404); agents are told no.
    if not is_tenant_admin(current_user):
        abort(403)


def _filters() -> tuple[str, str]:
    """The kind and e-mail filters of the query string; an unknown kind is no filter."""
    kind = request.args.get("kind") or ""
    email = (request.args.get("email") or "").strip()[:320]
    return (kind if kind in kinds.KINDS else ""), email


def _accounts(events: Iterable[SecurityEvent]) -> dict[int, User]:
    """The tenant's users the events name as actor or subject, in one query (no N+1)."""
    ids = {e.actor_user_id for e in events if e.actor_user_id} | {
        e.subject_user_id for e in events if e.subject_user_id
    }
    if not ids:
        return {}
    return {u.id: u for u in db.session.scalars(select(User).where(User.tenant_id == g.tenant.id, User.id.in_(ids)))}


@bp.get("")
def trail():
    """The tenant's security events, newest first, keyset-paginated (``before`` = an event id)."""
    kind, email = _filters()
    raw_before = request.args.get("before") or ""
    before = int_arg(raw_before)  # ASCII digits within the id range, else the first page
    events = events_for_tenant(
        g.tenant.id, limit=PAGE_SIZE + 1, before_id=before, kind=kind or None, email=email or None
    )
    older = events[PAGE_SIZE - 1].id if len(events) > PAGE_SIZE else None
    events = events[:PAGE_SIZE]
    return render_template(
        "admin/security.html",
        events=events,
        accounts=_accounts(events),
        kind=kind,
        email=email,
        before=before,
        older=older,
        kind_labels=KIND_LABELS,
        kind_keys=kinds.KINDS,
        describe=describe_event,
    )


def _cell(value) -> str:
    """A CSV cell that a spreadsheet shows as text: a value starting like a formula (a typed e-mail
    such as ``=HYPERLINK(...)`` in a failed sign-in) is prefixed with an apostrophe (OWASP, CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(tenant_id: int, kind: str, email: str) -> str:
    """The whole filtered trail as CSV, read in keyset batches (one query for the accounts of each)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    batch: list[SecurityEvent] = []

    def write(events: list[SecurityEvent]) -> None:
        accounts = _accounts(events)
        for e in events:
            actor, subject = accounts.get(e.actor_user_id), accounts.get(e.subject_user_id)
            writer.writerow(
                [
                    _cell(v)
                    for v in (
                        e.id,
                        e.created_at.isoformat(timespec="seconds"),
                        e.kind,
                        e.email,
                        "operator" if e.actor_operator_id else ("user" if e.actor_user_id else ""),
                        e.actor_user_id,
                        actor.email if actor else "",
                        e.subject_user_id,
                        subject.email if subject else "",
                        e.ip,
                        json.dumps(e.params or {}, sort_keys=True, ensure_ascii=False),
                    )
                ]
            )

    for event in iter_events_for_tenant(tenant_id, kind=kind or None, email=email or None):
        batch.append(event)
        if len(batch) == 500:
            write(batch)
            batch = []
    write(batch)
    return buffer.getvalue()


@bp.get("/events.csv")
def export_csv():
    """The filtered trail for a spreadsheet or a script: keys, ISO 8601 UTC times, ids; nothing worded."""
    kind, email = _filters()
    return Response(
        _csv(g.tenant.id, kind, email),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{g.tenant.slug}-security-events.csv"'},
    )
