"""Rules of cases: promises to pay, payment plans, disputes and litigation.

Pure functions over values: the services read the database, ask these rules
what to do on `today`, and write the outcome. The value objects the services
return to the UI (`CaseInfo` and friends) live here too, so views can name
them without depending on the database layer.

Vocabulary (see docs/design.md, "Cases"):

- A promise is *kept* when the amount promised is paid by the promised date
  plus its grace days; past that day it is *broken*, or *partly paid*.
- A payment plan's instalments are paid oldest first; an instalment still
  unpaid after its due date plus the grace days breaks the plan.
- A dispute is resolved as *justified* (a credit note is expected),
  *unjustified* (back to dunning) or *partly justified* (split).
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from o2c_desktop.engine.types import ActionStatus, ActionType, CaseKind, CaseStatus
from o2c_desktop.i18n import N_

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
ZERO = Decimal("0.00")
HUNDRED = Decimal(100)

DEFAULT_GRACE_DAYS = 3
# A plan instalment waits longer than a promise: bank transfers of a
# monthly schedule often land a week late (issue 16). Scenarios may change it.
DEFAULT_PLAN_GRACE_DAYS = 10
RELIABILITY_MONTHS = 12


class PromiseOutcome(StrEnum):
    """Where a promise to pay stands on a given day."""

    PENDING = "pending"  # deadline not reached, not fully paid yet
    KEPT = "kept"
    BROKEN = "broken"  # deadline passed, nothing paid
    PARTLY_PAID = "partly_paid"  # deadline passed, part of the amount paid


class PlanOutcome(StrEnum):
    """Where a payment plan stands on a given day."""

    RUNNING = "running"
    KEPT = "kept"  # every instalment paid
    BROKEN = "broken"  # an instalment is still unpaid past its grace days


class DisputeOutcome(StrEnum):
    """How a dispute is resolved; stored in `case_file.resolution`."""

    JUSTIFIED = "justified"  # the customer is right: a credit note is expected
    UNJUSTIFIED = "unjustified"  # the item goes back to dunning
    PARTLY_JUSTIFIED = "partly_justified"
    PAID = "paid"  # the customer paid the item: nothing left to dispute


class LitigationStage(StrEnum):
    """Steps of legal recovery (contentieux)."""

    FORMAL_NOTICE = "formal_notice"
    PAYMENT_ORDER = "payment_order"
    LAWYER = "lawyer"
    COLLECTION_AGENCY = "collection_agency"
    INSOLVENCY_CLAIM = "insolvency_claim"


class FollowUpKind(StrEnum):
    """What a follow-up of a dispute was; `ANSWER` is the owner's answer."""

    ANSWER = "answer"  # e.g. "Retour commercial": stops the escalation
    CALL_OUT = "call_out"
    CALL_IN = "call_in"
    EMAIL = "email"
    LETTER = "letter"
    NOTE = "note"


class CaseEvent(StrEnum):
    """What an action did to its case, kept in `action.case_event`.

    `action.outcome` stays for what the collector chose when performing it.
    """

    OPENED = "case_opened"
    CONFIRMED = "case_confirmed"  # confirmation letter or email to the customer
    FOLLOW_UP = "case_follow_up"
    ANSWER = "case_answer"
    SCHEDULE_EDITED = "case_schedule_edited"
    STAGE_CHANGED = "case_stage_changed"
    KEPT = "case_kept"
    BROKEN = "case_broken"
    CANCELLED = "case_cancelled"
    RESOLVED = "case_resolved"
    CLOSED = "case_closed"
    ESCALATED = "case_escalated"
    HOLD = "hold_set"
    HOLD_LIFTED = "hold_lifted"


