"""The dunning rules of issue 4, one test per rule, written like the user's steps."""

from __future__ import annotations

from decimal import Decimal

import pytest

from o2c_desktop.engine.dunning import (
    DunningScenario,
    DunningStep,
    RunDateError,
    check_run_date,
    decide,
    under_tolerance,
)
from o2c_desktop.engine.types import ActionType, CatchUp, StepMode
from tests.engine._dunning import (
    STEP,
    A,
    M,
    book,
    customer,
    d,
    item,
    run,
    standard,
    steps_of,
)


# Rule 1: an item reaches a step on due date + offset exactly.
@pytest.mark.parametrize(
    ("today", "last_offset", "expected"),
    [
        ("2026-03-15", None, None),  # -16 days: nothing yet
        ("2026-03-16", None, -15),  # -15: the pre-reminder, inclusive
        ("2026-03-30", -15, None),  # -1: waits for the due date
        ("2026-03-31", -15, 0),  # due date
        ("2026-04-04", 0, None),  # +4
        ("2026-04-05", 0, 5),  # +5 exactly
        ("2026-04-10", 5, 10),
        ("2026-04-20", 10, 20),
        ("2026-04-30", 20, 30),
        ("2026-05-15", 30, 45),
        ("2026-06-14", 45, 75),
        ("2026-12-31", 75, None),  # after the last step: nothing more
    ],
)
def test_thresholds_are_inclusive(
    today: str, last_offset: int | None, expected: int | None
) -> None:
    last = STEP[last_offset] if last_offset is not None else 0
    actions = run(book([item(1, "2026-03-31", last_step=last)]), today)
    assert steps_of(actions).get(1) == expected


# Rule 2: several items at different steps the same day -> one action, the highest.
def test_one_action_per_customer_at_the_highest_step_listing_every_item() -> None:
    the_book = book(
        [
            item(1, "2026-02-19", "1200.00", last_step=STEP[5]),  # reaches +10
            item(2, "2026-03-01", "300.00"),  # due date today
            item(3, "2026-03-16", "80.00", last_step=STEP[-15]),  # nothing new
        ]
    )
    (action,) = run(the_book, "2026-03-01")
    assert action.step_id == STEP[10]
    assert action.action_type is ActionType.LETTER
    assert steps_of([action]) == {1: 10, 2: 0}
    assert {i.item_id: i.days_late for i in action.items} == {1: 10, 2: 0}
    assert action.amount == Decimal("1500.00")


def test_two_customers_get_one_action_each() -> None:
    the_book = book(
        [item(1, "2026-03-01", customer=1), item(2, "2026-03-01", customer=2)],
        [customer(1), customer(2, collector=11)],
    )
    actions = run(the_book, "2026-03-01")
    assert [(a.customer_id, a.assignee_id) for a in actions] == [(1, 10), (2, 11)]


# Rule 3: never repeated; the same date twice creates nothing; no going back.
def test_a_step_already_done_is_not_repeated() -> None:
    assert run(book([item(1, "2026-03-01", last_step=STEP[0])]), "2026-03-01") == []


def test_a_run_dated_before_the_last_run_is_refused() -> None:
    check_run_date(d("2026-03-02"), d("2026-03-02"))  # same day: allowed, no-op
    check_run_date(d("2026-03-03"), None)
    with pytest.raises(RunDateError, match="2026-03-02"):
        check_run_date(d("2026-03-01"), d("2026-03-02"))


# Rule 4: catch-up one step at a time by default, or jump; pending actions hold.
@pytest.mark.parametrize(
    ("catch_up", "last_offset", "expected"),
    [
        # First seen 50 days late: the due-date statement's window has passed,
        # so it starts at the first late step (+5), not the statement.
        (CatchUp.ONE_STEP, None, 5),
        (CatchUp.ONE_STEP, 0, 5),
        (CatchUp.ONE_STEP, 20, 30),
        # Today's step is the formal notice: a jump stops at the last automatic
        # step before it (letter 1, +10)...
        (CatchUp.JUMP, None, 10),
        # ...and once that is done the formal notice goes to the agenda.
        (CatchUp.JUMP, 10, 45),
        (CatchUp.JUMP, 45, None),
    ],
)
def test_catch_up_of_an_item_first_seen_far_past_due(
    catch_up: CatchUp, last_offset: int | None, expected: int | None
) -> None:
    last = STEP[last_offset] if last_offset is not None else 0
    actions = run(
        book([item(1, "2026-01-10", last_step=last)]),
        "2026-03-01",
        standard(catch_up=catch_up),
    )
    assert steps_of(actions).get(1) == expected


