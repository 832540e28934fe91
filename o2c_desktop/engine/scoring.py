"""Payment behaviour: point-in-time features, the model, the rule, the score.

Pure and clock-free, on columns (numpy). Days are day numbers (days since
1970-01-01). The service reads the book's invoices into a `Book`; this module
never sees the database.

**Point in time.** A feature of an item is computed at a cutoff day (its
issue date when learning, the as-of date when scoring) from what was known
*before* that day only: payments made before it, invoices issued before it,
disputes opened and promises broken before it. A row of the future cannot
change a past feature (tests/engine/test_scoring.py proves it).

**Targets.** `delay` = paid day - due day (negative: paid early); late =
delay > 0; late30 = delay > 30.

**The model** is LightGBM (gradient-boosted trees): two classifiers (late,
late30), an L1 regressor for the delay (the median: what minimises the mean
absolute error in days) and two quantile regressors (10 % and 90 %) for the
80 % interval. Boosters are saved as LightGBM's own text format, so a model
read back from the shared database runs no code (no pickle).

**The rule**, used when the history is too small or a customer has none: the
customer's own late rates shrunk towards the population's, the median of the
customer's last ten delays, and +/- 1.28 standard deviations as the 80 %
interval. Each prediction carries its basis and the reason.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import numpy as np

from o2c_desktop.i18n import N_

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence

    import numpy.typing as npt

    F64 = npt.NDArray[np.float64]
    I64 = npt.NDArray[np.int64]
    Bools = npt.NDArray[np.bool_]

log = logging.getLogger(__name__)

NO_DAY: Final = -(2**63)  # an open item's paid day (engine.dunning's NO_DAY)
MIN_PAID: Final = 300  # paid invoices needed before a model is trained
MIN_CUSTOMER_PAID: Final = 1  # below this a customer is scored by the rule
LATE30: Final = 30
RECENT: Final = 5  # "the last five invoices"
WINDOW: Final = 10  # the median is over the last ten
SHRINK: Final = 3.0  # pseudo-payments at the population rate (the rule)
Z80: Final = 1.2816  # the 10 % / 90 % points of a normal distribution
# Residual delay of an item already overdue at the as-of date, by days overdue.
OVERDUE_BUCKETS: Final = (0, 15, 30, 60, 90, 180)
CLASS_LIMITS: Final = ((8.0, "A"), (6.0, "B"), (4.0, "C"), (2.0, "D"))

FEATURES: Final = (
    "paid_count",
    "late_rate",
    "late30_rate",
    "mean_delay",
    "std_delay",
    "median_delay_10",
    "recent_delay_5",
    "recent_late30_5",
    "trend",
    "days_since_paid",
    "customer_age",
    "amount_log",
    "amount_vs_usual",
    "terms",
    "disputes",
    "broken_promises",
    "open_count",
    "open_amount_log",
    "overdue_share",
    "due_month",
    "due_weekday",
    "due_day",
)
TARGETS: Final = ("late", "late30", "delay", "delay_q10", "delay_q90")
_KEY_DAYS: Final = 1 << 22  # day numbers below this fit the composite key


class ScoringError(ValueError):
    """Input the scoring cannot use: the message names what and why."""


class TrainingCancelled(Exception):  # noqa: N818 - reads as the event it is
    """The caller asked training to stop."""


@dataclass(frozen=True)
class Book:
    """The invoices of a book and its case events, as columns.

    Attributes:
        customer: customer id per invoice.
        issue, due: issue and due day numbers.
        amount: the invoice amount (a float: features are ratios and logs).
        paid: the day it was fully paid, `NO_DAY` while open.
        event_customer, event_day, event_kind: disputes opened ("dispute")
            and promises or plans broken ("broken"), on their day.
    """

    customer: I64
    issue: I64
    due: I64
    amount: F64
    paid: I64
    event_customer: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    event_day: I64 = field(default_factory=lambda: np.zeros(0, np.int64))
    event_kind: npt.NDArray[np.str_] = field(
        default_factory=lambda: np.zeros(0, dtype="<U8")
    )

    def __post_init__(self) -> None:
        n = len(self.customer)
        for name in ("issue", "due", "amount", "paid"):
            if len(getattr(self, name)) != n:
                raise ScoringError(f"book column {name!r} has the wrong length")
        if n and (self.due < self.issue).any():
            raise ScoringError(
                f"{int((self.due < self.issue).sum())} invoices fall due "
                "before their issue date"
            )

    def __len__(self) -> int:
        return len(self.customer)

    @property
    def is_paid(self) -> Bools:
        """Whether each invoice is paid."""
        out: Bools = self.paid != NO_DAY
        return out

    def take(self, mask: Bools | I64) -> Book:
        """The invoices `mask` selects, with all the events."""
        return dataclasses.replace(
            self,
            customer=self.customer[mask],
            issue=self.issue[mask],
            due=self.due[mask],
            amount=self.amount[mask],
            paid=self.paid[mask],
        )

    def known_before(self, day: int) -> Book:
        """The book as it stood the morning of `day`: later rows unknown."""
        kept = self.take(self.issue < day)
        paid = np.where(kept.paid < day, kept.paid, NO_DAY)
        shown = self.event_day < day
        return dataclasses.replace(
            kept,
            paid=paid,
            event_customer=self.event_customer[shown],
            event_day=self.event_day[shown],
            event_kind=self.event_kind[shown],
        )


# -- point-in-time features ----------------------------------------------------


def _keys(customer: I64, day: I64) -> I64:
    clipped = np.clip(day, 0, _KEY_DAYS - 1)
    out: I64 = customer.astype(np.int64) * _KEY_DAYS + clipped
    return out


class _Before:
    """Sums of per-event values over a customer's events before a day."""

    def __init__(self, customer: I64, day: I64, values: Sequence[F64]) -> None:
        keys = _keys(customer, day)
        order = np.argsort(keys, kind="stable")
        self.keys = keys[order]
        self.values = [np.asarray(v, dtype=np.float64)[order] for v in values]
        self.sums = [np.concatenate(([0.0], np.cumsum(v))) for v in self.values]
        self.day = day[order]

    def locate(self, customer: I64, cutoff: I64) -> tuple[I64, I64]:
        """(first event of the customer, first event on or after `cutoff`)."""
        start = np.searchsorted(self.keys, _keys(customer, np.zeros_like(cutoff)))
        stop = np.searchsorted(self.keys, _keys(customer, cutoff))
        return start.astype(np.int64), stop.astype(np.int64)

    def total(self, k: int, start: I64, stop: I64) -> F64:
        out: F64 = self.sums[k][stop] - self.sums[k][start]
        return out

    def last(self, k: int, start: I64, stop: I64, n: int) -> F64:
        """The last `n` values before the cutoff, newest first (NaN if fewer)."""
        pos = stop[:, None] - 1 - np.arange(n)[None, :]
        valid = pos >= start[:, None]
        picked = (
            self.values[k][np.clip(pos, 0, None)]
            if len(self.values[k])
            else (np.zeros(pos.shape))
        )
        out: F64 = np.where(valid, picked, np.nan)
        return out


