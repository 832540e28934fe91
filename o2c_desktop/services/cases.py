"""Case work: promises to pay, payment plans, disputes, litigation, holds, notes.

`CasesService` opens one session per call, applies the rules of
`o2c_desktop.engine.cases` and returns frozen values, never ORM objects.
How each case reaches the dunning engine (which only reads item and customer
flags) is described in docs/design.md, "Cases":

- a promise sets `item.suspended_until` to its date plus grace days;
- an open payment plan keeps its items suspended until its last instalment
  plus grace days; `review_due_cases` breaks it on a missed instalment;
- a dispute sets `item.disputed` (and `item.disputed_amount` when only part of
  the item is contested), litigation `item.in_litigation`;
- a hold sets `customer.on_hold` / `hold_until`, or an item's `hold_until` and
  `hold_reason` (apart from the suspension a promise sets).

Actions a case writes record what they did to it in `action.case_event`; their
subjects and comments are in the language of the customer's entity.

Edits of a case may quote the version the user saw: a colleague's change in
between fails with `ConflictError` ("changed by X at T") and nothing is lost.
The nightly `review_due_cases` runs the set-based review of
`o2c_desktop.services.case_review`.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import re
import uuid
import zipfile
from collections.abc import Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.exc import StaleDataError

from o2c_desktop.engine import interest
from o2c_desktop.engine.cases import (
    CASE_KIND_LABELS,
    DEFAULT_DISPUTE_REASONS,
    DEFAULT_GRACE_DAYS,
    DEFAULT_PLAN_GRACE_DAYS,
    FOLLOW_UP_ACTION_TYPES,
    FOLLOW_UP_LABELS,
    ZERO,
    CaseActionInfo,
    CaseEvent,
    CaseInfo,
    CaseItemInfo,
    DisputedPart,
    DisputeOutcome,
    DisputeReason,
    FollowUpKind,
    Instalment,
    InstalmentInfo,
    LitigationStage,
    NotificationInfo,
    PromiseRecord,
    Reliability,
    ReviewReport,
    append_instalments,
    explicit_instalments,
    kept_instalments,
    match_payments,
    plan_paid,
    promise_deadline,
    promise_reliability,
    reschedule,
    resolve_dispute,
    schedule_dates,
    split_instalments,
)
from o2c_desktop.engine.templates import TemplateError
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemKind,
    ItemStatus,
)
from o2c_desktop.i18n import N_, _
from o2c_desktop.models import (
    Action,
    ActionItem,
    Case,
    CaseItem,
    Contact,
    Customer,
    Document,
    Entity,
    Item,
    Notification,
    PlanInstalment,
    Scenario,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.repo import ConflictError, as_uuid, describe_change, get_one
from o2c_desktop.services._case_common import (
    EVENT_LABELS,
    OPEN_ACTIONS,
    SUSPENDING,
    Words,
    case_subject,
    dispute_flags,
    hold_subject,
    resolution_text,
)
from o2c_desktop.services.case_review import CaseReview
from o2c_desktop.services.context import Changes
from o2c_desktop.services.documents import DocumentError
from o2c_desktop.sync import spreadsheet

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence
    from decimal import Decimal

    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.documents import DocumentService

log = logging.getLogger(__name__)

DEFAULT_ANSWER_DAYS = 15


class CaseStateError(ValueError):
    """The case is not in a state that allows this (e.g. keeping a closed promise)."""


class FutureDateError(ValueError):
    """A real review or dunning run dated after today (issue 14 §6).

    Dated ahead, it would act today on what is not yet due (a run dated in
    January sent its reminders in December) and then refuse every earlier
    date. A dry run may look ahead.
    """


def local_today() -> dt.date:
    """Today in the user's time zone (a nightly job runs after local midnight)."""
    return dt.datetime.now(dt.UTC).astimezone().date()


def check_not_future(day: dt.date, what: str, today: dt.date | None = None) -> None:
    """Refuse a real `what` ("dunning run", "case review") dated after today.

    Raises:
        FutureDateError: `day` is after `today` (the local date by default).
    """
    today = today or local_today()
    if day > today:
        raise FutureDateError(
            f"a {what} dated {day.isoformat()} is in the future (today is "
            f"{today.isoformat()}): it would act now on what is not yet due; "
            "a dry run may look ahead"
        )


@dataclass(frozen=True)
class CaseChange:
    """A case after a write, and what views should refresh."""

    case: CaseInfo
    changes: Changes


@dataclass(frozen=True)
class ReviewResult:
    """What the nightly review decided and what views should refresh."""

    report: ReviewReport
    changes: Changes


@dataclass(frozen=True)
class Confirmation:
    """A confirmation sent (or waiting to be sent) from a promise or a plan.

    Attributes:
        action_id: the action of the case that carries it.
        documents: file names stored with the action (the PDF, the sent email).
        sent: the email went out, or the letter's PDF is ready to post.
        reason: why it is still pending (mail not configured, no address...).
    """

    action_id: str
    channel: str
    documents: tuple[str, ...]
    sent: bool
    reason: str | None
    changes: Changes


_CASE_CHANGES = Changes(cases=True, items=True, actions=True)
# Two desktops may take the same case number; the unique constraint refuses
# the second, which takes the next one.
_NUMBER_ATTEMPTS = 5


