"""The one spreadsheet writer: text stays text, numbers and dates stay typed."""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from openpyxl import Workbook, load_workbook

from o2c_desktop.sync import spreadsheet

if TYPE_CHECKING:
    from pathlib import Path

HOSTILE = [
    '=HYPERLINK("http://x","y")',
    "=cmd|' /C calc'!A0",
    "+33 1 23",
    "-2+3",
    "@SUM(A1)",
    "\t=1+1",
    "\r=1+1",
]


def test_csv_neutralises_text_that_a_spreadsheet_would_run() -> None:
    text = spreadsheet.csv_text(
        [
            [h, "plain", Decimal("-100.00"), -3, dt.date(2026, 3, 1), None]
            for h in HOSTILE
        ],
        header=["value", "other", "amount", "days", "day", "empty"],
    )
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0] == ["value", "other", "amount", "days", "day", "empty"]
    assert [r[0] for r in rows[1:]] == ["'" + h for h in HOSTILE]
    # Numbers and dates are values, not text: a negative amount stays one.
    assert rows[1][1:] == ["plain", "-100.00", "-3", "2026-03-01", ""]


@pytest.mark.parametrize("write_only", [False, True])
def test_xlsx_stores_text_as_text_and_numbers_and_dates_typed(
    tmp_path: Path, write_only: bool
) -> None:
    book = Workbook(write_only=write_only)
    sheet = book.create_sheet("Data") if write_only else book.active
    for value in HOSTILE:
        spreadsheet.append(
            sheet, [value, None, Decimal("-12.50"), 7, dt.date(2026, 3, 1)]
        )
    spreadsheet.append(sheet, ["a\x00name\x1bwith controls", True])
    path = tmp_path / "out.xlsx"
    spreadsheet.save_workbook(book, path)
    assert not (tmp_path / "out.xlsx.part").exists()

    read = load_workbook(path)
    rows = list(read.worksheets[-1].iter_rows())
    for row, value in zip(rows, HOSTILE, strict=False):
        text, empty, amount, days, day = row
        # The file format keeps a carriage return as a line feed.
        assert text.value == value.replace("\r", "\n")
        assert text.data_type == "s"
        assert text.quotePrefix  # Excel keeps it text when the cell is edited
        assert (amount.value, amount.data_type) == (-12.5, "n")
        assert days.value == 7
        assert isinstance(day.value, dt.datetime)
        assert day.value.date() == dt.date(2026, 3, 1)
        assert day.is_date
        assert empty.value is None
    assert rows[-1][0].value == "anamewith controls"
    assert rows[-1][1].value is True


def test_a_workbook_that_cannot_be_saved_leaves_no_part_file(tmp_path: Path) -> None:
    book = Workbook()
    spreadsheet.append(book.active, ["x"])
    with pytest.raises(OSError, match="missing"):
        spreadsheet.save_workbook(book, tmp_path / "missing" / "out.xlsx")
    assert list(tmp_path.iterdir()) == []
