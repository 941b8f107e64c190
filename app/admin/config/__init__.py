"""The tenant admin's configuration console, one module per section of the tenant definition.

Each section module holds its WTForms form classes (reading the inputs its pages post), its pure
definition editors (a definition in, the edited copy out; unit-tested without an app) and its thin
views. ``base`` holds the blueprint, access and the apply-and-render plumbing; ``inputs`` the
shared field classes; ``editing`` the shared editor helpers. Plain HTML forms, no JavaScript
needed: lists are ordered with up/down buttons.
"""

from app.admin.config import (  # noqa: F401  (each registers its views on the blueprint)
    automation,
    branding,
    email_channel,
    fields,
    languages,
    notifications,
    overview,
    portals,
    queues,
    request_types,
    sla,
    statuses,
    texts,
    transfer,
    workflows,
)
from app.admin.config.base import bp

__all__ = ["bp"]
