"""config change summary as data: worded in the reader's language when shown

``config_changes.summary`` becomes JSON (``{"what": "status", "key": "x"}``, see
``app.admin.summaries``). Every existing row keeps its text as a JSON string, which the Audit page
shows as it is.

Revision ID: 3242eee68a3d
Revises: e97f1d66459b
Create Date: 2026-12-01 09:03:45.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "3242eee68a3d"
down_revision = "e97f1d66459b"
branch_labels = None
depends_on = None


def upgrade():
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column(
            "config_changes",
            "summary",
            type_=sa.JSON(),
            existing_type=sa.String(length=500),
            existing_nullable=False,
            postgresql_using="to_json(summary)",
        )
        return
    # SQLite: quote each text as a JSON string while the column is still text, then change its type
    # (batch mode copies the rows into the rebuilt table).
    op.execute("UPDATE config_changes SET summary = json_quote(summary)")
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.alter_column("summary", type_=sa.JSON(), existing_type=sa.String(length=500), existing_nullable=False)


def downgrade():
    # Back to text: a JSON string becomes its text again, a structured summary its JSON text.
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        op.alter_column(
            "config_changes",
            "summary",
            type_=sa.String(length=500),
            existing_type=sa.JSON(),
            existing_nullable=False,
            postgresql_using="left(summary #>> '{}', 500)",
        )
        return
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.alter_column("summary", type_=sa.String(length=500), existing_type=sa.JSON(), existing_nullable=False)
    op.execute("UPDATE config_changes SET summary = json_extract(summary, '$') WHERE json_type(summary) = 'text'")
