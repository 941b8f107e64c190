"""Who may do what with accounts: one place, used by every view."""
from __future__ import annotations

from app.accounts.models import ROLE_ADMIN, ROLE_AGENT


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in (ROLE_AGENT, ROLE_ADMIN)


def is_tenant_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) == ROLE_ADMIN


def can_invite(user) -> bool:
    """Agents and tenant admins give customers access (CRM-service, Targito: invite-only portals)."""
    return is_staff(user)


def can_manage_users(user) -> bool:
    """Roles, deactivation, e-mail changes, organizations: tenant admins (agents may change e-mails)."""
    return is_tenant_admin(user)


def can_change_email(user) -> bool:
    return is_staff(user)


def can_see_avatar(viewer, user) -> bool:
    return bool(getattr(viewer, "is_authenticated", False)) and getattr(viewer, "tenant_id", None) == user.tenant_id


def can_raise_requests(user) -> bool:
    """Open registration: an unconfirmed address cannot raise requests until it is confirmed."""
    if not getattr(user, "is_authenticated", False) or not getattr(user, "active", False):
        return False
    return is_staff(user) or user.email_verified_at is not None


# Who may reach each route of this module (audiences: app/security/access.py; checked for every
# actor by tests/security/test_route_matrix.py).
ROUTE_ACCESS: dict[str, str] = {
    "accounts.login": "PUBLIC",
    "accounts.logout": "PUBLIC",
    "accounts.register": "PUBLIC",
    "accounts.forgot_password": "PUBLIC",
    "accounts.verify_email": "SIGNED",
    "accounts.reset_password": "SIGNED",
    "accounts.set_password": "SIGNED",
    "accounts.resend_verification": "USER",
    "accounts.profile": "USER",
    "accounts.upload_avatar": "USER",
    "accounts.change_password": "USER",
    # Shown on the person's own profile page only; staff administer the accounts.
    "accounts.avatar": "OWN",
}