@pytest.mark.parametrize(
    ("due", "catch_up", "expected"),
    [
        ("2026-03-01", CatchUp.ONE_STEP, 0),  # due today: the statement goes
        ("2026-02-27", CatchUp.ONE_STEP, 0),  # 2 days late, before +5: still
        ("2026-02-24", CatchUp.ONE_STEP, 5),  # 5 days late: +5, no statement
        ("2026-02-24", CatchUp.JUMP, 5),
        ("2026-02-05", CatchUp.JUMP, 20),  # no legal step reached: today's
    ],
)
def test_the_due_date_statement_is_sent_only_in_its_window(
    due: str, catch_up: CatchUp, expected: int
) -> None:
    actions = run(book([item(1, due)]), "2026-03-01", standard(catch_up=catch_up))
    assert steps_of(actions) == {1: expected}


def test_catch_up_never_jumps_to_litigation_by_itself() -> None:
    # 80 days late, never dunned: letter 1 (+10), then the formal notice by
    # hand, then litigation by hand: one step per run, never straight to +75.
    scenario = standard(catch_up=CatchUp.JUMP)
    got = []
    last = 0
    for _run in range(3):
        (action,) = run(
            book([item(1, "2025-12-11", last_step=last)]), "2026-03-01", scenario
        )
        got.append((steps_of([action])[1], action.mode))
        last = action.step_id
    assert got == [(10, A), (45, M), (75, M)]


def test_a_pending_manual_action_holds_its_items() -> None:
    # The +30 call was never made: item 1 does not escalate to the formal notice,
    # while item 2 of the same customer goes on.
    the_book = book(
        [
            item(1, "2026-01-15", last_step=STEP[30]),
            item(2, "2026-02-24", last_step=STEP[0]),
        ],
        held=(1,),
    )
    (action,) = run(the_book, "2026-03-01")
    assert steps_of([action]) == {2: 5}


# Rule 5: pre-due steps never go to a past-due item; a passed window is skipped.
@pytest.mark.parametrize(
    ("today", "expected"),
    [
        ("2026-03-16", -15),  # 15 days before due: pre-reminder
        ("2026-03-25", -15),  # first seen 6 days before due: still in its window
        ("2026-03-31", 0),  # first seen on the due date: the window has passed
        ("2026-04-02", 0),  # first seen 2 days late: never a pre-due reminder
    ],
)
def test_pre_due_reminders_only_before_the_due_date(today: str, expected: int) -> None:
    assert steps_of(run(book([item(1, "2026-03-31")]), today)) == {1: expected}


def test_a_pre_due_step_is_skipped_when_the_next_step_is_after_the_due_date() -> None:
    scenario = DunningScenario(
        id=1,
        name="No due-date step",
        steps=(
            DunningStep(1, "courtesy", -5, ActionType.EMAIL),
            DunningStep(2, "reminder", 10, ActionType.EMAIL),
        ),
        min_gap_days=0,
        business_days=False,
    )
    the_book = book([item(1, "2026-03-01")])
    assert run(the_book, "2026-02-27", scenario)[0].items[0].step_id == 1
    assert run(the_book, "2026-03-03", scenario) == []  # past due, +10 not reached


# Rule 6: disputes, litigation, holds and customers without scenario.
@pytest.mark.parametrize(
    ("the_item", "the_customer"),
    [
        (item(1, "2026-03-01", disputed=True), customer()),
        (item(1, "2026-03-01", litigation=True), customer()),
        (item(1, "2026-03-01"), customer(on_hold=True)),
        (item(1, "2026-03-01"), customer(on_hold=True, hold_until="2026-03-01")),
        (item(1, "2026-03-01"), customer(scenario=0)),
        (item(1, "2026-03-01"), customer(scenario=99)),  # unknown or inactive
    ],
)
def test_excluded_items_produce_nothing(
    the_item: dict[str, object], the_customer: dict[str, object]
) -> None:
    assert run(book([the_item], [the_customer]), "2026-03-01") == []


def test_a_hold_lifts_itself_after_its_end_date() -> None:
    the_book = book(
        [item(1, "2026-03-01")], [customer(on_hold=True, hold_until="2026-03-01")]
    )
    assert steps_of(run(the_book, "2026-03-02")) == {1: 0}


