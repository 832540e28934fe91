"""Dunning runs: load the book as columns, let the engine decide, write it once.

A real run first lets `CasesService.review_due_cases` settle what time did to
cases (broken promises and plans get their agenda actions, holds past their
end lift), then reads the open items, customers, scenarios and history in a
few set-based queries through the raw driver cursor, straight into numpy
columns (dates as day numbers, money as int64 cents), asks
`engine.dunning.decide`, and writes the actions, their items, the items'
dunning columns and a `dunning_run` record in one transaction (``COPY`` on
PostgreSQL, ``executemany`` of plain tuples on SQLite). A dry run reviews the
cases and decides in one transaction that it rolls back, so it shows what the
real run would do, the review's effects included (issue 15), and writes
nothing. A real run dated after today is refused unless allowed.

Exactly once, even with several desktops on one PostgreSQL database: writers
take a transaction-scoped advisory lock, and the unique index on
``action_item (item_id, step_id)`` is the last word. A run that loses a race
(unique violation, deadlock, busy SQLite file) rolls back and starts again
from what the winner committed, which then decides nothing new. A run dated
before the last recorded run is refused; a dry run may look back.

Automatic actions are performed after the commit, through the outbox
(`services/outbox.py`): the run writes them "queued" with one outbox entry
each, in its own transaction, and the outbox's performers (documents and
email, issue 5) claim, send and record them one at a time: done, or manual
with the reason. Without a performer they wait as "to confirm" with the
reason, so nothing is reported as sent that was not, nothing escalates over
an unsent reminder, and a click sends them once mail is configured.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import json
import logging
import os
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select, update
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import selectinload

from o2c_desktop.engine import dunning as engine
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    CatchUp,
    ItemStatus,
    OutboxStatus,
    StepMode,
)
from o2c_desktop.i18n import N_, translator
from o2c_desktop.models import Action, DunningRun, Scenario, User
from o2c_desktop.models.base import utcnow, uuid4_hexes
from o2c_desktop.models.bulk import BulkWriter
from o2c_desktop.services.cases import CasesService, check_not_future
from o2c_desktop.services.context import Changes
from o2c_desktop.services.outbox import (
    AutomaticAction,
    Outbox,
    Performer,
    SendReport,
    action_outbox,
    entry_values,
)

if TYPE_CHECKING:
    from collections.abc import Iterator, Sequence
    from decimal import Decimal

    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from sqlalchemy.orm import Session

    from o2c_desktop.engine.cases import ReviewReport
    from o2c_desktop.services.context import AppContext

    IntArray = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

PAID = "paid"
NOT_SENT = "not sent: documents and email are not configured; confirm to send"
_LOCK_KEY = 0x0D2C0004  # pg_advisory_xact_lock key of dunning runs (issue 4)
_REVIEW_LOCK_KEY = 0x0D2C0005  # pg_advisory_lock key of the case review before it
_NULL_DAY = -(10**9)  # a day number before any real date, for SQL NULLs
_FOREVER = 10**7  # a day number far in the future (year 29349)
_CHUNK = 5000
# Open actions hold their items; a paid item cancels those not yet being sent.
_CANCELLABLE = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM, ActionStatus.QUEUED)
_OPEN_ACTION = (*_CANCELLABLE, ActionStatus.SENDING)
_EPOCH = dt.date(1970, 1, 1)
# The current version of each plan's schedule (editing a plan adds a version).
_CURRENT_VERSIONS = (
    "SELECT case_id, MAX(plan_version) AS v FROM plan_instalment GROUP BY case_id"
)


class SendCapExceededError(Exception):
    """A run would send more automatic emails/letters than the cap allows."""

    def __init__(self, sends: int, cap: int) -> None:
        super().__init__(
            f"this run would send {sends} automatic emails/letters, over the cap "
            f"of {cap}; check the dry run, then confirm to send them"
        )
        self.sends = sends
        self.cap = cap


@dataclass(frozen=True)
class DunningRunResult:
    """What a run created (or a dry run would create).

    Attributes:
        day: the run date.
        dry_run: nothing was written.
        actions: actions created.
        items: items they cover.
        customers: customers with an action.
        by_type / by_channel / by_mode / by_step: actions counted by action
            type, channel ("none" for calls and tasks), mode and step
            ("scenario / step").
        amounts: amount claimed per currency.
        automatic_sends: automatic emails/letters/SMS (what the cap counts).
        send_cap: the cap in force.
        over_cap: a real run would stop without confirmation.
        cancelled_paid: open actions cancelled because their items were paid.
        sent / failed / to_confirm / pending: outcome of a real run: performed,
            failed (now manual), waiting for a confirmation click, in an agenda.
        to_retry: sends not made because the mail server could not be
            reached, still queued: a later run tries them again.
        left_out: why open items produced nothing, by reason.
        review: what the case review before the run did, or would do in a
            dry run (counts by outcome).
        run_id: the `dunning_run` record of a real run.
        attempts: 1, or more when a concurrent run won a race.
        resumed: queued actions a crash left unsent, sent by this run.
        interrupted: sends a crash cut off, handed to the agenda to check.
        changes: what views should refresh.
    """

    day: dt.date
    dry_run: bool
    actions: int
    items: int
    customers: int
    by_type: dict[str, int]
    by_channel: dict[str, int]
    by_mode: dict[str, int]
    amounts: dict[str, Decimal]
    automatic_sends: int
    send_cap: int
    over_cap: bool
    cancelled_paid: int
    by_step: dict[str, int] = field(default_factory=dict)
    sent: int = 0
    failed: int = 0
    to_confirm: int = 0
    pending: int = 0
    to_retry: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    review: dict[str, int] = field(default_factory=dict)
    run_id: int | None = None
    attempts: int = 1
    resumed: int = 0
    interrupted: int = 0
    changes: Changes = field(default_factory=Changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values (amounts as text)."""
        return {
            "date": self.day.isoformat(),
            "dry_run": self.dry_run,
            "actions": self.actions,
            "items": self.items,
            "customers": self.customers,
            "by_type": self.by_type,
            "by_channel": self.by_channel,
            "by_mode": self.by_mode,
            "by_step": self.by_step,
            "amounts": {k: str(v) for k, v in self.amounts.items()},
            "automatic_sends": self.automatic_sends,
            "send_cap": self.send_cap,
            "over_cap": self.over_cap,
            "cancelled_paid": self.cancelled_paid,
            "sent": self.sent,
            "failed": self.failed,
            "to_confirm": self.to_confirm,
            "pending": self.pending,
            "to_retry": self.to_retry,
            "left_out": self.left_out,
            "review": self.review,
            "run_id": self.run_id,
            "attempts": self.attempts,
            "resumed": self.resumed,
            "interrupted": self.interrupted,
        }


