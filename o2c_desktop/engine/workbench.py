"""The collector's workbench: agenda columns, client card, timeline, perform.

Frozen values the workbench service fills from SQL aggregates and the UI
adapts, plus the few pure rules behind them: which days the agenda shows, a
day's completion, the customer's DSO (countback) and the alerts of a line.
No SQLAlchemy and no clock: `today` is always a parameter.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import TYPE_CHECKING

from o2c_desktop.i18n import N_

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from o2c_desktop.engine.book import UserInfo
    from o2c_desktop.engine.cases import Reliability
    from o2c_desktop.engine.types import (
        ActionStatus,
        ActionType,
        CaseKind,
        CaseStatus,
        DocumentKind,
        ItemKind,
        ItemStatus,
    )

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
AGENDA_DAYS = 2  # today and the next working day, as in the seed
DSO_PERIOD_DAYS = 30
DSO_PERIODS = 12  # the countback looks back 360 days at most
BROKEN_PROMISE_ALERT_DAYS = 30
RISKY_CLASSES = frozenset({"D", "E", "HIGH", "C-"})
RISKY_SCORE = 3.0  # scores run from 0 (bad) to 10 (good)


# --- agenda -------------------------------------------------------------------


class AlertKind(StrEnum):
    """Why a line of the agenda needs attention."""

    BROKEN_PROMISE = "broken_promise"
    DISPUTE_PAST_DUE = "dispute_past_due"
    FAILED_SEND = "failed_send"
    RISK = "risk"


ALERT_LABELS: dict[AlertKind, str] = {
    AlertKind.BROKEN_PROMISE: N_("Broken promise"),
    AlertKind.DISPUTE_PAST_DUE: N_("Dispute past its answer date"),
    AlertKind.FAILED_SEND: N_("Sending failed"),
    AlertKind.RISK: N_("Risk alert"),
}


@dataclass(frozen=True)
class Alert:
    """One reason a line needs attention, with its detail (untranslated data)."""

    kind: AlertKind
    detail: str | None = None


@dataclass(frozen=True)
class CustomerSignals:
    """What the alerts of a customer are computed from (one SQL row each).

    Attributes:
        broken_promise_on: the last promise or plan broken recently, if any.
        dispute_due: the oldest answer date of the customer's open disputes.
        risk_score: 0 (bad) to 10 (good), None when unknown.
    """

    broken_promise_on: dt.date | None = None
    dispute_due: dt.date | None = None
    risk_score: float | None = None
    risk_class: str | None = None
    insolvency: str | None = None


def alerts_for(
    signals: CustomerSignals, today: dt.date, failed_reason: str | None = None
) -> tuple[Alert, ...]:
    """The alerts of an agenda line, most urgent first.

    Args:
        signals: what is known about the customer.
        today: the day the agenda is shown for.
        failed_reason: why the action's automatic send failed, if it did.
    """
    found: list[Alert] = []
    if failed_reason:
        found.append(Alert(AlertKind.FAILED_SEND, failed_reason))
    if (
        signals.broken_promise_on is not None
        and (today - signals.broken_promise_on).days <= BROKEN_PROMISE_ALERT_DAYS
    ):
        found.append(
            Alert(AlertKind.BROKEN_PROMISE, signals.broken_promise_on.isoformat())
        )
    if signals.dispute_due is not None and signals.dispute_due < today:
        found.append(Alert(AlertKind.DISPUTE_PAST_DUE, signals.dispute_due.isoformat()))
    risky = (
        signals.insolvency
        or (signals.risk_class or "").upper() in RISKY_CLASSES
        or (signals.risk_score is not None and signals.risk_score < RISKY_SCORE)
    )
    if risky:
        detail = signals.insolvency or signals.risk_class
        if detail is None and signals.risk_score is not None:
            detail = f"{signals.risk_score:.1f}/10"
        found.append(Alert(AlertKind.RISK, detail))
    return tuple(found)


@dataclass(frozen=True)
class AgendaLine:
    """An action in a day column of the agenda.

    Attributes:
        days_late: days past due of the customer's oldest unpaid item.
        dso: the customer's DSO in days (countback), None without sales.
        amount: the amount at stake (claimed by the action, else overdue).
    """

    action_id: str
    planned_date: dt.date
    action_type: ActionType
    status: ActionStatus
    automatic: bool
    subject: str | None
    customer_id: int
    customer_reference: str
    customer_name: str
    days_late: int | None
    dso: int | None
    amount: Decimal | None
    currency: str | None
    alerts: tuple[Alert, ...] = ()
    assignee: str | None = None

    def is_late(self, today: dt.date) -> bool:
        """Planned before `today` and still waiting."""
        return self.planned_date < today


@dataclass(frozen=True)
class DayColumn:
    """One day of the agenda: its waiting lines and how much is done.

    Attributes:
        waiting: actions still to do in this column (loaded or not).
        done: actions of this column already performed.
    """

    day: dt.date
    lines: tuple[AgendaLine, ...]
    waiting: int
    done: int

    @property
    def completion(self) -> int:
        """Percentage done, 0 to 100 (100 for an empty day)."""
        return completion(self.done, self.waiting)


@dataclass(frozen=True)
class WorkAgenda:
    """A collector's agenda by day, and the automatic actions to confirm.

    Attributes:
        owner: whose agenda it is.
        truncated: more lines wait than were loaded.
    """

    today: dt.date
    owner: UserInfo | None
    columns: tuple[DayColumn, ...]
    to_confirm: tuple[AgendaLine, ...] = ()
    truncated: bool = False

    @property
    def lines(self) -> tuple[AgendaLine, ...]:
        """Every waiting line in the order the collector works them."""
        return tuple(line for c in self.columns for line in c.lines)

    def next_after(self, action_id: str) -> AgendaLine | None:
        """The line after `action_id` (the first line if it is not shown)."""
        lines = self.lines
        ids = [line.action_id for line in lines]
        if action_id in ids:
            index = ids.index(action_id) + 1
            return lines[index] if index < len(lines) else None
        return lines[0] if lines else None


def completion(done: int, waiting: int) -> int:
    """Done over done plus waiting, as a whole percentage (rounded down)."""
    total = done + waiting
    if total == 0:
        return 100
    return done * 100 // total


def agenda_days(
    today: dt.date, count: int, is_working_day: Callable[[dt.date], bool]
) -> tuple[dt.date, ...]:
    """Today and the next working days, `count` days in all.

    Today is always shown, even on a weekend: late actions wait there.
    """
    days = [today]
    day = today
    while len(days) < count:
        day += dt.timedelta(days=1)
        if is_working_day(day):
            days.append(day)
    return tuple(days)


def column_of(planned: dt.date, days: Sequence[dt.date]) -> dt.date | None:
    """The column an action planned on `planned` goes to, None past the last.

    Late actions join today (the first column); an action planned on a
    non-working day joins the next column shown.
    """
    for day in days:
        if planned <= day:
            return day
    return None


# --- DSO ----------------------------------------------------------------------


def countback_dso(
    outstanding: Decimal,
    revenue_by_period: Sequence[Decimal],
    period_days: int = DSO_PERIOD_DAYS,
) -> int | None:
    """Days sales outstanding by the countback method.

    Walks back from today one period at a time (newest first): a period whose
    sales the outstanding still exceeds counts whole; the last one counts for
    the share of its sales still unpaid. Capped at the periods given.

    Args:
        outstanding: what the customer owes now.
        revenue_by_period: sales invoiced (incl. tax) per period, newest first.
        period_days: length of a period.

    Returns:
        Whole days, 0 when nothing is owed, None when nothing was sold in the
        periods and something is owed.
    """
    if outstanding <= 0:
        return 0
    if not any(r > 0 for r in revenue_by_period):
        return None
    left = outstanding
    days = Decimal(0)
    for revenue in revenue_by_period:
        if revenue <= 0:
            days += period_days
            continue
        if left > revenue:
            left -= revenue
            days += period_days
            continue
        days += Decimal(period_days) * left / revenue
        return int(days.to_integral_value())
    return int(days)


# --- client card --------------------------------------------------------------


@dataclass(frozen=True)
class ContactInfo:
    """A person at the customer, as the card shows and edits them."""

    id: str
    name: str
    role: str | None
    function: str | None
    language: str | None
    phone: str | None
    mobile: str | None
    email: str | None
    is_dunning_contact: bool
    version: int


@dataclass(frozen=True)
class ContactDraft:
    """A contact being added (`id` None) or edited (the `version` seen)."""

    name: str
    id: str | None = None
    version: int | None = None
    role: str | None = None
    function: str | None = None
    language: str | None = None
    phone: str | None = None
    mobile: str | None = None
    email: str | None = None
    is_dunning_contact: bool = False


@dataclass(frozen=True)
class Choice:
    """An id and the name users pick it by (scenario, collector)."""

    id: int
    name: str


@dataclass(frozen=True)
class DunningSettings:
    """How a customer is dunned: start date, type, scenario, collector.

    Attributes:
        version: the customer's version, quoted back when saving.
        editable: the current user may change them (credit manager, admin).
    """

    start: dt.date | None
    dunning_type: str | None
    scenario: Choice | None
    collector: Choice | None
    version: int
    editable: bool = False
    scenarios: tuple[Choice, ...] = ()
    collectors: tuple[Choice, ...] = ()


@dataclass(frozen=True)
class SettingsDraft:
    """New dunning settings of a customer, based on the version seen."""

    customer_id: int
    version: int
    start: dt.date | None
    dunning_type: str | None
    scenario_id: int | None
    collector_id: int | None


@dataclass(frozen=True)
class Amounts:
    """The "Calculs des montants" block, in the customer's currency.

    `total` is the gross amount of open debit items; `outstanding` is what is
    owed: total - partial payments - unapplied payments.
    """

    currency: str
    total: Decimal
    overdue: Decimal
    partial_payments: Decimal
    unapplied: Decimal
    disputed: Decimal
    litigation: Decimal
    outstanding: Decimal
    dso: int | None
    open_items: int
    days_late: int | None


@dataclass(frozen=True)
class DocumentInfo:
    """A stored file of the customer or of an action (content not loaded)."""

    id: str
    filename: str
    kind: DocumentKind
    created_at: dt.datetime
    action_id: str | None = None


@dataclass(frozen=True)
class CustomerCard:
    """Everything the client card shows above its tables."""

    id: int
    reference: str
    name: str
    portfolio: str | None
    entity: str
    legal_id: str | None
    vat_number: str | None
    address: tuple[str, ...]
    phone: str | None
    email: str | None
    language: str | None
    category: str | None
    payment_terms_days: int | None
    credit_limit: Decimal | None
    contacts: tuple[ContactInfo, ...]
    settings: DunningSettings
    amounts: Amounts
    attachments: tuple[DocumentInfo, ...]
    reliability: Reliability
    on_hold: bool = False
    hold_reason: str | None = None
    hold_until: dt.date | None = None
    risk_score: float | None = None
    risk_class: str | None = None
    insolvency: str | None = None
    entity_code: str = ""

    @property
    def dunning_contact(self) -> ContactInfo | None:
        """The contact reminders go to (the first one if none is marked)."""
        for contact in self.contacts:
            if contact.is_dunning_contact:
                return contact
        return self.contacts[0] if self.contacts else None


# --- items ---------------------------------------------------------------------


class ItemSort(StrEnum):
    """Columns the invoice table sorts by."""

    NUMBER = "number"
    AMOUNT = "amount"
    CURRENCY = "currency"
    ISSUE_DATE = "issue_date"
    DUE_DATE = "due_date"
    DAYS_LATE = "days_late"
    DUNNING_STATUS = "dunning_status"
    STATUS_DATE = "status_date"
    PAID = "paid"
    REMAINING = "remaining"


@dataclass(frozen=True)
class ItemQuery:
    """Which items a table page shows, in which order.

    Attributes:
        kinds: only these kinds (empty: every kind).
        open_only: only items with something left to pay or apply.
        overdue_only: only items past due.
        search: part of the number or of the reference.
    """

    offset: int = 0
    limit: int = 50
    sort: ItemSort = ItemSort.DUE_DATE
    descending: bool = False
    kinds: tuple[ItemKind, ...] = ()
    open_only: bool = False
    overdue_only: bool = False
    search: str = ""


@dataclass(frozen=True)
class ItemRow:
    """One line of the invoices or open-items table."""

    id: int
    number: str
    kind: ItemKind
    amount: Decimal
    currency: str
    issue_date: dt.date
    due_date: dt.date
    days_late: int | None
    dunning_status: str | None
    status_date: dt.date | None
    paid: Decimal
    remaining: Decimal
    status: ItemStatus
    disputed: bool = False
    in_litigation: bool = False
    has_pdf: bool = False
    # The payment model's expected pay date of an open item (#21).
    expected_pay_date: dt.date | None = None


@dataclass(frozen=True)
class ItemPage:
    """A page of items and how many match the query."""

    query: ItemQuery
    rows: tuple[ItemRow, ...]
    total: int


# --- timeline --------------------------------------------------------------------


class TimelineTab(StrEnum):
    """The three tabs of the timeline."""

    DUNNING = "dunning"
    DISPUTES = "disputes"
    LITIGATION = "litigation"


@dataclass(frozen=True)
class TimelineEntry:
    """One exchange with the customer, as the timeline shows it.

    Attributes:
        day: when it happened (performed) or is planned.
        by: who did it or must do it; None for "automatic".
        items: numbers of the items concerned (at most a few).
        item_count: how many items in all.
        documents: the stored files of the action.
    """

    action_id: str
    day: dt.date
    by: str | None
    automatic: bool
    created_on: dt.date
    action_type: ActionType
    subject: str | None
    status: ActionStatus
    assignee: str | None
    performed_on: dt.date | None
    performer: str | None
    contact: str | None
    items: tuple[str, ...]
    item_count: int
    documents: tuple[DocumentInfo, ...] = ()
    case_number: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class TimelinePage:
    """A page of one tab of the timeline, newest first, and the tab sizes."""

    tab: TimelineTab
    entries: tuple[TimelineEntry, ...]
    total: int
    counts: dict[TimelineTab, int] = field(default_factory=dict)


# --- action processing -------------------------------------------------------------


@dataclass(frozen=True)
class ActionDetail:
    """The summary of an action ("Résumé") and what performing it needs."""

    id: str
    number: str
    customer_id: int
    customer_reference: str
    customer_name: str
    action_type: ActionType
    status: ActionStatus
    automatic: bool
    planned_date: dt.date
    subject: str | None
    level: str | None
    case_id: str | None
    case_number: str | None
    case_kind: CaseKind | None
    case_status: CaseStatus | None
    case_version: int | None
    created_on: dt.date
    created_by: str | None
    assignee: str | None
    assignee_id: int | None
    contact: ContactInfo | None
    items: tuple[ItemRow, ...]
    amount: Decimal | None
    currency: str | None
    performed_on: dt.date | None
    performer: str | None
    comment: str | None
    reason: str | None
    version: int
    documents: tuple[DocumentInfo, ...] = ()
    instalments: tuple[str, ...] = ()  # "instalment 2": a plan's reminder

    @property
    def is_open(self) -> bool:
        """Still waiting to be performed."""
        return self.status.value in ("pending", "to_confirm")


# A scheme of two letters at least: "C:/..." stays a Windows path.
_ADDRESS = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_address(location: str) -> bool:
    """Whether a stored file location is an address (``https://``), not a path."""
    return bool(_ADDRESS.match(location))


def action_number(action_id: str) -> str:
    """The short number users quote for an action (its id's first 8 digits)."""
    return action_id.replace("-", "")[:8].upper()


class CallOutcome(StrEnum):
    """What performing an action gave (calls have the full list)."""

    DONE = "done"  # a task, letter or email performed
    REACHED = "reached"
    NOT_REACHED = "not_reached"
    PROMISE = "promise"
    DISPUTE = "dispute"
    CALL_BACK = "call_back"
    PAYMENT_PLAN = "payment_plan"


OUTCOME_LABELS: dict[CallOutcome, str] = {
    CallOutcome.DONE: N_("Done"),
    CallOutcome.REACHED: N_("Reached, nothing agreed"),
    CallOutcome.NOT_REACHED: N_("Not reached"),
    CallOutcome.PROMISE: N_("Promise to pay"),
    CallOutcome.DISPUTE: N_("Dispute opened"),
    CallOutcome.CALL_BACK: N_("Call back"),
    CallOutcome.PAYMENT_PLAN: N_("Payment plan proposed"),
}


@dataclass(frozen=True)
class PerformRequest:
    """Performing an action: the outcome and what it needs, and who to notify.

    Attributes:
        version: the action's version the user saw.
        promise_amount: None promises the items' whole remaining.
        dispute_item_ids: None disputes the action's items.
        notify: logins of the colleagues to notify.
    """

    action_id: str
    version: int
    outcome: CallOutcome
    comment: str = ""
    contact_id: str | None = None
    promise_amount: Decimal | None = None
    promise_date: dt.date | None = None
    dispute_reason: str | None = None
    dispute_item_ids: tuple[int, ...] | None = None
    call_back_on: dt.date | None = None
    plan_count: int | None = None
    plan_first_due: dt.date | None = None
    notify: tuple[str, ...] = ()
    notify_message: str | None = None

    def problems(self, today: dt.date) -> tuple[str, ...]:
        """What is missing or wrong, in English (translated when shown)."""
        found: list[str] = []
        if self.outcome == CallOutcome.PROMISE:
            if self.promise_date is None:
                found.append(N_("Give the date the customer will pay."))
            elif self.promise_date < today:
                found.append(N_("The promised date is in the past."))
            if self.promise_amount is not None and self.promise_amount <= 0:
                found.append(N_("The amount promised must be above zero."))
        if self.outcome == CallOutcome.DISPUTE and not self.dispute_reason:
            found.append(N_("Choose the reason of the dispute."))
        if self.outcome == CallOutcome.CALL_BACK and (
            self.call_back_on is None or self.call_back_on < today
        ):
            found.append(N_("Give a day to call back, today or later."))
        if self.outcome == CallOutcome.PAYMENT_PLAN and (
            not self.plan_count
            or self.plan_count < 1
            or self.plan_first_due is None
            or self.plan_first_due < today
        ):
            found.append(N_("Give the number of instalments and the first due date."))
        return tuple(found)


@dataclass(frozen=True)
class NewAction:
    """A manual action created from the timeline ("+ Nouvelle action")."""

    customer_id: int
    action_type: ActionType
    planned_date: dt.date
    subject: str | None = None
    assignee_id: int | None = None
    contact_id: str | None = None
    comment: str | None = None


@dataclass(frozen=True)
class ActionEdit:
    """An edit of a waiting action (date, assignee, contact, subject)."""

    action_id: str
    version: int
    planned_date: dt.date
    assignee_id: int | None
    contact_id: str | None
    subject: str | None


@dataclass(frozen=True)
class ConfirmPreview:
    """What confirming some automatic actions would send."""

    lines: tuple[AgendaLine, ...]
    totals: dict[str, Decimal]

    @property
    def count(self) -> int:
        """Number of actions."""
        return len(self.lines)


@dataclass(frozen=True)
class PerformResult:
    """An action after it was performed.

    Attributes:
        case_number: the case the outcome opened (promise, dispute, plan).
        call_back_id: the call planned to call back, if any.
        notified: colleagues notified.
    """

    action: ActionDetail
    case_number: str | None = None
    call_back_id: str | None = None
    notified: int = 0


@dataclass(frozen=True)
class ConfirmResult:
    """Automatic actions confirmed: sent (or queued) and those that failed.

    Attributes:
        confirmed: actions sent, or queued for the sender.
        failed: (action number, reason) of those that could not be sent.
    """

    confirmed: int
    failed: tuple[tuple[str, str], ...] = ()


MESSAGE_TYPES = frozenset(
    {"email", "letter", "registered_letter"}
)  # ActionType values that open the message editor
# Where the items table goes in an edited text (the template's TABLE_MARK).
ITEMS_TABLE_FIELD = "[[ITEMS_TABLE]]"


@dataclass(frozen=True)
class MessageDraft:
    """A letter or email action ready to edit in the message editor.

    Attributes:
        action_id: the action.
        email: True for an email (subject and recipients apply).
        language: the language the template was rendered in.
        template_code: the template used.
        recipients: where the email goes (empty for a letter).
        subject: the subject, in the customer's language.
        body: the template rendered with its merge fields: paragraphs separated
            by blank lines, with the template's tags (``<b>``…) and the items
            table mark.
        generated: the PDFs produced for the action (letter, statements).
        stored: the customer's other documents that may be attached.
        note: set when the template fell back to another language.
        reason: why the last send failed, if it did.
        done: the action was already performed (documents are evidence).
    """

    action_id: str
    email: bool
    language: str
    template_code: str
    recipients: tuple[str, ...]
    subject: str
    body: str
    generated: tuple[DocumentInfo, ...]
    stored: tuple[DocumentInfo, ...] = ()
    note: str | None = None
    reason: str | None = None
    done: bool = False


@dataclass(frozen=True)
class MessageOutcome:
    """What became of a message: sent, saved as .eml, or not sent (with why).

    Attributes:
        sent: the email left (or the letter was recorded as sent); the action
            is done.
        reason: why it was not sent; the action stays pending with it.
        eml_path: where the .eml draft was written.
        attachments: the files the message carried.
        action: the action afterwards.
    """

    action_id: str
    sent: bool
    reason: str | None = None
    eml_path: str | None = None
    attachments: tuple[str, ...] = ()
    action: ActionDetail | None = None


@dataclass(frozen=True)
class CustomerHit:
    """A customer found by the quick search (Ctrl+K).

    Attributes:
        matched: what matched when it is not the name or reference, e.g.
            "SIREN 552100554" or "invoice F-2024-118".
    """

    customer_id: int
    reference: str
    name: str
    matched: str | None = None

    @property
    def label(self) -> str:
        """``18981 - Monnier et Fils`` (plus what matched)."""
        text = f"{self.reference} - {self.name}"
        return f"{text} ({self.matched})" if self.matched else text