def test_disputed_items_are_left_out_of_the_amounts() -> None:
    the_book = book(
        [
            item(1, "2026-03-01", "100.00"),
            item(2, "2026-02-01", "900.00", disputed=True, last_step=STEP[20]),
        ]
    )
    (action,) = run(the_book, "2026-03-01")
    assert action.amount == Decimal("100.00")
    assert [i.item_id for i in action.items] == [1]


def test_a_lifted_dispute_resumes_at_the_next_step() -> None:
    # Disputed after the +10 letter; the dispute is lifted at +40.
    the_book = book([item(1, "2026-02-01", last_step=STEP[10])])
    assert steps_of(run(the_book, "2026-03-13")) == {1: 20}


# Rule 6, item-level holds: an item held until a date waits, then resumes.
@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-03-10", None), ("2026-03-15", None), ("2026-03-16", 5)],
)
def test_an_item_hold_keeps_the_item_out_until_its_end_date(
    today: str, expected: int | None
) -> None:
    the_book = book(
        [
            item(1, "2026-02-20", last_step=STEP[0], hold_until="2026-03-15"),
            item(2, "2026-02-20", "50.00", last_step=STEP[0], customer=2),
        ],
        [customer(1), customer(2)],
    )
    assert steps_of(run(the_book, today)).get(1) == expected


def test_a_held_item_counts_in_no_amount() -> None:
    the_book = book(
        [
            item(1, "2026-03-01", "100.00"),
            item(2, "2026-03-01", "700.00", hold_until="2026-04-01"),
        ]
    )
    (action,) = run(the_book, "2026-03-01")
    assert (action.amount, [i.item_id for i in action.items]) == (
        Decimal("100.00"),
        [1],
    )


# Rule 6, partial disputes: the undisputed part is still claimed, at its step.
@pytest.mark.parametrize(
    ("remaining", "disputed_part", "claimed"),
    [
        ("1000.00", "400.00", "600.00"),  # part disputed: the rest is dunned
        ("1000.00", "1000.00", None),  # all of it: out of dunning
        ("1000.00", "1200.00", None),  # more than remains (paid since): all of it
        ("1000.00", "997.00", None),  # 3.00 left: under the tolerance
        ("1000.00", None, None),  # disputed, no amount: the whole item
    ],
)
def test_a_partly_disputed_item_is_dunned_for_the_undisputed_part(
    remaining: str, disputed_part: str | None, claimed: str | None
) -> None:
    the_book = book(
        [
            item(
                1,
                "2026-02-24",
                remaining,
                disputed=True,
                disputed_part=disputed_part,
                last_step=STEP[0],
            )
        ]
    )
    actions = run(the_book, "2026-03-01")
    if claimed is None:
        assert actions == []
        return
    (action,) = actions
    assert (steps_of([action]), action.amount) == ({1: 5}, Decimal(claimed))
    assert action.items[0].amount == Decimal(claimed)


def test_a_partial_dispute_is_counted_apart_in_the_left_out() -> None:
    the_book = book([item(1, "2026-03-01", disputed=True, disputed_part="40.00")])
    decisions = decide(the_book, [standard()], d("2026-03-01"))
    assert decisions.left_out["partly_disputed"] == 1
    assert decisions.left_out["disputed"] == 0


# Rule 7: a promise suspends the items until the promised date plus grace.
@pytest.mark.parametrize(
    ("today", "expected"),
    [("2026-03-10", None), ("2026-03-15", None), ("2026-03-16", 5)],
)
def test_a_promise_suspends_its_items_until_date_and_grace(
    today: str, expected: int | None
) -> None:
    # Promised for 2026-03-12 with 3 days of grace.
    the_book = book(
        [item(1, "2026-02-20", last_step=STEP[0], suspended_until="2026-03-15")]
    )
    assert steps_of(run(the_book, today)).get(1) == expected


# Rule 8: partial payments keep the step; tolerance; credits are netted.
def test_a_partial_payment_reduces_the_amount_but_keeps_the_step() -> None:
    (action,) = run(
        book([item(1, "2026-02-24", "40.00", last_step=STEP[0])]), "2026-03-01"
    )
    assert (steps_of([action]), action.amount) == ({1: 5}, Decimal("40.00"))


@pytest.mark.parametrize(
    ("remaining", "expected"),
    [("4.99", None), ("5.00", 0), ("5.01", 0)],
)
def test_a_remainder_under_the_tolerance_is_not_chased(
    remaining: str, expected: int | None
) -> None:
    actions = run(book([item(1, "2026-03-01", remaining)]), "2026-03-01")
    assert steps_of(actions).get(1) == expected


