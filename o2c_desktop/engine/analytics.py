"""Pure computations behind the dashboards: buckets, DSO, CEI, days delinquent.

Clock-free (`today` is a parameter) and free of the database: the dashboard
service reads columns and hands them here. Day numbers are days since
1970-01-01 (numpy ``datetime64[D]`` as integers), so ages are integer
subtractions on whole columns, never date arithmetic per row.

Definitions (shown in the dashboards' help, issue #8):

- **DSO, countback method** (default): start from the receivables at the end
  of a month and walk back month by month, subtracting each month's revenue,
  adding that month's days, until the receivables are used up; the last month
  counts in proportion. It follows the actual invoicing, so a seasonal peak
  does not distort it.
- **DSO, standard method**: receivables / revenue of the last three months x
  the days of those three months.
- **CEI** (collection effectiveness index), for a month: (receivables at the
  start + revenue - receivables at the end) / (receivables at the start +
  revenue - current receivables at the end) x 100. 100 % means everything
  collectable was collected.
- **Average days delinquent** (ADD): DSO - best possible DSO, the best possible
  DSO being the same method applied to the receivables not yet due.
"""

from __future__ import annotations

import calendar
import datetime as dt
import itertools
import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from o2c_desktop.i18n import N_

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import numpy.typing as npt

    IntArray = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

ZERO = Decimal("0.00")
# Upper bounds (days past due) of the default buckets: not due, 1-30, 31-60,
# 61-90, 91-180, > 180. The credit manager may change them; they are saved.
DEFAULT_BUCKET_LIMITS: tuple[int, ...] = (0, 30, 60, 90, 180)
DSO_METHODS = ("countback", "standard")
STANDARD_MONTHS = 3
EPOCH = dt.date(1970, 1, 1)


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - EPOCH).days


def from_day_number(n: int) -> dt.date:
    """The date of a day number."""
    return EPOCH + dt.timedelta(days=int(n))


def parse_bucket_limits(text: str) -> tuple[int, ...]:
    """Bucket limits from "0, 30, 60" (increasing, the first one 0).

    Raises:
        ValueError: not increasing integers starting at 0.
    """
    limits = tuple(int(p) for p in text.replace(";", ",").split(",") if p.strip())
    if not limits or limits[0] != 0 or list(limits) != sorted(set(limits)):
        raise ValueError("bucket limits must be increasing whole days, starting at 0")
    return limits


def bucket_labels(limits: Sequence[int]) -> tuple[str, ...]:
    """Short labels of the buckets: "Not due", "1-30", ..., "> 180"."""
    labels = [N_("Not due")]
    for low, high in itertools.pairwise(limits):
        labels.append(f"{low + 1}\u2013{high}")
    labels.append(f"> {limits[-1]}")
    return tuple(labels)


def issue_bucket_labels(limits: Sequence[int]) -> tuple[str, ...]:
    """Labels of the buckets by invoice date: "0-30", "31-60", ..., "> 180"."""
    inner = limits[1:] or (30,)
    labels = [f"0\u2013{inner[0]}"]
    for low, high in itertools.pairwise(inner):
        labels.append(f"{low + 1}\u2013{high}")
    labels.append(f"> {inner[-1]}")
    return tuple(labels)


def issue_bucket_of(age: IntArray, limits: Sequence[int]) -> IntArray:
    """The bucket of each age in days since the invoice date (0 = issued today)."""
    return bucket_of(age, limits[1:] or (30,))


def bucket_of(days_late: IntArray, limits: Sequence[int]) -> IntArray:
    """The bucket index of each age in days past due (0 = not due)."""
    import numpy as np

    out: IntArray = np.searchsorted(
        np.asarray(limits, dtype=np.int64), days_late, side="left"
    ).astype(np.int64)
    return out


def month_end(day: dt.date) -> dt.date:
    """The last day of `day`'s month."""
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


def month_key(day: dt.date) -> str:
    """The key of `day`'s month, e.g. "2026-03"."""
    return f"{day.year:04d}-{day.month:02d}"


def last_months(today: dt.date, count: int) -> tuple[str, ...]:
    """The keys of the `count` months ending with `today`'s, oldest first."""
    year, month = today.year, today.month
    keys = []
    for _i in range(count):
        keys.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return tuple(reversed(keys))


def days_in_month(key: str) -> int:
    """Days of the month "2026-02"."""
    year, month = (int(p) for p in key.split("-"))
    return calendar.monthrange(year, month)[1]


def dso_countback(
    receivables: Decimal, revenue: Sequence[Decimal], days: Sequence[int]
) -> Decimal | None:
    """DSO by the countback method.

    Args:
        receivables: outstanding at the end of the last month.
        revenue: revenue of each month, the most recent first.
        days: the days of each of those months.

    Returns:
        Days, one decimal; None when the months' revenue can't cover the
        receivables (not enough history) or there is nothing to count.
    """
    if receivables <= 0:
        return Decimal("0.0")
    left = receivables
    total = Decimal(0)
    for month_revenue, month_days in zip(revenue, days, strict=True):
        if month_revenue <= 0:
            total += month_days
            continue
        if left <= month_revenue:
            total += Decimal(month_days) * left / month_revenue
            return total.quantize(Decimal("0.1"), ROUND_HALF_UP)
        left -= month_revenue
        total += month_days
    return None


