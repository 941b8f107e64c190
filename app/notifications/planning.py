"""Who hears of what: turn a request's timeline events into notifications, in the same transaction.

Every change of a request is a timeline event (``app.tickets.services.record_event``), published as
``EventRecorded``; ``init_app`` subscribes to it. Just before the transaction commits, the events it
wrote are turned into ``Notification`` rows, one per event and recipient, following the tenant's
rules (``settings.notifications`` and each status's ``notify``):

- customers hear through watching: the requester and everyone following the request (participants
  follow it; anyone may switch it off), never the whole organization, never internal notes;
- a status change reaches customers only when the status notifies and the name customers see, or
  its category, changes (Targito's internal steps all read "V řešení": no e-mail for those; its
  "Waiting for approval" is news: the customer is to approve);
- CC addresses (Festum's "Kopio") get the thread from the first agent reply on, or from the start;
- agents: the assignee, or every agent while nobody is assigned (``agents: assignee_or_all``);
- nobody is told of their own change;
- a field changed together with a status change (what a workflow step requires, e.g. Targito's
  list of information needed) is part of that news; other field edits notify nobody.

Sending is the batch job's (``app.notifications.jobs``): it waits the tenant's window so that a
status change and the agent's comment arrive as one e-mail.

The rules are one public API (``Recipients``, ``recipients_of``) for every writer: the single
request's transaction here, and the automation sweep, which preloads what it knows for a whole
batch of requests and writes the rows set-based.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from flask import Flask
from sqlalchemy import event as orm_event, inspect, select
from sqlalchemy.orm import Session

from app.accounts.models import User
from app.catalog.models import Field
from app.db_types import utcnow
from app.extensions import db
from app.notifications.jobs import schedule_batches
from app.notifications.models import Notification
from app.notifications.settings import batch_window, cc_addresses
from app.tenancy.models import Tenant
from app.tenancy.scoping import tenant_scope
from app.tenancy.settings import tenant_settings
from app.tickets import events
from app.tickets.models import Comment, Ticket, TicketEvent, TicketFieldValue, Watcher
from app.workflow.models import Status

_EVENTS_KEY = "ticket_events_to_notify"
_SCHEDULE_KEY = "notification_batches_to_schedule"
_MUTED_KEY = "notifications_muted"
_EXTRA_KEY = "ticket_event_extra_audience"
STAFF_ROLES = ("agent", "admin")

# What an event means for each audience. Events not listed here notify nobody (watching, links...).
CUSTOMER_EVENTS = {"created", "status_changed", "commented", "survey_requested", "field_changed"}
AGENT_EVENTS = {"created", "status_changed", "commented", "internal_note", "assigned"}


def init_app(app: Flask) -> None:
    """Plan notifications for ``app``: every recorded timeline event is noted, and planned before
    the commit. The session hooks are the Session class's (shared by every app, registered once);
    they act only on what ``note_event`` noted, so an app that did not subscribe plans nothing."""
    events.event_recorded.connect(_on_event_recorded, app)
    for name, hook in (
        ("before_commit", _plan_before_commit),
        ("after_commit", _schedule_after_commit),
        ("after_rollback", _forget_after_rollback),
    ):
        if not orm_event.contains(Session, name, hook):
            orm_event.listen(Session, name, hook)


def _on_event_recorded(app: Flask, *, event: events.EventRecorded) -> None:
    note_event(db.session(), event.event)


def note_event(session: Session, ticket_event: TicketEvent) -> None:
    """Remember an event of this transaction; it is planned just before the commit."""
    if session.info.get(_MUTED_KEY):
        return
    session.info.setdefault(_EVENTS_KEY, []).append(ticket_event)


def also_notify(session: Session, ticket, who: list[str]) -> None:
    """An automation rule's ``notify`` action: the people named (``agents``, ``requester``,
    ``watchers``) hear of what happens to the request in this transaction (the comment and the
    status change that set the rule off), even where those events alone would not reach them."""
    if session.info.get(_MUTED_KEY) or not who:
        return
    if ticket.id is None:
        session.flush()
    session.info.setdefault(_EXTRA_KEY, {}).setdefault(ticket.id, set()).update(who)


@contextmanager
def muted_notifications(session: Session):
    """Changes made inside notify nobody: only for writing sample history (``flask demo seed``)."""
    session.info[_MUTED_KEY] = True
    try:
        yield
    finally:
        session.info.pop(_MUTED_KEY, None)


@dataclass(frozen=True)
class RequestSnapshot:
    """What the planning rules read of a request: its id, requester, assignee and current status.

    ``RequestSnapshot.of(ticket)`` for a loaded ticket; a writer of many requests at once (the
    sweep) builds it from its result rows."""

    id: int
    requester: User
    assignee_id: int | None
    status: Status

    @classmethod
    def of(cls, ticket: Ticket) -> RequestSnapshot:
        return cls(id=ticket.id, requester=ticket.requester, assignee_id=ticket.assignee_id, status=ticket.status)


class Recipients:
    """The people one request's events may reach, loaded once per request and transaction.

    Whatever is not given is looked up when first needed; a writer of many requests at once (the
    automation sweep) passes it preloaded for the whole batch: ``watchers`` (active users following
    the request), ``staff`` (active agents and admins), ``cc`` (the CC field's addresses),
    ``agent_replied`` (support has written a public comment), ``statuses`` ({key: Status}) and
    ``internal_comments`` ({comment id: is internal})."""

    def __init__(
        self,
        session: Session,
        tenant,
        request: RequestSnapshot,
        *,
        watchers: list[User] | None = None,
        staff: list[User] | None = None,
        cc: list[str] | None = None,
        agent_replied: bool | None = None,
        statuses: dict[str, Status] | None = None,
        internal_comments: dict[int, bool] | None = None,
    ):
        self.session, self.tenant, self.request = session, tenant, request
        self.settings = tenant_settings(tenant).notifications
        self._watchers, self._staff, self._cc, self._agent_replied = watchers, staff, cc, agent_replied
        self._statuses, self._internal_comments = statuses, internal_comments

    @property
    def watchers(self) -> list[User]:
        if self._watchers is None:
            self._watchers = list(
                self.session.scalars(
                    select(User)
                    .join(Watcher, Watcher.user_id == User.id)
                    .where(Watcher.ticket_id == self.request.id, User.active.is_(True))
                    .order_by(User.id)
                )
            )
        return self._watchers

    @property
    def staff(self) -> list[User]:
        if self._staff is None:
            self._staff = list(
                self.session.scalars(
                    select(User).where(User.role.in_(STAFF_ROLES), User.active.is_(True)).order_by(User.id)
                )
            )
        return self._staff

    def agents_for(self, kind: str, actor: User | None) -> list[User]:
        """The agents who hear of this event: the assignee, else (per tenant) every agent."""
        mode = self.settings.agents
        if mode == "none":
            return []
        assignee = next((u for u in self.staff if u.id == self.request.assignee_id), None)
        if assignee is not None:
            return [assignee]
        # What customers raise or write reaches every agent while nobody is assigned; the system's own
        # comments (an automatic closure's note) reach only an assignee.
        customer_side = actor is not None and not actor.is_staff
        if mode == "assignee_or_all" and kind in ("created", "commented") and customer_side:
            return list(self.staff)
        return []

    @property
    def cc(self) -> list[str]:
        if self._cc is None:
            self._cc = []
            key = self.settings.cc_field
            if key:
                text = self.session.execute(
                    select(TicketFieldValue.value_text)
                    .join(Field, TicketFieldValue.field_id == Field.id)
                    .where(TicketFieldValue.ticket_id == self.request.id, Field.key == key)
                ).scalar_one_or_none()
                self._cc = cc_addresses(text)
        return self._cc

    @property
    def agent_replied(self) -> bool:
        """Has support written a public comment on the request (this transaction's included)?"""
        if self._agent_replied is None:
            self._agent_replied = (
                self.session.execute(
                    select(Comment.id)
                    .join(User, Comment.author_id == User.id)
                    .where(
                        Comment.ticket_id == self.request.id,
                        Comment.is_internal.is_(False),
                        User.role.in_(STAFF_ROLES),
                    )
                    .limit(1)
                ).first()
                is not None
            )
        return self._agent_replied

    def status(self, key: str | None) -> Status | None:
        if self._statuses is not None:
            return self._statuses.get(key) if key else None
        return self.session.execute(select(Status).where(Status.key == key)).scalar_one_or_none()

    def comment_is_internal(self, comment_id: int) -> bool | None:
        """Whether the comment is an internal note (None: there is no such comment)."""
        if self._internal_comments is not None:
            return self._internal_comments.get(comment_id)
        comment = self.session.get(Comment, comment_id)
        return None if comment is None else comment.is_internal


def _status_reaches_customers(people: Recipients, data: dict) -> bool:
    before, after = people.status(data.get("from_status")), people.status(data.get("to_status"))
    if after is None or not after.notify:
        return False
    # Targito's internal steps all read "V řešení" and stay quiet; waiting for the customer's answer
    # or approval (another category) is news even under the same name.
    return before is None or before.customer_name != after.customer_name or before.category != after.category


def recipients_of(
    kind: str,
    data: dict | None,
    actor: User | None,
    people: Recipients,
    *,
    with_step: bool = False,
    also: Iterable[str] = (),
) -> dict[str, tuple[User | None, str]]:
    """{address: (user or None, audience)} for one timeline event (``kind``, ``data``, by
    ``actor``); the actor is never among them. ``with_step``: the transaction also changed the
    request's status. ``also``: whom an automation rule's ``notify`` action names (``agents``,
    ``requester``, ``watchers``) for what happens to the request in this transaction."""
    request = people.request
    data = data or {}
    actor_email = actor.email.lower() if actor else None
    chosen: dict[str, tuple[User | None, str]] = {}

    def add(user: User | None, audience: str, address: str | None = None) -> None:
        if address is None:
            assert user is not None, "a recipient is a user or an address"
            address = user.email
        address = address.lower()
        if address == actor_email or (user is not None and actor is not None and user.id == actor.id):
            return
        if chosen.get(address, (None, ""))[1] == "agent":
            return  # an agent who also follows the request gets the agent's version, once
        chosen[address] = (user, audience)

    if kind == "survey_requested":
        if request.requester.active:
            add(request.requester, "customer")
        return chosen

    customer_kind = kind in CUSTOMER_EVENTS
    if kind == "created":
        customer_kind = people.settings.on_created and request.status.notify
    elif kind == "status_changed":
        customer_kind = _status_reaches_customers(people, data)
    elif kind == "field_changed":
        if not with_step or data.get("field") == "request_type":
            return chosen
    elif kind == "commented":
        customer_kind = not people.comment_is_internal(data.get("comment_id") or 0)

    if customer_kind:
        for user in people.watchers:
            add(user, "agent" if user.is_staff else "customer")
        cc_wanted = people.settings.cc_from == "start" or people.agent_replied
        if kind != "created" and cc_wanted:
            for address in people.cc:
                add(None, "customer", address)
    if kind in AGENT_EVENTS:
        if kind == "assigned":
            new = data.get("new")
            for user in people.staff:
                if user.id == new:
                    add(user, "agent")
        elif kind == "status_changed" and actor is not None and actor.is_staff:
            pass  # agents know what agents do; customers' and the system's changes reach the assignee
        else:
            for user in people.agents_for(kind, actor):
                add(user, "agent")
        if kind == "internal_note":
            for user in people.watchers:
                if user.is_staff:
                    add(user, "agent")
    also = sorted(set(also))
    if also and (kind in AGENT_EVENTS or customer_kind):
        for user, audience in rule_audience(also, people, customers=customer_kind):
            add(user, audience)
    return chosen


def rule_audience(who: Iterable[str], people: Recipients, *, customers: bool = True) -> Iterator[tuple[User, str]]:
    """(user, audience) of the people an automation rule's ``notify`` action names: ``agents``
    (the assignee, else every agent), ``requester``, ``watchers`` (the last two only for what
    customers may hear of)."""
    request = people.request
    for name in who:
        if name == "agents":
            assignee = next((u for u in people.staff if u.id == request.assignee_id), None)
            for user in [assignee] if assignee else people.staff:
                yield user, "agent"
        elif name == "requester" and customers and request.requester.active:
            yield request.requester, "agent" if request.requester.is_staff else "customer"
        elif name == "watchers" and customers:
            for user in people.watchers:
                yield user, "agent" if user.is_staff else "customer"


def plan_notifications(session: Session, ticket_events: list[TicketEvent]) -> None:
    """Write the notifications of ``ticket_events`` (already flushed); called just before the commit."""
    by_ticket: dict[int, list] = {}
    for ticket_event in ticket_events:
        state = inspect(ticket_event)
        if not state.persistent or ticket_event.kind not in CUSTOMER_EVENTS | AGENT_EVENTS:
            continue  # rolled back meanwhile, or an event nobody hears of
        by_ticket.setdefault(ticket_event.ticket_id, []).append(ticket_event)
    for ticket_id, ticket_events in by_ticket.items():
        tenant_id = ticket_events[0].tenant_id
        with tenant_scope(tenant_id):
            ticket = session.get_one(Ticket, ticket_id)
            tenant = session.get_one(Tenant, tenant_id)
            people = Recipients(session, tenant, RequestSnapshot.of(ticket))
            window = batch_window(tenant)
            now = utcnow()
            with_step = any(e.kind == "status_changed" for e in ticket_events)
            also = session.info.get(_EXTRA_KEY, {}).get(ticket_id, ())
            for ticket_event in ticket_events:
                actor = session.get(User, ticket_event.actor_id) if ticket_event.actor_id else None
                chosen = recipients_of(
                    ticket_event.kind, ticket_event.data, actor, people, with_step=with_step, also=also
                )
                for address, (user, audience) in chosen.items():
                    session.add(
                        Notification(
                            tenant_id=tenant_id,
                            ticket_id=ticket_id,
                            event_id=ticket_event.id,
                            recipient=address,
                            recipient_user_id=user.id if user else None,
                            audience=audience,
                            created_at=now,
                            due_at=now + window,
                        )
                    )
                    session.info.setdefault(_SCHEDULE_KEY, set()).add((tenant_id, ticket_id, address, now + window))


def _plan_before_commit(session: Session) -> None:
    noted = session.info.pop(_EVENTS_KEY, None)
    if not noted:
        session.info.pop(_EXTRA_KEY, None)
        return
    session.flush()
    try:
        plan_notifications(session, noted)
    finally:
        session.info.pop(_EXTRA_KEY, None)


def _schedule_after_commit(session: Session) -> None:
    batches = session.info.pop(_SCHEDULE_KEY, None)
    if not batches:
        return
    schedule_batches(batches)


def _forget_after_rollback(session: Session) -> None:
    session.info.pop(_EVENTS_KEY, None)
    session.info.pop(_EXTRA_KEY, None)
    session.info.pop(_SCHEDULE_KEY, None)
