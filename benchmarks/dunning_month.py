"""A month of nightly dunning runs on a small demo book (issue 4, "Done when").

Builds a demo book into a scratch SQLite file, then runs the nightly job once
per day for `--days` days from the book's last day: the case review, then the
dunning run, with every automatic reminder "sent" by a stand-in mailer (issue
5 does documents and email). Nobody works the agenda, so manual actions pile
up and hold their items, as they would during a month of holidays. Prints one
line per day, the share of automatic actions and a collector's agenda at the
end::

    python -m benchmarks.dunning_month --customers 2000 --items 20000 --days 30
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from benchmarks.book import BOOK_TODAY, SEED
from o2c_desktop.engine.types import ActionStatus
from o2c_desktop.models import Action, Customer, User
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.demo import build_demo
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.outbox import Outcome

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.outbox import Entry


class StandInMailer:
    """Sends every automatic action (no documents, no mail server)."""

    def perform(self, entry: Entry) -> Outcome:
        """Report the action sent."""
        return Outcome(True, "sent (stand-in)")


def _agenda(db: Database, login: str, limit: int = 15) -> list[str]:
    with db.session() as s:
        rows = s.execute(
            select(
                Action.planned_date,
                Customer.name,
                Action.subject,
                Action.amount,
                Action.reason,
            )
            .join(Customer, Customer.id == Action.customer_id)
            .join(User, User.id == Action.assigned_to_id)
            .where(User.login == login, Action.status == ActionStatus.PENDING)
            .order_by(Action.planned_date.desc(), Action.amount.desc())
            .limit(limit)
        ).all()
        total = s.scalar(
            select(func.count())
            .select_from(Action)
            .join(User, User.id == Action.assigned_to_id)
            .where(User.login == login, Action.status == ActionStatus.PENDING)
        )
    lines = [f"{login}: {total} actions pending; the most recent:"]
    for day, name, subject, amount, reason in rows:
        note = f"  ({reason})" if reason else ""
        lines.append(f"  {day}  {name[:28]:28}  {subject or '':34}  {amount}{note}")
    return lines


def month(
    url: str, start: dt.date, days: int, *, login: str = "arossi"
) -> dict[str, Any]:
    """Run the nightly job `days` times from `start`; return the counts."""
    db = open_database(url)
    out: dict[str, Any] = {"days": []}
    totals: Counter[str] = Counter()
    try:
        service = DunningService(
            AppContext(db=db, user_login="night-job"), StandInMailer()
        )
        for n in range(days):
            day = start + dt.timedelta(days=n)
            started = time.perf_counter()
            result = service.run(day, confirm=True)
            seconds = time.perf_counter() - started
            by_mode = result.by_mode
            review = result.review.get("actions_created", 0)
            totals.update(by_mode)
            totals["review"] += review
            totals["sent"] += result.sent
            totals["cancelled_paid"] += result.cancelled_paid
            out["days"].append(
                {
                    "date": day.isoformat(),
                    "weekday": day.strftime("%a"),
                    "actions": result.actions,
                    "by_mode": by_mode,
                    "by_type": result.by_type,
                    "review": result.review,
                    "sent": result.sent,
                    "seconds": round(seconds, 2),
                }
            )
            print(
                f"{day} {day.strftime('%a')}  {result.actions:5d} actions "
                f"(auto {by_mode.get('automatic', 0):4d}, confirm "
                f"{by_mode.get('confirm', 0):3d}, manual {by_mode.get('manual', 0):3d})"
                f"  + case review {review:3d}  {seconds:5.2f} s"
            )
        dunning = sum(totals[m] for m in ("automatic", "confirm", "manual"))
        created = dunning + totals["review"]
        out["totals"] = dict(totals)
        out["share_automatic"] = (
            round(totals["automatic"] / created, 3) if created else 0
        )
        out["share_automatic_of_dunning"] = (
            round(totals["automatic"] / dunning, 3) if dunning else 0
        )
        out["actions_per_day"] = round(created / days, 1)
        out["agenda"] = _agenda(db, login)
    finally:
        db.dispose()
    return out


def main() -> None:
    """Build a small demo book and run a month of nightly runs on it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--items", type=int, default=20000)
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        url = f"sqlite:///{Path(folder) / 'month.sqlite3'}"
        db = open_database(url)
        try:
            build_demo(
                db,
                customers=args.customers,
                items=args.items,
                seed=SEED,
                today=BOOK_TODAY,
            )
        finally:
            db.dispose()
        result = month(url, BOOK_TODAY, args.days)
    print(
        f"\n{args.days} days: {result['totals']}\n"
        f"automatic share: {result['share_automatic']:.1%} of all actions created "
        f"({result['share_automatic_of_dunning']:.1%} of dunning actions), "
        f"{result['actions_per_day']} actions per day\n" + "\n".join(result["agenda"])
    )
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
