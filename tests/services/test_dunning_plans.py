"""Rule 7: a payment plan is dunned by its instalments, on SQLite and PostgreSQL.

While a plan runs its invoices wait; each instalment is reminded from its own
due date by the customer's scenario (the reminder before it, on the day...),
once per step. An instalment missed past the plan grace (the scenario's, 10 days by
default) breaks the plan: the collector gets a "broken plan" action to decide
on, and the invoices wait for it, then resume at their next step for what is
still unpaid.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from o2c_desktop.engine.types import ActionStatus, CaseStatus
from o2c_desktop.engine.workbench import CallOutcome, PerformRequest, TimelineTab
from o2c_desktop.models import (
    Action,
    ActionInstalment,
    ActionItem,
    Case,
    Customer,
    Item,
    PlanInstalment,
    Scenario,
)
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.outbox import AutomaticAction, Outcome
from o2c_desktop.services.workbench import WorkbenchService
from o2c_desktop.settings import Settings
from o2c_desktop.sync import mail
from tests.services._book import Ids, standard_book
from tests.sync.smtp_server import Inbox, start

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.outbox import Entry


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def ctx(db: Database) -> AppContext:
    return AppContext(db=db, user_login="claire", settings=Settings(send_cap=500))


class Mailer:
    """Sends every automatic reminder and keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[AutomaticAction] = []

    def perform(self, entry: Entry) -> Outcome:
        self.sent.append(AutomaticAction.of(entry))
        return Outcome(True, "sent")


def plan_book(db: Database) -> tuple[Ids, str]:
    """Monnier owes F1 (1,000.00, long overdue) and agreed to pay it in two."""
    ids = standard_book(db, {"Monnier": [("F1", "2026-01-15", "1000.00")]})
    with db.session() as s:  # F1 already had its +10 letter
        s.execute(update(Item).values(dunning_step_id=ids.steps[10]))
    change = CasesService(ctx(db)).open_payment_plan(
        ids.customers["Monnier"],
        today=d("2026-03-01"),
        item_ids=[ids.items["F1"]],
        schedule=[
            (d("2026-03-20"), Decimal("400.00")),
            (d("2026-04-20"), Decimal("600.00")),
        ],
    )
    return ids, change.case.number


def reminders(db: Database) -> list[tuple[dt.date, str, int, Decimal, int]]:
    """(day, step, instalment no., amount claimed, days late) of plan reminders."""
    with db.session() as s:
        rows = s.execute(
            select(
                Action.planned_date,
                Action.subject,
                PlanInstalment.seq,
                ActionInstalment.amount,
                ActionInstalment.days_late,
            )
            .join(ActionInstalment, ActionInstalment.action_id == Action.id)
            .join(PlanInstalment, PlanInstalment.id == ActionInstalment.instalment_id)
            .order_by(Action.planned_date, PlanInstalment.seq)
        ).all()
    return [
        (day, subject or "", seq, amount, late)
        for day, subject, seq, amount, late in rows
    ]


def pay(db: Database, ids: Ids, remaining: str) -> None:
    """The ERP import brings F1's new remaining amount."""
    with db.session() as s:
        s.execute(
            update(Item)
            .where(Item.id == ids.items["F1"])
            .values(remaining=Decimal(remaining))
        )


