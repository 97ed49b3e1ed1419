"""agent routing: agents' skills, capacity and last routing; each hand-off's skill queue

Revision ID: 0011_agent_routing
Revises: 0010_agent_presence
Create Date: 2026-12-04 11:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0011_agent_routing"
down_revision = "0010_agent_presence"
branch_labels = None
depends_on = None

EVERY_SKILL = '["orders", "returns", "products", "general"]'


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        # Agents created before routing answer everything, as they did.
        batch_op.add_column(sa.Column("skills", sa.JSON(), server_default=sa.text(f"'{EVERY_SKILL}'"), nullable=False))
        batch_op.add_column(sa.Column("capacity", sa.Integer(), server_default="3", nullable=False))
        batch_op.add_column(sa.Column("routed_at", sa.DateTime(), nullable=True))
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("skill", sa.String(length=20), server_default="general", nullable=False))
        batch_op.create_index("ix_handoff_tickets_skill_status", ["skill", "status"])


def downgrade() -> None:
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_index("ix_handoff_tickets_skill_status")
        batch_op.drop_column("skill")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("routed_at")
        batch_op.drop_column("capacity")
        batch_op.drop_column("skills")
