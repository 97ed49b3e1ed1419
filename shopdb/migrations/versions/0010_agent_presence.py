"""agent presence: online or away, and when the console was last seen

Revision ID: 0010_agent_presence
Revises: 0009_conversation_ratings
Create Date: 2026-12-04 04:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0010_agent_presence"
down_revision = "0009_conversation_ratings"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("presence", sa.String(length=10), server_default="online", nullable=False))
        batch_op.add_column(sa.Column("seen_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("seen_at")
        batch_op.drop_column("presence")
