"""The Alembic migrations build exactly the schema the models describe, on SQLite and PostgreSQL."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect

from app.extensions import db
from app.helpcenter.search import include_object


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
