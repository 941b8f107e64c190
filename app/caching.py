"""In-process caches of per-tenant configuration.

Each entry is keyed by the tenant id and its ``config_version`` (bumped on every configuration
edit), so an edit makes old entries unreachable; entries with a time-to-live expire by themselves.
Every cache registers here so that tests (and an operator command) can clear them all at once.
"""

from __future__ import annotations

import threading
import time

_registry: list["ProcessCache"] = []


class ProcessCache:
    def __init__(self, name: str, max_entries: int = 10_000):
        self.name = name
        self.max_entries = max_entries
        self._data: dict = {}
        self._lock = threading.Lock()
        _registry.append(self)

    def get(self, key, default=None):
        item = self._data.get(key)
        if item is None:
            return default
        value, expires = item
        if expires is not None and expires <= time.monotonic():
            return default
        return value

    def set(self, key, value, ttl: float | None = None):
        expires = time.monotonic() + ttl if ttl is not None else None
        with self._lock:
            if len(self._data) >= self.max_entries:
                self._data.clear()
            self._data[key] = (value, expires)
        return value

    def pop(self, key) -> None:
        with self._lock:
            self._data.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._data.clear()


def clear_all_caches() -> None:
    for cache in _registry:
        cache.clear()
