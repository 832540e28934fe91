"""Alembic environment: runs migrations on the connection the app hands over.

`models.db.upgrade` passes a connection already in its one transaction (see
`models.db.migration_connection`); given only an engine (tests, developers'
`alembic` command line) this opens such a connection itself.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from alembic import context
from sqlalchemy import create_engine

from o2c_desktop.models import Base
from o2c_desktop.models.db import migration_connection

if TYPE_CHECKING:
    from sqlalchemy import Connection

config = context.config


def run(connection: Connection) -> None:
    """Run the pending migrations inside the caller's transaction."""
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can't ALTER most things; batch copies the table
        compare_type=True,
        # One transaction for the whole upgrade: a failure leaves no step half-done.
        transaction_per_migration=False,
        on_version_apply=config.attributes.get("on_version_apply"),
    )
    context.run_migrations()


given = config.attributes.get("connection")
if given is not None:
    run(given)
else:
    engine = config.attributes.get("engine")
    if engine is None:  # `alembic` command line, for developers writing a migration
        engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")
    with migration_connection(engine) as connection:
        run(connection)
