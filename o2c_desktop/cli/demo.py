"""`o2c demo`: build the demo book into the configured database."""

from __future__ import annotations

import argparse
import sys
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, parse_date
from o2c_desktop.services.demo import (
    DEFAULT_CUSTOMERS,
    DEFAULT_ITEMS,
    DEFAULT_SEED,
    DemoError,
    NotEmptyError,
    adopt_demo_user,
    build_demo,
)

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.services.demo import DemoSummary

_DESCRIPTION = """\
Build a realistic demo book into the configured database: French and Spanish
customers with contacts, three years of invoices, credit notes, payments and
unapplied cash ending at --today, the seed's "Standard" dunning scenario and a
"Grand Compte" one, promises, payment plans, disputes and litigation in every
state, the dunning history of the open items, and 24 monthly balance snapshots.
Users: five collectors (one away, replaced), a credit manager and an admin.

The demo goes only into an empty database: if it already holds customers,
items, users or scenarios, the command stops and changes nothing, unless
--replace is given, which deletes EVERYTHING in the database first (keeping
the schema), or --if-empty, which then succeeds without building anything
(what a first-run script wants). The same --seed and --today give the same
book.

If no current user is set (or the one set does not exist in the new book),
the command makes the collector "arossi" the current user.

Scale: the benchmark book is --customers 100000 --items 1000000."""


def _count(text: str) -> int:
    try:
        value = int(text.replace("_", ""))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from exc
    if value < 0:
        raise argparse.ArgumentTypeError(f"must not be negative: {text!r}")
    return value


def register(subparsers: Any) -> None:
    """Add `o2c demo`."""
    demo = subparsers.add_parser(
        "demo",
        help="build a realistic demo book (refuses a non-empty database)",
        description=_DESCRIPTION,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument(
        "--customers",
        type=_count,
        default=DEFAULT_CUSTOMERS,
        metavar="N",
        help=f"number of customers (default {DEFAULT_CUSTOMERS:,})",
    )
    demo.add_argument(
        "--items",
        type=_count,
        default=DEFAULT_ITEMS,
        metavar="M",
        help=f"number of items of all kinds (default {DEFAULT_ITEMS:,})",
    )
    demo.add_argument(
        "--seed",
        type=_count,
        default=DEFAULT_SEED,
        metavar="S",
        help=f"random seed (default {DEFAULT_SEED})",
    )
    demo.add_argument(
        "--today",
        type=parse_date,
        metavar="YYYY-MM-DD",
        help="last day of the book (default: today)",
    )
    existing = demo.add_mutually_exclusive_group()
    existing.add_argument(
        "--replace",
        action="store_true",
        help="delete everything in the database first (irreversible)",
    )
    existing.add_argument(
        "--if-empty",
        action="store_true",
        help="if the database already holds data, leave it and succeed (first run)",
    )
    add_json_flag(demo)
    demo.set_defaults(handler=_demo)


def _demo(args: argparse.Namespace) -> Result:
    today = args.today
    if args.customers < 1:
        raise CommandError("--customers must be at least 1")
    report = None if args.json or not sys.stderr.isatty() else _progress()
    with app_context() as ctx:
        database = ctx.db.description
        try:
            summary = build_demo(
                ctx.db,
                customers=args.customers,
                items=args.items,
                seed=args.seed,
                today=today,
                replace=args.replace,
                report=report,
            )
        except NotEmptyError as exc:
            if not args.if_empty:
                raise CommandError(str(exc)) from exc
            return Result(
                data={"database": database, "built": False},
                text=f"{database} already holds data: no demo book built.",
            )
        except DemoError as exc:
            raise CommandError(str(exc)) from exc
        finally:
            if report is not None:
                print(file=sys.stderr)  # noqa: T201 - ends the progress line
    user, user_note = adopt_demo_user(summary)
    data = {
        "database": database,
        "built": True,
        "seconds": round(summary.seconds, 2),
        "seed": summary.seed,
        "today": summary.today.isoformat(),
        "replaced": summary.replaced,
        "counts": summary.counts,
        "open_items": summary.open_items,
        "users": [
            {"login": login, "name": name, "role": role}
            for login, name, role in summary.users
        ],
        "current_user": user,
    }
    return Result(data=data, text=_text(summary, database, user_note))


def _progress() -> Callable[[float], None]:
    def report(pct: float) -> None:
        print(f"\ro2c demo: {pct:3.0f} %", end="", file=sys.stderr, flush=True)  # noqa: T201

    return report


def _text(summary: DemoSummary, database: str, user_note: str) -> str:
    c = summary.counts
    action = "replaced by" if summary.replaced else "built into"
    lines = [
        f"Demo book {action} {database} in {summary.seconds:.1f} s "
        f"(seed {summary.seed}, ending {summary.today.isoformat()}):",
        f"  {c.get('customer', 0):,} customers, {c.get('contact', 0):,} contacts, "
        f"{c.get('item', 0):,} items ({summary.open_items:,} open), "
        f"{c.get('case_file', 0):,} cases, {c.get('action', 0):,} actions, "
        f"{c.get('snapshot_line', 0):,} snapshot lines",
        "  Users: "
        + ", ".join(f"{login} ({role})" for login, _name, role in summary.users),
        user_note,
    ]
    return "\n".join(lines)
