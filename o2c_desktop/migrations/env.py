"""Alembic environment: runs migrations on the engine the app hands over."""

from __future__ import annotations

from alembic import context
from sqlalchemy import create_engine

from o2c_desktop.models import Base

config = context.config
engine = config.attributes.get("engine")
if engine is None:  # `alembic` command line, for developers writing a migration
    engine = create_engine(config.get_main_option("sqlalchemy.url") or "sqlite://")

with engine.begin() as connection:
    context.configure(
        connection=connection,
        target_metadata=Base.metadata,
        render_as_batch=True,  # SQLite can't ALTER most things; batch copies the table
        compare_type=True,
    )
    context.run_migrations()
