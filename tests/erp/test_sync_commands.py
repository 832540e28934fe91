"""`o2c connector` and `o2c sync` against the live Tryton, as an admin types them."""

from __future__ import annotations

import io
import json
from typing import TYPE_CHECKING

from o2c_desktop.cli import main
from o2c_desktop.models import Entity
from o2c_desktop.models.db import open_database
from tests.erp import tryton_ops as ops
from tests.erp.conftest import rpc_for

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

    from tests.erp.tryton_server import TrytonServer


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_add_test_sync_and_status_from_the_command_line(
    tryton: TrytonServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "admin")
    db = open_database(url)
    with db.session("setup") as s:
        s.add(Entity(code="FR01", name="Dunder Mifflin", currency="EUR", country="FR"))
    db.dispose()
    monkeypatch.setattr("sys.stdin", io.StringIO(tryton.password + "\n"))

    added = run(
        capsys,
        "connector",
        "add",
        "acme",
        "--kind",
        "tryton",
        "--url",
        tryton.url,
        "--database",
        tryton.database,
        "--login",
        tryton.login,
        "--entity",
        "FR01",
        "--password-stdin",
    )
    tested = run(capsys, "connector", "test", "--json")
    dry = run(capsys, "sync", "erp", "--dry-run", "--json")
    synced = run(capsys, "sync", "erp", "--json")
    status = run(capsys, "sync", "status", "--json")

    assert added == (0, "connector acme saved (password in the keyring)\n", "")
    assert tested[0] == 0
    assert json.loads(tested[1])["company"] == "Dunder Mifflin"
    assert json.loads(dry[1])["dry_run"] is True
    report = json.loads(synced[1])
    assert (synced[0], report["ok"], report["full"]) == (0, True, True)
    assert report["counts"]["customers_created"] == 20
    (row,) = json.loads(status[1])["connectors"]
    assert (row["name"], row["last_error"], row["failed"]) == ("acme", None, 0)
    assert row["last_counts"]["items_created"] == report["counts"]["items_created"]
    rpc = rpc_for(tryton)
    assert sum(ops.receivable_by_party(rpc).values()) > 0


def test_sync_without_a_connector_and_a_wrong_password_are_one_line(
    tryton: TrytonServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    db = open_database(url)
    with db.session("setup") as s:
        s.add(Entity(code="FR01", name="Dunder Mifflin", currency="EUR", country="FR"))
    db.dispose()

    none = run(capsys, "sync", "erp")
    monkeypatch.setenv("O2C_CONNECTOR_PASSWORD", "not-it")
    run(
        capsys,
        "connector",
        "add",
        "acme",
        "--kind",
        "tryton",
        "--url",
        tryton.url,
        "--database",
        tryton.database,
        "--login",
        tryton.login,
        "--entity",
        "FR01",
    )
    wrong = run(capsys, "sync", "erp")

    assert none == (
        1,
        "",
        "o2c: error: no ERP connector is set up: add one with o2c connector add\n",
    )
    assert wrong == (
        1,
        "",
        "o2c: error: acme (Tryton): the login or password of 'admin' is wrong\n",
    )
