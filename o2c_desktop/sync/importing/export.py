"""Writing items to .xlsx or .csv in our own layout, which imports back unchanged.

Each row carries its entity's code, so a file of several entities re-imports
into the right ones without ``--entity``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from o2c_desktop.sync import spreadsheet
from o2c_desktop.sync.importing.fields import OWN_HEADERS

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable
    from decimal import Decimal
    from pathlib import Path

SHEET_NAME = "Items"
SUFFIXES = (".xlsx", ".csv")


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

    Through `o2c_desktop.sync.spreadsheet`: text starting with = + - or @ gets
    a leading apostrophe, never a formula, and the import takes it off again.
    """
    return spreadsheet.save_csv(
        path, (_cells(r) for r in rows), header=[h for h, _f in OWN_HEADERS]
    )


def _cells(r: ExportRow) -> list[object]:
    """One row's cells in the order of `OWN_HEADERS`."""
    return [
        r.customer_ref,
        r.customer_name,
        r.number,
        r.instalment,
        r.kind,
        r.reference or "",
        r.issue_date,
        r.due_date,
        r.amount,
        r.remaining,
        r.currency,
        r.entity,
    ]


def write_items_xlsx(path: Path, rows: Iterable[ExportRow]) -> int:
    """Write `rows` to `path`; return how many were written.

    Text is always written as text (`o2c_desktop.sync.spreadsheet`): a value
    starting with = + - or @ is data, never a formula.
    """
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet(SHEET_NAME)
    spreadsheet.append(sheet, [h for h, _f in OWN_HEADERS])
    count = 0
    for r in rows:
        spreadsheet.append(sheet, _cells(r))
        count += 1
    spreadsheet.save_workbook(book, path)
    return count
