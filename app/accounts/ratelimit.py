"""Rate limits kept in Flask-Limiter's storage (Redis; this process's memory while Redis is down).

- Login, per client address and portal: ``login_failures_per_ip`` for the route decorator on both
  login views. Only failed attempts count, so an office behind one NAT address is never locked
  out by its own colleagues' logins; a password sprayer is slowed to that many guesses a minute.
- Login, per account: after ``FREE_FAILURES`` failures in a row the account waits, one minute at
  first, doubling with every further failure up to ``MAX_LOCK_SECONDS``; a success forgets them.
  Unknown addresses are counted the same way (no account enumeration by lockout).
- E-mails that a visitor or a customer can make the portal send (password reset, registration,
  invitation, share): per sender, per recipient address and per tenant.

Every key names the portal (tenant id, or "platform" for the operator) so that a limit reached at
one vendor never affects another. E-mail addresses are hashed in keys: Redis holds no addresses.
"""

from __future__ import annotations

import hashlib
import logging
import math
import time

from flask import current_app, g, has_request_context, request
from limits import RateLimitItem, RateLimitItemPerDay, RateLimitItemPerHour, RateLimitItemPerSecond
from limits.errors import StorageError
from limits.storage import MemoryStorage, storage_from_string
from limits.strategies import FixedWindowRateLimiter, RateLimiter

log = logging.getLogger(__name__)

FREE_FAILURES = 5
FIRST_LOCK_SECONDS = 60
MAX_LOCK_SECONDS = 15 * 60
# Failures are forgotten a day after the first one of a series (and at once by a successful login).
_FAILURES = RateLimitItemPerDay(1_000_000)
# While Redis is down the limits live in memory; Redis is tried again after this many seconds.
RETRY_STORAGE_SECONDS = 30

# Per hour: (per recipient address, per sender, per tenant). A sender is a user (invitation, share)
# or, for anonymous forms, the client address. The tenant's budget is shared by all four kinds.
MAIL_LIMITS: dict[str, tuple[int, int]] = {
    "password_reset": (3, 10),
    "registration": (3, 10),
    "verification": (3, 10),
    "invitation": (3, 100),
    "share": (5, 20),
}
MAIL_PER_TENANT_PER_HOUR = 500


# --- storage ---------------------------------------------------------------------------------


def _fallback() -> RateLimiter:
    state = current_app.extensions.setdefault("ratelimit_fallback", {})
    if "limiter" not in state:
        state["limiter"] = FixedWindowRateLimiter(MemoryStorage())
    return state["limiter"]


def _primary() -> RateLimiter:
    """This app's counters on the limiter's storage (Redis).

    Our own limiter object per app, not Flask-Limiter's: that one is a module-wide extension whose
    storage and "storage is down, use memory" state belong to whichever app bound it last, so counts
    could move between Redis and memory halfway through a series. Same storage and options."""
    state = current_app.extensions.setdefault("ratelimit_fallback", {})
    if "primary" not in state:
        storage = storage_from_string(
            current_app.config["RATELIMIT_STORAGE_URI"], **current_app.config.get("RATELIMIT_STORAGE_OPTIONS", {})
        )
        state["primary"] = FixedWindowRateLimiter(storage)
    return state["primary"]


def _call(method: str, item: RateLimitItem, *identifiers: str):
    """``<limiter>.<method>(item, *identifiers)`` on Redis, in memory while Redis does not answer."""
    state = current_app.extensions.setdefault("ratelimit_fallback", {})
    if time.monotonic() >= state.get("retry_at", 0.0):
        try:
            return getattr(_primary(), method)(item, *identifiers)
        except StorageError as error:
            log.warning("rate limits kept in memory: the storage does not answer (%s)", error)
            state["retry_at"] = time.monotonic() + RETRY_STORAGE_SECONDS
    return getattr(_fallback(), method)(item, *identifiers)