FOLLOW_UP_ACTION_TYPES: dict[FollowUpKind, ActionType] = {
    FollowUpKind.ANSWER: ActionType.INTERNAL_TASK,
    FollowUpKind.CALL_OUT: ActionType.PHONE_CALL,
    FollowUpKind.CALL_IN: ActionType.PHONE_CALL,
    FollowUpKind.EMAIL: ActionType.EMAIL,
    FollowUpKind.LETTER: ActionType.LETTER,
    FollowUpKind.NOTE: ActionType.INTERNAL_TASK,
}

FOLLOW_UP_LABELS: dict[FollowUpKind, str] = {
    FollowUpKind.ANSWER: N_("Sales feedback"),
    FollowUpKind.CALL_OUT: N_("Dispute follow-up - outgoing call"),
    FollowUpKind.CALL_IN: N_("Dispute follow-up - incoming call"),
    FollowUpKind.EMAIL: N_("Dispute follow-up - email"),
    FollowUpKind.LETTER: N_("Dispute follow-up - letter"),
    FollowUpKind.NOTE: N_("Dispute follow-up - note"),
}

DISPUTE_OUTCOME_LABELS: dict[DisputeOutcome, str] = {
    DisputeOutcome.JUSTIFIED: N_("justified"),
    DisputeOutcome.UNJUSTIFIED: N_("unjustified"),
    DisputeOutcome.PARTLY_JUSTIFIED: N_("partly justified"),
    DisputeOutcome.PAID: N_("item paid"),
}

CASE_KIND_LABELS: dict[CaseKind, str] = {
    CaseKind.PROMISE: N_("Promise to pay"),
    CaseKind.PAYMENT_PLAN: N_("Payment plan"),
    CaseKind.DISPUTE: N_("Dispute"),
    CaseKind.LITIGATION: N_("Litigation"),
}


@dataclass(frozen=True)
class DisputeReason:
    """One entry of the configurable list of dispute reasons."""

    code: str
    label: str


# The default list (issue #6); a credit manager's list replaces it in CasesService.
DEFAULT_DISPUTE_REASONS: tuple[DisputeReason, ...] = (
    DisputeReason("price", N_("Price dispute")),
    DisputeReason("quantity", N_("Quantity dispute")),
    DisputeReason("quality", N_("Quality dispute")),
    DisputeReason("delivery", N_("Delivery dispute")),
    DisputeReason("duplicate", N_("Duplicate invoice")),
    DisputeReason("already_paid", N_("Already paid")),
    DisputeReason("other", N_("Other dispute")),
)


def quantize(amount: Decimal) -> Decimal:
    """Round to the cent, half up (what a customer is asked to pay)."""
    return amount.quantize(CENT, ROUND_HALF_UP)


# --- payment plans ------------------------------------------------------------


