"""Flask extensions, created unbound; create_app() binds them."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flask_limiter import Limiter
from flask_login import LoginManager
from flask_migrate import Migrate
from flask_sqlalchemy import SQLAlchemy
from flask_wtf import CSRFProtect
from sqlalchemy import MetaData, event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase

# Constraint names are needed by Alembic's batch mode on SQLite and keep migrations stable.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_N_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


db = SQLAlchemy(model_class=Base)

# The base class of every model. It is ``db.Model``; mypy cannot take a base class from an attribute,
# so to it a model is a declarative class with Flask-SQLAlchemy's additions.
if TYPE_CHECKING:
    from flask_sqlalchemy.model import Model as _FlaskModel

    class Model(_FlaskModel, Base):
        __abstract__ = True
else:
    Model = db.Model

migrate = Migrate()
login_manager = LoginManager()
csrf = CSRFProtect()
# Rate limits (app.accounts.ratelimit): no default limits, only the routes and services that ask.
# Storage: RATELIMIT_STORAGE_URI (REDIS_URL, set in create_app); in memory while it is down.
limiter = Limiter(key_func=lambda: "", in_memory_fallback_enabled=True)


@event.listens_for(Engine, "connect")
def _sqlite_pragmas(dbapi_connection, connection_record):
    """SQLite: enforce foreign keys, and use WAL so that readers never wait for a writer."""
    import sqlite3

    if isinstance(dbapi_connection, sqlite3.Connection):
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()


@event.listens_for(Engine, "savepoint")
def _sqlite_begin_before_savepoint(conn, name):
    """SQLite: open the real transaction before the first SAVEPOINT (``app.unit_of_work.atomic``).

    pysqlite begins its transaction lazily, before the first INSERT/UPDATE/DELETE. A SAVEPOINT sent
    before that opens the transaction itself, and its RELEASE then commits everything so far, which
    a later rollback of the request can no longer undo. ``BEGIN IMMEDIATE`` takes the write lock
    now (waiting up to the connection's timeout), as the write the savepoint guards would anyway.
    """
    import sqlite3

    dbapi_connection = conn.connection.dbapi_connection
    if isinstance(dbapi_connection, sqlite3.Connection) and not dbapi_connection.in_transaction:
        dbapi_connection.execute("BEGIN IMMEDIATE")
