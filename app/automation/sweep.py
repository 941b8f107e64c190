"""The time-rule sweep: every ``status_age`` rule of every tenant, set-based and idempotent.

``run_time_rules(now)`` evaluates the rules as of ``now`` (default: the current time):

1. Per tenant, the rules, statuses, agents and settings are loaded once.
2. Per rule and source status, **one query** finds every due request: in the rule's status and
   entered it (``Ticket.status_changed_at``) at or before ``cutoff = now − D`` on the rule's clock
   (calendar: ``relativedelta``, so P1M is a calendar month; business: the tenant's calendar).
   The index ``(tenant_id, status_id, status_changed_at)`` serves it.
3. The due requests are handled in batches (one transaction each, so a crash loses nothing that
   a next run would not redo):
   - **claim**: one guarded ``UPDATE tickets ... WHERE id IN (batch) AND status_id = <old> AND
     status_changed_at <= cutoff RETURNING id`` moves them. Whatever another sweep (or an agent)
     changed meanwhile no longer matches, so a second run, or a concurrent one on another worker,
     changes nothing: on PostgreSQL the second UPDATE waits for the first's row locks and then
     re-checks the WHERE clause. Rules without a status change (comment/notify only) claim by
     inserting ``automation_firings`` rows (unique per rule, request and status entry).
     The columns it sets, and the ``status_changed`` timeline data, are those of a single request's
     move (``app.tickets.transitions.status_change``, the same function).
   - **timeline and comments**: multi-row INSERTs (``... RETURNING id``) of the ``status_changed``
     events (by the system: ``actor_id`` null, shown as "System"), the rule's comment (in the
     requester's language when the rule has it, else the tenant's) with its ``commented`` event,
     and ``survey_requested`` events (the rule's own ``survey`` action, or the target status's
     ``status_entered`` survey rules, e.g. Exea).
   - **notifications**: the same public planning API as every other change
     (``app.notifications.planning``: ``Recipients`` preloaded for the whole batch with watchers,
     agents, CC addresses, statuses and the new comments, ``recipients_of`` per event), then one
     multi-row INSERT. The rule's ``notify`` action (and the target status's ``status_entered``
     ``notify``) is passed as ``also``, as a rule's ``also_notify`` is in a single transaction.
     Sending is the notification sweep's, which runs every 30 seconds and batches as usual.
   - **SLA clocks**: entering a paused or closed category is part of the UPDATE; leaving a pause
     (e.g. back to support) moves the due moments on, computed per row in Python
     (``app.automation.sla.on_status_change``) and written with one executemany UPDATE.

Per request, the work is a few dictionaries in Python; per batch, a constant number of
statements. No domain events are published per row (``app.tickets.events``): the sweep applies
their reactions itself, set-based. The target status's ``status_entered`` rules add their surveys
and ``notify`` audiences; those that would *transition* again are not run by the sweep (as with a
single request, a rule's move runs the rules of the status entered, whose own moves run none).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

from sqlalchemy import Table, bindparam, func, insert, select, update
from sqlalchemy.exc import IntegrityError

from app.accounts.models import User
from app.automation.calendar import clock_for, parse_duration
from app.automation.models import AutomationFiring, AutomationRule
from app.automation.sla import PAUSED_CATEGORIES, current_policy, on_status_change
from app.catalog.models import Field, RequestType
from app.db_types import pick_language, utcnow
from app.extensions import db
from app.notifications.models import NOTIFICATION_PENDING, Notification
from app.notifications.planning import STAFF_ROLES, Recipients, RequestSnapshot, recipients_of
from app.notifications.settings import batch_window, cc_addresses
from app.tenancy.models import TENANT_ACTIVE, Tenant
from app.tenancy.scoping import all_tenants, tenant_scope
from app.tenancy.settings import tenant_settings
from app.tickets.models import Comment, Ticket, TicketEvent, TicketFieldValue, Watcher
from app.tickets.transitions import StatusChange, status_change
from app.unit_of_work import atomic
from app.workflow.models import Status

BATCH_SIZE = 1000


def _table(model) -> Table:
    """The model's table, for the Core statements of the set-based writes."""
    return cast(Table, model.__table__)


@dataclass
class RuleRun:
    tenant: str
    rule: str
    target: str | None
    references: list[str] = field(default_factory=list)
    count: int = 0


