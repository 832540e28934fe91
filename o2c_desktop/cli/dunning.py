"""`o2c dunning run|plan`: the dunning engine, headless (a nightly job uses it)."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import parse_date, services
from o2c_desktop.engine.dunning import RunDateError
from o2c_desktop.i18n import _, ngettext
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.cases import FutureDateError
from o2c_desktop.services.dunning import SendCapExceededError

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any) -> None:
    """Add `o2c dunning run` and `o2c dunning plan`."""
    dunning = subparsers.add_parser("dunning", help="run the dunning engine")
    sub = dunning.add_subparsers(
        dest="dunning_command", metavar="ACTION", required=True
    )
    run = sub.add_parser(
        "run", help="create today's reminders and agenda actions (or a dry run)"
    )
    run.add_argument("--date", required=True, type=parse_date, help="YYYY-MM-DD")
    run.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the run would do, its case review included; write nothing",
    )
    run.add_argument(
        "--allow-future",
        action="store_true",
        help="allow a real run dated after today (a dry run may always look ahead)",
    )
    run.add_argument(
        "--confirm",
        action="store_true",
        help="allow a run that sends more automatic emails/letters than the cap",
    )
    add_json_flag(run)
    run.set_defaults(handler=_run)
    plan = sub.add_parser(
        "plan", help="what the scenarios would produce day by day if nobody pays"
    )
    plan.add_argument("--from", dest="start", required=True, type=parse_date)
    plan.add_argument("--days", type=int, default=30, help="number of days (30)")
    add_json_flag(plan)
    plan.set_defaults(handler=_plan)


def _run(args: argparse.Namespace) -> Result:
    # With mail configured the run sends its automatic reminders itself;
    # without, they wait in the "to confirm" tab with the reason.
    with services() as built:
        try:
            result = built.dunning.run(
                args.date,
                dry_run=args.dry_run,
                confirm=args.confirm,
                allow_future=args.allow_future,
            )
        except FutureDateError as exc:
            raise CommandError(f"{exc} (--dry-run), or --allow-future") from exc
        except (RunDateError, SendCapExceededError, ConflictError) as exc:
            raise CommandError(str(exc)) from exc
    data = result.as_dict()
    verb = "would create" if result.dry_run else "created"
    lines = [
        f"Dunning {result.day.isoformat()}: {verb} "
        + ngettext("{n} action", "{n} actions", result.actions).format(n=result.actions)
        + f" for {result.customers} customers ({result.items} items).",
        "By type: " + _pairs(result.by_type),
        "By mode: " + _pairs(result.by_mode),
        "By step: " + _pairs(result.by_step),
        "Amounts: " + _pairs({k: str(v) for k, v in result.amounts.items()}),
        f"Automatic sends: {result.automatic_sends} (cap {result.send_cap})"
        + (" - over the cap: a real run needs --confirm" if result.over_cap else ""),
    ]
    if result.cancelled_paid:
        lines.append(f"Cancelled because paid: {result.cancelled_paid}")
    if result.review:
        would = " (would)" if result.dry_run else ""
        lines.append(f"Case review first{would}: " + _pairs(result.review))
    if result.resumed or result.interrupted:
        lines.append(
            f"Left by an earlier crash: {result.resumed} sent now, "
            f"{result.interrupted} cut off mid-send handed to agendas to check."
        )
    if not result.dry_run:
        lines.append(
            f"Sent {result.sent}, failed {result.failed}, "
            f"to confirm {result.to_confirm}, in agendas {result.pending}."
        )
        if result.to_retry:
            lines.append(
                f"Not sent yet, the mail server could not be reached: "
                f"{result.to_retry}; the next run tries them again."
            )
    return Result(data=data, text="\n".join(lines))


def _plan(args: argparse.Namespace) -> Result:
    if args.days < 1 or args.days > 366:
        raise CommandError("--days must be between 1 and 366")
    with services() as built:
        days = built.dunning.plan(args.start, args.days)
    busy = [p for p in days if p.actions]
    if not busy:
        return Result(data={"days": []}, text=_("Nothing planned."))
    total = sum(p.actions for p in days)
    rows = [
        (p.day.isoformat(), str(p.actions), str(p.items), _pairs(p.by_type))
        for p in busy
    ]
    head = (_("date"), _("actions"), _("items"), _("by type"))
    widths = [max(len(r[i]) for r in (head, *rows)) for i in range(3)]

    def line(cells: tuple[str, ...]) -> str:
        day, actions, items, kinds = cells
        return (
            f"{day:<{widths[0]}}  {actions:>{widths[1]}}  {items:>{widths[2]}}  {kinds}"
        ).rstrip()

    end = args.start + dt.timedelta(days=args.days - 1)
    summary = ngettext(
        "{count} action from {start} to {end}:",
        "{count} actions from {start} to {end}:",
        total,
    ).format(count=total, start=args.start.isoformat(), end=end.isoformat())
    lines = [summary, line(head), *(line(r) for r in rows)]
    return Result(
        data={"days": [p.as_dict() for p in days]},
        text="\n".join(lines),
    )


def _pairs(values: dict[str, Any]) -> str:
    return ", ".join(f"{k} {v}" for k, v in values.items()) or "-"
