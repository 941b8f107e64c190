"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
keep the data they convert."""

import json
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db
from app.helpcenter.search import include_object

# Migrations on both engines; the schema is read through the engine itself, outside any test transaction.
pytestmark = [pytest.mark.both_databases, pytest.mark.real_commits]


def test_migrations_match_the_models(app):
    with app.app_context(), db.engine.connect() as conn:
        # The help center's full-text index is raw SQL in its migration, not in the models (an FTS5
        # table on SQLite, a tsvector column on PostgreSQL): compared with the same filter that
        # migrations/env.py gives autogenerate, so that only those named objects are skipped.
        context = MigrationContext.configure(conn, opts={"compare_type": True, "include_object": include_object})
        assert compare_metadata(context, db.metadata) == []


# Indexes that serve platform-wide sweeps (jobs that look at every tenant at once) on purpose.
PLATFORM_WIDE_INDEXES = {"ix_outbox_messages_status_next_attempt", "ix_notifications_status_due"}


def test_tenant_owned_tables_lead_their_composite_indexes_with_tenant_id(app):
    with app.app_context():
        inspector = inspect(db.engine)
        for table in db.metadata.sorted_tables:
            if "tenant_id" not in table.c or table.name == "tenants":
                continue
            for index in inspector.get_indexes(table.name):
                columns = index["column_names"]
                if len(columns) > 1 and index["name"].startswith("ix_") and index["name"] not in PLATFORM_WIDE_INDEXES:
                    assert columns[0] == "tenant_id", (table.name, index["name"], columns)


# --- data kept by migrations ----------------------------------------------------------------------

BEFORE_SUMMARIES_AS_DATA = "e97f1d66459b"


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_database_url(request, tmp_path):
    """An empty database of its own (the shared test databases stay at the head revision)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrations.sqlite3'}"
        return
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    url = make_url(request.getfixturevalue("postgres_url").replace("postgresql://", "postgresql+psycopg://", 1))
    name = f"portal_migrations_{uuid.uuid4().hex[:8]}"
    server = create_engine(url, isolation_level="AUTOCOMMIT")
    with server.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with server.connect() as conn:
        conn.execute(text(f'DROP DATABASE "{name}" WITH (FORCE)'))
    server.dispose()


def test_audit_summaries_written_as_text_before_they_were_data_still_read_as_written(fresh_database_url, redis_server):
    """Upgrading keeps each old summary's text (shown as it is); downgrading gives the text back."""
    from flask_migrate import downgrade, upgrade
    from sqlalchemy import select, text

    from app import create_app
    from app.admin.models import ConfigChange
    from app.admin.summaries import summary_of
    from app.db_types import utcnow
    from app.tenancy.definition import load_definition
    from app.tenancy.scoping import tenant_scope
    from app.tenancy.services import apply_definition
    from tests.conftest import TENANTS_DIR, _config

    legacy = "stav 'čeká' – uloženo"  # a Czech admin's words, as the console stored them
    app = create_app(_config(fresh_database_url, REDIS_URL=redis_server.connection_url))
    with app.app_context():
        upgrade(revision=BEFORE_SUMMARIES_AS_DATA)
        apply_definition(load_definition(TENANTS_DIR / "exea"))
        tenant_id = db.session.execute(text("SELECT id FROM tenants WHERE slug = 'exea'")).scalar_one()
        db.session.execute(
            text(
                "INSERT INTO config_changes (tenant_id, actor_name, summary, changes, created_at) "
                "VALUES (:tenant, 'cli', :summary, '[]', :at)"
            ),
            {"tenant": tenant_id, "summary": legacy, "at": utcnow().replace(tzinfo=None)},
        )
        db.session.commit()

        upgrade()
        with tenant_scope(tenant_id):
            assert db.session.scalars(select(ConfigChange.summary)).all() == [legacy]
            db.session.add(
                ConfigChange(tenant_id=tenant_id, actor_name="cli", summary=summary_of("branding"), changes=[])
            )
            db.session.commit()
            assert db.session.scalars(select(ConfigChange.summary).order_by(ConfigChange.id)).all() == [
                legacy,
                {"what": "branding"},
            ]
        db.session.remove()

        downgrade(revision=BEFORE_SUMMARIES_AS_DATA)
        texts = db.session.execute(text("SELECT summary FROM config_changes ORDER BY id")).scalars().all()
        assert texts[0] == legacy and json.loads(texts[1]) == {"what": "branding"}
        db.session.remove()
        db.engine.dispose()
