"""`o2c score evaluate|train|apply`: the payment-behaviour model (#21).

`evaluate` prints the model, the rule and the naive baselines side by side
on a split date; `train` measures, stores the model (or the rule, with the
reason) in the database; `apply` writes every customer's score and class and
every open invoice's expected pay date. `train` then `apply` run nightly.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, parse_date
from o2c_desktop.engine import scoring as sc
from o2c_desktop.services.scoring import ScoringService, from_day

if TYPE_CHECKING:
    import argparse

    from o2c_desktop.engine.scoring_eval import Evaluation


def register(subparsers: Any) -> None:
    """Add `o2c score evaluate`, `o2c score train` and `o2c score apply`."""
    score = subparsers.add_parser("score", help="payment-behaviour model and scores")
    sub = score.add_subparsers(dest="score_command", metavar="ACTION", required=True)
    evaluate = sub.add_parser(
        "evaluate", help="model vs naive baselines on a split date (stores nothing)"
    )
    evaluate.add_argument(
        "--split-date", type=parse_date, required=True,
        help="train on what was paid before it, predict what was issued from it",
    )  # fmt: skip
    add_json_flag(evaluate)
    evaluate.set_defaults(handler=_evaluate)
    train = sub.add_parser("train", help="measure and store the model (nightly)")
    train.add_argument(
        "--date", type=parse_date, help="the book as of this day (today)"
    )
    add_json_flag(train)
    train.set_defaults(handler=_train)
    apply = sub.add_parser(
        "apply", help="write customer scores and open invoices' expected pay dates"
    )
    apply.add_argument("--date", type=parse_date, help="score on this day (today)")
    add_json_flag(apply)
    apply.set_defaults(handler=_apply)


def _today(value: dt.date | None) -> dt.date:
    return value or dt.datetime.now(dt.UTC).astimezone().date()


def _fmt(value: float | None, digits: int) -> str:
    return "-" if value is None or value != value else f"{value:.{digits}f}"


def evaluation_data(e: Evaluation) -> dict[str, Any]:
    """The JSON of an evaluation."""
    return {
        "split_date": from_day(e.split_day),
        "trained_on": e.trained_on,
        "predicted": e.predicted,
        "still_open_left_out": e.still_open,
        "model_ships": e.model_ships,
        "reason": e.reason,
        "rows": [
            {
                "name": r.name, "auc": r.auc, "brier": r.brier,
                "mae_days": r.mae_days, "coverage_80": r.coverage,
            }
            for r in e.rows
        ],
    }  # fmt: skip


def evaluation_text(e: Evaluation) -> str:
    """The side-by-side table of an evaluation."""
    head = ("", "ROC AUC", "Brier", "MAE days", "80% cover")
    table = [
        (r.name, _fmt(r.auc, 3), _fmt(r.brier, 4), _fmt(r.mae_days, 1),
         _fmt(None if r.coverage is None else r.coverage * 100, 1))
        for r in e.rows
    ]  # fmt: skip
    widths = [max(len(row[i]) for row in (head, *table)) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(widths[i]) if i == 0 else c.rjust(widths[i])
            for i, c in enumerate(row)
        ).rstrip()
        for row in (head, *table)
    ]
    verdict = "the model ships" if e.model_ships else f"the rule is used: {e.reason}"
    return "\n".join(
        [
            f"split {from_day(e.split_day)}: trained on {e.trained_on} paid invoices, "
            f"predicted {e.predicted} (issued from the split, paid since; "
            f"{e.still_open} still open left out)",
            *lines,
            verdict,
        ]
    )


def _evaluate(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        try:
            e = ScoringService(ctx).evaluate(args.split_date)
        except sc.ScoringError as exc:
            raise CommandError(str(exc)) from exc
    return Result(data=evaluation_data(e), text=evaluation_text(e))


def _train(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with app_context() as ctx:
        try:
            r = ScoringService(ctx).train(today)
        except sc.ScoringError as exc:
            raise CommandError(str(exc)) from exc
    data: dict[str, Any] = {
        "model_id": r.model_id, "basis": r.basis, "reason": r.reason,
        "trained_on": r.trained_on, "date": today,
        "evaluation": evaluation_data(r.evaluation) if r.evaluation else None,
    }  # fmt: skip
    text = [f"model {r.model_id} stored: {r.basis} ({r.trained_on} paid invoices)"]
    if r.evaluation is not None:
        text.append(evaluation_text(r.evaluation))
    elif r.reason:
        text.append(f"the rule is used: {r.reason}")
    return Result(data=data, text="\n".join(text))


def _apply(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with app_context() as ctx:
        try:
            r = ScoringService(ctx).apply(today)
        except sc.ScoringError as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "model_id": r.model_id, "basis": r.basis, "customers": r.customers,
        "items": r.items, "classes": r.classes, "reason": r.reason, "date": today,
    }  # fmt: skip
    classes = ", ".join(f"{k} {v}" for k, v in r.classes.items())
    text = (
        f"{r.customers} customers scored ({classes}), {r.items} open invoices "
        f"given a pay date, by the {r.basis}" + (f" ({r.reason})" if r.reason else "")
    )
    return Result(data=data, text=text)
