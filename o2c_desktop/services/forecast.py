"""Cash forecast from the per-invoice pay-date predictions, and its backtest (#21).

`forecast` spreads the open invoices of one currency over the next weeks with
the stored model (`ScoringService.predict_open`). `backtest` replays the
book: it trains on what was paid before the start day, forecasts the
invoices open that day, and compares week by week with what those invoices
actually brought in, next to the due-date projection the cash dashboard
shows today (each invoice expected the week it falls due; overdue ones not
at all). Invoices issued after the start day are outside both.
"""

from __future__ import annotations

import calendar
import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Final

import numpy as np

from o2c_desktop.engine import forecast as fc
from o2c_desktop.engine import scoring as sc
from o2c_desktop.services.scoring import ScoringService, day_number, from_day

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

WEEKS: Final = 13
CENT: Final = Decimal("0.01")


@dataclass(frozen=True)
class ForecastWeek:
    """One week: expected receipts and the 10-90 % band."""

    start: dt.date
    expected: Decimal
    low: Decimal
    high: Decimal


@dataclass(frozen=True)
class CashForecast:
    """The weeks ahead and the month-end landing, in one currency."""

    as_of: dt.date
    currency: str
    weeks: tuple[ForecastWeek, ...]
    landing_day: dt.date
    landing: Decimal
    landing_low: Decimal
    landing_high: Decimal
    basis: str  # "model" or "rule"
    model_id: int | None
    items: int


@dataclass(frozen=True)
class BacktestWeek:
    """One week of the replay: actual, model forecast, due-date projection."""

    start: dt.date
    actual: Decimal
    forecast: Decimal
    low: Decimal
    high: Decimal
    due_dates: Decimal


@dataclass(frozen=True)
class Backtest:
    """The replay's weeks and its errors (WAPE, weekly and cumulative)."""

    start: dt.date
    currency: str
    basis: str
    reason: str
    items: int
    weeks: tuple[BacktestWeek, ...]
    wape_model: float
    wape_due_dates: float
    cumulative_wape_model: float
    cumulative_wape_due_dates: float


def _money(value: float) -> Decimal:
    return Decimal(repr(round(float(value), 2))).quantize(CENT)


def _month_end(day: dt.date) -> dt.date:
    return day.replace(day=calendar.monthrange(day.year, day.month)[1])


class ForecastService:
    """Expected receipts per week, and how well that would have worked."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx
        self._scoring = ScoringService(ctx)

    def forecast(
        self, today: dt.date, *, weeks: int = WEEKS, currency: str | None = None
    ) -> CashForecast:
        """The next `weeks` weeks of receipts from the invoices open on `today`.

        Raises:
            ScoringError: no invoice in `currency`, or no paid invoice at all.
        """
        cols = self._scoring.book(today)
        cur = currency or _main_currency(cols.currency)
        model_id, pred, mask = self._scoring.predict_open(cols, today)
        in_cur = cols.currency[mask] == cur
        if not in_cur.any():
            raise sc.ScoringError(f"no open invoice in {cur}")
        due = cols.book.due[mask][in_cur]
        amount = cols.remaining_cents[mask][in_cur] / 100
        t = day_number(today)
        f = fc.forecast(
            cols.book.customer[mask][in_cur], amount,
            due + pred.delay_low[in_cur], due + pred.delay[in_cur],
            due + pred.delay_high[in_cur],
            start=t, weeks=weeks, landing_day=day_number(_month_end(today)),
        )  # fmt: skip
        return CashForecast(
            as_of=today,
            currency=cur,
            weeks=tuple(
                ForecastWeek(
                    today + dt.timedelta(weeks=i),
                    _money(f.expected[i]),
                    _money(f.low[i]),
                    _money(f.high[i]),
                )
                for i in range(weeks)
            ),
            landing_day=_month_end(today),
            landing=_money(f.landing),
            landing_low=_money(f.landing_low),
            landing_high=_money(f.landing_high),
            basis=str(pred.basis[in_cur][0]) if in_cur.any() else "rule",
            model_id=model_id,
            items=int(in_cur.sum()),
        )

    def backtest(
        self,
        start: dt.date,
        *,
        weeks: int = WEEKS,
        currency: str | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> Backtest:
        """Replay the forecast from `start` against what was received since.

        Raises:
            ScoringError: `start` is outside the book, or the book does not
                reach `weeks` weeks past it.
            TrainingCancelled: `cancelled()` returned True.
        """
        cols = self._scoring.book()
        book = cols.book
        if not len(book):
            raise sc.ScoringError("the book has no invoice")
        d = day_number(start)
        first, last = int(book.issue.min()), cols.last_day
        end = d + 7 * weeks
        if d <= first or end > last + 1:
            latest = from_day(last + 1 - 7 * weeks)
            raise sc.ScoringError(
                f"--from {start} is outside the book: with {weeks} weeks it must "
                f"be between {from_day(first + 1)} and {latest}"
            )
        cur = currency or _main_currency(cols.currency)
        known = book.known_before(d)
        paid = known.is_paid
        delay = (known.paid - known.due)[paid].astype(np.float64)
        pop = sc.population(delay) if paid.any() else None
        if pop is None:
            raise sc.ScoringError(f"no invoice was paid before {start}")
        model: sc.Model | None = None
        reason = ""
        try:
            x = sc.features(
                known, known.customer[paid], known.issue[paid], known.due[paid],
                known.amount[paid], known.issue[paid],
            )  # fmt: skip
            model = sc.train(x, delay, known.issue[paid], cancelled=cancelled)
        except sc.ScoringError as exc:
            reason = str(exc)
        # The invoices open the morning of `start`, in the currency.
        open_ = (book.issue < d) & ((book.paid >= d) | ~book.is_paid)
        open_ &= cols.currency == cur
        cust, due = book.customer[open_], book.due[open_]
        amount = book.amount[open_]
        cutoff = np.full(len(cust), d, dtype=np.int64)
        xo = sc.features(known, cust, book.issue[open_], due, amount, cutoff)
        pred = model.predict(xo) if model is not None else sc.rule(xo, pop, reason)
        pred = sc.condition_on_overdue(
            pred, np.maximum(d - due, 0).astype(np.float64), pop
        )
        f = fc.forecast(
            cust, amount, due + pred.delay_low, due + pred.delay,
            due + pred.delay_high, start=d, weeks=weeks, landing_day=d,
        )  # fmt: skip
        actual = fc.weekly(amount, book.paid[open_], start=d, weeks=weeks)
        by_due = fc.weekly(amount, due, start=d, weeks=weeks)
        return Backtest(
            start=start,
            currency=cur,
            basis="model" if model is not None else "rule",
            reason=reason,
            items=len(cust),
            weeks=tuple(
                BacktestWeek(
                    start + dt.timedelta(weeks=i),
                    _money(actual[i]),
                    _money(f.expected[i]),
                    _money(f.low[i]),
                    _money(f.high[i]),
                    _money(by_due[i]),
                )
                for i in range(weeks)
            ),
            wape_model=fc.wape(f.expected, actual),
            wape_due_dates=fc.wape(by_due, actual),
            cumulative_wape_model=fc.wape(np.cumsum(f.expected), np.cumsum(actual)),
            cumulative_wape_due_dates=fc.wape(np.cumsum(by_due), np.cumsum(actual)),
        )


def _main_currency(currencies: np.ndarray) -> str:
    if not len(currencies):
        raise sc.ScoringError("the book has no invoice")
    values, counts = np.unique(currencies.astype(str), return_counts=True)
    return str(values[int(np.argmax(counts))])
