"""delivery options per destination country; the customer's newsletter consent and when it changed

Revision ID: 0005_delivery_newsletter
Revises: 0004_rate_counters
Create Date: 2026-12-10 09:00:00

Existing customers start unsubscribed (``server_default`` false): consent is never assumed.
"""

from alembic import op
import sqlalchemy as sa


revision = "0005_delivery_newsletter"
down_revision = "0004_rate_counters"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_options",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("country", sa.String(length=2), nullable=False),
        sa.Column("method", sa.String(length=30), nullable=False),
        sa.Column("min_days", sa.Integer(), nullable=False),
        sa.Column("max_days", sa.Integer(), nullable=False),
        sa.Column("price", sa.Numeric(precision=10, scale=2), nullable=False),
        sa.Column("currency", sa.String(length=3), nullable=False),
        sa.Column("free_from", sa.Numeric(precision=10, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("country", "method", name="uq_delivery_options_country_method"),
    )
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("newsletter", sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column("newsletter_changed_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("customers", schema=None) as batch_op:
        batch_op.drop_column("newsletter_changed_at")
        batch_op.drop_column("newsletter")
    op.drop_table("delivery_options")
