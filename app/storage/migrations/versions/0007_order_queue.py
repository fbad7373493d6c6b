"""Paper orders' time priority: when a working order last lost its place in the queue (a new price or a larger size).

Revision ID: 0007_order_queue
Revises: 0006_live_orders
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007_order_queue"
down_revision = "0006_live_orders"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE (no table rebuild): NULL means "queued when placed", which every existing order was.
    op.add_column("orders", sa.Column("queued_at", sa.String(40), nullable=True))


def downgrade() -> None:
    op.drop_column("orders", "queued_at")
