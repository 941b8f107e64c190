"""Password hashing: argon2id with a configurable cost.

Kept apart from the password rules so that creating an account and checking a login can hash
without depending on each other.
"""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import current_app, has_app_context


_hashers: dict[tuple[int, int], PasswordHasher] = {}


def _hasher() -> PasswordHasher:
    """argon2id with the configured cost (``PASSWORD_HASH_TIME_COST`` / ``_MEMORY_KIB``).

    Production keeps argon2-cffi's defaults (RFC 9106's low-memory profile); the test suite sets a
    cheap cost so that thousands of logins do not dominate its run time. A hash made with other
    parameters still verifies, since a hash carries its own.
    """
    config = current_app.config if has_app_context() else {}
    key = (int(config.get("PASSWORD_HASH_TIME_COST", 3)), int(config.get("PASSWORD_HASH_MEMORY_KIB", 65536)))
    hasher = _hashers.get(key)
    if hasher is None:
        hasher = _hashers[key] = PasswordHasher(time_cost=key[0], memory_cost=key[1])
    return hasher


_dummy_hashes: dict[int, str] = {}


def dummy_hash() -> str:
    """A hash to verify against when no account matches, so that both take the same time."""
    hasher = _hasher()
    ident = id(hasher)
    if ident not in _dummy_hashes:
        _dummy_hashes[ident] = hasher.hash("timing-equalizer")
    return _dummy_hashes[ident]


def hash_password(password: str) -> str:
    return _hasher().hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    if not password_hash:
        return False
    try:
        return _hasher().verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False
