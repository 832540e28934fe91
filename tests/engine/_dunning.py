"""Small inline books for the dunning engine tests."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from o2c_desktop.engine.dunning import (
    ITEM_COLUMNS,
    OPTIONAL_ITEM_COLUMNS,
    Book,
    DunningScenario,
    DunningStep,
    ProposedAction,
    decide,
    to_cents,
)
from o2c_desktop.engine.types import ActionType, CatchUp, StepMode

A, M, C = StepMode.AUTOMATIC, StepMode.MANUAL, StepMode.CONFIRM

# The seed's "Scénario Standard": -15, 0, +5, +10, +20, +30, +45, +75.
STANDARD_STEPS = (
    DunningStep(1, "pre-reminder", -15, ActionType.EMAIL, A),
    DunningStep(2, "due today", 0, ActionType.EMAIL, A, attach_statement=True),
    DunningStep(3, "reminder 1", 5, ActionType.EMAIL, A),
    DunningStep(4, "letter 1", 10, ActionType.LETTER, A, attach_statement=True),
    DunningStep(5, "letter 2", 20, ActionType.LETTER, C, attach_statement=True),
    DunningStep(6, "call", 30, ActionType.PHONE_CALL, M),
    DunningStep(7, "formal notice", 45, ActionType.REGISTERED_LETTER, M),
    DunningStep(8, "litigation", 75, ActionType.LITIGATION_HANDOVER, M),
)
STEP = {s.offset_days: s.id for s in STANDARD_STEPS}


def standard(**settings: Any) -> DunningScenario:
    """The standard scenario; gap 0 and calendar days unless a test says otherwise."""
    values: dict[str, Any] = {
        "min_gap_days": 0,
        "business_days": False,
        "catch_up": CatchUp.ONE_STEP,
    }
    values.update(settings)
    return DunningScenario(id=1, name="Standard", steps=STANDARD_STEPS, **values)


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def _ts(text: str | None) -> Any:
    import pandas as pd

    return pd.Timestamp(text) if text else pd.NaT


def item(
    item_id: int,
    due: str,
    amount: str = "100.00",
    *,
    customer: int = 1,
    currency: str = "EUR",
    disputed: bool = False,
    litigation: bool = False,
    suspended_until: str | None = None,
    last_step: int = 0,
    disputed_part: str | None = None,
    hold_until: str | None = None,
) -> dict[str, Any]:
    return {
        "item_id": item_id,
        "customer_id": customer,
        "currency": currency,
        "due_date": _ts(due),
        "remaining_cents": to_cents(Decimal(amount)),
        "disputed": disputed,
        "in_litigation": litigation,
        "suspended_until": _ts(suspended_until),
        "last_step_id": last_step,
        "disputed_cents": to_cents(Decimal(disputed_part)) if disputed_part else 0,
        "hold_until": _ts(hold_until),
    }


def customer(
    customer_id: int = 1,
    *,
    scenario: int = 1,
    on_hold: bool = False,
    hold_until: str | None = None,
    collector: int = 10,
    country: str = "FR",
    **scope: Any,
) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "scenario_id": scenario,
        "on_hold": on_hold,
        "hold_until": _ts(hold_until),
        "collector_id": collector,
        "country": country,
        **scope,
    }


def book(
    items: list[dict[str, Any]],
    customers: list[dict[str, Any]] | None = None,
    *,
    users: list[dict[str, object]] | None = None,
    held: tuple[int, ...] = (),
    last_reminders: dict[int, str] | None = None,
) -> Book:
    import pandas as pd

    return Book(
        items=pd.DataFrame(items, columns=[*ITEM_COLUMNS, *OPTIONAL_ITEM_COLUMNS]),
        customers=pd.DataFrame(customers or [customer()]),
        users=pd.DataFrame(users) if users else None,
        held_item_ids=held,
        last_reminders=pd.DataFrame(
            {
                "customer_id": list(last_reminders),
                "last_date": [_ts(v) for v in last_reminders.values()],
            }
        )
        if last_reminders
        else None,
    )


def run(
    the_book: Book, today: str, *scenarios: DunningScenario
) -> list[ProposedAction]:
    return decide(the_book, scenarios or (standard(),), d(today)).proposals()


def steps_of(actions: list[ProposedAction]) -> dict[int, int]:
    """item id -> offset of the step it gets."""
    offset = {s.id: s.offset_days for s in STANDARD_STEPS}
    return {i.item_id: offset[i.step_id] for a in actions for i in a.items}