def test_tolerance_per_currency() -> None:
    scenario = standard(tolerances={"JPY": Decimal("1000")})
    the_book = book([item(1, "2026-03-01", "600.00", currency="JPY")])
    assert run(the_book, "2026-03-01", scenario) == []


@pytest.mark.parametrize(
    ("credit", "expected_amount"),
    [
        # Netted from what the action lists (item 1); item 2, already at its
        # step, is not claimed again by this reminder.
        ("-50.00", Decimal("150.00")),
        ("-300.00", None),  # covers the overdue total: no reminder
        ("-298.00", None),  # leaves 2.00, under the tolerance
    ],
)
def test_credits_are_netted_and_a_covered_customer_gets_nothing(
    credit: str, expected_amount: Decimal | None
) -> None:
    the_book = book(
        [
            item(1, "2026-03-01", "200.00"),
            item(2, "2026-02-01", "100.00", last_step=STEP[20]),
            item(3, "2026-02-15", credit),  # an unapplied payment or credit note
        ]
    )
    actions = run(the_book, "2026-03-01")
    assert (actions[0].amount if actions else None) == expected_amount
    if actions:
        assert actions[0].credits == -Decimal(credit)


def test_currencies_are_never_mixed() -> None:
    the_book = book(
        [item(1, "2026-03-01", currency="EUR"), item(2, "2026-03-01", currency="USD")]
    )
    assert sorted(a.currency for a in run(the_book, "2026-03-01")) == ["EUR", "USD"]


# Rule 10: after the last step the case is final.
def test_after_the_last_step_new_actions_are_manual() -> None:
    the_book = book(
        [
            item(1, "2025-12-01", last_step=STEP[75]),  # handed to litigation
            item(2, "2026-03-01"),  # a new invoice due today
        ]
    )
    (action,) = run(the_book, "2026-03-01")
    assert action.step_id == STEP[0]
    assert action.mode is StepMode.MANUAL
    assert action.final
    assert action.reason is not None


# Rule 11: the collector, or the replacement while absent; minimum gap.
@pytest.mark.parametrize(
    ("absent_from", "absent_until", "assignee"),
    [
        (None, None, 10),
        ("2026-02-20", "2026-03-05", 11),
        ("2026-02-20", None, 11),
        ("2026-03-02", "2026-03-05", 10),
        ("2026-02-20", "2026-02-28", 10),
    ],
)
def test_actions_go_to_the_replacement_of_an_absent_collector(
    absent_from: str | None, absent_until: str | None, assignee: int
) -> None:
    users: list[dict[str, object]] = [
        {
            "user_id": 10,
            "absent_from": absent_from,
            "absent_until": absent_until,
            "replacement_id": 11,
        },
        {"user_id": 11, "absent_from": None, "absent_until": None, "replacement_id": 0},
    ]
    (action,) = run(book([item(1, "2026-03-01")], users=users), "2026-03-01")
    assert action.assignee_id == assignee


@pytest.mark.parametrize(
    ("last_reminder", "expected"),
    [("2026-02-23", None), ("2026-02-22", 0), (None, 0)],
)
def test_minimum_gap_between_two_reminders_to_a_customer(
    last_reminder: str | None, expected: int | None
) -> None:
    the_book = book(
        [item(1, "2026-03-01")],
        last_reminders={1: last_reminder} if last_reminder else None,
    )
    actions = run(the_book, "2026-03-01", standard(min_gap_days=7))
    assert steps_of(actions).get(1) == expected


# Business days: a step falling on a weekend or a holiday waits for Monday.
@pytest.mark.parametrize(
    ("today", "country", "expected"),
    [
        ("2026-05-01", "FR", None),  # Friday 1 May: Labour Day in France
        ("2026-05-02", "FR", None),  # Saturday
        ("2026-05-04", "FR", 0),  # Monday
        ("2026-05-01", "US", 0),  # a working day in the US
    ],
)
def test_business_days_move_a_step_to_the_next_working_day(
    today: str, country: str, expected: int | None
) -> None:
    the_book = book(
        [item(1, "2026-05-01", last_step=STEP[-15])], [customer(country=country)]
    )
    actions = run(the_book, today, standard(business_days=True))
    assert steps_of(actions).get(1) == expected
    if actions:
        assert actions[0].items[0].days_late == (d(today) - d("2026-05-01")).days


