"""Who may use the agents' workspace."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "agent.home": "STAFF",
    "agent.queue": "STAFF",
    "agent.bulk": "STAFF",
}