@dataclass(frozen=True)
class PlanDaySummary:
    """One day of a what-if plan, counted."""

    day: dt.date
    actions: int
    items: int
    by_type: dict[str, int]
    by_mode: dict[str, int]
    amounts: dict[str, Decimal]

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "date": self.day.isoformat(),
            "actions": self.actions,
            "items": self.items,
            "by_type": self.by_type,
            "by_mode": self.by_mode,
            "amounts": {k: str(v) for k, v in self.amounts.items()},
        }


@dataclass(frozen=True)
class _Instalments:
    """Unpaid instalments of running payment plans, as engine rows.

    The engine reads them as items with negative ids: row ``k`` of `frame`
    has item id ``-(k + 1)`` and stands for instalment ``keys[k]`` of plan
    ``cases[k]`` (numbered ``numbers[k]``).
    """

    frame: pd.DataFrame
    keys: list[Any]  # plan_instalment ids as the driver returns them
    cases: list[Any]
    numbers: list[str]  # "Payment plan N°12", in the entity's language

    def key_of(self, engine_ids: IntArray) -> list[Any]:
        """Instalment ids of engine rows (negative ids)."""
        return [self.keys[-i - 1] for i in engine_ids.tolist()]


@dataclass(frozen=True)
class _Loaded:
    book: engine.Book
    scenarios: list[engine.DunningScenario]
    last_run: dt.date | None
    paid_actions: list[Any]  # ids as the driver returns them
    # Payment-plan instalments, dunned from their own due dates (rule 7).
    instalments: engine.Book
    plans: _Instalments

    def decide(self, day: dt.date) -> engine.Decisions:
        """The engine's decisions for items and instalments, as one set."""
        return _merge(
            engine.decide(self.book, self.scenarios, day),
            engine.decide(self.instalments, self.scenarios, day),
        )