def run_time_rules(
    now: datetime | None = None, *, tenant_slug: str | None = None, batch_size: int = BATCH_SIZE
) -> list[RuleRun]:
    """Apply every due time rule as of ``now``; return what each rule did (rules that did nothing
    are left out)."""
    now = now or utcnow()
    with all_tenants():
        query = select(Tenant.id).where(Tenant.status == TENANT_ACTIVE).order_by(Tenant.id)
        if tenant_slug:
            query = query.where(Tenant.slug == tenant_slug)
        tenant_ids = list(db.session.scalars(query))
    runs: list[RuleRun] = []
    for tenant_id in tenant_ids:
        with tenant_scope(tenant_id):
            runs += _TenantSweep(tenant_id, now, batch_size).run()
    return runs


class _TenantSweep:
    def __init__(self, tenant_id: int, now: datetime, batch_size: int):
        self.session = db.session()
        self.tenant_id, self.now, self.batch_size = tenant_id, now, batch_size
        self.tenant = self.session.get_one(Tenant, tenant_id)
        self.rules = self.session.scalars(
            select(AutomationRule)
            .where(AutomationRule.enabled.is_(True))
            .order_by(AutomationRule.position, AutomationRule.id)
        ).all()
        self.statuses = {s.key: s for s in self.session.scalars(select(Status))} if self.rules else {}
        self.by_id = {s.id: s for s in self.statuses.values()}
        self._staff: list[User] | None = None

    # --- what is loaded once per tenant -------------------------------------------------------

    @property
    def staff(self) -> list[User]:
        if self._staff is None:
            self._staff = list(
                self.session.scalars(
                    select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
                )
            )
        return self._staff

    def _entered_rules(self, status_key: str) -> list:
        """The ``status_entered`` rules of ``status_key``."""
        return [
            rule
            for rule in self.rules
            if rule.trigger == "status_entered"
            and (not (rule.conditions or {}).get("status") or status_key in rule.conditions["status"])
        ]

    def _entered_surveys(self, status_key: str) -> list[str]:
        """``status_entered`` rules with a survey for ``status_key`` (Exea's satisfaction survey)."""
        return [
            rule.key
            for rule in self._entered_rules(status_key)
            if any(a.get("survey") == "satisfaction" for a in rule.actions or [])
        ]

    def _entered_notify(self, status_key: str) -> list[str]:
        """Whom the ``status_entered`` rules of ``status_key`` tell (CRM-service's team)."""
        return [a["notify"] for rule in self._entered_rules(status_key) for a in rule.actions or [] if a.get("notify")]

    def run(self) -> list[RuleRun]:
        runs = []
        for rule in self.rules:
            if rule.trigger != "status_age":
                continue
            run = self._run_rule(rule)
            if run is not None and run.count:
                runs.append(run)
        return runs

    # --- one rule -----------------------------------------------------------------------------

    def _run_rule(self, rule) -> RuleRun | None:
        conditions = rule.conditions or {}
        try:
            duration = parse_duration(conditions.get("after", ""))
        except ValueError:
            return None
        clock = clock_for(self.tenant, conditions.get("clock", "calendar"))
        cutoff = clock.ago(self.now, duration)
        sources = [self.statuses[k] for k in conditions.get("status") or [] if k in self.statuses]
        target_key = next((a["transition_to"] for a in rule.actions or [] if a.get("transition_to")), None)
        target = self.statuses.get(target_key) if target_key else None
        if target_key and target is None:
            return None
        run = RuleRun(self.tenant.slug, rule.key, target_key)
        type_ids = None
        if conditions.get("request_type"):
            type_ids = list(
                self.session.scalars(select(RequestType.id).where(RequestType.key.in_(conditions["request_type"])))
            )
        for source in sources:
            if target is not None and (source.is_final or source.id == target.id):
                continue  # a final status is never left; a move to itself is no change
            query = (
                select(
                    Ticket.id,
                    Ticket.reference,
                    Ticket.requester_id,
                    Ticket.assignee_id,
                    Ticket.status_changed_at,
                    Ticket.first_response_at,
                    Ticket.sla_response_due_at,
                    Ticket.sla_resolution_due_at,
                    Ticket.sla_paused_at,
                    Ticket.sla_paused_seconds,
                )
                .where(Ticket.status_id == source.id, Ticket.status_changed_at <= cutoff)
                .order_by(Ticket.id)
            )
            if type_ids is not None:
                query = query.where(Ticket.request_type_id.in_(type_ids))
            due = self.session.execute(query).all()
            for start in range(0, len(due), self.batch_size):
                batch = due[start : start + self.batch_size]
                moment = utcnow()
                change = status_change(source, target, moment, caused_by_rule=rule.key) if target else None
                claimed = (
                    self._claim_move(batch, source, target, cutoff, change, moment)
                    if change is not None
                    else self._claim_firing(batch, rule, moment)
                )
                if claimed:
                    self._apply(rule, claimed, source, target, change, moment)
                    run.count += len(claimed)
                    run.references += [row.reference for row in claimed]
                # Each batch is its own unit: its claims are committed at once, so that a concurrent
                # sweep skips them and a large sweep never holds its locks for long.
                self.session.commit()
        return run

    def _claim_move(self, batch, source, target, cutoff, change: StatusChange, moment: datetime) -> list:
        table = _table(Ticket)
        values = dict(change.values)
        if target.category in PAUSED_CATEGORIES:
            values["sla_paused_at"] = func.coalesce(table.c.sla_paused_at, moment)
        elif target.category == "closed":
            values["sla_paused_at"] = None
        ids = [row.id for row in batch]
        claimed_ids = set(
            self.session.execute(
                update(table)
                .where(
                    table.c.tenant_id == self.tenant_id,
                    table.c.id.in_(ids),
                    table.c.status_id == source.id,
                    table.c.status_changed_at <= cutoff,
                )
                .values(**values)
                .returning(table.c.id)
            ).scalars()
        )
        claimed = [row for row in batch if row.id in claimed_ids]
        if target.category == "open" and source.category in PAUSED_CATEGORIES:
            self._resume_clocks(claimed, source, target, moment)
        return claimed

    def _resume_clocks(self, claimed, source, target, moment) -> None:
        policy = current_policy()
        if policy is None:
            return
        table = _table(Ticket)
        columns = ("sla_paused_at", "sla_paused_seconds", "sla_response_due_at", "sla_resolution_due_at")
        params = []
        for row in claimed:
            changes = on_status_change(row, source.category, target.category, moment, policy.clock)
            if changes:
                params.append({"b_id": row.id, **{f"b_{c}": changes.get(c, getattr(row, c)) for c in columns}})
        if params:
            self.session.execute(
                update(table)
                .where(table.c.tenant_id == self.tenant_id, table.c.id == bindparam("b_id"))
                .values(**{c: bindparam(f"b_{c}") for c in columns}),
                params,
            )

    def _claim_firing(self, batch, rule, moment: datetime) -> list:
        table = _table(AutomationFiring)
        ids = [row.id for row in batch]
        fired = set(
            self.session.execute(
                select(table.c.ticket_id, table.c.entered_at).where(
                    table.c.tenant_id == self.tenant_id, table.c.rule_id == rule.id, table.c.ticket_id.in_(ids)
                )
            ).all()
        )
        fresh = [row for row in batch if (row.id, row.status_changed_at) not in fired]
        if not fresh:
            return []
        try:
            with atomic():
                self.session.execute(
                    insert(table),
                    [
                        {
                            "tenant_id": self.tenant_id,
                            "rule_id": rule.id,
                            "ticket_id": row.id,
                            "entered_at": row.status_changed_at,
                            "created_at": moment,
                        }
                        for row in fresh
                    ],
                )
        except IntegrityError:
            return []  # a concurrent sweep fired it meanwhile; it does the rest
        return fresh

    # --- what the claimed requests get --------------------------------------------------------

    def _apply(self, rule, claimed, source, target, change: StatusChange | None, moment: datetime) -> None:
        requesters = {
            u.id: u
            for u in self.session.scalars(select(User).where(User.id.in_({row.requester_id for row in claimed})))
        }
        comment_text = next((a["comment"] for a in rule.actions or [] if a.get("comment")), None)
        surveys = [rule.key] if any(a.get("survey") == "satisfaction" for a in rule.actions or []) else []
        if target is not None:
            surveys += self._entered_surveys(target.key)
        notify = [a["notify"] for a in rule.actions or [] if a.get("notify")]
        if target is not None:
            notify += [who for who in self._entered_notify(target.key) if who not in notify]

        comment_ids: dict[int, int] = {}
        if comment_text:
            fallbacks = [self.tenant.default_locale, *(self.tenant.locales or [])]
            rows = [
                {
                    "tenant_id": self.tenant_id,
                    "ticket_id": row.id,
                    "author_id": None,
                    "is_internal": False,
                    "channel": "portal",
                    "created_at": moment,
                    "body": pick_language(
                        comment_text,
                        getattr(requesters.get(row.requester_id), "locale", None) or self.tenant.default_locale,
                        fallbacks,
                    ),
                }
                for row in claimed
            ]
            table = _table(Comment)
            returned = (
                self.session.execute(insert(table).returning(table.c.id, sort_by_parameter_order=True), rows)
                .scalars()
                .all()
            )
            comment_ids = {row.id: comment_id for row, comment_id in zip(claimed, returned)}

        events = []  # (ticket id, kind, data), in timeline order
        for row in claimed:
            if change is not None:
                events.append((row.id, "status_changed", dict(change.event_data)))
            if row.id in comment_ids:
                events.append((row.id, "commented", {"comment_id": comment_ids[row.id], "rule": rule.key}))
            for survey_rule in surveys:
                events.append((row.id, "survey_requested", {"rule": survey_rule}))
        if not events:
            return
        table = _table(TicketEvent)
        event_ids = (
            self.session.execute(
                insert(table).returning(table.c.id, sort_by_parameter_order=True),
                [
                    {
                        "tenant_id": self.tenant_id,
                        "ticket_id": ticket_id,
                        "actor_id": None,
                        "kind": kind,
                        "data": data,
                        "created_at": moment,
                    }
                    for ticket_id, kind, data in events
                ],
            )
            .scalars()
            .all()
        )
        internal_comments = {comment_id: False for comment_id in comment_ids.values()}
        self._notify(claimed, requesters, list(zip(event_ids, events)), internal_comments, notify, target or source)

    def _notify(self, claimed, requesters, events, internal_comments, notify, status_now) -> None:
        """The notifications of the batch's timeline events, by the planning rules of every change."""
        ids = [row.id for row in claimed]
        watchers: dict[int, list] = {}
        for ticket_id, user in self.session.execute(
            select(Watcher.ticket_id, User)
            .join(User, Watcher.user_id == User.id)
            .where(Watcher.ticket_id.in_(ids), User.active.is_(True))
            .order_by(User.id)
        ).all():
            watchers.setdefault(ticket_id, []).append(user)
        settings = tenant_settings(self.tenant).notifications
        cc_texts: dict[int, str | None] = {}
        replied: set[int] = set()
        if settings.cc_field:
            cc_texts = {
                ticket_id: text
                for ticket_id, text in self.session.execute(
                    select(TicketFieldValue.ticket_id, TicketFieldValue.value_text)
                    .join(Field, TicketFieldValue.field_id == Field.id)
                    .where(TicketFieldValue.ticket_id.in_(ids), Field.key == settings.cc_field)
                )
            }
            replied = set(
                self.session.scalars(
                    select(Comment.ticket_id)
                    .join(User, Comment.author_id == User.id)
                    .where(Comment.ticket_id.in_(ids), Comment.is_internal.is_(False), User.role.in_(STAFF_ROLES))
                    .distinct()
                )
            )
        window = batch_window(self.tenant)
        real_now = utcnow()
        by_ticket: dict[int, list] = {}
        for event_id, (ticket_id, kind, data) in events:
            by_ticket.setdefault(ticket_id, []).append((event_id, kind, data))
        rows = []
        for row in claimed:
            people = Recipients(
                self.session,
                self.tenant,
                RequestSnapshot(
                    id=row.id,
                    requester=requesters[row.requester_id],
                    assignee_id=row.assignee_id,
                    status=status_now,
                ),
                watchers=watchers.get(row.id, []),
                staff=self.staff,
                cc=cc_addresses(cc_texts.get(row.id)) if settings.cc_field else [],
                agent_replied=row.id in replied,
                statuses=self.statuses,
                internal_comments=internal_comments,
            )
            ticket_events = by_ticket.get(row.id, [])
            with_step = any(kind == "status_changed" for _id, kind, _data in ticket_events)
            for event_id, kind, data in ticket_events:
                chosen = recipients_of(kind, data, None, people, with_step=with_step, also=notify)
                for address, (user, audience) in chosen.items():
                    rows.append(
                        {
                            "tenant_id": self.tenant_id,
                            "ticket_id": row.id,
                            "event_id": event_id,
                            "recipient": address,
                            "recipient_user_id": user.id if user else None,
                            "audience": audience,
                            "status": NOTIFICATION_PENDING,
                            "created_at": real_now,
                            "due_at": real_now + window,
                        }
                    )
        if rows:
            self.session.execute(insert(_table(Notification)), rows)


def describe(runs: list[RuleRun], limit: int = 20) -> list[str]:
    """Lines for the operator: what each rule did, with the first references."""
    lines = []
    for run in runs:
        refs = ", ".join(run.references[:limit]) + (" …" if len(run.references) > limit else "")
        action = f"→ {run.target}" if run.target else "fired"
        lines.append(f"{run.tenant}: {run.rule}: {run.count} request(s) {action}: {refs}")
    return lines
