"""A collector's days with the dunning engine, on SQLite and PostgreSQL.

Each test reads like the steps of a day: the ERP import changes items, cases
are opened in the app, the nightly run decides, Claire opens her agenda.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from o2c_desktop.engine.dunning import RunDateError
from o2c_desktop.engine.types import ActionStatus, ItemStatus
from o2c_desktop.models import Action, ActionItem, DunningRun, Item, Scenario, Step
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import PAID, DunningService
from o2c_desktop.services.outbox import Outcome
from o2c_desktop.services.scenarios import ScenarioService
from o2c_desktop.settings import Settings
from tests.services._book import standard_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.outbox import Entry


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ctx(db: Database) -> AppContext:
    return AppContext(db=db, user_login="claire", settings=Settings(send_cap=500))


class Mailer:
    """Sends every automatic reminder (documents and email are issue 5's)."""

    def perform(self, entry: Entry) -> Outcome:
        return Outcome(True, "sent")


def nightly(
    db: Database, performer: object = None, *, mail: bool = True
) -> DunningService:
    """The nightly job, sending its reminders through `performer` (a Mailer).

    Without mail, automatic reminders wait in the agenda for a click.
    """
    sender = (performer or Mailer()) if mail else None
    return DunningService(ctx(db), sender)  # type: ignore[arg-type]  # doubles


def agenda(db: Database) -> list[tuple[str, str]]:
    """(subject, status) of what is open for Claire, oldest first."""
    with db.session() as s:
        rows = s.execute(
            select(Action.subject, Action.status)
            .where(Action.status.in_((ActionStatus.PENDING, ActionStatus.TO_CONFIRM)))
            .order_by(Action.planned_date, Action.created_at)
        ).all()
    return [(subject or "", status.value) for subject, status in rows]


def dunned(db: Database, item_id: int) -> list[tuple[str | None, str, Decimal]]:
    """(the item's step, status, amount claimed for it) of its dunning actions."""
    with db.session() as s:
        rows = s.execute(
            select(Step.name, Action.status, ActionItem.amount)
            .join(ActionItem, ActionItem.action_id == Action.id)
            # A line cancelled unsent has given its step back (issue 16).
            .join(Step, Step.id == func.coalesce(ActionItem.step_id, Action.step_id))
            .where(ActionItem.item_id == item_id, Action.step_id.is_not(None))
            .order_by(Action.planned_date)
        ).all()
    return [(subject, status.value, amount) for subject, status, amount in rows]


# Rule 3: every real run is recorded; the last one's date cannot be gone back on.
def test_every_real_run_is_recorded_and_an_earlier_date_is_refused(
    db: Database,
) -> None:
    standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    assert nightly(db).run(d("2026-03-01"), dry_run=True).actions == 1
    first = nightly(db).run(d("2026-03-01"))
    nothing = nightly(db).run(d("2026-03-03"))  # a quiet day is recorded too
    with db.session() as s:
        runs = s.scalars(select(DunningRun).order_by(DunningRun.id)).all()
        assert [(r.run_date, r.actions_created, r.items_covered) for r in runs] == [
            (d("2026-03-01"), 1, 1),
            (d("2026-03-03"), 0, 0),
        ]
        assert runs[0].user_login == "claire"
        assert runs[0].counts["by_mode"] == {"automatic": 1}
        assert runs[0].finished_at is not None
        assert runs[0].finished_at >= runs[0].started_at
    assert (first.run_id, nothing.run_id) == (runs[0].id, runs[1].id)
    with pytest.raises(RunDateError, match="2026-03-03"):
        nightly(db).run(d("2026-03-02"))
    # A dry run may look back; it records nothing.
    assert nightly(db).run(d("2026-03-02"), dry_run=True).dry_run
    with db.session() as s:
        assert len(s.scalars(select(DunningRun)).all()) == 2


class RecordingPerformer:
    """Sends everything, and looks at the action's status while sending."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self.statuses: list[ActionStatus] = []

    def perform(self, entry: Entry) -> Outcome:
        with self.db.session() as s:
            action = s.get(Action, entry.action_id)
            assert action is not None
            self.statuses.append(action.status)
        return Outcome(True, "sent")


def test_automatic_actions_are_queued_for_the_sender_then_done(db: Database) -> None:
    standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    performer = RecordingPerformer(db)
    result = nightly(db, performer).run(d("2026-03-01"))
    assert (result.sent, result.to_confirm) == (1, 0)
    # Committed and claimed by this sender before anything left.
    assert performer.statuses == [ActionStatus.SENDING]
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.status, action.reason) == (ActionStatus.DONE, None)
        run = s.scalars(select(DunningRun)).one()
        assert run.counts["sent"] == 1


# Rule 8: the minimum amount worth chasing is set per currency.
def test_the_tolerance_of_the_items_currency_applies(db: Database) -> None:
    ids = standard_book(
        db,
        {
            "London": [("G1", "2026-03-01", "8.00")],
            "Paris": [("F1", "2026-03-01", "8.00")],
        },
    )
    with db.session() as s:
        s.execute(update(Item).where(Item.number == "G1").values(currency="GBP"))
        s.execute(update(Scenario).values(tolerances={"GBP": "10.00"}))
    result = nightly(db).run(d("2026-03-01"))
    assert (result.actions, result.amounts) == (1, {"EUR": Decimal("8.00")})
    assert dunned(db, ids.items["G1"]) == []
    # The tolerances travel with the scenario file.
    data = ScenarioService(ctx(db)).export("Standard")
    assert data["tolerances"] == {"GBP": "10.00"}
    data["tolerances"] = {"chf": "20"}
    ScenarioService(ctx(db)).import_(data)
    with db.session() as s:
        assert s.scalars(select(Scenario.tolerances)).one() == {"CHF": "20.00"}


# Rule 6: an item held until a date waits, then resumes where it was.
def test_an_item_hold_lifts_itself_after_its_end_date(db: Database) -> None:
    ids = standard_book(
        db,
        {"Monnier": [("F1", "2026-03-01", "500.00"), ("F2", "2026-03-01", "80.00")]},
    )
    with db.session() as s:
        s.execute(
            update(Item)
            .where(Item.id == ids.items["F1"])
            .values(hold_until=d("2026-03-05"), hold_reason="waiting for the PO")
        )
    first = nightly(db).run(d("2026-03-01"))
    assert (first.items, first.amounts) == (1, {"EUR": Decimal("80.00")})
    assert first.left_out["item_on_hold"] == 1
    assert nightly(db).run(d("2026-03-05")).items == 0  # held on its last day
    later = nightly(db).run(d("2026-03-06"))  # the hold has ended
    # One email at +5 lists both: F1's due-date statement was due while it was
    # held, and is not sent late.
    assert (later.actions, later.items) == (1, 2)
    assert [step for step, _, _ in dunned(db, ids.items["F1"])] == ["reminder 1"]
    assert [step for step, _, _ in dunned(db, ids.items["F2"])] == [
        "due today",
        "reminder 1",
    ]


# Rule 6: a dispute on part of an invoice leaves the rest dunned at its step.
def test_a_partial_dispute_keeps_the_undisputed_part_dunned(db: Database) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [("F1", "2026-02-24", "1000.00")],
            "Denis": [("G1", "2026-02-24", "300.00")],
        },
    )
    nightly(db).run(d("2026-02-24"))
    with db.session() as s:  # marked on the item (what an ERP import may do)
        s.execute(
            update(Item)
            .where(Item.id == ids.items["G1"])
            .values(disputed=True, disputed_amount=Decimal("100.00"))
        )
    # Monnier disputes 400.00 of F1 in the app.
    CasesService(ctx(db)).open_dispute(
        ids.customers["Monnier"],
        today=d("2026-02-26"),
        items={ids.items["F1"]: Decimal("400.00")},
        reason="price",
    )
    result = nightly(db).run(d("2026-03-01"))
    assert result.left_out["partly_disputed"] == 2
    assert dunned(db, ids.items["F1"])[-1] == (
        "reminder 1",
        "done",
        Decimal("600.00"),
    )
    assert dunned(db, ids.items["G1"])[-1][2] == Decimal("200.00")
    assert result.amounts == {"EUR": Decimal("800.00")}


# Rule 7: the nightly run first lets the case review break an unpaid promise.
def test_a_broken_promise_reaches_the_agenda_and_dunning_resumes(
    db: Database,
) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-02-20", "500.00")]})
    nightly(db).run(d("2026-02-20"))  # "due today" email
    # Claire calls; Monnier promises to pay on 3 March (3 days of grace).
    CasesService(ctx(db)).open_promise(
        ids.customers["Monnier"], today=d("2026-02-24"), promised_date=d("2026-03-03")
    )
    assert nightly(db).run(d("2026-03-06")).actions == 0  # still in grace
    result = nightly(db).run(d("2026-03-07"))  # nothing came
    assert result.review["promises_broken"] == 1
    assert result.actions == 1
    ((subject, status),) = agenda(db)
    # Acme France works in French: so do the texts of its case actions.
    assert (subject.endswith("Promesse non tenue"), status) == (True, "pending")
    assert [step for step, _, _ in dunned(db, ids.items["F1"])] == [
        "due today",
        "reminder 1",
    ]


# Rule 9: paid -> the open reminder is cancelled unsent; the payment bounces ->
# the item comes back at the step it had reached the customer with, so the
# cancelled step is proposed again, not the one after it (issue 16).
def test_a_reversed_payment_proposes_the_cancelled_step_again(db: Database) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    nightly(db, mail=False).run(d("2026-03-01"))
    with db.session() as s:  # the import closes the paid item
        s.execute(
            update(Item).values(
                remaining=0, status=ItemStatus.CLOSED, closed_on=d("2026-03-02")
            )
        )
    paid = nightly(db, mail=False).run(d("2026-03-02"))
    assert paid.cancelled_paid == 1
    with db.session() as s:  # the cheque bounced: the next import reopens it
        s.execute(
            update(Item).values(
                remaining=Decimal("500.00"), status=ItemStatus.OPEN, closed_on=None
            )
        )
    with db.session() as s:
        item = s.get(Item, ids.items["F1"])
        assert item is not None
        assert (item.dunning_step_id, item.dunning_date) == (None, None)
    # The statement never left: it is still the step reached on 4 March.
    assert nightly(db, mail=False).run(d("2026-03-04")).actions == 1
    nightly(db, mail=False).run(d("2026-03-06"))  # held: waiting for a click
    assert dunned(db, ids.items["F1"]) == [
        ("due today", "cancelled", Decimal("500.00")),
        ("due today", "to_confirm", Decimal("500.00")),
    ]
    with db.session() as s:
        first = s.scalars(select(Action).order_by(Action.planned_date)).first()
        assert first is not None
        assert first.reason == PAID
