"""What the outbox tells the modules above it: an e-mail that will never arrive.

The outbox knows nothing of requests. A module that shows a failed e-mail somewhere (its request's
timeline, ``app.notifications.services``) connects a receiver for its app in its ``init_app``; the
signal is sent with the application as the sender, as in ``app.tickets.events``. Receivers run
inside the delivery job's transaction.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from blinker import Namespace
from flask import current_app

if TYPE_CHECKING:
    from app.outbox.models import OutboxMessage

_signals = Namespace()

delivery_failed = _signals.signal(
    "delivery-failed", doc="An outbox message will never arrive (given up, or refused for good); kwarg ``message``."
)


def publish_delivery_failed(message: OutboxMessage) -> None:
    """Tell the receivers the current app connected that ``message`` will never arrive."""
    # The app itself, not the proxy: receivers are connected for an app object.
    app = current_app._get_current_object()  # type: ignore[attr-defined]  # LocalProxy's, not typed on Flask
    delivery_failed.send(app, message=message)
