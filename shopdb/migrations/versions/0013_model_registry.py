"""model registry of the learning loop: trained models, their gate, which one serves, A/B share

Revision ID: 0013_model_registry
Revises: 0012_review_queue
Create Date: 2026-12-04 13:40:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0013_model_registry"
down_revision = "0012_review_queue"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "model_versions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("path", sa.Text(), nullable=True),
        sa.Column("model_id", sa.String(length=64), nullable=True),
        sa.Column("data_hash", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("gate", sa.JSON(), nullable=False),
        sa.Column("ab_share", sa.Float(), nullable=True),
        sa.Column("ab_started_at", sa.DateTime(), nullable=True),
        sa.Column("trained_by", sa.String(length=64), nullable=True),
        sa.Column("trained_at", sa.DateTime(), nullable=False),
        sa.Column("promoted_by", sa.String(length=64), nullable=True),
        sa.Column("promoted_at", sa.DateTime(), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_model_versions_model_id", "model_versions", ["model_id"])
    op.create_index("ix_model_versions_status", "model_versions", ["status"])
    # At most one model serves, whatever two servers or admins do at the same moment.
    serving = sa.text("status = 'serving'")
    op.create_index(
        "uq_model_versions_one_serving",
        "model_versions",
        ["status"],
        unique=True,
        sqlite_where=serving,
        postgresql_where=serving,
    )


def downgrade() -> None:
    op.drop_index("uq_model_versions_one_serving", table_name="model_versions")
    op.drop_index("ix_model_versions_status", table_name="model_versions")
    op.drop_index("ix_model_versions_model_id", table_name="model_versions")
    op.drop_table("model_versions")
