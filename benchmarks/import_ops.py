"""Import benchmarks (#3): run `python -m benchmarks.import_ops [PG_URL]`.

Budgets: 100k x 10 xlsx end to end <= 3x calamine alone; 1M-row CSV <= 40 s
and <= 1.5 GB peak; re-import faster than first; preview of 100k <= 2 s;
100k paid invoices (--history) end to end <= 3x calamine alone (#17).
"""

from __future__ import annotations

import datetime as dt
import resource
import sys
import tempfile
import time
from pathlib import Path

from sqlalchemy.orm import sessionmaker

from o2c_desktop.models import Base
from o2c_desktop.models.db import AuditedSession, Database, make_engine
from o2c_desktop.services.importing import ImportService
from o2c_desktop.sync.importing.parse import PREVIEW_ROWS

HEAD = [
    "Code client",
    "Nom client",
    "N° facture",
    "Date facture",
    "Date d'échéance",
    "Montant TTC",
    "Reste dû",
    "Devise",
    "Référence",
    "Type",
]
AS_OF = dt.date(2026, 3, 31)


def make_xlsx(path: Path, rows: int = 100_000) -> Path:
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Balance")
    sheet.append(HEAD)
    day = dt.date(2026, 1, 1)
    for i in range(rows):
        sheet.append(
            [
                f"C{i % 10000:05d}",
                f"Client {i % 10000}",
                f"F{i:07d}",
                day,
                day + dt.timedelta(days=30 + i % 60),
                1234.56,
                1000.5,
                "EUR",
                f"PO{i}",
                "Facture",
            ]
        )
    book.save(path)
    return path


HISTORY_HEAD = [*HEAD, "Date de règlement"]


def make_history_xlsx(path: Path, rows: int = 100_000) -> Path:
    """100k paid invoices: each row settled 0-59 days after its due date."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Historique")
    sheet.append(HISTORY_HEAD)
    day = dt.date(2025, 1, 1)
    for i in range(rows):
        issue = day + dt.timedelta(days=i % 300)
        due = issue + dt.timedelta(days=30)
        sheet.append(
            [
                f"C{i % 10000:05d}",
                f"Client {i % 10000}",
                f"H{i:07d}",
                issue,
                due,
                1234.56,
                0,
                "EUR",
                f"PO{i}",
                "Facture",
                due + dt.timedelta(days=i % 60),
            ]
        )
    book.save(path)
    return path


def history_import(service: ImportService, path: Path) -> float:
    from o2c_desktop.sync.importing.parse import ImportOptions

    start = time.perf_counter()
    parsed = service.preview(path, ImportOptions(history=True))
    service.apply(parsed, as_of=AS_OF)
    return time.perf_counter() - start


def make_csv(path: Path, rows: int = 1_000_000) -> Path:
    with path.open("w", encoding="utf-8") as fh:
        fh.write(";".join(HEAD) + "\n")
        fh.writelines(
            f"C{i % 100000:06d};Client {i % 100000};F{i:07d};01/02/2026;"
            f"{1 + i % 28:02d}/03/2026;1 234,56;1 000,00;EUR;PO{i};Facture\n"
            for i in range(rows)
        )
    return path


def database(url: str) -> Database:
    engine = make_engine(url)
    Base.metadata.drop_all(engine)
    Base.metadata.create_all(engine)
    return Database(engine, sessionmaker(engine, class_=AuditedSession))


def calamine_only(path: Path) -> float:
    import python_calamine

    start = time.perf_counter()
    book = python_calamine.CalamineWorkbook.from_path(str(path))
    book.get_sheet_by_index(0).to_python()
    return time.perf_counter() - start


def end_to_end(service: ImportService, path: Path) -> float:
    start = time.perf_counter()
    service.apply(service.preview(path), as_of=AS_OF, confirm_close=True)
    return time.perf_counter() - start


def preview_time(service: ImportService, path: Path) -> float:
    """What the import screen waits for: the layout and the first rows."""
    start = time.perf_counter()
    service.preview(path, limit=PREVIEW_ROWS)
    return time.perf_counter() - start


def main(urls: list[str]) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="o2c-bench-"))
    xlsx = make_xlsx(tmp / "b100k.xlsx")
    big = make_csv(tmp / "b1m.csv")
    warm = make_xlsx(tmp / "warm.xlsx", rows=200)
    history = make_history_xlsx(tmp / "h100k.xlsx")
    for url in urls or [f"sqlite:///{tmp / 'bench.sqlite3'}"]:
        # One small import first: module imports (pyarrow, pandas) and SQL
        # compilation are paid once per process, not per file.
        cold = end_to_end(ImportService(database(url)), warm)
        service = ImportService(database(url))
        engine = url.split(":")[0]
        calamine = calamine_only(xlsx)
        first = end_to_end(service, xlsx)
        again = end_to_end(service, xlsx)
        print(
            f"[{engine}] 100k xlsx: calamine {calamine:.2f} s, first import "
            f"{first:.2f} s ({first / calamine:.1f}x), re-import {again:.2f} s, "
            f"preview {preview_time(service, xlsx):.2f} s "
            f"(warm-up import of 200 rows before: {cold:.2f} s)"
        )
        service = ImportService(database(url))
        calamine_h = calamine_only(history)
        paid = history_import(service, history)
        print(
            f"[{engine}] 100k paid history xlsx (--history): calamine "
            f"{calamine_h:.2f} s, import {paid:.2f} s ({paid / calamine_h:.1f}x)"
        )
        service = ImportService(database(url))
        million = end_to_end(service, big)
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"[{engine}] 1M csv: {million:.1f} s, peak RSS so far {peak:.0f} MB")


if __name__ == "__main__":
    main(sys.argv[1:])
