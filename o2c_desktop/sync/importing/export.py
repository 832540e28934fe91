"""Writing items to .xlsx in our own layout, which imports back unchanged."""

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
_FORMULA_START = ("=", "+", "-", "@")


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
            ]
        )
        count += 1
    tmp = path.with_name(path.name + ".part")
    book.save(tmp)
    tmp.replace(path)
    return count