def test_nothing_is_planned_on_a_weekend_even_when_the_gap_opens_then() -> None:
    # The +5 reminder was due on Friday 6 March but waited for the 7-day gap
    # after the reminder of Saturday 28 February... which ends on a Saturday.
    the_book = book(
        [item(1, "2026-03-01", last_step=STEP[0])],
        last_reminders={1: "2026-02-28"},
    )
    scenario = standard(business_days=True, min_gap_days=7)
    assert run(the_book, "2026-03-07", scenario) == []
    assert steps_of(run(the_book, "2026-03-09", scenario)) == {1: 5}


# Scenario scope: customers who name no scenario get the first matching one.
def test_scope_rules_pick_the_scenario_of_customers_naming_none() -> None:
    big = standard(scope={"min_outstanding": "10000"}, priority=1)
    other = DunningScenario(
        id=2,
        name="Key accounts",
        steps=(DunningStep(20, "call", 0, ActionType.PHONE_CALL, StepMode.MANUAL),),
        scope={"categories": ["key"]},
        priority=0,
        business_days=False,
    )
    the_book = book(
        [item(1, "2026-03-01", customer=1), item(2, "2026-03-01", customer=2)],
        [
            customer(1, scenario=0, category="key", outstanding_cents=100),
            customer(2, scenario=0, category="smb", outstanding_cents=100),
        ],
    )
    decisions = decide(the_book, (big, other), d("2026-03-01"))
    assert decisions.actions["step_id"].tolist() == [20]
    assert decisions.left_out["no_scenario"] == 1


def test_a_customer_moved_to_another_scenario_continues_from_its_step() -> None:
    new = DunningScenario(
        id=2,
        name="Short",
        steps=(
            DunningStep(21, "reminder", 7, ActionType.EMAIL),
            DunningStep(22, "notice", 30, ActionType.REGISTERED_LETTER),
        ),
        min_gap_days=0,
        business_days=False,
    )
    old = standard(active=False)
    # Had the +10 letter of the old scenario; the +7 of the new one counts as done.
    the_book = book([item(1, "2026-01-01", last_step=STEP[10])], [customer(scenario=2)])
    (action,) = run(the_book, "2026-03-01", old, new)
    assert action.step_id == 22


def test_empty_book_decides_nothing() -> None:
    decisions = decide(book([], [customer()]), (standard(),), d("2026-03-01"))
    assert decisions.actions.empty
    assert decisions.items.empty


# Rule 9: a reversed payment reopens the item; it comes back with its last step.
def test_a_reopened_item_resumes_after_its_last_step() -> None:
    # Had its +5 reminder, was paid, the payment bounced: back on 2026-03-20.
    reopened = book([item(1, "2026-02-20", last_step=STEP[5])])
    assert steps_of(run(reopened, "2026-03-20")) == {1: 10}  # one step, not +5 again


def test_dates_may_come_as_day_numbers() -> None:
    import numpy as np

    by_dates = book([item(1, "2026-02-19", "1200.00", last_step=STEP[5])])
    items = by_dates.items.copy()
    for column in ("due_date", "suspended_until", "hold_until"):
        items[column] = items[column].to_numpy("datetime64[D]").astype(np.int64)
    by_days = book([])
    by_days = type(by_days)(items=items, customers=by_dates.customers)
    assert run(by_days, "2026-03-01") == run(by_dates, "2026-03-01")


# Issue 16: a payment leaving less than the tolerance settles the item.
def test_remainders_under_the_tolerance_of_their_currency_are_settled() -> None:
    scenario = standard(tolerance=Decimal("5.00"), tolerances={"GBP": Decimal("2.00")})
    the_book = book(
        [
            item(1, "2026-03-01", "0.05"),  # EUR, under 5.00
            item(2, "2026-03-01", "4.99"),
            item(3, "2026-03-01", "5.00"),  # the tolerance itself is chased
            item(4, "2026-03-01", "1.99", currency="GBP"),  # under 2.00
            item(5, "2026-03-01", "2.00", currency="GBP"),
            item(6, "2026-03-01", "-3.00"),  # a credit is not a remainder
            item(7, "2026-03-01", "0.05", customer=2),  # no scenario: none
        ],
        [customer(1), customer(2, scenario=0)],
    )
    assert under_tolerance(the_book, [scenario]).tolist() == [1, 2, 4]


def test_nothing_is_under_a_zero_tolerance() -> None:
    the_book = book([item(1, "2026-03-01", "0.01")])
    assert under_tolerance(the_book, [standard(tolerance=Decimal(0))]).tolist() == []
