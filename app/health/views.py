"""``GET /healthz``: is the database, Redis and storage reachable? JSON for load balancers."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text

from app.extensions import db
from app.jobs import get_redis
from app.storage import get_storage

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _check(name: str, probe) -> str:
    try:
        probe()
        return "ok"
    except Exception as exc:  # any failure of a dependency is reported, never raised
        log.warning("health check %s failed: %s", name, exc)
        return "error"


@bp.get("/healthz")
def healthz():
    checks = {
        "db": _check("db", lambda: db.session.execute(text("SELECT 1"))),
        "redis": _check("redis", lambda: get_redis().ping()),
        "storage": _check("storage", lambda: get_storage().check()),
    }
    healthy = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if healthy else "degraded", **checks), 200 if healthy else 503