@dataclass(frozen=True)
class Instalment:
    """One instalment of a proposed schedule.

    Attributes:
        principal: the part of the debt it repays.
        interest: interest on the principal still due, since the previous date.
        paid: for instalments kept from an earlier version of the schedule.
    """

    seq: int
    due_date: dt.date
    principal: Decimal
    interest: Decimal = ZERO
    paid: Decimal = ZERO

    @property
    def amount(self) -> Decimal:
        """What the customer pays on the due date."""
        return self.principal + self.interest


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` moved by `months`, clamped to the end of short months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def schedule_dates(
    first: dt.date, count: int, every_months: int = 1
) -> tuple[dt.date, ...]:
    """`count` due dates, the first on `first`, then every `every_months` months.

    Dates are computed from `first` each time, so 31 Jan gives 28 Feb then 31 Mar.

    Raises:
        ValueError: `count` or `every_months` is not positive.
    """
    if count < 1 or every_months < 1:
        raise ValueError(
            "a schedule needs at least one instalment, a month apart or more"
        )
    return tuple(add_months(first, n * every_months) for n in range(count))


def split_instalments(
    principal: Decimal,
    due_dates: Sequence[dt.date],
    *,
    annual_rate: Decimal | None = None,
    start: dt.date | None = None,
    day_basis: int = 365,
) -> tuple[Instalment, ...]:
    """Split `principal` into equal instalments, the remainder on the last.

    Args:
        principal: the amount to repay (positive).
        due_dates: one date per instalment, in increasing order.
        annual_rate: optional interest rate in percent a year. Each instalment
            then adds simple interest on the principal still due, from the
            previous due date (or `start`) to its own.
        start: when interest starts running (the plan's date); defaults to the
            first due date, i.e. no interest on the first period.
        day_basis: days in a year for the interest.

    Returns:
        The instalments, `seq` from 1.

    Raises:
        ValueError: no date, dates out of order, or a principal not above zero.
    """
    if not due_dates:
        raise ValueError("a schedule needs at least one instalment")
    if list(due_dates) != sorted(due_dates):
        raise ValueError("instalment dates must be in increasing order")
    if principal <= 0:
        raise ValueError("nothing to schedule: the amount must be above zero")
    count = len(due_dates)
    # Round each share down so the remainder (never negative) goes on the last.
    share = (principal / count).quantize(CENT, ROUND_DOWN)
    shares = [share] * (count - 1) + [principal - share * (count - 1)]
    out: list[Instalment] = []
    still_due = principal
    previous = start or due_dates[0]
    for seq, (day, part) in enumerate(zip(due_dates, shares, strict=True), start=1):
        interest = ZERO
        if annual_rate:
            days = max((day - previous).days, 0)
            interest = quantize(still_due * annual_rate / HUNDRED * days / day_basis)
        out.append(Instalment(seq, day, part, interest))
        still_due -= part
        previous = day
    return tuple(out)


def explicit_instalments(
    schedule: Sequence[tuple[dt.date, Decimal]], minimum: Decimal
) -> tuple[Instalment, ...]:
    """Instalments the collector typed, checked against what they must cover.

    Raises:
        ValueError: dates out of order, an amount not above zero, or a total
            below `minimum`.
    """
    if not schedule:
        raise ValueError("a schedule needs at least one instalment")
    dates = [day for day, _amount in schedule]
    if dates != sorted(dates):
        raise ValueError("instalment dates must be in increasing order")
    if any(amount <= 0 for _day, amount in schedule):
        raise ValueError("every instalment must be above zero")
    total = sum((amount for _day, amount in schedule), ZERO)
    if total < minimum:
        raise ValueError(
            f"the instalments total {total}, the plan must cover {minimum}"
        )
    return tuple(
        Instalment(seq, day, amount)
        for seq, (day, amount) in enumerate(schedule, start=1)
    )


def match_payments(amounts: Sequence[Decimal], paid: Decimal) -> tuple[Decimal, ...]:
    """Spread `paid` over instalments oldest first (`amounts` in due-date order).

    Returns:
        What is paid of each instalment. Any overpayment stays on the last one,
        so nothing the customer paid disappears from the plan.
    """
    left = max(paid, ZERO)
    out: list[Decimal] = []
    for amount in amounts:
        part = min(amount, left)
        out.append(part)
        left -= part
    if out and left > 0:
        out[-1] += left
    return tuple(out)


def plan_paid(
    principal_paid: Decimal, principal: Decimal, plan_total: Decimal
) -> Decimal:
    """What a plan counts as paid when its items' remaining fell by `principal_paid`.

    With interest the schedule totals more than the principal; payments count
    for principal and interest pro rata, so paying every item keeps the plan.
    """
    if principal <= 0 or plan_total == principal:
        return max(principal_paid, ZERO)
    return quantize(max(principal_paid, ZERO) * plan_total / principal)


def kept_instalments(
    current: Sequence[Instalment], paid: Decimal
) -> tuple[Instalment, ...]:
    """What a new schedule keeps of the current one: the parts already paid.

    Instalments already paid are kept as they are; a partly paid one is kept
    for the part paid. Payments are matched oldest first, so they land on the
    kept instalments again in the new version.
    """
    matched = match_payments([i.amount for i in current], paid)
    kept: list[Instalment] = []
    for inst, part in zip(current, matched, strict=True):
        if part > 0:
            kept.append(Instalment(len(kept) + 1, inst.due_date, part, ZERO, part))
    return tuple(kept)


def append_instalments(
    kept: Sequence[Instalment], new: Sequence[Instalment]
) -> tuple[Instalment, ...]:
    """`kept` then `new`, numbered on from the kept ones.

    Raises:
        ValueError: a new instalment falls before the last kept one.
    """
    if kept and new and new[0].due_date < kept[-1].due_date:
        raise ValueError("the new instalments must come after those already paid")
    offset = len(kept)
    return (
        *kept,
        *(Instalment(offset + i.seq, i.due_date, i.principal, i.interest) for i in new),
    )


def reschedule(
    current: Sequence[Instalment],
    paid: Decimal,
    due_dates: Sequence[dt.date],
    *,
    annual_rate: Decimal | None = None,
    start: dt.date | None = None,
) -> tuple[Instalment, ...]:
    """A new version of a schedule: what was paid stays, the rest is split again.

    Raises:
        ValueError: as `split_instalments`, e.g. nothing is left to pay, or
            a new date before the last instalment already paid.
    """
    kept = kept_instalments(current, paid)
    left = sum((i.amount for i in current), ZERO) - sum((i.amount for i in kept), ZERO)
    new = split_instalments(left, due_dates, annual_rate=annual_rate, start=start)
    return append_instalments(kept, new)


def missed_instalments(
    due_dates: Sequence[dt.date],
    amounts: Sequence[Decimal],
    paid: Sequence[Decimal],
    today: dt.date,
    grace_days: int,
) -> tuple[int, ...]:
    """Indexes of instalments still unpaid after their due date plus `grace_days`."""
    limit = dt.timedelta(days=grace_days)
    return tuple(
        n
        for n, (day, amount, part) in enumerate(
            zip(due_dates, amounts, paid, strict=True)
        )
        if part < amount and today > day + limit
    )


def plan_outcome(
    due_dates: Sequence[dt.date],
    amounts: Sequence[Decimal],
    paid: Sequence[Decimal],
    today: dt.date,
    grace_days: int,
) -> PlanOutcome:
    """Kept when every instalment is paid, broken when one is missed, else running."""
    if all(part >= amount for amount, part in zip(amounts, paid, strict=True)):
        return PlanOutcome.KEPT
    if missed_instalments(due_dates, amounts, paid, today, grace_days):
        return PlanOutcome.BROKEN
    return PlanOutcome.RUNNING


# --- promises to pay ----------------------------------------------------------


def promise_deadline(promised_date: dt.date, grace_days: int) -> dt.date:
    """The last day a promise can still be kept; items stay suspended until then."""
    return promised_date + dt.timedelta(days=grace_days)


def promise_outcome(
    amount: Decimal,
    paid: Decimal,
    promised_date: dt.date,
    grace_days: int,
    today: dt.date,
    tolerance: Decimal = ZERO,
) -> PromiseOutcome:
    """Where a promise stands on `today`.

    Args:
        amount: the amount promised.
        paid: what was paid on the promised items since the promise was made.
        promised_date: the day the customer promised to pay.
        grace_days: days allowed after it (bank delays).
        today: the day of the review.
        tolerance: a shortfall this small still counts as kept.

    Returns:
        Kept as soon as the amount is paid, even before the date; after the
        deadline broken (nothing paid) or partly paid; otherwise pending.
    """
    if paid >= amount - tolerance:
        return PromiseOutcome.KEPT
    if today <= promise_deadline(promised_date, grace_days):
        return PromiseOutcome.PENDING
    return PromiseOutcome.PARTLY_PAID if paid > 0 else PromiseOutcome.BROKEN


@dataclass(frozen=True)
class PromiseRecord:
    """A past promise as the reliability figure counts it."""

    opened_on: dt.date
    status: CaseStatus


@dataclass(frozen=True)
class Reliability:
    """Promises kept against promises made (and decided) over a period.

    Attributes:
        kept: promises kept.
        made: promises kept or broken; open and cancelled ones are not counted.
        pending: promises still open, for information.
    """

    kept: int
    made: int
    pending: int = 0

    @property
    def ratio(self) -> Decimal | None:
        """Promises kept over promises made, None when none was decided."""
        if self.made == 0:
            return None
        return (Decimal(self.kept) / Decimal(self.made)).quantize(Decimal("0.01"))


def promise_reliability(
    records: Iterable[PromiseRecord], today: dt.date, months: int = RELIABILITY_MONTHS
) -> Reliability:
    """How often a customer kept its promises made over the last `months` months.

    A promise counts when it was made after the same day `months` months ago.
    """
    since = add_months(today, -months)
    kept = made = pending = 0
    for record in records:
        if not since < record.opened_on <= today:
            continue
        if record.status == CaseStatus.KEPT:
            kept += 1
            made += 1
        elif record.status == CaseStatus.BROKEN:
            made += 1
        elif record.status == CaseStatus.OPEN:
            pending += 1
    return Reliability(kept=kept, made=made, pending=pending)


# --- disputes -----------------------------------------------------------------


@dataclass(frozen=True)
class DisputedPart:
    """An item's disputed amount."""

    item_id: int
    amount: Decimal


@dataclass(frozen=True)
class ResolvedPart:
    """What a resolution does to one disputed item.

    Attributes:
        credit_expected: the justified part, to be cancelled by a credit note;
            the item stays out of dunning until the credit note arrives.
        back_to_dunning: the unjustified part, claimed again from the next step.
    """

    item_id: int
    credit_expected: Decimal
    back_to_dunning: Decimal

    @property
    def awaits_credit_note(self) -> bool:
        """Whether the item must stay out of dunning until a credit note."""
        return self.credit_expected > 0


def resolve_dispute(
    parts: Sequence[DisputedPart],
    outcome: DisputeOutcome,
    justified_amount: Decimal | None = None,
) -> tuple[ResolvedPart, ...]:
    """Split a dispute's items into what is credited and what is claimed again.

    Args:
        parts: the disputed items in the order they were listed.
        outcome: justified, unjustified or partly justified (`PAID` resolves
            with nothing credited and nothing claimed back).
        justified_amount: for a partly justified dispute, the amount the
            customer was right about; it is taken from the items in order.

    Returns:
        One `ResolvedPart` per item.

    Raises:
        ValueError: a partly justified outcome without an amount strictly
            between zero and the disputed total.
    """
    total = sum((p.amount for p in parts), ZERO)
    if outcome == DisputeOutcome.JUSTIFIED:
        credit = total
    elif outcome in (DisputeOutcome.UNJUSTIFIED, DisputeOutcome.PAID):
        credit = ZERO
    else:
        if justified_amount is None or not ZERO < justified_amount < total:
            raise ValueError(
                f"a partly justified dispute needs an amount between 0 and {total}"
            )
        credit = justified_amount
    out: list[ResolvedPart] = []
    for part in parts:
        mine = min(part.amount, credit)
        credit -= mine
        back = ZERO if outcome == DisputeOutcome.PAID else part.amount - mine
        out.append(ResolvedPart(part.item_id, mine, back))
    return tuple(out)


def needs_escalation(
    answer_due: dt.date | None,
    today: dt.date,
    *,
    answered_on: dt.date | None,
    escalated_on: dt.date | None,
) -> bool:
    """Whether an open dispute must be escalated to the credit manager today.

    A dispute escalates the day after its answer due date when its owner has
    not answered, once per due date: postponing the due date re-arms it.
    """
    if answer_due is None or answered_on is not None or today <= answer_due:
        return False
    return escalated_on is None or escalated_on <= answer_due


# --- values the services return -------------------------------------------------


@dataclass(frozen=True)
class CaseItemInfo:
    """An item covered by a case.

    Attributes:
        covered: the part of the item the case is about (the disputed amount,
            or what remained to pay when the promise or plan was made).
        credit_expected: for a resolved dispute, the credit note expected on
            the item (None while the dispute is open).
    """

    item_id: int
    number: str
    due_date: dt.date
    remaining: Decimal
    covered: Decimal
    currency: str
    disputed: bool
    in_litigation: bool
    suspended_until: dt.date | None
    credit_expected: Decimal | None = None


@dataclass(frozen=True)
class InstalmentInfo:
    """One instalment of one version of a payment plan."""

    plan_version: int
    seq: int
    due_date: dt.date
    amount: Decimal
    paid: Decimal

    @property
    def left(self) -> Decimal:
        """What is still to pay on it."""
        return max(self.amount - self.paid, ZERO)


@dataclass(frozen=True)
class CaseInfo:
    """A case as the client card and the CLI show it.

    `version` is what an edit must quote back: a case changed by a colleague
    in between refuses the edit with a `ConflictError`.
    """

    id: str
    number: str
    kind: CaseKind
    status: CaseStatus
    customer_id: int
    customer_reference: str
    customer_name: str
    opened_on: dt.date
    closed_on: dt.date | None
    owner: str | None
    amount: Decimal | None
    currency: str | None
    version: int
    updated_by: str | None
    promised_date: dt.date | None = None
    grace_days: int | None = None
    source: str | None = None
    reason: str | None = None
    answer_due: dt.date | None = None
    resolution: str | None = None
    stage: str | None = None
    partner: str | None = None
    fees: Decimal | None = None
    comment: str | None = None
    items: tuple[CaseItemInfo, ...] = ()
    instalments: tuple[InstalmentInfo, ...] = ()

    @property
    def label(self) -> str:
        """E.g. "Promise to pay N°6437" (kind label marked for translation)."""
        return f"{CASE_KIND_LABELS[self.kind]} N°{self.number}"

    @property
    def plan_version(self) -> int | None:
        """The current version of a payment plan's schedule."""
        return self.instalments[-1].plan_version if self.instalments else None


@dataclass(frozen=True)
class CaseActionInfo:
    """An action of a case's timeline."""

    id: str
    planned_date: dt.date
    action_type: ActionType
    status: ActionStatus
    subject: str | None
    event: str | None
    assigned_to: str | None
    comment: str | None


@dataclass(frozen=True)
class NotificationInfo:
    """A message to a colleague, with the customer and action it is about."""

    id: str
    user: str
    sender: str | None
    message: str
    customer_id: int | None
    action_id: str | None
    created_at: dt.datetime
    read: bool


@dataclass(frozen=True)
class ReviewReport:
    """What `review_due_cases` decided on one day (ids are case numbers)."""

    today: dt.date
    promises_kept: tuple[str, ...] = ()
    promises_broken: tuple[str, ...] = ()
    plans_kept: tuple[str, ...] = ()
    plans_broken: tuple[str, ...] = ()
    disputes_paid: tuple[str, ...] = ()
    disputes_escalated: tuple[str, ...] = ()
    disputes_closed: tuple[str, ...] = ()
    customer_holds_lifted: tuple[str, ...] = ()
    item_holds_lifted: int = 0
    actions_created: int = 0
    notifications_sent: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was written."""
        return any(
            (
                self.promises_kept,
                self.promises_broken,
                self.plans_kept,
                self.plans_broken,
                self.disputes_paid,
                self.disputes_escalated,
                self.disputes_closed,
                self.customer_holds_lifted,
                self.item_holds_lifted,
            )
        )
