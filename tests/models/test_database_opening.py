"""Opening databases: upgrades keep data, bad databases give clear messages."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import text

from o2c_desktop.models import Base
from o2c_desktop.models.db import (
    DatabaseError,
    alembic_config,
    current_revision,
    head_revision,
    make_engine,
    open_database,
)

if TYPE_CHECKING:
    from pathlib import Path

FIRST_REVISION = "0001"


def test_migrations_build_exactly_the_schema_the_models_describe(db_url: str) -> None:
    database = open_database(db_url)
    try:
        with database.engine.connect() as conn:
            diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    finally:
        database.dispose()
    assert diff == []


def test_a_database_from_the_first_revision_is_upgraded_and_keeps_its_data(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    command.upgrade(alembic_config(engine), FIRST_REVISION)
    with engine.begin() as conn:
        now = dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=dt.UTC).replace(tzinfo=None)
        conn.execute(
            text(
                "INSERT INTO entity (code, name, currency, country, language, version,"
                " created_at, updated_at) VALUES ('FR01', 'Acme', 'EUR', 'FR', 'fr', 1,"
                " :now, :now)"
            ),
            {"now": now},
        )
    engine.dispose()

    database = open_database(db_url)
    try:
        assert current_revision(database.engine) == head_revision()
        with database.engine.connect() as conn:
            names = conn.execute(text("SELECT code, name FROM entity")).all()
        assert names == [("FR01", "Acme")]
    finally:
        database.dispose()


def test_an_sqlite_database_is_backed_up_before_an_upgrade(tmp_path: Path) -> None:
    path = tmp_path / "book.sqlite3"
    engine = make_engine(f"sqlite:///{path}")
    command.upgrade(alembic_config(engine), FIRST_REVISION)
    engine.dispose()
    if head_revision() == FIRST_REVISION:
        pytest.skip("only one revision exists: nothing to upgrade yet")
    database = open_database(f"sqlite:///{path}")
    database.dispose()
    backups = list(tmp_path.glob("book.backup-*.sqlite3"))
    assert len(backups) == 1
    copy = make_engine(f"sqlite:///{backups[0]}")
    assert current_revision(copy) == FIRST_REVISION
    copy.dispose()


def test_a_database_from_a_newer_app_is_refused_untouched(db_url: str) -> None:
    open_database(db_url).dispose()
    engine = make_engine(db_url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    with pytest.raises(DatabaseError, match="newer version of O2C Desktop"):
        open_database(db_url)
    assert current_revision(engine) == "f00dcafe9999"
    engine.dispose()


def test_a_file_that_is_not_a_database_is_refused_and_left_as_it_was(
    tmp_path: Path,
) -> None:
    path = tmp_path / "notes.sqlite3"
    content = b"Quarterly notes, not a database\n" * 200
    path.write_bytes(content)
    with pytest.raises(DatabaseError, match="is not an O2C Desktop database"):
        open_database(f"sqlite:///{path}")
    assert path.read_bytes() == content


def test_an_unreachable_server_gives_a_clear_message() -> None:
    with pytest.raises(
        DatabaseError, match=r"Cannot reach the database server at 127\.0\.0\.1:9"
    ):
        open_database("postgresql://o2c@127.0.0.1:9/book")


def test_an_unknown_kind_of_database_is_refused() -> None:
    with pytest.raises(DatabaseError, match="Unsupported database 'mysql'"):
        open_database("mysql://root@127.0.0.1/book")
