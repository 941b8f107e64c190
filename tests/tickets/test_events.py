"""The request's domain events are wired explicitly: importing the code connects no reaction; the app
factory connects each reacting module for the app it builds, and only for that app."""

import importlib
import pkgutil

from flask import Flask

import app as app_package
from app.tickets import events

SIGNALS = (
    events.request_created,
    events.event_recorded,
    events.status_changed,
    events.text_changed,
    events.assigned,
    events.participants_changed,
    events.comment_added,
)


def _import_everything() -> None:
    for module in pkgutil.walk_packages(app_package.__path__, "app."):
        importlib.import_module(module.name)


def test_importing_the_modules_connects_no_reaction_and_an_app_has_only_its_own(app):
    _import_everything()
    bare = Flask("bare")  # an app whose factory called no reacting module's init_app
    assert not any(signal.has_receivers_for(bare) for signal in SIGNALS)
    reactions = {signal.name: {r.__module__ for r in signal.receivers_for(app)} for signal in SIGNALS}
    assert reactions["event-recorded"] == {"app.notifications.planning", "app.automation.reactions"}
    assert reactions["status-changed"] == {"app.automation.reactions"}
    assert reactions["request-created"] == {"app.automation.reactions", "app.helpcenter.search"}
    assert reactions["text-changed"] == {"app.helpcenter.search"}
    assert reactions["comment-added"] == {"app.automation.reactions"}
