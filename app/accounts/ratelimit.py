"""Login throttling: fixed windows counted in Redis, per account and per IP address, per tenant.

If Redis is unreachable the counters fall back to this process's memory, so protection never
silently disappears.
"""
from __future__ import annotations

import logging
import threading
import time

import redis

from app.jobs import get_redis

log = logging.getLogger(__name__)
_local: dict[str, tuple[int, float]] = {}
_local_lock = threading.Lock()


def _local_hit(key: str, window: int, increment: bool) -> int:
    now = time.monotonic()
    with _local_lock:
        count, expires = _local.get(key, (0, now + window))
        if expires <= now:
            count, expires = 0, now + window
        if increment:
            count += 1
            _local[key] = (count, expires)
        return count


def count(key: str, window: int, *, increment: bool) -> int:
    """The number of hits of ``key`` in the current window (after adding one if ``increment``)."""
    full_key = f"ratelimit:{key}"
    try:
        client = get_redis()
        if increment:
            pipe = client.pipeline()
            pipe.incr(full_key)
            pipe.expire(full_key, window, nx=True)
            value, _ = pipe.execute()
            return int(value)
        value = client.get(full_key)
        return int(value or 0)
    except redis.RedisError as exc:
        log.warning("rate limit counter in memory (Redis unavailable: %s)", exc)
        return _local_hit(full_key, window, increment)


def reset(key: str) -> None:
    try:
        get_redis().delete(f"ratelimit:{key}")
    except redis.RedisError:
        pass
    with _local_lock:
        _local.pop(f"ratelimit:{key}", None)
