"""Late-payment laws as a credit manager stores them: every field read back
exactly, the defaults of what is left out, and the law chosen per country.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from o2c_desktop.engine.interest import (
    EU_DIRECTIVE,
    FRANCE,
    UNITED_KINGDOM,
    DebtClaim,
    IndemnityBand,
    InterestLine,
    LateDebt,
    LatePaymentClaim,
    LatePaymentLaw,
    RatePeriod,
    debt_claim,
    late_payment_claim,
    law_for,
    law_from_dict,
)

D = Decimal


def test_a_stored_law_reads_back_field_by_field() -> None:
    law = law_from_dict(
        {
            "country": "BE",
            "name": "Loi du 2 août 2002",
            "currency": "EUR",
            # stored out of order: read back oldest first
            "reference_rates": [
                {"start": "2025-07-01", "rate": "2.15"},
                {"start": "2025-01-01", "rate": 3.15},
            ],
            "margin": "8",
            "indemnities": [
                {"below": "10000", "amount": "40"},
                {"below": None, "amount": "125.50"},
            ],
            "legal_interest_rates": [
                {"start": "2025-07-01", "rate": "2.76"},
                {"start": "2025-01-01", "rate": "3.71"},
            ],
            "floor_multiple": "3",
            "day_basis": 360,
        }
    )
    assert law == LatePaymentLaw(
        country="BE",
        name="Loi du 2 août 2002",
        currency="EUR",
        reference_rates=(
            RatePeriod(dt.date(2025, 1, 1), D("3.15")),
            RatePeriod(dt.date(2025, 7, 1), D("2.15")),
        ),
        margin=D(8),
        indemnities=(
            IndemnityBand(D(10000), D(40)),
            IndemnityBand(None, D("125.50")),
        ),
        legal_interest_rates=(
            RatePeriod(dt.date(2025, 1, 1), D("3.71")),
            RatePeriod(dt.date(2025, 7, 1), D("2.76")),
        ),
        floor_multiple=D(3),
        day_basis=360,
    )
    assert law.indemnity(D("9999.99")) == D(40)
    assert law.indemnity(D(10000)) == D("125.50")


def test_what_a_stored_law_leaves_out_takes_the_defaults() -> None:
    law = law_from_dict(
        {
            "country": "NL",
            "name": "Burgerlijk Wetboek 6:119a",
            "currency": "EUR",
            "reference_rates": [{"start": "2025-01-01", "rate": "3.15"}],
            "margin": 8,
            "indemnities": None,
            "floor_multiple": None,
        }
    )
    assert law == LatePaymentLaw(
        country="NL",
        name="Burgerlijk Wetboek 6:119a",
        currency="EUR",
        reference_rates=(RatePeriod(dt.date(2025, 1, 1), D("3.15")),),
        margin=D(8),
        indemnities=(),
        legal_interest_rates=(),
        floor_multiple=None,
        day_basis=365,
    )
    assert law.indemnity(D(500)) == D(0)
    assert law.contractual_floor(dt.date(2025, 6, 1)) is None


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"name": "x", "currency": "EUR", "margin": "8"}, "KeyError('country')"),
        (
            {"country": "BE", "name": "x", "currency": "EUR", "margin": "huit"},
            "invalid late-payment law: InvalidOperation",
        ),
        (
            {
                "country": "BE",
                "name": "x",
                "currency": "EUR",
                "margin": "8",
                "indemnities": [{"below": "1000"}],
            },
            "KeyError('amount')",
        ),
    ],
)
def test_a_broken_stored_law_is_one_value_error(
    data: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        law_from_dict(data)


@pytest.mark.parametrize(
    ("country", "law"),
    [
        ("FR", FRANCE),
        ("fr", FRANCE),
        ("GB", UNITED_KINGDOM),
        ("DE", EU_DIRECTIVE),
        ("", EU_DIRECTIVE),
        (None, EU_DIRECTIVE),
    ],
)
def test_the_law_of_the_creditors_country(
    country: str | None, law: LatePaymentLaw
) -> None:
    assert law_for(country) is law


def test_a_floor_multiple_without_legal_rates_sets_no_floor() -> None:
    law = LatePaymentLaw("BE", "x", "EUR", FRANCE.reference_rates, D(8), (), (), D(3))
    assert law.contractual_floor(dt.date(2025, 6, 1)) is None


def test_the_periods_change_at_a_reference_or_a_legal_rate() -> None:
    law = LatePaymentLaw(
        "BE",
        "x",
        "EUR",
        (RatePeriod(dt.date(2025, 1, 1), D(3)),),
        D(8),
        (),
        (RatePeriod(dt.date(2025, 7, 1), D(2)),),
        D(3),
    )
    assert law.periods(dt.date(2025, 3, 1), dt.date(2025, 9, 30)) == [
        (dt.date(2025, 3, 1), dt.date(2025, 6, 30)),
        (dt.date(2025, 7, 1), dt.date(2025, 9, 30)),
    ]
    # a period starting on the first day is no cut
    assert FRANCE.periods(dt.date(2024, 7, 1), dt.date(2024, 12, 31)) == [
        (dt.date(2024, 7, 1), dt.date(2024, 12, 31))
    ]


def test_a_payment_the_day_before_the_statement_lowers_its_last_day() -> None:
    # April 2025 in France: ECB 3.15 + 10 = 13.15 %
    # 1000.00 x 13.15 % x 29 / 365 = 10.4479 -> 10.45; 600.00 x 13.15 % / 365 = 0.2162
    debt = LateDebt(
        "F-1", dt.date(2025, 3, 31), D("1000.00"), "EUR",
        ((dt.date(2025, 4, 29), D("400.00")),),
    )  # fmt: skip
    assert debt_claim(debt, dt.date(2025, 4, 30), FRANCE) == DebtClaim(
        number="F-1",
        due_date=dt.date(2025, 3, 31),
        until=dt.date(2025, 4, 30),
        days_late=30,
        remaining=D("600.00"),
        currency="EUR",
        lines=(
            InterestLine(
                dt.date(2025, 4, 1), dt.date(2025, 4, 29), 29, D("1000.00"),
                D("13.15"), D("10.45"),
            ),
            InterestLine(
                dt.date(2025, 4, 30), dt.date(2025, 4, 30), 1, D("600.00"),
                D("13.15"), D("0.22"),
            ),
        ),
        interest=D("10.67"),
        indemnity=D("40.00"),
        floored=False,
    )  # fmt: skip


def test_an_invoice_paid_on_its_due_date_bears_no_interest() -> None:
    debt = LateDebt(
        "F-2", dt.date(2025, 3, 31), D("500.00"), "EUR",
        ((dt.date(2025, 3, 31), D("500.00")),),
    )  # fmt: skip
    claim = debt_claim(debt, dt.date(2025, 4, 30), FRANCE, D(1))
    assert claim is not None
    assert (claim.lines, claim.interest, claim.days_late, claim.floored) == (
        (),
        D(0),
        30,
        False,
    )


@pytest.mark.parametrize(
    ("contractual", "rate", "floored"),
    [
        (None, D("13.15"), False),  # the default rate is never "floored"
        (D("11.13"), D("11.13"), False),  # exactly 3 x 3.71: kept
        (D("11.12"), D("11.13"), True),
    ],
)
def test_the_legal_floor_of_a_contractual_rate(
    contractual: Decimal | None, rate: Decimal, floored: bool
) -> None:
    debt = LateDebt("F-3", dt.date(2025, 3, 31), D("1000.00"), "EUR")
    claim = debt_claim(debt, dt.date(2025, 4, 30), FRANCE, contractual)
    assert claim is not None
    assert (claim.rates, claim.floored) == ((rate,), floored)


def test_a_customers_claim_carries_its_date_and_contractual_rate() -> None:
    debt = LateDebt("F-4", dt.date(2025, 3, 31), D("1000.00"), "EUR")
    until = dt.date(2025, 4, 30)
    claim = late_payment_claim([debt], until, FRANCE, contractual_rate=D(12))
    assert (claim.until, claim.contractual_rate) == (until, D(12))
    assert claim.debts[0].until == until
    assert late_payment_claim(
        [debt], until, FRANCE, contractual_rate=D(12), insolvency="Liquidation"
    ) == LatePaymentClaim(
        law=FRANCE,
        until=until,
        excluded_reason="insolvency: Liquidation",
        contractual_rate=D(12),
    )


@pytest.mark.parametrize(
    ("law", "rate"),
    [
        (FRANCE, D("10.00")),  # ECB 0.00 from 2020 + 10
        (UNITED_KINGDOM, D("8.75")),  # BoE 0.75 from 2020, not the later 0.10
    ],
)
def test_before_its_table_a_law_uses_the_first_rate(
    law: LatePaymentLaw, rate: Decimal
) -> None:
    assert law.default_rate(dt.date(2019, 6, 1)) == rate


def test_interest_rounds_half_up_to_the_cent() -> None:
    # 456.25 x 10 % x 1 / 365 = 0.125 exactly -> 0.13 (half-even would give 0.12)
    debt = LateDebt("F-5", dt.date(2022, 3, 31), D("456.25"), "EUR")
    claim = debt_claim(debt, dt.date(2022, 4, 1), FRANCE)
    assert claim is not None
    assert claim.interest == D("0.13")
