"""Applying imports to the book, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
import textwrap
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from o2c_desktop.engine.types import ItemKind
from o2c_desktop.models import BalanceSnapshot, Customer, Entity, Item, SnapshotLine
from o2c_desktop.services.importing import (
    ImportCancelledError,
    ImportRefusedError,
    ImportService,
    list_profiles,
    load_profile,
    save_profile,
)
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path

    from o2c_desktop.models.db import Database

D = dt.date
HEAD = [
    "Code client",
    "Nom client",
    "N° facture",
    "Type",
    "Date facture",
    "Date d'échéance",
    "Montant TTC",
    "Reste dû",
]


def _file(path: Path, rows: Sequence[Sequence[object]]) -> Path:
    return b.write_csv(path, [HEAD, *rows])


def _items(db: Database) -> dict[str, tuple[str, Decimal, ItemKind, dt.date | None]]:
    with db.session() as s:
        return {
            i.number: (i.status.value, i.remaining, i.kind, i.closed_on)
            for i in s.scalars(select(Item))
        }


FIRST = [
    ["C1", "Dupont", "F1", "Facture", "01/01/2026", "31/01/2026", "100,00", "100,00"],
    ["C1", "Dupont", "F2", "Facture", "05/01/2026", "04/02/2026", "50,00", "20,00"],
    ["C1", "Dupont", "AV1", "Avoir", "06/01/2026", "06/01/2026", "10,00", "10,00"],
    ["C2", "Martin", "P1", "Règlement", "07/01/2026", "07/01/2026", "-5,00", "-5,00"],
]


def test_full_import_then_reimport_then_payment(db: Database, tmp_path: Path) -> None:
    service = ImportService(db, "tester")
    first = service.apply(
        service.preview(_file(tmp_path / "a.csv", FIRST)),
        entity_code="FR01",
        as_of=D(2026, 2, 1),
    )
    assert (first.entity_created, first.customers_created, first.items_created) == (
        True,
        2,
        4,
    )
    assert first.outstanding_after == Decimal("105.00")
    items = _items(db)
    assert items["AV1"][1:3] == (Decimal("-10.00"), ItemKind.CREDIT_NOTE)
    assert items["P1"][1:3] == (Decimal("-5.00"), ItemKind.UNAPPLIED_CASH)
    again = service.apply(service.preview(tmp_path / "a.csv"), as_of=D(2026, 2, 1))
    assert (again.items_created, again.items_updated, again.items_unchanged) == (
        0,
        0,
        4,
    )
    # F1 paid, F2 partly paid, C2 renamed.
    later = [[*FIRST[1][:7], "15,00"], FIRST[2], ["C2", "Martin SA", *FIRST[3][2:]]]
    third = service.apply(
        service.preview(_file(tmp_path / "b.csv", later)),
        entity_code="FR01",
        as_of=D(2026, 3, 1),
        confirm_close=True,
    )
    assert (third.items_updated, third.items_closed, third.customers_updated) == (
        1,
        1,
        1,
    )
    items = _items(db)
    assert items["F1"] == ("closed", Decimal("0.00"), ItemKind.INVOICE, D(2026, 3, 1))
    assert items["F2"][1] == Decimal("15.00")
    with db.session() as s:
        snaps = s.scalars(select(BalanceSnapshot).order_by(BalanceSnapshot.id)).all()
        assert [x.outstanding for x in snaps] == [Decimal("105.00")] * 2 + [
            Decimal("0.00")
        ]
        lines = s.execute(select(func.count()).select_from(SnapshotLine)).scalar_one()
        assert lines == 6
        assert (
            s.scalar(select(Customer.name).where(Customer.reference == "C2"))
            == "Martin SA"
        )


def test_partial_import_closes_nothing(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    service.apply(
        service.preview(_file(tmp_path / "a.csv", FIRST)), as_of=D(2026, 2, 1)
    )
    part = service.apply(
        service.preview(_file(tmp_path / "p.csv", FIRST[:1])),
        as_of=D(2026, 2, 2),
        partial=True,
    )
    assert (part.items_closed, part.snapshot_id) == (0, None)
    assert {v[0] for v in _items(db).values()} == {"open"}


def test_errors_write_nothing_unless_valid_only(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    service.apply(
        service.preview(_file(tmp_path / "a.csv", FIRST)), as_of=D(2026, 2, 1)
    )
    before = _items(db)
    bad = [FIRST[0], ["C3", "New", "F9", "Facture", "01/01/2026", "xx", "1,00", "1,00"]]
    parsed = service.preview(_file(tmp_path / "bad.csv", bad))
    with pytest.raises(ImportRefusedError, match="1 rows have errors"):
        service.apply(parsed, as_of=D(2026, 3, 1))
    assert _items(db) == before
    result = service.apply(
        parsed, as_of=D(2026, 3, 1), valid_only=True, confirm_close=True
    )
    assert (result.rows_imported, result.rows_rejected, result.items_closed) == (
        1,
        1,
        3,
    )


def test_cancel_and_dry_run_write_nothing(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    parsed = service.preview(_file(tmp_path / "a.csv", FIRST))
    with pytest.raises(ImportCancelledError):
        service.apply(parsed, as_of=D(2026, 2, 1), cancelled=lambda: True)
    dry = service.apply(parsed, as_of=D(2026, 2, 1), dry_run=True)
    assert dry.items_created == 4
    assert _items(db) == {}
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Entity)) == 0
    seen: list[int] = []
    service.apply(parsed, as_of=D(2026, 2, 1), report=seen.append)
    assert seen[-1] == 100
    assert seen == sorted(seen)


def test_entity_rules(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    parsed = service.preview(_file(tmp_path / "a.csv", FIRST))
    service.apply(parsed, entity_code="FR01", as_of=D(2026, 2, 1))
    with pytest.raises(ImportRefusedError, match="no entity 'FR02'"):
        service.apply(parsed, entity_code="FR02", as_of=D(2026, 2, 1))
    created = service.apply(
        parsed, entity_code="FR02", as_of=D(2026, 2, 1), create_entity=True
    )
    assert created.entity_created
    with pytest.raises(ImportRefusedError, match="several entities"):
        service.apply(parsed, as_of=D(2026, 2, 1))


def test_fec_due_dates_from_terms_or_default(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    path = b.fec(tmp_path / "FEC.txt")
    service.apply(service.preview(path), as_of=D(2026, 2, 28))
    with db.session() as s:
        s.execute(
            update(Customer)
            .where(Customer.reference == "C001")
            .values(payment_terms_days=45)
        )
    parsed = service.preview(path)
    service.apply(parsed, as_of=D(2026, 2, 28))
    with db.session() as s:
        due = dict(s.execute(select(Item.number, Item.due_date)).all())
    assert due["FA001"] == D(2026, 1, 15) + dt.timedelta(days=45)
    assert due["RG001"] == D(2026, 2, 1) + dt.timedelta(days=30)


def test_export_round_trip(db: Database, tmp_path: Path) -> None:
    service = ImportService(db)
    rows = [
        *FIRST,
        [
            "00042",
            "=cmd|' /C calc'!A0",
            "-F3",
            "Facture",
            "01/01/2026",
            "31/01/2026",
            "1 000,00",
            "999,99",
        ],
    ]
    service.apply(service.preview(_file(tmp_path / "a.csv", rows)), as_of=D(2026, 2, 1))
    before = _items(db)
    count = service.export_items(tmp_path / "out.xlsx")
    assert count == 5
    parsed = service.preview(tmp_path / "out.xlsx")
    assert parsed.layout == "o2c"
    assert not parsed.questions
    again = service.apply(parsed, as_of=D(2026, 2, 1))
    assert (again.items_unchanged, again.items_closed) == (5, 0)
    assert _items(db) == before
    with db.session() as s:
        name = s.scalar(select(Customer.name).where(Customer.reference == "00042"))
    assert name == "=cmd|' /C calc'!A0"
    from openpyxl import load_workbook

    sheet = load_workbook(tmp_path / "out.xlsx").active
    assert sheet is not None
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_profiles(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "odd.csv",
        [
            ["Cli", "Doc", "Quand", "Limite", "Combien"],
            ["A1", "X-1", "01/02/2026", "03/03/2026", "10,00"],
        ],
    )
    from o2c_desktop.sync.importing.parse import parse_file

    save_profile("Mon ERP", parse_file(path))
    assert list_profiles() == ["Mon ERP"]
    parsed = parse_file(path, load_profile("Mon ERP"))
    assert not parsed.questions
    with pytest.raises(LookupError):
        load_profile("nope")


def test_killed_mid_import_leaves_the_database_as_before(
    db: Database, tmp_path: Path
) -> None:
    service = ImportService(db)
    service.apply(
        service.preview(_file(tmp_path / "a.csv", FIRST)), as_of=D(2026, 2, 1)
    )
    before = _items(db)
    big = tmp_path / "big.csv"
    with big.open("w", encoding="utf-8") as fh:
        fh.write(";".join(HEAD) + "\n")
        fh.writelines(
            f"C{i % 997};N;F{i};Facture;01/01/2026;31/01/2026;1,00;1,00\n"
            for i in range(200_000)
        )
    script = textwrap.dedent(f"""
        import datetime, sys
        from sqlalchemy.orm import sessionmaker
        from o2c_desktop.models.db import AuditedSession, Database, make_engine
        from o2c_desktop.services.importing import ImportService
        engine = make_engine({db.engine.url.render_as_string(hide_password=False)!r})
        db = Database(engine, sessionmaker(engine, class_=AuditedSession))
        service = ImportService(db)
        parsed = service.preview({str(big)!r})
        def report(pct):
            print(pct, flush=True)
        service.apply(
            parsed, as_of=datetime.date(2026, 2, 1), report=report, confirm_close=True
        )
        print("done", flush=True)
    """)
    with subprocess.Popen(
        [sys.executable, "-c", script],
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ},
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip().isdigit() and int(line) >= 55:
                break  # rows staged, upsert under way: kill it there
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert _items(db) == before
