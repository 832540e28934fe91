"""Imports at the same time into one entity, through `o2c import`.

Issue 14: four full imports at once left the union of their four 2,000-item
snapshots open (8,000 items); four partial imports creating the same new
customer failed but one with a `UniqueViolation` traceback. The full imports
run on SQLite too (one writer, taken before the book is read).
"""

from __future__ import annotations

import os
import subprocess
import sys
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, text

from tests.conftest import pg_schema_url
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from pathlib import Path

HEAD = ["Code client", "Nom client", "N° facture", "Type", "Date facture"]
HEAD += ["Date d'échéance", "Montant TTC", "Reste dû"]
COUNT = 2_000


def _snapshot(path: Path, tag: str, customers: int) -> Path:
    tail = ["Facture", "01/01/2026", "31/01/2026", "10,00", "10,00"]
    rows = [
        [f"C{i % customers}", f"Client {i % customers}", f"{tag}-{i}", *tail]
        for i in range(COUNT)
    ]
    return b.write_csv(path, [HEAD, *rows])


def _o2c(url: str, tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "O2C_DATABASE_URL": url,
        "O2C_CONFIG_DIR": str(tmp_path / "config"),
        "O2C_DATA_DIR": str(tmp_path / "data"),
    }
    code = "import sys; from o2c_desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    return subprocess.Popen(
        [sys.executable, "-c", code, *args],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def _all_at_once(
    url: str, tmp_path: Path, runs: list[list[str]]
) -> list[tuple[int, str]]:
    procs = [_o2c(url, tmp_path, *args) for args in runs]
    out = []
    for proc in procs:
        _stdout, stderr = proc.communicate(timeout=300)
        out.append((proc.returncode, stderr))
    return out


def _open_numbers(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return set(
                conn.execute(
                    text("SELECT number FROM item WHERE status = 'open'")
                ).scalars()
            )
    finally:
        engine.dispose()


def _upgraded(url: str, tmp_path: Path) -> str:
    [(code, stderr)] = _all_at_once(url, tmp_path, [["db", "upgrade"]])
    assert (code, stderr) == (0, "")
    return url


@pytest.fixture
def pg_url(pg_schema: str, tmp_path: Path) -> str:
    return _upgraded(pg_schema_url(pg_schema), tmp_path)


@pytest.fixture(params=["sqlite", "postgresql"])
def any_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return _upgraded(f"sqlite:///{tmp_path / 'o2c.sqlite3'}", tmp_path)
    return _upgraded(pg_schema_url(request.getfixturevalue("pg_schema")), tmp_path)


def test_four_full_imports_at_once_leave_one_snapshot_open(
    any_url: str, tmp_path: Path
) -> None:
    first = _snapshot(tmp_path / "s0.csv", "S0", 50)
    assert _all_at_once(any_url, tmp_path, [["import", str(first)]]) == [(0, "")]
    files = [_snapshot(tmp_path / f"s{n}.csv", f"S{n}", 50) for n in range(1, 5)]
    results = _all_at_once(
        any_url,
        tmp_path,
        [["import", str(f), "--as-of", "2026-02-01", "--confirm-close"] for f in files],
    )
    assert results == [(0, "")] * 4
    numbers = _open_numbers(any_url)
    assert len(numbers) == COUNT
    assert {n.split("-")[0] for n in numbers} in ({f"S{n}"} for n in range(1, 5))


def test_partial_imports_at_once_creating_the_same_customer_all_land(
    pg_url: str, tmp_path: Path
) -> None:
    first = _snapshot(tmp_path / "s0.csv", "S0", 5)
    assert _all_at_once(pg_url, tmp_path, [["import", str(first)]]) == [(0, "")]
    # The same 300 new customers in each file, each file its own items.
    files = [_snapshot(tmp_path / f"p{n}.csv", f"P{n}", 300) for n in range(4)]
    results = _all_at_once(
        pg_url, tmp_path, [["import", str(f), "--partial"] for f in files]
    )
    assert results == [(0, "")] * 4
    assert len(_open_numbers(pg_url)) == COUNT * 5