class DunningService:
    """Runs the dunning engine against the database.

    Args:
        ctx: the database and the current user.
        performer: sends automatic actions (the documents service) through
            an outbox of its own; without one (nor `outbox`) they wait for
            a confirmation click.
        serialize: take the advisory lock on PostgreSQL.
        max_attempts: runs tried when a concurrent run wins a race.
        review_cases: review due cases first.
        outbox: the outbox that sends automatic actions, instead of `performer`.
    """

    def __init__(
        self,
        ctx: AppContext,
        performer: Performer | None = None,
        *,
        serialize: bool = True,
        max_attempts: int = 5,
        review_cases: bool = True,
        outbox: Outbox | None = None,
    ) -> None:
        self._ctx = ctx
        if outbox is None and performer is not None:
            outbox = action_outbox(ctx, performer)
        self._outbox = outbox
        # Tests switch the lock off to prove the unique index alone is enough.
        self._serialize = serialize
        self._max_attempts = max_attempts
        self._review_cases = review_cases

    def run(
        self,
        day: dt.date,
        *,
        dry_run: bool = False,
        confirm: bool = False,
        allow_future: bool = False,
    ) -> DunningRunResult:
        """Run (or dry-run) the engine for `day`.

        A real run first reviews due cases (broken promises and plans, holds
        past their end), then decides and writes in one transaction, and
        records itself in `dunning_run`. A dry run does the same review and
        decisions in one transaction that it rolls back: its counts, review
        included, are the real run's, and nothing is written. (It holds the
        review's row locks, or SQLite's write lock, until it is done.)

        Args:
            day: the run date; a real run may not be dated before the last
                one, nor after today unless `allow_future`.
            dry_run: count what would be created; write nothing.
            confirm: allow a run over the send cap.
            allow_future: let a real run be dated after today.

        Returns:
            The counts of what was (or would be) created.

        Raises:
            engine.RunDateError: a real run dated before the last run.
            FutureDateError: a real run dated after today, not allowed.
            SendCapExceededError: over the cap without `confirm`; nothing written.
        """
        if dry_run:
            with self._ctx.db.session(self._ctx.user_login) as s:
                try:
                    review = (
                        _review_counts(
                            CasesService(self._ctx).review_in_session(s, day)
                        )
                        if self._review_cases
                        else {}
                    )
                    result, _ = self._run_once(
                        s, day, dry_run=True, confirm=confirm, review=review
                    )
                finally:
                    s.rollback()
            return result
        if not allow_future:
            check_not_future(day, "dunning run")
        started = utcnow()
        with self._ctx.db.session(self._ctx.user_login) as s:
            engine.check_run_date(day, _last_run(s))
        review = self._review(day) if self._review_cases else {}
        outbox = self._outbox
        interrupted = outbox.hand_over_stale() if outbox is not None else 0
        # Entries older than this were left by an earlier run or click.
        before_run = utcnow()
        attempt = 1
        while True:
            try:
                with self._ctx.db.session(self._ctx.user_login) as s:
                    result, _automatic = self._run_once(
                        s, day, dry_run=False, confirm=confirm, review=review
                    )
                    run_id = _record_run(s, result, started, self._ctx.user_login)
                break
            except Exception as exc:
                if not _is_race(exc) or attempt >= self._max_attempts:
                    raise
                log.info("Dunning run for %s lost a race (%s); retrying", day, exc)
                attempt += 1
        result = dataclasses.replace(result, attempts=attempt, run_id=run_id)
        if outbox is not None:
            result = self._perform(result, outbox, before_run, interrupted)
            with self._ctx.db.session(self._ctx.user_login) as s:
                s.execute(
                    update(DunningRun)
                    .where(DunningRun.id == run_id)
                    .values(counts=_run_counts(result), finished_at=utcnow())
                )
        return result

    def plan(self, start: dt.date, days: int) -> list[PlanDaySummary]:
        """What the scenarios would produce each day, assuming nobody pays.

        Args:
            start: first day.
            days: number of days.

        Returns:
            One summary per day.
        """
        with self._ctx.db.session(self._ctx.user_login) as s:
            loaded = _load(s, start)
            s.rollback()
        out = []
        for p, q in zip(
            engine.plan(loaded.book, loaded.scenarios, start, days),
            engine.plan(loaded.instalments, loaded.scenarios, start, days),
            strict=True,
        ):
            decisions = _merge(p.decisions, q.decisions)
            acts = decisions.actions
            out.append(
                PlanDaySummary(
                    day=p.day,
                    actions=len(acts),
                    items=len(decisions.items),
                    by_type=_count(acts["action_type"]),
                    by_mode=_count(acts["mode"]),
                    amounts=_amounts(acts),
                )
            )
        return out

    def _review(self, day: dt.date) -> dict[str, int]:
        """Let the case review settle promises, plans, disputes and holds first."""
        db = self._ctx.db
        # The run has checked its date already (a future one was allowed).
        review = functools.partial(
            CasesService(self._ctx).review_due_cases, day, allow_future=True
        )
        if db.engine.dialect.name != "postgresql" or not self._serialize:
            report = review().report
        else:
            # Concurrent runs review one after the other: the second finds
            # nothing left to decide instead of breaking a promise twice.
            with db.engine.connect() as conn:
                conn.execute(select(func.pg_advisory_lock(_REVIEW_LOCK_KEY)))
                conn.commit()
                try:
                    report = review().report
                finally:
                    conn.execute(select(func.pg_advisory_unlock(_REVIEW_LOCK_KEY)))
                    conn.commit()
        return _review_counts(report)

    def _run_once(
        self,
        s: Session,
        day: dt.date,
        *,
        dry_run: bool,
        confirm: bool,
        review: dict[str, int] | None = None,
    ) -> tuple[DunningRunResult, list[AutomaticAction]]:
        postgres = s.get_bind().dialect.name == "postgresql"
        if not dry_run and postgres and self._serialize:
            s.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        loaded = _load(s, day)
        if not dry_run:
            engine.check_run_date(day, loaded.last_run)
        decisions = loaded.decide(day)
        acts = decisions.actions
        steps = {st.id: st for sc in loaded.scenarios for st in sc.steps}
        types = acts["action_type"].astype(str)
        sending = types.isin([t.value for t in ActionType if engine.is_send(t)])
        sends = int(((acts["mode"] == StepMode.AUTOMATIC.value) & sending).sum())
        cap = self._ctx.settings.send_cap
        over_cap = sends > cap and not confirm
        paid = loaded.paid_actions
        channels = {t.value: str(engine.channel_of(t) or "none") for t in ActionType}
        step_names = {
            st.id: f"{sc.name} / {st.name}"
            for sc in loaded.scenarios
            for st in sc.steps
        }
        result = DunningRunResult(
            day=day,
            dry_run=dry_run,
            actions=len(acts),
            items=len(decisions.items),
            customers=int(acts["customer_id"].nunique()),
            by_type=_count(acts["action_type"]),
            by_channel=_count(types.map(channels)),
            by_mode=_count(acts["mode"]),
            by_step=_count(acts["step_id"].map(step_names)),
            amounts=_amounts(acts),
            automatic_sends=sends,
            send_cap=cap,
            over_cap=over_cap,
            cancelled_paid=len(paid),
            left_out=dict(decisions.left_out),
            review=dict(review or {}),
        )
        if dry_run:
            return result, []
        if over_cap:
            raise SendCapExceededError(sends, cap)
        now = utcnow()
        user = self._ctx.user_login or None
        _cancel_paid(s, paid, now, user)
        automatic = _write(
            s,
            decisions,
            steps,
            loaded.plans,
            now=now,
            user=user,
            performer=self._outbox is not None,
        )
        modes = Counter(acts["mode"].tolist())
        written = bool(len(acts)) or bool(paid)
        return (
            dataclasses.replace(
                result,
                to_confirm=modes[StepMode.CONFIRM.value]
                + (0 if automatic else modes[StepMode.AUTOMATIC.value]),
                pending=modes[StepMode.MANUAL.value],
                changes=Changes(actions=written, items=bool(len(acts)))
                | (Changes(cases=True, customers=True) if review else Changes()),
            ),
            automatic,
        )

    def resume_sending(self, now: dt.datetime | None = None) -> SendReport:
        """Finish what a crash left: send queued entries, hand over cut-off sends.

        Queued entries were never claimed by a sender, so sending them now
        sends them once. One claimed more than `SENDING_STALE` ago with no
        outcome may or may not have left: its action goes to the collector's
        agenda with the reason instead of being sent twice.

        Args:
            now: the current time (tests move it).

        Returns:
            What was sent, what failed, how many were handed over.

        Raises:
            RuntimeError: the service has no performer.
        """
        if self._outbox is None:
            raise RuntimeError("resuming sends needs a performer (documents, email)")
        interrupted = self._outbox.hand_over_stale(now)
        report = self._outbox.drain()
        return dataclasses.replace(report, interrupted=interrupted)

    def _perform(
        self,
        result: DunningRunResult,
        outbox: Outbox,
        before_run: dt.datetime,
        interrupted: int,
    ) -> DunningRunResult:
        """Send through the outbox, after the commit, one entry at a time.

        What earlier runs left comes first, once this run has cancelled the
        reminders of items paid meanwhile; then what this run queued.
        """
        resumed = outbox.drain(created_before=before_run)
        if resumed.sent:
            log.info("Sent %d entries a previous run left queued", resumed.sent)
        report = outbox.drain()
        failed = len(resumed.failed) + len(report.failed)
        return dataclasses.replace(
            result,
            sent=report.sent,
            resumed=resumed.sent,
            interrupted=interrupted,
            failed=failed,
            pending=result.pending + failed + interrupted,
            to_retry=resumed.to_retry + report.to_retry,
        )


