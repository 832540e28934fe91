"""Upgrades from every past schema keep the book, and a kill or a failure loses nothing.

Issue 14 §2 and §6: a book from schema 0001 or 0002 failed to upgrade
(`FOREIGN KEY constraint failed [SQL: DROP TABLE case_file]`) and each step
committed on its own, so a kill left it half-changed and unopenable. The books
here are a small demo book written at head by `services.demo`, then taken down
to each past revision with its data (the downgrades keep the rows of the tables
that existed then). Every revision Alembic knows is covered, so a new migration
is tested without touching this file.
"""

from __future__ import annotations

import datetime as dt
import shutil
import signal
import sqlite3
import subprocess
import sys
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, make_url, text

from o2c_desktop.cli import main
from o2c_desktop.models.db import (
    KEEP_BACKUPS,
    DatabaseError,
    alembic_config,
    backup_sqlite,
    backups_of,
    current_revision,
    head_revision,
    make_engine,
    open_database,
)
from o2c_desktop.services.demo import build_demo
from tests.conftest import PG_URL, pg_schema_url, require_pg

if TYPE_CHECKING:
    from collections.abc import Iterator


ROOT = Path(__file__).resolve().parents[2]
REVISIONS = [
    r.revision
    for r in reversed(
        list(ScriptDirectory.from_config(alembic_config()).walk_revisions())
    )
]
# Every schema an older app may have left: empty, then each revision but head.
STARTS: list[str | None] = [None, *REVISIONS[:-1]]
STEP_AFTER = dict(zip(STARTS, REVISIONS, strict=True))

Rows = dict[str, list[tuple[Any, ...]]]


@dataclass(frozen=True)
class Book:
    """A demo book at head: where it is and what a collector relies on in it."""

    url: str
    facts: dict[str, Any]


def facts(engine: Engine) -> dict[str, Any]:
    """Counts, amounts and one customer's items, read with plain SQL."""
    with engine.connect() as conn:
        ref = conn.scalar(
            text(
                "SELECT c.reference FROM customer c JOIN item i ON i.customer_id = c.id"
                " GROUP BY c.reference ORDER BY count(*) DESC, c.reference LIMIT 1"
            )
        )
        return {
            "customers": conn.scalar(text("SELECT count(*) FROM customer")),
            "items": conn.scalar(text("SELECT count(*) FROM item")),
            "amounts": conn.execute(
                text("SELECT sum(amount), sum(remaining) FROM item")
            ).one(),
            "cases": conn.scalar(text("SELECT count(*) FROM case_file")),
            "actions": conn.scalar(text("SELECT count(*) FROM action")),
            "customer_items": conn.execute(
                text(
                    "SELECT i.number, i.amount, i.remaining, i.due_date FROM item i"
                    " JOIN customer c ON c.id = i.customer_id WHERE c.reference = :r"
                    " ORDER BY i.number, i.instalment"
                ),
                {"r": ref},
            ).all(),
        }


def snapshot(engine: Engine, columns: dict[str, list[str]] | None = None) -> Rows:
    """Every row of every table (or of the given columns), in primary-key order."""
    with engine.connect() as conn:
        found = inspect(conn)
        if columns is None:
            columns = {
                t: [c["name"] for c in found.get_columns(t)]
                for t in found.get_table_names()
                if t != "alembic_version"
            }
        rows = {}
        q = '"'
        for table, names in columns.items():
            key = found.get_pk_constraint(table)["constrained_columns"] or names
            rows[table] = [
                tuple(row)
                for row in conn.execute(
                    text(
                        # Quoted: import_batch has a column named "full".
                        f"SELECT {', '.join(f'{q}{n}{q}' for n in names)} FROM {table}"
                        f" ORDER BY {', '.join(f'{q}{n}{q}' for n in key)}"
                    )
                )
            ]
    return rows


def columns_of(rows: Rows, engine: Engine) -> dict[str, list[str]]:
    with engine.connect() as conn:
        found = inspect(conn)
        return {t: [c["name"] for c in found.get_columns(t)] for t in rows}


def integrity(engine: Engine) -> tuple[list[str], list[Any]]:
    with engine.connect() as conn:
        checked = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
        dangling = list(conn.exec_driver_sql("PRAGMA foreign_key_check"))
    return checked, dangling


def build_book(url: str) -> dict[str, Any]:
    database = open_database(url)
    try:
        build_demo(database, customers=30, items=600, today=dt.date(2026, 11, 30))
        return facts(database.engine)
    finally:
        database.dispose()


@pytest.fixture(scope="session")
def sqlite_head_book(tmp_path_factory: pytest.TempPathFactory) -> Book:
    path = tmp_path_factory.mktemp("demo") / "head.sqlite3"
    return Book(url=f"sqlite:///{path}", facts=build_book(f"sqlite:///{path}"))


