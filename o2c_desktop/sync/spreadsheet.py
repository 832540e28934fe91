"""The one writer of the spreadsheets the app hands out (.xlsx and .csv).

Names, phones and comments come from customers and colleagues, and the files
go to lawyers and accountants who open them in Excel or LibreOffice. Text is
therefore always data, never a formula (CSV/formula injection, OWASP):

- in an .xlsx, a text cell is stored as a string, and one that looks like a
  formula also gets Excel's quote prefix, so that editing it keeps it text;
- in a .csv, a text starting with ``= + - @``, a tab or a carriage return is
  prefixed with a single quote, the neutralisation OWASP recommends.

Numbers and dates stay numbers and dates, so that sums and filters work.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import os
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    from openpyxl import Workbook

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
DATE_FORMAT = "yyyy-mm-dd"
# What an .xlsx cannot hold (openpyxl refuses it): control characters but
# tab, line feed and carriage return. A pasted name can carry them.
_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def csv_safe(text: str) -> str:
    """`text` as a CSV cell no spreadsheet reads as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def csv_value(value: object) -> str:
    """One CSV cell: text neutralised, numbers and ISO dates as they are."""
    if value is None:
        return ""
    if isinstance(value, str):
        return csv_safe(value)
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def csv_text(
    rows: Iterable[Sequence[object]],
    *,
    header: Sequence[str] | None = None,
    delimiter: str = ",",
) -> str:
    """Rows as CSV text, every text cell neutralised (see the module doc)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    if header is not None:
        writer.writerow([csv_value(h) for h in header])
    writer.writerows([csv_value(v) for v in row] for row in rows)
    return buffer.getvalue()


def save_csv(
    path: Path,
    rows: Iterable[Sequence[object]],
    *,
    header: Sequence[str],
    encoding: str = "utf-8-sig",  # with a BOM, so Excel reads the accents
) -> int:
    """Stream `rows` to `path` as CSV, atomically; return how many rows.

    Raises:
        OSError: the file cannot be written (a missing folder, no permission).
    """
    tmp = path.with_name(path.name + ".part")
    count = 0
    try:
        with tmp.open("w", encoding=encoding, newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([csv_value(h) for h in header])
            for row in rows:
                writer.writerow([csv_value(v) for v in row])
                count += 1
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def cell(sheet: Any, value: object, column: int = 1) -> Any:
    """An openpyxl cell for `sheet` (normal or write-only) holding `value`.

    Text is stored as text (never a formula); dates get a date format;
    numbers, Decimals included, stay numbers. `column` is where it goes
    (write-only sheets need it before the row is appended).
    """
    from openpyxl.cell.cell import Cell

    if value is not None and not isinstance(
        value, str | int | float | Decimal | dt.date
    ):
        value = str(value)  # an enum or a code: written as the text it shows
    if isinstance(value, str):
        text = _ILLEGAL.sub("", value)
        result = Cell(sheet, row=1, column=column, value=text)
        # openpyxl makes a formula of any text starting with "=": undo it.
        result.data_type = "s"
        if text.startswith(FORMULA_START):
            result.quotePrefix = True
        return result
    if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
        result = Cell(
            sheet, row=1, column=column, value=dt.datetime.combine(value, dt.time())
        )
        result.number_format = DATE_FORMAT
        return result
    return value  # numbers, timestamps and blanks: openpyxl types them itself


def append(sheet: Any, values: Iterable[object]) -> None:
    """Append one row of `values` to `sheet` through `cell`."""
    sheet.append([cell(sheet, v, n) for n, v in enumerate(values, 1)])


def save_workbook(book: Workbook, target: Path | str | BinaryIO) -> None:
    """Save `book` to a stream, or to a path atomically (never half a file).

    Raises:
        OSError: the file cannot be written (a missing folder, no permission).
    """
    if not isinstance(target, str | os.PathLike):
        book.save(target)
        return
    path = Path(target)
    tmp = path.with_name(path.name + ".part")
    try:
        book.save(tmp)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def workbook_bytes(book: Workbook) -> bytes:
    """`book` as .xlsx bytes (for a zip or an attachment)."""
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()