def _review_counts(report: ReviewReport) -> dict[str, int]:
    """What the case review did (or would do), counted by outcome."""
    counts = {
        name: len(getattr(report, name))
        for name in (
            "promises_kept",
            "promises_broken",
            "plans_kept",
            "plans_broken",
            "disputes_paid",
            "disputes_escalated",
            "disputes_closed",
            "customer_holds_lifted",
        )
    }
    counts["item_holds_lifted"] = report.item_holds_lifted
    counts["actions_created"] = report.actions_created
    counts["notifications_sent"] = report.notifications_sent
    return {k: v for k, v in counts.items() if v}


def _count(values: pd.Series[Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(Counter(values.tolist()).items())}


def _amounts(actions: pd.DataFrame) -> dict[str, Decimal]:
    if actions.empty:
        return {}
    sums = actions.groupby("currency")["amount_cents"].sum()
    return {str(k): engine.from_cents(int(v)) for k, v in sums.items()}


def _run_counts(result: DunningRunResult) -> dict[str, Any]:
    """What `dunning_run.counts` keeps of a run (JSON)."""
    data = result.as_dict()
    return {
        key: data[key]
        for key in (
            "customers",
            "by_type",
            "by_mode",
            "amounts",
            "automatic_sends",
            "sent",
            "failed",
            "to_confirm",
            "pending",
            "to_retry",
            "left_out",
            "review",
            "attempts",
            "resumed",
            "interrupted",
        )
    }


def _record_run(
    s: Session, result: DunningRunResult, started: dt.datetime, user: str
) -> int:
    """Insert the `dunning_run` row of a real run (in the run's transaction)."""
    run = DunningRun(
        run_date=result.day,
        started_at=started,
        finished_at=utcnow(),
        user_login=user or None,
        actions_created=result.actions,
        items_covered=result.items,
        actions_cancelled=result.cancelled_paid,
        counts=_run_counts(result),
    )
    s.add(run)
    s.flush()
    return run.id


def _last_run(s: Session) -> dt.date | None:
    return s.scalar(select(func.max(DunningRun.run_date)))


def _is_race(exc: Exception) -> bool:
    """A unique violation, deadlock or busy file caused by a concurrent run."""
    # COPY raises psycopg's own errors, not wrapped by SQLAlchemy.
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) in {"23505", "40P01", "40001"}:
        return True
    text = str(orig)
    return (
        "UNIQUE constraint failed: action_item" in text
        or "UNIQUE constraint failed: action_instalment" in text
        or "database is locked" in text
    )


# -- loading -----------------------------------------------------------------
# Reads go through the driver's cursor, not the ORM: a million Row objects and
# Decimals cost seconds. Every value inlined in this SQL is an enum value or an
# integer computed here, never user input.


class _Sql:
    """Dialect spellings of the few expressions the raw queries need."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def day(self, col: str) -> str:
        """A date column as days since 1970-01-01, NULL as `_NULL_DAY`."""
        if self.pg:
            expr = f"({col} - DATE '1970-01-01')"
        else:
            expr = f"CAST(julianday({col}) - 2440587.5 AS INTEGER)"
        return f"COALESCE({expr}, {_NULL_DAY})"

    def cents(self, col: str) -> str:
        """A Money column as integer cents (SQLite already stores cents)."""
        return f"CAST({col} * 100 AS BIGINT)" if self.pg else col

    def flag(self, col: str) -> str:
        """A boolean column as 0/1."""
        return f"CAST({col} AS INTEGER)" if self.pg else col

    @staticmethod
    def date(day: dt.date) -> str:
        """A date literal (an ISO string compares as a date on both engines)."""
        return f"'{day.isoformat()}'"


def _fetch(s: Session, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` as plain tuples, from the driver's cursor."""
    cursor = s.connection().connection.cursor()
    try:
        cursor.execute(sql)
        rows: list[tuple[Any, ...]] = list(cursor.fetchall())
    finally:
        cursor.close()
    return rows


def _columns(rows: list[tuple[Any, ...]], width: int) -> list[tuple[Any, ...]]:
    return list(zip(*rows, strict=True)) if rows else [()] * width


def _ints(values: Sequence[Any]) -> IntArray:
    import numpy as np

    return np.fromiter(values, dtype=np.int64, count=len(values))


def _days(values: Sequence[Any]) -> IntArray:
    """Day numbers from SQL, `_NULL_DAY` as the engine's `NO_DAY`."""
    import numpy as np

    arr = _ints(values)
    out: IntArray = np.where(arr == _NULL_DAY, engine.NO_DAY, arr)
    return out


def _scenarios(s: Session) -> list[engine.DunningScenario]:
    from decimal import Decimal

    rows = s.scalars(select(Scenario).options(selectinload(Scenario.steps))).all()
    return [
        engine.DunningScenario(
            id=sc.id,
            name=sc.name,
            steps=tuple(
                engine.DunningStep(
                    id=st.id,
                    name=st.name,
                    offset_days=st.offset_days,
                    action_type=ActionType(st.action_type),
                    mode=StepMode(st.mode),
                    template_code=st.template_code,
                    attach_statement=st.attach_statement,
                    attach_interest=st.attach_interest,
                    contact_role=st.contact_role,
                )
                for st in sorted(sc.steps, key=lambda st: st.offset_days)
            ),
            min_gap_days=sc.min_gap_days,
            tolerance=sc.tolerance,
            tolerances={
                str(k).upper(): Decimal(str(v))
                for k, v in (sc.tolerances or {}).items()
            },
            catch_up=CatchUp(sc.catch_up),
            business_days=sc.business_days,
            scope=dict(sc.scope or {}),
            priority=sc.priority,
            active=sc.active,
        )
        for sc in rows
    ]


