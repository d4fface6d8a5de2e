"""Alembic's environment: migrations run on the connection the gateway hands over
(`Store.migrate`), inside its transaction; there is no offline mode."""

from __future__ import annotations

from alembic import context

from gateway.store.tables import metadata

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `contact-gateway migrate` (Store.migrate)")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
