"""Who may use the portal's home page, branding and static files."""

from __future__ import annotations

# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "portal.home": "PUBLIC",
    "portal.logo": "PUBLIC",
    "portal.set_language": "PUBLIC",
    "tenant_static.static": "STATIC",
    # Flask's own static route, on the bare domain.
    "static": "PLATFORM_STATIC",
}
