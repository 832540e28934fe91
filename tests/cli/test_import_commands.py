"""`o2c import`: a short file is refused, the dry run says why, undo and history."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from o2c_desktop.cli import main
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Item
from o2c_desktop.models.db import open_database
from tests.services._cases_book import Book, build_book
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

HEAD = ["Code client", "Nom client", "N° facture", "Type", "Date facture"]
HEAD += ["Date d'échéance", "Montant TTC", "Reste dû"]


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "alice")
    monkeypatch.setenv("O2C_CONFIG_DIR", str(tmp_path / "config"))
    db = open_database(url)
    try:
        yield build_book(db)
    finally:
        db.dispose()


def _open(book: Book) -> int:
    with book.db.session() as s:
        query = select(func.count()).where(Item.status == ItemStatus.OPEN)
        return int(s.scalar(query) or 0)


def test_a_short_file_is_refused_in_one_line_until_confirmed_then_undone(
    book: Book, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dispute", "open", "--customer", "118436", "--items", "48064383"]
    assert main([*argv, "--reason", "price", "--today", "2026-02-10"]) == 0
    row = ["18981", "Monnier et Fils", "45933709", "Facture", "02/03/2026"]
    short = b.write_csv(
        tmp_path / "short.csv", [HEAD, [*row, "01/04/2026"] + ["2000,00"] * 2]
    )
    capsys.readouterr()

    assert main(["import", str(short), "--entity", "FR01"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [
        "o2c: error: this full import would close 3 of 4 open items (1800.00 EUR "
        "of 3800.00 EUR outstanding), 1 in dispute, 0 in litigation, 0 under a "
        "promise, 0 under a payment plan; nothing was imported (check the file, or "
        "add --confirm-close)"
    ]
    assert _open(book) == 4

    assert main(["import", str(short), "--dry-run", "--json"]) == 1
    dry = json.loads(capsys.readouterr().out)
    assert dry["imported"] is False
    assert dry["result"]["close"]["items"] == 3
    assert dry["result"]["close"]["amount"] == "1800.00"
    assert dry["result"]["close"]["disputed"] == 1
    # A share above what it closes still asks: an item in dispute would close.
    assert main(["import", str(short), "--max-close-share", "100"]) == 1
    capsys.readouterr()
    assert _open(book) == 4

    assert main(["import", str(short), "--confirm-close", "--json"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert _open(book) == 1
    import_id = done["result"]["import_id"]

    assert main(["import", "history", "--json"]) == 0
    [record] = json.loads(capsys.readouterr().out)["imports"]
    assert (record["id"], record["closed"], record["undone_at"]) == (import_id, 3, None)
    assert main(["import", "undo", str(import_id)]) == 0
    assert f"Import {import_id} undone: 3 items restored" in capsys.readouterr().out
    assert _open(book) == 4
    assert book.item(book.g1).disputed
    assert main(["import", "undo", str(import_id)]) == 1
    assert capsys.readouterr().err.startswith(
        f"o2c: error: import {import_id} not undone: import {import_id} was already "
        "undone on "
    )


def test_the_share_comes_from_the_settings_unless_given(
    book: Book, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    row = ["18981", "Monnier et Fils", "45933709", "Facture", "02/03/2026"]
    short = b.write_csv(
        tmp_path / "short.csv", [HEAD, [*row, "01/04/2026", "2000,00", "2000,00"]]
    )
    config = tmp_path / "config"
    config.mkdir()
    (config / "settings.ini").write_text(
        "[settings]\nimport_max_close_share = 50\n", encoding="utf-8"
    )
    # 3 of 4 items (1,800.00 of 3,800.00): over 50 % of the items.
    assert main(["import", str(short), "--dry-run"]) == 1
    assert main(["import", str(short), "--dry-run", "--max-close-share", "80"]) == 0
    (config / "settings.ini").write_text(
        "[settings]\nimport_max_close_share = 80\n", encoding="utf-8"
    )
    assert main(["import", str(short)]) == 0
    assert "3 closed" in capsys.readouterr().out
    assert _open(book) == 1