def _load(s: Session, day: dt.date) -> _Loaded:
    """The book as columns, in a few set-based queries."""
    import numpy as np
    import pandas as pd

    q = _Sql(s.get_bind().dialect.name)
    scenarios = _scenarios(s)
    open_status = ItemStatus.OPEN.value
    # An item's own hold: until `hold_until`, or until lifted when only a
    # reason is set (never send a reminder someone asked to hold).
    item_rows = _fetch(
        s,
        f"SELECT id, customer_id, currency, {q.day('due_date')}, "
        f"{q.cents('remaining')}, {q.flag('disputed')}, "
        f"COALESCE({q.cents('disputed_amount')}, 0), {q.flag('in_litigation')}, "
        f"{q.day('suspended_until')}, "
        f"CASE WHEN hold_until IS NOT NULL THEN {q.day('hold_until')} "
        f"WHEN hold_reason IS NOT NULL THEN {_FOREVER} ELSE {_NULL_DAY} END, "
        "COALESCE(dunning_step_id, 0) "
        f"FROM item WHERE status = '{open_status}' AND remaining <> 0",
    )
    cols = _columns(item_rows, 11)
    items = pd.DataFrame(
        {
            "item_id": _ints(cols[0]),
            "customer_id": _ints(cols[1]),
            "currency": np.asarray(cols[2], dtype=object),
            "due_date": _days(cols[3]),
            "remaining_cents": _ints(cols[4]),
            "disputed": _ints(cols[5]).astype(bool),
            "disputed_cents": _ints(cols[6]),
            "in_litigation": _ints(cols[7]).astype(bool),
            "suspended_until": _days(cols[8]),
            "hold_until": _days(cols[9]),
            "last_step_id": _ints(cols[10]),
        }
    )
    _apply_cases(s, q, items)

    cust_rows = _fetch(
        s,
        "SELECT c.id, COALESCE(c.scenario_id, 0), "
        f"{q.flag('c.on_hold')}, {q.day('c.hold_until')}, "
        "COALESCE(c.collector_id, 0), e.country, c.entity_id, "
        "COALESCE(c.portfolio_id, 0), c.category, c.risk_class "
        "FROM customer c JOIN entity e ON e.id = c.entity_id",
    )
    cc = _columns(cust_rows, 10)
    customers = pd.DataFrame(
        {
            "customer_id": _ints(cc[0]),
            "scenario_id": _ints(cc[1]),
            "on_hold": _ints(cc[2]).astype(bool),
            "hold_until": _days(cc[3]),
            "collector_id": _ints(cc[4]),
            "country": np.asarray(cc[5], dtype=object),
            "entity_id": _ints(cc[6]),
            "portfolio_id": _ints(cc[7]),
            "category": np.asarray(cc[8], dtype=object),
            "risk_class": np.asarray(cc[9], dtype=object),
        }
    )
    if any(sc.scope.get("min_outstanding") for sc in scenarios):
        outstanding = items.groupby("customer_id")["remaining_cents"].sum()
        customers["outstanding_cents"] = (
            customers["customer_id"].map(outstanding).fillna(0).astype(np.int64)
        )

    users = pd.DataFrame(
        s.execute(
            select(
                User.id, User.absent_from, User.absent_until, User.replacement_id
            ).where(User.absent_from.is_not(None))
        ).all(),
        columns=list(engine.USER_COLUMNS),
    )
    plans = _load_instalments(s, q)
    held, held_instalments, paid = _open_actions(s, plans)
    # Only reminders recent enough to matter for the minimum gap.
    max_gap = max((sc.min_gap_days for sc in scenarios), default=0)
    since = day - dt.timedelta(days=max_gap)
    reminder_rows = _fetch(
        s,
        f"SELECT customer_id, MAX({q.day('planned_date')}) FROM action "
        f"WHERE step_id IS NOT NULL AND status <> '{ActionStatus.CANCELLED.value}' "
        f"AND planned_date >= {q.date(since)} GROUP BY customer_id",
    )
    rc = _columns(reminder_rows, 2)
    reminders = pd.DataFrame({"customer_id": _ints(rc[0]), "last_date": _days(rc[1])})
    return _Loaded(
        book=engine.Book(
            items=items,
            customers=customers,
            users=users,
            held_item_ids=held,
            last_reminders=reminders,
        ),
        scenarios=scenarios,
        last_run=_last_run(s),
        paid_actions=paid,
        # Invoice and instalment reminders are separate conversations: both
        # count from the reminders sent before today.
        instalments=engine.Book(
            items=plans.frame,
            customers=customers,
            users=users,
            held_item_ids=held_instalments,
            last_reminders=reminders,
        ),
        plans=plans,
    )


