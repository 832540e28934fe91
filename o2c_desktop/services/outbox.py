"""The outbox: everything that leaves the machine, sent exactly once (issue 13).

An email, a printed letter, an SMS, an ERP write-back or a risk request is an
`outbox_entry`, written in the transaction of the business change that calls
for it (a dunning run's automatic actions, a confirmation click), with an
idempotency key that makes it exist once. A performer per channel sends it.

One entry at a time goes through claim -> perform -> record:

1. *claim*: one statement moves the oldest due entry from queued (or
   to_retry, once due) to sending and commits. On PostgreSQL the candidate
   row is picked ``FOR UPDATE SKIP LOCKED``; on SQLite the single writer
   serialises the statement. Either way the ``WHERE status`` condition makes
   the claim the only one, so several desktops and a nightly job may drain
   the outbox at once and no entry is performed twice.
2. *perform*: outside any transaction (an SMTP conversation may take a while).
3. *record*: the outcome is committed right after the performer returns:
   done, failed for good, or to_retry after a backoff when nothing left and
   another attempt may work.

A crash (even ``kill -9``) therefore leaves entries queued (never claimed:
the next drain sends them) and at most the one in flight sending: that one
may or may not have reached the customer, so it is never sent again blindly.
After `SENDING_STALE` it is handed to a human.

Entries on the customer channels (email, letter, SMS) that name an action
*are* that action's performance: the action moves with them (queued ->
sending -> done, or back to the collector's agenda with the reason), in the
same transactions. Other entries (ERP write-back, risk request) only refer to
their action.
"""

from __future__ import annotations

import datetime as dt
import functools
import logging
import os
import socket
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Protocol, cast

from sqlalchemy import and_, bindparam, func, insert, or_, select, update

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    OutboxChannel,
    OutboxStatus,
)
from o2c_desktop.models import (
    Action,
    ActionInstalment,
    ActionItem,
    AuditEntry,
    OutboxEntry,
    Step,
)
from o2c_desktop.models.audit import audit_row
from o2c_desktop.models.base import utcnow

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Iterator, Mapping, Sequence

    from sqlalchemy import Table
    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

# A claimed entry still unrecorded after this long was cut off by a crash.
SENDING_STALE = dt.timedelta(minutes=30)
INTERRUPTED = (
    "sending was interrupted on {at}: check whether it reached the customer, "
    "then mark it done or send it again"
)
ACTION_CHANNELS = frozenset(
    {OutboxChannel.EMAIL, OutboxChannel.LETTER_PRINT, OutboxChannel.SMS}
)
_DUE = (OutboxStatus.QUEUED, OutboxStatus.TO_RETRY)
_CHUNK = 5000
_REASON_MAX = 300  # action.reason


def channel_for(action_type: ActionType) -> OutboxChannel:
    """The channel an automatic action of this type leaves by.

    Calls and tasks in automatic mode go to the letter performer (the
    documents service), which refuses what has no document, as before.
    """
    if action_type is ActionType.EMAIL:
        return OutboxChannel.EMAIL
    if action_type is ActionType.SMS:
        return OutboxChannel.SMS
    return OutboxChannel.LETTER_PRINT


def action_key(action_id: uuid.UUID) -> str:
    """The idempotency key of an action's performance: one send per action."""
    return f"action:{action_id.hex}"


