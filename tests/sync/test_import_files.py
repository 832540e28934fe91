"""Bad input and awkward files: every problem says where and why."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from functools import partial
from typing import TYPE_CHECKING

import pandas as pd  # noqa: TID253 - test data frames
import pytest
from openpyxl import Workbook

from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.sync.importing.parse import ImportOptions, parse_file
from o2c_desktop.sync.importing.values import amount_column, date_column, text_column
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from collections.abc import Callable
    from pathlib import Path

D = dt.date
HEAD = [
    "Code client",
    "N° facture",
    "Date facture",
    "Date d'échéance",
    "Montant TTC",
    "Reste dû",
]


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("1 234,56", 123456),
        ("1\u00a0234,56", 123456),
        ("1\u202f234,56", 123456),
        ("1.234,56", 123456),
        ("1,234.56", 123456),
        ("-12,50", -1250),
        ("(12,50)", -1250),
        ("12,50-", -1250),
        ("€ 1 000", 100000),
        ("12,5 EUR", 1250),
        ("1,284", 128400),
        (" 000000000001437,12", 143712),
        (12.3, 1230),
    ],
)
def test_amounts(text: object, cents: int) -> None:
    parsed = amount_column(pd.Series([text], dtype=object))
    assert parsed.ok[0]
    assert parsed.values[0] == cents


@pytest.mark.parametrize("text", ["abc", "=SUM(A1:A3)", "12,3,4x"])
def test_text_in_amount(text: str) -> None:
    assert not amount_column(pd.Series([text], dtype=object)).ok[0]


@pytest.mark.parametrize(
    ("cells", "expected"),
    [
        (["31/03/2026", "01/02/2026"], [D(2026, 3, 31), D(2026, 2, 1)]),
        (["31.03.2026"], [D(2026, 3, 31)]),
        (["2026-03-31"], [D(2026, 3, 31)]),
        ([46112], [D(2026, 3, 31)]),
        (["20260331"], [D(2026, 3, 31)]),
    ],
)
def test_dates(cells: list[object], expected: list[dt.date]) -> None:
    parsed = date_column(pd.Series(cells, dtype=object))
    assert [dt.date.fromisoformat(str(v)) for v in parsed.values] == expected


def test_identifiers_keep_leading_zeros_and_formulas_stay_text() -> None:
    values = text_column(pd.Series(["00042", 1001.0, "=1+2", "-7", "@x"], dtype=object))
    assert list(values.values) == ["00042", "1001", "=1+2", "-7", "@x"]


def _msg(parsed) -> str:  # type: ignore[no-untyped-def]
    return " | ".join(str(p) for p in parsed.problems)


def test_empty_file(tmp_path: Path) -> None:
    (tmp_path / "e.xlsx").write_bytes(b"")
    parsed = parse_file(tmp_path / "e.xlsx")
    assert parsed.fatal
    assert "empty" in _msg(parsed)


def test_pdf_renamed_xlsx(tmp_path: Path) -> None:
    (tmp_path / "balance.xlsx").write_bytes(b"%PDF-1.7\n%\xe2\xe3\n1 0 obj\n")
    parsed = parse_file(tmp_path / "balance.xlsx")
    assert parsed.fatal
    assert "PDF" in _msg(parsed)


def test_password_protected_workbook(tmp_path: Path) -> None:
    msoffcrypto = pytest.importorskip("msoffcrypto")
    plain = b.xlsx(
        tmp_path / "plain.xlsx",
        [HEAD, ["C1", "F1", D(2026, 1, 1), D(2026, 1, 31), 10, 10]],
    )
    encrypted = tmp_path / "locked.xlsx"
    with plain.open("rb") as src, encrypted.open("wb") as dst:
        office = msoffcrypto.OfficeFile(src)
        office.encrypt("secret", dst)
    parsed = parse_file(encrypted)
    assert parsed.fatal
    assert "password-protected" in _msg(parsed)


def test_several_sheets_best_one_or_chosen_one(tmp_path: Path) -> None:
    book = Workbook()
    summary = book.active
    assert summary is not None
    summary.title = "Summary"
    summary.append(["Report of the month"])
    detail = book.create_sheet("Detail")
    detail.append(HEAD)
    detail.append(["C1", "F1", D(2026, 1, 1), D(2026, 1, 31), 10, 10])
    other = book.create_sheet("Other")
    other.append(HEAD)
    other.append(["C2", "F2", D(2026, 1, 1), D(2026, 1, 31), 20, 20])
    book.save(tmp_path / "multi.xlsx")
    parsed = parse_file(tmp_path / "multi.xlsx")
    assert parsed.sheet == "Detail"
    assert parsed.sheets == ["Summary", "Detail", "Other"]
    chosen = parse_file(tmp_path / "multi.xlsx", ImportOptions(sheet="Other"))
    assert [r.number for r in chosen.sample()] == ["F2"]


def test_hidden_sheet_skipped_hidden_rows_kept(tmp_path: Path) -> None:
    book = Workbook()
    hidden = book.active
    assert hidden is not None
    hidden.title = "Old"
    hidden.append(HEAD)
    for i in range(5):
        hidden.append([f"C{i}", f"OLD{i}", D(2026, 1, 1), D(2026, 1, 31), 10, 10])
    hidden.sheet_state = "hidden"
    live = book.create_sheet("Live")
    live.append(HEAD)
    live.append(["C1", "F1", D(2026, 1, 1), D(2026, 1, 31), 10, 10])
    live.append(["C1", "F2", D(2026, 1, 1), D(2026, 1, 31), 10, 10])
    live.row_dimensions[3].hidden = True  # hidden, still owed: a filter must not pay it
    book.save(tmp_path / "hidden.xlsx")
    parsed = parse_file(tmp_path / "hidden.xlsx")
    assert parsed.sheet == "Live"
    assert [r.number for r in parsed.sample()] == ["F1", "F2"]


def test_merged_header_cells_over_two_rows(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(["Client", "N° facture", "Échéance", "Montant", None])
    ws.append([None, None, None, "TTC", "Reste dû"])
    ws.merge_cells("A1:A2")
    ws.merge_cells("B1:B2")
    ws.merge_cells("C1:C2")
    ws.merge_cells("D1:E1")
    ws.append(["C1", "F1", D(2026, 1, 31), 120, 100])
    book.save(tmp_path / "merged.xlsx")
    parsed = parse_file(tmp_path / "merged.xlsx")
    fields = {c.header: c.field.value for c in parsed.columns}
    assert fields["Montant TTC"] == "amount"
    assert fields["Reste dû"] == "remaining"
    (row,) = parsed.sample()
    assert (row.amount, row.remaining) == (Decimal("120.00"), Decimal("100.00"))


def test_formulas_use_cached_values(tmp_path: Path) -> None:
    book = Workbook()
    ws = book.active
    assert ws is not None
    ws.append(HEAD)
    ws.append(["C1", "F1", D(2026, 1, 1), D(2026, 1, 31), 100, "=E2-40"])
    book.save(tmp_path / "f.xlsx")
    # openpyxl can't compute; write the cached value Excel would have saved.
    with zipfile.ZipFile(tmp_path / "f.xlsx") as src:
        parts = {n: src.read(n) for n in src.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>E2-40</f><v />", b"<f>E2-40</f><v>60</v>")
    assert b"<v>60</v>" in parts[sheet]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    (tmp_path / "f.xlsx").write_bytes(buffer.getvalue())
    (row,) = parse_file(tmp_path / "f.xlsx").sample()
    assert row.remaining == Decimal("60.00")


def test_row_problems_say_where_and_why(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "bad.csv",
        [
            ["Titre : balance âgée"],
            [],
            HEAD,
            ["C1", "F1", "01/02/2026", "31/02/2026x", "10,00", "10,00"],
            ["C1", "F2", "01/02/2026", "01/03/2026", "dix", "10,00"],
            ["C1", "F3", "01/03/2026", "01/02/2026", "10,00", "10,00"],
            ["C1", "F4", "01/02/2026", "01/03/2026", "10,00", "12,00"],
            ["C1", "F4", "01/02/2026", "01/03/2026", "10,00", "10,00"],
            ["Total", "", "", "", "", "52,00"],
        ],
        encoding="utf-8-sig",
    )
    parsed = parse_file(path)
    found = {(p.row, p.column, p.value, p.message) for p in parsed.problems}
    assert (4, "4 (Date d'échéance)", "31/02/2026x", "unknown date format") in found
    assert (5, "5 (Montant TTC)", "dix", "text in an amount") in found
    assert (
        6,
        "4 (Date d'échéance)",
        "2026-02-01",
        "due date before the invoice date",
    ) in found
    assert (
        7,
        "6 (Reste dû)",
        "12,00",
        "remaining amount greater than the amount",
    ) in found
    assert (
        8,
        "2 (N° facture)",
        "F4",
        "duplicate item number in the file (first on row 7)",
    ) in found
    assert all(p.file == "bad.csv" for p in parsed.problems)
    assert parsed.error_count == 5
    assert parsed.row_count == 5


def test_missing_required_column(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "m.csv",
        [["Code client", "Date facture", "Montant"], ["C1", "01/01/2026", "10"]],
    )
    parsed = parse_file(path)
    assert parsed.fatal
    assert "missing required column: item number" in _msg(parsed)


@pytest.mark.parametrize(
    ("sep", "encoding"),
    [(";", "cp1252"), (",", "utf-8-sig"), ("\t", "utf-8"), ("|", "utf-8")],
)
def test_csv_separators_and_encodings(tmp_path: Path, sep: str, encoding: str) -> None:
    path = b.write_csv(
        tmp_path / "x.csv",
        [
            HEAD,
            [
                "Société Générale",
                "F1",
                "01/01/2026",
                "31/01/2026",
                "1 234,50",
                "1 234,50",
            ],
        ],
        sep=sep,
        encoding=encoding,
    )
    (row,) = parse_file(path).sample()
    assert (row.customer_ref, row.remaining) == ("Société Générale", Decimal("1234.50"))


@pytest.mark.slow
def test_million_row_csv(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as fh:
        fh.write(";".join(HEAD) + "\n")
        fh.writelines(
            f"C{i % 50000:05d};F{i:07d};01/02/2026;03/03/2026;1 234,56;1 000,00\n"
            for i in range(1_000_000)
        )
    parsed = parse_file(path)
    assert parsed.row_count == 1_000_000
    assert parsed.error_count == 0


# -- the bad-input corpus: each file, the exact line the user reads ------------

QUOTE = (
    'a quote (") opened on this row is not closed, so the rows below it would be '
    "read as one cell. Fix the row and save the file again."
)
CORPUS = [
    (
        b.empty_amount,
        "empty_amount.csv",
        "empty_amount.csv, row 3, column 6 (Reste dû): amount is empty",
    ),
    (
        b.uncomputed_formula,
        "uncomputed_formula.xlsx",
        "uncomputed_formula.xlsx, sheet 'Sheet1', row 3, column F (Reste dû): formula "
        "without a computed value: open and save the file in Excel",
    ),
    (
        b.opposite_signs,
        "opposite_signs.csv",
        "opposite_signs.csv, row 2, column 6 (Reste dû): remaining amount and amount "
        "have opposite signs ('-100,00')",
    ),
    (
        b.three_decimals,
        "three_decimals.csv",
        "three_decimals.csv, row 2, column 5 (Montant TTC): more decimals than the "
        "currency has ('1 234 567,891')",
    ),
    (
        b.yen_decimals,
        "yen_decimals.csv",
        "yen_decimals.csv, row 3, column 5 (Montant TTC): more decimals than the "
        "currency has ('1 234,50')",
    ),
    (
        b.unbalanced_quote,
        "unbalanced_quote.csv",
        f"unbalanced_quote.csv, row 3: {QUOTE}",
    ),
    (
        partial(b.unbalanced_quote, before=12_000),
        "late_quote.csv",
        f"late_quote.csv, row 12002: {QUOTE}",
    ),
    (
        b.huge_field,
        "huge_field.csv",
        'huge_field.csv, row 3: a cell is longer than 128 KB. Is a quote (") left '
        "open on this row?",
    ),
    (
        b.word_document,
        "report.xlsx",
        "report.xlsx: this is a Word document, not a workbook.",
    ),
    (
        partial(b.word_document, with_workbook=True),
        "chart.xlsx",
        "chart.xlsx: this is a Word document, not a workbook.",
    ),
]


@pytest.mark.parametrize(
    ("build", "name", "expected"), CORPUS, ids=[name for _b, name, _e in CORPUS]
)
def test_bad_input_corpus(
    tmp_path: Path, build: Callable[[Path], Path], name: str, expected: str
) -> None:
    parsed = parse_file(build(tmp_path / name))
    lines = [str(p) for p in parsed.problems]
    assert expected in lines
    if parsed.rows is not None:
        # The faulty row is refused, not imported with a made-up amount.
        assert parsed.error_count >= 1


def test_missing_file_says_not_found_once(tmp_path: Path) -> None:
    parsed = parse_file(tmp_path / "nope.xlsx")
    assert [str(p) for p in parsed.problems] == [
        f"nope.xlsx: file not found: {tmp_path / 'nope.xlsx'}"
    ]


def test_empty_amount_is_not_zero(tmp_path: Path) -> None:
    parsed = parse_file(b.empty_amount(tmp_path / "empty_amount.csv"))
    assert [(r.number, r.error) for r in parsed.sample()] == [
        ("F1", ""),
        ("F2", "amount is empty"),
    ]
    assert parsed.valid_totals() == {"": Decimal("100.00")}


def test_opposite_signs_are_not_a_credit_note(tmp_path: Path) -> None:
    (row,) = parse_file(b.opposite_signs(tmp_path / "opposite_signs.csv")).sample()
    assert row.error == "remaining amount and amount have opposite signs"


def test_a_formula_with_its_result_is_not_flagged(tmp_path: Path) -> None:
    # The counterpart of the corpus file: the same formula, computed by Excel.
    path = b.uncomputed_formula(tmp_path / "computed.xlsx")
    with zipfile.ZipFile(path) as src:
        parts = {n: src.read(n) for n in src.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = parts[sheet].replace(b"<f>E3-40</f><v />", b"<f>E3-40</f><v>60</v>")
    with zipfile.ZipFile(path, "w") as dst:
        for name, data in parts.items():
            dst.writestr(name, data)
    parsed = parse_file(path)
    assert parsed.problems == []
    assert [r.remaining for r in parsed.sample()] == [Decimal(100), Decimal(60)]


@pytest.mark.parametrize(
    ("label", "number"),
    [
        ("Grand Total", ""),
        ("Total général", ""),
        ("TOTAL", ""),
        ("Sous-total", ""),
        ("Subtotal", ""),
        ("Grand Total", "2 factures"),  # text in the number column too
    ],
)
def test_totals_rows_are_left_out_and_said(
    tmp_path: Path, label: str, number: str
) -> None:
    parsed = parse_file(b.totals_row(tmp_path / "totals.xlsx", label, number))
    assert [r.customer_ref for r in parsed.sample()] == ["C1", "C2"]
    assert parsed.valid_totals() == {"": Decimal("300.00")}
    assert parsed.problems == []
    assert [str(p) for p in parsed.left_out] == [
        "totals.xlsx, sheet 'Sheet1', row 4, column A (Code client): "
        "totals row left out"
    ]


def test_a_customer_named_total_with_an_invoice_is_imported(tmp_path: Path) -> None:
    path = b.xlsx(
        tmp_path / "energies.xlsx",
        [b.BAD_HEAD, ["Total SA", "F1", D(2026, 2, 1), D(2026, 3, 3), 100, 100]],
    )
    parsed = parse_file(path)
    assert [r.customer_ref for r in parsed.sample()] == ["Total SA"]
    assert parsed.left_out == []


def test_two_row_header_joins_group_and_column(tmp_path: Path) -> None:
    parsed = parse_file(b.two_row_header(tmp_path / "two_rows.xlsx"))
    fields = {c.header: c.field for c in parsed.columns}
    assert fields == {
        "Customer Reference": Field.CUSTOMER_REF,
        "Customer Name": Field.CUSTOMER_NAME,
        "Invoice Number": Field.NUMBER,
        "Invoice Reference": Field.REFERENCE,
        "Due date": Field.DUE_DATE,
        "Total Amount": Field.AMOUNT,
        "Remaining Amount": Field.REMAINING,
    }
    (row,) = parsed.sample()
    assert (row.customer_ref, row.customer_name, row.reference) == (
        "C1",
        "Dupont",
        "PO-9",
    )


def test_excel_unicode_text_is_read(tmp_path: Path) -> None:
    parsed = parse_file(b.unicode_text(tmp_path / "balance.txt"))
    (row,) = parsed.sample()
    assert (row.customer_ref, row.remaining) == ("Société Générale", Decimal("1234.50"))


@pytest.mark.parametrize(
    ("name", "expected"),
    [("names.xlsx", "Dupont SA Lyon"), ("names.csv", "Dupont SALyon")],
)
def test_control_characters_are_cleaned_at_import(
    tmp_path: Path, name: str, expected: str
) -> None:
    # A line break in a name broke the mail headers of every letter (#14).
    (row,) = parse_file(b.control_characters(tmp_path / name)).sample()
    assert row.customer_name == expected


def test_control_characters_are_cleaned_in_a_long_csv(tmp_path: Path) -> None:
    parsed = parse_file(b.control_characters(tmp_path / "long.csv", before=3000))
    assert parsed.rows is not None
    assert parsed.row_count == 3001
    assert parsed.rows["customer_name"].iloc[-1] == "Dupont SALyon"


@pytest.mark.parametrize(
    ("text", "cents", "decimals"),
    [
        ("1 234 567,891", 123456789, 3),
        ("1\u00a0234,567", 123456, 3),
        ("1'234.567", 123456, 3),
        ("1,284", 128400, 0),
        ("1.234.567", 123456700, 0),
        ("0,125", 12, 3),
        ("1234,567", 123456, 3),
        ("1 234", 123400, 0),
    ],
)
def test_grouped_digits_keep_their_decimal_separator(
    text: str, cents: int, decimals: int
) -> None:
    parsed = amount_column(pd.Series([text], dtype=object))
    assert parsed.decimals is not None
    assert (parsed.values[0], parsed.decimals[0]) == (cents, decimals)
