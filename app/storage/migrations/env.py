"""Alembic environment: migrations always run on a connection handed over by app.storage.database."""

from __future__ import annotations

from alembic import context

from app.storage.schema import Base

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
