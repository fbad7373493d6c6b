"""Broker accounts' equity samples: the balances read while connected, for the curve of a broker without a history.

Revision ID: 0009_broker_equity_samples
Revises: 0008_order_table_indexes
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009_broker_equity_samples"
down_revision = "0008_order_table_indexes"
branch_labels = None
depends_on = None

TIME = sa.String(40)
MONEY = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "broker_equity_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("account_key", sa.String(64), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_broker_equity_samples"),
    )
    op.create_index("ix_broker_equity_samples_account_at", "broker_equity_samples", ["account_key", "at"])


def downgrade() -> None:
    op.drop_index("ix_broker_equity_samples_account_at", table_name="broker_equity_samples")
    op.drop_table("broker_equity_samples")
