"""Dunning runs on a book with over 1,000,000 *open* items (issue 4, worst case).

The benchmark book of `benchmarks.run` holds three years of history: of its
1,000,000 items only about 100,000 are still open. DESIGN.md budgets a book of
1,000,000 open items, so this script builds its own: a demo book of 1,100,000
items (100,000 customers) in which every closed invoice, credit note and
adjustment is opened again (status open, remaining = amount, no close date);
payments and unapplied cash stay as they are. Every reopened item keeps the
dunning step it had reached when it was paid, so the first run is a huge
catch-up: nearly every customer gets an action.

Each operation runs in a fresh child process (its wall time is measured inside
the child, opening the database included, as `benchmarks.run` does; its peak
resident memory comes from ``os.wait4``):

- the dry run on the book's last day (`--repeat` runs, median);
- the real run, engine only (no case review), on a fresh copy of the book,
  then the next business day's run on the same copy;
- the real run with the case review before it, on another fresh copy, then
  the next business day's run on that copy (what a normal night costs once the
  catch-up is done).

Usage (from the repository root)::

    python -m benchmarks.dunning_open                       # SQLite
    python -m benchmarks.dunning_open --pg postgresql://postgres@127.0.0.1:5432/test
    python -m benchmarks.dunning_open --customers 2000 --items 22000   # a quick try

The book is cached as ``benchmarks/.cache/open-<key>.sqlite3`` and, with
``--pg``, in the schema ``o2c_open_<key>``; copies for writes are
``o2c_open_copy_<pid>`` schemas. It never touches the books of
`benchmarks.run` (``book-*`` files, ``o2c_bench_*`` schemas).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Date, bindparam, create_engine, text

from benchmarks import book, run
from o2c_desktop.engine.types import ItemKind, ItemStatus
from o2c_desktop.models.db import head_revision
from o2c_desktop.services.demo import DEMO_VERSION

if TYPE_CHECKING:
    from collections.abc import Iterator

    from sqlalchemy import Connection

CACHE = run.CACHE
ITEMS = 1_100_000  # about 91.5 % are invoices, credit notes or adjustments
REOPENED = (ItemKind.INVOICE, ItemKind.CREDIT_NOTE, ItemKind.ADJUSTMENT)
BUDGET_DRY = 10.0  # seconds (issue 4)
BUDGET_REAL = 30.0
BUDGET_MB = 2000.0
_SCHEMA = "o2c_open_"
_COPY = "o2c_open_copy_"


# -- results -----------------------------------------------------------------------


@dataclass
class Row:
    """The runs of one operation on one database."""

    budget: float
    seconds: list[float] = field(default_factory=list)
    peaks: list[float] = field(default_factory=list)
    loads: list[float] = field(default_factory=list)  # 1-min load average at start
    counts: dict[str, Any] = field(default_factory=dict)  # of the last run
    error: str | None = None

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def peak(self) -> float:
        return max(self.peaks) if self.peaks else 0.0

    @property
    def over(self) -> bool:
        return bool(self.seconds) and (
            self.median > self.budget or self.peak > BUDGET_MB
        )

    def cell(self) -> str:
        """What the table shows: time · peak memory · actions / items."""
        if self.error:
            return f"FAILED: {self.error}"
        if not self.seconds:
            return "-"
        shown = f"{self.median:.1f} s" if self.median >= 10 else f"{self.median:.2f} s"
        shown += f" · {self.peak:,.0f} MB"
        if self.counts:
            shown += (
                f" · {self.counts.get('actions', 0):,} act"
                f" / {self.counts.get('items', 0):,} it"
            )
            review = self.counts.get("review", {}).get("actions_created")
            if review:
                shown += f" (+{review:,} review)"
        return shown + (" OVER" if self.over else "")


@dataclass(frozen=True)
class OpenBook:
    """The open-items book on one database kind."""

    kind: str  # "sqlite" or "postgresql"
    url: str
    key: str
    meta: dict[str, Any]  # build measure and item counts


# -- the book ------------------------------------------------------------------------


def cache_key(customers: int, items: int, seed: int) -> str:
    """Everything the book depends on (`benchmarks.run.cache_key` plus "open")."""
    return run.cache_key(customers, items, seed)


def reopen(conn: Connection, pg: bool) -> int:
    """Open every closed invoice, credit note and adjustment again, in full.

    Returns:
        The number of items reopened.
    """
    kinds = ", ".join(f"'{k.value}'" for k in REOPENED)
    result = conn.execute(
        text(
            "UPDATE item SET status = :open, remaining = amount, closed_on = NULL "
            f"WHERE status = :closed AND kind IN ({kinds}) AND amount <> 0"
        ),
        {"open": ItemStatus.OPEN.value, "closed": ItemStatus.CLOSED.value},
    )
    # An open item always has something left (the engine reads remaining <> 0).
    left = conn.execute(
        text("SELECT count(*) FROM item WHERE status = :open AND remaining = 0"),
        {"open": ItemStatus.OPEN.value},
    ).scalar_one()
    if left:
        raise RuntimeError(f"{left} open items with nothing remaining")
    if not pg:
        conn.exec_driver_sql("ANALYZE")
    return int(result.rowcount)


def item_counts(url: str) -> dict[str, int]:
    """Open items, overdue on the book's last day, and all items."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            row = conn.execute(
                text(
                    "SELECT count(*), SUM(CASE WHEN status = :open "
                    "AND remaining <> 0 THEN 1 ELSE 0 END), "
                    "SUM(CASE WHEN status = :open AND remaining <> 0 "
                    "AND due_date < :today THEN 1 ELSE 0 END) FROM item"
                ).bindparams(bindparam("today", type_=Date)),
                {"open": ItemStatus.OPEN.value, "today": book.BOOK_TODAY},
            ).one()
    finally:
        engine.dispose()
    return {"items": int(row[0]), "open": int(row[1]), "overdue": int(row[2])}


