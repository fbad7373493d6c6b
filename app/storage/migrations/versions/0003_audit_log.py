"""Audit log: an append-only table of safety-relevant events; triggers refuse UPDATE and DELETE.

Revision ID: 0003_audit_log
Revises: 0002_vault
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003_audit_log"
down_revision = "0002_vault"
branch_labels = None
depends_on = None

TRIGGERS = {
    "audit_log_no_update": "UPDATE",
    "audit_log_no_delete": "DELETE",
}


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.Integer(), nullable=False, autoincrement=True),
        sa.Column("at", sa.String(40), nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(10), nullable=False, server_default=""),
        sa.Column("broker", sa.String(20), nullable=False, server_default=""),
        sa.Column("account_last4", sa.String(4), nullable=False, server_default=""),
        sa.Column("summary", sa.Text(), nullable=False, server_default=""),
        sa.PrimaryKeyConstraint("id", name="pk_audit_log"),
    )
    op.create_index("ix_audit_log_at", "audit_log", ["at"])
    op.create_index("ix_audit_log_kind", "audit_log", ["kind"])
    for name, action in TRIGGERS.items():
        op.execute(
            f"CREATE TRIGGER {name} BEFORE {action} ON audit_log "
            "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END"
        )


def downgrade() -> None:
    for name in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {name}")
    op.drop_index("ix_audit_log_kind", table_name="audit_log")
    op.drop_index("ix_audit_log_at", table_name="audit_log")
    op.drop_table("audit_log")
