"""insights: shopper profiles, analytics facts, consumer cursors (tables of shopdb/models/insights.py)

Revision ID: 0003_insights
Revises: 0001_knowledge
Create Date: 2026-11-23 22:40:00

A sibling of 0002_web (both start from the knowledge schema), so the chain has
two heads: migrate with ``alembic upgrade heads``.
"""

from alembic import op
import sqlalchemy as sa


revision = "0003_insights"
down_revision = "0001_knowledge"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "insight_profiles",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("scope", sa.String(length=10), nullable=False),
        sa.Column("subject", sa.String(length=255), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("stage", sa.String(length=20), nullable=False),
        sa.Column("goal", sa.String(length=200), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("last_event_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("scope", "subject", name="uq_insight_profiles_scope_subject"),
    )
    with op.batch_alter_table("insight_profiles", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insight_profiles_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_insight_profiles_stage"), ["stage"], unique=False)
        batch_op.create_index(batch_op.f("ix_insight_profiles_updated_at"), ["updated_at"], unique=False)

    op.create_table(
        "insight_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("sender_id", sa.String(length=255), nullable=False),
        sa.Column("conversation", sa.Integer(), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("confidence", sa.Float(), nullable=True),
        sa.Column("text", sa.Text(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("insight_facts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_insight_facts_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_insight_facts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_insight_facts_sender_id"), ["sender_id"], unique=False)
        batch_op.create_index("ix_insight_facts_kind_at", ["kind", "at"], unique=False)

    op.create_table(
        "insight_cursors",
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("last_id", sa.BigInteger(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("insight_cursors")
    with op.batch_alter_table("insight_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_insight_facts_kind_at")
        batch_op.drop_index(batch_op.f("ix_insight_facts_sender_id"))
        batch_op.drop_index(batch_op.f("ix_insight_facts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_insight_facts_at"))
    op.drop_table("insight_facts")
    with op.batch_alter_table("insight_profiles", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_insight_profiles_updated_at"))
        batch_op.drop_index(batch_op.f("ix_insight_profiles_stage"))
        batch_op.drop_index(batch_op.f("ix_insight_profiles_customer_id"))
    op.drop_table("insight_profiles")