def test_each_instalment_is_reminded_from_its_own_due_date_once_per_step(
    db: Database,
) -> None:
    ids, number = plan_book(db)
    mailer = Mailer()
    night = DunningService(ctx(db), mailer)
    # 15 days before the first instalment: the pre-reminder, for it alone.
    result = night.run(d("2026-03-05"))
    assert (result.actions, result.items, result.sent) == (1, 1, 1)
    assert reminders(db) == [
        (
            d("2026-03-05"),
            f"pre-reminder · Échéancier N°{number}",
            1,
            Decimal("400.00"),
            -15,
        )
    ]
    assert mailer.sent[0].item_ids == ()
    assert len(mailer.sent[0].instalment_ids) == 1
    assert not mailer.sent[0].attach_interest
    # Run again that day, or the next: nothing new; F1 waits for the plan.
    assert night.run(d("2026-03-05")).actions == 0
    assert night.run(d("2026-03-06")).actions == 0
    # On the due date, the "due today" reminder; F1 still not chased.
    night.run(d("2026-03-20"))
    assert [r[1:3] for r in reminders(db)][-1] == (
        f"due today · Échéancier N°{number}",
        1,
    )
    with db.session() as s:
        # The only action on F1 is the plan's own record, no dunning step.
        steps = s.scalars(select(ActionItem.step_id)).all()
        assert steps == [None]
        action = s.scalars(select(Action).order_by(Action.planned_date.desc())).first()
        assert action is not None
        case = s.scalars(select(Case)).one()
        assert action.case_id == case.id  # on the plan's timeline
    # Paid on time: the first instalment is left alone from then on, the
    # second gets its own reminders from its own date.
    pay(db, ids, "600.00")
    assert night.run(d("2026-03-25")).actions == 0
    night.run(d("2026-04-05"))
    assert reminders(db)[-1] == (
        d("2026-04-05"),
        f"pre-reminder · Échéancier N°{number}",
        2,
        Decimal("600.00"),
        -15,
    )


def test_a_missed_instalment_breaks_the_plan_after_ten_days_and_the_collector_decides(
    db: Database,
) -> None:
    ids, number = plan_book(db)
    night = DunningService(ctx(db), Mailer())
    with db.session() as s:  # Monnier pays the first instalment, 400.00
        s.execute(update(Item).values(remaining=Decimal("600.00")))
    night.run(d("2026-03-20"))
    night.run(d("2026-04-20"))  # the second one is due: "due today"
    assert [r[1:3] for r in reminders(db)] == [
        (f"due today · Échéancier N°{number}", 2)
    ]
    # Ten days of grace (the scenario's plan grace), broken on the eleventh;
    # the instalment had its +10 reminder meanwhile.
    assert night.run(d("2026-04-30")).review == {}
    assert [r[1] for r in reminders(db)] == [
        f"due today · Échéancier N°{number}",
        f"reminder 1 · Échéancier N°{number}",
    ]
    result = night.run(d("2026-05-01"))
    assert result.review["plans_broken"] == 1
    with db.session() as s:
        case = s.scalars(select(Case)).one()
        assert (case.status, case.grace_days) == (CaseStatus.BROKEN, 10)
        broken = s.scalars(
            select(Action).where(
                Action.case_id == case.id, Action.status == ActionStatus.PENDING
            )
        ).one()
        assert broken.assigned_to_id == ids.collector
        assert broken.amount == Decimal("600.00")  # only what is still unpaid
        broken_id, version = broken.id.hex, broken.version
    # F1 waits for Claire's decision (re-plan, resume or escalate).
    for day in ("2026-05-01", "2026-05-05"):
        assert night.run(d(day)).left_out["held_by_pending_action"] == 1
    assert item_reminders(db, ids.items["F1"]) == []
    # She decides to resume dunning: F1 goes on from its step, for 600.00.
    WorkbenchService(ctx(db)).perform_action(
        PerformRequest(broken_id, version, CallOutcome.DONE, comment="resume"),
        d("2026-05-06"),
    )
    night.run(d("2026-05-07"))
    assert item_reminders(db, ids.items["F1"]) == [
        ("letter 2", ActionStatus.TO_CONFIRM, Decimal("600.00"))
    ]
    # No more instalment reminders for a broken plan.
    night.run(d("2026-05-20"))
    assert len(reminders(db)) == 2


def item_reminders(
    db: Database, item_id: int
) -> list[tuple[str | None, ActionStatus, Decimal | None]]:
    """(subject, status, amount) of the dunning actions about an item."""
    with db.session() as s:
        rows = s.execute(
            select(Action.subject, Action.status, Action.amount)
            .join(ActionItem)
            .where(ActionItem.item_id == item_id, Action.step_id.is_not(None))
            .order_by(Action.planned_date)
        ).all()
    return [(a, b, c) for a, b, c in rows]


