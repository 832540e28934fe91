"""Payment behaviour: evaluate, train and apply the model of the book (#21).

Reads the book's invoices as columns (one query), hands them to
`engine.scoring`, and writes the results: the model version (`score_model`),
each customer's score and class by date (`customer_score`, and
`customer.risk_score` / `risk_class` where the scenarios, the agenda and the
risk view read them) and each open invoice's expected pay date with its
80 % interval (`item_prediction`).

`train` and `evaluate` take `report(share)` and `cancelled()` so the desktop
runs them in a worker with a Cancel button; `o2c score train` runs nightly.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import delete, insert, select, update

from o2c_desktop.engine import scoring as sc
from o2c_desktop.engine import scoring_eval as ev
from o2c_desktop.engine.types import CaseKind, CaseStatus, ItemKind, ItemStatus
from o2c_desktop.models import Customer, CustomerScore, ItemPrediction, ScoreModel
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.rawsql import NULL_DAY, RawSql, fetch

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy.typing as npt
    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext

    I64 = npt.NDArray[np.int64]

log = logging.getLogger(__name__)

EVALUATION_DAYS: Final = 180  # `train` measures on the invoices of the last 6 months
_EPOCH: Final = dt.date(1970, 1, 1)
_BATCH: Final = 20_000


def day_number(day: dt.date) -> int:
    """Days since 1970-01-01."""
    return (day - _EPOCH).days


def from_day(n: int) -> dt.date:
    """The date of a day number."""
    return _EPOCH + dt.timedelta(days=int(n))


@dataclass(frozen=True)
class BookColumns:
    """The invoices as the engine reads them, with their ids and state."""

    book: sc.Book
    item_id: I64
    remaining_cents: I64
    currency: npt.NDArray[np.object_]
    is_open: npt.NDArray[np.bool_]
    last_day: int  # the newest issue or payment day of the book


@dataclass(frozen=True)
class TrainResult:
    """What `train` stored."""

    model_id: int
    basis: str  # "model" or "rule"
    reason: str
    trained_on: int
    evaluation: ev.Evaluation | None


@dataclass(frozen=True)
class ApplyResult:
    """What `apply` wrote."""

    model_id: int | None
    basis: str
    customers: int
    items: int
    classes: dict[str, int]
    reason: str


@dataclass(frozen=True)
class ModelInfo:
    """The model in use, as the dashboards show it."""

    model_id: int
    trained_at: dt.datetime
    train_to: dt.date
    basis: str
    reason: str
    evaluation: dict[str, Any]


class ScoringService:
    """Evaluate, train and apply the payment-behaviour model of the book."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    # -- reading ----------------------------------------------------------------

    def book(self, today: dt.date | None = None) -> BookColumns:
        """The book's invoices (positive amounts) and case events.

        Args:
            today: when given, what happened after it is ignored (a payment
                dated later counts as not made).

        Raises:
            ScoringError: an invoice without an issue or due date.
        """
        with self._ctx.db.session() as s:
            return _read_book(s, today)

    def latest(self) -> ModelInfo | None:
        """The newest stored model, or None before the first training."""
        with self._ctx.db.session() as s:
            row = s.scalars(
                select(ScoreModel).order_by(ScoreModel.id.desc()).limit(1)
            ).first()
            if row is None:
                return None
            return ModelInfo(
                row.id, row.trained_at, row.train_to, row.basis, row.reason or "",
                dict(row.evaluation),
            )  # fmt: skip

    # -- evaluate and train -------------------------------------------------------

    def evaluate(
        self,
        split: dt.date,
        *,
        report: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ev.Evaluation:
        """Model, rule and baselines side by side on a split date (nothing stored).

        Raises:
            ScoringError: the split date is outside the book or too late.
            TrainingCancelled: `cancelled()` returned True.
        """
        cols = self.book()
        return ev.evaluate(
            cols.book, day_number(split), report=report, cancelled=cancelled
        )

    def train(
        self,
        today: dt.date,
        *,
        report: Callable[[float], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> TrainResult:
        """Measure on the last six months, then train on everything paid by `today`.

        The model is stored and used only if it beat every baseline; otherwise
        the rule is stored with the reason. Either way the row keeps the
        evaluation figures.

        Raises:
            TrainingCancelled: `cancelled()` returned True (nothing stored).
        """
        cols = self.book(today)
        book = cols.book
        split = day_number(today) - EVALUATION_DAYS
        evaluation: ev.Evaluation | None = None
        reason = ""

        def part(low: float, high: float) -> Callable[[float], None] | None:
            if report is None:
                return None
            return lambda share: report(low + (high - low) * share)

        try:
            evaluation = ev.evaluate(
                book, split, report=part(0, 0.5), cancelled=cancelled
            )
            reason = evaluation.reason
        except sc.ScoringError as exc:
            reason = str(exc)
        paid = book.is_paid
        model: sc.Model | None = None
        if evaluation is not None and evaluation.model_ships:
            x = sc.features(
                book, book.customer[paid], book.issue[paid], book.due[paid],
                book.amount[paid], book.issue[paid],
            )  # fmt: skip
            delay = (book.paid - book.due)[paid].astype(np.float64)
            model = sc.train(
                x, delay, book.issue[paid], report=part(0.5, 1), cancelled=cancelled
            )
        pop = (
            sc.population((book.paid - book.due)[paid].astype(np.float64))
            if (paid.any())
            else None
        )
        import lightgbm

        with self._ctx.db.session(self._ctx.user_login) as s:
            row = ScoreModel(
                trained_at=utcnow(),
                train_from=from_day(int(book.issue.min())) if len(book) else None,
                train_to=today,
                split_date=from_day(split),
                trained_on=int(paid.sum()),
                basis="model" if model is not None else "rule",
                shipped=model is not None,
                reason=reason or None,
                evaluation=_evaluation_json(evaluation, pop),
                features=list(sc.FEATURES),
                library=f"lightgbm {lightgbm.__version__}",
                model_text=model.to_text() if model is not None else None,
                user_login=self._ctx.user_login,
            )
            s.add(row)
            s.flush()
            model_id = row.id
        log.info("score model %s stored: %s", model_id, row.basis)
        return TrainResult(model_id, row.basis, reason, int(paid.sum()), evaluation)

    # -- apply --------------------------------------------------------------------

    def predictor(
        self,
    ) -> tuple[int | None, sc.Model | None, sc.Population | None, str]:
        """The stored model to score with: (id, model, population, reason)."""
        with self._ctx.db.session() as s:
            row = s.scalars(
                select(ScoreModel).order_by(ScoreModel.id.desc()).limit(1)
            ).first()
            if row is None:
                return None, None, None, "no model trained yet: run 'o2c score train'"
            pop_json = row.evaluation.get("population")
            pop = sc.Population.from_json(pop_json) if pop_json else None
            if row.model_text is None:
                return row.id, None, pop, row.reason or sc.RULE_NOT_SHIPPED
            model = sc.Model.from_text(row.model_text)
            return row.id, model, model.population, ""

    def predict_open(
        self, cols: BookColumns, today: dt.date
    ) -> tuple[int | None, sc.Predictions, npt.NDArray[np.bool_]]:
        """Predictions for the open invoices of `cols` at `today`.

        Returns:
            (model id, predictions, the mask of the open invoices in `cols`).
        """
        model_id, model, pop, reason = self.predictor()
        book = cols.book
        if pop is None:
            pop = _population(book)
        mask = cols.is_open & (cols.remaining_cents > 0)
        t = day_number(today)
        x = sc.features(
            book, book.customer[mask], book.issue[mask], book.due[mask],
            book.amount[mask], np.full(int(mask.sum()), t, dtype=np.int64),
        )  # fmt: skip
        pred = model.predict(x) if model is not None else sc.rule(x, pop, reason)
        overdue = np.maximum(t - book.due[mask], 0).astype(np.float64)
        return model_id, sc.condition_on_overdue(pred, overdue, pop), mask

    def apply(self, today: dt.date) -> ApplyResult:
        """Score every customer and predict every open invoice on `today`.

        Raises:
            ScoringError: the book has no paid invoice to learn from.
        """
        cols = self.book(today)
        book = cols.book
        model_id, model, pop, reason = self.predictor()
        if pop is None:
            pop = _population(book)
        model_id, pred, mask = self.predict_open(cols, today)
        t = day_number(today)
        customers, score, classes, basis = _customer_scores(book, model, pop, t, reason)
        ids = cols.item_id[mask].tolist()
        due = book.due[mask]
        dates = [
            [from_day(d) for d in (due + np.floor(v + 0.5)).astype(np.int64).tolist()]
            for v in (pred.delay, pred.delay_low, pred.delay_high)
        ]
        p_late, p_late30 = pred.p_late.tolist(), pred.p_late30.tolist()
        bases, reasons = pred.basis.tolist(), pred.reason.tolist()
        rows = [
            {
                "item_id": ids[i], "model_id": model_id, "as_of": today,
                "p_late": p_late[i], "p_late30": p_late30[i],
                "pay_date": dates[0][i], "pay_low": dates[1][i],
                "pay_high": dates[2][i], "basis": bases[i],
                "reason": str(reasons[i])[:200] or None,
            }
            for i in range(len(ids))
        ]  # fmt: skip
        with self._ctx.db.session(self._ctx.user_login) as s:
            s.execute(delete(ItemPrediction))
            for start in range(0, len(rows), _BATCH):
                s.execute(insert(ItemPrediction), rows[start : start + _BATCH])
            s.execute(delete(CustomerScore).where(CustomerScore.as_of == today))
            score_rows = [
                {
                    "customer_id": int(c), "as_of": today, "score": float(v),
                    "risk_class": k, "basis": b, "model_id": model_id,
                }
                for c, v, k, b in zip(customers, score, classes, basis, strict=True)
            ]  # fmt: skip
            for start in range(0, len(score_rows), _BATCH):
                s.execute(insert(CustomerScore), score_rows[start : start + _BATCH])
            # Computed figures, not an edit: the version is left alone so a
            # collector editing the customer meanwhile is not refused.
            s.connection().execute(
                update(Customer.__table__)  # type: ignore[arg-type]
                .where(Customer.__table__.c.id == _bind("cid"))
                .values(risk_score=_bind("score"), risk_class=_bind("cls")),
                [
                    {"cid": int(c), "score": float(v), "cls": k}
                    for c, v, k in zip(customers, score, classes, strict=True)
                ],
            )
        counts = {k: classes.count(k) for k in "ABCDE"}
        return ApplyResult(
            model_id, "model" if model is not None else "rule", len(customers),
            len(rows), counts, reason,
        )  # fmt: skip


def _bind(name: str) -> Any:
    from sqlalchemy import bindparam

    return bindparam(name)


def _population(book: sc.Book) -> sc.Population:
    paid = book.is_paid
    return sc.population((book.paid - book.due)[paid].astype(np.float64))


def _customer_scores(
    book: sc.Book, model: sc.Model | None, pop: sc.Population, t: int, reason: str
) -> tuple[I64, Any, list[str], list[str]]:
    """Each customer's score: the predicted risks of its next usual invoice.

    The "next usual invoice" is issued today with the customer's median amount
    and its last invoice's terms, so the score reads the customer's history
    only, not the invoices it happens to have open.
    """
    if not len(book):
        return np.zeros(0, np.int64), np.zeros(0), [], []
    # Last terms: the newest invoice of each customer.
    by_issue = np.lexsort((book.issue, book.customer))
    customers, first, counts = np.unique(
        book.customer[by_issue], return_index=True, return_counts=True
    )
    last = by_issue[first + counts - 1]
    terms = (book.due - book.issue)[last]
    # Median amount (the lower middle): sorted by customer, then amount.
    by_amount = np.lexsort((book.amount, book.customer))
    amount = book.amount[by_amount][first + (counts - 1) // 2]
    cut = np.full(len(customers), t, dtype=np.int64)
    x = sc.features(book, customers.astype(np.int64), cut, cut + terms, amount, cut)
    pred = model.predict(x) if model is not None else sc.rule(x, pop, reason)
    score = sc.behaviour_score(pred.p_late, pred.p_late30)
    return (
        customers.astype(np.int64),
        score,
        sc.behaviour_class(score),
        [str(b) for b in pred.basis],
    )


def _evaluation_json(
    evaluation: ev.Evaluation | None, pop: sc.Population | None
) -> dict[str, Any]:
    out: dict[str, Any] = {"population": pop.to_json() if pop else None}
    if evaluation is None:
        return out
    out.update(
        split_date=str(from_day(evaluation.split_day)),
        trained_on=evaluation.trained_on,
        predicted=evaluation.predicted,
        still_open=evaluation.still_open,
        model_ships=evaluation.model_ships,
        rows=[
            {
                "name": r.name, "auc": r.auc, "brier": r.brier,
                "mae_days": r.mae_days, "coverage": r.coverage,
            }
            for r in evaluation.rows
        ],
    )  # fmt: skip
    return out


def _ints(values: Sequence[Any]) -> I64:
    return np.fromiter(values, dtype=np.int64, count=len(values))


def _read_book(s: Session, today: dt.date | None) -> BookColumns:
    q = RawSql(s.get_bind().dialect.name)
    rows = fetch(
        s,
        f"SELECT id, customer_id, {q.day('issue_date')}, {q.day('due_date')}, "
        f"{q.cents('amount')}, {q.cents('remaining')}, currency, status, "
        f"{q.day('closed_on')} FROM item WHERE kind = '{ItemKind.INVOICE.value}' "
        "AND amount > 0",
    )
    cols: list[tuple[Any, ...]] = list(zip(*rows, strict=True)) if rows else [()] * 9
    issue, due = _ints(cols[2]), _ints(cols[3])
    missing = (issue == NULL_DAY) | (due == NULL_DAY)
    if missing.any():
        raise sc.ScoringError(
            f"{int(missing.sum())} invoices have no issue or due date "
            f"(first: item id {int(_ints(cols[0])[missing][0])})"
        )
    closed = _ints(cols[8])
    status = np.asarray(cols[7], dtype=object)
    paid = np.where((status == ItemStatus.CLOSED.value) & (closed != NULL_DAY),
                    closed, sc.NO_DAY).astype(np.int64)  # fmt: skip
    is_open = paid == sc.NO_DAY
    keep = np.ones(len(issue), dtype=bool)
    if today is not None:
        t = day_number(today)
        keep = issue <= t
        is_open = is_open | (paid > t)
        paid = np.where(paid > t, sc.NO_DAY, paid)
    events = fetch(
        s,
        f"SELECT customer_id, kind, status, {q.day('opened_on')}, "
        f"{q.day('closed_on')} FROM case_file WHERE kind IN "
        f"('{CaseKind.DISPUTE.value}', '{CaseKind.PROMISE.value}', "
        f"'{CaseKind.PAYMENT_PLAN.value}')",
    )
    ev_c, ev_d, ev_k = [], [], []
    for customer, kind, status_, opened, closed_on in events:
        if kind == CaseKind.DISPUTE.value:
            ev_c.append(customer)
            ev_d.append(opened)
            ev_k.append("dispute")
        elif status_ == CaseStatus.BROKEN.value and closed_on != NULL_DAY:
            ev_c.append(customer)
            ev_d.append(closed_on)
            ev_k.append("broken")
    amount = _ints(cols[4]).astype(np.float64) / 100
    book = sc.Book(
        customer=_ints(cols[1])[keep], issue=issue[keep], due=due[keep],
        amount=amount[keep], paid=paid[keep],
        event_customer=np.array(ev_c, dtype=np.int64),
        event_day=np.array(ev_d, dtype=np.int64),
        event_kind=np.array(ev_k, dtype="<U8"),
    )  # fmt: skip
    last = max(
        int(issue.max()) if len(issue) else 0, int(closed.max()) if len(closed) else 0
    )
    return BookColumns(
        book=book,
        item_id=_ints(cols[0])[keep],
        remaining_cents=_ints(cols[5])[keep],
        currency=np.asarray(cols[6], dtype=object)[keep],
        is_open=is_open[keep],
        last_day=last,
    )
