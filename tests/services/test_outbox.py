"""The outbox sends each message once, on SQLite and PostgreSQL, with real SMTP.

A collector's reminders leave through the outbox: written with the run,
claimed one at a time, recorded as soon as the mail server answers. These
tests kill senders, race them and take the mail server down.
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import signal
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest
from alembic import command
from sqlalchemy import String, Uuid, column, func, inspect, select, table, update
from sqlalchemy.orm import sessionmaker

from o2c_desktop.engine.types import ActionStatus, ItemStatus, OutboxStatus
from o2c_desktop.models import Action, Customer, Item, OutboxEntry
from o2c_desktop.models.base import UTCDateTime, utcnow
from o2c_desktop.models.db import AuditedSession, Database, alembic_config, make_engine
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.services.dunning import DunningService, SendCapExceededError
from o2c_desktop.services.outbox import (
    ACTION_CHANNELS,
    SENDING_STALE,
    Outbox,
    action_key,
    automatic_actions,
    enqueue_actions,
)
from o2c_desktop.services.workbench import WorkbenchService
from o2c_desktop.settings import Settings
from o2c_desktop.sync import mail
from tests.services._book import (
    drain_in_process,
    many_customers,
    send_in_process,
)
from tests.sync.smtp_server import Inbox, free_port, start

if TYPE_CHECKING:
    from collections.abc import Iterator

    from tests.services._book import Ids


def d(text_: str) -> dt.date:
    return dt.date.fromisoformat(text_)


def ctx(db: Database) -> AppContext:
    return AppContext(db=db, user_login="claire", settings=Settings(send_cap=500))


def config(port: int) -> mail.MailConfig:
    return mail.MailConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        mail_from="relances@acme.example",
        timeout=3,
    )


def customers_with_email(db: Database, count: int) -> Ids:
    """`count` customers, each reachable at its own address, all due 2026-03-01."""
    ids = many_customers(db, count)
    with db.session("setup") as s:
        for cid in ids.customers.values():
            s.execute(
                update(Customer)
                .where(Customer.id == cid)
                .values(email=f"ap{cid}@example.com")
            )
    return ids


def action_statuses(db: Database) -> dict[ActionStatus, int]:
    with db.session() as s:
        rows = s.execute(select(Action.status, func.count()).group_by(Action.status))
        return dict(rows.all())


def entry_statuses(db: Database) -> dict[OutboxStatus, int]:
    with db.session() as s:
        rows = s.execute(
            select(OutboxEntry.status, func.count()).group_by(OutboxEntry.status)
        )
        return dict(rows.all())


def recipients(box: Inbox) -> list[str]:
    return sorted(r for m in box.messages for r in m.recipients)


@dataclass
class KillingInbox(Inbox):
    """Kills the sending process (SIGKILL) once it has taken message `kill_at`.

    The kill comes after the server stored the message and before the
    sender reads the server's "250": the sender cannot know it went.
    """

    kill_at: int = 0
    pid: int = 0

    async def handle_DATA(  # noqa: N802 - aiosmtpd hook name
        self, server: Any, session: Any, envelope: Any
    ) -> str:
        answer = await super().handle_DATA(server, session, envelope)
        if self.kill_at and len(self.messages) == self.kill_at:
            os.kill(self.pid, signal.SIGKILL)
        return answer


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    box = Inbox()
    controller, port = start(box)
    try:
        yield box, port
    finally:
        controller.stop()


@pytest.mark.slow
def test_a_kill_after_the_server_took_message_k_leaves_one_unsure_and_the_rest_go_once(
    db: Database,
) -> None:
    n, k = 5, 3
    customers_with_email(db, n)
    box = KillingInbox(kill_at=k)
    controller, port = start(box)
    try:
        spawn = multiprocessing.get_context("spawn")
        process = spawn.Process(
            target=send_in_process,
            args=(db.engine.url.render_as_string(False), "2026-03-01", port),
        )
        process.start()
        box.pid = process.pid or 0
        process.join(timeout=120)
        assert process.exitcode == -signal.SIGKILL
        # k messages reached the server; only the k-th is unsure (it went, but
        # its sender died before hearing so); the rest were never claimed.
        assert len(box.messages) == k
        assert action_statuses(db) == {
            ActionStatus.DONE: k - 1,
            ActionStatus.SENDING: 1,
            ActionStatus.QUEUED: n - k,
        }
        assert entry_statuses(db) == {
            OutboxStatus.DONE: k - 1,
            OutboxStatus.SENDING: 1,
            OutboxStatus.QUEUED: n - k,
        }
        # The next night's run sends the rest, once.
        box.kill_at = 0
        documents = DocumentService(ctx(db), config(port))
        result = DunningService(ctx(db), documents).run(d("2026-03-02"))
        assert (result.resumed, result.interrupted, result.actions) == (n - k, 0, 0)
        assert len(box.messages) == n
        assert len(set(recipients(box))) == n  # every customer exactly once
        # The unsure one is never sent again: after a while, a human checks.
        later = utcnow() + SENDING_STALE + dt.timedelta(minutes=1)
        report = DunningService(ctx(db), documents).resume_sending(now=later)
        assert (report.sent, report.interrupted) == (0, 1)
        assert len(box.messages) == n
    finally:
        controller.stop()
    assert action_statuses(db) == {ActionStatus.DONE: n - 1, ActionStatus.PENDING: 1}
    with db.session() as s:
        unsure = s.scalars(
            select(Action).where(Action.status == ActionStatus.PENDING)
        ).one()
        assert unsure.reason is not None
        assert unsure.reason.startswith("sending was interrupted")
        assert not unsure.automatic


@pytest.mark.slow
def test_three_desktops_draining_at_once_send_each_reminder_once(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    count = 24
    customers_with_email(db, count)
    DunningService(ctx(db)).run(d("2026-03-01"))  # no mail: waiting for a click
    with db.session("claire") as s:  # confirmed: queued, as the click leaves them
        ids = s.scalars(select(Action.id)).all()
        s.execute(update(Action).values(status=ActionStatus.QUEUED))
        assert enqueue_actions(s, automatic_actions(s, ids)) == count
    spawn = multiprocessing.get_context("spawn")
    barrier = spawn.Barrier(3)
    results = spawn.Queue()
    url = db.engine.url.render_as_string(False)
    processes = [
        spawn.Process(target=drain_in_process, args=(url, port, barrier, results))
        for _ in range(3)
    ]
    for process in processes:
        process.start()
    outcomes = [results.get(timeout=120) for _ in processes]
    for process in processes:
        process.join(timeout=60)
        assert process.exitcode == 0
    assert sum(sent for sent, _ in outcomes) == count
    assert all(failed == 0 for _, failed in outcomes)
    assert len(box.messages) == count
    assert len(set(recipients(box))) == count
    assert action_statuses(db) == {ActionStatus.DONE: count}
    with db.session() as s:  # each claimed once
        assert set(s.scalars(select(OutboxEntry.attempts))) == {1}


def test_the_run_writes_one_entry_per_automatic_reminder_with_its_actions(
    db: Database,
) -> None:
    ids = customers_with_email(db, 2)
    unreachable = DocumentService(ctx(db), config(free_port()))
    with pytest.raises(SendCapExceededError):
        DunningService(
            AppContext(db=db, user_login="claire", settings=Settings(send_cap=1)),
            unreachable,
        ).run(d("2026-03-01"))
    assert entry_statuses(db) == {}  # all or nothing: no action, no entry
    DunningService(ctx(db)).run(d("2026-03-01"))  # without mail: to confirm
    assert entry_statuses(db) == {}  # nothing leaves before the click
    with db.session() as s:
        waiting = s.scalars(select(Action.id)).all()
    workbench = WorkbenchService(ctx(db), performer=unreachable)
    result = workbench.confirm_actions([a.hex for a in waiting], d("2026-03-01"))
    # A human clicked: a server down is reported at once, as before.
    assert result.confirmed == 0
    assert all("cannot reach the mail server" in why for _n, why in result.failed)
    assert len(result.failed) == 2
    with db.session() as s:
        entries = s.execute(
            select(OutboxEntry.idempotency_key, OutboxEntry.action_id)
        ).all()
        assert {key for key, _ in entries} == {action_key(a) for a in waiting}
        actions = s.scalars(select(Action)).all()
        assert {a.customer_id for a in actions} == set(ids.customers.values())
        assert {a.status for a in actions} == {ActionStatus.PENDING}
        assert all(not a.automatic for a in actions)
    # Queueing the same actions again adds nothing: one entry per action.
    with db.session("claire") as s:
        assert enqueue_actions(s, automatic_actions(s, waiting)) == 0
    assert entry_statuses(db) == {OutboxStatus.FAILED: 2}


class Clock:
    """The outbox's time, moved by the test."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> dt.datetime:
        return self.now

    def later(self, minutes: int) -> None:
        self.now += dt.timedelta(minutes=minutes)


