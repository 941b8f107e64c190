"""Event rules: what happens by itself when something happens to a request.

For example a customer's comment on a request waiting for the customer moves it back to support
(Targito, Exea), and a reply to a resolved request reopens it (Flexinform, Festum). The rules are
the tenant's configuration (``automation.yaml``); they run as automation's reaction to the request's
domain events (``app.automation.reactions``); time rules are the sweep's (``app.automation.sweep``).
"""

from __future__ import annotations

from sqlalchemy import func, select

from app.automation.models import AutomationRule, SatisfactionRating
from app.db_types import utcnow
from app.extensions import db
from app.notifications.planning import also_notify
from app.tickets.models import Ticket
from app.tickets.services import record_event
from app.tickets.transitions import move_to_status
from app.workflow.models import Status


def _rules(trigger: str) -> list[AutomationRule]:
    return list(
        db.session.scalars(
            select(AutomationRule)
            .where(AutomationRule.trigger == trigger, AutomationRule.enabled.is_(True))
            .order_by(AutomationRule.position)
        )
    )


def apply_event_rules(ticket: Ticket, trigger: str, rules: list[AutomationRule] | None = None) -> list[str]:
    """Run the enabled rules of ``trigger`` that match the request's status; return their keys."""
    applied = []
    for rule in _rules(trigger) if rules is None else rules:
        wanted = (rule.conditions or {}).get("status") or []
        if wanted and ticket.status.key not in wanted:
            continue
        notify = [action["notify"] for action in rule.actions or [] if action.get("notify")]
        if notify:
            also_notify(db.session(), ticket, notify)
        for action in rule.actions or []:
            target_key = action.get("transition_to")
            if target_key:
                _move(ticket, target_key, rule.key)
            if action.get("survey") == "satisfaction":
                request_satisfaction_survey(ticket, rule.key)
        applied.append(rule.key)
    return applied


def status_entered(ticket: Ticket, caused_by_rule: str | None = None) -> list[str]:
    """Run the ``status_entered`` rules once for the status the request has just entered.

    A move made by a ``status_entered`` rule itself (``caused_by_rule`` names it) runs none, so
    rules cannot loop; a move by another rule (a customer's reply that reopens) runs them as a
    person's move does."""
    rules = _rules("status_entered")
    if caused_by_rule is not None and any(rule.key == caused_by_rule for rule in rules):
        return []
    return apply_event_rules(ticket, "status_entered", rules)


def _move(ticket: Ticket, target_key: str, rule_key: str) -> None:
    target = db.session.execute(select(Status).where(Status.key == target_key)).scalar_one()
    if target.id != ticket.status_id and not ticket.status.is_final:
        move_to_status(ticket, target, actor_user=None, caused_by_rule=rule_key)


# --- satisfaction --------------------------------------------------------------------------------


def request_satisfaction_survey(ticket: Ticket, rule_key: str | None = None) -> None:
    """Ask the requester to rate the request (the e-mail goes with the batch of the status change)."""
    record_event(ticket, "survey_requested", rule=rule_key)


class RatingError(ValueError):
    pass


def rate_ticket(ticket: Ticket, user, score: int, comment: str | None = None) -> SatisfactionRating:
    """Record (or change) the requester's 1–5 rating and optional comment; a timeline entry for agents."""
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
    return rating


def satisfaction_summary() -> dict:
    """The current tenant's ratings: count, average and how many of each score."""
    rows: dict[int, int] = {
        score: n
        for score, n in db.session.execute(
            select(SatisfactionRating.score, func.count()).group_by(SatisfactionRating.score)
        )
    }
    count = sum(rows.values())
    average = sum(score * n for score, n in rows.items()) / count if count else None
    return {"count": count, "average": average, "by_score": {s: rows.get(s, 0) for s in range(1, 6)}}
