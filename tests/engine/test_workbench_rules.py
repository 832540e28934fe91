"""Workbench rules, as tables: alerts of a line, agenda days and columns,
completion, the next line after a performed one, and what a perform form
is missing. Inputs inline; every expected value worked out by hand.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from o2c_desktop.engine.types import ActionStatus, ActionType
from o2c_desktop.engine.workbench import (
    AgendaLine,
    Alert,
    AlertKind,
    CallOutcome,
    CustomerSignals,
    DayColumn,
    PerformRequest,
    WorkAgenda,
    action_number,
    agenda_days,
    alerts_for,
    column_of,
    completion,
    countback_dso,
    is_address,
)

TODAY = dt.date(2026, 3, 18)  # a Wednesday
D = Decimal


def d(iso: str) -> dt.date:
    return dt.date.fromisoformat(iso)


# --- alerts -------------------------------------------------------------------

BP, DISPUTE, FAILED, RISK = (
    AlertKind.BROKEN_PROMISE,
    AlertKind.DISPUTE_PAST_DUE,
    AlertKind.FAILED_SEND,
    AlertKind.RISK,
)


@pytest.mark.parametrize(
    ("signals", "failed", "alerts"),
    [
        (CustomerSignals(), None, ()),
        (CustomerSignals(), "", ()),  # an empty reason is no failure
        (CustomerSignals(), "SMTP 550", ((FAILED, "SMTP 550"),)),
        # a promise broken 30 days ago still alerts, 31 days ago no more
        (
            CustomerSignals(broken_promise_on=d("2026-02-16")),
            None,
            ((BP, "2026-02-16"),),
        ),
        (CustomerSignals(broken_promise_on=d("2026-02-15")), None, ()),
        (
            CustomerSignals(broken_promise_on=TODAY),
            None,
            ((BP, "2026-03-18"),),
        ),
        # a dispute alerts the day after its answer date, not on it
        (CustomerSignals(dispute_due=TODAY), None, ()),
        (
            CustomerSignals(dispute_due=d("2026-03-17")),
            None,
            ((DISPUTE, "2026-03-17"),),
        ),
        # risk: a score under 3 (3.0 itself is not), a risky class, insolvency
        (CustomerSignals(risk_score=3.0), None, ()),
        (CustomerSignals(risk_score=2.94), None, ((RISK, "2.9/10"),)),
        (CustomerSignals(risk_score=0.0), None, ((RISK, "0.0/10"),)),
        (CustomerSignals(risk_class="c-"), None, ((RISK, "c-"),)),
        (CustomerSignals(risk_class="HIGH"), None, ((RISK, "HIGH"),)),
        (CustomerSignals(risk_class="C"), None, ()),
        (CustomerSignals(risk_class="C", risk_score=8.0), None, ()),
        (
            CustomerSignals(risk_class="E", risk_score=1.0),
            None,
            ((RISK, "E"),),
        ),
        (
            CustomerSignals(insolvency="Redressement", risk_class="D"),
            None,
            ((RISK, "Redressement"),),
        ),
        # several at once: most urgent first
        (
            CustomerSignals(
                broken_promise_on=d("2026-03-01"),
                dispute_due=d("2026-03-10"),
                risk_score=1.25,
            ),
            "bounced",
            (
                (FAILED, "bounced"),
                (BP, "2026-03-01"),
                (DISPUTE, "2026-03-10"),
                (RISK, "1.2/10"),
            ),
        ),
    ],
)
def test_alerts_of_an_agenda_line(
    signals: CustomerSignals,
    failed: str | None,
    alerts: tuple[tuple[AlertKind, str], ...],
) -> None:
    assert alerts_for(signals, TODAY, failed) == tuple(Alert(k, v) for k, v in alerts)


# --- agenda -------------------------------------------------------------------


def _weekday(day: dt.date) -> bool:
    return day.weekday() < 5


@pytest.mark.parametrize(
    ("today", "count", "days"),
    [
        ("2026-03-18", 1, ["2026-03-18"]),
        ("2026-03-18", 2, ["2026-03-18", "2026-03-19"]),
        # Friday: the next working day is Monday
        ("2026-03-20", 2, ["2026-03-20", "2026-03-23"]),
        # Saturday is still shown (late actions wait there), then Monday, Tuesday
        ("2026-03-21", 3, ["2026-03-21", "2026-03-23", "2026-03-24"]),
    ],
)
def test_agenda_days(today: str, count: int, days: list[str]) -> None:
    assert agenda_days(d(today), count, _weekday) == tuple(d(x) for x in days)


COLUMNS = (d("2026-03-20"), d("2026-03-23"))  # Friday, Monday


@pytest.mark.parametrize(
    ("planned", "column"),
    [
        ("2026-03-02", "2026-03-20"),  # late: today's column
        ("2026-03-20", "2026-03-20"),
        ("2026-03-21", "2026-03-23"),  # Saturday: Monday's column
        ("2026-03-23", "2026-03-23"),
        ("2026-03-24", None),  # past the last column shown
    ],
)
def test_the_column_of_an_action(planned: str, column: str | None) -> None:
    assert column_of(d(planned), COLUMNS) == (d(column) if column else None)


@pytest.mark.parametrize(
    ("done", "waiting", "percent"),
    [(0, 0, 100), (0, 3, 0), (1, 2, 33), (2, 1, 66), (3, 0, 100), (199, 1, 99)],
)
def test_completion_of_a_day(done: int, waiting: int, percent: int) -> None:
    assert completion(done, waiting) == percent
    assert DayColumn(TODAY, (), waiting, done).completion == percent


def _line(action_id: str, planned: dt.date = TODAY) -> AgendaLine:
    return AgendaLine(
        action_id=action_id,
        planned_date=planned,
        action_type=ActionType.PHONE_CALL,
        status=ActionStatus.PENDING,
        automatic=False,
        subject=None,
        customer_id=1,
        customer_reference="C001",
        customer_name="Roux",
        days_late=None,
        dso=None,
        amount=None,
        currency=None,
    )


AGENDA = WorkAgenda(
    TODAY,
    None,
    (
        DayColumn(TODAY, (_line("a"), _line("b")), 2, 0),
        DayColumn(d("2026-03-19"), (), 0, 0),
        DayColumn(d("2026-03-20"), (_line("c"),), 1, 0),
    ),
)


@pytest.mark.parametrize(
    ("performed", "following"),
    [("a", "b"), ("b", "c"), ("c", None), ("gone", "a")],
)
def test_the_line_after_a_performed_action(
    performed: str, following: str | None
) -> None:
    line = AGENDA.next_after(performed)
    assert (line.action_id if line else None) == following


def test_an_empty_agenda_has_no_next_line() -> None:
    assert (
        WorkAgenda(TODAY, None, (DayColumn(TODAY, (), 0, 0),)).next_after("a") is None
    )


@pytest.mark.parametrize(
    ("planned", "late"), [("2026-03-17", True), ("2026-03-18", False)]
)
def test_a_line_is_late_when_planned_before_today(planned: str, late: bool) -> None:
    assert _line("a", d(planned)).is_late(TODAY) is late


# --- documents and numbers ----------------------------------------------------


@pytest.mark.parametrize(
    ("location", "address"),
    [
        ("https://dms.example.com/doc/7", True),
        ("s3+https://bucket/doc", True),
        ("C:/Documents/invoice.pdf", False),  # one letter: a Windows drive
        ("/srv/docs/invoice.pdf", False),
        ("see https://x.example", False),
        ("1a://x", False),
    ],
)
def test_a_document_location_is_an_address_or_a_path(
    location: str, address: bool
) -> None:
    assert is_address(location) is address


def test_the_number_users_quote_for_an_action() -> None:
    assert action_number("0f3a9c2e-1b7d-4e8a-9c1f-2a3b4c5d6e7f") == "0F3A9C2E"
    assert action_number("ab-cd-ef-12-34") == "ABCDEF12"


# --- perform form -------------------------------------------------------------

PAST = d("2026-03-17")
NO_DATE = "Give the date the customer will pay."
PAST_DATE = "The promised date is in the past."
NO_AMOUNT = "The amount promised must be above zero."
NO_REASON = "Choose the reason of the dispute."
NO_CALL_BACK = "Give a day to call back, today or later."
NO_PLAN = "Give the number of instalments and the first due date."


@pytest.mark.parametrize(
    ("fields", "problems"),
    [
        ({"outcome": CallOutcome.DONE}, ()),
        ({"outcome": CallOutcome.NOT_REACHED}, ()),
        ({"outcome": CallOutcome.PROMISE}, (NO_DATE,)),
        ({"outcome": CallOutcome.PROMISE, "promise_date": TODAY}, ()),
        ({"outcome": CallOutcome.PROMISE, "promise_date": PAST}, (PAST_DATE,)),
        (
            {"outcome": CallOutcome.PROMISE, "promise_amount": D("0.00")},
            (NO_DATE, NO_AMOUNT),
        ),
        (
            {
                "outcome": CallOutcome.PROMISE,
                "promise_date": TODAY,
                "promise_amount": D("0.01"),
            },
            (),
        ),
        ({"outcome": CallOutcome.DISPUTE}, (NO_REASON,)),
        ({"outcome": CallOutcome.DISPUTE, "dispute_reason": ""}, (NO_REASON,)),
        ({"outcome": CallOutcome.DISPUTE, "dispute_reason": "price"}, ()),
        # a dispute reason does not excuse a promise without a date
        (
            {"outcome": CallOutcome.PROMISE, "dispute_reason": "price"},
            (NO_DATE,),
        ),
        ({"outcome": CallOutcome.CALL_BACK}, (NO_CALL_BACK,)),
        ({"outcome": CallOutcome.CALL_BACK, "call_back_on": PAST}, (NO_CALL_BACK,)),
        ({"outcome": CallOutcome.CALL_BACK, "call_back_on": TODAY}, ()),
        ({"outcome": CallOutcome.PAYMENT_PLAN}, (NO_PLAN,)),
        (
            {"outcome": CallOutcome.PAYMENT_PLAN, "plan_first_due": TODAY},
            (NO_PLAN,),
        ),
        (
            {
                "outcome": CallOutcome.PAYMENT_PLAN,
                "plan_count": 0,
                "plan_first_due": TODAY,
            },
            (NO_PLAN,),
        ),
        (
            {
                "outcome": CallOutcome.PAYMENT_PLAN,
                "plan_count": -2,
                "plan_first_due": TODAY,
            },
            (NO_PLAN,),
        ),
        ({"outcome": CallOutcome.PAYMENT_PLAN, "plan_count": 3}, (NO_PLAN,)),
        (
            {
                "outcome": CallOutcome.PAYMENT_PLAN,
                "plan_count": 3,
                "plan_first_due": PAST,
            },
            (NO_PLAN,),
        ),
        (
            {
                "outcome": CallOutcome.PAYMENT_PLAN,
                "plan_count": 1,
                "plan_first_due": TODAY,
            },
            (),
        ),
    ],
)
def test_what_a_perform_form_is_missing(
    fields: dict[str, object], problems: tuple[str, ...]
) -> None:
    request = PerformRequest("a", 1, **fields)  # type: ignore[arg-type]
    assert request.problems(TODAY) == problems


@pytest.mark.parametrize(
    ("outstanding", "sales", "dso"),
    [
        ("0.00", ["0.00", "0.00"], 0),  # nothing owed, nothing sold: 0, not None
        ("1.00", ["30.00"], 1),  # 30 x 1 / 30
        ("0.25", ["0.50"], 15),  # sales under one unit still count: 30 x 0.25 / 0.5
        # one euro sold in the newest period: 30 whole days, then 30 x 2 / 4
        ("3.00", ["1.00", "4.00"], 45),
    ],
)
def test_countback_dso_with_small_amounts(
    outstanding: str, sales: list[str], dso: int
) -> None:
    assert countback_dso(D(outstanding), [D(s) for s in sales]) == dso
