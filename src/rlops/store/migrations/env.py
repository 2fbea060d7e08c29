"""Alembic environment: runs on the connection rlops passes in ``config.attributes``."""

from alembic import context

from rlops.store.engine import VERSION_TABLE
from rlops.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True,
                  version_table=VERSION_TABLE)
with context.begin_transaction():
    context.run_migrations()
