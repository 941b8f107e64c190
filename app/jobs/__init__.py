"""RQ: the connection, the queue, and the job class that runs every job inside the app.

A job receives ids and a tenant id, never ORM objects. ``AppJob.perform`` pushes an app context,
enters the tenant's scope, runs the function, and commits (or rolls back on error): the job is one
unit of work (``app.unit_of_work``), and job functions do not commit on their own, except where each
item they process is deliberately its own unit (said so at the commit). Workers are
started with ``--job-class app.jobs.AppJob``; the app is created lazily in the work horse, after
the fork, so no database connection crosses a fork.
"""

from __future__ import annotations

from contextlib import nullcontext

import redis
from flask import current_app
from rq import Queue
from rq.job import Job

from app.tenancy.scoping import tenant_scope

_worker_app = None


def redis_url(app=None) -> str:
    app = app or current_app
    url = app.config.get("REDIS_URL")
    if not url:
        from app.jobs.embedded import ensure_embedded_redis

        url = ensure_embedded_redis(app.instance_path)
        app.config["REDIS_URL"] = url
    return url


def get_redis(app=None) -> redis.Redis:
    app = app or current_app
    ext = app.extensions
    if "redis" not in ext:
        ext["redis"] = redis.Redis.from_url(redis_url(app), socket_connect_timeout=2, socket_timeout=10)
    return ext["redis"]


def get_queue(name: str | None = None) -> Queue:
    return Queue(
        name or current_app.config["RQ_QUEUE"],
        connection=get_redis(),
        job_class=AppJob,
        is_async=current_app.config["RQ_IS_ASYNC"],
    )


def enqueue(func, *args, tenant_id: int | None, job_id: str | None = None, **kwargs) -> Job:
    """Enqueue ``func(*args, **kwargs)`` to run in the scope of ``tenant_id`` (None: platform job)."""
    return get_queue().enqueue(func, *args, job_id=job_id, meta={"tenant_id": tenant_id}, **kwargs)


def _app():
    global _worker_app
    from flask import has_app_context

    if has_app_context():
        return current_app._get_current_object()
    if _worker_app is None:
        from app import create_app

        _worker_app = create_app()
    return _worker_app


class AppJob(Job):
    def perform(self):
        app = _app()
        from app.extensions import db
        from app.unit_of_work import unit

        tenant_id = (self.meta or {}).get("tenant_id")
        with app.app_context():
            scope = tenant_scope(tenant_id) if tenant_id is not None else nullcontext()
            with scope:
                try:
                    with unit():
                        return super().perform()
                finally:
                    db.session.remove()