@pytest.fixture(scope="module")
def pg_head_book() -> Iterator[Book]:
    """A demo book in a PostgreSQL schema of its own, shared by this module's tests.

    Each test takes it down to the revision it needs and back up to head.
    """
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        url = pg_schema_url(schema)
        yield Book(url=url, facts=build_book(url))
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def book(request: pytest.FixtureRequest, tmp_path: Path) -> Book:
    """A demo book at head, on each engine in turn (SQLite: a copy of its own)."""
    if request.param == "postgresql":
        shared: Book = request.getfixturevalue("pg_head_book")
        engine = make_engine(shared.url)
        command.upgrade(alembic_config(engine), "head")  # a failed test left it lower
        engine.dispose()
        return shared
    head: Book = request.getfixturevalue("sqlite_head_book")
    path = tmp_path / "book.sqlite3"
    shutil.copyfile(make_url(head.url).database or "", path)
    return Book(url=f"sqlite:///{path}", facts=head.facts)


@pytest.fixture
def empty_url(request: pytest.FixtureRequest, tmp_path: Path, book: Book) -> str:
    """An empty database on the same engine as `book`."""
    if book.url.startswith("sqlite"):
        return f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    schema: str = request.getfixturevalue("pg_schema")
    return pg_schema_url(schema)


def take_down(url: str, revision: str) -> None:
    engine = make_engine(url)
    command.downgrade(alembic_config(engine), revision)
    engine.dispose()