def sqlite_book(customers: int, items: int, seed: int, rebuild: bool) -> OpenBook:
    """The cached SQLite open-items book, built if missing or stale."""
    key = cache_key(customers, items, seed)
    path = CACHE / f"open-{key}.sqlite3"
    meta_path = path.with_suffix(".json")
    url = f"sqlite:///{path}"
    if path.exists() and meta_path.exists() and not rebuild:
        return OpenBook("sqlite", url, key, json.loads(meta_path.read_text()))
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("open-*"):  # only this script's books
        old.unlink()
    partial = path.with_name(path.name + ".partial")
    for stale in (partial, Path(f"{partial}-wal"), Path(f"{partial}-shm")):
        stale.unlink(missing_ok=True)
    measure = run.build(f"sqlite:///{partial}", customers, items, seed)
    started = time.perf_counter()
    engine = create_engine(f"sqlite:///{partial}")
    try:
        with engine.begin() as conn:
            reopened = reopen(conn, pg=False)
        with engine.connect() as conn:
            conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        engine.dispose()
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.replace(path)
    meta = _meta(measure, reopened, time.perf_counter() - started, url)
    meta_path.write_text(json.dumps(meta, indent=2))
    return OpenBook("sqlite", url, key, meta)


def pg_book(
    server: str, customers: int, items: int, seed: int, rebuild: bool
) -> OpenBook:
    """The open-items book in its own schema of the PostgreSQL server."""
    key = cache_key(customers, items, seed)
    schema = _SCHEMA + re.sub(r"[^a-z0-9_]", "_", key.lower())[:50]
    url = run._schema_url(server, schema)
    meta_path = CACHE / f"pg-{schema}.json"
    admin = create_engine(run._admin_url(server))
    try:
        with admin.begin() as conn:
            ready = run._pg_ready(conn, schema, customers)
            if ready and meta_path.exists() and not rebuild:
                return OpenBook(
                    "postgresql", url, key, json.loads(meta_path.read_text())
                )
            for old in conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": _SCHEMA.replace("_", r"\_") + "%"},
            ).scalars():
                if not old.startswith(_COPY):  # a running copy is someone's
                    conn.execute(text(f'DROP SCHEMA "{old}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            measure = run.build(url, customers, items, seed)
            started = time.perf_counter()
            target = create_engine(url)
            try:
                with target.begin() as conn:
                    reopened = reopen(conn, pg=True)
                with target.connect() as conn:
                    # The UPDATE left a dead copy of most rows: clean, then plan.
                    conn.execution_options(isolation_level="AUTOCOMMIT")
                    conn.exec_driver_sql("VACUUM (ANALYZE)")
            finally:
                target.dispose()
        except Exception:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            raise
    finally:
        admin.dispose()
    for old_meta in CACHE.glob(f"pg-{_SCHEMA}*.json"):
        old_meta.unlink()
    meta = _meta(measure, reopened, time.perf_counter() - started, url)
    meta_path.write_text(json.dumps(meta, indent=2))
    return OpenBook("postgresql", url, key, meta)


def _meta(
    measure: run.Measure, reopened: int, seconds: float, url: str
) -> dict[str, Any]:
    return {
        "build_seconds": measure.seconds[0],
        "build_peak_mb": measure.peak_mb,
        "reopen_seconds": seconds,
        "reopened": reopened,
        "built": time.strftime("%Y-%m-%d %H:%M"),
        **item_counts(url),
    }


# -- fresh copies for writes ----------------------------------------------------------


@contextlib.contextmanager
def fresh_copy(source: OpenBook, server: str | None) -> Iterator[str]:
    """A throwaway copy of the book: a file copy, or a copy schema."""
    if source.kind == "sqlite":
        copy = contextlib.contextmanager(run.sqlite_copy)
        with copy(run.Book("sqlite", source.url, source.key)) as url:
            yield url
        return
    assert server is not None
    yield from run.pg_copy(run.Book(source.kind, source.url, source.key), server, _COPY)


# -- operations, each in a child process -------------------------------------------


def _child(op: str, url: str, day: dt.date) -> dict[str, Any]:
    """Run one operation here and return its time and counts (the child's side)."""
    from benchmarks import dunning_ops

    fn = {
        "dry": dunning_ops.dry_run,
        "real": dunning_ops.real_run,
        "engine": dunning_ops.real_run_engine,
    }[op]
    started = time.perf_counter()
    result = fn(url, day)
    return {"seconds": time.perf_counter() - started, "result": result}


def measure(op: str, url: str, day: dt.date, row: Row) -> None:
    """Run `op` once in a fresh child process; add its time and peak RSS to `row`."""
    env = dict(os.environ)
    env.update(O2C_CONFIG_DIR=str(CACHE / "config"), O2C_DATA_DIR=str(CACHE / "data"))
    env.pop("O2C_USER", None)
    args = [sys.executable, "-m", "benchmarks.dunning_open", "--child", op,
            "--url", url, "--date", day.isoformat()]  # fmt: skip
    row.loads.append(os.getloadavg()[0])
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=run.ROOT)
        _pid, status, usage = os.wait4(proc.pid, 0)
        code = os.waitstatus_to_exitcode(status)
        if code != 0:
            err.seek(0)
            lines = err.read().decode(errors="replace").strip().splitlines()
            sys.stderr.write("\n".join(lines[-30:]) + "\n")
            raise RuntimeError(lines[-1] if lines else f"exit status {code}")
        out.seek(0)
        data = json.loads(out.read().decode().strip().splitlines()[-1])
    scale = 1 if sys.platform == "darwin" else 1024  # ru_maxrss: KiB on Linux
    row.seconds.append(data["seconds"])
    row.peaks.append(usage.ru_maxrss * scale / 1e6)
    result = data["result"]
    row.counts = {k: result[k] for k in ("actions", "items", "customers", "review")}
    row.counts["left_out"] = result.get("left_out", {})


def next_business_day(day: dt.date) -> dt.date:
    """The next Monday-to-Friday day (2 Nov 2026 is a Monday: the 3rd)."""
    day += dt.timedelta(days=1)
    while day.weekday() >= 5:
        day += dt.timedelta(days=1)
    return day


def bench(
    b: OpenBook, server: str | None, repeat: int, write_repeat: int
) -> dict[str, Row]:
    """All the operations on one book."""
    today = book.BOOK_TODAY
    tomorrow = next_business_day(today)
    rows = {
        "dry run": Row(BUDGET_DRY),
        "real run, engine only": Row(BUDGET_REAL),
        "  next day, engine only": Row(BUDGET_REAL),
        "real run + case review": Row(BUDGET_REAL),
        "  next day + case review": Row(BUDGET_REAL),
    }

    def attempt(name: str, op: str, url: str, day: dt.date) -> bool:
        row = rows[name]
        print(f"[{b.kind}] {name.strip()} ({day}), load {os.getloadavg()[0]:.2f}",
              file=sys.stderr, flush=True)  # fmt: skip
        try:
            measure(op, url, day, row)
        except Exception as exc:  # noqa: BLE001 - report it in the table
            row.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:100]
            return False
        print(f"[{b.kind}]   {row.seconds[-1]:.2f} s, {row.peaks[-1]:,.0f} MB",
              file=sys.stderr, flush=True)  # fmt: skip
        return True

    for _ in range(repeat):
        if not attempt("dry run", "dry", b.url, today):
            break
    for _ in range(write_repeat):
        for op, first, second in (
            ("engine", "real run, engine only", "  next day, engine only"),
            ("real", "real run + case review", "  next day + case review"),
        ):
            if rows[first].error:
                continue
            print(f"[{b.kind}] copying the book...", file=sys.stderr, flush=True)
            with fresh_copy(b, server) as url:
                if attempt(first, op, url, today):
                    attempt(second, op, url, tomorrow)
    return rows


