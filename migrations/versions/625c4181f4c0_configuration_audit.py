"""configuration audit: who changed a tenant's configuration, when, and what changed

Revision ID: 625c4181f4c0
Revises: 2ee33b363ee4
Create Date: 2026-12-01 06:39:48.816660

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "625c4181f4c0"
down_revision = "2ee33b363ee4"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "config_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("actor_name", sa.String(length=320), nullable=False),
        sa.Column("summary", sa.String(length=500), nullable=False),
        sa.Column("changes", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["users.id"], name=op.f("fk_config_changes_actor_id_users"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_config_changes_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_config_changes")),
    )
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.create_index("ix_config_changes_tenant_created", ["tenant_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_config_changes_tenant_id"), ["tenant_id"], unique=False)


def downgrade():
    with op.batch_alter_table("config_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_config_changes_tenant_id"))
        batch_op.drop_index("ix_config_changes_tenant_created")

    op.drop_table("config_changes")
