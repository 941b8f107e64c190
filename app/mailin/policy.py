"""Who may hand in e-mail over HTTP, and who may download the original of an e-mail."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "mailgate.mailgate": "MAILGATE",
    "mailin.request_original": "REQUEST_STAFF",
    "mailin.comment_original": "REQUEST_STAFF",
    # E-mails held for review (their senders could not be confirmed): the request's staff read and decide.
    "mailin.held_original": "REQUEST_STAFF",
    "mailin.accept_held": "REQUEST_STAFF",
    "mailin.discard_held": "REQUEST_STAFF",
}
