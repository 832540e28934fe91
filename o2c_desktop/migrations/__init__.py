"""Alembic migrations of the schema, applied by `o2c db upgrade` and on open."""