def _load_instalments(s: Session, q: _Sql) -> _Instalments:
    """Unpaid instalments of the current version of each running plan."""
    import numpy as np
    import pandas as pd

    rows = _fetch(
        s,
        "SELECT pi.id, c.id, c.number, c.customer_id, "
        "COALESCE(c.currency, e.currency), "
        f"{q.day('pi.due_date')}, {q.cents('pi.amount')} - {q.cents('pi.paid')}, "
        "COALESCE(pi.dunning_step_id, 0), e.language "
        f"FROM case_file c JOIN ({_CURRENT_VERSIONS}) cur ON cur.case_id = c.id "
        "JOIN plan_instalment pi ON pi.case_id = c.id AND pi.plan_version = cur.v "
        "JOIN customer cu ON cu.id = c.customer_id "
        "JOIN entity e ON e.id = cu.entity_id "
        f"WHERE c.kind = '{CaseKind.PAYMENT_PLAN.value}' "
        f"AND c.status = '{CaseStatus.OPEN.value}' AND pi.amount > pi.paid "
        "ORDER BY c.customer_id, pi.due_date, pi.seq",
    )
    cols = _columns(rows, 9)
    n = len(rows)
    # Named in the entity's language, as the cases service names its actions.
    label = {
        lang: translator(lang or "en").gettext(N_("Payment plan N°{number}"))
        for lang in set(cols[8])
    }
    frame = pd.DataFrame(
        {
            "item_id": -np.arange(1, n + 1, dtype=np.int64),
            "customer_id": _ints(cols[3]),
            "currency": np.asarray(cols[4], dtype=object),
            "due_date": _days(cols[5]),
            "remaining_cents": _ints(cols[6]),
            "disputed": np.zeros(n, dtype=bool),
            "in_litigation": np.zeros(n, dtype=bool),
            "suspended_until": np.full(n, engine.NO_DAY, dtype=np.int64),
            "last_step_id": _ints(cols[7]),
        }
    )
    return _Instalments(
        frame=frame,
        keys=list(cols[0]),
        cases=list(cols[1]),
        numbers=[
            label[lang].format(number=number)
            for number, lang in zip(cols[2], cols[8], strict=True)
        ],
    )


def _merge(items: engine.Decisions, plans: engine.Decisions) -> engine.Decisions:
    """One set of decisions: the instalments' actions numbered after the items'."""
    import pandas as pd

    if plans.actions.empty:
        return items
    shift = len(items.actions)
    acts = plans.actions.assign(action_no=plans.actions["action_no"] + shift)
    rows = plans.items.assign(action_no=plans.items["action_no"] + shift)
    left_out = Counter(items.left_out)
    left_out.update(plans.left_out)
    return engine.Decisions(
        today=items.today,
        actions=pd.concat([items.actions, acts], ignore_index=True),
        items=pd.concat([items.items, rows], ignore_index=True),
        left_out=dict(left_out),
    )


def _open_actions(
    s: Session, plans: _Instalments
) -> tuple[IntArray, IntArray, list[Any]]:
    """Items and instalments held by open dunning actions; open actions now paid.

    Instalments come back as the engine's (negative) ids of `plans`.
    """
    import numpy as np
    import pandas as pd

    statuses = ", ".join(f"'{st.value}'" for st in _OPEN_ACTION)
    open_actions = (
        f"SELECT id FROM action WHERE status IN ({statuses}) AND step_id IS NOT NULL"
    )
    # Driven from the few open actions (IN), not from every action_item row:
    # the join the other way scanned the whole history (1 s at 1M items).
    rows = _fetch(
        s,
        "SELECT ai.action_id, ai.item_id, "
        f"CASE WHEN i.status = '{ItemStatus.OPEN.value}' AND i.remaining > 0 "
        "THEN 1 ELSE 0 END "
        "FROM action_item ai JOIN item i ON i.id = ai.item_id "
        f"WHERE ai.action_id IN ({open_actions})",
    )
    # An instalment is owed while unpaid in the current version of a running plan.
    inst_rows = _fetch(
        s,
        "SELECT ax.action_id, ax.instalment_id, "
        f"CASE WHEN c.status = '{CaseStatus.OPEN.value}' AND pi.amount > pi.paid "
        "AND pi.plan_version = cur.v THEN 1 ELSE 0 END "
        "FROM action_instalment ax "
        "JOIN plan_instalment pi ON pi.id = ax.instalment_id "
        "JOIN case_file c ON c.id = pi.case_id "
        f"JOIN ({_CURRENT_VERSIONS}) cur ON cur.case_id = pi.case_id "
        f"WHERE ax.action_id IN ({open_actions})",
    )
    cols = _columns(rows, 3)
    held = np.unique(_ints(cols[1]))
    icols = _columns(inst_rows, 3)
    where = {_hex(k): -(n + 1) for n, k in enumerate(plans.keys)}
    held_instalments = np.unique(
        np.array([where[h] for h in map(_hex, icols[1]) if h in where], dtype=np.int64)
    )
    if not rows and not inst_rows:
        return held, held_instalments, []
    frame = pd.DataFrame(
        {
            # Ids as the driver returns them, both queries alike (no per-row work).
            "action": [*cols[0], *icols[0]],
            "owed": np.concatenate([_ints(cols[2]), _ints(icols[2])]),
        }
    )
    owed = frame.groupby("action", sort=True)["owed"].max()
    return held, held_instalments, owed.index[owed.to_numpy() == 0].tolist()


