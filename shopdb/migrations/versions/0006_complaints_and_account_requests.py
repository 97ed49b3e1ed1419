"""complaints as hand-off tickets of their own kind; shoppers' data-rights requests (account deletion)

Revision ID: 0006_account_requests
Revises: 0005_delivery_newsletter
Create Date: 2026-12-10 12:00:00

Existing tickets are hand-offs (``server_default``). A complaint's status ``recorded`` is outside
the open statuses, so the partial unique index of open tickets needs no change.
"""

from alembic import op
import sqlalchemy as sa


revision = "0006_account_requests"
down_revision = "0005_delivery_newsletter"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=20), server_default="handoff", nullable=False))

    op.create_table(
        "data_rights_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("due_at", sa.DateTime(), nullable=False),
        sa.Column("done_at", sa.DateTime(), nullable=True),
        sa.Column("result", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("data_rights_requests", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_data_rights_requests_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_data_rights_requests_status"), ["status"], unique=False)
        batch_op.create_index(
            "uq_data_rights_requests_pending",
            ["customer_id", "kind"],
            unique=True,
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )


def downgrade() -> None:
    with op.batch_alter_table("data_rights_requests", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_data_rights_requests_pending",
            sqlite_where=sa.text("status = 'pending'"),
            postgresql_where=sa.text("status = 'pending'"),
        )
        batch_op.drop_index(batch_op.f("ix_data_rights_requests_status"))
        batch_op.drop_index(batch_op.f("ix_data_rights_requests_customer_id"))
    op.drop_table("data_rights_requests")

    with op.batch_alter_table("handoff_tickets", schema=None) as batch_op:
        batch_op.drop_column("kind")
