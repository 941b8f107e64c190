"""Password rules and flows: what a new password must be, setting one from an invitation or reset
link, asking for a reset, and changing one's own.

A changed password ends the account's other sessions and is told to the account's address.
"""

from __future__ import annotations

from flask import g, session
from flask_babel import gettext as _

from app.accounts import ratelimit, tokens
from app.accounts.hashing import hash_password, verify_password
from app.accounts.models import User
from app.accounts.sessions import SESSION_VERSION_KEY, end_sessions
from app.accounts.users import AccountError, find_user, normalize_email
from app.db_types import utcnow
from app.extensions import db
from app.outbox.services import queue_email
from app.security import events
from app.security.services import record_event
from app.security.signing import TokenError


MIN_PASSWORD_LENGTH = 10


def validate_new_password(password: str, confirm: str, email: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(
            _("The password must be at least %(count)d characters long.", count=MIN_PASSWORD_LENGTH), "password"
        )
    if len(password) > 256:
        raise AccountError(_("The password is too long."), "password")
    if password.strip().lower() == email.strip().lower():
        raise AccountError(_("The password must not be your e-mail address."), "password")
    if password != confirm:
        raise AccountError(_("The two passwords do not match."), "confirm")


def set_password_from_link(
    token: str, password: str, confirm: str, *, purpose: str = tokens.SET_PASSWORD, name: str | None = None
) -> User:
    """Accept an invitation or a reset link: set the password (the link then stops working)."""
    try:
        data = tokens.read_token(purpose, token, g.tenant.id)
    except TokenError as error:
        raise AccountError(
            _("This link has expired. Ask for a new one.")
            if error.expired
            else _("This link is not valid or has already been used.")
        ) from None
    user = db.session.get(User, data["u"])
    if not tokens.token_matches_user(data, user) or not user.active:
        raise AccountError(_("This link is not valid or has already been used."))
    validate_new_password(password, confirm, user.email)
    if name is not None and name.strip():
        user.name = name.strip()
    user.password_hash = hash_password(password)
    user.email_verified_at = user.email_verified_at or utcnow()  # the link came by e-mail
    end_sessions(user)  # whoever was logged in with the old password is not any more
    record_event(events.PASSWORD_RESET, tenant_id=user.tenant_id, actor=user, subject=user)
    if purpose == tokens.RESET_PASSWORD:  # an invitation's first password needs no notice
        _send_password_changed(user)
    ratelimit.forget_login_failures(str(user.tenant_id), user.email)
    return user


def user_for_link(token: str, purpose: str) -> User | None:
    try:
        data = tokens.read_token(purpose, token, g.tenant.id)
    except TokenError:
        return None
    user = db.session.get(User, data["u"])
    return user if tokens.token_matches_user(data, user) and user.active else None


def request_password_reset(email: str) -> None:
    """Send a reset link if the account exists. The caller shows the same answer either way."""
    if not ratelimit.allow_mail("password_reset", recipient=normalize_email(email), tenant_id=g.tenant.id):
        return  # too many requests for this address or from this client: the same answer, no e-mail
    user = find_user(email)
    if user is None or not user.active:
        return
    token = tokens.make_token(tokens.RESET_PASSWORD, user)
    queue_email(
        kind="password_reset",
        to=user.email,
        user=user,
        template="accounts/email/password_reset",
        idempotency_key=f"reset:{user.id}:{token[-16:]}",
        link=tokens.link("accounts.reset_password", token=token),
    )


def change_password(user: User, current: str, new: str, confirm: str) -> None:
    """Change one's own password: other sessions end, this one goes on, and the address is told."""
    if not verify_password(user.password_hash, current):
        raise AccountError(_("The current password is not correct."), "current")
    validate_new_password(new, confirm, user.email)
    user.password_hash = hash_password(new)
    end_sessions(user)
    session[SESSION_VERSION_KEY] = user.session_version  # this session is the one that stays
    record_event(events.PASSWORD_CHANGED, tenant_id=user.tenant_id, actor=user, subject=user)
    _send_password_changed(user)


def _send_password_changed(user: User) -> None:
    """Tell the account's address that its password changed ("if this was not you...")."""
    queue_email(
        kind="password_changed",
        to=user.email,
        user=user,
        template="accounts/email/password_changed",
        idempotency_key=f"password-changed:{user.id}:{user.session_version}",
        link=tokens.link("accounts.forgot_password"),
    )
