"""stock alerts: a shopper waiting for a product to be back in stock

Revision ID: 0007_stock_alerts
Revises: 0006_account_requests
Create Date: 2026-12-03 18:30:00
"""

from alembic import op
import sqlalchemy as sa


revision = "0007_stock_alerts"
down_revision = "0006_account_requests"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "stock_alerts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("product_id", sa.Integer(), nullable=False),
        sa.Column("sender_id", sa.String(length=128), nullable=False),
        sa.Column("customer_id", sa.String(length=64), nullable=True),
        sa.Column("email", sa.String(length=254), nullable=True),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("notified_at", sa.DateTime(), nullable=True),
        sa.Column("delivery", sa.String(length=40), nullable=True),
        sa.ForeignKeyConstraint(["product_id"], ["products.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("stock_alerts", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_stock_alerts_product_id"), ["product_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_stock_alerts_customer_id"), ["customer_id"], unique=False)
        batch_op.create_index(
            "uq_stock_alerts_waiting",
            ["product_id", "sender_id"],
            unique=True,
            sqlite_where=sa.text("notified_at IS NULL"),
            postgresql_where=sa.text("notified_at IS NULL"),
        )


def downgrade() -> None:
    with op.batch_alter_table("stock_alerts", schema=None) as batch_op:
        batch_op.drop_index(
            "uq_stock_alerts_waiting",
            sqlite_where=sa.text("notified_at IS NULL"),
            postgresql_where=sa.text("notified_at IS NULL"),
        )
        batch_op.drop_index(batch_op.f("ix_stock_alerts_customer_id"))
        batch_op.drop_index(batch_op.f("ix_stock_alerts_product_id"))
    op.drop_table("stock_alerts")
