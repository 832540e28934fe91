"""A colleague's newer app upgraded the shared book first: `o2c` says so in one line."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from o2c_desktop import __version__
from o2c_desktop.cli import main
from o2c_desktop.models.db import head_revision, make_engine, open_database

if TYPE_CHECKING:
    from pathlib import Path

NEWER = "0099_from_a_newer_app"


def upgraded_by_a_newer_app(path: Path) -> str:
    """A book at our head, then stamped with a revision this app does not know."""
    url = f"sqlite:///{path}"
    open_database(url).dispose()
    engine = make_engine(url)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = :v"), {"v": NEWER})
    engine.dispose()
    return url


@pytest.mark.parametrize(
    "command",
    [["db", "info"], ["db", "upgrade"], ["customers", "list"], ["dunning", "run",
     "--date", "2026-03-02", "--dry-run"]],
)  # fmt: skip
def test_every_command_on_a_newer_schema_says_which_in_one_line(
    command: list[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    book = tmp_path / "shared.sqlite3"
    monkeypatch.setenv("O2C_DATABASE_URL", upgraded_by_a_newer_app(book))
    before = book.read_bytes()
    assert main(command) == 1
    captured = capsys.readouterr()
    assert captured.err == (
        "o2c: error: This database was written by a newer version of O2C Desktop "
        f"(schema {NEWER}; this version, {__version__}, knows schemas up to "
        f"{head_revision()}). Install the newer version to open it; nothing was "
        "changed.\n"
    )
    assert book.read_bytes() == before
    assert not list(tmp_path.glob("shared.backup-*"))
