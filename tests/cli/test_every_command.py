"""Every `o2c` command given wrong values: one line `o2c: error: ...`, no traceback.

The commands are found by walking `build_parser()`, so a new command or a new
argument is covered without touching this file. Each argument gets the wrong
values its kind calls for (bad dates, bad numbers, missing files and folders,
unknown references, languages and choices) while the command's other required
arguments get good values from a small demo book, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import argparse
import datetime as dt
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import create_engine, make_url, select, text

from o2c_desktop.cli import build_parser, main
from o2c_desktop.cli._common import parse_date, parse_language
from o2c_desktop.engine.types import CaseKind, ItemKind, ItemStatus
from o2c_desktop.models import Action, Case, Customer, Entity, Item
from o2c_desktop.models.db import open_database
from o2c_desktop.services.demo import build_demo
from o2c_desktop.services.importing import ImportService
from tests.conftest import PG_URL, pg_schema_url, require_pg

if TYPE_CHECKING:
    from collections.abc import Iterator

TODAY = dt.date(2026, 3, 2)
BAD_DATES = ("2026-13-01", "03/12/2026", "2026-02-30", "tomorrow")
BAD_NUMBERS = ("abc", "1.5", "-5")
UNKNOWN = "NOPE-404"


def _leaves(
    parser: argparse.ArgumentParser, path: tuple[str, ...] = ()
) -> Iterator[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every runnable sub-command: (its words, its parser)."""
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield path, parser
        return
    for action in subs:
        for name, child in action.choices.items():
            yield from _leaves(child, (*path, name))


COMMANDS = {" ".join(words): p for words, p in _leaves(build_parser())}


def _arguments(parser: argparse.ArgumentParser) -> list[argparse.Action]:
    """The arguments that take a value (flags and --help have none to get wrong)."""
    return [
        a
        for a in parser._actions
        if a.nargs != 0 and not isinstance(a, argparse._SubParsersAction)
    ]


def _is_date(action: argparse.Action) -> bool:
    """A date argument: `parse_date` or a command's own wrapper of it."""
    name = getattr(action.type, "__name__", "")
    return action.type is parse_date or "date" in name


class Book:
    """The demo book and good values for every kind of argument."""

    def __init__(self, url: str, folder: Path) -> None:
        self.url = url
        self.folder = folder
        self.a_folder = folder / "a-folder"
        self.a_folder.mkdir()
        self.a_file = folder / "a-file.txt"  # where a folder or a workbook goes
        self.a_file.write_text("not a folder, not a workbook\n", encoding="utf-8")
        db = open_database(url)
        try:
            build_demo(db, customers=25, items=400, seed=3, today=TODAY)
            with db.session() as s:
                item = s.execute(
                    select(Customer.reference, Item.number, Entity.code)
                    .join(Item, Item.customer_id == Customer.id)
                    .join(Entity, Entity.id == Customer.entity_id)
                    .where(
                        Item.status == ItemStatus.OPEN,
                        Item.kind == ItemKind.INVOICE,
                        Item.remaining > 0,
                    )
                    .order_by(Item.id)
                    .limit(1)
                ).one()
                cases = dict(
                    s.execute(select(Case.kind, Case.number).order_by(Case.id)).all()
                )
                action = s.scalars(select(Action.id).limit(1)).one()
            importer = ImportService(db, "arossi")
            self.xlsx = folder / "book.xlsx"
            importer.export_items(self.xlsx, entity_code=item.code)
        finally:
            db.dispose()
        self.customer, self.item, self.entity = item
        self.case = cases.get(CaseKind.PROMISE) or next(iter(cases.values()))
        self.litigation = cases.get(CaseKind.LITIGATION, self.case)
        self.action = str(action)

    def good(self, command: str, action: argparse.Action) -> str:
        """A value this argument accepts, so only the one under test is wrong."""
        dest = action.dest
        if action.choices:
            return str(next(iter(action.choices)))
        if _is_date(action):
            return TODAY.isoformat()
        if action.type is parse_language:
            return "fr"
        by_dest = {
            "customer": self.customer,
            "reference": self.customer,
            "entity": self.entity,
            "items": self.item,
            "reason": "price",
            "action": self.action,
            "case": self.litigation if command.startswith("litigation") else self.case,
            "name": "Standard",
            "url": f"sqlite:///{self.folder / 'other.sqlite3'}",
            "login": "arossi",
            "host": "127.0.0.1",
            "amount": "10.00",
            "search": "a",
        }
        if dest in by_dest:
            return by_dest[dest]
        if dest in {"file", "out", "ca_file"}:
            if command in {"import", "scenario import"}:
                return str(self.xlsx)
            suffix = {"export items": ".xlsx", "litigation export": ".zip"}
            return str(self.folder / f"out{suffix.get(command, '.json')}")
        return "1"

    def wrong(self, action: argparse.Action) -> list[str]:
        """Values that must be refused (or at least never crash)."""
        if _is_date(action):
            return list(BAD_DATES)
        if action.type is parse_language:
            return ["xx", "FRA"]
        if action.choices:
            return ["bogus"]
        if action.type is Path:
            # A folder no run has created yet, a folder where a file goes, a
            # file where a folder goes.
            missing = self.folder / f"missing-{uuid.uuid4().hex[:8]}" / "dir"
            return [
                str(missing / "file.xlsx"),
                str(missing / "file.csv"),
                str(self.a_folder),
                str(self.a_file),
            ]
        if action.type is not None:  # numbers, amounts, ports: any kind of wrong
            return [*BAD_NUMBERS, "NaN", "", *BAD_DATES[:2]]
        return [UNKNOWN, ""]


