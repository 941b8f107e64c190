"""One unit of work per request, job and command: services flush, the boundary commits once.

Services change models and call ``db.session.flush()`` only when they need an id or a constraint
checked now; they never commit and never roll back. Whoever called them commits, once, at the edge:

- **A web request.** ``init_app`` installs an ``after_request`` handler: a response below 400 (a
  page, a redirect) commits the request's work, anything else rolls it back. A form answered 422
  with its problems, a 403, a 404 or a 500 therefore change nothing, and an exception rolls back too
  (the error page goes through the same handler, and Flask-SQLAlchemy's teardown removes the
  session). Two explicit exceptions to the rule, for a view to say what it means:
  ``discard()`` throws away what was done so far when the view handles an expected error after
  partial work and still answers with a page or a redirect; ``keep()`` commits although the answer is
  an error, for the few error answers that must leave a trace (a failed login counted, a refused
  attempt in the security trail).
- **A job.** ``app.jobs.AppJob`` commits after the job function returns and rolls back if it raises.
  A job that processes items one by one and must keep each finished item (delivering outbox
  messages) commits per item: each item is then its own unit, and the job says so where it commits.
- **A ``flask`` command.** ``command_unit`` wraps every command of an ``app.i18n.cli.OperatorGroup``:
  it commits when the command returns or ends by ``sys.exit`` (a handled outcome: a command that
  reports some failed items has put each item in ``atomic()``), and rolls back when it raises.
- **One item of a bulk action, one service call that must happen whole.** ``atomic()`` runs a block
  inside a SAVEPOINT: if it raises, the block's rows, and the notifications and e-mails it planned,
  are gone, while the work done before it in the same unit stays; if it succeeds, the changes join
  the unit and are committed with it. A bulk action counts as changed exactly the items whose
  ``atomic()`` block succeeded.

What must wait until the work is durable (a file deleted from storage, a cache entry dropped) is
handed to ``after_commit(callback)``: it runs once the unit commits and is forgotten if it rolls
back. The existing after-commit hooks (queued e-mails and notification batches handed to RQ) thus
run once, when the whole unit is durable. Peers: Indico commits once at the end of
``RH._process`` and rolls back on any exception; Flask-SQLAlchemy leaves the policy to the
application.

SQLite note: pysqlite opens its transaction lazily, before the first INSERT/UPDATE/DELETE; a
SAVEPOINT issued before that would itself open the transaction and its RELEASE would commit it.
``app.extensions`` begins the real transaction first (see ``_sqlite_begin_before_savepoint``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

from flask import Flask, Response, g, has_request_context
from sqlalchemy import event
from sqlalchemy.orm import Session

from app.extensions import db

F = TypeVar("F", bound=Callable[..., Any])

_KEEP = "_unit_of_work_keep"
_AFTER_COMMIT = "unit_of_work_after_commit"


def init_app(app: Flask) -> None:
    """Commit or roll back each request's work once, after the view (see the module docstring).

    Registered before every other ``after_request`` handler, so that it runs after all of them
    (Flask calls them in reverse order) and sees the final status.
    """
    app.after_request(_end_request)
    if not event.contains(Session, "after_commit", _run_after_commit):
        event.listen(Session, "after_commit", _run_after_commit)
        event.listen(Session, "after_rollback", _forget_after_commit)


def _end_request(response: Response) -> Response:
    kept = g.pop(_KEEP, False)
    if response.status_code < 400 or kept:
        db.session.commit()
    else:
        db.session.rollback()
    return response


def discard() -> None:
    """Throw away the request's changes so far (a view handling an expected error after partial
    work, answering with a page or a redirect that would otherwise commit it)."""
    db.session.rollback()


def keep() -> None:
    """Commit the request's changes although the response will be an error (4xx).

    Only for error answers that must leave a trace: a failed login attempt counted, a refused
    action recorded in the security trail. Outside a request (a job, a command) it does nothing:
    there the boundary commits on any handled outcome anyway."""
    if has_request_context():
        setattr(g, _KEEP, True)


class _Discarded(Exception):
    """Raised inside ``atomic(keep=False)`` to roll its savepoint back after a successful run."""


@contextmanager
def atomic(*, keep: bool = True) -> Iterator[None]:
    """All of the block's changes or none: a SAVEPOINT inside the current unit of work.

    On an exception the savepoint is rolled back and the exception propagates; what the block noted
    in ``session.info`` for the commit (notifications to plan, e-mails to enqueue, ``after_commit``
    callbacks) is restored to what it was before the block, so a failed item plans no mail. On
    success the savepoint is released, or with ``keep=False`` rolled back the same way (a dry run
    that reports what it would change). SQLAlchemy runs the session's ``before_commit`` and
    ``after_commit`` hooks on a RELEASE and its ``after_rollback`` hooks on a ROLLBACK TO as if the
    whole transaction had ended, so ``session.info`` is set aside around both: the e-mails and
    notifications of the block wait for the real commit, and a failed item does not make the
    earlier items forget theirs. Nests freely; usable as a decorator (``@atomic()``)."""
    session = db.session()
    before = {key: _copy(value) for key, value in session.info.items()}
    try:
        with session.begin_nested():
            yield
            session.flush()  # flush listeners still see the block's notes
            if not keep:
                raise _Discarded
            noted = dict(session.info)
            session.info.clear()
    except _Discarded:
        _restore(session, before)
        return
    except BaseException:
        _restore(session, before)
        raise
    _restore(session, noted)


def _restore(session: Session, info: dict) -> None:
    session.info.clear()
    session.info.update(info)


def after_commit(callback: Callable[[], Any]) -> None:
    """Run ``callback`` once the current unit of work commits (never if it rolls back).

    For effects outside the database that must not happen before the change is durable: deleting
    the file a row no longer points to, dropping a cached copy of what was just changed. Inside a
    failed ``atomic()`` block the callback is forgotten with the block."""
    db.session.info.setdefault(_AFTER_COMMIT, []).append(callback)


def _run_after_commit(session: Session) -> None:
    if session.in_nested_transaction():
        return  # a savepoint released, not the unit committed
    for callback in session.info.pop(_AFTER_COMMIT, ()):
        callback()


def _forget_after_commit(session: Session) -> None:
    if not session.in_nested_transaction():
        session.info.pop(_AFTER_COMMIT, None)


def _copy(value: Any) -> Any:
    """A copy of the containers (not of the ORM objects inside them) of a ``session.info`` value."""
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, set):
        return set(value)
    return value


@contextmanager
def unit() -> Iterator[None]:
    """A block as a unit of work of its own: commit when it ends, roll back if it raises.

    The boundary of a job (``AppJob``) and of code that is its own edge: a test calling a service
    the way a view would, a shell session, a one-off script."""
    try:
        yield
    except BaseException:
        db.session.rollback()
        raise
    db.session.commit()


def command_unit(command: F) -> F:
    """A ``flask`` command as one unit of work: commit when it returns or exits deliberately
    (``sys.exit``, ``ctx.exit``, whatever the code), roll back when it raises anything else
    (an unexpected error, a ``click.ClickException``, Ctrl-C)."""
    import click

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> Any:
        try:
            result = command(*args, **kwargs)
        except (SystemExit, click.exceptions.Exit):
            db.session.commit()
            raise
        except BaseException:
            db.session.rollback()
            raise
        db.session.commit()
        return result

    return run  # type: ignore[return-value]
