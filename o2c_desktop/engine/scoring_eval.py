"""Measuring the payment model against naive baselines, on a split date.

Everything paid before the split date trains; the invoices issued from it on,
whose outcome is known (paid by the end of the book), are predicted. The
model, the rule and the baselines are scored side by side:

- **ROC AUC** and **Brier score** for "paid late" (after the due date);
- **MAE**: mean absolute error of the pay date, in days;
- **coverage** of the 80 % interval (share of actual pay dates inside it).

Baselines: the customer's historical late rate at the invoice's issue date
(the population's rate for a customer without history); the population
rate; pay date = due date; pay date = due date + the customer's mean delay.
The model ships only if it beats every baseline on every measure it shares
with it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Final

import numpy as np

from o2c_desktop.engine import scoring as sc

if TYPE_CHECKING:
    from collections.abc import Callable

    import numpy.typing as npt

    F64 = npt.NDArray[np.float64]

log = logging.getLogger(__name__)

MIN_TEST: Final = 30  # fewer predicted invoices than this say nothing


def roc_auc(y: F64, p: F64) -> float:
    """Area under the ROC curve (Mann-Whitney, ties counted half); NaN if one class."""
    pos = y > 0.5
    n_pos, n_neg = int(pos.sum()), int((~pos).sum())
    if not n_pos or not n_neg:
        return float("nan")
    order = np.argsort(p, kind="mergesort")
    ranks = np.empty(len(p))
    sorted_p = p[order]
    # Average ranks of ties: the first and last index of each distinct value.
    _, first, counts = np.unique(sorted_p, return_index=True, return_counts=True)
    avg = first + (counts - 1) / 2.0 + 1.0
    ranks[order] = np.repeat(avg, counts)
    return float((ranks[pos].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def brier(y: F64, p: F64) -> float:
    """Mean squared error of the probabilities (0 is perfect)."""
    return float(np.mean((p - y) ** 2))


@dataclass(frozen=True)
class Scores:
    """One predictor's figures; None where it does not predict that."""

    name: str
    auc: float | None
    brier: float | None
    mae_days: float | None
    coverage: float | None


@dataclass(frozen=True)
class Evaluation:
    """The side-by-side figures of one split."""

    split_day: int
    trained_on: int  # paid invoices before the split
    predicted: int  # invoices issued from the split, paid since
    still_open: int  # issued from the split, outcome unknown: left out
    rows: tuple[Scores, ...]
    model_ships: bool
    reason: str  # why the model does not ship ("" when it does)
    model: sc.Model | None

    def by_name(self, name: str) -> Scores:
        """The row of one predictor."""
        return next(r for r in self.rows if r.name == name)


MODEL, RULE = "model", "rule"
B_CUSTOMER, B_POPULATION = "customer late rate", "population late rate"
B_DUE, B_MEAN = "pay date = due date", "due date + customer mean delay"


def evaluate(
    book: sc.Book,
    split_day: int,
    *,
    report: Callable[[float], None] | None = None,
    cancelled: Callable[[], bool] | None = None,
) -> Evaluation:
    """Train on what was paid before `split_day`, predict what was issued from it.

    Raises:
        ScoringError: the split date is outside the book, or nothing issued
            from it has been paid yet.
        TrainingCancelled: `cancelled()` returned True.
    """
    if not len(book):
        raise sc.ScoringError("the book has no invoice")
    first, last = int(book.issue.min()), int(book.issue.max())
    if split_day <= first or split_day > last:
        raise sc.ScoringError(
            f"split date {_iso(split_day)} is outside the invoices "
            f"({_iso(first + 1)} to {_iso(last)})"
        )
    paid = book.is_paid
    train = paid & (book.paid < split_day)
    issued = book.issue >= split_day
    test = issued & paid
    if int(test.sum()) < MIN_TEST:
        raise sc.ScoringError(
            f"only {int(test.sum())} invoices issued from {_iso(split_day)} are "
            f"paid, {MIN_TEST} needed: choose an earlier split date"
        )
    if not train.any():
        raise sc.ScoringError(f"no invoice was paid before {_iso(split_day)}")
    x = sc.features(book, book.customer, book.issue, book.due, book.amount, book.issue)
    delay = (book.paid - book.due).astype(np.float64)
    pop = sc.population(delay[train])
    xt, yt = x[test], delay[test]
    late = (yt > 0).astype(np.float64)
    model: sc.Model | None = None
    reason = ""
    try:
        model = sc.train(
            x[train],
            delay[train],
            book.issue[train],
            report=report,
            cancelled=cancelled,
        )
    except sc.ScoringError as exc:
        reason = str(exc)
    rule = sc.rule(xt, pop, reason or "evaluation")
    rows = []
    if model is not None:
        rows.append(_scores(MODEL, late, yt, model.predict(xt)))
    rows.append(_scores(RULE, late, yt, rule))
    n = sc.column(xt, "paid_count")
    own = np.where(n > 0, sc.column(xt, "late_rate"), pop.late_rate)
    rows.append(Scores(B_CUSTOMER, roc_auc(late, own), brier(late, own), None, None))
    flat = np.full(len(yt), pop.late_rate)
    rows.append(
        Scores(B_POPULATION, roc_auc(late, flat), brier(late, flat), None, None)
    )
    rows.append(Scores(B_DUE, None, None, float(np.abs(yt).mean()), None))
    mean = np.where(n > 0, sc.column(xt, "mean_delay"), float(delay[train].mean()))
    rows.append(Scores(B_MEAN, None, None, float(np.abs(yt - mean).mean()), None))
    ships = False
    if model is not None:
        ships, reason = _beats(rows)
    return Evaluation(
        split_day=split_day,
        trained_on=int(train.sum()),
        predicted=int(test.sum()),
        still_open=int((issued & ~paid).sum()),
        rows=tuple(rows),
        model_ships=ships,
        reason=reason,
        model=model,
    )


def _scores(name: str, late: F64, delay: F64, p: sc.Predictions) -> Scores:
    inside = (delay >= p.delay_low) & (delay <= p.delay_high)
    return Scores(
        name,
        roc_auc(late, p.p_late),
        brier(late, p.p_late),
        float(np.abs(delay - p.delay).mean()),
        float(inside.mean()),
    )


def _beats(rows: list[Scores]) -> tuple[bool, str]:
    """Whether the model beats every baseline; otherwise which and how."""
    model = rows[0]
    misses = []
    for r in rows[2:]:
        auc_ok = r.auc is None or (model.auc or 0) > r.auc or np.isnan(r.auc)
        if not auc_ok:
            misses.append(f"AUC {model.auc:.3f} <= {r.name} {r.auc:.3f}")
        if r.brier is not None and (model.brier or 1) >= r.brier:
            misses.append(f"Brier {model.brier:.4f} >= {r.name} {r.brier:.4f}")
        if r.mae_days is not None and (model.mae_days or 0) >= r.mae_days:
            misses.append(f"MAE {model.mae_days:.1f} >= {r.name} {r.mae_days:.1f}")
    if misses:
        return False, "the model does not beat the baselines: " + "; ".join(misses)
    return True, ""


def _iso(day: int) -> str:
    return str(np.datetime64(int(day), "D"))
