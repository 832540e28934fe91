"""Each catalogued layout, built at test time, imports with no question asked."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from o2c_desktop.engine.types import ItemKind
from o2c_desktop.sync.importing.parse import ImportOptions, parse_file
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from pathlib import Path

D = dt.date


def _ok(path: Path, layout: str, **options: Any) -> tuple[dict[Any, Any], Any]:
    parsed = parse_file(path, ImportOptions(**options))
    assert parsed.layout == layout, parsed.problems
    assert not parsed.fatal
    assert not parsed.questions
    assert parsed.error_count == 0, [str(p) for p in parsed.problems]
    return {
        (r.customer_ref, r.number, r.instalment): r for r in parsed.sample(100)
    }, parsed


def test_fec(tmp_path: Path) -> None:
    rows, parsed = _ok(b.fec(tmp_path / "FEC.txt"), "fec_fr")
    # Lettered FA002 is paid; the 706 sales line is not a receivable.
    assert set(rows) == {
        ("C001", "FA001", 0),
        ("C001", "AV001", 0),
        ("C002", "RG001", 0),
    }
    fa = rows[("C001", "FA001", 0)]
    assert fa.remaining == Decimal("1437.12")
    assert fa.due_date is None  # from payment terms or the default
    assert parsed.due_from_terms
    assert rows[("C001", "AV001", 0)].kind is ItemKind.CREDIT_NOTE
    assert rows[("C002", "RG001", 0)].kind is ItemKind.UNAPPLIED_CASH
    assert rows[("C002", "RG001", 0)].remaining == Decimal("-250.00")


def test_fec_lettered_after_balance_date_is_open(tmp_path: Path) -> None:
    rows, _ = _ok(b.fec(tmp_path / "FEC.txt"), "fec_fr", as_of=D(2026, 1, 31))
    assert ("C002", "FA002", 0) in rows


@pytest.mark.parametrize("lang", ["en", "fr"])
def test_odoo_oca_detail(tmp_path: Path, lang: str) -> None:
    rows, parsed = _ok(b.odoo(tmp_path / "aged.xlsx", lang), f"odoo_oca_detail_{lang}")
    assert len(rows) == 4  # totals, percents, titles and repeated headers skipped
    inv = rows[("Azure Interior", "INV/2026/0001", 0)]
    assert (inv.issue_date, inv.due_date, inv.remaining) == (
        D(2026, 1, 10),
        D(2026, 2, 9),
        Decimal("1200.50"),
    )
    assert rows[("Azure Interior", "RINV/2026/0001", 0)].kind is ItemKind.CREDIT_NOTE
    assert parsed.as_of_hint == D(2026, 3, 31)


def test_odoo_summary_is_refused_with_a_reason(tmp_path: Path) -> None:
    path = b.xlsx(
        tmp_path / "s.xlsx",
        [
            ["Partner", "Residual", "Current", "Age ≤ 30 d.", "Older"],
            ["Azure Interior", 100, 100, 0, 0],
        ],
    )
    parsed = parse_file(path)
    assert parsed.fatal
    assert "detailed report" in parsed.problems[0].message


@pytest.mark.parametrize("sentence_case", [False, True])
def test_quickbooks_online(tmp_path: Path, sentence_case: bool) -> None:
    rows, parsed = _ok(
        b.quickbooks(tmp_path / "qbo.csv", sentence_case),
        "quickbooks_online_ar_aging_detail",
    )
    assert set(rows) == {
        ("Sonnenschein Family Store", "1037", 0),
        ("Freeman Sporting Goods", "1036", 0),
        ("Freeman Sporting Goods", "1038", 0),
    }
    r = rows[("Freeman Sporting Goods", "1036", 0)]
    assert (r.issue_date, r.due_date, r.amount, r.remaining) == (
        D(2026, 2, 13),
        D(2026, 3, 15),
        Decimal("477.50"),
        Decimal("300.00"),
    )
    assert rows[("Freeman Sporting Goods", "1038", 0)].kind is ItemKind.CREDIT_NOTE
    assert parsed.as_of_hint == D(2026, 3, 31)


def test_quickbooks_desktop(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "qbd.csv",
        [
            [
                "Type",
                "Date",
                "Num",
                "P. O. #",
                "Name",
                "Terms",
                "Due Date",
                "Class",
                "Aging",
                "Open Balance",
            ],
            [
                "Invoice",
                "03/02/2026",
                "71",
                "PO-7",
                "Kern Lighting",
                "Net 30",
                "04/01/2026",
                "",
                "",
                "1,500.00",
            ],
            ["Total Kern Lighting", "", "", "", "", "", "", "", "", "1,500.00"],
        ],
        ",",
    )
    rows, _ = _ok(path, "quickbooks_desktop_ar_aging_detail")
    assert rows[("Kern Lighting", "71", 0)].due_date == D(2026, 4, 1)


def test_xero_contact_on_its_own_row(tmp_path: Path) -> None:
    rows, parsed = _ok(b.xero(tmp_path / "xero.xlsx"), "xero_aged_receivables_detail")
    assert set(rows) == {
        ("Bayside Club", "INV-0001", 0),
        ("Bayside Club", "INV-0002", 0),
        ("City Limousines", "INV-0003", 0),
    }
    r = rows[("City Limousines", "INV-0003", 0)]
    assert (r.issue_date, r.due_date, r.remaining) == (
        D(2026, 1, 1),
        D(2026, 1, 31),
        Decimal("50.25"),
    )
    assert parsed.as_of_hint == D(2026, 3, 31)


def test_sap_fbl5n_en_tab_separated(tmp_path: Path) -> None:
    rows, _ = _ok(b.sap(tmp_path / "fbl5n.txt", "en"), "sap_fbl5n_en")
    assert set(rows) == {
        ("0000100017", "0090000123", 0),
        ("0000100017", "0090000124", 0),
        ("0000100018", "0090000125", 0),
    }
    assert rows[("0000100017", "0090000123", 0)].remaining == Decimal("1234.56")
    credit = rows[("0000100017", "0090000124", 0)]
    assert (credit.kind, credit.remaining) == (ItemKind.CREDIT_NOTE, Decimal("-100.00"))
    assert rows[("0000100018", "0090000125", 0)].currency == "USD"


def test_sap_fbl5n_de(tmp_path: Path) -> None:
    rows, _ = _ok(b.sap(tmp_path / "fbl5n.csv", "de"), "sap_fbl5n_de")
    pay = rows[("0000100017", "1800000002", 0)]
    assert (pay.kind, pay.remaining) == (ItemKind.UNAPPLIED_CASH, Decimal("-500.00"))
    assert rows[("0000100017", "1800000001", 0)].due_date == D(2026, 2, 14)


def test_sap_fbl5n_fr_cp1252_without_due_date(tmp_path: Path) -> None:
    rows, parsed = _ok(b.sap(tmp_path / "fbl5n.csv", "fr"), "sap_fbl5n_fr")
    assert rows[("0000100017", "1400000001", 0)].remaining == Decimal("1234.56")
    assert parsed.due_from_terms


def test_own_export_format_keeps_text_and_kinds(tmp_path: Path) -> None:
    rows, _ = _ok(b.own(tmp_path / "items.xlsx"), "o2c")
    inv = rows[("00042", "F-1", 0)]
    assert (inv.customer_name, inv.reference) == ("=Evil Corp", "@ref")
    assert rows[("00043", "P-1", 0)].kind is ItemKind.UNAPPLIED_CASH


def test_unknown_layout_mapped_by_synonyms(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "export.csv",
        [
            [
                "Kundennummer",
                "Kundenname",
                "Rechnungsnummer",
                "Rechnungsdatum",
                "Fälligkeit",
                "Offener Betrag",
                "Währung",
            ],
            [
                "K-1",
                "Müller GmbH",
                "R-100",
                "01.02.2026",
                "03.03.2026",
                "1.000,00",
                "EUR",
            ],
        ],
    )
    parsed = parse_file(path)
    assert parsed.layout is None
    assert not parsed.questions
    (row,) = parsed.sample()
    assert (row.customer_ref, row.number, row.remaining) == (
        "K-1",
        "R-100",
        Decimal("1000.00"),
    )


def test_unknown_headers_guessed_from_values_are_questions(tmp_path: Path) -> None:
    path = b.write_csv(
        tmp_path / "odd.csv",
        [
            ["Cli", "Doc", "Quand", "Limite", "Combien"],
            ["A1", "X-1", "01/02/2026", "03/03/2026", "10,00"],
            ["A1", "X-2", "02/02/2026", "04/03/2026", "20,00"],
        ],
    )
    parsed = parse_file(path)
    fields = {c.header: c.field.value for c in parsed.columns}
    assert fields == {
        "Cli": "customer_ref",
        "Doc": "number",
        "Quand": "issue_date",
        "Limite": "due_date",
        "Combien": "remaining",
    }
    assert len(parsed.questions) == 5
    assert parsed.needs_confirmation