@dataclass(frozen=True)
class AutomaticAction:
    """An automatic action to perform: the payload of its outbox entry."""

    action_id: uuid.UUID
    customer_id: int
    step_id: int
    action_type: ActionType
    template_code: str | None = None
    attach_statement: bool = False
    attach_interest: bool = False
    contact_role: str | None = None
    currency: str = ""
    amount: Decimal = Decimal(0)
    item_ids: tuple[int, ...] = ()
    instalment_ids: tuple[uuid.UUID, ...] = ()  # payment-plan instalments reminded

    def payload(self) -> dict[str, Any]:
        """The entry's JSON payload."""
        return {
            "action_id": self.action_id.hex,
            "customer_id": self.customer_id,
            "step_id": self.step_id,
            "action_type": self.action_type.value,
            "template_code": self.template_code,
            "attach_statement": self.attach_statement,
            "attach_interest": self.attach_interest,
            "contact_role": self.contact_role,
            "currency": self.currency,
            "amount": str(self.amount),
            "item_ids": list(self.item_ids),
            "instalment_ids": [i.hex for i in self.instalment_ids],
        }

    @classmethod
    def of(cls, entry: Entry) -> AutomaticAction:
        """The action an entry performs (entries from before the outbox hold less).

        Raises:
            ValueError: the entry performs no action.
        """
        data = entry.payload
        if entry.action_id is None or "action_type" not in data:
            raise ValueError(f"outbox entry {entry.key} performs no action")
        return cls(
            action_id=entry.action_id,
            customer_id=int(data.get("customer_id", 0)),
            step_id=int(data.get("step_id", 0)),
            action_type=ActionType(data["action_type"]),
            template_code=data.get("template_code"),
            attach_statement=bool(data.get("attach_statement", False)),
            attach_interest=bool(data.get("attach_interest", False)),
            contact_role=data.get("contact_role"),
            currency=str(data.get("currency", "")),
            amount=Decimal(str(data.get("amount", "0"))),
            item_ids=tuple(int(i) for i in data.get("item_ids", ())),
            instalment_ids=tuple(
                uuid.UUID(hex=i) for i in data.get("instalment_ids", ())
            ),
        )


@dataclass(frozen=True)
class Entry:
    """A claimed outbox entry, as its performer sees it.

    Attributes:
        id: the entry.
        key: its idempotency key (an ERP performer looks it up before writing).
        channel: how it leaves.
        payload: what to send.
        action_id: the action it performs or refers to.
        attempts: this attempt's number (1 the first time).
    """

    id: uuid.UUID
    key: str
    channel: OutboxChannel
    payload: dict[str, Any]
    action_id: uuid.UUID | None
    attempts: int


@dataclass(frozen=True)
class Outcome:
    """What performing one entry gave.

    Attributes:
        done: it left (the server took the email, the PDFs are stored).
        log: the send log when done, the reason when not.
        retry: not done, nothing left, and another attempt may work (the
            mail server could not be reached); otherwise a failure is final.
        keep: what to write with the outcome, in its transaction (the .eml
            of a sent email).
    """

    done: bool
    log: str
    retry: bool = False
    keep: Callable[[Session], None] | None = field(default=None, compare=False)


class Performer(Protocol):
    """Sends the entries of one channel (documents and email, SMS, ERP...)."""

    def perform(self, entry: Entry) -> Outcome:
        """Send `entry` once; never raise for a failure that has a reason."""
        ...


@dataclass(frozen=True)
class RetryPolicy:
    """How often, and how long after, an entry that failed for now is tried again.

    Attributes:
        attempts: attempts in all; the last failure is final.
        delays: the wait after the 1st, 2nd... failure (the last one repeats).
    """

    attempts: int = 3
    delays: tuple[dt.timedelta, ...] = (
        dt.timedelta(minutes=5),
        dt.timedelta(minutes=30),
    )

    def next_attempt(self, attempts: int, now: dt.datetime) -> dt.datetime | None:
        """When to try again after `attempts` failed ones; None: give up."""
        if attempts >= self.attempts or not self.delays:
            return None
        return now + self.delays[min(attempts, len(self.delays)) - 1]


# A human is waiting for a confirmation click: a failure goes to the agenda now.
NO_RETRY = RetryPolicy(attempts=1)


@dataclass(frozen=True)
class SendReport:
    """What draining the outbox did.

    Attributes:
        sent: entries performed (their actions are done).
        failed: entries that failed for good, with the reason, by action id
            (the entry's id when it has no action); their actions are manual.
        skipped: entries asked for that another sender took, or whose action
            was cancelled or done by hand meanwhile.
        interrupted: sends cut off by a crash, handed to an agenda to check.
        to_retry: entries that failed for now and will be tried again, with
            those of their channel left queued behind them.
    """

    sent: int = 0
    failed: tuple[tuple[uuid.UUID, str], ...] = ()
    skipped: int = 0
    interrupted: int = 0
    to_retry: int = 0


