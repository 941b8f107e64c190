"""inbound replies held for review

``inbound_messages.hold_reason``: why a reply that claims a request was held (its sender could not
be confirmed), as a code worded when shown; ``reviewed_by_id`` / ``reviewed_at``: the agent who
added it to the request or set it aside, and when.

Revision ID: 7c3d9e1f4a52
Revises: 5a1e7c0d2b90
Create Date: 2026-12-07 22:30:00.000000

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "7c3d9e1f4a52"
down_revision = "5a1e7c0d2b90"
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.add_column(sa.Column("hold_reason", sa.String(length=40), nullable=True))
        batch_op.add_column(sa.Column("reviewed_by_id", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("reviewed_at", sa.DateTime(), nullable=True))
        batch_op.create_foreign_key(
            batch_op.f("fk_inbound_messages_reviewed_by_id_users"),
            "users",
            ["reviewed_by_id"],
            ["id"],
            ondelete="SET NULL",
        )


def downgrade():
    with op.batch_alter_table("inbound_messages", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_inbound_messages_reviewed_by_id_users"), type_="foreignkey")
        batch_op.drop_column("reviewed_at")
        batch_op.drop_column("reviewed_by_id")
        batch_op.drop_column("hold_reason")
