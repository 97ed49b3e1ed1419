"""review queue of the learning loop, and which agents review it

Revision ID: 0012_review_queue
Revises: 0011_agent_routing
Create Date: 2026-12-04 11:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0012_review_queue"
down_revision = "0011_agent_routing"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.add_column(sa.Column("can_review", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "review_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("predicted_intent", sa.String(length=100), nullable=True),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("ranking", sa.JSON(), nullable=False),
        sa.Column("sources", sa.JSON(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("intent", sa.String(length=100), nullable=True),
        sa.Column("entities", sa.JSON(), nullable=False),
        sa.Column("reviewer", sa.String(length=64), nullable=True),
        sa.Column("reviewed_at", sa.DateTime(), nullable=True),
        sa.Column("said_at", sa.DateTime(), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id", "event_id", name="uq_review_items_message"),
    )
    op.create_index("ix_review_items_sender_id", "review_items", ["sender_id"])
    op.create_index("ix_review_items_status_created", "review_items", ["status", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_review_items_status_created", table_name="review_items")
    op.drop_index("ix_review_items_sender_id", table_name="review_items")
    op.drop_table("review_items")
    with op.batch_alter_table("agents", schema=None) as batch_op:
        batch_op.drop_column("can_review")
