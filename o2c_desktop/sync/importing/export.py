"""Writing items to .xlsx or .csv in our own layout, which imports back unchanged.

Each row carries its entity's code, so a file of several entities re-imports
into the right ones without ``--entity``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from o2c_desktop.sync.importing.fields import OWN_HEADERS

if TYPE_CHECKING:
    from collections.abc import Iterable
    from decimal import Decimal
    from pathlib import Path

SHEET_NAME = "Items"
SUFFIXES = (".xlsx", ".csv")
_FORMULA_START = ("=", "+", "-", "@")
# CSV has no text type: a leading apostrophe keeps "=..." from being a formula
# in a spreadsheet (OWASP), and the import takes it off again (values.py).
CSV_GUARD = "'"


@dataclass(frozen=True)
class ExportRow:
    """One item as exported (plain values, no ORM)."""

    customer_ref: str
    customer_name: str
    number: str
    instalment: int
    kind: str
    reference: str | None
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    remaining: Decimal
    currency: str
    entity: str = ""


def write_items(path: Path, rows: Iterable[ExportRow]) -> int:
    """Write `rows` to `path` as .xlsx or .csv, by its suffix; return how many.

    Raises:
        ValueError: another suffix.
    """
    check_suffix(path)
    if path.suffix.lower() == ".csv":
        return write_items_csv(path, rows)
    return write_items_xlsx(path, rows)


def check_suffix(path: Path) -> None:
    """Refuse a file name the export can't honour (an xlsx named .csv misleads).

    Raises:
        ValueError: neither .xlsx nor .csv.
    """
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(
            f"{path.name or path}: items are written as .xlsx or .csv, "
            f"not {suffix or 'a file without suffix'}"
        )


def write_items_csv(path: Path, rows: Iterable[ExportRow]) -> int:
    """Write `rows` to `path` as UTF-8 CSV (BOM, for Excel); return how many.

    Text starting with = + - or @ gets a leading apostrophe, never a formula.
    """
    import csv

    def text(value: str | None) -> str:
        if value and value.startswith(_FORMULA_START):
            return CSV_GUARD + value
        return value or ""

    tmp = path.with_name(path.name + ".part")
    count = 0
    with tmp.open("w", encoding="utf-8-sig", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([h for h, _f in OWN_HEADERS])
        for r in rows:
            out.writerow(
                [
                    text(r.customer_ref),
                    text(r.customer_name),
                    text(r.number),
                    r.instalment,
                    r.kind,
                    text(r.reference),
                    r.issue_date.isoformat(),
                    r.due_date.isoformat(),
                    r.amount,
                    r.remaining,
                    r.currency,
                    text(r.entity),
                ]
            )
            count += 1
    tmp.replace(path)
    return count


def write_items_xlsx(path: Path, rows: Iterable[ExportRow]) -> int:
    """Write `rows` to `path`; return how many were written.

    Text is always written as text: a value starting with = + - or @ is
    data, never a formula (CSV/formula injection).
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_NAME)

    def text(value: str | None) -> Any:
        if value and value.startswith(_FORMULA_START):
            cell = WriteOnlyCell(sheet, value=value)
            cell.data_type = "s"
            return cell
        return value or ""

    def day(value: dt.date) -> Any:
        cell = WriteOnlyCell(sheet, value=dt.datetime.combine(value, dt.time()))
        cell.number_format = "yyyy-mm-dd"
        return cell

    sheet.append([h for h, _f in OWN_HEADERS])
    count = 0
    for r in rows:
        sheet.append(
            [
                text(r.customer_ref),
                text(r.customer_name),
                text(r.number),
                r.instalment,
                r.kind,
                text(r.reference),
                day(r.issue_date),
                day(r.due_date),
                r.amount,
                r.remaining,
                r.currency,
                text(r.entity),
            ]
        )
        count += 1
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
    return count
