"""Shared fixtures: a fresh database per test, on SQLite and on PostgreSQL.

PostgreSQL runs when a server answers at ``O2C_TEST_PG_URL`` (default: the
local server on 127.0.0.1:5432, database ``test``). Where none answers the
PostgreSQL cases skip with the reason, except under ``CI=true``, where they fail.
"""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")

import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, make_url, text
from sqlalchemy.orm import sessionmaker

from o2c_desktop.models import Base
from o2c_desktop.models.db import AuditedSession, Database, make_engine

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

PG_URL = os.environ.get("O2C_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
_pg_state: dict[str, str | None] = {}


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keep tests away from the user's settings, data and keyring."""
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("O2C_CONFIG_DIR", str(home / "config"))
    monkeypatch.setenv("O2C_DATA_DIR", str(home / "data"))
    monkeypatch.setenv("O2C_CACHE_DIR", str(home / "cache"))
    monkeypatch.setenv("PYTHON_KEYRING_BACKEND", "keyrings.alt.file.PlaintextKeyring")
    monkeypatch.setenv("XDG_DATA_HOME", str(home / "xdg"))
    monkeypatch.delenv("O2C_DATABASE_URL", raising=False)
    monkeypatch.delenv("O2C_USER", raising=False)


def pg_unavailable_reason() -> str | None:
    """Why PostgreSQL tests can't run here, or None when they can."""
    if "reason" not in _pg_state:
        try:
            engine = make_engine(PG_URL)
            with engine.connect() as conn:
                conn.execute(text("SELECT 1"))
            engine.dispose()
            _pg_state["reason"] = None
        except Exception as exc:  # noqa: BLE001 - any failure means "not here"
            _pg_state["reason"] = f"no PostgreSQL at {PG_URL}: {exc}".splitlines()[0]
    return _pg_state["reason"]


def require_pg() -> None:
    """Skip (or fail under CI) when PostgreSQL can't be reached."""
    reason = pg_unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"PostgreSQL tests must run in CI: {reason}")
    pytest.skip(reason)


def pg_schema_url(schema: str) -> str:
    """The test server's URL with `schema` first on the search path."""
    url = make_url(PG_URL).set(drivername="postgresql+psycopg")
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


@pytest.fixture
def pg_schema() -> Iterator[str]:
    """An empty PostgreSQL schema for one test, dropped afterwards."""
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield schema
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def _build(url: str) -> Database:
    engine = make_engine(url)
    Base.metadata.create_all(engine)
    factory = sessionmaker(engine, class_=AuditedSession, expire_on_commit=False)
    return Database(engine=engine, factory=factory)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database's URL (no tables), on each engine in turn."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    schema: str = request.getfixturevalue("pg_schema")
    return pg_schema_url(schema)


@pytest.fixture
def db(db_url: str) -> Iterator[Database]:
    """A database with the current schema, on SQLite and on PostgreSQL."""
    database = _build(db_url)
    try:
        yield database
    finally:
        database.dispose()


@pytest.fixture
def sqlite_db(tmp_path: Path) -> Iterator[Database]:
    """A database with the current schema on SQLite only (UI and quick tests)."""
    database = _build(f"sqlite:///{tmp_path / 'o2c.sqlite3'}")
    try:
        yield database
    finally:
        database.dispose()
