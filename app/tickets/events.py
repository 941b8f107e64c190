"""Domain events of a request: what happened to it, for whoever reacts.

The request services (``app.tickets``) publish; the modules that react subscribe in their own
``init_app(app)``, called from ``create_app``: notifications planning (who hears of it), the SLA
clocks and the automation rules (``app.automation.reactions``), the help-center search index. So the
core never imports the modules that react to it, and nothing is wired as a side effect of an import.

Each event is a frozen dataclass sent on its blinker signal with the application as the sender, as
Flask sends its own signals: a receiver connects for one app (``signal.connect(receiver, app)``),
and an app whose ``create_app`` did not connect a reaction does not have it. Receivers run
synchronously, inside the service's transaction: what they write is committed or rolled back with the
change that caused it. Blinker does not order the receivers of one signal; where the order matters
(the SLA clocks before the rules that may move the request again), one module connects one receiver
that does both in its order.

A bulk path that writes set-based (the automation sweep) publishes nothing per row: it applies the
same pure functions and public APIs itself (``status_change`` here, ``app.notifications.planning``,
``app.automation.sla``), because per-row receivers would undo the point of a set-based update.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from blinker import Namespace, Signal
from flask import current_app

if TYPE_CHECKING:
    from app.accounts.models import User
    from app.tickets.models import Comment, Ticket, TicketEvent
    from app.workflow.models import Status

_signals = Namespace()

request_created = _signals.signal("request-created", doc="RequestCreated: a request was raised.")
event_recorded = _signals.signal("event-recorded", doc="EventRecorded: an entry was added to a request's timeline.")
status_changed = _signals.signal("status-changed", doc="StatusChanged: a request moved to another status.")
text_changed = _signals.signal("text-changed", doc="TextChanged: a request's summary or description changed.")
assigned = _signals.signal("assigned", doc="Assigned: a request was given to an agent, or to nobody.")
participants_changed = _signals.signal(
    "participants-changed", doc="ParticipantsChanged: people were added to or removed from a request."
)
comment_added = _signals.signal("comment-added", doc="CommentAdded: someone wrote on a request.")


@dataclass(frozen=True)
class RequestCreated:
    """The request exists (flushed: it has an id) with its form's values stored."""

    ticket: Ticket
    actor: User | None
    channel: str


@dataclass(frozen=True)
class EventRecorded:
    """A timeline entry (``TicketEvent``) was added; its ``kind`` and ``data`` say what happened."""

    ticket: Ticket
    event: TicketEvent
    actor: User | None


@dataclass(frozen=True)
class StatusChanged:
    """The request moved from ``previous`` to ``target`` at ``moment``.

    ``caused_by_rule`` is the key of the automation rule that made the move (None for a person's
    step): reactions use it to tell a rule's own move from the change that set the rule off."""

    ticket: Ticket
    previous: Status
    target: Status
    actor: User | None
    moment: datetime
    caused_by_rule: str | None = None


@dataclass(frozen=True)
class TextChanged:
    """Text a search or a subject line shows changed: ``fields`` names which (``summary``...)."""

    ticket: Ticket
    actor: User | None
    fields: tuple[str, ...]


@dataclass(frozen=True)
class Assigned:
    """The request's assignee changed from ``previous_id`` to ``assignee_id`` (None: nobody)."""

    ticket: Ticket
    actor: User | None
    previous_id: int | None
    assignee_id: int | None


@dataclass(frozen=True)
class ParticipantsChanged:
    """People were added to (``added``) or removed from (``removed``) the request, by user id."""

    ticket: Ticket
    actor: User | None
    added: tuple[int, ...] = ()
    removed: tuple[int, ...] = ()


@dataclass(frozen=True)
class CommentAdded:
    """Someone wrote on the request. ``with_step``: the comment came with a workflow step the
    author chose (the step is the answer; rules that react to a bare reply leave it alone)."""

    ticket: Ticket
    comment: Comment
    author: User
    channel: str
    with_step: bool


DomainEvent = (
    RequestCreated | EventRecorded | StatusChanged | TextChanged | Assigned | ParticipantsChanged | CommentAdded
)

_SIGNAL_OF: dict[type, Signal] = {
    RequestCreated: request_created,
    EventRecorded: event_recorded,
    StatusChanged: status_changed,
    TextChanged: text_changed,
    Assigned: assigned,
    ParticipantsChanged: participants_changed,
    CommentAdded: comment_added,
}


def publish(event: DomainEvent) -> None:
    """Send ``event`` on its signal to the receivers the current app connected."""
    # The app itself, not the proxy: receivers are connected for an app object, as Flask's signals are.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy's, not typed on Flask
    _SIGNAL_OF[type(event)].send(app, event=event)
