"""Letters a customer would receive wrongly (issue 16), as a collector's days.

Each test drives the nightly run through the service, as `o2c dunning run`
does, on SQLite and PostgreSQL, and reads what was sent for which item.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select, update

from o2c_desktop.engine.types import ActionStatus, ItemStatus
from o2c_desktop.models import Action, Item
from o2c_desktop.services.workbench import WorkbenchService
from tests.services._book import standard_book
from tests.services.test_dunning_day import Mailer, ctx, dunned, nightly

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_an_invoice_first_seen_40_days_late_skips_the_expired_statement(
    db: Database,
) -> None:
    # The ERP export brings an invoice due on 20 January; the first run is on
    # 1 March. Runs every day, a week between two reminders.
    ids = standard_book(
        db, {"Monnier": [("F1", "2026-01-20", "900.00")]}, min_gap_days=7
    )
    day = d("2026-03-01")
    for _ in range(15):
        nightly(db).run(day)
        day += dt.timedelta(days=1)
    # Not the due-date statement 40 days late: reminder 1, then a week later
    # letter 1, then letter 2 (waiting for a click), one step per week.
    assert dunned(db, ids.items["F1"]) == [
        ("reminder 1", "done", Decimal("900.00")),
        ("letter 1", "done", Decimal("900.00")),
        ("letter 2", "to_confirm", Decimal("900.00")),
    ]
    with db.session() as s:
        planned = sorted(s.scalars(select(Action.planned_date)))
    assert planned == [d("2026-03-01"), d("2026-03-08"), d("2026-03-15")]


def test_an_item_not_yet_due_is_never_claimed_in_an_overdue_reminder(
    db: Database,
) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F1", "2026-02-19", "1200.00"),  # 10 days late
                ("F2", "2026-03-11", "300.00"),  # due in 10 days
            ]
        },
    )
    result = nightly(db).run(d("2026-03-01"))
    assert (result.actions, result.items) == (1, 1)
    assert result.amounts == {"EUR": Decimal("1200.00")}
    assert [s for s, _, _ in dunned(db, ids.items["F1"])] == ["reminder 1"]
    assert dunned(db, ids.items["F2"]) == []  # only in the attached statement


def test_the_amount_claimed_is_the_lines_listed_net_of_credits(db: Database) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F0", "2026-02-25", "400.00"),  # had its statement; +5 tomorrow
                ("F1", "2026-03-01", "250.00"),  # due today: the statement
                ("AV1", "2026-02-10", "-90.00"),  # unapplied cash
            ]
        },
    )
    with db.session() as s:
        s.execute(
            update(Item)
            .where(Item.id == ids.items["F0"])
            .values(dunning_step_id=ids.steps[0], dunning_date=d("2026-02-25"))
        )
    nightly(db).run(d("2026-03-01"))
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        # 250.00 listed, less the 90.00 of unapplied cash; F0 is not listed
        # (it is at its step already), so it is not claimed by this letter.
        assert (action.amount, action.currency) == (Decimal("160.00"), "EUR")
        assert sorted(i.item_id for i in action.items) == [ids.items["F1"]]


def confirm(db: Database, today: dt.date) -> int:
    """Claire clicks "send" on every reminder waiting for her confirmation."""
    with db.session() as s:
        waiting = s.scalars(
            select(Action.id).where(Action.status == ActionStatus.TO_CONFIRM)
        ).all()
    workbench = WorkbenchService(ctx(db), performer=Mailer())
    return workbench.confirm_actions([a.hex for a in waiting], today).confirmed


def test_the_gap_counts_from_the_day_a_letter_reached_the_customer(
    db: Database,
) -> None:
    # F1 fell due on 1 January; letter 1 went out on the 11th. A week
    # between two reminders.
    ids = standard_book(
        db, {"Monnier": [("F1", "2026-01-01", "700.00")]}, min_gap_days=7
    )
    with db.session() as s:
        s.execute(
            update(Item).values(
                dunning_step_id=ids.steps[10], dunning_date=d("2026-01-11")
            )
        )
    # Letter 2 (+20) waits for Claire's click; she confirms it only on +44.
    nightly(db).run(d("2026-01-21"))
    for day in ("2026-01-28", "2026-02-10"):
        assert nightly(db).run(d(day)).actions == 0  # held by the waiting letter
    assert confirm(db, d("2026-02-14")) == 1
    # The call (+30) is due, but the letter reached Monnier on 14 February:
    # nothing before the 21st.
    for day in ("2026-02-15", "2026-02-20"):
        assert nightly(db).run(d(day)).actions == 0
        assert nightly(db).run(d(day), dry_run=True).left_out["min_gap"] == 1
    assert nightly(db).run(d("2026-02-21")).actions == 1
    assert dunned(db, ids.items["F1"]) == [
        ("letter 2", "done", Decimal("700.00")),
        ("call", "pending", Decimal("700.00")),
    ]
    with db.session() as s:
        letter = s.scalars(select(Action).order_by(Action.planned_date)).first()
        assert letter is not None
        # Planned on the 21st, performed on the business day of the click.
        assert (letter.planned_date, letter.performed_on) == (
            d("2026-01-21"),
            d("2026-02-14"),
        )


def test_a_reminder_cancelled_unsent_is_sent_again_when_the_payment_bounces(
    db: Database,
) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    nightly(db).run(d("2026-03-01"))  # "due today" sent by email
    nightly(db, mail=False).run(d("2026-03-06"))  # reminder 1 waits for a click
    with db.session() as s:  # Monnier pays; the import closes F1
        s.execute(
            update(Item).values(
                remaining=0, status=ItemStatus.CLOSED, closed_on=d("2026-03-07")
            )
        )
    assert nightly(db).run(d("2026-03-07")).cancelled_paid == 1
    with db.session() as s:  # the cheque bounced: the next import reopens F1
        s.execute(
            update(Item).values(
                remaining=Decimal("500.00"), status=ItemStatus.OPEN, closed_on=None
            )
        )
    # Reminder 1 never left: it is sent now, then letter 1 at +10 as planned.
    assert nightly(db).run(d("2026-03-09")).actions == 1
    assert nightly(db).run(d("2026-03-11")).actions == 1
    assert dunned(db, ids.items["F1"]) == [
        ("due today", "done", Decimal("500.00")),
        ("reminder 1", "cancelled", Decimal("500.00")),
        ("reminder 1", "done", Decimal("500.00")),
        ("letter 1", "done", Decimal("500.00")),
    ]