def outbox_to(db: Database, port: int, clock: Clock) -> Outbox:
    documents = DocumentService(ctx(db), config(port))
    return Outbox(ctx(db), dict.fromkeys(ACTION_CHANNELS, documents), clock=clock)


def test_a_mail_server_down_is_tried_again_later_and_each_reminder_goes_once(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    customers_with_email(db, 2)
    clock = Clock()
    down = outbox_to(db, free_port(), clock)
    result = DunningService(ctx(db), outbox=down).run(d("2026-03-01"))
    # The first send found no server: tried again later. The other was left
    # queued, never claimed: one timeout, not one per reminder.
    assert (result.sent, result.failed, result.to_retry) == (0, 0, 2)
    assert action_statuses(db) == {ActionStatus.QUEUED: 2}
    assert entry_statuses(db) == {OutboxStatus.TO_RETRY: 1, OutboxStatus.QUEUED: 1}
    with db.session() as s:
        retried = s.scalars(select(Action).where(Action.reason.is_not(None))).one()
        assert retried.reason is not None
        assert retried.reason.startswith("not sent yet, tried again after")
        assert "cannot reach the mail server" in retried.reason
    # The server is back: the one never tried goes, the other waits its turn.
    up = outbox_to(db, port, clock)
    assert up.drain().sent == 1
    assert len(box.messages) == 1
    clock.later(6)
    assert up.drain().sent == 1
    assert len(set(recipients(box))) == 2
    assert action_statuses(db) == {ActionStatus.DONE: 2}
    with db.session() as s:
        assert set(s.scalars(select(Action.reason))) == {None}
    assert up.drain().sent == 0


def test_a_server_down_for_good_ends_in_the_agenda_with_the_reason(
    db: Database,
) -> None:
    ids = customers_with_email(db, 1)
    clock = Clock()
    down = outbox_to(db, free_port(), clock)
    DunningService(ctx(db), outbox=down).run(d("2026-03-01"))
    clock.later(6)
    assert down.drain().to_retry == 1  # second attempt
    clock.later(10)
    assert down.drain().sent == 0  # not due before 30 minutes
    clock.later(25)
    report = down.drain()  # third and last attempt
    assert (report.sent, len(report.failed), report.to_retry) == (0, 1, 0)
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert action.status == ActionStatus.PENDING
        assert not action.automatic
        assert action.assigned_to_id == ids.collector
        assert action.reason is not None
        assert action.reason.startswith("Email not sent: cannot reach the mail server")
        entry = s.scalars(select(OutboxEntry)).one()
        assert (entry.status, entry.attempts) == (OutboxStatus.FAILED, 3)


def test_a_reminder_waiting_for_the_server_is_not_sent_once_paid(
    db: Database, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    customers_with_email(db, 1)
    clock = Clock()
    DunningService(ctx(db), outbox=outbox_to(db, free_port(), clock)).run(
        d("2026-03-01")
    )
    with db.session() as s:  # the import closes the paid items
        s.execute(
            update(Item).values(
                remaining=0, status=ItemStatus.CLOSED, closed_on=d("2026-03-02")
            )
        )
    clock.later(6)
    result = DunningService(ctx(db), outbox=outbox_to(db, port, clock)).run(
        d("2026-03-02")
    )
    assert (result.cancelled_paid, result.sent) == (1, 0)
    assert box.messages == []
    assert action_statuses(db) == {ActionStatus.CANCELLED: 1}
    assert entry_statuses(db) == {OutboxStatus.CANCELLED: 1}


def test_an_upgrade_gives_sends_left_by_the_previous_version_their_entries(
    db_url: str, smtp: tuple[Inbox, int]
) -> None:
    box, port = smtp
    engine = make_engine(db_url)
    try:
        cfg = alembic_config(engine)
        command.upgrade(cfg, "head")
        db = Database(
            engine=engine,
            factory=sessionmaker(engine, class_=AuditedSession, expire_on_commit=False),
        )
        try:
            customers_with_email(db, 3)
            DunningService(ctx(db)).run(d("2026-03-01"))
            with db.session() as s:
                first, second, third = s.scalars(
                    select(Action.id).order_by(Action.customer_id)
                ).all()
            # The previous version's schema, and its sends as it left them.
            command.downgrade(cfg, "0007")
            old = table(
                "action",
                column("id", Uuid),
                column("status", String),
                column("updated_at", UTCDateTime),
            )
            with engine.begin() as conn:
                conn.execute(
                    update(old)
                    .where(old.c.id.in_([first, second]))
                    .values(status=ActionStatus.QUEUED.value)
                )
                conn.execute(
                    update(old)
                    .where(old.c.id == third)
                    .values(
                        status=ActionStatus.SENDING.value,
                        updated_at=utcnow() - dt.timedelta(hours=1),
                    )
                )
            command.upgrade(cfg, "head")  # 0008 gives them their entries
            documents = DocumentService(ctx(db), config(port))
            report = DunningService(ctx(db), documents).resume_sending()
            # Queued ones go once; the one cut off is handed to a human.
            assert (report.sent, report.interrupted) == (2, 1)
            assert len(box.messages) == 2
            assert action_statuses(db) == {
                ActionStatus.DONE: 2,
                ActionStatus.PENDING: 1,
            }
            command.downgrade(cfg, "0007")
            with engine.connect() as conn:
                assert "outbox_entry" not in inspect(conn).get_table_names()
            command.upgrade(cfg, "head")
            # Nothing was waiting this time: nothing is queued to go again.
            assert entry_statuses(db) == {}
        finally:
            db.dispose()
    finally:
        engine.dispose()