def _ratio(num: F64, den: F64) -> F64:
    with np.errstate(invalid="ignore", divide="ignore"):
        out: F64 = np.where(den > 0, num / np.where(den > 0, den, 1), np.nan)
    return out


def _row_stat(fn: Callable[..., F64], values: F64) -> F64:
    out = np.full(len(values), np.nan)
    some = ~np.isnan(values).all(axis=1)
    if some.any():
        out[some] = fn(values[some], axis=1)
    return out


def features(
    book: Book, customer: I64, issue: I64, due: I64, amount: F64, cutoff: I64
) -> F64:
    """The `FEATURES` of items, each from what `book` knew before its cutoff.

    Args:
        customer: the customer of each item scored.
        issue: their issue days.
        due: their due days.
        amount: their amounts.
        book: the history (may contain the items themselves and the future:
            only rows dated before each cutoff are read).
        cutoff: per item, the day from which nothing is known (its issue
            date when learning; the as-of date when scoring).

    Returns:
        An (items x features) array; NaN where a customer has no history.
    """
    paid = book.is_paid
    delay = (book.paid - book.due).astype(np.float64)[paid]
    pays = _Before(
        book.customer[paid],
        book.paid[paid],
        [
            np.ones(len(delay)),
            (delay > 0).astype(np.float64),
            (delay > LATE30).astype(np.float64),
            delay,
            delay**2,
        ],
    )
    start, stop = pays.locate(customer, cutoff)
    n = (stop - start).astype(np.float64)
    late_n, late30_n = pays.total(1, start, stop), pays.total(2, start, stop)
    mean = _ratio(pays.total(3, start, stop), n)
    var = _ratio(pays.total(4, start, stop), n) - mean**2
    std = np.where(
        n >= 2, np.sqrt(np.clip(var * n / np.maximum(n - 1, 1), 0, None)), np.nan
    )
    window = pays.last(3, start, stop, WINDOW)
    recent = window[:, :RECENT]
    recent_mean = _row_stat(np.nanmean, recent)
    recent_late30 = np.where(n > 0, (recent > LATE30).sum(axis=1) * 1.0, np.nan)
    median10 = _row_stat(np.nanmedian, window)
    last_paid = np.where(
        stop > start, pays.day[np.clip(stop - 1, 0, None)] if len(pays.day) else 0, 0
    )
    since_paid = np.where(stop > start, cutoff - last_paid, np.nan)

    # Invoices issued before the cutoff: the customer's usual amount, age, and
    # (with the payments before it) the balance still open then.
    logs = np.log(np.maximum(book.amount, 0.01))
    issued = _Before(book.customer, book.issue, [np.ones(len(book)), logs, book.amount])
    i_start, i_stop = issued.locate(customer, cutoff)
    issued_n = (i_stop - i_start).astype(np.float64)
    usual = _ratio(issued.total(1, i_start, i_stop), issued_n)
    first_issue = np.where(
        i_stop > i_start, issued.day[np.clip(i_start, 0, max(len(issued.day) - 1, 0))]
        if len(issued.day) else 0, 0,
    )  # fmt: skip
    age = np.where(i_stop > i_start, cutoff - first_issue, np.nan)
    settled = _Before(book.customer[paid], book.paid[paid], [book.amount[paid]])
    s_start, s_stop = settled.locate(customer, cutoff)
    open_count = issued_n - n
    open_amount = issued.total(2, i_start, i_stop) - settled.total(0, s_start, s_stop)
    # Overdue then: due before the cutoff and not paid before it.
    fell_due = _Before(book.customer, book.due, [book.amount])
    d_start, d_stop = fell_due.locate(customer, cutoff)
    both = _Before(
        book.customer[paid],
        np.maximum(book.paid[paid], book.due[paid]),
        [book.amount[paid]],
    )
    b_start, b_stop = both.locate(customer, cutoff)
    overdue = fell_due.total(0, d_start, d_stop) - both.total(0, b_start, b_stop)

    disputes = _count_events(book, "dispute", customer, cutoff)
    broken = _count_events(book, "broken", customer, cutoff)
    due_dates = (np.datetime64("1970-01-01") + due.astype("timedelta64[D]")).astype(
        "datetime64[D]"
    )
    months = due_dates.astype("datetime64[M]")
    columns = {
        "paid_count": n,
        "late_rate": _ratio(late_n, n),
        "late30_rate": _ratio(late30_n, n),
        "mean_delay": mean,
        "std_delay": std,
        "median_delay_10": median10,
        "recent_delay_5": recent_mean,
        "recent_late30_5": recent_late30,
        "trend": recent_mean - mean,
        "days_since_paid": since_paid.astype(np.float64),
        "customer_age": age.astype(np.float64),
        "amount_log": np.log(np.maximum(amount, 0.01)),
        "amount_vs_usual": np.log(np.maximum(amount, 0.01)) - usual,
        "terms": (due - issue).astype(np.float64),
        "disputes": disputes,
        "broken_promises": broken,
        "open_count": np.maximum(open_count, 0),
        "open_amount_log": np.log1p(np.maximum(open_amount, 0)),
        "overdue_share": _ratio(np.maximum(overdue, 0), np.maximum(open_amount, 0)),
        "due_month": (months.astype(np.int64) % 12 + 1).astype(np.float64),
        "due_weekday": ((due + 3) % 7).astype(np.float64),
        "due_day": (due_dates - months.astype("datetime64[D]")).astype(np.float64) + 1,
    }
    return np.column_stack([columns[name] for name in FEATURES]).astype(np.float64)


