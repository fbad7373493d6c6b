"""Orders table indexes: one page of the journal, newest first or by symbol or status, read without sorting it all.

Revision ID: 0008_order_table_indexes
Revises: 0007_order_queue
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008_order_table_indexes"
down_revision = "0007_order_queue"
branch_labels = None
depends_on = None

#: Each index holds the table's whole order (sort column, then newest first, then id) under the mode
#: filter, so SQLite walks it and stops after one page instead of sorting every row of the journal.
INDEXES = {
    "ix_orders_mode_created_page": ("mode",),
    "ix_orders_mode_symbol_page": ("mode", "symbol"),
    "ix_orders_mode_status_page": ("mode", "status"),
}


def upgrade() -> None:
    for name, leading in INDEXES.items():
        op.create_index(name, "orders", [*leading, sa.text("created_at DESC"), "client_order_id"])


def downgrade() -> None:
    for name in INDEXES:
        op.drop_index(name, table_name="orders")