def dso_standard(
    receivables: Decimal, revenue: Sequence[Decimal], days: Sequence[int]
) -> Decimal | None:
    """DSO by the standard method over the months given (usually three).

    Returns:
        receivables / revenue x days, one decimal; None without revenue.
    """
    sales = sum(revenue, Decimal(0))
    if sales <= 0:
        return None
    return (receivables / sales * sum(days)).quantize(Decimal("0.1"), ROUND_HALF_UP)


def dso(
    method: str, receivables: Decimal, revenue: Sequence[Decimal], days: Sequence[int]
) -> Decimal | None:
    """DSO by `method` ("countback" or "standard", see the module docstring)."""
    if method == "standard":
        n = STANDARD_MONTHS
        return dso_standard(receivables, revenue[:n], days[:n])
    return dso_countback(receivables, revenue, days)


def cei(
    begin: Decimal, revenue: Decimal, end: Decimal, end_current: Decimal
) -> Decimal | None:
    """Collection effectiveness index of a period, in percent (one decimal).

    Args:
        begin: receivables at the start of the period.
        revenue: revenue invoiced in the period.
        end: receivables at the end.
        end_current: receivables at the end that are not yet due.
    """
    collectable = begin + revenue - end_current
    if collectable <= 0:
        return None
    value = (begin + revenue - end) / collectable * 100
    return value.quantize(Decimal("0.1"), ROUND_HALF_UP)


@dataclass(frozen=True)
class DashboardFilter:
    """What the dashboards show: every field narrows the book; None = all.

    Attributes:
        month: "2026-03", the month the revenue, team and cash dashboards end on.
        as_of: the position date (a snapshot date, or today).
        customer_ids: one or a few customers.
        options: per-dashboard choices, e.g. ``{"basis": "issue"}``.
    """

    entity_id: int | None = None
    portfolio_id: int | None = None
    collector_id: int | None = None
    customer_ids: tuple[int, ...] = ()
    month: str | None = None
    as_of: dt.date | None = None
    bucket_limits: tuple[int, ...] = DEFAULT_BUCKET_LIMITS
    options: Mapping[str, str] = field(default_factory=dict)

    def option(self, key: str, default: str) -> str:
        """One dashboard option, `default` when not set."""
        return str(self.options.get(key, default))


@dataclass(frozen=True)
class Series:
    """One series of a chart.

    Attributes:
        name: English, marked for translation; the legend.
        values: one per category (money as Decimal, counts and days too).
        kind: "bar" (bars of a chart stack) or "line".
        axis: "left" or "right" (a second scale: days, percent).
    """

    name: str
    values: tuple[Decimal | None, ...]
    kind: str = "bar"
    axis: str = "left"


@dataclass(frozen=True)
class Percent:
    """A share in percent (87.3 for 87.3 %): the screen writes it in its locale."""

    value: Decimal


Cell = Decimal | int | str | dt.date | Percent | None


@dataclass(frozen=True)
class DashboardData:
    """A dashboard's figures: a chart, key figures and the table behind them.

    Attributes:
        key: which dashboard ("aging", "dso"...).
        categories: the labels along the chart's x axis.
        unit: the left axis ("EUR", "count", "days"); `right_unit` the right one.
        figures: key figures as (English caption, value): money as Decimal
            (two places), days as Decimal (one place), counts as int, text.
        columns: English column titles of `rows`.
        rows: the table (also what Excel export writes).
        drill: per category, the id the drill-down needs (a customer id,
            a bucket index...); empty when bars open nothing.
        currency: the currency of money values.
    """

    key: str
    categories: tuple[str, ...]
    series: tuple[Series, ...]
    unit: str
    right_unit: str = ""
    figures: tuple[tuple[str, Cell], ...] = ()
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[Cell, ...], ...] = ()
    drill: tuple[Any, ...] = ()
    currency: str = "EUR"
    as_of: dt.date | None = None

    def values(self, name: str) -> tuple[Decimal | None, ...]:
        """The values of the series called `name`.

        Raises:
            KeyError: no such series.
        """
        for series in self.series:
            if series.name == name:
                return series.values
        raise KeyError(name)

    def column(self, name: str) -> tuple[Cell, ...]:
        """The cells of the table column `name`."""
        index = self.columns.index(name)
        return tuple(row[index] for row in self.rows)


@dataclass(frozen=True)
class FilterChoices:
    """What the filter bar offers: (id, label) pairs and snapshot dates."""

    entities: tuple[tuple[int, str], ...]
    portfolios: tuple[tuple[int, str], ...]
    collectors: tuple[tuple[int, str], ...]
    snapshot_dates: tuple[dt.date, ...]
    months: tuple[str, ...]
