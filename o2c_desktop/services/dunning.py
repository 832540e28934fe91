"""Dunning runs: load the book as columns, let the engine decide, write it once.

A run reads the open items, customers, scenarios and history in a few
set-based queries, asks `engine.dunning.decide`, and writes the actions, their
items and the items' dunning columns in one transaction with bulk inserts.

Exactly once, even with several desktops on one PostgreSQL database: writers
take a transaction-scoped advisory lock, and the unique index on
``action_item (item_id, step_id)`` is the last word. A run that loses a race
(unique violation, deadlock, busy SQLite file) rolls back and starts again
from what the winner committed, which then decides nothing new.

Automatic actions are performed after the commit, by an `ActionPerformer`
(documents and email, issue 5). Without one they wait as "to confirm" with
the reason, so nothing is reported as sent that was not, nothing escalates
over an unsent reminder, and a click sends them once mail is configured.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Integer,
    Numeric,
    and_,
    bindparam,
    case,
    cast,
    column,
    func,
    insert,
    literal,
    select,
    table,
    type_coerce,
    update,
)
from sqlalchemy import Date as SADate
from sqlalchemy import Uuid as SAUuid
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
    StepMode,
)
from o2c_desktop.models import (
    Action,
    ActionItem,
    AuditEntry,
    Case,
    CaseItem,
    Customer,
    Entity,
    Item,
    Scenario,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.context import Changes

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from decimal import Decimal

    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

PAID = "paid"
NOT_SENT = "not sent: documents and email are not configured; confirm to send"
SENDING = "sending"
_LOCK_KEY = 0x0D2C0004  # pg_advisory_xact_lock key of dunning runs (issue 4)
_NULL_DAY = -(10**9)  # a day number before any real date, for SQL NULLs
_FOREVER = 10**7  # a day number far in the future (year 29349)
_CHUNK = 5000
_OPEN_ACTION = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM)


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
class AutomaticAction:
    """An automatic action to perform (documents generated, email sent)."""

    action_id: uuid.UUID
    customer_id: int
    step_id: int
    action_type: ActionType
    template_code: str | None
    attach_statement: bool
    attach_interest: bool
    contact_role: str | None
    currency: str
    amount: Decimal
    item_ids: tuple[int, ...]


@dataclass(frozen=True)
class PerformOutcome:
    """What performing one automatic action gave: done, or why not."""

    action_id: uuid.UUID
    done: bool
    log: str


class ActionPerformer(Protocol):
    """Performs automatic actions: renders documents and sends them (issue 5)."""

    def perform(self, actions: Sequence[AutomaticAction]) -> Iterable[PerformOutcome]:
        """Perform `actions`; an action missing from the outcomes failed."""
        ...


@dataclass(frozen=True)
class DunningRunResult:
    """What a run created (or a dry run would create).

    Attributes:
        day: the run date.
        dry_run: nothing was written.
        actions: actions created.
        items: items they cover.
        customers: customers with an action.
        by_type / by_channel / by_mode: actions counted by action type,
            channel ("none" for calls and tasks) and mode.
        amounts: amount claimed per currency.
        automatic_sends: automatic emails/letters/SMS (what the cap counts).
        send_cap: the cap in force.
        over_cap: a real run would stop without confirmation.
        cancelled_paid: open actions cancelled because their items were paid.
        sent / failed / to_confirm / pending: outcome of a real run: performed,
            failed (now manual), waiting for a confirmation click, in an agenda.
        left_out: why open items produced nothing, by reason.
        attempts: 1, or more when a concurrent run won a race.
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
    sent: int = 0
    failed: int = 0
    to_confirm: int = 0
    pending: int = 0
    left_out: dict[str, int] = field(default_factory=dict)
    attempts: int = 1
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
            "amounts": {k: str(v) for k, v in self.amounts.items()},
            "automatic_sends": self.automatic_sends,
            "send_cap": self.send_cap,
            "over_cap": self.over_cap,
            "cancelled_paid": self.cancelled_paid,
            "sent": self.sent,
            "failed": self.failed,
            "to_confirm": self.to_confirm,
            "pending": self.pending,
            "left_out": self.left_out,
            "attempts": self.attempts,
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
class _Loaded:
    book: engine.Book
    scenarios: list[engine.DunningScenario]
    last_run: dt.date | None


