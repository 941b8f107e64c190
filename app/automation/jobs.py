"""RQ entry point of the time-rule sweep (registered in ``app.jobs.schedule``, every 5 minutes)."""

from __future__ import annotations

import logging
from datetime import datetime

from app.automation.sweep import describe, run_time_rules

log = logging.getLogger(__name__)


def sweep_time_rules(now: str | None = None) -> int:
    """A platform-wide, set-based, idempotent sweep (see ``app.automation.sweep``)."""
    runs = run_time_rules(datetime.fromisoformat(now) if now else None)
    for line in describe(runs, limit=5):
        log.info("time rules: %s", line)
    return sum(r.count for r in runs)
