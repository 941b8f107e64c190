"""Automatic tenant scoping of every ORM query.

The current tenant lives in a context variable, set by the web request (from the Host header),
by the job wrapper (from the job's payload) or by a CLI command. Every ORM SELECT, UPDATE and
DELETE that touches a tenant-owned model gets ``tenant_id = <current>`` added; with no tenant in
scope such a query is refused. Code that must reach across tenants (operator console, CLI,
maintenance) says so with ``with all_tenants():`` -- grep for it.

INSERTs are guarded in ``before_flush``: a new tenant-owned row gets the current tenant, and a
row for another tenant is refused. A scope that ends normally flushes what was written in it, while it
is still current: the unit of work (``app.unit_of_work``) may commit after the scope has ended (a
command, a job reaching across tenants), where the guard would refuse those rows.
"""

from __future__ import annotations

from contextlib import contextmanager
from contextvars import ContextVar, Token

from sqlalchemy import ForeignKey, event
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, declared_attr, mapped_column, with_loader_criteria

_current_tenant_id: ContextVar[int | None] = ContextVar("current_tenant_id", default=None)
_all_tenants: ContextVar[bool] = ContextVar("all_tenants", default=False)


class TenantScopeError(RuntimeError):
    """A tenant-owned model was queried or written outside of (or across) a tenant scope."""


class TenantScoped:
    """Mixin for every tenant-owned table: a ``tenant_id`` column, scoped automatically."""

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        return mapped_column(ForeignKey("tenants.id", ondelete="CASCADE"), index=True, nullable=False)


def current_tenant_id() -> int | None:
    return _current_tenant_id.get()


def activate(tenant_id: int | None) -> Token:
    """Enter a tenant scope; return a token for :func:`deactivate`."""
    return _current_tenant_id.set(tenant_id)


def deactivate(token: Token) -> None:
    _current_tenant_id.reset(token)


@contextmanager
def tenant_scope(tenant_id: int):
    token = activate(tenant_id)
    try:
        yield tenant_id
        _flush_in_scope()
    finally:
        deactivate(token)


@contextmanager
def all_tenants():
    """Explicitly reach across tenants (operator console, CLI). Queries are not filtered."""
    token = _all_tenants.set(True)
    try:
        yield
        _flush_in_scope()
    finally:
        _all_tenants.reset(token)


def _flush_in_scope() -> None:
    """Write the session's pending changes under the scope that made them (see the module docstring)."""
    from flask import has_app_context

    from app.extensions import db

    if has_app_context():
        session = db.session()
        if session.new or session.dirty or session.deleted:
            session.flush()


def _touches_tenant_data(state: ORMExecuteState) -> bool:
    mappers = state.all_mappers if state.is_select else [state.bind_mapper]
    return any(m is not None and issubclass(m.class_, TenantScoped) for m in mappers)


def _scope_statement(state: ORMExecuteState) -> None:
    if _all_tenants.get():
        return
    if not (state.is_select or state.is_update or state.is_delete):
        return
    if state.is_column_load or state.is_relationship_load:
        # The criteria of the statement that loaded the parent propagate to these loads.
        return
    tenant_id = _current_tenant_id.get()
    if tenant_id is None:
        if _touches_tenant_data(state):
            raise TenantScopeError(
                "tenant-owned data queried with no tenant in scope; use tenant_scope() or all_tenants()"
            )
        return
    state.statement = state.statement.options(
        with_loader_criteria(TenantScoped, lambda cls: cls.tenant_id == tenant_id, include_aliases=True)
    )


def _guard_flush(session: Session, flush_context, instances) -> None:
    if _all_tenants.get():
        for obj in session.new:
            if isinstance(obj, TenantScoped) and obj.tenant_id is None:
                raise TenantScopeError(f"{type(obj).__name__} needs an explicit tenant_id across tenants")
        return
    tenant_id = _current_tenant_id.get()
    for obj in list(session.new) + list(session.dirty) + list(session.deleted):
        if not isinstance(obj, TenantScoped):
            continue
        if tenant_id is None:
            raise TenantScopeError(f"{type(obj).__name__} written with no tenant in scope")
        owner: int | None = obj.tenant_id  # None on a new row until this guard fills it in
        if obj in session.new and owner is None:
            obj.tenant_id = tenant_id
        elif owner != tenant_id:
            raise TenantScopeError(f"{type(obj).__name__} of tenant {owner} written in the scope of tenant {tenant_id}")


def install_scoping() -> None:
    """Register the hooks on every SQLAlchemy session (idempotent)."""
    if not event.contains(Session, "do_orm_execute", _scope_statement):
        event.listen(Session, "do_orm_execute", _scope_statement)
        event.listen(Session, "before_flush", _guard_flush)