def _count_events(book: Book, kind: str, customer: I64, cutoff: I64) -> F64:
    mine = book.event_kind == kind
    events = _Before(
        book.event_customer[mine], book.event_day[mine], [np.ones(int(mine.sum()))]
    )
    start, stop = events.locate(customer, cutoff)
    return events.total(0, start, stop)


def column(matrix: F64, name: str) -> F64:
    """One feature's column of a `features()` matrix."""
    out: F64 = matrix[:, FEATURES.index(name)]
    return out


# -- targets and the population ------------------------------------------------


@dataclass(frozen=True)
class Population:
    """What the whole training history says: the rule's fallback figures."""

    paid: int
    late_rate: float
    late30_rate: float
    median_delay: float
    std_delay: float
    # Per OVERDUE_BUCKETS bucket: quantiles 10/50/90 of the delay still to
    # come for an item already that many days overdue.
    residual: tuple[tuple[float, float, float], ...]

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready copy."""
        return dataclasses.asdict(self)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Population:
        """Read back `to_json()`."""
        return cls(
            paid=int(data["paid"]),
            late_rate=float(data["late_rate"]),
            late30_rate=float(data["late30_rate"]),
            median_delay=float(data["median_delay"]),
            std_delay=float(data["std_delay"]),
            residual=tuple(tuple(float(x) for x in r) for r in data["residual"]),  # type: ignore[misc]
        )


def population(delay: F64) -> Population:
    """The population's figures from the delays of paid invoices.

    Raises:
        ScoringError: no paid invoice at all.
    """
    if not len(delay):
        raise ScoringError("no paid invoice in the history: nothing to learn from")
    residual = []
    for low in OVERDUE_BUCKETS:
        still = delay[delay > low]
        if len(still) < 20:  # too few to say: assume a month more, like the rule
            residual.append((7.0, 30.0, 90.0))
            continue
        q = np.quantile(still - low, [0.1, 0.5, 0.9])
        residual.append((float(q[0]), float(q[1]), float(q[2])))
    return Population(
        paid=len(delay),
        late_rate=float((delay > 0).mean()),
        late30_rate=float((delay > LATE30).mean()),
        median_delay=float(np.median(delay)),
        std_delay=float(delay.std(ddof=1)) if len(delay) > 1 else 15.0,
        residual=tuple(residual),
    )


@dataclass(frozen=True)
class Predictions:
    """Per item: probabilities, delay with its 80 % interval, and the basis.

    `basis` is "model" or "rule"; `reason` says why the rule was used ("" for
    the model).
    """

    p_late: F64
    p_late30: F64
    delay: F64
    delay_low: F64
    delay_high: F64
    basis: npt.NDArray[np.str_]
    reason: npt.NDArray[np.object_]

    def __len__(self) -> int:
        return len(self.p_late)


RULE_NEW_CUSTOMER = N_("no paid invoice of this customer yet: population figures")
RULE_SMALL_BOOK = N_("{paid} paid invoices in the history, {needed} needed for a model")
RULE_NOT_SHIPPED = N_("the model did not beat the baselines on the last evaluation")


def rule(x: F64, pop: Population, reason: str | Sequence[str]) -> Predictions:
    """The transparent rule on a `features()` matrix."""
    n = column(x, "paid_count")
    late = np.nan_to_num(column(x, "late_rate") * n)
    late30 = np.nan_to_num(column(x, "late30_rate") * n)
    p_late = (late + SHRINK * pop.late_rate) / (n + SHRINK)
    p_late30 = (late30 + SHRINK * pop.late30_rate) / (n + SHRINK)
    median = column(x, "median_delay_10")
    delay = np.where(np.isnan(median), pop.median_delay, median)
    std = column(x, "std_delay")
    spread = Z80 * np.where(np.isnan(std) | (n < 3), pop.std_delay, std)
    reasons = np.empty(len(x), dtype=object)
    reasons[:] = reason if isinstance(reason, str) else list(reason)
    reasons[n < MIN_CUSTOMER_PAID] = RULE_NEW_CUSTOMER
    return Predictions(
        p_late=p_late,
        p_late30=p_late30,
        delay=delay,
        delay_low=delay - spread,
        delay_high=delay + spread,
        basis=np.full(len(x), "rule"),
        reason=reasons,
    )


# -- the model -------------------------------------------------------------------

_PARAMS: Final[dict[str, Any]] = {
    "learning_rate": 0.1,
    # 63 bins: a quarter of the histogram work of the default 255, and days
    # or rates need no finer cut.
    "max_bin": 63,
    "num_leaves": 31,
    "min_data_in_leaf": 80,
    "feature_fraction": 0.9,
    "bagging_fraction": 0.8,
    "bagging_freq": 1,
    "lambda_l2": 1.0,
    # One thread: OpenMP threads spin when the cores are busy, and a shared
    # 2-core machine trained ten times slower with two (measured).
    "num_threads": 1,
    "force_col_wise": True,
    "verbose": -1,
    "seed": 7,
    "deterministic": True,
}
_OBJECTIVES: Final[dict[str, dict[str, Any]]] = {
    "late": {"objective": "binary"},
    "late30": {"objective": "binary"},
    "delay": {"objective": "l1"},
    "delay_q10": {"objective": "quantile", "alpha": 0.1},
    "delay_q90": {"objective": "quantile", "alpha": 0.9},
}
ROUNDS: Final = 200
EARLY_STOP: Final = 20


@dataclass(frozen=True)
class Model:
    """Five LightGBM boosters (text format) and the population figures."""

    boosters: Mapping[str, str]
    population: Population
    features: tuple[str, ...] = FEATURES
    rounds: Mapping[str, int] = field(default_factory=dict)

    def to_text(self) -> str:
        """The model as JSON text: boosters in LightGBM's own text format."""
        return json.dumps(
            {
                "features": list(self.features),
                "population": self.population.to_json(),
                "boosters": dict(self.boosters),
                "rounds": dict(self.rounds),
            }
        )

    @classmethod
    def from_text(cls, text: str) -> Model:
        """Read back `to_text()`.

        Raises:
            ScoringError: not a saved model, or one of other features.
        """
        try:
            data = json.loads(text)
            model = cls(
                boosters={k: str(v) for k, v in data["boosters"].items()},
                population=Population.from_json(data["population"]),
                features=tuple(data["features"]),
                rounds={k: int(v) for k, v in data.get("rounds", {}).items()},
            )
        except (ValueError, KeyError, TypeError) as exc:
            raise ScoringError(f"not a saved scoring model: {exc}") from exc
        if model.features != FEATURES or set(model.boosters) != set(TARGETS):
            raise ScoringError(
                "the saved model was trained on other features: train it again"
            )
        return model

    def predict(self, x: F64, *, contributions: bool = False) -> Predictions:
        """Predictions for a `features()` matrix; new customers by the rule."""
        import lightgbm as lgb

        out = {}
        for target in TARGETS:
            booster = lgb.Booster(model_str=self.boosters[target])
            out[target] = np.asarray(booster.predict(x), dtype=np.float64)
        low = np.minimum(out["delay_q10"], out["delay"])
        high = np.maximum(out["delay_q90"], out["delay"])
        model = Predictions(
            p_late=out["late"],
            p_late30=np.minimum(out["late30"], out["late"]),
            delay=out["delay"],
            delay_low=low,
            delay_high=high,
            basis=np.full(len(x), "model"),
            reason=np.full(len(x), "", dtype=object),
        )
        new = column(x, "paid_count") < MIN_CUSTOMER_PAID
        if not new.any():
            return model
        fallback = rule(x, self.population, RULE_NEW_CUSTOMER)
        return _merge(model, fallback, new)

    def contributions(self, x: F64, target: str = "delay") -> F64:
        """Per-feature contributions (SHAP values) of one target's booster."""
        import lightgbm as lgb

        booster = lgb.Booster(model_str=self.boosters[target])
        out: F64 = np.asarray(booster.predict(x, pred_contrib=True))[:, : len(FEATURES)]
        return out


