"""Live orders in the journal: the account (last 4) an order belongs to and whether it was placed outside the app.

Revision ID: 0006_live_orders
Revises: 0005_order_events
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_live_orders"
down_revision = "0005_order_events"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no table rebuild): existing rows, indexes and their order stay as they are.
    op.add_column("orders", sa.Column("account_last4", sa.String(4), nullable=False, server_default=""))
    op.add_column("orders", sa.Column("external", sa.Boolean(), nullable=False, server_default=sa.false()))
    op.create_index("ix_orders_broker_order_id", "orders", ["broker_order_id"])


def downgrade() -> None:
    op.drop_index("ix_orders_broker_order_id", table_name="orders")
    op.drop_column("orders", "external")
    op.drop_column("orders", "account_last4")