def _apply_cases(s: Session, q: _Sql, items: pd.DataFrame) -> None:
    """Open cases act on their items: promises suspend, disputes and plans hold.

    A dispute case also gives the disputed part when the item does not
    record one (``disputed_amount``): the case's amount for that item.
    """
    import numpy as np
    import pandas as pd

    rows = _fetch(
        s,
        "SELECT ci.item_id, c.kind, "
        f"{q.day('c.promised_date')} + COALESCE(c.grace_days, 0), "
        f"{q.cents('ci.amount')} "
        "FROM case_item ci JOIN case_file c ON c.id = ci.case_id "
        f"WHERE c.status = '{CaseStatus.OPEN.value}'",
    )
    if not rows or items.empty:
        return
    cols = _columns(rows, 4)
    index = pd.Index(items["item_id"].to_numpy(np.int64))
    at = index.get_indexer(_ints(cols[0]))
    kinds = np.asarray(cols[1], dtype=object)
    until = _ints(cols[2])
    amount = _ints(cols[3])
    known = at >= 0

    dispute = known & (kinds == CaseKind.DISPUTE.value)
    disputed = items["disputed"].to_numpy(copy=True)
    part = items["disputed_cents"].to_numpy(copy=True)
    case_part = np.zeros(len(items), dtype=np.int64)
    np.add.at(case_part, at[dispute], amount[dispute])
    in_case = case_part > 0
    part = np.where(in_case & (part == 0), case_part, part)
    disputed |= in_case
    items["disputed"] = disputed
    items["disputed_cents"] = part

    litigation = items["in_litigation"].to_numpy(copy=True)
    litigation[at[known & (kinds == CaseKind.LITIGATION.value)]] = True
    items["in_litigation"] = litigation

    # A payment plan replaces its items by instalments: the items wait while it runs.
    suspended = items["suspended_until"].to_numpy(np.int64, copy=True)
    promise = known & (kinds == CaseKind.PROMISE.value) & (until > _NULL_DAY // 2)
    np.maximum.at(suspended, at[promise], until[promise])
    suspended[at[known & (kinds == CaseKind.PAYMENT_PLAN.value)]] = _FOREVER
    items["suspended_until"] = suspended


# -- writing -----------------------------------------------------------------


def _uuid_hexes(n: int) -> list[str]:
    """`n` random (version 4) UUIDs as 32-digit hex."""
    import numpy as np

    return uuid4_hexes(np.frombuffer(os.urandom(16 * n), dtype=np.uint8).reshape(n, 16))


def _hex(value: Any) -> str:
    return value.hex if isinstance(value, uuid.UUID) else str(value).replace("-", "")


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _cancel_paid(
    s: Session, ids: list[Any], now: dt.datetime, user: str | None
) -> None:
    # An automatic email waiting to be confirmed (or queued) is cancelled too:
    # never sent. One being sent has left already.
    keys: list[uuid.UUID] = []
    for chunk in _chunks([uuid.UUID(hex=_hex(i)) for i in ids]):
        keys.extend(
            s.scalars(
                update(Action)
                .where(Action.id.in_(chunk), Action.status.in_(_CANCELLABLE))
                .values(
                    status=ActionStatus.CANCELLED,
                    reason=PAID,
                    version=Action.version + 1,
                    updated_at=now,
                    updated_by=user,
                )
                .returning(Action.id)
                .execution_options(synchronize_session=False)
            )
        )
    BulkWriter(s.connection()).audit(
        "action",
        [
            (k.hex, "update", {"status": [None, "cancelled"], "reason": [None, PAID]})
            for k in keys
        ],
        now,
        user,
    )


def _write(
    s: Session,
    decisions: engine.Decisions,
    steps: dict[int, engine.DunningStep],
    plans: _Instalments,
    *,
    now: dt.datetime,
    user: str | None,
    performer: bool,
) -> list[AutomaticAction]:
    """Insert actions, their items or instalments, and dunning columns, in bulk."""
    import numpy as np

    acts, items = decisions.actions, decisions.items
    m = len(acts)
    if not m:
        return []
    w = BulkWriter(s.connection())
    day = decisions.today
    user_id = s.scalar(select(User.id).where(User.login == user)) if user else None
    ids = _uuid_hexes(m)
    stamp = w.ts(now)

    # Columns of the action rows, each built once for the whole run.
    mode = acts["mode"].to_numpy(object)
    automatic_mode = np.asarray(mode == StepMode.AUTOMATIC.value, dtype=bool)
    manual = np.asarray(mode == StepMode.MANUAL.value, dtype=bool)
    waiting = ActionStatus.QUEUED if performer else ActionStatus.TO_CONFIRM
    confirm = ActionStatus.TO_CONFIRM.value
    status = [
        ActionStatus.PENDING.value if man else waiting.value if auto else confirm
        for man, auto in zip(manual.tolist(), automatic_mode.tolist(), strict=True)
    ]
    automatic_reason = None if performer else NOT_SENT
    reason = [
        automatic_reason if auto else (why or None)
        for auto, why in zip(
            automatic_mode.tolist(), acts["reason"].tolist(), strict=True
        )
    ]
    step_ids = acts["step_id"].to_numpy(np.int64)
    names = {sid: st.name for sid, st in steps.items()}
    subjects = [names[sid] for sid in step_ids.tolist()]
    # An instalment reminder belongs to its plan (the case) and names it.
    action_no = items["action_no"].to_numpy(np.int64)
    item_ids = items["item_id"].to_numpy(np.int64)
    of_plan = item_ids < 0
    case_ids: list[str | None] = [None] * m
    for no, engine_id in zip(
        action_no[of_plan].tolist(), item_ids[of_plan].tolist(), strict=True
    ):
        k = -engine_id - 1
        case_ids[no] = _hex(plans.cases[k])
        subjects[no] = f"{names[int(step_ids[no])]} · {plans.numbers[k]}"
    customers = acts["customer_id"].to_numpy(np.int64)
    assignee = acts["assignee_id"].to_numpy(np.int64)
    amounts = acts["amount_cents"].to_numpy(np.int64)
    planned = day.isoformat()
    action_rows = list(
        zip(
            ids,
            customers.tolist(),
            step_ids.tolist(),
            acts["action_type"].tolist(),
            subjects,
            [planned] * m,
            status,
            (~manual).tolist(),
            w.money(amounts),
            acts["currency"].tolist(),
            [a or None for a in assignee.tolist()],
            [user_id] * m,
            case_ids,
            reason,
            [1] * m,
            [stamp] * m,
            [stamp] * m,
            [user] * m,
            strict=True,
        )
    )
    w.insert(
        "action",
        (
            "id",
            "customer_id",
            "step_id",
            "action_type",
            "subject",
            "planned_date",
            "status",
            "automatic",
            "amount",
            "currency",
            "assigned_to_id",
            "created_by_id",
            "case_id",
            "reason",
            "version",
            "created_at",
            "updated_at",
            "updated_by",
        ),
        action_rows,
    )

    # Sorted by item so concurrent runs lock rows in the same order (no deadlock).
    id_array = np.array(ids, dtype=object)
    claimed = items["claimed_cents"].to_numpy(np.int64)
    late = items["days_late"].to_numpy(np.int64)
    all_steps = items["step_id"].to_numpy(np.int64)
    order = np.flatnonzero(~of_plan)
    order = order[np.argsort(item_ids[order], kind="stable")]
    item_steps = all_steps[order]
    w.insert(
        "action_item",
        ("action_id", "item_id", "step_id", "amount", "days_late"),
        list(
            zip(
                id_array[action_no[order]].tolist(),
                item_ids[order].tolist(),
                item_steps.tolist(),
                w.money(claimed[order]),
                late[order].tolist(),
                strict=True,
            )
        ),
    )
    _update_items(w, item_ids[order], item_steps, day, stamp)
    if of_plan.any():
        rows = np.flatnonzero(of_plan)
        keys = [_hex(k) for k in plans.key_of(item_ids[rows])]
        w.insert(
            "action_instalment",
            ("action_id", "instalment_id", "step_id", "amount", "days_late"),
            list(
                zip(
                    id_array[action_no[rows]].tolist(),
                    keys,
                    all_steps[rows].tolist(),
                    w.money(claimed[rows]),
                    late[rows].tolist(),
                    strict=True,
                )
            ),
        )
        _update_instalments(w, keys, all_steps[rows].tolist(), day)

    counts = acts["item_count"].to_numpy(np.int64).tolist()
    w.audit(
        "action",
        [
            (
                key,
                "insert",
                {
                    "customer_id": c,
                    "step_id": st,
                    "status": stat,
                    "amount": str(engine.from_cents(a)),
                    "items": k,
                },
            )
            for key, c, st, stat, a, k in zip(
                ids,
                customers.tolist(),
                step_ids.tolist(),
                status,
                amounts.tolist(),
                counts,
                strict=True,
            )
        ],
        now,
        user,
    )
    if not performer or not automatic_mode.any():
        return []
    # What the performer needs, for the queued actions only.
    auto_rows = np.flatnonzero(automatic_mode)
    by_action = np.argsort(action_no, kind="stable")
    bounds = np.searchsorted(action_no[by_action], np.arange(m + 1))
    sorted_ids = item_ids[by_action]
    types = acts["action_type"].to_numpy(object)
    currencies = acts["currency"].to_numpy(object)
    automatic = []
    for row in auto_rows.tolist():
        step = steps[int(step_ids[row])]
        covered = sorted_ids[bounds[row] : bounds[row + 1]]
        reminded = tuple(
            uuid.UUID(hex=_hex(k)) for k in plans.key_of(covered[covered < 0])
        )
        automatic.append(
            AutomaticAction(
                action_id=uuid.UUID(hex=ids[row]),
                customer_id=int(customers[row]),
                step_id=step.id,
                action_type=ActionType(types[row]),
                template_code=step.template_code,
                attach_statement=step.attach_statement,
                # Late interest is owed on invoices, not on plan instalments.
                attach_interest=step.attach_interest and not reminded,
                contact_role=step.contact_role,
                currency=str(currencies[row]),
                amount=engine.from_cents(int(amounts[row])),
                item_ids=tuple(covered[covered > 0].tolist()),
                instalment_ids=reminded,
            )
        )
    _enqueue(w, automatic, stamp)
    return automatic


def _enqueue(w: BulkWriter, automatic: list[AutomaticAction], stamp: str) -> None:
    """One outbox entry per automatic action, in the run's transaction."""
    rows = []
    for entry_id, send in zip(_uuid_hexes(len(automatic)), automatic, strict=True):
        key, channel, payload = entry_values(send)
        rows.append(
            (
                entry_id,
                key,
                channel.value,
                json.dumps(payload),
                send.action_id.hex,
                OutboxStatus.QUEUED.value,
                0,
                stamp,
                stamp,
            )
        )
    w.insert(
        "outbox_entry",
        (
            "id",
            "idempotency_key",
            "channel",
            "payload",
            "action_id",
            "status",
            "attempts",
            "created_at",
            "updated_at",
        ),
        rows,
    )


def _update_instalments(
    w: BulkWriter, keys: list[str], step_ids: list[int], day: dt.date
) -> None:
    """Record the step each instalment reached and the day (few rows: plain SQL)."""
    mark = w.mark
    w.executemany(
        f"UPDATE plan_instalment SET dunning_step_id = {mark}, "
        f"dunning_date = {mark}{w.change_set()} WHERE id = {mark}",
        [(step, w.day(day), key) for step, key in zip(step_ids, keys, strict=True)],
    )


def _update_items(
    w: BulkWriter,
    item_ids: IntArray,
    step_ids: IntArray,
    day: dt.date,
    stamp: str,
) -> None:
    """Record the step each item reached (its `dunning_step_id`) and the day."""
    if not len(item_ids):
        return
    marked = w.change_set()
    if w.pg:
        # One statement joined on unnest(): "id = ANY(array)" scanned the array
        # for every row.
        w.execute(
            "UPDATE item SET dunning_step_id = u.step, dunning_date = %s, "
            f"updated_at = %s{marked} FROM unnest(%s::bigint[], %s::integer[]) "
            "AS u(id, step) WHERE item.id = u.id",
            (day, stamp, item_ids.tolist(), step_ids.tolist()),
        )
        return
    w.executemany(
        "UPDATE item SET dunning_step_id = ?, dunning_date = ?, updated_at = ?"
        f"{marked} WHERE id = ?",
        zip(
            step_ids.tolist(),
            [day.isoformat()] * len(item_ids),
            [stamp] * len(item_ids),
            item_ids.tolist(),
            strict=True,
        ),
    )


__all__ = [
    "DunningRunResult",
    "DunningService",
    "PlanDaySummary",
    "SendCapExceededError",
]