def _digest(value: str) -> str:
    return hashlib.sha256(value.strip().lower().encode()).hexdigest()[:32]


def _portal() -> str:
    tenant = g.get("tenant")
    return str(tenant.id) if tenant is not None else "platform"


def client_address() -> str:
    """The client's address as the app sees it (the proxy's client with ``PROXY_FIX_X_FOR``)."""
    return (request.remote_addr if has_request_context() else None) or "unknown"


# --- login -----------------------------------------------------------------------------------


def login_failures_per_ip() -> str:
    """The login route limit (Flask-Limiter reads it per request, so tests and deployments set it)."""
    return current_app.config.get("LOGIN_FAILURES_PER_IP") or "60/minute"


def login_ip_key() -> str:
    """The login route limit's key: the portal and the client address."""
    return f"login-ip/{_portal()}/{client_address()}"


def _lock_item(failures: int) -> RateLimitItem:
    doublings = min(max(failures - FREE_FAILURES, 0), 10)
    return RateLimitItemPerSecond(1, min(FIRST_LOCK_SECONDS * 2**doublings, MAX_LOCK_SECONDS))


def _account(scope: str, email: str) -> tuple[str, str]:
    return scope, _digest(email)


def login_failures(scope: str, email: str) -> int:
    """Failed logins in a row for ``email`` at ``scope`` (a tenant id, or "platform")."""
    stats = _call("get_window_stats", _FAILURES, "login-failures", *_account(scope, email))
    return _FAILURES.amount - stats.remaining


def login_wait_seconds(scope: str, email: str) -> int:
    """How long ``email`` must still wait before its next login attempt (0: it may try now)."""
    failures = login_failures(scope, email)
    if failures < FREE_FAILURES:
        return 0
    item = _lock_item(failures)
    if _call("test", item, "login-lock", *_account(scope, email)):
        return 0
    reset_at = _call("get_window_stats", item, "login-lock", *_account(scope, email)).reset_time
    return max(1, math.ceil(reset_at - time.time()))


def count_login_failure(scope: str, email: str) -> tuple[int, int]:
    """Count one failed login: returns the failures in a row, and the seconds the account now
    waits (0 while fewer than ``FREE_FAILURES``)."""
    _call("hit", _FAILURES, "login-failures", *_account(scope, email))
    failures = login_failures(scope, email)
    if failures < FREE_FAILURES:
        return failures, 0
    item = _lock_item(failures)
    _call("hit", item, "login-lock", *_account(scope, email))
    return failures, item.get_expiry()


def forget_login_failures(scope: str, email: str) -> None:
    """A successful login (or a password set from an e-mailed link) starts the count afresh."""
    _call("clear", _FAILURES, "login-failures", *_account(scope, email))


# --- e-mails ---------------------------------------------------------------------------------


def allow_mail(kind: str, *, recipient: str, sender: str | None = None, tenant_id: int | None = None) -> bool:
    """Whether one more e-mail of ``kind`` may go to ``recipient``; counts it if so.

    ``sender`` identifies who makes the portal send it ("user:<id>"); anonymous forms leave it out
    and are counted per client address. Nothing is counted when the answer is no.
    """
    per_recipient, per_sender = MAIL_LIMITS[kind]
    scope = str(tenant_id) if tenant_id is not None else _portal()
    checks = [
        (RateLimitItemPerHour(per_recipient), ("mail-to", kind, scope, _digest(recipient))),
        (RateLimitItemPerHour(per_sender), ("mail-from", kind, scope, sender or f"ip:{client_address()}")),
        (RateLimitItemPerHour(MAIL_PER_TENANT_PER_HOUR), ("mail-tenant", scope)),
    ]
    if not all(_call("test", item, *identifiers) for item, identifiers in checks):
        log.info("%s e-mail not sent: throttled (tenant %s)", kind, scope)
        return False
    for item, identifiers in checks:
        _call("hit", item, *identifiers)
    return True