class DunningService:
    """Runs the dunning engine against the database."""

    def __init__(
        self,
        ctx: AppContext,
        performer: ActionPerformer | None = None,
        *,
        serialize: bool = True,
        max_attempts: int = 5,
    ) -> None:
        self._ctx = ctx
        self._performer = performer
        # Tests switch the lock off to prove the unique index alone is enough.
        self._serialize = serialize
        self._max_attempts = max_attempts

    def run(
        self, day: dt.date, *, dry_run: bool = False, confirm: bool = False
    ) -> DunningRunResult:
        """Run (or dry-run) the engine for `day`.

        Args:
            day: the run date; a real run may not be dated before the last one.
            dry_run: count what would be created; write nothing.
            confirm: allow a run over the send cap.

        Returns:
            The counts of what was (or would be) created.

        Raises:
            engine.RunDateError: a real run dated before the last run.
            SendCapExceededError: over the cap without `confirm`; nothing written.
        """
        if dry_run:
            with self._ctx.db.session(self._ctx.user_login) as s:
                result, _ = self._run_once(s, day, dry_run=True, confirm=confirm)
                s.rollback()
            return result
        attempt = 1
        while True:
            try:
                with self._ctx.db.session(self._ctx.user_login) as s:
                    result, automatic = self._run_once(
                        s, day, dry_run=False, confirm=confirm
                    )
                break
            except Exception as exc:
                if not _is_race(exc) or attempt >= self._max_attempts:
                    raise
                log.info("Dunning run for %s lost a race (%s); retrying", day, exc)
                attempt += 1
        result = _replace(result, attempts=attempt)
        if automatic and self._performer is not None:
            result = self._perform(result, automatic)
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
        for p in engine.plan(loaded.book, loaded.scenarios, start, days):
            acts = p.decisions.actions
            out.append(
                PlanDaySummary(
                    day=p.day,
                    actions=len(acts),
                    items=len(p.decisions.items),
                    by_type=_count(acts["action_type"]),
                    by_mode=_count(acts["mode"]),
                    amounts=_amounts(acts),
                )
            )
        return out

    def _run_once(
        self, s: Session, day: dt.date, *, dry_run: bool, confirm: bool
    ) -> tuple[DunningRunResult, list[AutomaticAction]]:
        postgres = s.get_bind().dialect.name == "postgresql"
        if not dry_run and postgres and self._serialize:
            s.execute(select(func.pg_advisory_xact_lock(_LOCK_KEY)))
        loaded = _load(s, day)
        if not dry_run:
            engine.check_run_date(day, loaded.last_run)
        decisions = engine.decide(loaded.book, loaded.scenarios, day)
        acts = decisions.actions
        steps = {st.id: st for sc in loaded.scenarios for st in sc.steps}
        automatic_mask = acts["mode"] == StepMode.AUTOMATIC.value
        sends = int(
            (
                automatic_mask
                & acts["action_type"].map(lambda t: engine.is_send(ActionType(t)))
            ).sum()
        )
        cap = self._ctx.settings.send_cap
        over_cap = sends > cap and not confirm
        paid = _paid_actions(s)
        result = DunningRunResult(
            day=day,
            dry_run=dry_run,
            actions=len(acts),
            items=len(decisions.items),
            customers=int(acts["customer_id"].nunique()),
            by_type=_count(acts["action_type"]),
            by_channel=_count(
                acts["action_type"].map(
                    lambda t: str(engine.channel_of(ActionType(t)) or "none")
                )
            ),
            by_mode=_count(acts["mode"]),
            amounts=_amounts(acts),
            automatic_sends=sends,
            send_cap=cap,
            over_cap=over_cap,
            cancelled_paid=len(paid),
            left_out=dict(decisions.left_out),
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
            now=now,
            user=user,
            performer=self._performer is not None,
        )
        statuses = Counter(_status_of(StepMode(m)) for m in acts["mode"])
        written = bool(len(acts)) or bool(paid)
        return (
            _replace(
                result,
                to_confirm=statuses[ActionStatus.TO_CONFIRM] - len(automatic),
                pending=statuses[ActionStatus.PENDING],
                changes=Changes(actions=written, items=bool(len(acts))),
            ),
            automatic,
        )

    def _perform(
        self, result: DunningRunResult, automatic: list[AutomaticAction]
    ) -> DunningRunResult:
        """Perform automatic actions after the commit, one batch per transaction."""
        assert self._performer is not None
        sent = failed = 0
        for start in range(0, len(automatic), 200):
            batch = automatic[start : start + 200]
            try:
                outcomes = {o.action_id: o for o in self._performer.perform(batch)}
            except Exception as exc:  # noqa: BLE001 - a failed send becomes manual
                log.warning(
                    "Performing %d automatic actions failed: %s", len(batch), exc
                )
                outcomes = {}
                error = f"automatic send failed: {exc}"
            else:
                error = "automatic send failed: no outcome"
            done = [o for o in outcomes.values() if o.done]
            bad = [
                (
                    a.action_id,
                    outcomes[a.action_id].log if a.action_id in outcomes else error,
                )
                for a in batch
                if a.action_id not in outcomes or not outcomes[a.action_id].done
            ]
            with self._ctx.db.session(self._ctx.user_login) as s:
                _finish(s, done, bad, self._ctx.user_login or None)
            sent += len(done)
            failed += len(bad)
        return _replace(
            result, sent=sent, failed=failed, pending=result.pending + failed
        )


