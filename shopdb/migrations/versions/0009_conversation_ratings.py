"""conversation ratings (CSAT): 1 to 5 stars, a comment, with or without a person

Revision ID: 0009_conversation_ratings
Revises: 0008_return_resolution
Create Date: 2026-12-04 04:00:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0009_conversation_ratings"
down_revision = "0008_return_resolution"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "conversation_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("rating", sa.Integer(), nullable=False),
        sa.Column("comment", sa.Text(), nullable=True),
        sa.Column("with_agent", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sender_id"),
    )
    with op.batch_alter_table("conversation_ratings", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_conversation_ratings_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_conversation_ratings_created_at"), ["created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("conversation_ratings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_conversation_ratings_created_at"))
        batch_op.drop_index(batch_op.f("ix_conversation_ratings_customer_id"))
    op.drop_table("conversation_ratings")
