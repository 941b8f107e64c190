"""Event rules: what happens by itself when something happens to a request.

For example a customer's comment on a request waiting for the customer moves it back to support
(Targito, Exea), and a reply to a resolved request reopens it (Flexinform, Festum). The rules are
the tenant's configuration (``automation.yaml``); time rules are the sweep's (issue: automation).
"""
from __future__ import annotations

from sqlalchemy import select

from app.automation.models import AutomationRule
from app.extensions import db
from app.workflow.models import Status


def apply_event_rules(ticket, trigger: str) -> list[str]:
    """Run the enabled rules of ``trigger`` that match the request's status; return their keys."""
    applied = []
    rules = db.session.scalars(select(AutomationRule).where(AutomationRule.trigger == trigger,
                                                            AutomationRule.enabled.is_(True))
                               .order_by(AutomationRule.position)).all()
    for rule in rules:
        wanted = (rule.conditions or {}).get("status") or []
        if wanted and ticket.status.key not in wanted:
            continue
        for action in rule.actions or []:
            target_key = action.get("transition_to")
            if target_key:
                _move(ticket, target_key, rule.key)
        applied.append(rule.key)
    return applied


def _move(ticket, target_key: str, rule_key: str) -> None:
    from app.workflow.services import move_to_status

    target = db.session.execute(select(Status).where(Status.key == target_key)).scalar_one()
    if target.id != ticket.status_id and not ticket.status.is_final:
        move_to_status(ticket, target, actor_user=None, rule=rule_key)
