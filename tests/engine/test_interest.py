"""Late-payment interest: worked examples computed by hand, to the cent."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c_desktop.engine.interest import (
    EU_DIRECTIVE,
    FRANCE,
    UNITED_KINGDOM,
    LateDebt,
    agreed_rate,
    applied_rate,
    debt_claim,
    late_payment_claim,
    law_for,
    law_from_dict,
)

D = Decimal
day = dt.date


@pytest.mark.parametrize(
    ("on", "rate"),
    [
        (day(2020, 3, 24), "10.00"),
        (day(2022, 12, 31), "10.00"),
        (day(2023, 1, 1), "12.50"),
        (day(2023, 7, 1), "14.00"),
        (day(2024, 6, 30), "14.50"),
        (day(2024, 7, 1), "14.25"),
        (day(2025, 3, 1), "13.15"),
        (day(2025, 12, 31), "12.15"),
        (day(2026, 2, 1), "12.15"),
    ],
)
def test_french_default_rate_table_matches_the_issue(on: dt.date, rate: str) -> None:
    assert FRANCE.default_rate(on) == D(rate)


def test_worked_example_10000_due_15_may_2024_paid_30_september() -> None:
    # Interest runs from 16 May. H1: 16-31 May (16 d) + June (30 d) = 46 days at
    # 14.50 %: 10,000 x 0.145 x 46 / 365 = 182.7397 -> 182.74.
    # H2: July 31 + August 31 + September 30 = 92 days at 14.25 %:
    # 10,000 x 0.1425 x 92 / 365 = 359.1781 -> 359.18. Total 541.92, plus 40.00.
    debt = LateDebt(
        "F2024-0512",
        day(2024, 5, 15),
        D("10000.00"),
        "EUR",
        payments=((day(2024, 9, 30), D("10000.00")),),
    )
    claim = debt_claim(debt, day(2024, 9, 30), FRANCE)
    assert claim is not None
    assert [(x.days, x.rate, x.interest) for x in claim.lines] == [
        (46, D("14.50"), D("182.74")),
        (92, D("14.25"), D("359.18")),
    ]
    assert claim.interest == D("541.92")
    assert claim.indemnity == D("40.00")
    assert claim.days_late == 138
    assert claim.remaining == D("0.00")
    # A later statement date adds nothing once the invoice is paid.
    later = debt_claim(debt, day(2024, 12, 31), FRANCE)
    assert later is not None
    assert later.interest == D("541.92")
    assert later.days_late == 138


def test_across_a_new_year_each_half_year_at_its_rate() -> None:
    # 2,500.00 due 30 Nov 2023, open on 29 Feb 2024.
    # December 2023: 31 days at 14.00 %: 2,500 x 0.14 x 31 / 365 = 29.7260 -> 29.73
    # 1 Jan - 29 Feb 2024: 60 days at 14.50 %: 2,500 x 0.145 x 60 / 365
    # = 59.5890 -> 59.59. Total 89.32.
    claim = debt_claim(
        LateDebt("F1", day(2023, 11, 30), D("2500.00"), "EUR"), day(2024, 2, 29), FRANCE
    )
    assert claim is not None
    assert [x.interest for x in claim.lines] == [D("29.73"), D("59.59")]
    assert claim.interest == D("89.32")
    assert claim.days_late == 91


def test_partial_payment_reduces_the_base_from_the_next_day() -> None:
    # 5,000.00 due 31 Jan 2025; 2,000.00 paid on 2 March; statement 31 March.
    # 1 Feb - 2 Mar: 30 days on 5,000 at 13.15 %: 5,000 x 0.1315 x 30 / 365
    # = 54.0411 -> 54.04. 3 - 31 Mar: 29 days on 3,000: 3,000 x 0.1315 x 29 / 365
    # = 31.3438 -> 31.34. Total 85.38; one indemnity of 40.00.
    claim = debt_claim(
        LateDebt(
            "F2",
            day(2025, 1, 31),
            D("5000.00"),
            "EUR",
            payments=((day(2025, 3, 2), D("2000.00")),),
        ),
        day(2025, 3, 31),
        FRANCE,
    )
    assert claim is not None
    assert [(x.days, x.base, x.interest) for x in claim.lines] == [
        (30, D("5000.00"), D("54.04")),
        (29, D("3000.00"), D("31.34")),
    ]
    assert claim.interest == D("85.38")
    assert claim.remaining == D("3000.00")


def test_years_at_the_same_rate_make_one_line() -> None:
    # 1,000.00 due 31 Dec 2020, statement 31 Dec 2021: 365 days at 10 % = 100.00.
    claim = debt_claim(
        LateDebt("F3", day(2020, 12, 31), D("1000.00"), "EUR"),
        day(2021, 12, 31),
        FRANCE,
    )
    assert claim is not None
    assert len(claim.lines) == 1
    assert claim.interest == D("100.00")


def test_contractual_rate_below_three_times_legal_rate_is_raised() -> None:
    # Legal interest rate 2024 H1: 5.07 %, floor 15.21 %. A 10 % clause gives
    # 1,000 x 0.1521 x 30 / 365 = 12.5014 -> 12.50 for 1 Feb - 1 Mar 2024.
    debt = LateDebt("F4", day(2024, 1, 31), D("1000.00"), "EUR")
    floored = debt_claim(debt, day(2024, 3, 1), FRANCE, contractual_rate=D("10"))
    assert floored is not None
    assert floored.rates == (D("15.21"),)
    assert floored.interest == D("12.50")
    assert floored.floored
    # 18 % is above the floor and applies: 1,000 x 0.18 x 30 / 365 = 14.79.
    above = debt_claim(debt, day(2024, 3, 1), FRANCE, contractual_rate=D("18"))
    assert above is not None
    assert above.interest == D("14.79")
    assert not above.floored


def test_worked_example_at_a_contractual_15_percent() -> None:
    # The same 10,000.00 due 15 May 2024, paid 30 September, under a 15 % clause.
    # H1 (16 May - 30 June, 46 days): the floor is 3 x 5.07 = 15.21 %, above the
    # clause, so 15.21 % applies: 10,000 x 0.1521 x 46 / 365 = 69,966 / 365
    # = 191.6877 -> 191.69.
    # H2 (1 July - 30 September, 92 days): the floor is 3 x 4.92 = 14.76 %, below
    # the clause: 10,000 x 0.15 x 92 / 365 = 138,000 / 365 = 378.0822 -> 378.08.
    # Total 569.77, plus the 40.00 indemnity.
    debt = LateDebt(
        "F2024-0512",
        day(2024, 5, 15),
        D("10000.00"),
        "EUR",
        payments=((day(2024, 9, 30), D("10000.00")),),
    )
    claim = debt_claim(debt, day(2024, 9, 30), FRANCE, contractual_rate=D("15"))
    assert claim is not None
    assert [(x.days, x.rate, x.interest) for x in claim.lines] == [
        (46, D("15.21"), D("191.69")),
        (92, D("15"), D("378.08")),
    ]
    assert claim.interest == D("569.77")
    assert claim.indemnity == D("40.00")
    assert claim.floored
    assert applied_rate(FRANCE, day(2024, 6, 30), D("15")) == D("15.21")
    assert applied_rate(FRANCE, day(2024, 7, 1), D("15")) == D("15")
    assert applied_rate(FRANCE, day(2024, 7, 1)) == D("14.25")


@pytest.mark.parametrize(
    ("customer", "entity", "agreed"),
    [
        (None, None, None),  # the law's default rate
        (None, "12.15", "12.15"),  # the entity's general terms of sale
        ("15", "12.15", "15"),  # the customer's contract wins
        ("0", "12.15", "0"),  # a zero rate is a rate (raised to the floor)
    ],
)
def test_the_customer_rate_overrides_the_entity_rate(
    customer: str | None, entity: str | None, agreed: str | None
) -> None:
    expected = None if agreed is None else D(agreed)
    assert (
        agreed_rate(
            None if customer is None else D(customer),
            None if entity is None else D(entity),
        )
        == expected
    )


def test_united_kingdom_base_rate_plus_8_and_fixed_sums() -> None:
    # Base rate 5.25 % on 31 Dec 2023 -> 13.25 % for Jan-Jun 2024.
    # 5,000 x 0.1325 x 30 / 365 = 54.4521 -> 54.45, plus £70 (debt under £10,000).
    claim = debt_claim(
        LateDebt("INV-7", day(2024, 3, 31), D("5000.00"), "GBP"),
        day(2024, 4, 30),
        UNITED_KINGDOM,
    )
    assert claim is not None
    assert claim.interest == D("54.45")
    assert claim.indemnity == D("70.00")
    assert UNITED_KINGDOM.indemnity(D("999.99")) == D("40.00")
    assert UNITED_KINGDOM.indemnity(D("1000.00")) == D("70.00")
    assert UNITED_KINGDOM.indemnity(D("10000.00")) == D("100.00")


def test_other_countries_use_the_directive_default() -> None:
    law = law_for("DE")
    assert law is EU_DIRECTIVE
    assert law.default_rate(day(2025, 8, 1)) == D("10.15")
    assert law_for("fr") is FRANCE
    assert law_for(None) is EU_DIRECTIVE


def test_no_claim_under_insolvency() -> None:
    debts = [LateDebt("F5", day(2024, 1, 31), D("1000.00"), "EUR")]
    claim = late_payment_claim(
        debts, day(2024, 6, 1), FRANCE, insolvency="redressement judiciaire"
    )
    assert claim.debts == ()
    assert claim.total == D(0)
    assert claim.excluded_reason == "insolvency: redressement judiciaire"


def test_claim_sums_per_invoice_and_skips_invoices_not_late() -> None:
    debts = [
        LateDebt("A", day(2024, 5, 15), D("10000.00"), "EUR"),
        LateDebt("B", day(2024, 9, 30), D("500.00"), "EUR"),  # due on the date
    ]
    claim = late_payment_claim(debts, day(2024, 9, 30), FRANCE)
    assert [d.number for d in claim.debts] == ["A"]
    assert claim.interest == D("541.92")
    assert claim.indemnities == D("40.00")
    assert claim.total == D("581.92")
    assert claim.totals() == {"EUR": (D("541.92"), D("40.00"))}


def test_rate_table_is_editable_and_loadable() -> None:
    edited = FRANCE.with_reference_rate(day(2026, 7, 1), D("2.00"))
    assert edited.default_rate(day(2026, 8, 1)) == D("12.00")
    assert FRANCE.default_rate(day(2026, 8, 1)) == D("12.15")
    law = law_from_dict(
        {
            "country": "BE",
            "name": "Loi du 2 août 2002",
            "currency": "EUR",
            "margin": "8",
            "reference_rates": [{"start": "2025-07-01", "rate": "2.15"}],
            "indemnities": [{"below": None, "amount": "40.00"}],
        }
    )
    assert law.default_rate(day(2025, 9, 1)) == D("10.15")
    with pytest.raises(ValueError, match="invalid late-payment law"):
        law_from_dict({"country": "BE"})


@given(
    amount=st.decimals(min_value=D("0.01"), max_value=D("10000000"), places=2),
    due_offset=st.integers(min_value=0, max_value=2000),
    late=st.integers(min_value=1, max_value=900),
)
def test_lines_cover_every_late_day_and_add_up(
    amount: Decimal, due_offset: int, late: int
) -> None:
    due = day(2020, 1, 1) + dt.timedelta(days=due_offset)
    claim = debt_claim(
        LateDebt("X", due, amount, "EUR"), due + dt.timedelta(late), FRANCE
    )
    assert claim is not None
    assert sum(x.days for x in claim.lines) == late
    assert claim.interest == sum(x.interest for x in claim.lines)
    assert all(x.interest >= 0 for x in claim.lines)
    assert claim.interest.as_tuple().exponent == -2
