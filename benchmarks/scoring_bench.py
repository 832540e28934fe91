"""Payment scoring and the cash forecast, phase by phase (issue #21).

Builds (once, cached in benchmarks/.cache/) a demo book of the given size and
times, in this process: reading the book, the evaluation (train before the
split + predict after it), training on the whole history and storing the
model, applying it (every customer's score, every open invoice's pay date,
written), the 13-week forecast and its backtest. Prints time and the peak
resident memory so far. Budgets of the issue at 1M items: train 60 s and
2 GB, apply 10 s, forecast 2 s.

    .venv/bin/python -m benchmarks.scoring_bench --customers 10000 --items 100000
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks.book import BOOK_TODAY, SEED
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.demo import DEMO_VERSION
from o2c_desktop.services.forecast import ForecastService
from o2c_desktop.services.scoring import ScoringService

if TYPE_CHECKING:
    from collections.abc import Callable

CACHE = Path(__file__).parent / ".cache"


def _book(customers: int, items: int) -> Path:
    path = CACHE / f"scoring-v{DEMO_VERSION}-{customers}-{items}-{SEED}.sqlite3"
    if path.exists():
        return path
    CACHE.mkdir(exist_ok=True)
    url = f"sqlite:///{path}"
    env = {"O2C_DATABASE_URL": url, "O2C_CONFIG_DIR": str(CACHE / "config")}
    subprocess.run(
        [str(Path(sys.executable).with_name("o2c")), "demo", "--customers",
         str(customers), "--items", str(items), "--seed", str(SEED),
         "--today", BOOK_TODAY.isoformat()],
        check=True, env={**os.environ, **env},
    )  # fmt: skip
    return path


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _time(name: str, fn: Callable[[], Any]) -> Any:
    # CPU time too: on a shared machine the wall time mostly measures the others.
    start, cpu = time.perf_counter(), time.process_time()
    out = fn()
    wall, used = time.perf_counter() - start, time.process_time() - cpu
    print(f"{name:36} {wall:8.2f} s  cpu {used:7.2f} s  peak {_peak_mb():7.0f} MB")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=10_000)
    parser.add_argument("--items", type=int, default=100_000)
    args = parser.parse_args()
    source = _book(args.customers, args.items)
    work = CACHE / "scoring-work.sqlite3"
    work.write_bytes(source.read_bytes())  # apply writes: keep the cache clean
    db = open_database(f"sqlite:///{work}")
    try:
        ctx = AppContext(db=db, user_login="night-job")
        scoring, forecast = ScoringService(ctx), ForecastService(ctx)
        print(f"book: {args.customers} customers, {args.items} items, {BOOK_TODAY}")
        print(f"load average at start: {os.getloadavg()[0]:.1f}")
        cols = _time("read the book", lambda: scoring.book(BOOK_TODAY))
        print(f"  {len(cols.book)} invoices, {int(cols.book.is_paid.sum())} paid")
        split = BOOK_TODAY - dt.timedelta(days=180)
        e = _time("evaluate (train + predict)", lambda: scoring.evaluate(split))
        for r in e.rows:
            print(f"  {r.name:32} {r.auc} {r.brier} {r.mae_days} {r.coverage}")
        _time("train on all + store", lambda: scoring.train(BOOK_TODAY))
        a = _time("apply: scores + pay dates", lambda: scoring.apply(BOOK_TODAY))
        print(f"  {a.customers} customers, {a.items} open invoices")
        _time("  predict open only (no writes)", lambda: scoring.predict_open(
            cols, BOOK_TODAY))  # fmt: skip
        _time("forecast 13 weeks", lambda: forecast.forecast(BOOK_TODAY))
        b = _time(
            "backtest 13 weeks (trains)",
            lambda: forecast.backtest(BOOK_TODAY - dt.timedelta(weeks=20)),
        )
        print(
            f"  WAPE weekly {b.wape_model:.1%} vs due dates {b.wape_due_dates:.1%}; "
            f"cumulative {b.cumulative_wape_model:.1%} vs "
            f"{b.cumulative_wape_due_dates:.1%}"
        )
    finally:
        db.dispose()
        work.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
