"""Checking credentials: a tenant user's and the platform operator's login, with a back-off per
account and the same timing whether or not the account exists.
"""

from __future__ import annotations

import math

from flask import g
from flask_babel import gettext as _, ngettext
from sqlalchemy import select

from app.accounts import ratelimit
from app.accounts.hashing import dummy_hash, verify_password
from app.accounts.models import Operator, User
from app.accounts.users import AccountError, find_user, normalize_email
from app.db_types import utcnow
from app.extensions import db
from app.security import events
from app.security.services import record_event
from app.unit_of_work import keep


class LoginThrottled(AccountError):
    """Too many failed logins: the account (or the client address) waits ``retry_after`` seconds."""

    def __init__(self, seconds: int):
        super().__init__(login_wait_message(seconds))
        self.retry_after = max(1, int(seconds))


def login_wait_message(seconds: float) -> str:
    """The translated "please wait" of a slowed-down login, in whole minutes (at least one)."""
    minutes = max(1, math.ceil(seconds / 60))
    return ngettext(
        "Too many failed login attempts. Please wait %(num)d minute and try again.",
        "Too many failed login attempts. Please wait %(num)d minutes and try again.",
        minutes,
    )


def _throttled_login(scope: str, email: str, password: str, find, *, tenant_id: int | None):
    """Check credentials found by ``find(email)``, with a back-off per account.

    After ``ratelimit.FREE_FAILURES`` failures in a row the address waits (growing with each further
    failure), whether or not an account has it; a success forgets its failures. Every attempt goes
    to the security trail; a failed one is committed at once, since nothing else is. The client
    address is slowed down by the login views' route limit, which counts failures only.
    """
    email = normalize_email(email)
    wait = ratelimit.login_wait_seconds(scope, email)
    if wait:
        raise LoginThrottled(wait)
    account = find(email)
    if account is None:
        verify_password(dummy_hash(), password)  # the same time whether or not the account exists
        ok = False
    else:
        ok = verify_password(account.password_hash, password) and account.active
    user = account if isinstance(account, User) else None  # the trail's subject is a tenant user
    if not ok:
        failures, locked_for = ratelimit.count_login_failure(scope, email)
        record_event(events.LOGIN_FAILED, tenant_id=tenant_id, subject=user, email=email)
        if locked_for:
            record_event(events.ACCOUNT_LOCKED, tenant_id=tenant_id, subject=user, email=email, failures=failures)
        keep()  # the failed attempt stays in the trail although the answer is an error
        raise AccountError(_("The e-mail address or the password is not correct."))
    ratelimit.forget_login_failures(scope, email)
    record_event(events.LOGIN_SUCCEEDED, tenant_id=tenant_id, actor=account, subject=user)
    return account


def authenticate(email: str, password: str) -> User:
    """A tenant user's login."""
    user = _throttled_login(str(g.tenant.id), email, password, find_user, tenant_id=g.tenant.id)
    user.last_login_at = utcnow()
    return user


def authenticate_operator(email: str, password: str) -> Operator:
    """The platform operator's login, on the bare domain."""
    operator = _throttled_login(
        "platform",
        email,
        password,
        lambda address: db.session.execute(select(Operator).where(Operator.email == address)).scalar_one_or_none(),
        tenant_id=None,
    )
    return operator