def test_the_plan_grace_is_a_scenario_setting(db: Database) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-01-15", "1000.00")]})
    with db.session() as s:
        s.execute(update(Scenario).values(plan_grace_days=5))
    change = CasesService(ctx(db)).open_payment_plan(
        ids.customers["Monnier"],
        today=d("2026-03-01"),
        item_ids=[ids.items["F1"]],
        schedule=[(d("2026-03-20"), Decimal("1000.00"))],
    )
    assert change.case.grace_days == 5
    night = DunningService(ctx(db), Mailer())
    assert night.run(d("2026-03-25")).review == {}
    assert night.run(d("2026-03-26")).review["plans_broken"] == 1


def test_a_pending_instalment_call_holds_it_and_is_cancelled_once_paid(
    db: Database,
) -> None:
    ids, _number = plan_book(db)
    with db.session() as s:  # a long grace: the +5 reminder is reached
        s.execute(update(Case).values(grace_days=40))
    night = DunningService(ctx(db))  # no mail: automatic reminders wait for a click
    night.run(d("2026-03-25"))  # +5 for instalment 1, held by the pending action
    assert [r[2:4] for r in reminders(db)] == [(1, Decimal("400.00"))]
    assert night.run(d("2026-03-30")).actions == 0  # +10 waits behind it
    pay(db, ids, "600.00")
    result = night.run(d("2026-03-31"))
    assert result.cancelled_paid == 1
    with db.session() as s:
        action = s.scalars(select(Action).join(ActionInstalment)).one()
        assert (action.status, action.reason) == (ActionStatus.CANCELLED, "paid")


def test_the_dry_run_and_the_what_if_count_instalment_reminders(db: Database) -> None:
    plan_book(db)
    night = DunningService(ctx(db))
    assert night.run(d("2026-03-05"), dry_run=True).actions == 1
    busy = {p.day: p.actions for p in night.plan(d("2026-03-01"), 60) if p.actions}
    # -15, 0, +5... of each instalment (nobody pays, the plan never breaks
    # in a what-if: the review does not run).
    assert busy[d("2026-03-05")] == 1
    assert busy[d("2026-03-20")] == 1
    assert busy[d("2026-04-05")] == 1


def test_the_instalment_reminder_reaches_the_customer_by_email(
    db: Database,
) -> None:
    _ids, number = plan_book(db)
    with db.session() as s:
        s.execute(update(Customer).values(email="compta@monnier.example"))
        s.execute(update(Case).values(grace_days=10))
    box = Inbox()
    controller, port = start(box)
    try:
        config = mail.MailConfig(
            host="127.0.0.1",
            port=port,
            security="none",
            mail_from="relances@acme.example",
            timeout=3,
        )
        documents = DocumentService(ctx(db), config)
        result = DunningService(ctx(db), documents).run(d("2026-03-25"))
    finally:
        controller.stop()
    assert (result.sent, result.failed) == (1, 0)
    [received] = box.messages
    assert received.recipients == ["compta@monnier.example"]
    message = received.message
    # In French (the entity's language): the plan, the instalment, what is left.
    assert message["Subject"] == f"Échéancier n° {number} \N{EN DASH} échéance 1"
    body = message.get_body(("plain",))
    assert body is not None
    text = body.get_content()
    assert "l'échéance 1 de 400,00\xa0€ était due le 20/03/2026" in text
    # Interest is owed on invoices, not instalments: no interest statement.
    assert [p.get_filename() for p in message.iter_attachments()] == []


def test_the_collector_sees_which_instalment_a_reminder_is_about(
    db: Database,
) -> None:
    ids, number = plan_book(db)
    DunningService(ctx(db)).run(d("2026-03-05"))
    workbench = WorkbenchService(ctx(db))
    page = workbench.timeline(ids.customers["Monnier"], TimelineTab.DUNNING)
    reminder = next(
        e for e in page.entries if e.subject and "pre-reminder" in e.subject
    )
    # In the plan's timeline, with the instalment where items usually are.
    assert (reminder.case_number, reminder.items, reminder.item_count) == (
        number,
        ("instalment 1",),
        1,
    )
    detail = workbench.action_detail(reminder.action_id, d("2026-03-05"))
    assert (detail.items, detail.instalments) == ((), ("instalment 1",))
    assert detail.amount == Decimal("400.00")
