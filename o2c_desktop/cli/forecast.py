"""`o2c forecast show|backtest`: receipts per week and how well they fit (#21)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import ArgumentValueError, CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, parse_date
from o2c_desktop.engine import scoring as sc
from o2c_desktop.services.forecast import WEEKS, ForecastService

if TYPE_CHECKING:
    import argparse

MAX_WEEKS = 52


def register(subparsers: Any) -> None:
    """Add `o2c forecast show` and `o2c forecast backtest`."""
    forecast = subparsers.add_parser("forecast", help="cash forecast from pay dates")
    sub = forecast.add_subparsers(
        dest="forecast_command", metavar="ACTION", required=True
    )
    show = sub.add_parser("show", help="expected receipts per week, 10-90 %% bands")
    show.add_argument("--date", type=parse_date, help="from this day (today)")
    show.add_argument("--weeks", type=_weeks, default=WEEKS, help=f"({WEEKS})")
    show.add_argument("--currency", help="one currency (the book's main one)")
    add_json_flag(show)
    show.set_defaults(handler=_show)
    back = sub.add_parser(
        "backtest", help="replay the forecast from a past day: WAPE vs due dates"
    )
    back.add_argument(
        "--from", dest="start_date", type=parse_date, required=True,
        help="the day the replayed forecast is made",
    )  # fmt: skip
    back.add_argument("--weeks", type=_weeks, default=WEEKS, help=f"({WEEKS})")
    back.add_argument("--currency", help="one currency (the book's main one)")
    add_json_flag(back)
    back.set_defaults(handler=_backtest)


def _weeks(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise ArgumentValueError(f"not a whole number of weeks: {text!r}") from exc
    if not 1 <= value <= MAX_WEEKS:
        raise ArgumentValueError(f"weeks must be 1 to {MAX_WEEKS}: {text!r}")
    return value


def _currency(text: str | None) -> str | None:
    if text is None:
        return None
    code = text.strip().upper()
    if len(code) != 3 or not code.isalpha():
        raise CommandError(f"not a currency code: {text!r} (e.g. EUR)")
    return code


def _show(args: argparse.Namespace) -> Result:
    today = args.date or dt.datetime.now(dt.UTC).astimezone().date()
    with app_context() as ctx:
        try:
            f = ForecastService(ctx).forecast(
                today, weeks=args.weeks, currency=_currency(args.currency)
            )
        except sc.ScoringError as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "as_of": f.as_of, "currency": f.currency, "basis": f.basis,
        "model_id": f.model_id, "items": f.items,
        "weeks": [
            {"from": w.start, "expected": w.expected, "low": w.low, "high": w.high}
            for w in f.weeks
        ],
        "landing": {
            "month_end": f.landing_day, "expected": f.landing,
            "low": f.landing_low, "high": f.landing_high,
        },
    }  # fmt: skip
    lines = [f"{f.items} open invoices in {f.currency}, by the {f.basis}"]
    lines += [f"  {w.start}  {w.expected:>14}  ({w.low} to {w.high})" for w in f.weeks]
    lines.append(
        f"landing by {f.landing_day}: {f.landing} {f.currency} "
        f"({f.landing_low} to {f.landing_high})"
    )
    return Result(data=data, text="\n".join(lines))


def _backtest(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        try:
            b = ForecastService(ctx).backtest(
                args.start_date, weeks=args.weeks, currency=_currency(args.currency)
            )
        except sc.ScoringError as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "from": b.start, "currency": b.currency, "basis": b.basis,
        "reason": b.reason, "items": b.items,
        "wape": {"model": b.wape_model, "due_dates": b.wape_due_dates},
        "cumulative_wape": {
            "model": b.cumulative_wape_model, "due_dates": b.cumulative_wape_due_dates,
        },
        "weeks": [
            {
                "from": w.start, "actual": w.actual, "forecast": w.forecast,
                "low": w.low, "high": w.high, "due_dates": w.due_dates,
            }
            for w in b.weeks
        ],
    }  # fmt: skip
    head = f"{'week':10}  {'actual':>13}  {'forecast':>13}  {'due dates':>13}"
    lines = [
        f"{b.items} invoices open on {b.start} in {b.currency}, forecast by the "
        f"{b.basis}" + (f" ({b.reason})" if b.reason else ""),
        head,
    ]
    lines += [
        f"{w.start!s:10}  {w.actual:>13}  {w.forecast:>13}  {w.due_dates:>13}"
        for w in b.weeks
    ]
    lines.append(
        f"WAPE weekly: model {b.wape_model:.1%}, due dates {b.wape_due_dates:.1%}; "
        f"cumulative: model {b.cumulative_wape_model:.1%}, "
        f"due dates {b.cumulative_wape_due_dates:.1%}"
    )
    return Result(data=data, text="\n".join(lines))
