"""Edges of the case rules that mutation testing found unguarded (#28): the
exact refusal messages, a cent either side of zero, the first period of an
interest-bearing plan, equal dates, and promises counted on their last day.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest

from o2c_desktop.engine.cases import (
    Instalment,
    PromiseOutcome,
    PromiseRecord,
    append_instalments,
    explicit_instalments,
    kept_instalments,
    match_payments,
    missed_instalments,
    needs_escalation,
    plan_outcome,
    plan_paid,
    promise_outcome,
    promise_reliability,
    quantize,
    reschedule,
    schedule_dates,
    split_instalments,
)
from o2c_desktop.engine.types import CaseStatus

D = Decimal


def d(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


def test_amounts_round_half_up_to_the_cent() -> None:
    assert [quantize(D(x)) for x in ("0.125", "0.135", "2.004", "-0.125")] == [
        D("0.13"),
        D("0.14"),
        D("2.00"),
        D("-0.13"),
    ]


SCHEDULE_NEEDS = "a schedule needs at least one instalment"


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (
            lambda: schedule_dates(d("2026-01-31"), 0),
            f"{SCHEDULE_NEEDS}, a month apart or more",
        ),
        (
            lambda: schedule_dates(d("2026-01-31"), 3, 0),
            f"{SCHEDULE_NEEDS}, a month apart or more",
        ),
        (lambda: split_instalments(D(100), []), SCHEDULE_NEEDS),
        (
            lambda: split_instalments(D(100), [d("2026-02-01"), d("2026-01-01")]),
            "instalment dates must be in increasing order",
        ),
        (
            lambda: split_instalments(D("0.00"), [d("2026-01-01")]),
            "nothing to schedule: the amount must be above zero",
        ),
        (lambda: explicit_instalments([], D(0)), SCHEDULE_NEEDS),
        (
            lambda: explicit_instalments(
                [(d("2026-02-01"), D(50)), (d("2026-01-01"), D(50))], D(100)
            ),
            "instalment dates must be in increasing order",
        ),
        (
            lambda: explicit_instalments(
                [(d("2026-01-01"), D(100)), (d("2026-02-01"), D("0.00"))], D(100)
            ),
            "every instalment must be above zero",
        ),
        (
            lambda: append_instalments(
                [
                    Instalment(1, d("2026-01-01"), D(10)),
                    Instalment(2, d("2026-02-01"), D(10)),
                    Instalment(3, d("2026-03-01"), D(10)),
                ],
                [Instalment(1, d("2026-02-15"), D(10))],
            ),
            "the new instalments must come after those already paid",
        ),
    ],
)
def test_an_impossible_schedule_is_refused_with_its_reason(
    call: object, message: str
) -> None:
    with pytest.raises(ValueError, match=f"^{re.escape(message)}$"):
        call()  # type: ignore[operator]


def test_a_schedule_of_one_instalment_a_month_apart_is_possible() -> None:
    assert schedule_dates(d("2026-01-31"), 1, 1) == (d("2026-01-31"),)


def test_a_typed_schedule_keeps_its_dates_and_amounts_numbered_from_one() -> None:
    assert explicit_instalments(
        [(d("2026-01-15"), D("0.50")), (d("2026-02-15"), D("99.50"))], D(100)
    ) == (
        Instalment(1, d("2026-01-15"), D("0.50")),
        Instalment(2, d("2026-02-15"), D("99.50")),
    )


def test_without_a_start_the_first_period_bears_no_interest() -> None:
    # second: 600.00 x 10 % x 28 / 365 = 4.6027 -> 4.60
    assert split_instalments(
        D("1200.00"), [d("2026-01-31"), d("2026-02-28")], annual_rate=D(10)
    ) == (
        Instalment(1, d("2026-01-31"), D("600.00"), D("0.00")),
        Instalment(2, d("2026-02-28"), D("600.00"), D("4.60")),
    )


@pytest.mark.parametrize(
    ("amounts", "paid", "parts"),
    [
        ([], "10.00", []),
        (["10.00"], "10.50", ["10.50"]),  # the overpayment stays on the last
        (["10.00", "5.00"], "15.00", ["10.00", "5.00"]),
    ],
)
def test_payments_over_instalments(
    amounts: list[str], paid: str, parts: list[str]
) -> None:
    assert match_payments([D(a) for a in amounts], D(paid)) == tuple(
        D(p) for p in parts
    )


@pytest.mark.parametrize(
    ("principal_paid", "principal", "plan_total", "counted"),
    [
        ("5.00", "0.00", "10.00", "5.00"),  # nothing left of the principal
        ("1.00", "1.00", "1.10", "1.10"),  # pro rata with interest
        ("1.00", "1.00", "1.00", "1.00"),
    ],
)
def test_what_a_plan_counts_as_paid(
    principal_paid: str, principal: str, plan_total: str, counted: str
) -> None:
    assert plan_paid(D(principal_paid), D(principal), D(plan_total)) == D(counted)


def test_a_payment_of_fifty_cents_is_kept_in_the_new_schedule() -> None:
    current = [Instalment(1, d("2026-01-01"), D("10.00"))]
    assert kept_instalments(current, D("0.50")) == (
        Instalment(1, d("2026-01-01"), D("0.50"), D("0.00"), D("0.50")),
    )


def test_new_instalments_may_start_on_the_day_of_the_last_paid_one() -> None:
    kept = [Instalment(1, d("2026-03-01"), D(10), D(0), D(10))]
    new = [Instalment(1, d("2026-03-01"), D(20), D("1.50"))]
    assert append_instalments(kept, new) == (
        kept[0],
        Instalment(2, d("2026-03-01"), D(20), D("1.50")),
    )


def test_a_rescheduled_plan_with_interest_runs_from_its_start() -> None:
    current = split_instalments(
        D("900.00"), [d("2026-03-01"), d("2026-04-01"), d("2026-05-01")]
    )
    # 600.00 x 12 % x 30 / 365 = 5.9178 -> 5.92; 300.00 x 12 % x 31 / 365 = 3.0575
    assert reschedule(
        current,
        D("300.00"),
        [d("2026-05-01"), d("2026-06-01")],
        annual_rate=D(12),
        start=d("2026-04-01"),
    ) == (
        Instalment(1, d("2026-03-01"), D("300.00"), D("0.00"), D("300.00")),
        Instalment(2, d("2026-05-01"), D("300.00"), D("5.92")),
        Instalment(3, d("2026-06-01"), D("300.00"), D("3.06")),
    )


def test_instalments_and_payments_must_pair_up() -> None:
    with pytest.raises(ValueError, match="zip"):
        missed_instalments(
            [d("2026-01-01")], [D(10), D(10)], [D(0)], d("2026-03-01"), 0
        )
    with pytest.raises(ValueError, match="zip"):
        plan_outcome([d("2026-01-01")], [D(10)], [D(10), D(0)], d("2026-03-01"), 0)


def test_fifty_cents_paid_makes_a_broken_promise_partly_paid() -> None:
    assert (
        promise_outcome(D("100.00"), D("0.50"), d("2026-03-10"), 0, d("2026-03-11"))
        == PromiseOutcome.PARTLY_PAID
    )


def test_reliability_counts_a_promise_made_today_and_every_open_one() -> None:
    today = d("2026-06-15")
    records = [
        PromiseRecord(d("2024-01-01"), CaseStatus.KEPT),  # out, listed first
        PromiseRecord(d("2026-06-15"), CaseStatus.KEPT),  # made today: in
        PromiseRecord(d("2026-06-01"), CaseStatus.OPEN),
        PromiseRecord(d("2026-05-01"), CaseStatus.OPEN),
        PromiseRecord(d("2026-04-01"), CaseStatus.CANCELLED),
    ]
    figure = promise_reliability(records, today)
    assert (figure.kept, figure.made, figure.pending) == (1, 1, 2)


def test_a_dispute_escalated_on_its_postponed_due_date_escalates_again() -> None:
    # escalated on 10 March for an earlier due date, then postponed to 10 March
    assert needs_escalation(
        d("2026-03-10"), d("2026-03-12"), answered_on=None, escalated_on=d("2026-03-10")
    )
