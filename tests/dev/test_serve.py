"""`flask dev serve` (what `make run` starts): stopping it stops everything it started."""

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(condition, seconds=60):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.2)
    return False


@pytest.mark.parametrize("how", [signal.SIGTERM, signal.SIGINT])
def test_stopping_the_dev_server_stops_its_worker_and_scheduler(tmp_path, redis_server, how):
    port = _free_port()
    env = dict(
        os.environ,
        DATABASE_URL=f"sqlite:///{tmp_path / 'portal.sqlite3'}",
        REDIS_URL=redis_server.connection_url,
        STORAGE_URL=f"file://{tmp_path / 'storage'}",
        MAIL_URL=f"maildir://{tmp_path / 'outbox'}",
        PORTAL_DOMAIN=f"localhost:{port}",
        PORTAL_CLI_LANGUAGE="en",
        PORTAL_ENV="development",
    )
    flask = [sys.executable, "-m", "flask", "--app", "wsgi"]
    subprocess.run([*flask, "db", "upgrade"], env=env, cwd=ROOT, check=True, capture_output=True)
    log = tmp_path / "serve.log"
    with open(log, "wb") as out:
        server = subprocess.Popen(
            [*flask, "dev", "serve", "--port", str(port)], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT
        )
    try:
        found = []
        assert _wait_for(
            lambda: found.extend(re.findall(r"pid (\d+)", log.read_text(errors="replace"))) or len(found) >= 2
        ), log.read_text(errors="replace")
        worker, scheduler = (int(pid) for pid in found[:2])
        assert _alive(worker) and _alive(scheduler)
        server.send_signal(how)
        server.wait(timeout=30)
        assert _wait_for(lambda: not _alive(worker) and not _alive(scheduler), 30), (
            f"still running after the server stopped: worker {_alive(worker)}, rq cron {_alive(scheduler)}"
        )
    finally:
        if server.poll() is None:
            server.kill()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = Path(f"/proc/{pid}/stat")
    return not (state.exists() and state.read_text().split(")")[-1].split()[0] == "Z")  # a zombie has stopped
