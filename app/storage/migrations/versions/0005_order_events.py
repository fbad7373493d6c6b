"""Order events: every status change of an order (fills, broker ids, reasons, modifications) as it happened.

Revision ID: 0005_order_events
Revises: 0004_marketdata
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_order_events"
down_revision = "0004_marketdata"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "order_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("quantity", sa.String(64), nullable=False),
        sa.Column("limit_price", sa.String(64), nullable=True),
        sa.Column("stop_price", sa.String(64), nullable=True),
        sa.Column("filled_quantity", sa.String(64), nullable=False),
        sa.Column("average_fill_price", sa.String(64), nullable=True),
        sa.Column("broker_order_id", sa.String(64), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["client_order_id"], ["orders.client_order_id"], name=op.f("fk_order_events_client_order_id_orders")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_order_events")),
    )
    op.create_index(op.f("ix_order_events_client_order_id"), "order_events", ["client_order_id"])


def downgrade() -> None:
    op.drop_index(op.f("ix_order_events_client_order_id"), table_name="order_events")
    op.drop_table("order_events")