def kill_during(url: str, revision: str, point: str) -> None:
    """Upgrade in a child process that kill -9s itself at `point` of `revision`."""
    child = subprocess.run(
        [sys.executable, "-m", "tests.models.upgrade_child", url, revision, point],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == -signal.SIGKILL, child.stderr[-2000:]


def backups(url: str) -> list[Path]:
    database = make_url(url).database
    return backups_of(Path(database)) if database else []


@pytest.mark.parametrize("start", STARTS, ids=[s or "empty" for s in STARTS])
def test_every_past_schema_upgrades_with_its_data_after_a_kill_in_the_next_step(
    book: Book, empty_url: str, start: str | None
) -> None:
    url = empty_url if start is None else book.url
    if start is not None:
        take_down(url, start)
    engine = make_engine(url)
    before = snapshot(engine)
    columns = columns_of(before, engine)

    # kill -9 once the next step has changed the schema, before anything commits
    kill_during(url, STEP_AFTER[start], "begun")
    assert current_revision(engine) == start
    assert snapshot(engine) == before
    if url.startswith("sqlite"):
        assert integrity(engine) == (["ok"], [])

    # the next start opens the book: the upgrade runs again and completes
    database = open_database(url)
    try:
        assert current_revision(database.engine) == head_revision()
        assert snapshot(database.engine, columns) == before
        if start is not None:
            assert facts(database.engine) == book.facts
        if url.startswith("sqlite"):
            assert integrity(database.engine) == (["ok"], [])
        if url.startswith("sqlite") and start is not None:
            assert 1 <= len(backups(url)) <= KEEP_BACKUPS
    finally:
        database.dispose()
        engine.dispose()


def test_a_kill_before_the_commit_rolls_back_every_step_of_the_upgrade(
    book: Book,
) -> None:
    take_down(book.url, REVISIONS[0])
    engine = make_engine(book.url)
    before = snapshot(engine)

    kill_during(book.url, REVISIONS[-1], "done")
    assert current_revision(engine) == REVISIONS[0]
    assert snapshot(engine) == before

    database = open_database(book.url)
    try:
        assert current_revision(database.engine) == head_revision()
        assert facts(database.engine) == book.facts
    finally:
        database.dispose()
        engine.dispose()


def test_a_failed_upgrade_is_undone_and_says_which_step_failed(book: Book) -> None:
    take_down(book.url, REVISIONS[0])
    engine = make_engine(book.url)
    with engine.begin() as conn:  # 0002 makes case numbers unique: these aren't
        conn.execute(
            text(
                "UPDATE case_file SET number = (SELECT min(number) FROM case_file)"
                " WHERE number = (SELECT max(number) FROM case_file)"
            )
        )
    before = snapshot(engine)
    sqlite = book.url.startswith("sqlite")
    if sqlite:  # the copy an older version made before its own upgrade
        older = backup_sqlite(engine)

    for _start in range(KEEP_BACKUPS + 2):  # each start fails again
        with pytest.raises(DatabaseError) as failed:
            open_database(book.url)
        message = str(failed.value)
        assert "\n" not in message
        assert message.startswith(f"Upgrading the database to schema {REVISIONS[1]}")
        assert current_revision(engine) == REVISIONS[0]
        assert snapshot(engine) == before
    if sqlite:
        copies = backups(book.url)
        assert "(UNIQUE constraint failed: case_file.number)" in message
        assert message.endswith(
            f"the book was restored from {copies[-1]}: nothing was lost."
        )
        assert len(copies) == 1 + KEEP_BACKUPS  # not one more per failed start
        assert copies[0] == older
        assert integrity(engine) == (["ok"], [])
    else:
        assert '(could not create unique index "uq_case_file_number")' in message
        assert message.endswith(f"the database is unchanged (schema {REVISIONS[0]}).")
    engine.dispose()


def test_a_step_that_committed_part_of_its_work_then_failed_is_undone_from_the_backup(
    tmp_path: Path, sqlite_head_book: Book
) -> None:
    path = tmp_path / "book.sqlite3"
    shutil.copyfile(make_url(sqlite_head_book.url).database or "", path)
    url = f"sqlite:///{path}"
    take_down(url, REVISIONS[0])
    engine = make_engine(url)
    before = snapshot(engine)
    seen: list[str] = []

    def commit_then_fail(_conn: Any, cursor: Any, statement: str, *_a: Any) -> None:
        # What a step with an autocommit block does, then a failure after it.
        if statement.lstrip().upper().startswith("ALTER"):
            seen.append(statement)
            if len(seen) == 1:
                cursor.execute("COMMIT")
            else:
                raise RuntimeError("disk full")

    event.listen(Engine, "after_cursor_execute", commit_then_fail)
    try:
        with pytest.raises(DatabaseError) as failed:
            open_database(url)
    finally:
        event.remove(Engine, "after_cursor_execute", commit_then_fail)
    (copy,) = backups(url)
    assert str(failed.value) == (
        f"Upgrading the database to schema {REVISIONS[1]} failed (disk full); "
        f"the book was restored from {copy}: nothing was lost."
    )
    assert current_revision(engine) == REVISIONS[0]
    assert snapshot(engine) == before
    assert integrity(engine) == (["ok"], [])
    engine.dispose()


def test_an_upgrade_that_would_leave_rows_pointing_nowhere_is_refused(
    tmp_path: Path, sqlite_head_book: Book
) -> None:
    path = tmp_path / "book.sqlite3"
    shutil.copyfile(make_url(sqlite_head_book.url).database or "", path)
    url = f"sqlite:///{path}"
    take_down(url, REVISIONS[0])
    plain = sqlite3.connect(path)  # foreign keys off: what a buggy older app could do
    plain.execute(
        "UPDATE action SET customer_id = 999999 WHERE id = (SELECT min(id) FROM action)"
    )
    plain.commit()
    plain.close()
    engine = make_engine(url)
    before = snapshot(engine)

    with pytest.raises(DatabaseError, match="point to rows that do not exist"):
        open_database(url)
    assert current_revision(engine) == REVISIONS[0]
    assert snapshot(engine) == before
    engine.dispose()


def test_four_apps_starting_on_an_empty_database_all_open_it(db_url: str) -> None:
    url = db_url
    children = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.models.upgrade_child", url, "--wait"],
            cwd=ROOT,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(4)
    ]
    for child in children:  # all four have imported everything...
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
    for child in children:  # ...then go at once
        assert child.stdin is not None
        child.stdin.write("go\n")
        child.stdin.flush()
    results = [child.communicate() for child in children]
    assert [child.returncode for child in children] == [0, 0, 0, 0], results
    engine = make_engine(url)
    assert current_revision(engine) == head_revision()
    engine.dispose()


def test_db_upgrade_names_the_backup_and_keeps_the_last_copies(
    tmp_path: Path,
    sqlite_head_book: Book,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = tmp_path / "book.sqlite3"
    shutil.copyfile(make_url(sqlite_head_book.url).database or "", path)
    url = f"sqlite:///{path}"
    take_down(url, REVISIONS[0])
    engine = make_engine(url)
    earlier = [backup_sqlite(engine) for _ in range(KEEP_BACKUPS + 1)]
    engine.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", url)

    assert main(["db", "upgrade"]) == 0
    out = capsys.readouterr().out.strip()
    copies = backups(url)
    assert out == (
        f"Database upgraded from {REVISIONS[0]} to schema {head_revision()}. "
        f"Backup copy: {copies[-1]} (the last {KEEP_BACKUPS} copies are kept"
        f" in {tmp_path})"
    )
    assert copies == [*earlier[-KEEP_BACKUPS + 1 :], copies[-1]]
    copy = make_engine(f"sqlite:///{copies[-1]}")
    assert current_revision(copy) == REVISIONS[0]
    copy.dispose()
