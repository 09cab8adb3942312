"""Alembic environment: runs on the connection Tindahan hands it (see ``store.migrate``)."""

from __future__ import annotations

from alembic import context

from tindahan.store import (  # noqa: F401  (registers tables)
    commerce_tables,
    credit_tables,
    lending_tables,
    lesson_tables,
    ops_tables,
    payment_tables,
    payout_tables,
    rails_tables,
    risk_tables,
    ussd_tables,
    web_tables,
)
from tindahan.store.tables import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
