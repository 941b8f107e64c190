"""Who may do what with accounts: one place, used by every view."""

from __future__ import annotations

from app.accounts.models import ROLE_ADMIN, ROLE_AGENT, ROLE_CUSTOMER


def is_staff(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) in (ROLE_AGENT, ROLE_ADMIN)


def is_tenant_admin(user) -> bool:
    return bool(getattr(user, "is_authenticated", False)) and getattr(user, "role", None) == ROLE_ADMIN


def can_invite(user) -> bool:
    """Agents and tenant admins give customers access (CRM-service, Targito: invite-only portals)."""
    return is_staff(user)


def can_invite_as(user, role: str, *, org_admin: bool = False) -> bool:
    """Agents invite customers as plain members only; staff and organization admins are given their
    powers by a tenant admin (an agent must not be able to mint an admin, or an organization admin
    who then sees every request of that organization)."""
    if is_tenant_admin(user):
        return True
    return is_staff(user) and role == ROLE_CUSTOMER and not org_admin


def can_manage_users(user) -> bool:
    """Roles, deactivation, e-mail changes, organizations and their members: tenant admins only.

    An agent who could change another person's address (or role) could take over that account,
    a tenant admin's included, with a password reset sent to the new address."""
    return is_tenant_admin(user)


def can_change_email(user) -> bool:
    """A tenant admin asks for anyone's address to change; the new address must still confirm it."""
    return is_tenant_admin(user)


def can_see_avatar(viewer, user) -> bool:
    """The person themselves (their profile page shows it) and the tenant's staff; no other customer."""
    if not getattr(viewer, "is_authenticated", False) or getattr(viewer, "tenant_id", None) != user.tenant_id:
        return False
    return viewer.id == user.id or is_staff(viewer)


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
    # The link e-mailed to a new address: shows the change, and a POST confirms it.
    "accounts.confirm_email_change": "SIGNED",
    # Shown on the person's own profile page only; staff administer the accounts.
    "accounts.avatar": "OWN",
}
