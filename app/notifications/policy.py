"""Who may follow the links of notification e-mails: whoever holds the signed link."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "notifications.view": "SIGNED",
    "notifications.unsubscribe": "SIGNED",
    "notifications.resubscribe": "SIGNED",
    "notifications.rate": "SIGNED",
}
