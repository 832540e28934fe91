"""`o2c db` and `o2c config`: what an administrator types to set up a database."""

from __future__ import annotations

import io
import json
import os
import stat
import subprocess
import sys
from typing import TYPE_CHECKING

import keyring
import pytest

from o2c_desktop import secrets, settings
from o2c_desktop.cli import main
from o2c_desktop.models.db import head_revision

if TYPE_CHECKING:
    from pathlib import Path


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


SECRET = "s3cret-pa55"
PG = "postgresql://alice@127.0.0.1:5432/test"


def _keyring_file() -> Path:
    from pathlib import Path

    return Path(keyring.get_keyring().file_path)  # type: ignore[attr-defined]


def _assert_nowhere(secret: str, *texts: str) -> None:
    """`secret` is in none of `texts`, the settings file or a keyring entry's name."""
    for text in texts:
        assert secret not in text
    assert secret not in settings.settings_path().read_text(encoding="utf-8")
    if _keyring_file().exists():
        import configparser

        stored = configparser.RawConfigParser()
        stored.read(_keyring_file(), encoding="utf-8")
        names = [n for section in stored.sections() for n in stored[section]]
        assert names
        assert not [n for n in names if secret in n]


@pytest.mark.parametrize("how", ["in the URL", "--password-stdin"])
def test_no_configuration_command_writes_or_shows_the_password(
    how: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Issue 14 section 4: settings, keyring names, output and logs stay clean."""
    if how == "in the URL":
        argv = [PG.replace("alice@", f"alice:{SECRET}@")]
    else:
        monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
        argv = [PG, "--password-stdin"]
    assert main(["config", "set-database", *argv]) == 0
    assert main(["config", "set-user", "alice"]) == 0
    assert main(["config", "show", "--json"]) == 0
    out, err = capsys.readouterr()
    _assert_nowhere(SECRET, out, err, caplog.text)
    assert json.loads(out.split("\n", 2)[-1])["database_url"] == PG
    assert keyring.get_password(secrets.SERVICE, secrets.database_key(PG)) == SECRET
    if how == "in the URL":
        assert "prefer --password-stdin" in caplog.text
    if os.name == "posix":
        assert stat.S_IMODE(settings.settings_path().stat().st_mode) == 0o600
        assert stat.S_IMODE(settings.config_dir().stat().st_mode) == 0o700


def test_a_password_an_older_version_wrote_moves_to_the_keyring(
    capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    path = settings.settings_path()
    path.parent.mkdir(parents=True)
    url = PG.replace("alice@", f"alice:{SECRET}@")
    path.write_text(f"[settings]\ndatabase_url = {url}\n", encoding="utf-8")
    path.chmod(0o644)
    keyring.set_password(secrets.SERVICE, secrets.database_key(url), SECRET)
    assert main(["config", "show"]) == 0
    out, err = capsys.readouterr()
    _assert_nowhere(SECRET, out, err, caplog.text)
    assert f"database_url: {PG}" in out
    assert "moved from" in caplog.text
    assert keyring.get_password(secrets.SERVICE, secrets.database_key(PG)) == SECRET
    if os.name == "posix":
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql://alice:{SECRET}@db.example.lan:54x2/o2c",
        f"mysql://alice:{SECRET}@db.example.lan/o2c",
        f"postgresql://alice:{SECRET}@db.example.lan:5432/o2c?sslmode=%zz&x=[",
    ],
)
def test_an_invalid_url_is_one_line_that_hides_its_password(
    url: str, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    code = main(["config", "set-database", url])
    out, err = capsys.readouterr()
    assert SECRET not in out + err + caplog.text
    if code:
        assert err.startswith("o2c: error: ")
        assert err.count("\n") == 1
        assert not settings.settings_path().exists()
    else:  # an odd query is the server's business; still no password kept
        _assert_nowhere(SECRET, out, err, caplog.text)


@pytest.mark.parametrize(
    "argv",
    [
        ["config", "set-database", PG, "--password-stdin"],
        ["mail", "configure", "--host", "smtp.x", "--user", "bob", "--password-stdin"],
    ],
)
def test_without_a_keyring_a_password_is_one_line_and_changes_nothing(
    argv: list[str],
) -> None:
    # A process of its own: keyring picks its backend once per process.
    env = {**os.environ, "PYTHON_KEYRING_BACKEND": "keyring.backends.fail.Keyring"}
    run = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys; from o2c_desktop.cli import main; sys.exit(main())",
            *argv,
        ],
        input=SECRET + "\n",
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert run.returncode == 1
    assert run.stdout == ""
    assert run.stderr.startswith("o2c: error: no keyring on this machine")
    assert run.stderr.count("\n") == 1
    assert SECRET not in run.stderr
    assert not settings.settings_path().exists()


def test_a_plain_text_keyring_is_warned_about_once(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    secrets.reset_warnings()
    for _ in range(2):
        monkeypatch.setattr("sys.stdin", io.StringIO(SECRET + "\n"))
        assert main(["config", "set-database", PG, "--password-stdin"]) == 0
    capsys.readouterr()
    warnings = [r for r in caplog.records if "plain-text" in r.getMessage()]
    assert len(warnings) == 1


def test_a_bare_file_name_as_database_url_is_one_line_everywhere(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """Issue 15: `O2C_DATABASE_URL=book.db o2c db info` gave a traceback."""
    monkeypatch.setenv("O2C_DATABASE_URL", "book.db")
    for argv in (["db", "info"], ["db", "upgrade"], ["config", "show"]):
        assert main(argv) == 1
        err = capsys.readouterr().err
        assert err.startswith("o2c: error: Invalid database URL 'book.db'")
        assert "sqlite:///" in err
        assert err.count("\n") == 1
    monkeypatch.delenv("O2C_DATABASE_URL")
    assert main(["config", "set-database", "book.db"]) == 1
    assert "sqlite:///" in capsys.readouterr().err


def test_a_sqlite_url_into_a_missing_folder_creates_no_folders(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Issue 15: a typo in the path made a tree of folders."""
    book = tmp_path / "typo" / "deeper" / "book.db"
    monkeypatch.setenv("O2C_DATABASE_URL", f"sqlite:///{book}")
    assert main(["db", "upgrade"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"o2c: error: The folder {book.parent} does not exist")
    assert err.count("\n") == 1
    assert list(tmp_path.iterdir()) == []

    # An existing folder: the book is created there, and the output says where.
    monkeypatch.setenv("O2C_DATABASE_URL", f"sqlite:///{tmp_path / 'book.db'}")
    assert main(["db", "upgrade"]) == 0
    assert f"New book {tmp_path / 'book.db'} created" in capsys.readouterr().out
    assert (tmp_path / "book.db").exists()
