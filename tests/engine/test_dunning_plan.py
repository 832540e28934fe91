"""The what-if plan: day by day over N days, assuming nobody pays."""

from __future__ import annotations

from decimal import Decimal

from o2c_desktop.engine.calendar import (
    is_business_day,
    last_business_day,
    next_business_day,
)
from o2c_desktop.engine.dunning import from_cents, plan, to_cents
from tests.engine._dunning import book, d, item, standard, steps_of


def test_an_unpaid_invoice_walks_through_every_step_on_its_day() -> None:
    days = plan(book([item(1, "2026-03-31")]), (standard(),), d("2026-03-01"), 120)
    got = {
        p.day.isoformat(): steps_of(p.decisions.proposals())[1]
        for p in days
        if not p.decisions.actions.empty
    }
    assert got == {
        "2026-03-16": -15,
        "2026-03-31": 0,
        "2026-04-05": 5,
        "2026-04-10": 10,
        "2026-04-20": 20,
        "2026-04-30": 30,
        "2026-05-15": 45,
        "2026-06-14": 75,
    }


def test_catch_up_goes_one_step_per_gap() -> None:
    # Seen 60 days late with a 7-day gap: the due-date statement's window has
    # passed, so the first late step (+5), then one a week: 10, 20, 30, 45.
    days = plan(
        book([item(1, "2026-01-01")]), (standard(min_gap_days=7),), d("2026-03-02"), 30
    )
    got = [
        (p.day.isoformat(), steps_of(p.decisions.proposals())[1])
        for p in days
        if not p.decisions.actions.empty
    ]
    assert got == [
        ("2026-03-02", 5),
        ("2026-03-09", 10),
        ("2026-03-16", 20),
        ("2026-03-23", 30),
        ("2026-03-30", 45),
    ]


def test_the_plan_starts_from_the_real_holds_and_history() -> None:
    days = plan(
        book([item(1, "2026-03-01")], held=(1,)), (standard(),), d("2026-03-01"), 2
    )
    assert days[0].decisions.actions.empty
    assert steps_of(days[1].decisions.proposals()) == {1: 0}


def test_cents_round_trip() -> None:
    for text in ("0.01", "-12.50", "1234567890123.45"):
        assert from_cents(to_cents(Decimal(text))) == Decimal(text)


def test_business_calendar() -> None:
    assert not is_business_day(d("2026-07-14"), "FR")  # Bastille Day
    assert is_business_day(d("2026-07-14"), "GB")
    assert next_business_day(d("2026-07-14"), "FR") == d("2026-07-15")
    assert next_business_day(d("2026-07-18"), None) == d("2026-07-20")
    assert last_business_day(d("2026-07-19"), "FR") == d("2026-07-17")
    assert is_business_day(d("2026-07-14"), "ZZ")  # unknown country: weekends only
