"""sla clocks: first response and due moments on tickets, SLA policies, time-rule firings, the sweep's index

Revision ID: 2ee33b363ee4
Revises: 9f5f274c301c
Create Date: 2026-12-01 06:24:42.838454

"""

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = "2ee33b363ee4"
down_revision = "9f5f274c301c"
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        "sla_policies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("definition", sa.JSON(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_sla_policies_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sla_policies")),
        sa.UniqueConstraint("tenant_id", name=op.f("uq_sla_policies_tenant_id")),
    )
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sla_policies_tenant_id"), ["tenant_id"], unique=False)

    op.create_table(
        "automation_firings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("rule_id", sa.Integer(), nullable=False),
        sa.Column("ticket_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", sa.DateTime(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("tenant_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["rule_id"],
            ["automation_rules.id"],
            name=op.f("fk_automation_firings_rule_id_automation_rules"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["tenant_id"], ["tenants.id"], name=op.f("fk_automation_firings_tenant_id_tenants"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["ticket_id"], ["tickets.id"], name=op.f("fk_automation_firings_ticket_id_tickets"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_automation_firings")),
        sa.UniqueConstraint(
            "tenant_id",
            "rule_id",
            "ticket_id",
            "entered_at",
            name=op.f("uq_automation_firings_tenant_id_rule_id_ticket_id_entered_at"),
        ),
    )
    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_automation_firings_tenant_id"), ["tenant_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_automation_firings_ticket_id"), ["ticket_id"], unique=False)

    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("first_response_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_response_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_resolution_due_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_paused_at", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("sla_paused_seconds", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index(
            "ix_tickets_tenant_status_changed", ["tenant_id", "status_id", "status_changed_at"], unique=False
        )


def downgrade():
    with op.batch_alter_table("tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_tickets_tenant_status_changed")
        batch_op.drop_column("sla_paused_seconds")
        batch_op.drop_column("sla_paused_at")
        batch_op.drop_column("sla_resolution_due_at")
        batch_op.drop_column("sla_response_due_at")
        batch_op.drop_column("first_response_at")

    with op.batch_alter_table("automation_firings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_automation_firings_ticket_id"))
        batch_op.drop_index(batch_op.f("ix_automation_firings_tenant_id"))

    op.drop_table("automation_firings")
    with op.batch_alter_table("sla_policies", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sla_policies_tenant_id"))

    op.drop_table("sla_policies")
