"""Initial schema: settings, paper account, order journal, fills, paper positions.

Revision ID: 0001_initial
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001_initial"
down_revision = None
branch_labels = None
depends_on = None

MONEY = sa.String(64)
TIME = sa.String(40)


def upgrade() -> None:
    op.create_table(
        "app_settings",
        sa.Column("key", sa.String(100), primary_key=True),
        sa.Column("value", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_app_settings"),
    )
    op.create_table(
        "paper_account",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("starting_cash", MONEY, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("reset_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_paper_account"),
    )
    op.create_table(
        "orders",
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False),
        sa.Column("broker", sa.String(20), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("asset_class", sa.String(10), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("order_type", sa.String(12), nullable=False),
        sa.Column("time_in_force", sa.String(8), nullable=False),
        sa.Column("limit_price", MONEY, nullable=True),
        sa.Column("stop_price", MONEY, nullable=True),
        sa.Column("extended_hours", sa.Boolean(), nullable=False),
        sa.Column("position_effect", sa.String(8), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_reason", sa.Text(), nullable=False),
        sa.Column("filled_quantity", MONEY, nullable=False),
        sa.Column("average_fill_price", MONEY, nullable=True),
        sa.Column("broker_order_id", sa.String(64), nullable=True),
        sa.Column("stop_triggered", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("client_order_id", name="pk_orders"),
    )
    op.create_index("ix_orders_mode", "orders", ["mode"])
    op.create_index("ix_orders_symbol", "orders", ["symbol"])
    op.create_index("ix_orders_status", "orders", ["status"])
    op.create_index("ix_orders_created_at", "orders", ["created_at"])
    op.create_table(
        "fills",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("fill_id", sa.String(64), nullable=False),
        sa.Column("client_order_id", sa.String(64), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("side", sa.String(10), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("price", MONEY, nullable=False),
        sa.Column("commission", MONEY, nullable=False),
        sa.Column("filled_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_fills"),
        sa.UniqueConstraint("fill_id", name="uq_fills_fill_id"),
        sa.ForeignKeyConstraint(
            ["client_order_id"], ["orders.client_order_id"], name="fk_fills_client_order_id_orders"
        ),
    )
    op.create_index("ix_fills_client_order_id", "fills", ["client_order_id"])
    op.create_table(
        "paper_positions",
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("asset_class", sa.String(10), nullable=False),
        sa.Column("quantity", MONEY, nullable=False),
        sa.Column("average_cost", MONEY, nullable=False),
        sa.Column("realized_pnl", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("symbol", name="pk_paper_positions"),
    )


def downgrade() -> None:
    op.drop_table("paper_positions")
    op.drop_index("ix_fills_client_order_id", table_name="fills")
    op.drop_table("fills")
    for name in ("ix_orders_created_at", "ix_orders_status", "ix_orders_symbol", "ix_orders_mode"):
        op.drop_index(name, table_name="orders")
    op.drop_table("orders")
    op.drop_table("paper_account")
    op.drop_table("app_settings")
