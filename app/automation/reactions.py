"""What automation does when something happens to a request: its reactions to the domain events.

Connected for one app by ``init_app`` (called from ``create_app``), never by importing a module:

- ``RequestCreated``: the SLA clocks get their due moments (from the priority the form gave);
- ``EventRecorded``: support's first public comment stops the first-response clock; a change of the
  field that picks the SLA targets computes them again;
- ``StatusChanged``: the clocks pause, resume or stop, *then* the rules of the status entered run.
  One receiver does both, in this order, because a rule may move the request again and the clocks
  must have followed the first move before the second (blinker does not order receivers);
- ``CommentAdded``: a customer's bare reply (no step chosen with it) runs the ``customer_comment``
  rules, or ``email_reply`` for a reply by e-mail.
"""

from __future__ import annotations

from flask import Flask

from app.automation import sla
from app.automation.services import apply_event_rules, status_entered
from app.tickets import events
from app.workflow.services import actor_kind


def init_app(app: Flask) -> None:
    events.request_created.connect(_on_request_created, app)
    events.event_recorded.connect(_on_event_recorded, app)
    events.status_changed.connect(_on_status_changed, app)
    events.comment_added.connect(_on_comment_added, app)


def _on_request_created(app: Flask, *, event: events.RequestCreated) -> None:
    sla.refresh_targets(event.ticket)


def _on_event_recorded(app: Flask, *, event: events.EventRecorded) -> None:
    sla.comment_recorded(event.ticket, event.event.kind, event.actor)
    if event.event.kind == "field_changed":
        sla.field_changed(event.ticket, (event.event.data or {}).get("field"))


def _on_status_changed(app: Flask, *, event: events.StatusChanged) -> None:
    sla.status_changed(event.ticket, event.previous, event.target, event.moment)
    status_entered(event.ticket, event.caused_by_rule)


def _on_comment_added(app: Flask, *, event: events.CommentAdded) -> None:
    if event.with_step or event.comment.is_internal or actor_kind(event.author) != "customer":
        return
    apply_event_rules(event.ticket, "email_reply" if event.channel == "email" else "customer_comment")
