"""Dunning operations for the benchmark runner (issue 4 budgets).

Each function opens the database at `url`, runs once and returns the run's
counts; the runner measures time and memory around the call.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import DunningService


def _run(url: str, date: str | dt.date, *, dry_run: bool) -> dict[str, Any]:
    day = date if isinstance(date, dt.date) else dt.date.fromisoformat(date)
    db = open_database(url)
    try:
        service = DunningService(AppContext(db=db, user_login="benchmark"))
        # A benchmark book is far over the send cap; the real run confirms it.
        return service.run(day, dry_run=dry_run, confirm=True).as_dict()
    finally:
        db.dispose()


def dry_run(url: str, date: str | dt.date) -> dict[str, Any]:
    """A dry run of the whole book on `date` (budget: 10 s for 1M items)."""
    return _run(url, date, dry_run=True)


def real_run(url: str, date: str | dt.date) -> dict[str, Any]:
    """A real run on `date`, documents excluded (budget: 30 s for 1M items)."""
    return _run(url, date, dry_run=False)