class CasesService:
    """Open, work and close cases; hold dunning; notify colleagues.

    Args:
        ctx: the database and the current user.
        dispute_reasons: the configurable list of dispute reasons.
        promise_tolerance: a shortfall this small still keeps a promise.
        documents: renders and sends confirmations (`send_confirmation`).
    """

    def __init__(
        self,
        ctx: AppContext,
        *,
        dispute_reasons: Sequence[DisputeReason] = DEFAULT_DISPUTE_REASONS,
        promise_tolerance: Decimal = ZERO,
        documents: DocumentService | None = None,
    ) -> None:
        self._db = ctx.db
        self._login = ctx.user_login or None
        self._reasons = {r.code: r for r in dispute_reasons}
        self._tolerance = promise_tolerance
        self._documents = documents

    # --- reading -------------------------------------------------------------

    @property
    def dispute_reasons(self) -> tuple[DisputeReason, ...]:
        """The reasons a dispute may be opened with."""
        return tuple(self._reasons.values())

    def case(self, case_id: str | uuid.UUID) -> CaseInfo:
        """One case.

        Raises:
            LookupError: no such case.
        """
        with self._db.session(self._login) as s:
            return _info(s, get_one(s, Case, _uuid(case_id)))

    def case_by_number(self, number: str, kind: CaseKind | None = None) -> CaseInfo:
        """The case users know as N°`number` (the most recent one if reused).

        Raises:
            LookupError: no such case.
        """
        with self._db.session(self._login) as s:
            query = select(Case).where(Case.number == number)
            if kind is not None:
                query = query.where(Case.kind == kind)
            found = s.scalars(query.order_by(Case.created_at.desc()).limit(1)).first()
            if found is None:
                what = CASE_KIND_LABELS[kind] if kind else "Case"
                raise LookupError(f"{what} N°{number} not found")
            return _info(s, found)

    def customer_cases(
        self, customer_id: int, *, open_only: bool = False
    ) -> tuple[CaseInfo, ...]:
        """A customer's cases, newest first."""
        with self._db.session(self._login) as s:
            query = select(Case).where(Case.customer_id == customer_id)
            if open_only:
                query = query.where(Case.status == CaseStatus.OPEN)
            cases = s.scalars(query.order_by(Case.opened_on.desc(), Case.number.desc()))
            return tuple(_info(s, c) for c in cases)

    def case_actions(self, case_id: str | uuid.UUID) -> tuple[CaseActionInfo, ...]:
        """The timeline of one case, oldest first."""
        with self._db.session(self._login) as s:
            rows = s.execute(
                select(Action, User.login)
                .outerjoin(User, User.id == Action.assigned_to_id)
                .where(Action.case_id == _uuid(case_id))
                .order_by(Action.planned_date, Action.created_at)
            ).all()
            return tuple(
                CaseActionInfo(
                    id=str(a.id),
                    planned_date=a.planned_date,
                    action_type=a.action_type,
                    status=a.status,
                    subject=a.subject,
                    event=a.case_event,
                    assigned_to=login,
                    comment=a.comment,
                )
                for a, login in rows
            )

    def schedule_history(self, case_id: str | uuid.UUID) -> tuple[InstalmentInfo, ...]:
        """Every version of a payment plan's schedule, oldest version first."""
        with self._db.session(self._login) as s:
            rows = s.scalars(
                select(PlanInstalment)
                .where(PlanInstalment.case_id == _uuid(case_id))
                .order_by(PlanInstalment.plan_version, PlanInstalment.seq)
            )
            return tuple(_instalment_info(i) for i in rows)

    def promise_reliability(self, customer_id: int, today: dt.date) -> Reliability:
        """Promises kept over promises made by the customer in the last 12 months."""
        with self._db.session(self._login) as s:
            rows = s.execute(
                select(Case.opened_on, Case.status).where(
                    Case.customer_id == customer_id, Case.kind == CaseKind.PROMISE
                )
            ).all()
        return promise_reliability(
            (PromiseRecord(opened, status) for opened, status in rows), today
        )

    def find_customer(self, reference: str, entity_code: str | None = None) -> int:
        """The id of the customer with ERP reference `reference`.

        Raises:
            LookupError: none, or several entities have that reference.
        """
        with self._db.session(self._login) as s:
            query = select(Customer.id).where(Customer.reference == reference)
            if entity_code:
                query = query.join(Entity, Entity.id == Customer.entity_id).where(
                    Entity.code == entity_code
                )
            ids = s.scalars(query.limit(2)).all()
        if not ids:
            raise LookupError(f"customer {reference} not found")
        if len(ids) > 1:
            raise LookupError(f"several customers {reference}: name the entity")
        return ids[0]

    def find_items(self, customer_id: int, numbers: Iterable[str]) -> tuple[int, ...]:
        """Ids of the customer's open items with these numbers (every instalment).

        Raises:
            LookupError: a number matches no open item of the customer.
        """
        wanted = [n.strip() for n in numbers if n.strip()]
        with self._db.session(self._login) as s:
            rows = s.execute(
                select(Item.id, Item.number)
                .where(
                    Item.customer_id == customer_id,
                    Item.number.in_(wanted),
                    Item.status == ItemStatus.OPEN,
                )
                .order_by(Item.due_date, Item.number, Item.instalment)
            ).all()
        missing = sorted(set(wanted) - {number for _id, number in rows})
        if missing:
            raise LookupError(f"no open item {', '.join(missing)} for this customer")
        return tuple(item_id for item_id, _number in rows)

    def notifications(
        self, login: str | None = None, *, unread_only: bool = False
    ) -> tuple[NotificationInfo, ...]:
        """A user's notifications (the current user's by default), newest first."""
        with self._db.session(self._login) as s:
            user = _user(s, login or self._login)
            sender = select(User.login).where(User.id == Notification.sender_id)
            query = (
                select(Notification, sender.scalar_subquery())
                .where(Notification.user_id == user.id)
                .order_by(Notification.created_at.desc())
            )
            if unread_only:
                query = query.where(Notification.read_at.is_(None))
            return tuple(
                NotificationInfo(
                    id=str(n.id),
                    user=user.login,
                    sender=sender_login,
                    message=n.message,
                    customer_id=n.customer_id,
                    action_id=str(n.action_id) if n.action_id else None,
                    created_at=n.created_at,
                    read=n.read_at is not None,
                )
                for n, sender_login in s.execute(query).all()
            )

    # --- promises to pay ---------------------------------------------------------

    def open_promise(
        self,
        customer_id: int,
        *,
        today: dt.date,
        promised_date: dt.date,
        amount: Decimal | None = None,
        item_ids: Sequence[int] | None = None,
        grace_days: int = DEFAULT_GRACE_DAYS,
        contact_id: str | uuid.UUID | None = None,
        source: str | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Record a promise to pay; its items wait until the date plus grace days.

        Args:
            customer_id: the customer who promised.
            today: the day it was made.
            promised_date: the day the customer will pay.
            amount: the amount promised; all the items' remaining by default.
            item_ids: the items covered; every overdue undisputed item by default.
            grace_days: days allowed after the date (bank delays).
            contact_id: who promised.
            source: how it was made (call, email, letter).
            comment: free text.

        Raises:
            ValueError: no item to cover, a date in the past or a bad amount.
        """
        if promised_date < today:
            raise ValueError("the promised date is in the past")
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            items = _case_items(s, customer, item_ids, today)
            total = sum((i.remaining for i in items), ZERO)
            promised = total if amount is None else amount
            if promised <= 0:
                raise ValueError("the amount promised must be above zero")
            case = self._new_case(s, customer, CaseKind.PROMISE, today, contact_id)
            case.amount = promised
            case.promised_date = promised_date
            case.grace_days = grace_days
            case.source = source
            case.comment = comment
            covered = [(i, i.remaining) for i in items]
            _cover(s, case, covered)
            _suspend(
                [i for i, _a in covered], promise_deadline(promised_date, grace_days)
            )
            self._event(
                s, case, today, CaseEvent.OPENED, comment=comment, items=covered
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def keep_promise(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Close a promise as kept (the collector saw the payment)."""
        return self._finish(
            case_id,
            (CaseKind.PROMISE,),
            CaseStatus.KEPT,
            CaseEvent.KEPT,
            today,
            version,
            comment,
        )

    def break_promise(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Close a promise as broken now; its items go back to dunning."""
        return self._finish(
            case_id,
            (CaseKind.PROMISE,),
            CaseStatus.BROKEN,
            CaseEvent.BROKEN,
            today,
            version,
            comment,
        )

    def cancel_case(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Cancel a promise or a payment plan: its items resume at their step."""
        return self._finish(
            case_id,
            SUSPENDING,
            CaseStatus.CANCELLED,
            CaseEvent.CANCELLED,
            today,
            version,
            comment,
        )

    # --- payment plans -----------------------------------------------------------

    def open_payment_plan(
        self,
        customer_id: int,
        *,
        today: dt.date,
        item_ids: Sequence[int] | None = None,
        count: int | None = None,
        first_due: dt.date | None = None,
        every_months: int = 1,
        schedule: Sequence[tuple[dt.date, Decimal]] | None = None,
        annual_rate: Decimal | None = None,
        grace_days: int | None = None,
        contact_id: str | uuid.UUID | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Agree a payment plan; it replaces its items for dunning.

        Either `count` instalments from `first_due` every `every_months`
        months (equal split, remainder on the last, optional `annual_rate`
        interest in percent), or an explicit `schedule` of (date, amount).
        An instalment may be `grace_days` late before the plan breaks;
        default: the customer's scenario's plan grace (10 days without one).

        Raises:
            ValueError: no item, no schedule, or a schedule not covering the debt.
        """
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            items = _case_items(s, customer, item_ids, today)
            principal = sum((i.remaining for i in items), ZERO)
            plan = _proposed(
                principal, today, count, first_due, every_months, schedule, annual_rate
            )
            case = self._new_case(s, customer, CaseKind.PAYMENT_PLAN, today, contact_id)
            case.amount = principal
            if grace_days is None:
                scenario = (
                    s.get(Scenario, customer.scenario_id)
                    if customer.scenario_id
                    else None
                )
                grace_days = (
                    scenario.plan_grace_days if scenario else DEFAULT_PLAN_GRACE_DAYS
                )
            case.grace_days = grace_days
            case.comment = comment
            covered = [(i, i.remaining) for i in items]
            _cover(s, case, covered)
            _store_schedule(s, case, 1, plan)
            _suspend([i for i, _a in covered], _plan_end(plan, grace_days))
            self._event(
                s,
                case,
                today,
                CaseEvent.OPENED,
                comment=_schedule_text(plan, case.currency, _words(s, customer_id)),
                items=covered,
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def edit_schedule(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        count: int | None = None,
        first_due: dt.date | None = None,
        every_months: int = 1,
        schedule: Sequence[tuple[dt.date, Decimal]] | None = None,
        annual_rate: Decimal | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Replace what is left of a plan by new instalments (a new plan version).

        Instalments already paid are kept; the rest of the plan is split over
        the new dates, or `schedule` gives the new instalments explicitly.
        Earlier versions stay in `schedule_history`.

        Raises:
            ConflictError: the plan changed since `version` was read.
        """
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, (CaseKind.PAYMENT_PLAN,), version)
            current_version, current = _current_schedule(s, case)
            paid = _refresh_plan(s, case, current_version)
            old = [
                Instalment(i.seq, i.due_date, i.amount, ZERO, i.paid) for i in current
            ]
            if schedule is not None:
                kept = kept_instalments(old, paid)
                left = sum((i.amount for i in old), ZERO) - sum(
                    (i.amount for i in kept), ZERO
                )
                plan = append_instalments(kept, explicit_instalments(schedule, left))
            else:
                if count is None or first_due is None:
                    raise ValueError(
                        "give the number of instalments and the first date"
                    )
                dates = schedule_dates(first_due, count, every_months)
                plan = reschedule(
                    old, paid, dates, annual_rate=annual_rate, start=today
                )
            old_end = _plan_end_from(current, case.grace_days)
            _store_schedule(s, case, current_version + 1, plan)
            match = match_payments([i.amount for i in plan], paid)
            for row, part in zip(_current_schedule(s, case)[1], match, strict=True):
                row.paid = part
            items = _covered_items(s, case)
            _release_suspension(s, case, [i for i, _a in items], old_end)
            _suspend([i for i, _a in items], _plan_end(plan, case.grace_days))
            # A new schedule is an edit of the case: bump its version and author
            # (the audit trail skips these bookkeeping columns).
            case.updated_at = utcnow()
            case.updated_by = self._login
            text = _schedule_text(plan, case.currency, _words(s, case.customer_id))
            self._event(
                s,
                case,
                today,
                CaseEvent.SCHEDULE_EDITED,
                comment=f"{comment}\n{text}" if comment else text,
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    # --- disputes ----------------------------------------------------------------

    def open_dispute(
        self,
        customer_id: int,
        *,
        today: dt.date,
        items: Sequence[int] | Mapping[int, Decimal],
        reason: str,
        owner: str | None = None,
        answer_due: dt.date | None = None,
        number: str | None = None,
        contact_id: str | uuid.UUID | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Register a dispute on items, or on part of an item's amount.

        Args:
            customer_id: the customer who contests.
            today: the day it is registered.
            items: item ids, or item id -> disputed amount (part of what remains).
            reason: a code from `dispute_reasons` (price, quantity...).
            owner: login of who must answer (may be a sales rep); the current
                user by default. The owner is notified.
            answer_due: when the answer is due; in 15 days by default.
            number: the dispute's number when it comes from elsewhere (ERP).
            contact_id: who contested.
            comment: free text.

        Raises:
            ValueError: unknown reason, no item, or an amount above what remains.
        """
        if reason not in self._reasons:
            known = ", ".join(self._reasons)
            raise ValueError(f"unknown dispute reason {reason!r} (known: {known})")
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            amounts = dict(items) if isinstance(items, Mapping) else {}
            rows = _case_items(s, customer, list(items), today)
            covered = []
            for item in rows:
                part = amounts.get(item.id, item.remaining)
                if not ZERO < part <= item.remaining:
                    raise ValueError(
                        f"item {item.number}: the disputed amount must be above zero "
                        f"and at most {item.remaining}"
                    )
                covered.append((item, part))
            owner_user = _user(s, owner or self._login)
            case = self._new_case(s, customer, CaseKind.DISPUTE, today, contact_id)
            if number:
                case.number = number
            case.owner_id = owner_user.id
            case.reason = reason
            case.answer_due = answer_due or today + dt.timedelta(DEFAULT_ANSWER_DAYS)
            case.amount = sum((a for _i, a in covered), ZERO)
            case.comment = comment
            _cover(s, case, covered, numbered=bool(number))
            # Only the disputed part leaves dunning (`item.disputed_amount`).
            _refresh_flags(s, [item for item, _part in covered])
            action = self._event(
                s,
                case,
                today,
                CaseEvent.OPENED,
                comment=comment,
                items=covered,
                assigned_to=owner_user.id,
            )
            notified = False
            if owner_user.login != self._login:
                words = _words(s, customer.id)
                self._notify_users(
                    s,
                    [owner_user],
                    words("{subject}: your answer is due on {due}").format(
                        subject=action.subject, due=words.day(case.answer_due)
                    ),
                    customer.id,
                    action.id,
                )
                notified = True
            return CaseChange(
                _info(s, case), _CASE_CHANGES | Changes(notifications=notified)
            )

    def record_follow_up(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        kind: FollowUpKind,
        comment: str | None = None,
        contact_id: str | uuid.UUID | None = None,
        answer_due: dt.date | None = None,
    ) -> CaseChange:
        """Add a follow-up to a dispute's timeline (call, email, the owner's answer).

        An `ANSWER` (e.g. the sales rep's feedback) stops the escalation;
        `answer_due` postpones the date an answer is expected.
        """
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, (CaseKind.DISPUTE,), None, open_only=False)
            if case.status not in (CaseStatus.OPEN, CaseStatus.RESOLVED):
                raise CaseStateError(f"{_label(case)} is {case.status.value}")
            if answer_due is not None:
                case.answer_due = answer_due
            event = (
                CaseEvent.ANSWER if kind == FollowUpKind.ANSWER else CaseEvent.FOLLOW_UP
            )
            self._event(
                s,
                case,
                today,
                event,
                comment=comment,
                items=_covered_items(s, case),
                action_type=FOLLOW_UP_ACTION_TYPES[kind],
                label=FOLLOW_UP_LABELS[kind],
                contact_id=contact_id,
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def resolve_dispute(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        outcome: DisputeOutcome,
        justified_amount: Decimal | None = None,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Resolve a dispute as justified, unjustified or partly justified.

        Unjustified: the items go back to dunning at their next step.
        Justified: they stay out of dunning until the credit note arrives
        (`record_credit_note`, or the review when the items are settled).
        Partly justified: the justified amount is taken from the items in
        order; items with nothing justified go back to dunning, the others
        wait for the credit note.

        Raises:
            ConflictError: the dispute changed since `version` was read.
            ValueError: a partly justified outcome without a valid amount.
        """
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, (CaseKind.DISPUTE,), version)
            self._resolve(s, case, today, outcome, justified_amount, comment)
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def record_credit_note(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """The credit note of a justified dispute arrived: close it, release items."""
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, (CaseKind.DISPUTE,), version, open_only=False)
            if case.status != CaseStatus.RESOLVED:
                raise CaseStateError(f"{_label(case)} is not resolved")
            self._close_dispute(s, case, today, comment)
            return CaseChange(_info(s, case), _CASE_CHANGES)

    # --- litigation --------------------------------------------------------------

    def open_litigation(
        self,
        customer_id: int,
        *,
        today: dt.date,
        stage: LitigationStage,
        item_ids: Sequence[int] | None = None,
        partner: str | None = None,
        fees: Decimal | None = None,
        owner: str | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Hand items (every open item of the customer by default) to legal recovery.

        The items leave dunning until the litigation is closed.
        """
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            items = _case_items(s, customer, item_ids, today, overdue_only=False)
            case = self._new_case(s, customer, CaseKind.LITIGATION, today, None)
            case.stage = LitigationStage(stage).value
            case.partner = partner
            case.fees = fees
            case.owner_id = _user(s, owner or self._login).id
            case.amount = sum((i.remaining for i in items), ZERO)
            case.comment = comment
            covered = [(i, i.remaining) for i in items]
            _cover(s, case, covered)
            _refresh_flags(s, items)
            self._event(
                s,
                case,
                today,
                CaseEvent.OPENED,
                comment=_litigation_text(case, comment, _words(s, customer.id)),
                items=covered,
                action_type=ActionType.LITIGATION_HANDOVER,
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def update_litigation(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        stage: LitigationStage | None = None,
        partner: str | None = None,
        fees: Decimal | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Move a litigation to another stage, change its partner or fees.

        Raises:
            ConflictError: the case changed since `version` was read.
        """
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, (CaseKind.LITIGATION,), version)
            if stage is not None:
                case.stage = LitigationStage(stage).value
            if partner is not None:
                case.partner = partner
            if fees is not None:
                case.fees = fees
            if comment:
                case.comment = comment
            self._event(
                s,
                case,
                today,
                CaseEvent.STAGE_CHANGED,
                comment=_litigation_text(case, comment, _words(s, case.customer_id)),
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def close_litigation(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        version: int | None = None,
        comment: str | None = None,
    ) -> CaseChange:
        """Close a litigation: items still open go back under their scenario."""
        return self._finish(
            case_id,
            (CaseKind.LITIGATION,),
            CaseStatus.CLOSED,
            CaseEvent.CLOSED,
            today,
            version,
            comment,
        )

    def export_litigation(self, case_id: str | uuid.UUID, *, today: dt.date) -> bytes:
        """The file a lawyer asks for, as zip bytes.

        It holds ``litigation_<N>.xlsx`` (the items with amounts, interest and
        indemnities on `today`, the customer's legal details, the history of
        exchanges), ``history.csv`` and the PDFs of every reminder sent
        (``reminders/``).
        """
        with self._db.session(self._login) as s:
            case = self._load(
                s, _uuid(case_id), (CaseKind.LITIGATION,), None, open_only=False
            )
            customer = get_one(s, Customer, case.customer_id)
            entity = get_one(s, Entity, customer.entity_id)
            items = [i for i, _a in _covered_items(s, case)]
            history = _history_rows(s, customer.id)
            documents = s.execute(
                select(Document.filename, Document.content, Action.planned_date)
                .join(Action, Action.id == Document.action_id)
                .where(
                    Action.customer_id == customer.id,
                    Action.status == ActionStatus.DONE,
                    Document.mime_type == "application/pdf",
                )
                .order_by(Action.planned_date, Document.created_at)
            ).all()
            contacts = s.scalars(
                select(Contact).where(Contact.customer_id == customer.id)
            ).all()
            workbook = _litigation_workbook(
                case, customer, entity, items, contacts, history, today
            )
            number = case.number
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.writestr(f"litigation_{_safe(number)}.xlsx", workbook)
            zf.writestr(
                "history.csv", spreadsheet.csv_text(history, header=_HISTORY_HEADER)
            )
            used: set[str] = set()
            for filename, content, day in documents:
                name = f"reminders/{day.isoformat()}_{_safe(filename)}"
                while name in used:
                    name = (
                        name.replace(".pdf", "_.pdf") if ".pdf" in name else name + "_"
                    )
                used.add(name)
                zf.writestr(name, content)
        return out.getvalue()

    # --- holds -------------------------------------------------------------------

    def hold_customer(
        self,
        customer_id: int,
        *,
        today: dt.date,
        reason: str,
        until: dt.date | None,
        version: int | None = None,
    ) -> Changes:
        """Hold dunning of a customer until `until` (None: until lifted by hand).

        Raises:
            ConflictError: the customer changed since `version` was read.
        """
        if until is not None and until < today:
            raise ValueError("the hold's end date is in the past")
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            _check_version(customer, version, f"Customer {customer.reference}")
            customer.on_hold = True
            customer.hold_reason = reason
            customer.hold_until = until
            self._hold_event(s, customer.id, today, CaseEvent.HOLD, reason, until, [])
            return Changes(customers=True, actions=True)

    def lift_customer_hold(
        self, customer_id: int, *, today: dt.date, version: int | None = None
    ) -> Changes:
        """Resume dunning of a customer now."""
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            _check_version(customer, version, f"Customer {customer.reference}")
            self._lift_hold(s, customer, today)
            return Changes(customers=True, actions=True)

    def hold_items(
        self, item_ids: Sequence[int], *, today: dt.date, reason: str, until: dt.date
    ) -> Changes:
        """Hold dunning of some items until `until`; it lifts itself after that day.

        The hold is the item's own (`hold_until`, `hold_reason`): closing a
        promise or a plan on the item leaves it in place.
        """
        if until < today:
            raise ValueError("the hold's end date is in the past")
        with self._db.session(self._login) as s:
            items = [get_one(s, Item, i) for i in item_ids]
            if not items or len({i.customer_id for i in items}) != 1:
                raise ValueError("hold items of one customer at a time")
            for item in items:
                item.hold_until = until
                item.hold_reason = reason
            self._hold_event(
                s,
                items[0].customer_id,
                today,
                CaseEvent.HOLD,
                reason,
                until,
                [(i, i.remaining) for i in items],
            )
            return Changes(items=True, actions=True)

    # --- notifications -----------------------------------------------------------

    def notify(
        self,
        logins: Iterable[str],
        message: str,
        *,
        customer_id: int | None = None,
        action_id: str | uuid.UUID | None = None,
    ) -> Changes:
        """Tell colleagues something, linked to a customer and an action.

        Raises:
            LookupError: an unknown login.
        """
        with self._db.session(self._login) as s:
            users = [_user(s, login) for login in dict.fromkeys(logins)]
            self._notify_users(
                s,
                users,
                message,
                customer_id,
                _uuid(action_id) if action_id else None,
            )
            return Changes(notifications=bool(users))

    def mark_read(
        self, notification_id: str | uuid.UUID, *, read: bool = True
    ) -> Changes:
        """Mark a notification read (or unread again)."""
        with self._db.session(self._login) as s:
            note = get_one(s, Notification, _uuid(notification_id))
            note.read_at = utcnow() if read else None
            return Changes(notifications=True)

    # --- confirmations -----------------------------------------------------------

    def send_confirmation(
        self,
        case_id: str | uuid.UUID,
        *,
        today: dt.date,
        by_email: bool = False,
        comment: str | None = None,
    ) -> Confirmation:
        """Send the customer the confirmation of a promise or of a plan's schedule.

        An action of the case carries it, rendered by the document service
        from the PROMISE_CONFIRMATION or PLAN_CONFIRMATION template (the amount
        and date promised, or the schedule). A letter's PDF is stored with the
        action, which is then done. An email carries the same letter as a PDF
        attachment and is sent when mail is configured; otherwise (or when the
        server refuses it) the action stays pending in the collector's agenda
        with the reason.

        Raises:
            CaseStateError: the case is not an open promise or payment plan.
            ValueError: the service was built without a document service.
        """
        if self._documents is None:
            raise ValueError("confirmations need the document service")
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, SUSPENDING, None)
            action = self._event(
                s,
                case,
                today,
                CaseEvent.CONFIRMED,
                comment=comment,
                items=_covered_items(s, case),
                status=ActionStatus.PENDING,
                action_type=ActionType.EMAIL if by_email else ActionType.LETTER,
            )
            action_id = action.id
        reason: str | None = None
        if by_email:
            result = self._documents.send_action_email(
                action_id, today=today, attach_letter=True
            )
            sent, reason = result.sent, result.reason
        else:
            try:
                self._documents.render_action(action_id, today=today)
                sent = True
            except (DocumentError, TemplateError) as exc:
                sent, reason = False, str(exc)
            with self._db.session(self._login) as s:
                row = get_one(s, Action, action_id)
                if sent:
                    row.status = ActionStatus.DONE
                    row.performed_by_id = _user_id(s, self._login)
                    row.performed_at = utcnow()
                else:
                    row.reason = (reason or "")[:300]
        with self._db.session(self._login) as s:
            names = s.scalars(
                select(Document.filename)
                .where(Document.action_id == action_id)
                .order_by(Document.created_at)
            ).all()
        return Confirmation(
            action_id=str(action_id),
            channel="email" if by_email else "letter",
            documents=tuple(names),
            sent=sent,
            reason=reason,
            changes=Changes(actions=True),
        )

    # --- the nightly review ------------------------------------------------------

    def review_due_cases(
        self,
        today: dt.date,
        *,
        dry_run: bool = False,
        allow_future: bool = False,
    ) -> ReviewResult:
        """Decide what time did to open cases; the nightly dunning run calls it first.

        Kept promises and plans close; broken ones close and put a "broken
        promise" / "broken plan" task in the collector's agenda (their items
        resume at their next step); paid disputes resolve themselves; disputes
        unanswered past their due date escalate to the credit managers;
        disputes whose credit notes arrived close; holds past their end date
        are lifted. Running it twice on the same day changes nothing the
        second time.

        Args:
            today: the day reviewed.
            dry_run: review in a transaction that is rolled back: the report
                says what a real review would do; nothing is written.
            allow_future: let a real review be dated after today.

        Raises:
            ConflictError: a colleague changed a case during the review.
            FutureDateError: a real review dated after today, not allowed.
        """
        if not dry_run and not allow_future:
            check_not_future(today, "case review")
        with self._db.session(self._login) as s:
            report = self.review_in_session(s, today)
            if dry_run:
                s.rollback()
        dry = " (dry run)" if dry_run else ""
        log.info("Case review for %s%s: %s", today, dry, report)
        changed = report.changed and not dry_run
        return ReviewResult(
            report,
            Changes(
                cases=changed,
                items=changed,
                actions=changed,
                customers=bool(report.customer_holds_lifted),
                notifications=report.notifications_sent > 0,
            ),
        )

    def review_in_session(self, s: Session, today: dt.date) -> ReviewReport:
        """Review due cases in the caller's session, which commits or rolls back.

        The dunning dry run reviews and decides in one transaction it rolls
        back, so it sees what the real run would see after its review.
        """
        return CaseReview(s, self._login, today, self._reasons, self._tolerance).run()

    # --- internals -----------------------------------------------------------------

    @contextmanager
    def _unit(self, case_id: uuid.UUID) -> Iterator[Session]:
        """A session that turns a stale write of the case into a ConflictError."""
        try:
            with self._db.session(self._login) as s:
                yield s
        except StaleDataError as exc:
            with self._db.session() as s:
                current = s.get(Case, case_id)
                what = _label(current) if current else "The case"
                detail = describe_change(current) if current else "deleted"
            raise ConflictError(
                f"{what} was {detail}. Your change was not saved: reload and try again."
            ) from exc

    def _load(
        self,
        s: Session,
        case_id: uuid.UUID,
        kinds: Sequence[CaseKind],
        version: int | None,
        *,
        open_only: bool = True,
    ) -> Case:
        case = get_one(s, Case, case_id)
        if case.kind not in kinds:
            raise CaseStateError(f"{_label(case)} is not a {' or '.join(kinds)}")
        _check_version(case, version, _label(case))
        if open_only and case.status != CaseStatus.OPEN:
            raise CaseStateError(f"{_label(case)} is already {case.status.value}")
        return case

    def _new_case(
        self,
        s: Session,
        customer: Customer,
        kind: CaseKind,
        today: dt.date,
        contact_id: str | uuid.UUID | None,
    ) -> Case:
        # Added by `_cover` once every field is set: one complete audit insert.
        return Case(
            id=uuid.uuid4(),
            number=_next_number(s),
            customer_id=customer.id,
            kind=kind,
            status=CaseStatus.OPEN,
            opened_on=today,
            owner_id=_user_id(s, self._login),
            contact_id=_uuid(contact_id) if contact_id else None,
            currency=customer.entity.currency,
        )

    def _event(
        self,
        s: Session,
        case: Case,
        today: dt.date,
        event: CaseEvent,
        *,
        comment: str | None = None,
        items: Sequence[tuple[Item, Decimal]] = (),
        status: ActionStatus = ActionStatus.DONE,
        assigned_to: int | None = None,
        action_type: ActionType = ActionType.INTERNAL_TASK,
        label: str | None = None,
        contact_id: str | uuid.UUID | None = None,
        amount: Decimal | None = None,
    ) -> Action:
        """Add an action to the case's timeline (done, unless a task to do)."""
        me = _user_id(s, self._login)
        action = Action(
            id=uuid.uuid4(),
            customer_id=case.customer_id,
            case_id=case.id,
            action_type=action_type,
            subject=case_subject(
                case.kind,
                case.number,
                case.reason,
                self._reasons,
                _words(s, case.customer_id),
                label or EVENT_LABELS.get((case.kind, event), event.value),
            ),
            planned_date=today,
            status=status,
            automatic=False,
            amount=amount,
            currency=case.currency,
            assigned_to_id=assigned_to if assigned_to is not None else me,
            created_by_id=me,
            contact_id=_uuid(contact_id) if contact_id else case.contact_id,
            case_event=event.value,
            comment=comment,
        )
        if status == ActionStatus.DONE:
            action.performed_by_id = me
            action.performed_at = utcnow()
        action.items = [
            ActionItem(item_id=item.id, amount=part, days_late=item.days_late(today))
            for item, part in items
        ]
        s.add(action)
        s.flush()
        return action

    def _hold_event(
        self,
        s: Session,
        customer_id: int,
        today: dt.date,
        event: CaseEvent,
        reason: str | None,
        until: dt.date | None,
        items: Sequence[tuple[Item, Decimal]],
    ) -> None:
        me = _user_id(s, self._login)
        subject = hold_subject(_words(s, customer_id), event, until)
        action = Action(
            id=uuid.uuid4(),
            customer_id=customer_id,
            action_type=ActionType.INTERNAL_TASK,
            subject=subject,
            planned_date=today,
            status=ActionStatus.DONE,
            assigned_to_id=me,
            created_by_id=me,
            performed_by_id=me,
            performed_at=utcnow(),
            case_event=event.value,
            comment=reason,
        )
        action.items = [
            ActionItem(item_id=item.id, amount=part, days_late=item.days_late(today))
            for item, part in items
        ]
        s.add(action)

    def _lift_hold(self, s: Session, customer: Customer, today: dt.date) -> None:
        reason = customer.hold_reason
        customer.on_hold = False
        customer.hold_reason = None
        customer.hold_until = None
        self._hold_event(s, customer.id, today, CaseEvent.HOLD_LIFTED, reason, None, [])

    def _finish(
        self,
        case_id: str | uuid.UUID,
        kinds: Sequence[CaseKind],
        status: CaseStatus,
        event: CaseEvent,
        today: dt.date,
        version: int | None,
        comment: str | None,
    ) -> CaseChange:
        uid = _uuid(case_id)
        with self._unit(uid) as s:
            case = self._load(s, uid, kinds, version)
            self._close(s, case, status, today, "case closed")
            self._event(
                s,
                case,
                today,
                event,
                comment=comment,
                items=_covered_items(s, case),
            )
            return CaseChange(_info(s, case), _CASE_CHANGES)

    def _close(
        self, s: Session, case: Case, status: CaseStatus, today: dt.date, why: str
    ) -> None:
        """Set the final status, cancel the case's pending tasks, release items."""
        case.status = status
        case.closed_on = today
        for action in s.scalars(
            select(Action).where(
                Action.case_id == case.id, Action.status.in_(OPEN_ACTIONS)
            )
        ):
            action.status = ActionStatus.CANCELLED
            action.reason = why
        items = [i for i, _a in _covered_items(s, case)]
        if case.kind in SUSPENDING:
            _release_suspension(s, case, items, _suspension_end(s, case))
        else:
            s.flush()
            _refresh_flags(s, items)

    def _resolve(
        self,
        s: Session,
        case: Case,
        today: dt.date,
        outcome: DisputeOutcome,
        justified_amount: Decimal | None,
        comment: str | None,
    ) -> None:
        covered = _covered_items(s, case)
        parts = resolve_dispute(
            [DisputedPart(item.id, amount) for item, amount in covered],
            outcome,
            justified_amount,
        )
        case.resolution = DisputeOutcome(outcome).value
        summary = resolution_text(_words(s, case.customer_id), outcome, parts)
        # The resolution action's items carry the credit expected per item; the
        # flags are recomputed from it by `_close`.
        self._event(
            s,
            case,
            today,
            CaseEvent.RESOLVED,
            comment=f"{summary}\n{comment}" if comment else summary,
            items=[
                (item, part.credit_expected)
                for (item, _a), part in zip(covered, parts, strict=True)
            ],
        )
        self._close(s, case, CaseStatus.RESOLVED, today, "dispute resolved")

    def _close_dispute(
        self, s: Session, case: Case, today: dt.date, comment: str | None
    ) -> None:
        self._close(s, case, CaseStatus.CLOSED, today, "credit note received")
        self._event(s, case, today, CaseEvent.CLOSED, comment=comment)

    def _notify_users(
        self,
        s: Session,
        users: Sequence[User],
        message: str,
        customer_id: int | None,
        action_id: uuid.UUID | None,
    ) -> None:
        sender = _user_id(s, self._login)
        for user in users:
            s.add(
                Notification(
                    id=uuid.uuid4(),
                    user_id=user.id,
                    sender_id=sender,
                    customer_id=customer_id,
                    action_id=action_id,
                    message=message,
                )
            )


# --- helpers (session in, values or ORM rows out; never leave this module) -------


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return as_uuid(value, "case or record")


def _label(case: Case) -> str:
    return f"{_(CASE_KIND_LABELS[case.kind])} N°{case.number}"


def _words(s: Session, customer_id: int) -> Words:
    """The language of the customer's entity, for the texts of its case actions."""
    language = s.scalar(
        select(Entity.language)
        .join(Customer, Customer.entity_id == Entity.id)
        .where(Customer.id == customer_id)
    )
    return Words(language or "en")


def _check_version(record: Case | Customer, version: int | None, what: str) -> None:
    """Refuse an edit based on a version older than the stored one."""
    if version is not None and record.version != version:
        raise ConflictError(
            f"{what} was {describe_change(record)}. "
            "Your change was not saved: reload and try again."
        )


def _user(s: Session, login: str | None) -> User:
    if not login:
        raise LookupError("no user: set one with `o2c config set-user LOGIN`")
    user = s.scalars(select(User).where(User.login == login)).first()
    if user is None:
        raise LookupError(f"user {login} not found")
    return user


def _user_id(s: Session, login: str | None) -> int | None:
    if not login:
        return None
    return s.scalars(select(User.id).where(User.login == login)).first()


def _next_number(s: Session) -> str:
    """The next case number: one more than the highest numeric one.

    Two desktops may compute the same number at the same moment; the unique
    constraint on `case_file.number` refuses the second insert and `_cover`
    takes the next number.
    """
    numbers = s.scalars(select(Case.number)).all()
    highest = max((int(n) for n in numbers if n.isdigit()), default=0)
    return str(highest + 1)


def _begin_sqlite(s: Session) -> None:
    """Open the SQLite transaction before a SAVEPOINT.

    pysqlite begins a transaction only before a data change, so a SAVEPOINT
    issued first becomes the outermost one and releasing it would commit
    (SQLAlchemy's pysqlite notes, "Serializable isolation / Savepoints").
    """
    conn = s.connection()
    if conn.dialect.name != "sqlite":
        return
    raw: Any = conn.connection.driver_connection
    if raw is not None and not raw.in_transaction:
        raw.execute("BEGIN")


def _insert_case(s: Session, case: Case, *, numbered: bool) -> None:
    """Insert a new case, taking the next number if a colleague took this one.

    With `numbered` the number was given (an ERP dispute number): a clash is
    then an error, not a reason to pick another.

    Raises:
        ValueError: the given number is already used.
    """
    s.flush()
    _begin_sqlite(s)
    for attempt in range(_NUMBER_ATTEMPTS):
        try:
            with s.begin_nested():
                s.add(case)
                s.flush()
            return
        except IntegrityError as exc:
            # The audit rows of the refused insert were queued by the flush.
            s.info.pop("_o2c_audit", None)
            if numbered:
                raise ValueError(f"case number {case.number} is already used") from exc
            if attempt == _NUMBER_ATTEMPTS - 1:
                raise
            log.info("Case number %s was just taken: taking the next", case.number)
            case.number = _next_number(s)


def _case_items(
    s: Session,
    customer: Customer,
    item_ids: Sequence[int] | None,
    today: dt.date,
    *,
    overdue_only: bool = True,
) -> list[Item]:
    """The items a new case covers: those named, or the customer's open debts."""
    if item_ids is None:
        query = select(Item).where(
            Item.customer_id == customer.id,
            Item.status == ItemStatus.OPEN,
            Item.remaining > 0,
            Item.kind.in_((ItemKind.INVOICE, ItemKind.ADJUSTMENT)),
            Item.disputed.is_(False),
            Item.in_litigation.is_(False),
        )
        if overdue_only:
            query = query.where(Item.due_date < today)
        items = list(s.scalars(query.order_by(Item.due_date, Item.number)))
        if not items:
            raise ValueError(f"customer {customer.reference} has no open debt to cover")
        return items
    if not item_ids:
        raise ValueError("name at least one item")
    items = [get_one(s, Item, i) for i in dict.fromkeys(item_ids)]
    for item in items:
        if item.customer_id != customer.id:
            raise ValueError(f"item {item.number} belongs to another customer")
        if item.status != ItemStatus.OPEN or item.remaining <= 0:
            raise ValueError(f"item {item.number} has nothing left to pay")
    return sorted(items, key=lambda i: (i.due_date, i.number))


def _cover(
    s: Session,
    case: Case,
    covered: Sequence[tuple[Item, Decimal]],
    *,
    numbered: bool = False,
) -> None:
    _insert_case(s, case, numbered=numbered)
    for item, amount in covered:
        s.add(CaseItem(case_id=case.id, item_id=item.id, amount=amount))
    s.flush()


def _covered_items(s: Session, case: Case) -> list[tuple[Item, Decimal]]:
    rows = s.execute(
        select(Item, CaseItem.amount)
        .join(CaseItem, CaseItem.item_id == Item.id)
        .where(CaseItem.case_id == case.id)
        .order_by(Item.due_date, Item.number)
    ).all()
    return [(item, amount) for item, amount in rows]


def _settled(item: Item) -> bool:
    """Whether nothing is left to pay on an item (paid or credited)."""
    return item.status == ItemStatus.CLOSED or item.remaining <= 0


def _left_on(item: Item) -> Decimal:
    return ZERO if _settled(item) else item.remaining


def _paid_since_opened(covered: Iterable[tuple[Item, Decimal]]) -> Decimal:
    """How much the items' remaining fell since the case recorded it."""
    return max(sum((amount - _left_on(item) for item, amount in covered), ZERO), ZERO)


def _suspend(items: Iterable[Item], until: dt.date) -> None:
    for item in items:
        if item.suspended_until is None or item.suspended_until < until:
            item.suspended_until = until


def _suspension_end(s: Session, case: Case) -> dt.date | None:
    """The day a promise or plan keeps its items suspended until."""
    if case.kind == CaseKind.PROMISE and case.promised_date is not None:
        return promise_deadline(case.promised_date, case.grace_days or 0)
    if case.kind == CaseKind.PAYMENT_PLAN:
        return _plan_end_from(_current_schedule(s, case)[1], case.grace_days)
    return None


def _release_suspension(
    s: Session, case: Case, items: Sequence[Item], end: dt.date | None
) -> None:
    """Undo this case's suspension, keeping a later one set by another case or hold."""
    s.flush()
    for item in items:
        if end is None or item.suspended_until != end:
            continue  # a hold or another promise moved it: not ours to undo
        others = s.scalars(
            select(Case)
            .join(CaseItem, CaseItem.case_id == Case.id)
            .where(
                CaseItem.item_id == item.id,
                Case.id != case.id,
                Case.status == CaseStatus.OPEN,
                Case.kind.in_(SUSPENDING),
            )
        ).all()
        ends = [e for e in (_suspension_end(s, c) for c in others) if e is not None]
        item.suspended_until = max(ends, default=None)


def _credit_expected(s: Session, case_id: uuid.UUID) -> dict[int, Decimal]:
    """Item id -> credit note expected, from a dispute's resolution action.

    The resolution is read from the action that recorded it, so the disputed
    amounts on `case_item` stay as they were (the history of the dispute).
    """
    rows = s.execute(
        select(ActionItem.item_id, ActionItem.amount)
        .join(Action, Action.id == ActionItem.action_id)
        .where(Action.case_id == case_id, Action.case_event == CaseEvent.RESOLVED.value)
    ).all()
    return dict(rows)


def _refresh_flags(s: Session, items: Sequence[Item]) -> None:
    """Recompute the dispute and litigation flags of items from their cases."""
    s.flush()
    flags = dispute_flags(s, [i.id for i in items])
    for item in items:
        _old, (disputed, amount, litigation) = flags[item.id]
        item.disputed = disputed
        item.disputed_amount = amount
        item.in_litigation = litigation


def _proposed(
    principal: Decimal,
    today: dt.date,
    count: int | None,
    first_due: dt.date | None,
    every_months: int,
    schedule: Sequence[tuple[dt.date, Decimal]] | None,
    annual_rate: Decimal | None,
) -> tuple[Instalment, ...]:
    if schedule is not None:
        return explicit_instalments(schedule, principal)
    if count is None or first_due is None:
        raise ValueError("give the number of instalments and the first date")
    if first_due < today:
        raise ValueError("the first instalment is in the past")
    dates = schedule_dates(first_due, count, every_months)
    return split_instalments(principal, dates, annual_rate=annual_rate, start=today)


def _store_schedule(
    s: Session, case: Case, version: int, plan: Sequence[Instalment]
) -> None:
    for inst in plan:
        s.add(
            PlanInstalment(
                id=uuid.uuid4(),
                case_id=case.id,
                plan_version=version,
                seq=inst.seq,
                due_date=inst.due_date,
                amount=inst.amount,
                paid=inst.paid,
            )
        )
    s.flush()


def _current_schedule(s: Session, case: Case) -> tuple[int, list[PlanInstalment]]:
    rows = s.scalars(
        select(PlanInstalment)
        .where(PlanInstalment.case_id == case.id)
        .order_by(PlanInstalment.plan_version.desc(), PlanInstalment.seq)
    ).all()
    if not rows:
        return 0, []
    version = rows[0].plan_version
    return version, [r for r in rows if r.plan_version == version]


def _refresh_plan(s: Session, case: Case, version: int) -> Decimal:
    """Match what the items were paid to the current instalments; return the total."""
    rows = [r for r in _current_schedule(s, case)[1] if r.plan_version == version]
    total = sum((r.amount for r in rows), ZERO)
    paid = plan_paid(
        _paid_since_opened(_covered_items(s, case)), case.amount or ZERO, total
    )
    for row, part in zip(
        rows, match_payments([r.amount for r in rows], paid), strict=True
    ):
        if row.paid != part:
            row.paid = part
    return paid


def _plan_end(plan: Sequence[Instalment], grace_days: int | None) -> dt.date:
    return plan[-1].due_date + dt.timedelta(days=grace_days or 0)


def _plan_end_from(
    rows: Sequence[PlanInstalment], grace_days: int | None
) -> dt.date | None:
    if not rows:
        return None
    return max(r.due_date for r in rows) + dt.timedelta(days=grace_days or 0)


def _schedule_text(
    plan: Sequence[Instalment], currency: str | None, words: Words
) -> str:
    paid = words(N_("paid"))
    return "\n".join(
        f"{i.seq}. {words.day(i.due_date)} {words.money(i.amount)} "
        f"{currency or ''}".rstrip()
        + (f" ({paid})" if i.paid >= i.amount else "")
        for i in plan
    )


def _litigation_text(case: Case, comment: str | None, words: Words) -> str:
    parts = [f"{words(N_('Stage'))}: {case.stage}"]
    if case.partner:
        parts.append(f"{words(N_('Partner'))}: {case.partner}")
    if case.fees is not None:
        fees = f"{words.money(case.fees)} {case.currency or ''}".rstrip()
        parts.append(f"{words(N_('Fees'))}: {fees}")
    if comment:
        parts.append(comment)
    return "\n".join(parts)


def _instalment_info(row: PlanInstalment) -> InstalmentInfo:
    return InstalmentInfo(
        plan_version=row.plan_version,
        seq=row.seq,
        due_date=row.due_date,
        amount=row.amount,
        paid=row.paid,
    )


def _info(s: Session, case: Case) -> CaseInfo:
    s.flush()  # so `version` is the one just written
    customer = get_one(s, Customer, case.customer_id)
    owner = s.get(User, case.owner_id) if case.owner_id else None
    credit = (
        _credit_expected(s, case.id)
        if case.kind == CaseKind.DISPUTE and case.status != CaseStatus.OPEN
        else {}
    )
    items = tuple(
        CaseItemInfo(
            item_id=item.id,
            number=item.number,
            due_date=item.due_date,
            remaining=item.remaining,
            covered=amount,
            currency=item.currency,
            disputed=item.disputed,
            in_litigation=item.in_litigation,
            suspended_until=item.suspended_until,
            credit_expected=credit.get(item.id),
        )
        for item, amount in _covered_items(s, case)
    )
    return CaseInfo(
        id=str(case.id),
        number=case.number,
        kind=case.kind,
        status=case.status,
        customer_id=customer.id,
        customer_reference=customer.reference,
        customer_name=customer.name,
        opened_on=case.opened_on,
        closed_on=case.closed_on,
        owner=owner.login if owner else None,
        amount=case.amount,
        currency=case.currency,
        version=case.version,
        updated_by=case.updated_by,
        promised_date=case.promised_date,
        grace_days=case.grace_days,
        source=case.source,
        reason=case.reason,
        answer_due=case.answer_due,
        resolution=case.resolution,
        stage=case.stage,
        partner=case.partner,
        fees=case.fees,
        comment=case.comment,
        items=items,
        instalments=tuple(_instalment_info(r) for r in _current_schedule(s, case)[1]),
    )


# --- the litigation file ----------------------------------------------------------

_HISTORY_HEADER = ("date", "type", "status", "subject", "by", "comment", "case")


def _history_rows(s: Session, customer_id: int) -> list[tuple[object, ...]]:
    """Every action with the customer, oldest first, as spreadsheet cells."""
    rows = s.execute(
        select(Action, User.full_name, Case.number)
        .outerjoin(User, User.id == Action.performed_by_id)
        .outerjoin(Case, Case.id == Action.case_id)
        .where(Action.customer_id == customer_id)
        .order_by(Action.planned_date, Action.created_at)
    ).all()
    return [
        (
            a.planned_date,
            a.action_type.value,
            a.status.value,
            a.subject or "",
            by or "",
            a.comment or "",
            number or "",
        )
        for a, by, number in rows
    ]


def _safe(name: str) -> str:
    """A file name safe in a zip on every system."""
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name).strip("_") or "file"


def _litigation_workbook(
    case: Case,
    customer: Customer,
    entity: Entity,
    items: Sequence[Item],
    contacts: Sequence[Contact],
    history: Sequence[tuple[object, ...]],
    today: dt.date,
) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    law = interest.law_for(entity.country)
    open_items = [i for i in items if not _settled(i)]
    claim = interest.late_payment_claim(
        # Payment dates are not stored: interest runs on what remains.
        [
            interest.LateDebt(i.number, i.due_date, i.remaining, i.currency)
            for i in open_items
        ],
        today,
        law,
        contractual_rate=interest.agreed_rate(
            customer.late_interest_rate, entity.late_interest_rate
        ),
        insolvency=customer.insolvency,
    )
    by_number = {d.number: d for d in claim.debts}

    book = Workbook()
    sheet = book.active
    assert sheet is not None  # a new workbook has one sheet
    sheet.title = "Items"
    spreadsheet.append(
        sheet, [f"{_label(case)} - {customer.reference} {customer.name}"]
    )
    spreadsheet.append(sheet, [_("Amounts on {day}").format(day=today.isoformat())])
    spreadsheet.append(sheet, [])
    header = [
        "Invoice",
        "Issue date",
        "Due date",
        "Days late",
        "Amount",
        "Remaining",
        "Currency",
        "Interest",
        "Indemnity",
        "Total claimed",
    ]
    spreadsheet.append(sheet, header)
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    totals = [ZERO, ZERO, ZERO, ZERO]
    for item in open_items:
        debt = by_number.get(item.number)
        due_interest = debt.interest if debt else ZERO
        indemnity = debt.indemnity if debt else ZERO
        claimed = item.remaining + due_interest + indemnity
        spreadsheet.append(
            sheet,
            [
                item.number,
                item.issue_date,
                item.due_date,
                max(item.days_late(today), 0),
                item.amount,
                item.remaining,
                item.currency,
                due_interest,
                indemnity,
                claimed,
            ],
        )
        for n, value in enumerate((item.remaining, due_interest, indemnity, claimed)):
            totals[n] += value
    spreadsheet.append(
        sheet, ["Total", None, None, None, None, *totals[:1], None, *totals[1:]]
    )
    for cell in sheet[sheet.max_row]:
        cell.font = bold
    spreadsheet.append(sheet, [])
    if claim.excluded_reason:
        spreadsheet.append(
            sheet, [_("No interest claimed: {why}").format(why=claim.excluded_reason)]
        )
    else:
        spreadsheet.append(
            sheet,
            [_("Late-payment interest and indemnities: {law}").format(law=law.name)],
        )
        spreadsheet.append(
            sheet, [_("Interest runs on the remaining amount from the day after due.")]
        )
        if claim.contractual_rate is not None:
            spreadsheet.append(
                sheet, [_("Contractual rate, percent a year"), claim.contractual_rate]
            )
        if any(d.floored for d in claim.debts):
            spreadsheet.append(
                sheet,
                [_("Where lower, the contractual rate was raised to the legal floor.")],
            )
    if case.fees is not None:
        spreadsheet.append(sheet, [_("Litigation fees"), case.fees, case.currency])
    for column, width in zip(
        "ABCDEFGHIJ", (18, 12, 12, 10, 14, 14, 9, 12, 12, 14), strict=True
    ):
        sheet.column_dimensions[column].width = width

    legal = book.create_sheet("Customer")
    details = [
        ("Reference", customer.reference),
        ("Name", customer.name),
        ("Legal id", customer.legal_id),
        ("VAT number", customer.vat_number),
        ("Address", customer.address1),
        ("", customer.address2),
        ("Postal code", customer.postal_code),
        ("City", customer.city),
        ("Country", customer.country),
        ("Phone", customer.phone),
        ("Email", customer.email),
        ("Insolvency", customer.insolvency),
        ("Insolvency since", customer.insolvency_since),
        ("", None),
        ("Creditor", entity.name),
        ("Creditor legal id", entity.legal_id),
        ("Creditor VAT number", entity.vat_number),
        ("Trade registry", entity.trade_registry),
        ("", None),
        ("Case", _label(case)),
        ("Opened on", case.opened_on),
        ("Stage", case.stage),
        ("Partner", case.partner),
    ]
    for key, detail in details:
        spreadsheet.append(legal, [key, detail])
    spreadsheet.append(legal, [])
    spreadsheet.append(legal, ["Contacts", "Role", "Function", "Phone", "Email"])
    for contact in contacts:
        spreadsheet.append(
            legal,
            [
                contact.name,
                contact.role,
                contact.function,
                contact.phone,
                contact.email,
            ],
        )
    legal.column_dimensions["A"].width = 22
    legal.column_dimensions["B"].width = 40

    log_sheet = book.create_sheet("History")
    spreadsheet.append(log_sheet, [h.capitalize() for h in _HISTORY_HEADER])
    for row in history:
        spreadsheet.append(log_sheet, list(row))
    log_sheet.column_dimensions["D"].width = 60

    return spreadsheet.workbook_bytes(book)