class Outbox:
    """Claims, performs and records outbox entries, one at a time.

    Args:
        ctx: the database and the current user.
        performers: the performer of each channel served; entries of other
            channels wait for a sender that serves them.
        retry: the backoff for entries that failed for now.
        clock: the current time (tests move it).
    """

    def __init__(
        self,
        ctx: AppContext,
        performers: Mapping[OutboxChannel, Performer] | None = None,
        *,
        retry: RetryPolicy | None = None,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._ctx = ctx
        self._performers: dict[OutboxChannel, Performer] = dict(performers or {})
        self._retry = retry or RetryPolicy()
        self._clock = clock
        self._user = ctx.user_login or None
        self._me = f"{ctx.user_login or '?'}@{socket.gethostname()}:{os.getpid()}"[:120]

    def register(self, channel: OutboxChannel, performer: Performer) -> None:
        """Serve `channel` with `performer` (replacing any earlier one)."""
        self._performers[channel] = performer

    def drain(
        self,
        *,
        keys: Collection[str] | None = None,
        created_before: dt.datetime | None = None,
    ) -> SendReport:
        """Send every due entry of the channels served, one at a time.

        A channel whose performer failed for now (the server is down) is left
        for the rest of this drain: its entries stay queued, never claimed.

        Args:
            keys: only the entries with these idempotency keys.
            created_before: only the entries written before then.

        Returns:
            What was sent, failed, skipped or left to retry.
        """
        wanted = list(dict.fromkeys(keys)) if keys is not None else None
        sent = seen = to_retry = 0
        failed: list[tuple[uuid.UUID, str]] = []
        paused: set[OutboxChannel] = set()
        claims: dict[tuple[OutboxChannel, ...], Any] = {}
        while True:
            channels = tuple(c for c in self._performers if c not in paused)
            if not channels or wanted == []:
                break
            if channels not in claims:
                claims[channels] = self._claim_statement(
                    channels, wanted, created_before
                )
            claim = self._claim_next(claims[channels])
            if claim is None:
                break
            seen += 1
            entry, performable = claim
            if not performable:
                continue
            outcome = self._perform(entry)
            status = self._record(entry, outcome)
            if status is OutboxStatus.DONE:
                sent += 1
            elif status is OutboxStatus.TO_RETRY:
                to_retry += 1
                paused.add(entry.channel)
            elif status is OutboxStatus.FAILED:
                failed.append((entry.action_id or entry.id, outcome.log))
        left = self._left_queued(paused, wanted, created_before) if paused else 0
        done = sent + len(failed) + to_retry
        skipped = (len(wanted) - done - left) if wanted is not None else seen - done
        return SendReport(
            sent=sent, failed=tuple(failed), skipped=skipped, to_retry=to_retry + left
        )

    def hand_over_stale(self, now: dt.datetime | None = None) -> int:
        """Entries claimed more than `SENDING_STALE` ago with no outcome: to a human.

        They may or may not have left. An action's goes to its collector's
        agenda with the reason instead of being sent twice.

        Args:
            now: the current time (tests move it).

        Returns:
            How many were handed over.
        """
        now = now or self._clock()
        before = now - SENDING_STALE
        with self._ctx.db.session(self._ctx.user_login) as s:
            stale = s.execute(
                select(
                    OutboxEntry.id,
                    OutboxEntry.channel,
                    OutboxEntry.action_id,
                    OutboxEntry.claimed_at,
                ).where(
                    OutboxEntry.status == OutboxStatus.SENDING,
                    OutboxEntry.claimed_at < before,
                )
            ).all()
            handed = 0
            for entry_id, channel, action_id, claimed_at in stale:
                at = (claimed_at or now).isoformat(timespec="minutes")
                why = INTERRUPTED.format(at=at)
                moved = s.execute(
                    update(OutboxEntry)
                    .where(
                        OutboxEntry.id == entry_id,
                        OutboxEntry.status == OutboxStatus.SENDING,
                        OutboxEntry.claimed_at < before,
                    )
                    .values(status=OutboxStatus.FAILED, last_error=why, updated_at=now)
                    .execution_options(synchronize_session=False)
                )
                if not moved.rowcount:  # type: ignore[attr-defined]  # CursorResult
                    continue
                handed += 1
                if action_id is not None and channel in ACTION_CHANNELS:
                    self._move_action(
                        s,
                        action_id,
                        ActionStatus.SENDING,
                        now,
                        {"status": ["sending", "pending"], "reason": "interrupted"},
                        status=ActionStatus.PENDING,
                        automatic=False,
                        reason=why[:_REASON_MAX],
                    )
        if handed:
            log.warning("%d sends were cut off by a crash; handed to agendas", handed)
        return handed

    # -- internals --------------------------------------------------------

    def _claim_statement(
        self,
        channels: Sequence[OutboxChannel],
        keys: Sequence[str] | None,
        created_before: dt.datetime | None,
    ) -> Any:
        """The claim of the oldest due entry: one UPDATE ... RETURNING (`now`, `me`)."""
        now = bindparam("now", type_=_E.c.claimed_at.type)
        due = or_(
            _E.c.status == OutboxStatus.QUEUED,
            and_(_E.c.status == OutboxStatus.TO_RETRY, _E.c.next_attempt_at <= now),
        )
        pick = (
            select(_E.c.id)
            .where(due, _E.c.channel.in_(channels))
            .order_by(_E.c.created_at, _E.c.id)
            .limit(1)
        )
        if keys is not None:
            pick = pick.where(_E.c.idempotency_key.in_(keys))
        if created_before is not None:
            pick = pick.where(_E.c.created_at < created_before)
        if self._ctx.db.engine.dialect.name == "postgresql":
            # Another sender's claim in flight is skipped, not waited for.
            pick = pick.with_for_update(skip_locked=True)
        return (
            update(_E)
            .where(_E.c.id == pick.scalar_subquery(), due)
            .values(
                status=OutboxStatus.SENDING,
                attempts=_E.c.attempts + 1,
                claimed_at=now,
                claimed_by=bindparam("me"),
                updated_at=now,
            )
            .returning(
                _E.c.id,
                _E.c.idempotency_key,
                _E.c.channel,
                _E.c.payload,
                _E.c.action_id,
                _E.c.attempts,
            )
        )

    def _claim_next(self, claim: Any) -> tuple[Entry, bool] | None:
        """Claim the oldest due entry (committed); whether it is still to perform."""
        now = self._clock()
        with self._ctx.db.session(self._ctx.user_login) as s:
            row = s.execute(claim, {"now": now, "me": self._me}).one_or_none()
            if row is None:
                return None
            entry = Entry(
                id=row.id,
                key=row.idempotency_key,
                channel=row.channel,
                payload=dict(row.payload or {}),
                action_id=row.action_id,
                attempts=row.attempts,
            )
            if entry.action_id is None or entry.channel not in ACTION_CHANNELS:
                return entry, True
            if self._move_action(
                s,
                entry.action_id,
                ActionStatus.QUEUED,
                now,
                {"status": ["queued", "sending"]},
                status=ActionStatus.SENDING,
            ):
                return entry, True
            # Cancelled because paid, or done by hand, since it was queued.
            now_is = s.scalar(select(Action.status).where(Action.id == entry.action_id))
            s.execute(
                update(OutboxEntry)
                .where(OutboxEntry.id == entry.id)
                .values(
                    status=OutboxStatus.CANCELLED,
                    last_error=f"not sent: the action is {now_is or 'gone'}",
                    updated_at=now,
                )
                .execution_options(synchronize_session=False)
            )
            return entry, False

    def _left_queued(
        self,
        channels: Collection[OutboxChannel],
        keys: Sequence[str] | None,
        created_before: dt.datetime | None,
    ) -> int:
        """Queued entries of paused channels, not tried in this drain."""
        query = select(func.count()).where(
            OutboxEntry.status == OutboxStatus.QUEUED,
            OutboxEntry.channel.in_(channels),
        )
        if keys is not None:
            query = query.where(OutboxEntry.idempotency_key.in_(keys))
        if created_before is not None:
            query = query.where(OutboxEntry.created_at < created_before)
        with self._ctx.db.session(self._ctx.user_login) as s:
            return s.scalar(query) or 0

    def _perform(self, entry: Entry) -> Outcome:
        performer = self._performers[entry.channel]
        try:
            return performer.perform(entry)
        except Exception as exc:  # noqa: BLE001 - a failed send becomes manual
            log.warning("Performing outbox entry %s failed: %s", entry.key, exc)
            return Outcome(False, f"automatic send failed: {exc}")

    def _record(self, entry: Entry, outcome: Outcome) -> OutboxStatus | None:
        """Commit the outcome at once; None when a hand-over took the entry first."""
        try:
            return self._write_outcome(entry, outcome, keep=True)
        except Exception:
            if outcome.keep is None:
                raise
            # What it sent must be recorded even if its evidence can't be kept.
            log.exception("Keeping what %s sent failed; recorded without", entry.key)
            return self._write_outcome(entry, outcome, keep=False)

    def _write_outcome(
        self, entry: Entry, outcome: Outcome, *, keep: bool
    ) -> OutboxStatus | None:
        now = self._clock()
        if outcome.done:
            status, again = OutboxStatus.DONE, None
        else:
            again = (
                self._retry.next_attempt(entry.attempts, now) if outcome.retry else None
            )
            status = OutboxStatus.TO_RETRY if again else OutboxStatus.FAILED
        with self._ctx.db.session(self._ctx.user_login) as s:
            moved = s.execute(
                _RECORD,
                {
                    "entry": entry.id,
                    "attempt": entry.attempts,
                    "v_status": status,
                    "v_next": again,
                    "v_error": None if outcome.done else outcome.log,
                    "now": now,
                },
            )
            if not moved.rowcount:  # type: ignore[attr-defined]  # CursorResult
                log.warning("%s was handed over before its outcome came", entry.key)
                return None
            if keep and outcome.done and outcome.keep is not None:
                outcome.keep(s)
            if entry.action_id is None or entry.channel not in ACTION_CHANNELS:
                return status
            why = outcome.log[:_REASON_MAX]
            if status is OutboxStatus.DONE:
                self._move_action(
                    s,
                    entry.action_id,
                    ActionStatus.SENDING,
                    now,
                    {"status": [None, "done"]},
                    status=ActionStatus.DONE,
                    reason=None,
                    send_log=outcome.log,
                    performed_at=now,
                )
            elif again is not None:
                later = again.astimezone().isoformat(timespec="minutes")
                self._move_action(
                    s,
                    entry.action_id,
                    ActionStatus.SENDING,
                    now,
                    {"status": ["sending", "queued"], "reason": [None, why]},
                    status=ActionStatus.QUEUED,
                    reason=f"not sent yet, tried again after {later}: {why}"[
                        :_REASON_MAX
                    ],
                )
            else:
                self._move_action(
                    s,
                    entry.action_id,
                    ActionStatus.SENDING,
                    now,
                    {"status": [None, "pending"], "reason": [None, why]},
                    status=ActionStatus.PENDING,
                    automatic=False,
                    reason=why,
                )
        return status

    def _move_action(
        self,
        s: Session,
        action_id: uuid.UUID,
        expected: ActionStatus,
        now: dt.datetime,
        audited: dict[str, Any],
        **values: Any,
    ) -> bool:
        """Change an action still in status `expected`; whether it was."""
        moved = s.execute(
            _action_update(tuple(sorted(values))),
            {
                **{f"v_{name}": value for name, value in values.items()},
                "action": action_id,
                "expected": expected,
                "now": now,
                "user": self._user,
            },
        )
        if not moved.rowcount:  # type: ignore[attr-defined]  # CursorResult
            return False
        # Core updates escape the ORM's audit hook: the row is written here.
        s.execute(
            _AUDIT,
            audit_row(now, self._user, "action", action_id.hex, "update", audited),
        )
        return True


_E = cast("Table", OutboxEntry.__table__)
_A = cast("Table", Action.__table__)
# Statements the drain runs for every entry, built once.
_RECORD = (
    update(_E)
    .where(
        _E.c.id == bindparam("entry"),
        _E.c.status == OutboxStatus.SENDING,
        _E.c.attempts == bindparam("attempt"),  # still this claim
    )
    .values(
        status=bindparam("v_status", type_=_E.c.status.type),
        next_attempt_at=bindparam("v_next", type_=_E.c.next_attempt_at.type),
        last_error=bindparam("v_error"),
        updated_at=bindparam("now"),
    )
)
_AUDIT = insert(cast("Table", AuditEntry.__table__))


@functools.cache
def _action_update(names: tuple[str, ...]) -> Any:
    """UPDATE action SET `names`... WHERE id = :action AND status = :expected."""
    return (
        update(_A)
        .where(_A.c.id == bindparam("action"), _A.c.status == bindparam("expected"))
        .values(
            {
                **{
                    name: bindparam(f"v_{name}", type_=_A.c[name].type)
                    for name in names
                },
                "version": _A.c.version + 1,
                "updated_at": bindparam("now"),
                "updated_by": bindparam("user"),
            }
        )
    )


def action_outbox(
    ctx: AppContext, performer: Performer, *, retry: RetryPolicy | None = None
) -> Outbox:
    """An outbox whose customer channels (email, letter, SMS) `performer` serves."""
    return Outbox(ctx, dict.fromkeys(ACTION_CHANNELS, performer), retry=retry)


def entry_values(send: AutomaticAction) -> tuple[str, OutboxChannel, dict[str, Any]]:
    """(idempotency key, channel, payload) of the entry performing `send`."""
    return action_key(send.action_id), channel_for(send.action_type), send.payload()


def enqueue_actions(
    s: Session, sends: Sequence[AutomaticAction], now: dt.datetime | None = None
) -> int:
    """Queue the entries performing `sends`, in the caller's transaction.

    An action that already has its entry keeps it (the key is unique).

    Returns:
        The entries added.
    """
    now = now or utcnow()
    known: set[str] = set()
    for chunk in _chunks([action_key(a.action_id) for a in sends]):
        known.update(
            s.scalars(
                select(OutboxEntry.idempotency_key).where(
                    OutboxEntry.idempotency_key.in_(chunk)
                )
            )
        )
    rows = []
    for send in sends:
        key, channel, payload = entry_values(send)
        if key in known:
            continue
        known.add(key)
        rows.append(
            {
                "id": uuid.uuid4(),
                "idempotency_key": key,
                "channel": channel,
                "payload": payload,
                "action_id": send.action_id,
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    if rows:
        s.execute(insert(OutboxEntry), rows)
    return len(rows)


def automatic_actions(
    s: Session, action_ids: Sequence[uuid.UUID]
) -> list[AutomaticAction]:
    """What performing stored actions needs, in a few queries."""
    out: list[AutomaticAction] = []
    for chunk in _chunks(list(action_ids)):
        actions = s.scalars(
            select(Action).where(Action.id.in_(chunk)).order_by(Action.customer_id)
        ).all()
        wanted = {a.step_id for a in actions if a.step_id is not None}
        steps = {st.id: st for st in s.scalars(select(Step).where(Step.id.in_(wanted)))}
        items: dict[uuid.UUID, list[int]] = {}
        for action_id, item_id in s.execute(
            select(ActionItem.action_id, ActionItem.item_id)
            .where(ActionItem.action_id.in_(chunk))
            .order_by(ActionItem.item_id)
        ):
            items.setdefault(action_id, []).append(item_id)
        reminded: dict[uuid.UUID, list[uuid.UUID]] = {}
        for action_id, instalment_id in s.execute(
            select(ActionInstalment.action_id, ActionInstalment.instalment_id).where(
                ActionInstalment.action_id.in_(chunk)
            )
        ):
            reminded.setdefault(action_id, []).append(instalment_id)
        for action in actions:
            step = steps.get(action.step_id or 0)
            out.append(
                AutomaticAction(
                    action_id=action.id,
                    customer_id=action.customer_id,
                    step_id=action.step_id or 0,
                    action_type=action.action_type,
                    template_code=step.template_code if step else None,
                    attach_statement=step.attach_statement if step else False,
                    attach_interest=bool(
                        step and step.attach_interest and action.id not in reminded
                    ),
                    contact_role=step.contact_role if step else None,
                    currency=action.currency or "",
                    amount=action.amount if action.amount is not None else Decimal(0),
                    item_ids=tuple(items.get(action.id, ())),
                    instalment_ids=tuple(reminded.get(action.id, ())),
                )
            )
    return out


def _chunks(values: Sequence[Any], size: int = _CHUNK) -> Iterator[Sequence[Any]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


__all__ = [
    "ACTION_CHANNELS",
    "INTERRUPTED",
    "NO_RETRY",
    "SENDING_STALE",
    "AutomaticAction",
    "Entry",
    "Outbox",
    "Outcome",
    "Performer",
    "RetryPolicy",
    "SendReport",
    "action_key",
    "action_outbox",
    "automatic_actions",
    "channel_for",
    "enqueue_actions",
    "entry_values",
]
