"""The nightly review of open cases, set-based.

`CasesService.review_due_cases` runs `CaseReview` in its session: a few
queries, decisions in memory, then bulk writes with their audit rows (a first
review of the demo book of a million items closes thousands of cases).
Decisions are those of the case-by-case rules of `o2c_desktop.engine.cases`;
actions carry the same subjects, in the entity's language, as those the
interactive case work in `o2c_desktop.services.cases` writes.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, insert, or_, select, update

from o2c_desktop.engine.cases import (
    ZERO,
    CaseEvent,
    DisputedPart,
    DisputeOutcome,
    DisputeReason,
    PlanOutcome,
    PromiseOutcome,
    ReviewReport,
    match_payments,
    missed_instalments,
    needs_escalation,
    plan_outcome,
    plan_paid,
    promise_deadline,
    promise_outcome,
    resolve_dispute,
)
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemStatus,
    Role,
)
from o2c_desktop.i18n import N_
from o2c_desktop.models import (
    Action,
    ActionItem,
    AuditEntry,
    Case,
    CaseItem,
    Customer,
    Entity,
    Item,
    Notification,
    PlanInstalment,
    Portfolio,
    User,
)
from o2c_desktop.models.audit import audit_row, record_key
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services._case_common import (
    EVENT_LABELS,
    OPEN_ACTIONS,
    SUSPENDING,
    Words,
    case_subject,
    chunks,
    dispute_flags,
    hold_subject,
    resolution_text,
)

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Bookkeeping columns the audit trail leaves out (as models.audit_trail does).
_UNAUDITED = frozenset({"version", "updated_at", "updated_by", "created_at"})
_CASE_COLUMNS = (
    Case.id,
    Case.number,
    Case.kind,
    Case.status,
    Case.customer_id,
    Case.version,
    Case.amount,
    Case.currency,
    Case.promised_date,
    Case.grace_days,
    Case.contact_id,
    Case.owner_id,
    Case.answer_due,
    Case.reason,
    Case.resolution,
)


@dataclass(frozen=True)
class _Covered:
    """An item covered by a case, as the review reads it."""

    item_id: int
    amount: Decimal  # what the case covers of it
    remaining: Decimal
    status: ItemStatus
    due_date: dt.date
    suspended_until: dt.date | None

    @property
    def settled(self) -> bool:
        return self.status == ItemStatus.CLOSED or self.remaining <= 0

    @property
    def left(self) -> Decimal:
        return ZERO if self.settled else self.remaining


def _paid_on(covered: Iterable[_Covered]) -> Decimal:
    """How much the items' remaining fell since the case recorded it."""
    return max(sum((c.amount - c.left for c in covered), ZERO), ZERO)