# -- main ----------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.dunning_open",
        description="Dunning runs on a book of over 1,000,000 open items.",
    )
    parser.add_argument("--pg", metavar="URL", help="also run on this PostgreSQL")
    parser.add_argument(
        "--repeat", type=int, default=3, help="dry runs (median; default 3)"
    )
    parser.add_argument(
        "--write-repeat", type=int, default=1,
        help="real runs, each on a fresh copy (median; default 1)",
    )  # fmt: skip
    parser.add_argument("--rebuild", action="store_true", help="rebuild the book")
    parser.add_argument("--customers", type=int, default=book.CUSTOMERS)
    parser.add_argument("--items", type=int, default=ITEMS)
    parser.add_argument("--seed", type=int, default=book.SEED)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--url", help=argparse.SUPPRESS)
    parser.add_argument("--date", help=argparse.SUPPRESS)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Build (or reuse) the open book, time the runs, print a table."""
    args = _parser().parse_args(argv)
    if args.child:
        day = dt.date.fromisoformat(args.date)
        print(json.dumps(_child(args.child, args.url, day)))
        return 0
    load_start = os.getloadavg()
    books: list[OpenBook] = []
    results: dict[str, dict[str, Row]] = {}
    failed = False
    sizes = (args.customers, args.items, args.seed)
    for kind in ["sqlite"] + (["postgresql"] if args.pg else []):
        print(f"[{kind}] preparing the open book...", file=sys.stderr, flush=True)
        try:
            b = (
                sqlite_book(*sizes, args.rebuild) if kind == "sqlite"
                else pg_book(args.pg, *sizes, args.rebuild)
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - go on with the other kind
            print(f"[{kind}] book failed: {exc}", file=sys.stderr)
            failed = True
            continue
        m = b.meta
        print(
            f"[{kind}] {m['items']:,} items, {m['open']:,} open, {m['overdue']:,} "
            f"overdue on {book.BOOK_TODAY} (built {m['built']})",
            file=sys.stderr, flush=True,
        )  # fmt: skip
        books.append(b)
    for b in books:
        for name, row in bench(b, args.pg, args.repeat, args.write_repeat).items():
            results.setdefault(name, {})[b.kind] = row
    load_end = os.getloadavg()
    kinds = [b.kind for b in books]
    print(
        f"Open-items book: {args.customers:,} customers, {args.items:,} items "
        f"(closed invoices, credit notes, adjustments reopened), seed {args.seed}, "
        f"run on {book.BOOK_TODAY} and {next_business_day(book.BOOK_TODAY)} "
        f"(schema {head_revision()}, demo v{DEMO_VERSION}); dry run median of "
        f"{args.repeat}, real runs of {args.write_repeat}"
    )
    for b in books:
        m = b.meta
        print(
            f"  {b.kind}: {m['open']:,} open items, {m['overdue']:,} overdue; built "
            f"{m['built']} in {m['build_seconds']:.0f} s + {m['reopen_seconds']:.0f} s"
            f" reopening {m['reopened']:,}"
        )
    print(
        "  load average (1, 5, 15 min): start "
        + " ".join(f"{v:.2f}" for v in load_start)
        + ", end "
        + " ".join(f"{v:.2f}" for v in load_end)
        + f" ({os.cpu_count()} cores)"
    )
    print(
        f"  budgets: dry run {BUDGET_DRY:.0f} s, real run {BUDGET_REAL:.0f} s, "
        f"{BUDGET_MB:,.0f} MB (OVER marks a miss)\n"
    )
    _table(results, kinds)
    failed = failed or any(r.error for row in results.values() for r in row.values())
    if args.json:
        args.json.write_text(
            json.dumps(
                {
                    "books": {b.kind: b.meta for b in books},
                    "load_start": load_start,
                    "load_end": load_end,
                    "results": {
                        op: {k: r.__dict__ for k, r in row.items()}
                        for op, row in results.items()
                    },
                },
                indent=2,
            )
        )
    return 1 if failed else 0


def _table(results: dict[str, dict[str, Row]], kinds: list[str]) -> None:
    rows = [["operation", *kinds]]
    rows += [
        [op, *(row[k].cell() if k in row else "-" for k in kinds)]
        for op, row in results.items()
    ]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for n, r in enumerate(rows):
        print(
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
        )
        if n == 0:
            print("  ".join("-" * w for w in widths))


if __name__ == "__main__":
    sys.exit(main())
