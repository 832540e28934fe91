"""Dunning operations for the benchmark runner (issue 4 budgets).

Each function opens the database at `url`, runs once on the book's last day
and returns the run's counts; the runner measures time and memory around the
call. The real run includes the case review that precedes it every night;
"engine only" leaves the review out to show what the dunning run itself costs.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from benchmarks.book import BOOK_TODAY
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import DunningService


def _run(
    url: str, date: str | dt.date, *, dry_run: bool, review: bool = True
) -> dict[str, Any]:
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    db = open_database(url)
    try:
        service = DunningService(
            AppContext(db=db, user_login="benchmark"), review_cases=review
        )
        # A benchmark book is far over the send cap; the real run confirms it.
        return service.run(day, dry_run=dry_run, confirm=True).as_dict()
    finally:
        db.dispose()


def dry_run(url: str, date: str | dt.date = BOOK_TODAY) -> dict[str, Any]:
    """A dry run of the whole book on `date` (budget: 10 s for 1M items)."""
    return _run(url, date, dry_run=True)


def real_run(url: str, date: str | dt.date = BOOK_TODAY) -> dict[str, Any]:
    """A real run on `date`, case review included (budget: 30 s for 1M items)."""
    return _run(url, date, dry_run=False)


def real_run_engine(url: str, date: str | dt.date = BOOK_TODAY) -> dict[str, Any]:
    """A real run on `date` without the case review before it."""
    return _run(url, date, dry_run=False, review=False)


# {size} is the book's item count ("1M", "40k"): the runner fills it in.
OPS = {"dunning: dry run {size}": dry_run}
WRITE_OPS = {
    "dunning: real run {size}": real_run,
    "dunning: real run {size}, engine only": real_run_engine,
}