def _plain(value: object) -> object:
    """A value as the audit trail stores it (JSON)."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date):  # datetimes too
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, StrEnum):
        return value.value
    return value


class CaseReview:
    """One review of the open cases: read in a few queries, decide, write in bulk.

    Decisions are those of the case-by-case rules (`engine.cases`), taken in
    the same order (oldest case first), so a case closed earlier in the run
    no longer holds its items for a later one. Writes are Core statements
    with their audit rows, since the ORM unit of work (and its audit hook)
    would take minutes on the demo book's thousands of cases.

    Args:
        s: the session of the review; the caller commits it.
        login: who runs the review, recorded on what it writes.
        today: the day reviewed.
        reasons: the dispute reasons by code, for the subjects of actions.
        tolerance: a shortfall this small still keeps a promise.
    """

    def __init__(
        self,
        s: Session,
        login: str | None,
        today: dt.date,
        reasons: Mapping[str, DisputeReason],
        tolerance: Decimal,
    ) -> None:
        self.s = s
        self.login = login
        self.today = today
        self.reasons = reasons
        self.tolerance = tolerance
        self.now = utcnow()
        self.users = {
            u.id: u
            for u in s.execute(
                select(
                    User.id,
                    User.login,
                    User.full_name,
                    User.role,
                    User.active,
                    User.absent_from,
                    User.absent_until,
                    User.replacement_id,
                ).order_by(User.id)
            )
        }
        self.me = next(
            (u.id for u in self.users.values() if login and u.login == login), None
        )
        self.customers: dict[int, Any] = {}
        self.out: dict[str, list[str]] = {}
        self.audit: list[dict[str, Any]] = []
        self.actions: list[dict[str, Any]] = []
        self.action_items: list[dict[str, Any]] = []
        self.notifications: list[dict[str, Any]] = []
        # case row, new status, why its open tasks are cancelled, resolution
        self.closed: list[tuple[Any, CaseStatus, str, str | None]] = []
        self.instalments: list[tuple[uuid.UUID, Decimal, Decimal]] = []
        self.suspension: dict[int, tuple[dt.date | None, dt.date | None]] = {}
        self.flagged: dict[int, None] = {}
        self.lifted: list[Any] = []

    def run(self) -> ReviewReport:
        """Review, write, and say what was decided."""
        self._suspending()
        notes = self._open_disputes()
        self._resolved_disputes()
        self._customer_holds()
        self._write()
        item_holds = self._item_holds()
        self._write_audit()
        out = self.out
        return ReviewReport(
            today=self.today,
            promises_kept=tuple(out.get("promises_kept", ())),
            promises_broken=tuple(out.get("promises_broken", ())),
            plans_kept=tuple(out.get("plans_kept", ())),
            plans_broken=tuple(out.get("plans_broken", ())),
            disputes_paid=tuple(out.get("disputes_paid", ())),
            disputes_escalated=tuple(out.get("disputes_escalated", ())),
            disputes_closed=tuple(out.get("disputes_closed", ())),
            customer_holds_lifted=tuple(c.reference for c in self.lifted),
            item_holds_lifted=item_holds,
            actions_created=len(self.actions),
            notifications_sent=notes,
        )

    # -- reading ------------------------------------------------------------------

    def _cases(
        self, kinds: Sequence[CaseKind], status: CaseStatus
    ) -> tuple[list[Any], dict[uuid.UUID, list[_Covered]]]:
        """Cases of these kinds in this status, oldest first, and their items."""
        where = (Case.kind.in_(kinds), Case.status == status)
        cases = list(
            self.s.execute(
                select(*_CASE_COLUMNS)
                .where(*where)
                .order_by(Case.opened_on, Case.number)
            )
        )
        covered: dict[uuid.UUID, list[_Covered]] = {c.id: [] for c in cases}
        if cases:
            for row in self.s.execute(
                select(
                    CaseItem.case_id,
                    CaseItem.item_id,
                    CaseItem.amount,
                    Item.remaining,
                    Item.status,
                    Item.due_date,
                    Item.suspended_until,
                )
                .join(Item, Item.id == CaseItem.item_id)
                .join(Case, Case.id == CaseItem.case_id)
                .where(*where)
                .order_by(Item.due_date, Item.number)
            ):
                covered[row.case_id].append(
                    _Covered(
                        row.item_id,
                        row.amount,
                        row.remaining,
                        row.status,
                        row.due_date,
                        row.suspended_until,
                    )
                )
        self._load_customers({c.customer_id for c in cases})
        return cases, covered

    def _load_customers(self, ids: Iterable[int]) -> None:
        """Language and collectors of customers the review writes actions for."""
        wanted = sorted(set(ids) - self.customers.keys())
        for chunk in chunks(wanted):
            for row in self.s.execute(
                select(
                    Customer.id,
                    Customer.collector_id,
                    Portfolio.collector_id.label("portfolio_collector_id"),
                    Entity.language,
                )
                .join(Entity, Entity.id == Customer.entity_id)
                .outerjoin(Portfolio, Portfolio.id == Customer.portfolio_id)
                .where(Customer.id.in_(chunk))
            ):
                self.customers[row.id] = row

    def _words(self, customer_id: int) -> Words:
        return Words(self.customers[customer_id].language or "en")

    def _collector(self, customer_id: int) -> int | None:
        """The customer's collector, or their replacement while they are away."""
        customer = self.customers[customer_id]
        uid = customer.collector_id
        if uid is None:
            uid = customer.portfolio_collector_id
        if uid is None:
            return None
        user = self.users.get(uid)
        if user is not None and user.replacement_id and user.absent_from is not None:
            away = user.absent_from <= self.today and (
                user.absent_until is None or self.today <= user.absent_until
            )
            if away:
                return int(user.replacement_id)
        return int(uid)

    # -- deciding -----------------------------------------------------------------

    def _suspending(self) -> None:
        """Close the promises and plans whose outcome is known."""
        cases, covered = self._cases(SUSPENDING, CaseStatus.OPEN)
        schedules: dict[uuid.UUID, list[Any]] = {}
        for row in self.s.execute(
            select(
                PlanInstalment.id,
                PlanInstalment.case_id,
                PlanInstalment.plan_version,
                PlanInstalment.seq,
                PlanInstalment.due_date,
                PlanInstalment.amount,
                PlanInstalment.paid,
            )
            .join(Case, Case.id == PlanInstalment.case_id)
            .where(Case.kind == CaseKind.PAYMENT_PLAN, Case.status == CaseStatus.OPEN)
            .order_by(PlanInstalment.case_id, PlanInstalment.seq)
        ):
            schedules.setdefault(row.case_id, []).append(row)
        for case_id, rows in schedules.items():
            version = max(r.plan_version for r in rows)
            schedules[case_id] = [r for r in rows if r.plan_version == version]

        ends: dict[uuid.UUID, dt.date | None] = {}
        for case in cases:
            grace = case.grace_days or 0
            if case.kind == CaseKind.PROMISE:
                ends[case.id] = (
                    promise_deadline(case.promised_date, grace)
                    if case.promised_date is not None
                    else None
                )
            else:
                dues = [r.due_date for r in schedules.get(case.id, ())]
                ends[case.id] = max(dues) + dt.timedelta(days=grace) if dues else None
        holders: dict[int, list[uuid.UUID]] = {}
        suspended: dict[int, dt.date | None] = {}
        for case in cases:
            for cov in covered[case.id]:
                holders.setdefault(cov.item_id, []).append(case.id)
                suspended[cov.item_id] = cov.suspended_until
        before = dict(suspended)
        still_open = {c.id for c in cases}

        for case in cases:
            decided = self._decide(case, covered[case.id], schedules.get(case.id, []))
            if decided is None:
                continue
            self.out.setdefault(decided, []).append(case.number)
            # Undo this case's suspension, keeping one another open case or
            # a later change set (as `cases._release_suspension` does).
            still_open.discard(case.id)
            end = ends[case.id]
            for cov in covered[case.id]:
                if end is None or suspended[cov.item_id] != end:
                    continue
                others = [
                    e
                    for other in holders[cov.item_id]
                    if other in still_open and (e := ends[other]) is not None
                ]
                suspended[cov.item_id] = max(others, default=None)
        for item_id, until in suspended.items():
            if until != before[item_id]:
                self.suspension[item_id] = (before[item_id], until)

    def _decide(
        self, case: Any, covered: Sequence[_Covered], schedule: Sequence[Any]
    ) -> str | None:
        """Close a promise or plan whose outcome is known; say which list it joins."""
        principal_paid = _paid_on(covered)
        grace = case.grace_days or 0
        words = self._words(case.customer_id)
        kind = "promises" if case.kind == CaseKind.PROMISE else "plans"
        comment: str | None = None
        if case.kind == CaseKind.PROMISE:
            assert case.promised_date is not None  # set by open_promise
            promised = case.amount or ZERO
            outcome = promise_outcome(
                promised,
                principal_paid,
                case.promised_date,
                grace,
                self.today,
                self.tolerance,
            )
            if outcome == PromiseOutcome.PENDING:
                return None
            kept = outcome == PromiseOutcome.KEPT
            left = max(promised - principal_paid, ZERO)
            if outcome == PromiseOutcome.PARTLY_PAID:
                comment = words(N_("Paid {paid} of {promised}")).format(
                    paid=words.money(principal_paid), promised=words.money(promised)
                )
        else:
            amounts = [r.amount for r in schedule]
            total = sum(amounts, ZERO)
            paid = plan_paid(principal_paid, case.amount or ZERO, total)
            parts = match_payments(amounts, paid)
            for row, part in zip(schedule, parts, strict=True):
                if row.paid != part:
                    self.instalments.append((row.id, row.paid, part))
            dates = [r.due_date for r in schedule]
            result = plan_outcome(dates, amounts, parts, self.today, grace)
            if result == PlanOutcome.RUNNING:
                return None
            kept = result == PlanOutcome.KEPT
            left = max(total - paid, ZERO)
            missed = missed_instalments(dates, amounts, parts, self.today, grace)
            text = words(N_("Instalment {seq} of {due}: {paid} paid of {amount}"))
            comment = "\n".join(
                text.format(
                    seq=schedule[n].seq,
                    due=words.day(schedule[n].due_date),
                    paid=words.money(parts[n]),
                    amount=words.money(schedule[n].amount),
                )
                for n in missed
            )
        if kept:
            self._close(case, CaseStatus.KEPT, "case kept")
            self._action(case, CaseEvent.KEPT, items=[(c, c.amount) for c in covered])
            return f"{kind}_kept"
        self._close(case, CaseStatus.BROKEN, "case broken")
        self._action(
            case,
            CaseEvent.BROKEN,
            comment=comment,
            items=[(c, c.remaining) for c in covered if not c.settled],
            status=ActionStatus.PENDING,
            assigned_to=self._collector(case.customer_id),
            amount=left,
        )
        return f"{kind}_broken"

    def _open_disputes(self) -> int:
        """Resolve paid disputes, escalate unanswered ones; notifications sent."""
        cases, covered = self._cases((CaseKind.DISPUTE,), CaseStatus.OPEN)
        answered: dict[uuid.UUID | None, list[dt.date]] = {}
        escalated: dict[uuid.UUID | None, list[dt.date]] = {}
        for case_id, event, day in self.s.execute(
            select(Action.case_id, Action.case_event, Action.planned_date)
            .join(Case, Case.id == Action.case_id)
            .where(
                Case.kind == CaseKind.DISPUTE,
                Case.status == CaseStatus.OPEN,
                Action.case_event.in_(
                    (CaseEvent.ANSWER.value, CaseEvent.ESCALATED.value)
                ),
            )
        ):
            seen = answered if event == CaseEvent.ANSWER.value else escalated
            seen.setdefault(case_id, []).append(day)
        managers = [
            u.id
            for u in self.users.values()
            if u.role == Role.CREDIT_MANAGER and u.active
        ]
        notes = 0
        for case in cases:
            items = covered[case.id]
            if items and all(c.settled for c in items):
                self._resolve_paid(case, items)
                continue
            if not needs_escalation(
                case.answer_due,
                self.today,
                answered_on=max(answered.get(case.id, ()), default=None),
                escalated_on=max(escalated.get(case.id, ()), default=None),
            ):
                continue
            self.out.setdefault("disputes_escalated", []).append(case.number)
            told = managers
            if not told:
                collector = self._collector(case.customer_id)
                told = [collector] if collector else []
            owner = self.users.get(case.owner_id) if case.owner_id else None
            words = self._words(case.customer_id)
            comment = words(N_("No answer from {owner} since {due}")).format(
                owner=owner.full_name if owner else "?",
                due=words.day(case.answer_due),
            )
            action_id = self._action(
                case,
                CaseEvent.ESCALATED,
                comment=comment,
                items=[(c, c.amount) for c in items],
                status=ActionStatus.PENDING,
                assigned_to=told[0] if told else None,
                amount=case.amount,
            )
            message = f"{self.actions[-1]['subject']}: {comment}"
            for user_id in told:
                self.notifications.append(
                    {
                        "id": uuid.uuid4(),
                        "created_at": self.now,
                        "updated_at": self.now,
                        "user_id": user_id,
                        "sender_id": self.me,
                        "customer_id": case.customer_id,
                        "action_id": action_id,
                        "message": message,
                        "read_at": None,
                    }
                )
            notes += len(told)
        return notes

    def _resolve_paid(self, case: Any, covered: Sequence[_Covered]) -> None:
        """The customer paid the disputed items: nothing is left to dispute."""
        parts = resolve_dispute(
            [DisputedPart(c.item_id, c.amount) for c in covered],
            DisputeOutcome.PAID,
        )
        self._action(
            case,
            CaseEvent.RESOLVED,
            comment=resolution_text(
                self._words(case.customer_id), DisputeOutcome.PAID, parts
            ),
            items=[
                (c, part.credit_expected)
                for c, part in zip(covered, parts, strict=True)
            ],
        )
        self._close(
            case,
            CaseStatus.RESOLVED,
            "dispute resolved",
            resolution=DisputeOutcome.PAID.value,
        )
        self.flagged.update(dict.fromkeys(c.item_id for c in covered))
        self.out.setdefault("disputes_paid", []).append(case.number)

    def _resolved_disputes(self) -> None:
        """Close justified disputes whose credit notes settled the items."""
        cases, covered = self._cases((CaseKind.DISPUTE,), CaseStatus.RESOLVED)
        credit: dict[uuid.UUID | None, dict[int, Decimal]] = {}
        for case_id, item_id, amount in self.s.execute(
            select(Action.case_id, ActionItem.item_id, ActionItem.amount)
            .join(Action, Action.id == ActionItem.action_id)
            .join(Case, Case.id == Action.case_id)
            .where(
                Case.kind == CaseKind.DISPUTE,
                Case.status == CaseStatus.RESOLVED,
                Action.case_event == CaseEvent.RESOLVED.value,
            )
        ):
            credit.setdefault(case_id, {})[item_id] = amount
        for case in cases:
            expected = credit.get(case.id, {})
            held = [c for c in covered[case.id] if expected.get(c.item_id)]
            if not held or not all(c.settled for c in held):
                continue
            self._close(case, CaseStatus.CLOSED, "credit note received")
            self._action(case, CaseEvent.CLOSED)
            self.flagged.update(dict.fromkeys(c.item_id for c in covered[case.id]))
            self.out.setdefault("disputes_closed", []).append(case.number)

    def _customer_holds(self) -> None:
        """Lift the customer holds past their end date."""
        self.lifted = list(
            self.s.execute(
                select(
                    Customer.id,
                    Customer.reference,
                    Customer.version,
                    Customer.hold_reason,
                    Customer.hold_until,
                )
                .where(Customer.on_hold.is_(True), Customer.hold_until < self.today)
                .order_by(Customer.id)
            )
        )
        self._load_customers(c.id for c in self.lifted)
        for customer in self.lifted:
            words = self._words(customer.id)
            self.actions.append(
                self._action_row(
                    customer.id,
                    None,
                    hold_subject(words, CaseEvent.HOLD_LIFTED, None),
                    CaseEvent.HOLD_LIFTED,
                    ActionStatus.DONE,
                    comment=customer.hold_reason,
                )
            )

    def _close(
        self, case: Any, status: CaseStatus, why: str, resolution: str | None = None
    ) -> None:
        self.closed.append((case, status, why, resolution or case.resolution))

    def _action(
        self,
        case: Any,
        event: CaseEvent,
        *,
        comment: str | None = None,
        items: Sequence[tuple[_Covered, Decimal]] = (),
        status: ActionStatus = ActionStatus.DONE,
        assigned_to: int | None = None,
        amount: Decimal | None = None,
    ) -> uuid.UUID:
        """Queue an action of the case's timeline, as `CasesService._event` does."""
        subject = case_subject(
            case.kind,
            case.number,
            case.reason,
            self.reasons,
            self._words(case.customer_id),
            EVENT_LABELS.get((case.kind, event), event.value),
        )
        row = self._action_row(
            case.customer_id,
            case,
            subject,
            event,
            status,
            comment=comment,
            assigned_to=assigned_to,
            amount=amount,
        )
        self.actions.append(row)
        for cov, part in items:
            self.action_items.append(
                {
                    "action_id": row["id"],
                    "item_id": cov.item_id,
                    "step_id": None,
                    "amount": part,
                    "days_late": (self.today - cov.due_date).days,
                }
            )
        return uuid.UUID(str(row["id"]))

    def _action_row(
        self,
        customer_id: int,
        case: Any | None,
        subject: str,
        event: CaseEvent,
        status: ActionStatus,
        *,
        comment: str | None = None,
        assigned_to: int | None = None,
        amount: Decimal | None = None,
    ) -> dict[str, Any]:
        done = status == ActionStatus.DONE
        # A microsecond apart: the agenda and the timeline sort on created_at.
        stamp = self.now + dt.timedelta(microseconds=len(self.actions))
        return {
            "id": uuid.uuid4(),
            "version": 1,
            "created_at": stamp,
            "updated_at": stamp,
            "updated_by": self.login,
            "customer_id": customer_id,
            "case_id": case.id if case is not None else None,
            "step_id": None,
            "action_type": ActionType.INTERNAL_TASK,
            "subject": subject,
            "planned_date": self.today,
            "status": status,
            "automatic": False,
            "amount": amount,
            "currency": case.currency if case is not None else None,
            "assigned_to_id": assigned_to if assigned_to is not None else self.me,
            "created_by_id": self.me,
            "performed_by_id": self.me if done else None,
            "performed_at": self.now if done else None,
            "contact_id": case.contact_id if case is not None else None,
            "outcome": None,
            "case_event": event.value,
            "comment": comment,
            "reason": None,
            "send_log": None,
        }

    # -- writing ------------------------------------------------------------------

    def _log(self, table: str, key: str, operation: str, changes: Any) -> None:
        self.audit.append(
            audit_row(self.now, self.login, table, key, operation, changes)
        )

    def _inserted(self, table: str, rows: Sequence[dict[str, Any]]) -> None:
        for row in rows:
            key = (
                record_key(row["action_id"], row["item_id"])
                if table == "action_item"
                else record_key(row["id"])
            )
            self._log(
                table,
                key,
                "insert",
                {k: _plain(v) for k, v in row.items() if k not in _UNAUDITED},
            )

    def _write(self) -> None:
        """Write the decisions in bulk, in the order the rules need."""
        conn = self.s.connection()
        now, login = self.now, self.login
        if self.closed:
            result = conn.execute(
                update(Case)
                .where(Case.id == bindparam("b_id"), Case.version == bindparam("b_v"))
                .values(
                    status=bindparam("b_status"),
                    closed_on=self.today,
                    resolution=bindparam("b_resolution"),
                    version=Case.version + 1,
                    updated_at=now,
                    updated_by=login,
                ),
                [
                    {
                        "b_id": case.id,
                        "b_v": case.version,
                        "b_status": status,
                        "b_resolution": resolution,
                    }
                    for case, status, _why, resolution in self.closed
                ],
            )
            if conn.dialect.supports_sane_multi_rowcount and result.rowcount != len(
                self.closed
            ):
                raise ConflictError(
                    "A case was changed by a colleague during the review. "
                    "Nothing was saved: run the review again."
                )
            for case, status, _why, resolution in self.closed:
                changes: dict[str, Any] = {
                    "status": [case.status.value, status.value],
                    "closed_on": [None, self.today.isoformat()],
                }
                if resolution != case.resolution:
                    changes["resolution"] = [case.resolution, resolution]
                self._log("case_file", record_key(case.id), "update", changes)
            self._cancel_tasks()
        if self.instalments:
            conn.execute(
                update(PlanInstalment)
                .where(PlanInstalment.id == bindparam("b_id"))
                .values(paid=bindparam("b_paid")),
                [{"b_id": i, "b_paid": new} for i, _old, new in self.instalments],
            )
            for key, old, new in self.instalments:
                self._log(
                    "plan_instalment",
                    record_key(key),
                    "update",
                    {"paid": [_plain(old), _plain(new)]},
                )
        for table, rows in (
            (Action, self.actions),
            (ActionItem, self.action_items),
            (Notification, self.notifications),
        ):
            if rows:
                conn.execute(insert(table), rows)
                self._inserted(table.__tablename__, rows)
        self._write_items()
        if self.lifted:
            conn.execute(
                update(Customer)
                .where(Customer.id == bindparam("b_id"))
                .values(
                    on_hold=False,
                    hold_reason=None,
                    hold_until=None,
                    version=Customer.version + 1,
                    updated_at=now,
                    updated_by=login,
                ),
                [{"b_id": c.id} for c in self.lifted],
            )
            for c in self.lifted:
                self._log(
                    "customer",
                    record_key(c.id),
                    "update",
                    {
                        "on_hold": [True, False],
                        "hold_reason": [c.hold_reason, None],
                        "hold_until": [_plain(c.hold_until), None],
                    },
                )

    def _cancel_tasks(self) -> None:
        """Cancel the tasks still open on the closed cases (before adding new ones)."""
        why = {case.id: reason for case, _status, reason, _r in self.closed}
        found: list[Any] = []
        for chunk in chunks(list(why)):
            found.extend(
                self.s.execute(
                    select(
                        Action.id, Action.case_id, Action.status, Action.reason
                    ).where(Action.case_id.in_(chunk), Action.status.in_(OPEN_ACTIONS))
                )
            )
        if not found:
            return
        self.s.connection().execute(
            update(Action)
            .where(Action.id == bindparam("b_id"))
            .values(
                status=ActionStatus.CANCELLED,
                reason=bindparam("b_reason"),
                version=Action.version + 1,
                updated_at=self.now,
                updated_by=self.login,
            ),
            [{"b_id": a.id, "b_reason": why[a.case_id]} for a in found],
        )
        for a in found:
            self._log(
                "action",
                record_key(a.id),
                "update",
                {
                    "status": [a.status.value, ActionStatus.CANCELLED.value],
                    "reason": [a.reason, why[a.case_id]],
                },
            )

    def _write_items(self) -> None:
        """Suspensions released, dispute and litigation flags recomputed."""
        conn = self.s.connection()
        if self.suspension:
            conn.execute(
                update(Item)
                .where(Item.id == bindparam("b_id"))
                .values(suspended_until=bindparam("b_until"), updated_at=self.now),
                [
                    {"b_id": i, "b_until": new}
                    for i, (_old, new) in self.suspension.items()
                ],
            )
            for item_id, (old, new) in self.suspension.items():
                self._log(
                    "item",
                    record_key(item_id),
                    "update",
                    {"suspended_until": [_plain(old), _plain(new)]},
                )
        if not self.flagged:
            return
        # Read after the case updates and the resolution actions are written.
        changed = {
            item_id: (old, new)
            for item_id, (old, new) in dispute_flags(self.s, list(self.flagged)).items()
            if old != new
        }
        if not changed:
            return
        conn.execute(
            update(Item)
            .where(Item.id == bindparam("b_id"))
            .values(
                disputed=bindparam("b_disputed"),
                disputed_amount=bindparam("b_amount"),
                in_litigation=bindparam("b_litigation"),
                updated_at=self.now,
            ),
            [
                {"b_id": i, "b_disputed": d, "b_amount": a, "b_litigation": lit}
                for i, (_old, (d, a, lit)) in changed.items()
            ],
        )
        names = ("disputed", "disputed_amount", "in_litigation")
        for item_id, (was, now) in changed.items():
            self._log(
                "item",
                record_key(item_id),
                "update",
                {
                    name: [_plain(o), _plain(n)]
                    for name, o, n in zip(names, was, now, strict=True)
                    if o != n
                },
            )

    def _item_holds(self) -> int:
        """Lift item holds, and forget suspensions, past their end date."""
        today = self.today
        rows = list(
            self.s.execute(
                select(
                    Item.id, Item.hold_until, Item.hold_reason, Item.suspended_until
                ).where(or_(Item.hold_until < today, Item.suspended_until < today))
            )
        )
        if not rows:
            return 0
        conn = self.s.connection()
        conn.execute(
            update(Item)
            .where(Item.hold_until < today)
            .values(hold_until=None, hold_reason=None, updated_at=self.now)
        )
        conn.execute(
            update(Item)
            .where(Item.suspended_until < today)
            .values(suspended_until=None, updated_at=self.now)
        )
        for row in rows:
            changes: dict[str, Any] = {}
            if row.hold_until is not None and row.hold_until < today:
                changes["hold_until"] = [_plain(row.hold_until), None]
                changes["hold_reason"] = [row.hold_reason, None]
            if row.suspended_until is not None and row.suspended_until < today:
                changes["suspended_until"] = [_plain(row.suspended_until), None]
            self._log("item", record_key(row.id), "update", changes)
        return len(rows)

    def _write_audit(self) -> None:
        if self.audit:
            self.s.connection().execute(insert(AuditEntry), self.audit)
