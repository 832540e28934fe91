"""Each rule at its limits, as tables a credit manager can read and check.

One row per case: the inputs, what the rule gives, and why in a comment. The
rows sit exactly on the boundaries (the day a rate changes, the amount where an
indemnity band starts, the cent at the tolerance), where a wrong comparison or
rounding gives another figure.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from o2c_desktop.engine.interest import (
    FRANCE,
    UNITED_KINGDOM,
    LateDebt,
    debt_claim,
)
from o2c_desktop.engine.workbench import countback_dso
from tests.engine._dunning import book, item, run, standard, steps_of

D = Decimal
day = dt.date

# Countback DSO over 30-day periods, newest first. Whole days, rounded.
COUNTBACK = [
    # outstanding, sales per period (newest first), DSO
    ("0.00", ["100.00"], 0),  # nothing owed
    ("-20.00", ["100.00"], 0),  # a credit balance owes nothing
    ("100.00", ["0.00", "0.00"], None),  # owed, but nothing sold: no figure
    ("150.00", ["300.00"], 15),  # half of the last month unpaid
    ("107.00", ["300.00"], 11),  # 10.7 days rounds to 11, not 10
    ("104.00", ["300.00"], 10),  # 10.4 days rounds to 10
    ("300.00", ["300.00", "600.00"], 30),  # exactly the month's sales
    ("400.00", ["300.00", "600.00"], 35),  # a month and a sixth of the one before
    # The worked example of docs/design.md: 120 + 30 + 60 + 30 days.
    ("2300.00", ["0", "0", "0", "0", "300", "0", "0", "2000"], 240),
    ("5000.00", ["100.00"] * 12, 360),  # capped at the periods looked at
]


@pytest.mark.parametrize(("outstanding", "sales", "dso"), COUNTBACK)
def test_countback_dso(outstanding: str, sales: list[str], dso: int | None) -> None:
    assert countback_dso(D(outstanding), [D(s) for s in sales]) == dso


# French statutory rate: ECB rate + 10 points; 14.50 % in H1 2024, 14.25 % in
# H2. An invoice of 1,000.00 due 20 June 2024, interest on 365 days a year.
RATE_CHANGE = [
    # statement day, lines (first day, last day, rate), total interest
    ("2024-06-30", [("2024-06-21", "2024-06-30", "14.50")], "3.97"),
    # On 1 July itself the new rate applies to that day: 3.97 + 0.39.
    (
        "2024-07-01",
        [("2024-06-21", "2024-06-30", "14.50"), ("2024-07-01", "2024-07-01", "14.25")],
        "4.36",
    ),
    (
        "2024-07-10",
        [("2024-06-21", "2024-06-30", "14.50"), ("2024-07-01", "2024-07-10", "14.25")],
        "7.87",
    ),
]


@pytest.mark.parametrize(("until", "periods", "interest"), RATE_CHANGE)
def test_interest_splits_on_the_day_the_rate_changes(
    until: str, periods: list[tuple[str, str, str]], interest: str
) -> None:
    debt = LateDebt("FA-1", day(2024, 6, 20), D("1000.00"), "EUR")
    claim = debt_claim(debt, dt.date.fromisoformat(until), FRANCE)
    assert claim is not None
    assert [
        (line.start.isoformat(), line.end.isoformat(), str(line.rate))
        for line in claim.lines
    ] == periods
    assert claim.interest == D(interest)


# UK fixed sums (Late Payment Act s.5A): by the size of the debt.
UK_BANDS = [
    ("999.99", "40.00"),
    ("1000.00", "70.00"),  # "£1,000 or more, but less than £10,000"
    ("9999.99", "70.00"),
    ("10000.00", "100.00"),
]


@pytest.mark.parametrize(("debt", "indemnity"), UK_BANDS)
def test_uk_indemnity_bands(debt: str, indemnity: str) -> None:
    assert UNITED_KINGDOM.indemnity(D(debt)) == D(indemnity)


def test_the_uk_band_follows_the_debt_not_what_is_left_of_it() -> None:
    # 1,500 due, 600 paid late: 900 is left, but the debt was 1,500 -> £70.
    debt = LateDebt(
        "INV-1",
        day(2024, 1, 31),
        D("1500.00"),
        "GBP",
        payments=((day(2024, 2, 10), D("600.00")),),
    )
    claim = debt_claim(debt, day(2024, 3, 1), UNITED_KINGDOM)
    assert claim is not None
    assert claim.remaining == D("900.00")
    assert claim.indemnity == D("70.00")


# Tolerance: a remainder at or above it is chased; the currency's own wins.
TOLERANCE = [
    # remaining, currency, chased at the due-date step?
    ("4.99", "EUR", False),
    ("5.00", "EUR", True),  # exactly the tolerance is chased
    ("999.00", "JPY", False),  # JPY has its own tolerance of 1,000
    ("1000.00", "JPY", True),
    ("6.00", "GBP", True),  # no GBP tolerance: the scenario's 5.00
]


@pytest.mark.parametrize(("remaining", "currency", "chased"), TOLERANCE)
def test_tolerance_per_currency_at_the_limit(
    remaining: str, currency: str, chased: bool
) -> None:
    scenario = standard(tolerances={"JPY": D("1000")})
    the_book = book([item(1, "2026-03-01", remaining, currency=currency)])
    steps = steps_of(run(the_book, "2026-03-01", scenario))
    assert steps == ({1: 0} if chased else {})