def _database_url(kind: str, folder: Path) -> Iterator[str]:
    if kind == "sqlite":
        yield f"sqlite:///{folder / 'book.sqlite3'}"
        return
    require_pg()
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(make_url(PG_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    try:
        yield pg_schema_url(schema)
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def book(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Book]:
    folder = tmp_path_factory.mktemp("walk")
    yield from (Book(url, folder) for url in _database_url(request.param, folder))


def _run(
    argv: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    book: Book,
) -> tuple[int, str, str]:
    # Each run gets its own settings: `config set-*` or `mail configure` with
    # a wrong value must not change what the next run sees.
    monkeypatch.setenv("O2C_CONFIG_DIR", str(book.folder / "config" / uuid.uuid4().hex))
    monkeypatch.setenv("O2C_DATABASE_URL", book.url)
    monkeypatch.setenv("O2C_USER", "arossi")
    monkeypatch.chdir(book.folder)  # documents go to the current folder by default
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def _problem(argv: list[str], code: int, out: str, err: str) -> str | None:
    """What is wrong with how the command failed, or None."""
    shown = " ".join(argv)
    if "Traceback" in out + err or "Exception ignored" in err:
        return f"o2c {shown}: traceback\n{err}"
    if code == 0:
        return None  # the value was acceptable after all: no crash is enough
    lines = err.splitlines()
    if len(lines) != 1 or not lines[0].startswith("o2c: error: "):
        return f"o2c {shown}: exit {code} with stderr {err!r}"
    return None


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_every_wrong_value_gives_one_line_and_no_traceback(
    command: str,
    book: Book,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    parser = COMMANDS[command]
    words = command.split()
    arguments = _arguments(parser)
    required = [a for a in arguments if a.required]

    def argv(under_test: argparse.Action | None = None, value: str = "") -> list[str]:
        out = list(words)
        for a in arguments:
            if a is under_test:
                chosen = value
            elif a.required:
                chosen = book.good(command, a)
            else:
                continue
            out += [chosen] if not a.option_strings else [a.option_strings[0], chosen]
        return out

    runs: list[list[str]] = [[*argv(), "--no-such-option"]]
    if required:
        runs.append(list(words))  # the required arguments missing
    for a in arguments:
        runs += [argv(a, value) for value in book.wrong(a)]
    problems = []
    for run in runs:
        code, out, err = _run(run, monkeypatch, capsys, book)
        found = _problem(run, code, out, err)
        if found:
            problems.append(found)
    assert not problems, "\n".join(problems)


def test_the_walk_sees_every_command() -> None:
    # A command registered outside build_parser() would escape the walk.
    assert {"dunning run", "customers list", "export items", "import"} <= set(COMMANDS)
    assert all(p.get_default("handler") is not None for p in COMMANDS.values())


def test_one_line_errors_and_help_still_work(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["dunning", "run", "--date", "2026-13-01"]) == 2
    err = capsys.readouterr().err
    assert err == (
        "o2c: error: argument --date: invalid date '2026-13-01': use YYYY-MM-DD "
        "(see 'o2c dunning run --help')\n"
    )
    assert main(["dunning", "run", "--help"]) == 0
    assert "--dry-run" in capsys.readouterr().out
    assert main(["documents", "statement", "--customer", "1", "--lang", "xx"]) == 2
    assert "unknown language 'xx' (available: de, en, es, fr)" in (
        capsys.readouterr().err
    )
