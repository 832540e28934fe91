"""`o2c db` and `o2c config`: what an administrator types to set up a database."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import keyring

from o2c_desktop import secrets, settings
from o2c_desktop.cli import main
from o2c_desktop.models.db import head_revision

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_db_upgrade_creates_the_embedded_database_then_says_it_is_current(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["db", "upgrade", "--json"]) == 0
    first = json.loads(capsys.readouterr().out)
    assert first["from_revision"] is None
    assert first["to_revision"] == head_revision()
    assert (settings.data_dir() / "o2c.sqlite3").exists()

    assert main(["db", "info", "--json"]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["backend"] == "sqlite"
    assert info["up_to_date"] is True


def test_db_upgrade_on_a_file_that_is_not_a_database_fails_with_one_line(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    bogus = tmp_path / "report.xlsx"
    bogus.write_bytes(b"PK\x03\x04 not a database at all" * 50)
    monkeypatch.setenv("O2C_DATABASE_URL", f"sqlite:///{bogus}")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err.strip()
    assert err.count("\n") == 0
    assert err.startswith("o2c: error: ")
    assert "is not an O2C Desktop database" in err


def test_set_database_keeps_the_password_in_the_keyring_not_in_the_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(
        "sys.stdin", __import__("io").StringIO("s3cret-pa55\n"), raising=True
    )
    url = "postgresql://alice@db.example.lan:5432/o2c"
    assert main(["config", "set-database", url, "--password-stdin"]) == 0
    capsys.readouterr()
    text = settings.settings_path().read_text(encoding="utf-8")
    assert "s3cret-pa55" not in text
    assert url in text
    stored = keyring.get_password(secrets.SERVICE, secrets.database_key(url))
    assert stored == "s3cret-pa55"

    assert main(["config", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown["database_url"] == url
