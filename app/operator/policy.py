"""Who may use the platform side on the bare domain."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "operator.home": "PLATFORM_PUBLIC",
    "operator.login": "PLATFORM_PUBLIC",
    "operator.logout": "PLATFORM_PUBLIC",
    "operator.set_language": "PLATFORM_PUBLIC",
    "operator.new_tenant": "OPERATOR",
    "operator.tenant_status": "OPERATOR",
}