def _replace(result: DunningRunResult, **changes: Any) -> DunningRunResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _count(values: pd.Series[Any]) -> dict[str, int]:
    return {str(k): int(v) for k, v in sorted(Counter(values.tolist()).items())}


def _amounts(actions: pd.DataFrame) -> dict[str, Decimal]:
    if actions.empty:
        return {}
    sums = actions.groupby("currency")["amount_cents"].sum()
    return {str(k): engine.from_cents(int(v)) for k, v in sums.items()}


def _status_of(mode: StepMode) -> ActionStatus:
    if mode is StepMode.MANUAL:
        return ActionStatus.PENDING
    return ActionStatus.TO_CONFIRM  # confirm-mode, or automatic until performed


def _is_race(exc: Exception) -> bool:
    """A unique violation, deadlock or busy file caused by a concurrent run."""
    # COPY raises psycopg's own errors, not wrapped by SQLAlchemy.
    orig = exc.orig if isinstance(exc, DBAPIError) else exc
    if getattr(orig, "sqlstate", None) in {"23505", "40P01", "40001"}:
        return True
    text = str(orig)
    return (
        "UNIQUE constraint failed: action_item" in text or "database is locked" in text
    )


# -- loading -----------------------------------------------------------------


def _days(col: Any, dialect: str) -> ColumnElement[int]:
    """A date column as days since 1970-01-01, NULL as `_NULL_DAY`."""
    if dialect == "sqlite":
        expr: ColumnElement[Any] = cast(func.julianday(col) - 2440587.5, Integer)
    else:
        expr = type_coerce(col - literal(dt.date(1970, 1, 1), SADate), Integer)
    return func.coalesce(expr, _NULL_DAY)


def _cents(col: Any, dialect: str) -> ColumnElement[int]:
    """A Money column as integer cents, without making a Decimal per row."""
    if dialect == "sqlite":
        return type_coerce(col, BigInteger)  # SQLite already stores cents
    return cast(type_coerce(col, Numeric(18, 2)) * 100, BigInteger)


