"""Dunning runs against a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import signal
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select, update

from o2c_desktop.engine.dunning import RunDateError
from o2c_desktop.engine.types import ActionStatus, ItemStatus
from o2c_desktop.models import Action, ActionItem, AuditEntry, Item
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import (
    NOT_SENT,
    PAID,
    DunningService,
    SendCapExceededError,
)
from o2c_desktop.services.outbox import (
    SENDING_STALE,
    AutomaticAction,
    Outcome,
    action_outbox,
    automatic_actions,
    enqueue_actions,
)
from o2c_desktop.settings import Settings
from tests.conftest import _build, pg_schema_url
from tests.services._book import (
    crash_in_process,
    many_customers,
    run_in_process,
    standard_book,
)

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.outbox import Entry


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def service(
    db: Database, *, cap: int = 500, performer: object = None
) -> DunningService:
    ctx = AppContext(db=db, user_login="claire", settings=Settings(send_cap=cap))
    return DunningService(ctx, performer)  # type: ignore[arg-type]  # test doubles


def counts(db: Database) -> tuple[int, int]:
    with db.session() as s:
        actions = s.scalar(select(func.count()).select_from(Action)) or 0
        items = s.scalar(select(func.count()).select_from(ActionItem)) or 0
    return actions, items


def test_a_run_creates_one_action_per_customer_and_marks_the_items(
    db: Database,
) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F1", "2026-02-19", "1200.00"),
                ("F2", "2026-03-01", "300.00"),
            ],
            "Dupuis": [("F3", "2026-03-16", "80.00")],
            "Credit only": [("F4", "2026-02-01", "-50.00")],
        },
    )
    result = service(db).run(d("2026-03-01"))
    assert (result.actions, result.items, result.customers) == (2, 3, 2)
    assert result.amounts == {"EUR": Decimal("1580.00")}
    assert result.by_type == {"email": 2}
    assert result.changes.actions
    with db.session() as s:
        f1 = s.get(Item, ids.items["F1"])
        assert f1 is not None
        # F1, first seen 10 days late, skips the due-date statement: +5.
        assert (f1.dunning_step_id, f1.dunning_date) == (ids.steps[5], d("2026-03-01"))
        action = s.scalars(
            select(Action).where(Action.customer_id == ids.customers["Monnier"])
        ).one()
        assert action.assigned_to_id == ids.collector
        assert action.amount == Decimal("1500.00")
        assert sorted((ai.item_id, ai.days_late) for ai in action.items) == [
            (ids.items["F1"], 10),
            (ids.items["F2"], 0),
        ]
        # No performer yet: automatic emails wait for a click, with the reason.
        assert (action.status, action.reason) == (ActionStatus.TO_CONFIRM, NOT_SENT)
        audited = s.scalar(
            select(func.count()).where(AuditEntry.table_name == "action")
        )
        assert audited == 2


def test_the_same_date_twice_creates_nothing_new(db: Database) -> None:
    many_customers(db, 3)
    first = service(db).run(d("2026-03-01"))
    assert first.actions == 3
    again = service(db).run(d("2026-03-01"))
    assert (again.actions, again.items) == (0, 0)
    assert counts(db) == (3, 6)


def test_a_dry_run_writes_nothing_and_counts_what_a_run_creates(db: Database) -> None:
    many_customers(db, 4)
    dry = service(db).run(d("2026-03-01"), dry_run=True)
    assert counts(db) == (0, 0)
    real = service(db).run(d("2026-03-01"))
    assert (dry.actions, dry.items, dry.by_type, dry.amounts) == (
        real.actions,
        real.items,
        real.by_type,
        real.amounts,
    )
    assert dry.dry_run
    assert dry.by_channel == {"email": 4}
    assert dry.by_mode == {"automatic": 4}


def test_a_run_dated_before_the_last_run_is_refused(db: Database) -> None:
    many_customers(db, 1)
    service(db).run(d("2026-03-05"))
    with pytest.raises(RunDateError):
        service(db).run(d("2026-03-04"))
    assert service(db).run(d("2026-03-04"), dry_run=True).actions == 0


def test_a_paid_item_cancels_its_open_action(db: Database) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-02-01", "500.00")]})
    with db.session() as s:  # the item already had its +10 letter
        s.execute(update(Item).values(dunning_step_id=ids.steps[10]))
    assert service(db).run(d("2026-03-01")).by_mode == {"confirm": 1}
    with db.session() as s:  # paid between runs
        s.execute(update(Item).values(remaining=0, status=ItemStatus.CLOSED))
    result = service(db).run(d("2026-03-02"))
    assert (result.actions, result.cancelled_paid) == (0, 1)
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.status, action.reason, action.version) == (
            ActionStatus.CANCELLED,
            PAID,
            2,
        )


def test_a_pending_manual_action_holds_its_items_across_runs(db: Database) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-01-15", "500.00")]})
    with db.session() as s:
        s.execute(update(Item).values(dunning_step_id=ids.steps[20]))
    assert service(db).run(d("2026-02-14")).by_type == {"phone_call": 1}
    # Nobody called; a month later the formal notice is not sent over it.
    assert service(db).run(d("2026-03-14")).actions == 0
    with db.session() as s:
        s.execute(update(Action).values(status=ActionStatus.DONE))
    assert service(db).run(d("2026-03-15")).by_type == {"registered_letter": 1}


def test_the_send_cap_stops_a_mass_mailing_without_confirmation(db: Database) -> None:
    many_customers(db, 3)
    dry = service(db, cap=2).run(d("2026-03-01"), dry_run=True)
    assert (dry.automatic_sends, dry.over_cap) == (3, True)
    with pytest.raises(SendCapExceededError, match="3 automatic"):
        service(db, cap=2).run(d("2026-03-01"))
    assert counts(db) == (0, 0)
    assert service(db, cap=2).run(d("2026-03-01"), confirm=True).actions == 3


class FakePerformer:
    """Sends everything but the customer without an email address."""

    def __init__(self, refuse: int) -> None:
        self.refuse = refuse
        self.seen: list[AutomaticAction] = []

    def perform(self, entry: Entry) -> Outcome:
        action = AutomaticAction.of(entry)
        self.seen.append(action)
        if action.customer_id == self.refuse:
            return Outcome(False, "no email address")
        return Outcome(True, "sent to ap@example.com")


def test_automatic_actions_are_performed_and_failures_become_manual(
    db: Database,
) -> None:
    ids = many_customers(db, 3)
    refused = ids.customers["Customer 1"]
    performer = FakePerformer(refused)
    result = service(db, performer=performer).run(d("2026-03-01"))
    assert (result.sent, result.failed, result.to_confirm) == (2, 1, 0)
    assert len(performer.seen[0].item_ids) == 2
    with db.session() as s:
        rows = {a.customer_id: a for a in s.scalars(select(Action))}
    failed = rows[refused]
    assert (failed.status, failed.automatic, failed.reason) == (
        ActionStatus.PENDING,
        False,
        "no email address",
    )
    done = rows[ids.customers["Customer 0"]]
    assert (done.status, done.send_log) == (ActionStatus.DONE, "sent to ap@example.com")
    assert done.performed_at is not None


def test_open_cases_act_on_their_items(db: Database) -> None:
    ids = standard_book(
        db,
        {
            "Disputing": [("F1", "2026-03-01", "100.00")],
            "Promising": [("F2", "2026-03-01", "100.00")],
        },
    )
    cases = CasesService(AppContext(db=db, user_login="claire"))
    cases.open_dispute(
        ids.customers["Disputing"],
        today=d("2026-02-20"),
        items=[ids.items["F1"]],
        reason="price",
    )
    cases.open_promise(
        ids.customers["Promising"],
        today=d("2026-02-20"),
        promised_date=d("2026-03-05"),
        item_ids=[ids.items["F2"]],
        grace_days=2,
    )
    assert service(db).run(d("2026-03-07")).actions == 0
    result = service(db).run(d("2026-03-08"))  # the promise is broken
    assert (result.actions, result.customers) == (1, 1)
    # The review ran first: the broken promise and the unanswered dispute (due
    # 15 days after it was opened) went to people's agendas.
    assert result.review == {
        "promises_broken": 1,
        "disputes_escalated": 1,
        "actions_created": 2,
        "notifications_sent": 1,
    }


def test_plan_counts_each_day_assuming_nobody_pays(db: Database) -> None:
    many_customers(db, 2, due="2026-03-31")
    days = service(db).plan(d("2026-03-01"), 41)
    busy = {p.day.isoformat(): p.actions for p in days if p.actions}
    assert busy == {"2026-03-16": 2, "2026-03-31": 2, "2026-04-05": 2, "2026-04-10": 2}
    assert counts(db) == (0, 0)


@pytest.mark.slow
@pytest.mark.parametrize("serialize", [True, False], ids=["lock", "constraint-only"])
def test_four_concurrent_runs_give_the_result_of_one(
    pg_schema: str, serialize: bool
) -> None:
    url = pg_schema_url(pg_schema)
    db = _build(url)
    try:
        customers = 40
        many_customers(db, customers)
        ctx = multiprocessing.get_context("spawn")
        barrier = ctx.Barrier(4)
        results = ctx.Queue()
        processes = [
            ctx.Process(
                target=run_in_process,
                args=(url, "2026-03-01", serialize, barrier, results),
            )
            for _ in range(4)
        ]
        for process in processes:
            process.start()
        outcomes = [results.get(timeout=120) for _ in processes]
        for process in processes:
            process.join(timeout=60)
            assert process.exitcode == 0
        assert sorted(created for created, _ in outcomes) == [0, 0, 0, customers]
        # Whether a loser met the unique index (and ran again) depends on the
        # scheduler; the outcome must be the same either way.
        assert all(attempts >= 1 for _, attempts in outcomes)
        assert counts(db) == (customers, 2 * customers)
        with db.session() as s:
            per_customer = s.execute(
                select(Action.customer_id, func.count()).group_by(Action.customer_id)
            ).all()
            assert {n for _, n in per_customer} == {1}
    finally:
        db.dispose()


def crashed_run(db: Database, day: str, where: str) -> None:
    """A real run in another process, killed (SIGKILL) while sending."""
    ctx = multiprocessing.get_context("spawn")
    process = ctx.Process(
        target=crash_in_process,
        args=(db.engine.url.render_as_string(False), day, where),
    )
    process.start()
    process.join(timeout=120)
    assert process.exitcode == -signal.SIGKILL


def statuses(db: Database) -> dict[ActionStatus, int]:
    with db.session() as s:
        rows = s.execute(select(Action.status, func.count()).group_by(Action.status))
        return dict(rows.all())


@pytest.mark.slow
def test_reminders_a_crash_left_queued_are_sent_once_by_the_next_run(
    db: Database,
) -> None:
    many_customers(db, 3)
    crashed_run(db, "2026-03-01", "before_claim")
    # The run's actions were committed, nothing was sent.
    assert statuses(db) == {ActionStatus.QUEUED: 3}
    performer = FakePerformer(refuse=-1)
    result = service(db, performer=performer).run(d("2026-03-02"))
    assert (result.resumed, result.actions, result.interrupted) == (3, 0, 0)
    assert len(performer.seen) == 3
    assert statuses(db) == {ActionStatus.DONE: 3}
    # Sent once: a later run has nothing left to send.
    service(db, performer=performer).run(d("2026-03-03"))
    assert len(performer.seen) == 3


@pytest.mark.slow
def test_a_send_cut_off_mid_way_is_never_sent_twice_but_handed_to_the_agenda(
    db: Database,
) -> None:
    ids = many_customers(db, 2)
    crashed_run(db, "2026-03-01", "mid_send")
    # Claimed one at a time: only the one in flight is unsure.
    assert statuses(db) == {ActionStatus.SENDING: 1, ActionStatus.QUEUED: 1}
    with db.session() as s:
        cut_off = s.scalars(
            select(Action.id).where(Action.status == ActionStatus.SENDING)
        ).one()
    performer = FakePerformer(refuse=-1)
    # The one never claimed goes now; the one in flight may still be going
    # out from another desktop: left alone for a while.
    report = service(db, performer=performer).resume_sending()
    assert (report.sent, report.interrupted) == (1, 0)
    later = utcnow() + SENDING_STALE + dt.timedelta(minutes=1)
    report = service(db, performer=performer).resume_sending(now=later)
    assert (report.sent, report.interrupted) == (0, 1)
    # Perhaps sent already: never again, a human checks.
    assert cut_off not in {a.action_id for a in performer.seen}
    assert statuses(db) == {ActionStatus.DONE: 1, ActionStatus.PENDING: 1}
    with db.session() as s:
        action = s.get(Action, cut_off)
        assert action is not None
        assert action.status == ActionStatus.PENDING
        assert not action.automatic
        assert action.assigned_to_id == ids.collector
        assert action.reason is not None
        assert action.reason.startswith("sending was interrupted")


def test_two_senders_never_send_the_same_reminder(db: Database) -> None:
    many_customers(db, 4)
    ctx = AppContext(db=db, user_login="claire")
    service(db).run(d("2026-03-01"))  # no performer: to confirm
    with db.session() as s:  # queued, as a confirmation click leaves them
        ids = s.scalars(select(Action.id)).all()
        s.execute(update(Action).values(status=ActionStatus.QUEUED))
        enqueue_actions(s, automatic_actions(s, ids))
    first, second = FakePerformer(refuse=-1), FakePerformer(refuse=-1)
    colleague = action_outbox(ctx, second)

    class Racing:
        """Sends while a colleague's desktop drains the same outbox."""

        def perform(self, entry: Entry) -> Outcome:
            if not first.seen:  # the colleague starts while the first is out
                inner = colleague.drain()
                assert (inner.sent, inner.skipped) == (3, 0)
            return first.perform(entry)

    report = action_outbox(ctx, Racing()).drain()
    assert (report.sent, len(first.seen), len(second.seen)) == (1, 1, 3)
    assert {a.action_id for a in first.seen}.isdisjoint(
        a.action_id for a in second.seen
    )
    assert statuses(db) == {ActionStatus.DONE: 4}
