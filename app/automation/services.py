"""Event rules: what happens by itself when something happens to a request.

For example a customer's comment on a request waiting for the customer moves it back to support
(Targito, Exea), and a reply to a resolved request reopens it (Flexinform, Festum). The rules are
the tenant's configuration (``automation.yaml``); time rules are the sweep's (issue: automation).
"""

from __future__ import annotations

from sqlalchemy import select

from app.automation.models import AutomationRule, SatisfactionRating
from app.extensions import db
from app.notifications.planning import also_notify
from app.workflow.models import Status


def apply_event_rules(ticket, trigger: str) -> list[str]:
    """Run the enabled rules of ``trigger`` that match the request's status; return their keys."""
    applied = []
    rules = db.session.scalars(
        select(AutomationRule)
        .where(AutomationRule.trigger == trigger, AutomationRule.enabled.is_(True))
        .order_by(AutomationRule.position)
    ).all()
    for rule in rules:
        wanted = (rule.conditions or {}).get("status") or []
        if wanted and ticket.status.key not in wanted:
            continue
        notify = [action["notify"] for action in rule.actions or [] if action.get("notify")]
        if notify:
            also_notify(db.session, ticket, notify)
        for action in rule.actions or []:
            target_key = action.get("transition_to")
            if target_key:
                _move(ticket, target_key, rule.key)
            if action.get("survey") == "satisfaction":
                request_satisfaction_survey(ticket, rule.key)
        applied.append(rule.key)
    return applied


def status_entered(ticket) -> list[str]:
    """Run the ``status_entered`` rules once for the status the request has just entered (a rule's
    own move does not trigger further rules, so rules cannot loop)."""
    if getattr(ticket, "_in_status_rules", False):
        return []
    ticket._in_status_rules = True
    try:
        return apply_event_rules(ticket, "status_entered")
    finally:
        ticket._in_status_rules = False


# --- satisfaction --------------------------------------------------------------------------------


def request_satisfaction_survey(ticket, rule_key: str | None = None) -> None:
    """Ask the requester to rate the request (the e-mail goes with the batch of the status change)."""
    from app.tickets.services import record_event

    record_event(ticket, "survey_requested", rule=rule_key)


class RatingError(ValueError):
    pass


def rate_ticket(ticket, user, score: int, comment: str | None = None) -> SatisfactionRating:
    """Record (or change) the requester's 1–5 rating and optional comment; a timeline entry for agents."""
    from app.db_types import utcnow
    from app.tickets.services import record_event

    if score not in (1, 2, 3, 4, 5):
        raise RatingError(score)
    rating = db.session.execute(
        select(SatisfactionRating).where(
            SatisfactionRating.ticket_id == ticket.id, SatisfactionRating.user_id == user.id
        )
    ).scalar_one_or_none()
    comment = (comment or "").strip()[:5000]
    if rating is None:
        rating = SatisfactionRating(ticket_id=ticket.id, user_id=user.id, score=score, comment=comment)
        db.session.add(rating)
    elif rating.score == score and (comment == rating.comment or not comment):
        return rating
    else:
        rating.score = score
        rating.comment = comment or rating.comment
        rating.updated_at = utcnow()
    record_event(ticket, "satisfaction_rated", actor=user, score=score, comment=rating.comment)
    db.session.commit()
    return rating


def satisfaction_summary() -> dict:
    """The current tenant's ratings: count, average and how many of each score."""
    from sqlalchemy import func

    from app.automation.models import SatisfactionRating

    rows = dict(
        db.session.execute(select(SatisfactionRating.score, func.count()).group_by(SatisfactionRating.score)).all()
    )
    count = sum(rows.values())
    average = sum(score * n for score, n in rows.items()) / count if count else None
    return {"count": count, "average": average, "by_score": {s: rows.get(s, 0) for s in range(1, 6)}}


def _move(ticket, target_key: str, rule_key: str) -> None:
    from app.workflow.services import move_to_status

    target = db.session.execute(select(Status).where(Status.key == target_key)).scalar_one()
    if target.id != ticket.status_id and not ticket.status.is_final:
        move_to_status(ticket, target, actor_user=None, rule=rule_key)


def run_time_rules(now=None, **options):
    """The time-rule sweep (``app.automation.sweep``): every due ``status_age`` rule, set-based."""
    from app.automation.sweep import run_time_rules as sweep

    return sweep(now, **options)
