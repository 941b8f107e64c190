"""Login sessions: starting one, ending all of an account's, logging out, and loading the session's
account on each request (Flask-Login's user loader).

A session is bound to its tenant and to the account's ``session_version``, and ends after an idle
and an absolute timeout.
"""

from __future__ import annotations

import time

from flask import current_app, g, session

from app.accounts.models import Operator, User
from app.extensions import db, login_manager
from app.security import events
from app.security.services import record_event


SESSION_TENANT_KEY = "tenant_id"


# The account's ``session_version`` when the session began (bumping it ends the session), and when
# the session began and was last used (epoch seconds), for the absolute and idle timeouts.
SESSION_VERSION_KEY = "session_version"


SESSION_STARTED_KEY = "session_started"


SESSION_SEEN_KEY = "session_seen"


SEEN_GRANULARITY = 60  # seconds: the last-used time is rewritten at most once a minute


def start_session(account: User | Operator) -> None:
    """Log in a tenant user (or, on the bare domain, an operator) with a fresh session.

    The session records the account's ``session_version`` and when it began; ``load_user`` refuses
    it once the version moves on or a timeout passes. There is no "keep me logged in" cookie: at
    ASVS level 2 a login must end after 12 hours or 30 minutes idle anyway, which is exactly what
    such a cookie would get around (and a copy of it would outlive every logout).
    """
    from flask_login import login_user

    language = session.get("lang")
    session.clear()  # no session fixation: a fresh session for the logged-in account
    if language:
        session["lang"] = language
    tenant = g.get("tenant")
    if tenant is not None:
        session[SESSION_TENANT_KEY] = tenant.id
    session[SESSION_VERSION_KEY] = account.session_version
    session[SESSION_STARTED_KEY] = session[SESSION_SEEN_KEY] = _now()
    login_user(account, remember=False)


def end_sessions(account: User | Operator) -> None:
    """End every session of the account made so far (on every device, copied cookies included) by
    moving its ``session_version`` on. The caller commits."""
    account.session_version = (account.session_version or 1) + 1


def log_out(account) -> None:
    """Log out: this session and every other one of the account end (a copied cookie too)."""
    from flask_login import logout_user

    if getattr(account, "is_authenticated", False):
        end_sessions(account)
        is_operator = isinstance(account, Operator)
        record_event(
            events.LOGOUT,
            tenant_id=None if is_operator else account.tenant_id,
            actor=account,
            subject=None if is_operator else account,
            email=account.email,
        )
    logout_user()
    _forget_login()


@login_manager.user_loader
def load_user(user_id: str):
    """Load the session's user: a tenant user within the current tenant only, an operator only
    on the bare domain (cookies are host-only as well)."""
    kind, _sep, raw_id = (user_id or "").partition(":")
    try:
        ident = int(raw_id)
    except ValueError:
        return None
    tenant = g.get("tenant")
    if kind == "operator":
        if tenant is not None:
            return None
        account = db.session.get(Operator, ident)
    elif kind == "user" and tenant is not None and session.get(SESSION_TENANT_KEY) == tenant.id:
        account = db.session.get(User, ident)
        if account is not None and account.tenant_id != tenant.id:
            return None
    else:
        return None
    if account is None or not account.active or not _session_is_current(account):
        _forget_login()
        return None
    return account


def _now() -> int:
    return int(time.time())


def _session_is_current(account) -> bool:
    """The session was made for the account's current ``session_version`` and has neither been idle
    longer than ``SESSION_IDLE_MINUTES`` nor lasted longer than ``SESSION_MAX_HOURS``."""
    version, started, seen = (
        session.get(SESSION_VERSION_KEY),
        session.get(SESSION_STARTED_KEY),
        session.get(SESSION_SEEN_KEY),
    )
    if version != account.session_version or not isinstance(started, int) or not isinstance(seen, int):
        return False
    now = _now()
    config = current_app.config
    if (
        now - seen > int(config.get("SESSION_IDLE_MINUTES", 30)) * 60
        or now - started > int(config.get("SESSION_MAX_HOURS", 12)) * 3600
    ):
        return False
    if now - seen >= SEEN_GRANULARITY:
        session[SESSION_SEEN_KEY] = now
    return True


def _forget_login() -> None:
    """Drop a refused or ended login from the session (the language and the rest stay)."""
    for key in (
        "_user_id",
        "_fresh",
        "_id",
        SESSION_TENANT_KEY,
        SESSION_VERSION_KEY,
        SESSION_STARTED_KEY,
        SESSION_SEEN_KEY,
    ):
        session.pop(key, None)