def _dates(days: Any) -> npt.NDArray[np.datetime64]:
    import numpy as np

    arr = np.asarray(days, dtype=np.int64)
    arr = np.where(arr == _NULL_DAY, engine.NO_DAY, arr)
    out: npt.NDArray[np.datetime64] = arr.astype("datetime64[D]")
    return out


def _scenarios(s: Session) -> list[engine.DunningScenario]:
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

    dialect = s.get_bind().dialect.name
    scenarios = _scenarios(s)
    item_rows = s.execute(
        select(
            Item.id,
            Item.customer_id,
            Item.currency,
            _days(Item.due_date, dialect),
            _cents(Item.remaining, dialect),
            Item.disputed,
            Item.in_litigation,
            _days(Item.suspended_until, dialect),
            func.coalesce(Item.dunning_step_id, 0),
        ).where(Item.status == ItemStatus.OPEN, Item.remaining != 0)
    ).all()
    cols = list(zip(*item_rows, strict=True)) if item_rows else [()] * 9
    items = pd.DataFrame(
        {
            "item_id": np.asarray(cols[0], dtype=np.int64),
            "customer_id": np.asarray(cols[1], dtype=np.int64),
            "currency": np.asarray(cols[2], dtype=object),
            "due_date": _dates(cols[3]),
            "remaining_cents": np.asarray(cols[4], dtype=np.int64),
            "disputed": np.asarray(cols[5], dtype=bool),
            "in_litigation": np.asarray(cols[6], dtype=bool),
            "suspended_until": _dates(cols[7]),
            "last_step_id": np.asarray(cols[8], dtype=np.int64),
        }
    )
    _apply_cases(s, items, dialect)

    cust_rows = s.execute(
        select(
            Customer.id,
            func.coalesce(Customer.scenario_id, 0),
            Customer.on_hold,
            _days(Customer.hold_until, dialect),
            func.coalesce(Customer.collector_id, 0),
            Entity.country,
            Customer.entity_id,
            func.coalesce(Customer.portfolio_id, 0),
            Customer.category,
            Customer.risk_class,
        ).join(Entity, Entity.id == Customer.entity_id)
    ).all()
    cc = list(zip(*cust_rows, strict=True)) if cust_rows else [()] * 10
    customers = pd.DataFrame(
        {
            "customer_id": np.asarray(cc[0], dtype=np.int64),
            "scenario_id": np.asarray(cc[1], dtype=np.int64),
            "on_hold": np.asarray(cc[2], dtype=bool),
            "hold_until": _dates(cc[3]),
            "collector_id": np.asarray(cc[4], dtype=np.int64),
            "country": np.asarray(cc[5], dtype=object),
            "entity_id": np.asarray(cc[6], dtype=np.int64),
            "portfolio_id": np.asarray(cc[7], dtype=np.int64),
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
    held = s.scalars(
        select(ActionItem.item_id)
        .join(Action, Action.id == ActionItem.action_id)
        .where(Action.status.in_(_OPEN_ACTION), Action.step_id.is_not(None))
        .distinct()
    ).all()
    reminder_rows = s.execute(
        select(Action.customer_id, _days(func.max(Action.planned_date), dialect))
        .where(Action.step_id.is_not(None), Action.status != ActionStatus.CANCELLED)
        .group_by(Action.customer_id)
    ).all()
    reminders = pd.DataFrame(
        {
            "customer_id": np.asarray([r[0] for r in reminder_rows], dtype=np.int64),
            "last_date": _dates([r[1] for r in reminder_rows]),
        }
    )
    last_run = s.scalar(
        select(func.max(Action.planned_date)).where(Action.step_id.is_not(None))
    )
    return _Loaded(
        book=engine.Book(
            items=items,
            customers=customers,
            users=users,
            held_item_ids=np.asarray(held, dtype=np.int64),
            last_reminders=reminders,
        ),
        scenarios=scenarios,
        last_run=last_run,
    )


def _apply_cases(s: Session, items: pd.DataFrame, dialect: str) -> None:
    """Open cases act on their items: promises suspend, disputes and plans hold."""
    import pandas as pd

    rows = s.execute(
        select(
            CaseItem.item_id,
            Case.kind,
            _days(Case.promised_date, dialect) + func.coalesce(Case.grace_days, 0),
        )
        .join(Case, Case.id == CaseItem.case_id)
        .where(Case.status == CaseStatus.OPEN)
    ).all()
    if not rows or items.empty:
        return
    index = pd.Index(items["item_id"])
    for kind, column_name in (
        (CaseKind.DISPUTE, "disputed"),
        (CaseKind.LITIGATION, "in_litigation"),
    ):
        where = index.get_indexer([r[0] for r in rows if r[1] == kind])
        values = items[column_name].to_numpy(copy=True)
        values[where[where >= 0]] = True
        items[column_name] = values
    # A payment plan replaces its items by instalments: the items wait while it runs.
    suspended = engine.day_numbers(items["suspended_until"])
    for item_id, kind, until in rows:
        at = index.get_indexer([item_id])[0]
        if at < 0:
            continue
        if kind == CaseKind.PROMISE and until > _NULL_DAY // 2:
            suspended[at] = max(suspended[at], until)
        elif kind == CaseKind.PAYMENT_PLAN:
            suspended[at] = _FOREVER
    items["suspended_until"] = suspended.astype("datetime64[D]")


# -- writing -----------------------------------------------------------------


def _paid_actions(s: Session) -> list[uuid.UUID]:
    """Open dunning actions none of whose items is still owed."""
    # An aggregate over the open actions' items, not NOT EXISTS: the latter got a
    # 13 s nested-loop plan on PostgreSQL right after a bulk load (stale stats).
    owed = case((and_(Item.status == ItemStatus.OPEN, Item.remaining > 0), 1), else_=0)
    return list(
        s.scalars(
            select(ActionItem.action_id)
            .join(Action, Action.id == ActionItem.action_id)
            .join(Item, Item.id == ActionItem.item_id)
            .where(Action.status.in_(_OPEN_ACTION), Action.step_id.is_not(None))
            .group_by(ActionItem.action_id)
            .having(func.max(owed) == 0)
        )
    )


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _cancel_paid(
    s: Session, ids: list[uuid.UUID], now: dt.datetime, user: str | None
) -> None:
    # An automatic email waiting to be confirmed is cancelled too: never sent.
    for chunk in _chunks(ids):
        s.execute(
            update(Action)
            .where(Action.id.in_(chunk), Action.status.in_(_OPEN_ACTION))
            .values(
                status=ActionStatus.CANCELLED,
                reason=PAID,
                version=Action.version + 1,
                updated_at=now,
                updated_by=user,
            )
            .execution_options(synchronize_session=False)
        )
    _audit(
        s,
        [
            (i, "update", {"status": [None, "cancelled"], "reason": [None, PAID]})
            for i in ids
        ],
        now,
        user,
    )


def _audit(
    s: Session,
    entries: list[tuple[uuid.UUID, str, dict[str, Any]]],
    now: dt.datetime,
    user: str | None,
) -> None:
    """Audit rows for records written in bulk (the ORM hook does not see them)."""
    for chunk in _chunks(entries):
        s.execute(
            insert(AuditEntry),
            [
                {
                    "at": now,
                    "user_login": user,
                    "table_name": "action",
                    "record_id": key.hex,
                    "operation": operation,
                    "changes": changes,
                }
                for key, operation, changes in chunk
            ],
        )


def _write(
    s: Session,
    decisions: engine.Decisions,
    steps: dict[int, engine.DunningStep],
    *,
    now: dt.datetime,
    user: str | None,
    performer: bool,
) -> list[AutomaticAction]:
    """Insert actions, action items and the items' dunning columns in bulk."""
    import numpy as np

    acts, items = decisions.actions, decisions.items
    if acts.empty:
        return []
    day = decisions.today
    user_id = s.scalar(select(User.id).where(User.login == user)) if user else None
    ids = [uuid.uuid4() for _ in range(len(acts))]
    action_rows = []
    automatic: list[AutomaticAction] = []
    item_ids_of = _item_ids_by_action(items)
    audit: list[tuple[uuid.UUID, str, dict[str, Any]]] = []
    for action_id, row in zip(ids, acts.to_dict("records"), strict=True):
        mode = StepMode(row["mode"])
        step = steps[int(row["step_id"])]
        status = _status_of(mode)
        reason = row["reason"] or None
        if mode is StepMode.AUTOMATIC:
            reason = SENDING if performer else NOT_SENT
        amount = engine.from_cents(int(row["amount_cents"]))
        action_rows.append(
            {
                "id": action_id,
                "customer_id": int(row["customer_id"]),
                "step_id": int(row["step_id"]),
                "action_type": ActionType(row["action_type"]),
                "subject": step.name,
                "planned_date": day,
                "status": status,
                "automatic": mode is not StepMode.MANUAL,
                "amount": amount,
                "currency": row["currency"],
                "assigned_to_id": int(row["assignee_id"]) or None,
                "created_by_id": user_id,
                "reason": reason,
                "version": 1,
                "created_at": now,
                "updated_at": now,
                "updated_by": user,
            }
        )
        audit.append(
            (
                action_id,
                "insert",
                {
                    "customer_id": int(row["customer_id"]),
                    "step_id": int(row["step_id"]),
                    "status": status.value,
                    "amount": str(amount),
                    "items": int(row["item_count"]),
                },
            )
        )
        if mode is StepMode.AUTOMATIC and performer:
            automatic.append(
                AutomaticAction(
                    action_id=action_id,
                    customer_id=int(row["customer_id"]),
                    step_id=int(row["step_id"]),
                    action_type=ActionType(row["action_type"]),
                    template_code=step.template_code,
                    attach_statement=step.attach_statement,
                    attach_interest=step.attach_interest,
                    contact_role=step.contact_role,
                    currency=str(row["currency"]),
                    amount=amount,
                    item_ids=item_ids_of.get(int(row["action_no"]), ()),
                )
            )
    for chunk in _chunks(action_rows):
        s.execute(insert(Action), list(chunk))

    # Sorted by item so concurrent runs lock rows in the same order (no deadlock).
    order = np.argsort(items["item_id"].to_numpy(np.int64), kind="stable")
    sorted_items = items.iloc[order]
    id_array = np.array(ids, dtype=object)
    _insert_action_items(
        s,
        id_array[sorted_items["action_no"].to_numpy(np.int64)],
        sorted_items["item_id"].to_numpy(np.int64),
        sorted_items["step_id"].to_numpy(np.int64),
        sorted_items["remaining_cents"].to_numpy(np.int64),
        sorted_items["days_late"].to_numpy(np.int64),
    )
    item_steps = sorted_items["step_id"].to_numpy(np.int64)
    item_ids = sorted_items["item_id"].to_numpy(np.int64)
    for step_id in np.unique(item_steps).tolist():
        _update_items(s, step_id, item_ids[item_steps == step_id], day, now)
    _audit(s, audit, now, user)
    return automatic


def _item_ids_by_action(items: pd.DataFrame) -> dict[int, tuple[int, ...]]:
    out: dict[int, list[int]] = {}
    for no, item_id in zip(
        items["action_no"].tolist(), items["item_id"].tolist(), strict=True
    ):
        out.setdefault(no, []).append(item_id)
    return {no: tuple(ids) for no, ids in out.items()}


_ACTION_ITEM_SQLITE = table(
    "action_item",
    column("action_id", SAUuid()),
    column("item_id", BigInteger()),
    column("step_id", Integer()),
    column("amount", BigInteger()),  # cents on SQLite, see models.base.Money
    column("days_late", Integer()),
)


def _insert_action_items(
    s: Session,
    action_ids: npt.NDArray[Any],
    item_ids: npt.NDArray[np.int64],
    step_ids: npt.NDArray[np.int64],
    cents: npt.NDArray[np.int64],
    days_late: npt.NDArray[np.int64],
) -> None:
    if s.get_bind().dialect.name == "postgresql":
        # COPY: about ten times faster than INSERTs for a first run on a big book.
        raw = s.connection().connection.driver_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(
                "COPY action_item (action_id, item_id, step_id, amount, days_late) "
                "FROM STDIN"
            ) as copy,
        ):
            for row in zip(
                action_ids.tolist(),
                item_ids.tolist(),
                step_ids.tolist(),
                (str(engine.from_cents(c)) for c in cents.tolist()),
                days_late.tolist(),
                strict=True,
            ):
                copy.write_row(row)
        return
    rows = [
        {"action_id": a, "item_id": i, "step_id": st, "amount": c, "days_late": d}
        for a, i, st, c, d in zip(
            action_ids.tolist(),
            item_ids.tolist(),
            step_ids.tolist(),
            cents.tolist(),
            days_late.tolist(),
            strict=True,
        )
    ]
    for chunk in _chunks(rows, 50_000):
        s.execute(insert(_ACTION_ITEM_SQLITE), list(chunk))


def _update_items(
    s: Session,
    step_id: int,
    item_ids: npt.NDArray[np.int64],
    day: dt.date,
    now: dt.datetime,
) -> None:
    values = {"dunning_step_id": step_id, "dunning_date": day, "updated_at": now}
    if s.get_bind().dialect.name == "postgresql":
        # A join on unnest(): "id = ANY(array)" scanned the array for every row.
        ids = (
            func.unnest(bindparam("ids", type_=ARRAY(BigInteger)))
            .table_valued("id")
            .render_derived(name="u")
        )
        s.execute(
            update(Item)
            .where(Item.id == ids.c.id)
            .values(**values)
            .execution_options(synchronize_session=False),
            {"ids": item_ids.tolist()},
        )
        return
    for chunk in _chunks(item_ids.tolist(), 30_000):
        s.execute(
            update(Item)
            .where(Item.id.in_(chunk))
            .values(**values)
            .execution_options(synchronize_session=False)
        )


def _finish(
    s: Session,
    done: list[PerformOutcome],
    failed: list[tuple[uuid.UUID, str]],
    user: str | None,
) -> None:
    """Record the outcome of performed actions: done, or manual with the reason."""
    now = utcnow()
    for outcome in done:
        s.execute(
            update(Action)
            .where(and_(Action.id == outcome.action_id, Action.reason == SENDING))
            .values(
                status=ActionStatus.DONE,
                reason=None,
                send_log=outcome.log,
                performed_at=now,
                version=Action.version + 1,
                updated_at=now,
                updated_by=user,
            )
            .execution_options(synchronize_session=False)
        )
    for action_id, why in failed:
        s.execute(
            update(Action)
            .where(and_(Action.id == action_id, Action.reason == SENDING))
            .values(
                status=ActionStatus.PENDING,
                automatic=False,
                reason=why[:300],
                version=Action.version + 1,
                updated_at=now,
                updated_by=user,
            )
            .execution_options(synchronize_session=False)
        )
    _audit(
        s,
        [(o.action_id, "update", {"status": [None, "done"]}) for o in done]
        + [
            (a, "update", {"status": [None, "pending"], "reason": [None, w]})
            for a, w in failed
        ],
        now,
        user,
    )


__all__ = [
    "ActionPerformer",
    "AutomaticAction",
    "DunningRunResult",
    "DunningService",
    "PerformOutcome",
    "PlanDaySummary",
    "SendCapExceededError",
]
