"""Rules of cases, as tables: schedules, payments, promises, disputes."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from o2c_desktop.engine.cases import (
    DisputedPart,
    DisputeOutcome,
    Instalment,
    PlanOutcome,
    PromiseOutcome,
    PromiseRecord,
    add_months,
    explicit_instalments,
    match_payments,
    missed_instalments,
    needs_escalation,
    plan_outcome,
    plan_paid,
    promise_outcome,
    promise_reliability,
    reschedule,
    resolve_dispute,
    schedule_dates,
    split_instalments,
)
from o2c_desktop.engine.types import CaseStatus

D = Decimal
day = dt.date


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        (day(2026, 1, 15), 1, day(2026, 2, 15)),
        (day(2026, 1, 31), 1, day(2026, 2, 28)),
        (day(2028, 1, 31), 1, day(2028, 2, 29)),
        (day(2026, 11, 30), 3, day(2027, 2, 28)),
        (day(2026, 3, 31), -1, day(2026, 2, 28)),
        (day(2026, 5, 10), -12, day(2025, 5, 10)),
    ],
)
def test_add_months_clamps_to_the_end_of_short_months(start, months, expected):
    assert add_months(start, months) == expected


def test_monthly_dates_keep_the_day_of_the_first_date():
    assert schedule_dates(day(2026, 1, 31), 3) == (
        day(2026, 1, 31),
        day(2026, 2, 28),
        day(2026, 3, 31),
    )
    assert schedule_dates(day(2026, 1, 10), 2, every_months=3) == (
        day(2026, 1, 10),
        day(2026, 4, 10),
    )


@pytest.mark.parametrize(
    ("principal", "count", "amounts"),
    [
        (D("1000.00"), 4, [D("250.00")] * 4),
        (D("1000.00"), 3, [D("333.33"), D("333.33"), D("333.34")]),
        (D("100.01"), 2, [D("50.00"), D("50.01")]),
        (D("0.05"), 3, [D("0.01"), D("0.01"), D("0.03")]),
        (D("999.99"), 1, [D("999.99")]),
    ],
)
def test_equal_split_puts_the_remainder_on_the_last(principal, count, amounts):
    plan = split_instalments(principal, schedule_dates(day(2026, 3, 1), count))
    assert [i.amount for i in plan] == amounts
    assert [i.seq for i in plan] == list(range(1, count + 1))
    assert all(i.interest == 0 for i in plan)


def test_interest_runs_on_the_principal_still_due_since_the_previous_date():
    # 3,000 at 10 % a year, monthly from 1 March, plan agreed on 1 February.
    plan = split_instalments(
        D("3000.00"),
        schedule_dates(day(2026, 3, 1), 3),
        annual_rate=D("10"),
        start=day(2026, 2, 1),
    )
    # 28 days on 3,000; 31 days on 2,000; 30 days on 1,000.
    assert [i.principal for i in plan] == [D("1000.00")] * 3
    assert [i.interest for i in plan] == [D("23.01"), D("16.99"), D("8.22")]
    assert plan[0].amount == D("1023.01")


@pytest.mark.parametrize(
    ("principal", "dates"),
    [
        (D("0.00"), [day(2026, 1, 1)]),
        (D("100.00"), []),
        (D("100.00"), [day(2026, 2, 1), day(2026, 1, 1)]),
    ],
)
def test_impossible_schedules_are_refused(principal, dates):
    with pytest.raises(ValueError, match=r"schedule|amount|order"):
        split_instalments(principal, dates)


def test_a_typed_schedule_must_cover_the_debt():
    typed = [(day(2026, 3, 1), D("600.00")), (day(2026, 4, 1), D("400.00"))]
    assert [i.amount for i in explicit_instalments(typed, D("1000.00"))] == [
        D("600.00"),
        D("400.00"),
    ]
    with pytest.raises(ValueError, match=r"must cover 1200\.00"):
        explicit_instalments(typed, D("1200.00"))


@given(
    st.decimals(min_value=D("0.01"), max_value=D("1000000"), places=2),
    st.integers(min_value=1, max_value=36),
)
def test_a_split_always_adds_up_and_never_goes_negative(principal, count):
    plan = split_instalments(principal, schedule_dates(day(2026, 1, 31), count))
    assert sum(i.amount for i in plan) == principal
    assert all(i.amount >= 0 for i in plan)
    assert len({i.amount for i in plan[:-1]}) <= 1


@pytest.mark.parametrize(
    ("paid", "expected"),
    [
        (D("0.00"), [D("0"), D("0"), D("0")]),
        (D("250.00"), [D("250.00"), D("0"), D("0")]),
        (D("300.00"), [D("250.00"), D("50.00"), D("0")]),
        (D("750.00"), [D("250.00"), D("250.00"), D("250.00")]),
        (D("800.00"), [D("250.00"), D("250.00"), D("300.00")]),  # overpaid: kept
        (D("-10.00"), [D("0"), D("0"), D("0")]),  # reversed payment
    ],
)
def test_payments_go_to_the_oldest_instalment_first(paid, expected):
    assert list(match_payments([D("250.00")] * 3, paid)) == expected


def test_with_interest_payments_count_for_principal_and_interest_pro_rata():
    assert plan_paid(D("500.00"), D("1000.00"), D("1050.00")) == D("525.00")
    assert plan_paid(D("1000.00"), D("1000.00"), D("1050.00")) == D("1050.00")
    assert plan_paid(D("400.00"), D("1000.00"), D("1000.00")) == D("400.00")


DUE = [day(2026, 3, 1), day(2026, 4, 1), day(2026, 5, 1)]
AMOUNTS = [D("100.00")] * 3


@pytest.mark.parametrize(
    ("today", "paid", "missed", "outcome"),
    [
        (day(2026, 3, 1), [0, 0, 0], (), PlanOutcome.RUNNING),
        (day(2026, 3, 4), [0, 0, 0], (), PlanOutcome.RUNNING),  # grace: 3 days
        (day(2026, 3, 5), [0, 0, 0], (0,), PlanOutcome.BROKEN),
        (day(2026, 3, 5), [100, 0, 0], (), PlanOutcome.RUNNING),
        (day(2026, 3, 5), [99, 0, 0], (0,), PlanOutcome.BROKEN),
        (day(2026, 4, 30), [100, 50, 0], (1,), PlanOutcome.BROKEN),
        (day(2026, 5, 2), [100, 100, 100], (), PlanOutcome.KEPT),
        (day(2026, 2, 1), [100, 100, 100], (), PlanOutcome.KEPT),  # paid early
    ],
)
def test_an_instalment_unpaid_after_its_grace_days_breaks_the_plan(
    today, paid, missed, outcome
):
    paid_d = [D(p) for p in paid]
    assert missed_instalments(DUE, AMOUNTS, paid_d, today, 3) == missed
    assert plan_outcome(DUE, AMOUNTS, paid_d, today, 3) == outcome


def test_a_new_schedule_keeps_what_was_paid_and_splits_the_rest():
    current = [Instalment(n + 1, d, D("100.00")) for n, d in enumerate(DUE)]
    new = reschedule(current, D("150.00"), [day(2026, 6, 1), day(2026, 7, 1)])
    assert [(i.seq, i.due_date, i.amount, i.paid) for i in new] == [
        (1, day(2026, 3, 1), D("100.00"), D("100.00")),
        (2, day(2026, 4, 1), D("50.00"), D("50.00")),
        (3, day(2026, 6, 1), D("75.00"), D("0.00")),
        (4, day(2026, 7, 1), D("75.00"), D("0.00")),
    ]
    assert sum(i.amount for i in new) == D("300.00")
    with pytest.raises(ValueError, match="after those already paid"):
        reschedule(current, D("150.00"), [day(2026, 3, 15)])


@pytest.mark.parametrize(
    ("paid", "today", "outcome"),
    [
        # promised 1,000 on 10 March, 3 grace days: deadline 13 March
        (D("0"), day(2026, 3, 10), PromiseOutcome.PENDING),
        (D("0"), day(2026, 3, 13), PromiseOutcome.PENDING),
        (D("0"), day(2026, 3, 14), PromiseOutcome.BROKEN),
        (D("400.00"), day(2026, 3, 14), PromiseOutcome.PARTLY_PAID),
        (D("400.00"), day(2026, 3, 12), PromiseOutcome.PENDING),
        (D("1000.00"), day(2026, 3, 14), PromiseOutcome.KEPT),
        (D("1000.00"), day(2026, 3, 1), PromiseOutcome.KEPT),  # paid early
        (D("1200.00"), day(2026, 3, 20), PromiseOutcome.KEPT),
    ],
)
def test_a_promise_is_judged_on_its_date_plus_grace(paid, today, outcome):
    assert promise_outcome(D("1000.00"), paid, day(2026, 3, 10), 3, today) == outcome


def test_a_small_shortfall_within_tolerance_still_keeps_the_promise():
    assert (
        promise_outcome(
            D("1000.00"), D("999.50"), day(2026, 3, 10), 0, day(2026, 3, 11), D("1")
        )
        == PromiseOutcome.KEPT
    )


def test_reliability_counts_decided_promises_of_the_last_twelve_months():
    today = day(2026, 6, 15)
    records = [
        PromiseRecord(day(2026, 6, 1), CaseStatus.OPEN),  # not decided yet
        PromiseRecord(day(2026, 5, 1), CaseStatus.KEPT),
        PromiseRecord(day(2026, 2, 1), CaseStatus.BROKEN),
        PromiseRecord(day(2025, 9, 1), CaseStatus.KEPT),
        PromiseRecord(day(2025, 8, 1), CaseStatus.CANCELLED),  # not counted
        PromiseRecord(day(2025, 6, 15), CaseStatus.BROKEN),  # 12 months ago: out
        PromiseRecord(day(2024, 1, 1), CaseStatus.BROKEN),
    ]
    figure = promise_reliability(records, today)
    assert (figure.kept, figure.made, figure.pending) == (2, 3, 1)
    assert figure.ratio == D("0.67")
    assert promise_reliability([], today).ratio is None


PARTS = [DisputedPart(1, D("300.00")), DisputedPart(2, D("200.00"))]


@pytest.mark.parametrize(
    ("outcome", "justified", "expected"),
    [
        (
            DisputeOutcome.JUSTIFIED,
            None,
            [(1, D("300.00"), D("0.00")), (2, D("200.00"), D("0.00"))],
        ),
        (
            DisputeOutcome.UNJUSTIFIED,
            None,
            [(1, D("0.00"), D("300.00")), (2, D("0.00"), D("200.00"))],
        ),
        (
            DisputeOutcome.PARTLY_JUSTIFIED,
            D("350.00"),
            [(1, D("300.00"), D("0.00")), (2, D("50.00"), D("150.00"))],
        ),
        (
            DisputeOutcome.PARTLY_JUSTIFIED,
            D("120.00"),
            [(1, D("120.00"), D("180.00")), (2, D("0.00"), D("200.00"))],
        ),
        (
            DisputeOutcome.PAID,
            None,
            [(1, D("0.00"), D("0.00")), (2, D("0.00"), D("0.00"))],
        ),
    ],
)
def test_a_resolution_splits_credit_expected_and_amount_claimed_again(
    outcome, justified, expected
):
    parts = resolve_dispute(PARTS, outcome, justified)
    assert [
        (p.item_id, p.credit_expected, p.back_to_dunning) for p in parts
    ] == expected


@pytest.mark.parametrize("justified", [None, D("0.00"), D("500.00"), D("600.00")])
def test_partly_justified_needs_an_amount_strictly_inside_the_dispute(justified):
    with pytest.raises(ValueError, match=r"between 0 and 500\.00"):
        resolve_dispute(PARTS, DisputeOutcome.PARTLY_JUSTIFIED, justified)


@pytest.mark.parametrize(
    ("today", "answered_on", "escalated_on", "escalate"),
    [
        (day(2026, 3, 10), None, None, False),  # due today: still time
        (day(2026, 3, 11), None, None, True),
        (day(2026, 3, 11), day(2026, 3, 9), None, False),  # the owner answered
        (day(2026, 3, 12), None, day(2026, 3, 11), False),  # already escalated
        (day(2026, 3, 12), None, day(2026, 3, 1), True),  # escalated for an older due
    ],
)
def test_an_unanswered_dispute_escalates_the_day_after_its_due_date(
    today, answered_on, escalated_on, escalate
):
    assert (
        needs_escalation(
            day(2026, 3, 10), today, answered_on=answered_on, escalated_on=escalated_on
        )
        is escalate
    )
    assert not needs_escalation(None, today, answered_on=None, escalated_on=None)
