"""Market data: the bar cache and the paper account's equity samples.

Revision ID: 0004_marketdata
Revises: 0003_audit_log
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_marketdata"
down_revision = "0003_audit_log"
branch_labels = None
depends_on = None

TIME = sa.String(40)
MONEY = sa.String(64)


def upgrade() -> None:
    op.create_table(
        "bars",
        sa.Column("source", sa.String(40), nullable=False),
        sa.Column("symbol", sa.String(32), nullable=False),
        sa.Column("interval", sa.String(8), nullable=False),
        sa.Column("start", TIME, nullable=False),
        sa.Column("open", MONEY, nullable=False),
        sa.Column("high", MONEY, nullable=False),
        sa.Column("low", MONEY, nullable=False),
        sa.Column("close", MONEY, nullable=False),
        sa.Column("volume", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("source", "symbol", "interval", "start", name="pk_bars"),
    )
    op.create_table(
        "equity_samples",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", TIME, nullable=False),
        sa.Column("cash", MONEY, nullable=False),
        sa.Column("equity", MONEY, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_equity_samples"),
    )
    op.create_index("ix_equity_samples_at", "equity_samples", ["at"])


def downgrade() -> None:
    op.drop_index("ix_equity_samples_at", table_name="equity_samples")
    op.drop_table("equity_samples")
    op.drop_table("bars")
