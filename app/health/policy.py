"""Who may ask whether the service is healthy: anyone (load balancers)."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "health.healthz": "PLATFORM_PUBLIC",
}
