"""Tenant users: the account error, finding and creating users, and what a tenant admin changes
about a person (role, active, login address).

Every account operation raises ``AccountError`` for a problem the user can fix, with a translated
message; nothing is changed when one is raised. E-mails go through the outbox in the same
transaction, in the recipient's language.
"""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _
from sqlalchemy import select

from app.accounts import tokens
from app.accounts.hashing import hash_password
from app.accounts.models import ROLE_CUSTOMER, ROLES, User
from app.accounts.policy import can_change_email, can_manage_users
from app.accounts.sessions import end_sessions
from app.db_types import utcnow
from app.extensions import db
from app.outbox.services import queue_email
from app.security import events
from app.security.services import record_event
from app.security.signing import TokenError


class AccountError(Exception):
    """A problem the user can fix; ``field`` names the form field it belongs to, if any."""

    def __init__(self, message: str, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field


def normalize_email(email: str) -> str:
    return (email or "").strip().lower()


def find_user(email: str) -> User | None:
    return db.session.execute(select(User).where(User.email == normalize_email(email))).scalar_one_or_none()


def create_user(
    email: str,
    *,
    name: str = "",
    role: str = ROLE_CUSTOMER,
    password: str | None = None,
    locale: str | None = None,
    verified: bool = False,
) -> User:
    """A user of the current tenant. Caller commits."""
    if role not in ROLES:
        raise ValueError(f"unknown role {role!r}")
    user = User(
        email=normalize_email(email),
        name=name.strip(),
        role=role,
        locale=locale,
        password_hash=hash_password(password) if password else None,
        email_verified_at=utcnow() if verified else None,
    )
    db.session.add(user)
    return user


def require_manager(by) -> None:
    """Roles, addresses, (de)activation and organizations are the tenant admins' (policy.py)."""
    if not can_manage_users(by):
        raise AccountError(_("Only tenant admins can do this."))


def change_role(user: User, role: str, *, by: User) -> None:
    """A tenant admin gives another role; the person's sessions end (their powers changed)."""
    require_manager(by)
    if role not in ROLES:
        raise AccountError(_("Please choose a role."), "role")
    if user.id == by.id and role != user.role:
        raise AccountError(_("You cannot change your own role."), "role")
    if role == user.role:
        return
    old_role, user.role = user.role, role
    end_sessions(user)
    record_event(
        events.ROLE_CHANGED, tenant_id=user.tenant_id, actor=by, subject=user, old_role=old_role, new_role=role
    )


def set_active(user: User, active: bool, *, by: User) -> None:
    """Deactivate (the person's sessions end) or reactivate (they log in again) an account."""
    require_manager(by)
    if user.id == by.id and not active:
        raise AccountError(_("You cannot deactivate your own account."))
    if user.active == active:
        return
    user.active = active
    end_sessions(user)
    record_event(
        events.USER_REACTIVATED if active else events.USER_DEACTIVATED, tenant_id=user.tenant_id, actor=by, subject=user
    )


def request_email_change(user: User, new_email: str, *, by: User) -> bool:
    """Ask for a person's login and notification address to change (a tenant admin, for support).

    Nothing changes yet: the new address gets a confirmation link and the current one a notice, so
    that nobody can move an account to an address they do not hold, nor unnoticed. False if the
    address is the same.
    """
    if not can_change_email(by):
        raise AccountError(_("Only tenant admins can change e-mail addresses."), "email")
    new_email = normalize_email(new_email)
    if "@" not in new_email or len(new_email) > 320 or " " in new_email:
        raise AccountError(_("Please enter a valid e-mail address."), "email")
    if new_email == user.email:
        return False
    if find_user(new_email) is not None:
        raise AccountError(_("Another account already uses %(email)s.", email=new_email), "email")
    token = tokens.make_token(tokens.CHANGE_EMAIL, user, n=new_email)
    queue_email(
        kind="email_change_confirm",
        to=new_email,
        user=user,
        template="accounts/email/email_change_confirm",
        idempotency_key=f"email-change:{user.id}:{token[-16:]}",
        new_email=new_email,
        link=tokens.link("accounts.confirm_email_change", token=token),
    )
    queue_email(
        kind="email_change_requested",
        to=user.email,
        user=user,
        template="accounts/email/email_change_requested",
        idempotency_key=f"email-change-notice:{user.id}:{token[-16:]}",
        new_email=new_email,
    )
    record_event(events.EMAIL_CHANGE_REQUESTED, tenant_id=user.tenant_id, actor=by, subject=user, new_email=new_email)
    return True


def email_change_for_link(token: str) -> tuple[User, str]:
    """The person and the new address of a confirmation link, if it is still good; else AccountError."""
    try:
        data = tokens.read_token(tokens.CHANGE_EMAIL, token, g.tenant.id)
    except TokenError as error:
        raise AccountError(
            _("This confirmation link has expired. Ask for the change again.")
            if error.expired
            else _("This link is not valid or has already been used.")
        ) from None
    user = db.session.get(User, data["u"])
    if not tokens.token_matches_user(data, user) or not user.active or not isinstance(data.get("n"), str):
        raise AccountError(_("This link is not valid or has already been used."))
    return user, data["n"]


def confirm_email_change(token: str) -> User:
    """The new address confirmed the change: it becomes the login, the old address is told, and the
    person's sessions end (they log in with the new address)."""
    user, new_email = email_change_for_link(token)
    if find_user(new_email) is not None:
        raise AccountError(_("Another account already uses %(email)s.", email=new_email))
    old_email = user.email
    user.email = new_email
    user.email_verified_at = utcnow()  # the link reached the new address
    end_sessions(user)
    queue_email(
        kind="email_changed",
        to=old_email,
        user=user,
        template="accounts/email/email_changed",
        idempotency_key=f"email-changed:{user.id}:{user.session_version}",
        old_email=old_email,
        new_email=new_email,
    )
    record_event(
        events.EMAIL_CHANGED,
        tenant_id=user.tenant_id,
        actor=user,
        subject=user,
        email=old_email,
        old_email=old_email,
        new_email=new_email,
    )
    return user
