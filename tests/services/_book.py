"""Small books of receivables built inline, for the dunning service tests."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c_desktop.engine.types import ActionType, ItemKind, StepMode
from o2c_desktop.models import Customer, Entity, Item, Scenario, Step, User

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.documents import DocumentService

A, M, C = StepMode.AUTOMATIC, StepMode.MANUAL, StepMode.CONFIRM

STANDARD = (
    ("pre-reminder", -15, ActionType.EMAIL, A),
    ("due today", 0, ActionType.EMAIL, A),
    ("reminder 1", 5, ActionType.EMAIL, A),
    ("letter 1", 10, ActionType.LETTER, A),
    ("letter 2", 20, ActionType.LETTER, C),
    ("call", 30, ActionType.PHONE_CALL, M),
    ("formal notice", 45, ActionType.REGISTERED_LETTER, M),
    ("litigation", 75, ActionType.LITIGATION_HANDOVER, M),
)


@dataclass
class Ids:
    """Ids of what a book holds, by name."""

    entity: int = 0
    scenario: int = 0
    collector: int = 0
    steps: dict[int, int] = field(default_factory=dict)  # offset -> step id
    customers: dict[str, int] = field(default_factory=dict)
    items: dict[str, int] = field(default_factory=dict)


def standard_book(
    db: Database,
    customers: dict[str, list[tuple[str, str, str]]],
    *,
    min_gap_days: int = 0,
    business_days: bool = False,
) -> Ids:
    """A book: customer -> [(item number, due date, remaining)], all on Standard."""
    ids = Ids()
    with db.session("setup") as s:
        entity = Entity(code="FR01", name="Acme France", country="FR")
        collector = User(login="claire", full_name="Claire Martin")
        scenario = Scenario(
            name="Standard",
            min_gap_days=min_gap_days,
            business_days=business_days,
            steps=[
                Step(name=n, offset_days=o, action_type=t, mode=m)
                for n, o, t, m in STANDARD
            ],
        )
        s.add_all([entity, collector, scenario])
        s.flush()
        ids.entity, ids.scenario, ids.collector = entity.id, scenario.id, collector.id
        ids.steps = {st.offset_days: st.id for st in scenario.steps}
        for n, (name, rows) in enumerate(customers.items()):
            cust = Customer(
                entity_id=entity.id,
                reference=f"C{n:05d}",
                name=name,
                scenario_id=scenario.id,
                collector_id=collector.id,
            )
            s.add(cust)
            s.flush()
            ids.customers[name] = cust.id
            for number, due, remaining in rows:
                amount = Decimal(remaining)
                row = Item(
                    entity_id=entity.id,
                    customer_id=cust.id,
                    kind=ItemKind.INVOICE if amount > 0 else ItemKind.CREDIT_NOTE,
                    number=number,
                    issue_date=dt.date.fromisoformat(due) - dt.timedelta(days=30),
                    due_date=dt.date.fromisoformat(due),
                    amount=amount,
                    remaining=amount,
                    currency="EUR",
                )
                s.add(row)
                s.flush()
                ids.items[number] = row.id
    return ids


def many_customers(db: Database, count: int, due: str = "2026-03-01") -> Ids:
    """`count` customers with two invoices each, due on `due`."""
    return standard_book(
        db,
        {
            f"Customer {n}": [(f"F{n}a", due, "120.00"), (f"F{n}b", due, "80.50")]
            for n in range(count)
        },
    )


def run_in_process(
    url: str, day: str, serialize: bool, barrier: object, results: object
) -> None:
    """Child process of the concurrency test: one real run, puts actions created."""
    from sqlalchemy.orm import sessionmaker

    from o2c_desktop.models.db import AuditedSession, Database, make_engine
    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.dunning import DunningService

    engine = make_engine(url)
    database = Database(
        engine=engine,
        factory=sessionmaker(engine, class_=AuditedSession, expire_on_commit=False),
    )
    try:
        barrier.wait()  # type: ignore[attr-defined]  # multiprocessing Barrier
        service = DunningService(
            AppContext(db=database, user_login="night-job"), serialize=serialize
        )
        result = service.run(dt.date.fromisoformat(day))
        results.put((result.actions, result.attempts))  # type: ignore[attr-defined]
    finally:
        database.dispose()


def crash_in_process(url: str, day: str, where: str) -> None:
    """Child process that dies (SIGKILL) during a real run's sending.

    `where` is "before_claim" (the run committed its queued actions, then the
    process died before a sender claimed them) or "mid_send" (claimed, and
    the process died while the performer was sending).
    """
    import os
    import signal

    from sqlalchemy.orm import sessionmaker

    from o2c_desktop.models.db import AuditedSession, Database, make_engine
    from o2c_desktop.services import dunning
    from o2c_desktop.services.context import AppContext

    def die(*_args: object, **_kwargs: object) -> None:
        os.kill(os.getpid(), signal.SIGKILL)

    class Dying:
        def perform(self, entry: object) -> object:
            die()
            return None

    if where == "before_claim":
        # After the run's commit, before its sender claims the first entry.
        dunning.DunningService._perform = die  # type: ignore[assignment,method-assign]  # the crash under test
    engine = make_engine(url)
    database = Database(
        engine=engine,
        factory=sessionmaker(engine, class_=AuditedSession, expire_on_commit=False),
    )
    service = dunning.DunningService(
        AppContext(db=database, user_login="night-job"),
        Dying(),  # type: ignore[arg-type]  # a performer that crashes
    )
    service.run(dt.date.fromisoformat(day))


def _mail_service(url: str, port: int) -> tuple[Database, AppContext, DocumentService]:
    """(database, context, documents service sending to 127.0.0.1:`port`)."""
    from sqlalchemy.orm import sessionmaker

    from o2c_desktop.models.db import AuditedSession, Database, make_engine
    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.documents import DocumentService
    from o2c_desktop.sync.mail import MailConfig

    engine = make_engine(url)
    database = Database(
        engine=engine,
        factory=sessionmaker(engine, class_=AuditedSession, expire_on_commit=False),
    )
    ctx = AppContext(db=database, user_login="night-job")
    config = MailConfig(
        host="127.0.0.1",
        port=port,
        security="none",
        mail_from="relances@acme.example",
        timeout=10,
    )
    return database, ctx, DocumentService(ctx, config)


def send_in_process(url: str, day: str, port: int) -> None:
    """Child process: a real run sending its reminders to the SMTP server at `port`.

    The test's server kills it (SIGKILL) once it has taken the k-th message.
    """
    from o2c_desktop.services.dunning import DunningService

    _db, ctx, documents = _mail_service(url, port)
    DunningService(ctx, documents).run(dt.date.fromisoformat(day))


def drain_in_process(url: str, port: int, barrier: object, results: object) -> None:
    """Child process of the concurrent senders test: drains the outbox once."""
    from o2c_desktop.services.outbox import action_outbox

    database, ctx, documents = _mail_service(url, port)
    try:
        outbox = action_outbox(ctx, documents)
        barrier.wait()  # type: ignore[attr-defined]  # multiprocessing Barrier
        report = outbox.drain()
        results.put((report.sent, len(report.failed)))  # type: ignore[attr-defined]
    finally:
        database.dispose()
