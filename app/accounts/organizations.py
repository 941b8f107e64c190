"""Customer organizations and their memberships, as created by the platform and managed by tenant admins."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import func, select

from app.accounts.models import Membership, Organization, User
from app.accounts.users import AccountError, require_manager
from app.extensions import db
from app.security import events
from app.security.services import record_event


def get_or_create_organization(name: str) -> Organization:
    org = db.session.execute(select(Organization).where(Organization.name == name)).scalar_one_or_none()
    if org is None:
        org = Organization(name=name)
        db.session.add(org)
        db.session.flush()
    return org


def create_organization(name: str, *, by: User) -> Organization:
    """A tenant admin creates a customer organization."""
    require_manager(by)
    name = (name or "").strip()
    if not name:
        raise AccountError(_("Please enter a name."), "name")
    exists = db.session.execute(select(Organization.id).where(func.lower(Organization.name) == name.lower())).first()
    if exists:
        raise AccountError(_("An organization with this name exists already."), "name")
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


def remove_membership(user: User, organization: Organization) -> None:
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is not None:
        db.session.delete(membership)


def set_membership(user: User, organization: Organization, *, is_admin: bool, by: User) -> None:
    """A tenant admin adds a member, or makes one organization admin or plain member again."""
    require_manager(by)
    existing = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if existing is None:
        change = "added_as_admin" if is_admin else "added"
    elif existing.is_admin != is_admin:
        change = "made_admin" if is_admin else "made_member"
    else:
        return
    add_membership(user, organization, is_admin=is_admin)
    record_event(
        events.MEMBERSHIP_CHANGED,
        tenant_id=user.tenant_id,
        actor=by,
        subject=user,
        organization=organization.name,
        change=change,
    )


def end_membership(user: User, organization: Organization, *, by: User) -> None:
    """A tenant admin takes someone out of an organization."""
    require_manager(by)
    membership = db.session.execute(
        select(Membership).where(Membership.user_id == user.id, Membership.organization_id == organization.id)
    ).scalar_one_or_none()
    if membership is None:
        return
    db.session.delete(membership)
    record_event(
        events.MEMBERSHIP_CHANGED,
        tenant_id=user.tenant_id,
        actor=by,
        subject=user,
        organization=organization.name,
        change="removed",
    )
