"""What a new user trips on in the first hour (issue 15), from the command line.

Exports that re-import unchanged (xlsx and csv, several entities), unknown
customers, the customer list, the dunning plan's wording, `demo --replace` on
a real book, closed pipes and unexpected errors.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select, update

from o2c_desktop.cli import main
from o2c_desktop.models import Customer, Entity, Item
from o2c_desktop.models.db import open_database
from o2c_desktop.services.demo import build_demo
from tests.services._book import many_customers

if TYPE_CHECKING:
    from pathlib import Path

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def demo_url(db_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """A small demo book (two entities, FR01 and ES01) on SQLite and PostgreSQL."""
    db = open_database(db_url)
    try:
        build_demo(db, customers=30, items=600, seed=5, today=TODAY)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", db_url)
    monkeypatch.setenv("O2C_USER", "arossi")
    return db_url


def _out(capsys: pytest.CaptureFixture[str]) -> str:
    return capsys.readouterr().out


def _error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1, err
    assert err.startswith("o2c: error: "), err
    return err.strip().removeprefix("o2c: error: ")


@pytest.mark.parametrize("suffix", [".xlsx", ".csv"])
def test_the_export_of_several_entities_reimports_unchanged(
    demo_url: str, suffix: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(demo_url)
    try:
        with db.session() as s:
            # A name that a spreadsheet would run as a formula stays text.
            ref = s.scalars(
                select(Customer.reference)
                .join(Item, Item.customer_id == Customer.id)
                .where(Item.status == "open")
                .order_by(Customer.id)
            ).first()
            s.execute(
                update(Customer)
                .where(Customer.reference == ref)
                .values(name="=1+2 Dupont")
            )
            entities = s.scalars(select(Entity.code).order_by(Entity.code)).all()
    finally:
        db.dispose()
    assert list(entities) == ["ES01", "FR01"]
    file = tmp_path / f"items{suffix}"
    assert main(["export", "items", str(file), "--json"]) == 0
    written = json.loads(_out(capsys))["items"]
    assert written > 0
    if suffix == ".csv":
        text = file.read_text(encoding="utf-8-sig")
        assert text.startswith("Customer reference,")
        assert ",'=1+2 Dupont," in text
        assert text.splitlines()[0].endswith(",Entity")
    else:
        assert file.read_bytes().startswith(b"PK")

    argv = ["import", str(file), "--as-of", TODAY.isoformat(), "--json"]
    assert main(argv) == 0
    result = json.loads(_out(capsys))["result"]
    assert result["entity"] == "ES01, FR01"
    assert result["items_unchanged"] == written
    assert (result["items_created"], result["items_updated"]) == (0, 0)
    assert (result["items_closed"], result["customers_updated"]) == (0, 0)
    assert result["outstanding_before"] == result["outstanding_after"]

    # One entity chosen: only its rows, and nothing of the other is closed.
    assert main([*argv, "--entity", "FR01", "--dry-run"]) == 0
    fr = json.loads(_out(capsys))["result"]
    assert fr["entity"] == "FR01"
    assert fr["items_closed"] == 0
    assert 0 < fr["items_unchanged"] < written


def test_the_export_of_several_entities_starts_a_new_book(
    db_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    source = f"sqlite:///{tmp_path / 'source.sqlite3'}"
    db = open_database(source)
    try:
        build_demo(db, customers=30, items=600, seed=5, today=TODAY)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", source)
    file = tmp_path / "items.csv"
    assert main(["export", "items", str(file), "--json"]) == 0
    written = json.loads(_out(capsys))["items"]
    lines = file.read_text(encoding="utf-8-sig").splitlines()[1:]
    assert {line.rsplit(",", 1)[1] for line in lines} == {"ES01", "FR01"}

    monkeypatch.setenv("O2C_DATABASE_URL", db_url)  # an empty book
    assert main(["import", str(file), "--as-of", TODAY.isoformat(), "--json"]) == 0
    result = json.loads(_out(capsys))["result"]
    assert (result["entity"], result["entity_created"]) == ("ES01, FR01", True)
    assert result["items_created"] == written
    assert main(["customers", "list", "--entity", "ES01", "--json"]) == 0
    assert json.loads(_out(capsys))["total"] > 0


def test_export_refuses_what_it_cannot_honour(
    demo_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "x.xlsx"
    assert main(["export", "items", str(target), "--customer", "NOPE"]) == 1
    assert _error(capsys) == "unknown customer NOPE"
    assert main(["export", "items", str(target), "--entity", "XX"]) == 1
    assert _error(capsys) == "unknown entity 'XX' (known: ES01, FR01)"
    assert not target.exists()
    assert main(["export", "items", str(tmp_path / "x.pdf")]) == 1
    assert _error(capsys) == "x.pdf: items are written as .xlsx or .csv, not .pdf"
    missing = tmp_path / "missing" / "dir" / "items.xlsx"
    assert main(["export", "items", str(missing)]) == 1
    assert _error(capsys) == f"cannot write {missing}: no folder {missing.parent}"
    assert not missing.parent.exists()


def test_customers_list_and_show(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["customers", "list", "--json", "--limit", "100"]) == 0
    every = json.loads(_out(capsys))
    assert every["total"] == 30
    assert {c["entity"] for c in every["customers"]} == {"ES01", "FR01"}
    assert main(["customers", "list", "--entity", "ES01", "--json"]) == 0
    spanish = json.loads(_out(capsys))["customers"]
    assert spanish
    assert {c["entity"] for c in spanish} == {"ES01"}

    # The biggest debtor whose name starts with a plain word: SQLite's lower()
    # folds ASCII only, so the search ignores the case of "MONNIER", not "É".
    plain = [c for c in every["customers"] if c["name"].split()[0].isalpha()]
    plain = [c for c in plain if c["name"].split()[0].isascii()]
    busy = max(plain, key=lambda c: Decimal(c["outstanding"]))
    word = busy["name"].split()[0].upper()
    assert main(["customers", "list", "--search", word, "--json"]) == 0
    found = json.loads(_out(capsys))["customers"]
    assert busy["reference"] in [c["reference"] for c in found]

    assert main(["customers", "list", "--search", word]) == 0
    table = _out(capsys).splitlines()
    assert table[0].split() == [
        "reference", "name", "entity", "collector", "outstanding", "overdue"
    ]  # fmt: skip
    assert table[-1].endswith("customer") or table[-1].endswith("customers")

    ref = busy["reference"]
    argv = ["customers", "show", ref, "--date", TODAY.isoformat()]
    assert main([*argv, "--json"]) == 0
    card = json.loads(_out(capsys))
    assert (card["reference"], card["entity"]) == (ref, busy["entity"])
    assert card["collector"] == busy["collector"]
    assert card["open_items"] > 0
    assert card["on_hold"] in (True, False)
    assert main(argv) == 0
    assert f"  open items:  {card['open_items']}" in _out(capsys)

    assert main(["customers", "show", "NOPE"]) == 1
    assert _error(capsys) == "customer NOPE not found"
    assert main(["customers", "list", "--entity", "XX"]) == 1
    assert _error(capsys) == "unknown entity 'XX' (known: ES01, FR01)"


def test_demo_replace_refuses_a_book_the_demo_did_not_build(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(db_url)
    try:
        many_customers(db, 2)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", db_url)
    args = ["demo", "--customers", "5", "--items", "40", "--today", "2026-03-02"]
    assert main([*args, "--replace"]) == 1
    assert "holds a book the demo did not build" in _error(capsys)
    db = open_database(db_url)
    try:
        with db.session() as s:
            assert len(s.scalars(select(Customer.id)).all()) == 2
    finally:
        db.dispose()


def test_demo_replace_rebuilds_a_demo_book(
    demo_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["demo", "--customers", "5", "--items", "40", "--today", "2026-03-02"]
    assert main([*args, "--replace", "--json"]) == 0
    data = json.loads(_out(capsys))
    assert (data["replaced"], data["counts"]["customer"]) == (True, 5)


def test_dunning_plan_counts_in_words_under_headers(
    db_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(db_url)
    try:
        many_customers(db, 1)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", db_url)
    assert main(["dunning", "plan", "--from", "2026-03-02", "--days", "1"]) == 0
    lines = _out(capsys).splitlines()
    assert lines[0] == "1 action from 2026-03-02 to 2026-03-02:"
    assert lines[1].split() == ["date", "actions", "items", "by", "type"]
    assert lines[2].split()[:3] == ["2026-03-02", "1", "2"]
    assert main(["dunning", "plan", "--from", "2026-03-02", "--days", "5"]) == 0
    lines = _out(capsys).splitlines()
    assert lines[0] == "2 actions from 2026-03-02 to 2026-03-06:"
    assert [line.split()[:2] for line in lines[2:]] == [
        ["2026-03-02", "1"],
        ["2026-03-06", "1"],
    ]
    assert main(["dunning", "run", "--date", "2026-03-06", "--dry-run"]) == 0
    assert "would create 1 action for 1 customers" in _out(capsys)


def test_an_unexpected_error_is_one_line_and_its_traceback_only_with_v(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def broken(_args: object) -> None:
        raise RuntimeError("what no handler expects\non two lines")

    # A bug in a command, standing in for any exception its handler misses.
    monkeypatch.setattr("o2c_desktop.cli.db._show", broken)
    assert main(["config", "show"]) == 1
    assert _error(capsys) == (
        "RuntimeError: what no handler expects on two lines "
        "(run with -v for the details)"
    )
    assert main(["-v", "config", "show"]) == 1
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err
    assert err.splitlines()[-1] == (
        "o2c: error: RuntimeError: what no handler expects on two lines"
    )


def test_scenario_files_that_cannot_be_written_or_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    db = open_database(url)
    try:
        many_customers(db, 1)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    assert main(["scenario", "export", "Standard", str(tmp_path)]) == 1
    assert _error(capsys) == f"cannot write {tmp_path}: Is a directory"
    missing = tmp_path / "nope" / "standard.json"
    assert main(["scenario", "import", str(missing)]) == 1
    assert _error(capsys) == f"cannot read {missing}: No such file or directory"


def test_a_closed_pipe_ends_quietly(tmp_path: Path) -> None:
    # `o2c config show | head -1`, with the reader gone before anything is
    # written: the write fails with EPIPE, never with a traceback.
    read, write = os.pipe()
    os.close(read)
    env = {**os.environ, "O2C_CONFIG_DIR": str(tmp_path)}
    code = "import sys; from o2c_desktop.cli import main; sys.exit(main())"
    try:
        proc = subprocess.run(
            [sys.executable, "-c", code, "config", "show"],
            stdout=write,
            stderr=subprocess.PIPE,
            env=env,
            check=False,
            timeout=120,
        )
    finally:
        os.close(write)
    assert proc.stderr.decode() == ""
    assert proc.returncode == 1


def test_benchmark_rows_name_the_book_they_ran_on() -> None:
    from benchmarks.run import discover

    reads, writes, errors = discover([], "40k")
    assert not errors
    names = [*reads, *writes]
    assert "dunning: dry run 40k" in names
    assert not [n for n in names if "1M" in n or "{size}" in n]