def _merge(a: Predictions, b: Predictions, take_b: Bools) -> Predictions:
    return Predictions(
        **{
            f.name: np.where(take_b, getattr(b, f.name), getattr(a, f.name))
            for f in dataclasses.fields(Predictions)
        }
    )


def targets(book: Book) -> dict[str, F64]:
    """The training targets of paid invoices (open ones are NaN)."""
    delay = np.where(book.is_paid, book.paid - book.due, np.nan).astype(np.float64)
    return {
        "late": (delay > 0).astype(np.float64),
        "late30": (delay > LATE30).astype(np.float64),
        "delay": delay,
        "delay_q10": delay,
        "delay_q90": delay,
    }


def train(
    x: F64,
    delay: F64,
    order: I64,
    *,
    report: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Model:
    """Train the five boosters on paid invoices.

    Args:
        x: their `features()` at their issue dates.
        delay: their delays in days (paid - due).
        order: a sort key (the issue day): the newest 10 % are held out to
            stop boosting when it no longer helps.
        report: called with the share done (0 to 1).
        cancelled: polled between boosting rounds; True stops training.

    Raises:
        ScoringError: fewer than `MIN_PAID` invoices.
        TrainingCancelled: `cancelled()` returned True.
    """
    import lightgbm as lgb

    if len(x) < MIN_PAID:
        raise ScoringError(RULE_SMALL_BOOK.format(paid=len(x), needed=MIN_PAID))
    pop = population(delay)
    ranked = np.argsort(order, kind="stable")
    cut = int(len(ranked) * 0.9)
    fit, hold = ranked[:cut], ranked[cut:]
    labels = {
        "late": (delay > 0).astype(np.float64),
        "late30": (delay > LATE30).astype(np.float64),
        "delay": delay,
        "delay_q10": delay,
        "delay_q90": delay,
    }
    boosters: dict[str, str] = {}
    rounds: dict[str, int] = {}
    for step, target in enumerate(TARGETS):

        def stop(env: Any, step: int = step) -> None:
            if cancelled is not None and cancelled():
                raise TrainingCancelled
            if report is not None and env.iteration % 20 == 0:
                report((step + env.iteration / ROUNDS) / len(TARGETS))

        params = {**_PARAMS, **_OBJECTIVES[target]}
        train_set = lgb.Dataset(
            x[fit], labels[target][fit], feature_name=list(FEATURES), free_raw_data=True
        )
        valid = lgb.Dataset(x[hold], labels[target][hold], reference=train_set)
        booster = lgb.train(
            params,
            train_set,
            num_boost_round=ROUNDS,
            valid_sets=[valid],
            callbacks=[stop, lgb.early_stopping(EARLY_STOP, verbose=False)],
        )
        rounds[target] = int(booster.best_iteration or ROUNDS)
        boosters[target] = booster.model_to_string(num_iteration=rounds[target])
    if report is not None:
        report(1.0)
    return Model(boosters=boosters, population=pop, rounds=rounds)


def condition_on_overdue(
    pred: Predictions, overdue: F64, pop: Population
) -> Predictions:
    """Shift predictions of items already `overdue` days late at the as-of date.

    An item still open 45 days after its due date will not be paid 10 days
    late: its delay is at least 45 days plus what items that late still took
    (the population's residual delay for that many days overdue).
    """
    late = overdue > 0
    if not late.any():
        return pred
    bucket = np.searchsorted(np.array(OVERDUE_BUCKETS), overdue, side="right") - 1
    res = np.array(pop.residual)[np.clip(bucket, 0, len(OVERDUE_BUCKETS) - 1)]
    low = np.where(
        late, np.maximum(pred.delay_low, overdue + res[:, 0]), pred.delay_low
    )
    mid = np.where(late, np.maximum(pred.delay, overdue + res[:, 1]), pred.delay)
    high = np.where(
        late, np.maximum(pred.delay_high, overdue + res[:, 2]), pred.delay_high
    )
    return dataclasses.replace(
        pred,
        delay_low=np.minimum(low, mid),
        delay=mid,
        delay_high=np.maximum(high, mid),
        p_late=np.where(late, 1.0, pred.p_late),
        p_late30=np.where(overdue > LATE30, 1.0, pred.p_late30),
    )


# -- the behaviour score ---------------------------------------------------------


def behaviour_score(p_late: F64, p_late30: F64) -> F64:
    """0 (pays very late) to 10 (pays on time): 10 x (1 - mean of the two risks)."""
    out: F64 = np.round(10.0 * (1.0 - 0.5 * p_late - 0.5 * p_late30), 1)
    return out


def behaviour_class(score: F64) -> list[str]:
    """A (>= 8) to E (< 2), the classes the scenarios and the risk view use."""
    classes = np.full(len(score), "E", dtype="<U1")
    for limit, name in reversed(CLASS_LIMITS):
        classes[score >= limit] = name
    return classes.tolist()
