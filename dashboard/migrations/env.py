"""Alembic environment: runs on the connection handed over by storage.py."""

from alembic import context

import dashboard.models  # noqa: F401  (fills the metadata)
from dashboard.extensions import db

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=db.metadata,
    render_as_batch=True,
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
