"""What the views show of the book: frozen value objects and aged-balance buckets.

Services fill these from SQL aggregates; the UI adapts them in item models.
They live in the engine (pure, no SQLAlchemy) so the UI can name them without
depending on the database layer.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c_desktop.i18n import N_

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable

    from o2c_desktop.engine.types import ActionStatus, ActionType, Role, StepMode

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")


@dataclass(frozen=True)
class AgingBucket:
    """An age range of the aged balance, in days past the due date.

    Attributes:
        label: the range as users read it (marked for translation).
        low: first day of the range, None for "not due".
        high: last day of the range, None when open-ended.
    """

    label: str
    low: int | None
    high: int | None


# Days past due: "not due" covers every item due today or later.
AGING_BUCKETS: tuple[AgingBucket, ...] = (
    AgingBucket(N_("Not due"), None, 0),
    AgingBucket(N_("1-30 days"), 1, 30),
    AgingBucket(N_("31-60 days"), 31, 60),
    AgingBucket(N_("61-90 days"), 61, 90),
    AgingBucket(N_("91-180 days"), 91, 180),
    AgingBucket(N_("> 180 days"), 181, None),
)


def bucket_index(days_late: int) -> int:
    """The index in `AGING_BUCKETS` of an item `days_late` days past due."""
    for index, bucket in enumerate(AGING_BUCKETS):
        if bucket.high is None or days_late <= bucket.high:
            return index
    raise AssertionError("the last bucket is open-ended")


@dataclass(frozen=True)
class UserInfo:
    """A user of the app as the status bar and pickers show them."""

    id: int
    login: str
    full_name: str
    role: Role


@dataclass(frozen=True)
class CustomerRow:
    """One line of the customer list, with its amounts on a given day.

    Attributes:
        days_late: days past due of the customer's oldest unpaid item, None when
            nothing is overdue.
        entity: the code of the customer's entity.
    """

    id: int
    reference: str
    name: str
    legal_id: str | None
    portfolio: str | None
    collector: str | None
    currency: str
    outstanding: Decimal
    overdue: Decimal
    days_late: int | None
    entity: str = ""


@dataclass(frozen=True)
class CustomerPage:
    """A slice of the customer list and the size of the whole list."""

    offset: int
    rows: tuple[CustomerRow, ...]
    total: int


@dataclass(frozen=True)
class AgendaEntry:
    """An action waiting in a collector's agenda."""

    action_id: str
    planned_date: dt.date
    action_type: ActionType
    status: ActionStatus
    subject: str | None
    customer_id: int
    customer_reference: str
    customer_name: str
    days_late: int | None
    amount: Decimal | None
    currency: str | None

    def is_late(self, today: dt.date) -> bool:
        """Whether the action was planned before `today` and is still waiting."""
        return self.planned_date < today


@dataclass(frozen=True)
class AgendaDay:
    """The actions shown under one day of the agenda."""

    day: dt.date
    entries: tuple[AgendaEntry, ...]


@dataclass(frozen=True)
class Agenda:
    """A collector's pending actions grouped by day, late ones on top of today.

    Attributes:
        truncated: more actions wait than were loaded (`limit` reached).
    """

    today: dt.date
    days: tuple[AgendaDay, ...]
    truncated: bool = False

    @property
    def count(self) -> int:
        """Number of actions loaded."""
        return sum(len(d.entries) for d in self.days)


def group_agenda(
    entries: Iterable[AgendaEntry], today: dt.date, *, truncated: bool = False
) -> Agenda:
    """Group `entries` by planned day; actions planned before `today` join today.

    Late actions come first in today's group, oldest first, so nothing
    overdue hides below the day's new work.
    """
    by_day: dict[dt.date, list[AgendaEntry]] = {}
    for entry in entries:
        by_day.setdefault(max(entry.planned_date, today), []).append(entry)
    days = []
    for day in sorted(by_day):
        ordered = sorted(
            by_day[day], key=lambda e: (e.planned_date, e.customer_name.casefold())
        )
        days.append(AgendaDay(day, tuple(ordered)))
    return Agenda(today=today, days=tuple(days), truncated=truncated)


@dataclass(frozen=True)
class ScenarioInfo:
    """A scenario in the list of scenarios."""

    id: int
    name: str
    description: str | None
    default_language: str
    active: bool
    step_count: int
    customer_count: int


@dataclass(frozen=True)
class StepInfo:
    """One step of a scenario, as its table shows it."""

    id: int
    name: str
    offset_days: int
    action_type: ActionType
    mode: StepMode
    template_code: str | None
    attach_statement: bool
    attach_interest: bool


@dataclass(frozen=True)
class AgingLine:
    """One bucket of the aged balance: amount and number of open items."""

    bucket: AgingBucket
    amount: Decimal
    count: int


@dataclass(frozen=True)
class BookSummary:
    """The book in one currency on a given day.

    Attributes:
        customers: customers with at least one open item.
    """

    currency: str
    as_of: dt.date
    outstanding: Decimal
    overdue: Decimal
    open_items: int
    customers: int
    aging: tuple[AgingLine, ...]


@dataclass(frozen=True)
class ConnectionReport:
    """What a connection test found, without changing anything.

    Attributes:
        state: "ready" (current schema), "upgrade" (older schema, upgraded when
            opened), "empty" (reachable, no tables yet) or "new" (an SQLite
            file that does not exist yet).
        users: the database's active users, when its schema is current.
    """

    description: str
    state: str
    users: tuple[UserInfo, ...] = ()
