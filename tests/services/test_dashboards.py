# ruff: noqa: RUF001 - the en dash is what the buckets show
"""Dashboard figures against a book computed by hand (tests/services/_dash_book.py).

Every expected figure is worked out in the test from the book's items, never
with the code under test: e.g. the countback DSO of March is 31 days of March
(3000.00 of revenue) plus 400.00 / 2800.00 of February's 28 days.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.engine import analytics as an
from o2c_desktop.engine.analytics import DashboardFilter, Percent
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dashboards import DashboardService
from tests.services._dash_book import TODAY, build_dash_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

Book = tuple[DashboardService, dict[str, int]]


def d(text: str) -> Decimal:
    return Decimal(text)


@pytest.fixture
def book(db: Database) -> tuple[DashboardService, dict[str, int]]:
    ids = build_dash_book(db)
    return DashboardService(AppContext(db=db, user_login="emanager")), ids


def test_aged_balance_by_due_date_in_amount_and_count(book: Book) -> None:
    service, _ids = book
    data = service.aged_balance(DashboardFilter(), TODAY)
    assert data.categories == ("Not due", "1–30", "31–60", "61–90", "91–180", "> 180")
    # debits: A1 not due, B1 7 days, A2 43 days, B2 205 days; the credit A3 14 days
    assert data.values("Invoices and debits") == (
        d("1500.00"),
        d("700.00"),
        d("1000.00"),
        d("0.00"),
        d("0.00"),
        d("400.00"),
    )
    assert data.values("Credits") == (
        d("0.00"),
        d("-200.00"),
        d("0.00"),
        d("0.00"),
        d("0.00"),
        d("0.00"),
    )
    assert data.rows[-1][1:3] == (d("3400.00"), 5)
    counts = service.aged_balance(DashboardFilter(options={"measure": "count"}), TODAY)
    assert counts.values("Invoices and debits") == tuple(
        map(Decimal, (1, 1, 1, 0, 0, 1))
    )
    assert counts.values("Credits") == tuple(map(Decimal, (0, 1, 0, 0, 0, 0)))


def test_aged_balance_by_invoice_date(book: Book) -> None:
    service, _ids = book
    data = service.aged_balance(DashboardFilter(options={"basis": "issue"}), TODAY)
    assert data.categories == ("0–30", "31–60", "61–90", "91–180", "> 180")
    # ages since the invoice date: A1 23, A3 14, B1 37, A2 73, B2 235
    total = [
        (a or 0) + (c or 0)
        for a, c in zip(
            data.values("Invoices and debits"), data.values("Credits"), strict=True
        )
    ]
    assert total == [d("1300.00"), d("700.00"), d("1000.00"), d("0.00"), d("400.00")]
    assert ("Overdue", d("1900.00")) in data.figures


def test_aged_balance_custom_buckets_and_portfolio(book: Book) -> None:
    service, ids = book
    data = service.aged_balance(
        DashboardFilter(portfolio_id=ids["p35"], bucket_limits=(0, 45)), TODAY
    )
    assert data.categories == ("Not due", "1–45", "> 45")
    # Alpha only: A1 1500 not due, A2 (43 d) 1000 and A3 (14 d) -200 in 1-45
    assert data.rows[-1][1] == d("2300.00")
    assert data.values("Invoices and debits") == (d("1500.00"), d("1000.00"), d("0.00"))


def test_dso_countback_standard_cei_and_days_delinquent(book: Book) -> None:
    service, _ids = book
    data = service.dso(DashboardFilter(), TODAY)
    assert len(data.categories) == 24
    assert data.categories[-3:] == ("2026-01", "2026-02", "2026-03")
    dso = dict(zip(data.categories, data.values("DSO"), strict=True))
    # March: receivables 3400 today; March revenue 3000 covers 31 days, the
    # remaining 400 is 400/2800 of February's 28 days = 4.0
    assert dso["2026-03"] == d("35.0")
    # February: 4200 - 2800 (28 days) = 1400 of January's 3100 -> 31*1400/3100 = 14.0
    assert dso["2026-02"] == d("42.0")
    # January: 4000 - 3100 (31 days) = 900 of December's 1000 -> 27.9
    assert dso["2026-01"] == d("58.9")
    assert dso["2025-12"] is None  # no snapshot
    add = dict(
        zip(data.categories, data.values("Average days delinquent"), strict=True)
    )
    # best possible March DSO: 1500 not due of 3000 -> 15.5; 35.0 - 15.5
    assert add["2026-03"] == d("19.5")
    cei = dict(zip(data.categories, data.values("CEI %"), strict=True))
    # (4200 + 3000 - 3400) / (4200 + 3000 - 1500) = 3800 / 5700
    assert cei["2026-03"] == d("66.7")
    # (4000 + 2800 - 4200) / (4000 + 2800 - 3000) = 2600 / 3800
    assert cei["2026-02"] == d("68.4")
    standard = service.dso(DashboardFilter(options={"method": "standard"}), TODAY)
    # 3400 / (3000 + 2800 + 3100) * (31 + 28 + 31) = 34.38
    assert standard.values("DSO")[-1] == d("34.4")


def test_dso_for_one_portfolio_uses_its_customers_only(book: Book) -> None:
    service, ids = book
    data = service.dso(DashboardFilter(portfolio_id=ids["p35"]), TODAY)
    # Alpha: 2300 of March's 3000 -> 31 * 2300 / 3000 = 23.77
    assert data.values("DSO")[-1] == d("23.8")
    # February snapshot line 3000; February revenue of Alpha 2100, January 3100
    # -> 28 + 31 * 900 / 3100 = 28 + 9.0
    assert data.values("DSO")[-2] == d("37.0")


def test_top_customers_by_overdue_and_by_days(book: Book) -> None:
    service, ids = book
    data = service.top_customers(DashboardFilter(), TODAY)
    assert data.categories == ("Bravo", "Alpha")
    assert data.values("Overdue") == (d("1100.00"), d("800.00"))
    assert data.drill == (ids["b"], ids["a"])
    assert data.column("Days late") == (205, 43)
    by_days = service.top_customers(DashboardFilter(options={"by": "days"}), TODAY)
    assert by_days.values("Days late") == (Decimal(205), Decimal(43))


def test_revenue_per_month_and_payment_delay(book: Book) -> None:
    service, _ids = book
    data = service.revenue(DashboardFilter(), TODAY)
    revenue = dict(zip(data.categories, data.values("Revenue"), strict=True))
    assert revenue["2026-03"] == d("3000.00")
    assert revenue["2026-02"] == d("2800.00")
    assert revenue["2026-01"] == d("3100.00")
    assert revenue["2025-12"] == d("1000.00")
    assert revenue["2025-08"] == d("400.00")
    delay = dict(
        zip(data.categories, data.values("Average payment delay (days)"), strict=True)
    )
    # March: C2 paid 2 days early (0 late), C3 early -> 0; February: C1 6 days late
    assert delay["2026-03"] == d("0.0")
    assert delay["2026-02"] == d("6.0")
    assert delay["2026-01"] == d("5.0")  # D: due 12-31, paid 01-05
    assert ("2026", d("8900.00")) in data.figures


def test_risk_by_overdue_bucket_until_scores_exist(book: Book) -> None:
    service, _ids = book
    data = service.risk(DashboardFilter(), TODAY)
    # Alpha's oldest item is 43 days late (31-60); Bravo's 205 (> 180)
    assert data.values("Customers") == tuple(map(Decimal, (0, 0, 1, 0, 0, 1)))
    assert data.values("Outstanding")[2] == d("2300.00")
    assert data.values("Outstanding")[5] == d("1100.00")


def test_customer_360(book: Book) -> None:
    service, ids = book
    data = service.customer_360(DashboardFilter(customer_ids=(ids["a"],)), TODAY)
    figures = dict(data.figures)
    assert figures["Customer"] == "A - Alpha"
    assert figures["Location"] == "Lyon FR"
    assert figures["Outstanding"] == d("2300.00")
    assert figures["Overdue"] == d("1000.00")
    # 12 months of Alpha's invoices:
    # D 1000 + C1 2100 + A2 1000 + C2 2100 + A1 1500 + C3 1500
    assert figures["Revenue, 12 months"] == d("9200.00")
    # 2300 of March's 3000 -> 31 * 2300 / 3000
    assert figures["DSO"] == d("23.8")
    assert figures["Priority invoice"] == "A2"
    assert figures["Its due date"] == dt.date(2026, 2, 9)
    assert data.values("Remaining due")[0] == d("1500.00")


def test_team_follow_up(book: Book) -> None:
    service, _ids = book
    data = service.team(DashboardFilter(month="2026-03"), TODAY)
    assert data.categories == ("Alex Rossi", "Emma Manager")
    assert data.values("Automatic") == (Decimal(2), Decimal(0))
    assert data.values("Manual") == (Decimal(1), Decimal(1))
    assert data.values("Promises made") == (Decimal(2), Decimal(0))
    assert data.values("Promises kept") == (Decimal(1), Decimal(0))
    figures = dict(data.figures)
    assert figures["Actions done"] == 4
    assert figures["Automatic share"] == Percent(d("50.0"))
    # C3 was in Alex's email of 2 March and was paid on 20 March
    assert figures["Collected after an action"] == d("1500.00")


def test_disputes_follow_up(book: Book) -> None:
    service, _ids = book
    data = service.disputes(DashboardFilter(), TODAY)
    assert data.categories == ("Price dispute", "Quality dispute")
    assert data.values("Open disputes") == (Decimal(1), Decimal(1))
    assert data.values("Disputed amount") == (d("400.00"), d("250.00"))
    # price: 20 days old; quality: opened 2025-12-24, 90 days old
    assert data.rows == (
        ("Price dispute", "Alex Rossi", "0–30", 1, d("400.00")),
        ("Quality dispute", "Emma Manager", "61–90", 1, d("250.00")),
    )
    # resolved in 20 and 30 days
    assert dict(data.figures)["Average time to resolution"] == d("25.0")


def test_cash_follow_up(book: Book) -> None:
    service, _ids = book
    data = service.cash(DashboardFilter(), TODAY)
    assert data.categories[0] == "2026-W05"  # Monday 26 January
    assert len(data.categories) == 16
    collected = data.values("Collected")
    assert collected[:9] == (
        d("0.00"),
        d("0.00"),
        d("2100.00"),
        d("0.00"),
        d("0.00"),
        d("2100.00"),
        d("0.00"),
        d("1500.00"),
        d("0.00"),
    )
    assert collected[9:] == (None,) * 7
    due = data.values("Expected from due dates")
    assert due[1] == d("2100.00")  # C1 due 4 February
    assert due[2] == d("1000.00")  # A2 due 9 February
    assert due[5] == d("2100.00")  # C2
    assert due[7] == d("700.00")  # B1
    assert due[9] == d("3000.00")  # A1 and C3
    promises = data.values("Expected from promises")
    assert promises[5] == d("100.00")
    assert promises[8] == d("400.00")


def test_drill_down_of_an_aging_bar_lists_its_items(book: Book) -> None:
    service, _ids = book
    table = service.drill("aging", DashboardFilter(), TODAY, 1)
    assert table.column("Item") == ("B1", "A3")
    top = service.drill("top", DashboardFilter(), TODAY, 0)
    assert set(top.column("Item")) == {"B1", "B2"}


@pytest.mark.parametrize(
    ("receivables", "revenue", "days", "expected"),
    [
        ("3400", ("3000", "2800"), (31, 28), "35.0"),
        ("100", ("1000",), (30,), "3.0"),
        ("5000", ("1000", "1000"), (31, 30), None),
        ("0", (), (), "0.0"),
    ],
)
def test_countback_table(
    receivables: str,
    revenue: tuple[str, ...],
    days: tuple[int, ...],
    expected: str | None,
) -> None:
    value = an.dso_countback(Decimal(receivables), [Decimal(r) for r in revenue], days)
    assert value == (Decimal(expected) if expected else None)
