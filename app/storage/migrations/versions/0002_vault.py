"""Credential vault: vault_meta, vault_keys and broker connections with encrypted credentials.

Revision ID: 0002_vault
Revises: 0001_initial
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_vault"
down_revision = "0001_initial"
branch_labels = None
depends_on = None

TIME = sa.String(40)
KEY_ID = sa.String(32)


def upgrade() -> None:
    op.create_table(
        "vault_meta",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("mode", sa.String(12), nullable=False),
        sa.Column("active_key_id", KEY_ID, nullable=False),
        sa.Column("pending_key_id", KEY_ID, nullable=True),
        sa.Column("retiring_key_id", KEY_ID, nullable=True),
        sa.Column("rotation_state", sa.String(12), nullable=False),
        sa.Column("kdf_name", sa.String(16), nullable=True),
        sa.Column("kdf_salt", sa.LargeBinary(), nullable=True),
        sa.Column("kdf_n", sa.Integer(), nullable=True),
        sa.Column("kdf_r", sa.Integer(), nullable=True),
        sa.Column("kdf_p", sa.Integer(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("rotated_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_vault_meta"),
        sa.CheckConstraint("id = 1", name="ck_vault_meta_single_row"),
        sa.CheckConstraint("mode IN ('keyring', 'passphrase')", name="ck_vault_meta_mode"),
        sa.CheckConstraint(
            "rotation_state IN ('idle', 'reencrypting', 'retiring')", name="ck_vault_meta_rotation_state"
        ),
    )
    op.create_table(
        "vault_keys",
        sa.Column("key_id", KEY_ID, nullable=False),
        sa.Column("check_token", sa.LargeBinary(), nullable=False),
        sa.Column("wrapped_key", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.PrimaryKeyConstraint("key_id", name="pk_vault_keys"),
    )
    op.create_table(
        "connections",
        sa.Column("id", sa.String(32), nullable=False),
        sa.Column("broker", sa.String(20), nullable=False),
        sa.Column("environment", sa.String(8), nullable=False),
        sa.Column("label", sa.String(100), nullable=False),
        sa.Column("account_last4", sa.String(4), nullable=True),
        sa.Column("account_type", sa.String(20), nullable=True),
        sa.Column("base_url_override", sa.Text(), nullable=True),
        sa.Column("credential_fields", sa.Text(), nullable=False),
        sa.Column("credentials_key_id", KEY_ID, nullable=True),
        sa.Column("credentials", sa.LargeBinary(), nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("updated_at", TIME, nullable=False),
        sa.Column("verified_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_connections"),
        sa.CheckConstraint("environment IN ('paper', 'live')", name="ck_connections_environment"),
    )
    op.create_index("ix_connections_broker", "connections", ["broker"])
    op.create_index("ix_connections_credentials_key_id", "connections", ["credentials_key_id"])


def downgrade() -> None:
    op.drop_index("ix_connections_credentials_key_id", table_name="connections")
    op.drop_index("ix_connections_broker", table_name="connections")
    op.drop_table("connections")
    op.drop_table("vault_keys")
    op.drop_table("vault_meta")
