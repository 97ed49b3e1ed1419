"""a return's resolution: a refund, or a replacement of the item

Revision ID: 0008_return_resolution
Revises: 0007_stock_alerts
Create Date: 2026-12-03 18:40:00

Existing returns were all refunds (``server_default``).
"""

from alembic import op
import sqlalchemy as sa


revision = "0008_return_resolution"
down_revision = "0007_stock_alerts"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("resolution", sa.String(length=20), server_default="refund", nullable=False))


def downgrade() -> None:
    with op.batch_alter_table("returns", schema=None) as batch_op:
        batch_op.drop_column("resolution")
