"""Cash forecast: expected receipts per week from per-item pay-date predictions.

Each open item is paid on a day drawn from its predicted distribution: the
10 %, 50 % and 90 % points of its pay date, joined linearly (and extended
with the same slopes beyond them). A few hundred draws of the whole book give
the expected receipts of each week and their 10-90 % band, and the month-end
landing (what is collected from the as-of date to the end of the month).
Items of one customer tend to be paid together: each draw uses the
customer's common draw for half of its items' randomness, so the bands are
not narrowed by pretending every invoice is independent.

`wape` measures a forecast against what was actually received.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

if TYPE_CHECKING:
    import numpy.typing as npt

    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]

DRAWS: Final = 300
SHARED: Final = 0.5  # share of an item's randomness common to its customer
_CHUNK: Final = 25


@dataclass(frozen=True)
class Forecast:
    """Expected receipts per week (from `start`) and the month-end landing."""

    start: int  # the first day of week 0
    expected: F64  # per week
    low: F64  # 10 % point per week
    high: F64  # 90 % point per week
    landing_day: int
    landing: float
    landing_low: float
    landing_high: float


def pay_days(low: F64, mid: F64, high: F64, u: F64) -> F64:
    """The pay day at quantile `u` of a piecewise-linear distribution."""
    lower = mid - (mid - low) * (0.5 - u) / 0.4
    upper = mid + (high - mid) * (u - 0.5) / 0.4
    out: F64 = np.where(u < 0.5, lower, upper)
    return out


def forecast(
    customer: I64,
    amount: F64,
    low: F64,
    mid: F64,
    high: F64,
    *,
    start: int,
    weeks: int,
    landing_day: int,
    today: int | None = None,
    draws: int = DRAWS,
    seed: int = 21,
) -> Forecast:
    """Weekly receipts and the landing from items' pay-day quantiles.

    Args:
        customer: each item's customer (for the shared randomness).
        amount: what each item still has to pay.
        low: the 10 % point of each item's pay day (a day number).
        mid: its median pay day.
        high: its 90 % point.
        start: the first day of week 0 (a Monday, or the as-of date).
        weeks: how many weeks.
        landing_day: the month end of the landing.
        today: receipts before this day are not counted (default `start`);
            a draw before it is paid on it.
        draws: how many draws of the whole book.
        seed: the random seed (the same inputs give the same forecast).
    """
    rng = np.random.default_rng(seed)
    first = start if today is None else today
    _, cust = np.unique(customer, return_inverse=True)
    n_cust = int(cust.max()) + 1 if len(cust) else 0
    totals = np.zeros((draws, weeks))
    landing = np.zeros(draws)
    for a in range(0, draws, _CHUNK):
        k = min(_CHUNK, draws - a)
        shared = rng.random((k, n_cust))[:, cust]
        own = rng.random((k, len(amount)))
        pick = rng.random((k, len(amount))) < SHARED
        u = np.where(pick, shared, own)
        day = np.maximum(np.floor(pay_days(low, mid, high, u) + 0.5), first)
        week = ((day - start) // 7).astype(np.int64)
        inside = (week >= 0) & (week < weeks)
        flat = (np.arange(k)[:, None] * weeks + week)[inside]
        weights = np.broadcast_to(amount, day.shape)[inside]
        totals[a : a + k] = np.bincount(flat, weights, minlength=k * weeks).reshape(
            k, weeks
        )
        landing[a : a + k] = ((day <= landing_day) * amount).sum(axis=1)
    return Forecast(
        start=start,
        expected=totals.mean(axis=0),
        low=np.quantile(totals, 0.1, axis=0),
        high=np.quantile(totals, 0.9, axis=0),
        landing_day=landing_day,
        landing=float(landing.mean()),
        landing_low=float(np.quantile(landing, 0.1)),
        landing_high=float(np.quantile(landing, 0.9)),
    )


def weekly(amount: F64, day: I64, *, start: int, weeks: int) -> F64:
    """Amounts summed per week from `start` (days outside are dropped)."""
    week = (day - start) // 7
    inside = (week >= 0) & (week < weeks)
    out: F64 = np.bincount(week[inside], amount[inside], minlength=weeks).astype(
        np.float64
    )
    return out


def wape(forecast_: F64, actual: F64) -> float:
    """Weighted absolute percentage error: sum |F - A| / sum A (NaN if no A)."""
    total = float(np.abs(actual).sum())
    if total == 0:
        return float("nan")
    return float(np.abs(forecast_ - actual).sum() / total)
