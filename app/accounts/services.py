"""Account rules: password hashing, creating users and organizations, loading the session user."""
from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import g, session
from sqlalchemy import select

from app.accounts.models import ROLES, Membership, Organization, User
from app.db_types import utcnow
from app.extensions import db, login_manager

_hasher = PasswordHasher()
SESSION_TENANT_KEY = "tenant_id"


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def normalize_email(email: str) -> str:
    return email.strip().lower()


def create_user(email: str, *, name: str = "", role: str = "customer", password: str | None = None,
                locale: str | None = None, verified: bool = False) -> User:
    """A user of the current tenant. Caller commits."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(email=normalize_email(email), name=name, role=role, locale=locale,
                password_hash=hash_password(password) if password else None,
                email_verified_at=utcnow() if verified else None)
    db.session.add(user)
    return user


def get_or_create_organization(name: str) -> Organization:
    org = db.session.execute(select(Organization).where(Organization.name == name)).scalar_one_or_none()
    if org is None:
        org = Organization(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def add_membership(user: User, organization: Organization, *, is_admin: bool = False) -> Membership:
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is None:
        membership = Membership(user=user, organization=organization, is_admin=is_admin)
        db.session.add(membership)
    else:
        membership.is_admin = is_admin
    return membership


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """Load the session's user within the current tenant only (cookies are host-only too)."""
    tenant = g.get("tenant")
    if tenant is None or session.get(SESSION_TENANT_KEY) != tenant.id:
        return None
    try:
        user = db.session.get(User, int(user_id))
    except (TypeError, ValueError):
        return None
    if user is None or user.tenant_id != tenant.id or not user.active:
        return None
    return user
