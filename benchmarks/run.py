"""Time named operations on the benchmark book and print a table (median of 3).

Usage (from the repository root)::

    python -m benchmarks.run                    # SQLite only
    python -m benchmarks.run --pg postgresql://postgres@127.0.0.1:5432/test
    python -m benchmarks.run --only dunning --repeat 5
    python -m benchmarks.run --customers 2000 --items 40000    # a quick try

The book (`o2c demo`, 100,000 customers / 1,000,000 items) is built once into
``benchmarks/.cache/`` (and into a dedicated schema with ``--pg``) and rebuilt
when the schema head, the demo generator or the size changes. Its build is
itself the first operation, measured in a child process (time and peak RSS).
Operations come from ``benchmarks/*_ops.py``: see README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import re
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `python benchmarks/run.py` works too
    sys.path.insert(0, str(ROOT))

from sqlalchemy import create_engine, make_url, text  # noqa: E402

from benchmarks import book  # noqa: E402
from o2c_desktop.models import Base  # noqa: E402
from o2c_desktop.models.db import head_revision, open_database  # noqa: E402
from o2c_desktop.services.demo import (  # noqa: E402
    BULK_TABLES,
    DEMO_VERSION,
    bulk_loading,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    Op = Callable[[str], object]

CACHE = Path(__file__).resolve().parent / ".cache"
_BUILD = "demo build"


@dataclass
class Measure:
    """The runs of one operation on one database."""

    seconds: list[float] = field(default_factory=list)
    peak_mb: float | None = None
    note: str = ""
    error: str | None = None

    def cell(self) -> str:
        """What the table shows."""
        if self.error:
            return f"FAILED: {self.error}"
        if not self.seconds:
            return "-"
        median = statistics.median(self.seconds)
        shown = f"{median:.1f} s" if median >= 10 else f"{median:.3f} s"
        if self.peak_mb is not None:
            shown += f" · {self.peak_mb:,.0f} MB"
        return shown + (f" {self.note}" if self.note else "")


@dataclass(frozen=True)
class Book:
    """A benchmark book on one database kind."""

    kind: str  # "sqlite" or "postgresql"
    url: str  # SQLAlchemy URL of the book, password included
    key: str  # what the cache depends on


# -- operations ------------------------------------------------------------------


def discover(
    only: list[str], size: str = "1M"
) -> tuple[dict[str, Op], dict[str, Op], list[str]]:
    """Import ``benchmarks/*_ops.py``; return read ops, write ops and errors.

    An operation's name may hold ``{size}``, replaced by the book's size
    (`size`, e.g. "40k"), so a row never claims a bigger book than it ran on.
    """
    reads: dict[str, Op] = {}
    writes: dict[str, Op] = {}
    errors: list[str] = []
    for path in sorted(Path(__file__).resolve().parent.glob("*_ops.py")):
        name = f"benchmarks.{path.stem}"
        try:
            module = importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - one broken module must not stop the rest
            errors.append(f"{name}: {type(exc).__name__}: {exc}")
            continue
        for attr, target in (("OPS", reads), ("WRITE_OPS", writes)):
            for name_, fn in dict(getattr(module, attr, {})).items():
                op = name_.replace("{size}", size)
                if op in reads or op in writes:
                    errors.append(f"{name}: operation {op!r} is defined twice")
                elif not only or any(o.lower() in op.lower() for o in only):
                    target[op] = fn
    return reads, writes, errors


def time_op(
    fn: Op, url: str, repeat: int, fresh: Callable[[], Iterator[str]] | None
) -> Measure:
    """Run `fn` `repeat` times; a write op gets a fresh copy of the book each time."""
    measure = Measure()
    for _ in range(repeat):
        try:
            with contextlib.ExitStack() as stack:
                target = (
                    stack.enter_context(contextlib.contextmanager(fresh)())
                    if fresh
                    else url
                )
                started = time.perf_counter()
                fn(target)
                measure.seconds.append(time.perf_counter() - started)
        except Exception as exc:  # noqa: BLE001 - report and go on with the others
            measure.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:120]
            traceback.print_exc(file=sys.stderr)
            break
    return measure


# -- the book ----------------------------------------------------------------------


def cache_key(customers: int, items: int, seed: int) -> str:
    """Everything the cached book depends on."""
    return (
        f"{head_revision()}_v{DEMO_VERSION}_{customers}_{items}_s{seed}"
        f"_{book.BOOK_TODAY:%Y%m%d}"
    )


def build(url: str, customers: int, items: int, seed: int) -> Measure:
    """Build the book with `o2c demo` in a child; measure its time and peak RSS."""
    env = dict(os.environ)
    env.update(
        O2C_DATABASE_URL=url,
        O2C_CONFIG_DIR=str(CACHE / "config"),  # never the user's settings
        O2C_DATA_DIR=str(CACHE / "data"),
    )
    env.pop("O2C_USER", None)
    code = "import sys; from o2c_desktop.cli import main; sys.exit(main(sys.argv[1:]))"
    args = [sys.executable, "-c", code, "demo", "--customers", str(customers),
            "--items", str(items), "--seed", str(seed),
            "--today", book.BOOK_TODAY.isoformat(), "--json"]  # fmt: skip
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        started = time.perf_counter()
        proc = subprocess.Popen(args, stdout=out, stderr=err, env=env, cwd=ROOT)
        if hasattr(os, "wait4"):
            _pid, status, usage = os.wait4(proc.pid, 0)
            proc.returncode = os.waitstatus_to_exitcode(status)
            # ru_maxrss is in KiB on Linux, bytes on macOS.
            scale = 1 if sys.platform == "darwin" else 1024
            peak: float | None = usage.ru_maxrss * scale / 1e6
        else:
            proc.wait()
            peak = None
        seconds = time.perf_counter() - started
        if proc.returncode != 0:
            err.seek(0)
            message = err.read().decode(errors="replace").strip().splitlines()
            raise RuntimeError(f"o2c demo failed: {message[-1] if message else '?'}")
    return Measure(seconds=[seconds], peak_mb=peak)


def sqlite_book(
    customers: int, items: int, seed: int, rebuild: bool
) -> tuple[Book, Measure]:
    """The cached SQLite book, built if missing or stale."""
    key = cache_key(customers, items, seed)
    path = CACHE / f"book-{key}.sqlite3"
    meta = path.with_suffix(".json")
    result = Book("sqlite", f"sqlite:///{path}", key)
    if path.exists() and meta.exists() and not rebuild:
        return result, _cached(meta)
    CACHE.mkdir(parents=True, exist_ok=True)
    for old in CACHE.glob("book-*"):  # stale books are big: keep one
        old.unlink()
    partial = path.with_name(path.name + ".partial")
    measure = build(f"sqlite:///{partial}", customers, items, seed)
    for suffix in ("-wal", "-shm"):
        Path(f"{partial}{suffix}").unlink(missing_ok=True)
    partial.replace(path)
    _save(meta, measure)
    return result, measure


def pg_book(
    server: str, customers: int, items: int, seed: int, rebuild: bool
) -> tuple[Book, Measure]:
    """The book in a dedicated schema of the PostgreSQL server, built if needed."""
    key = cache_key(customers, items, seed)
    schema = "o2c_bench_" + re.sub(r"[^a-z0-9_]", "_", key.lower())[:50]
    url = _schema_url(server, schema)
    meta = CACHE / f"pg-{schema}.json"
    result = Book("postgresql", url, key)
    admin = create_engine(_admin_url(server))
    try:
        with admin.begin() as conn:
            ready = _pg_ready(conn, schema, customers)
            if ready and meta.exists() and not rebuild:
                return result, _cached(meta)
            for old in conn.execute(
                text(
                    "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'o2c_bench_%'"
                )
            ).scalars():
                if not old.startswith("o2c_bench_copy"):
                    conn.execute(text(f'DROP SCHEMA "{old}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        try:
            measure = build(url, customers, items, seed)
        except Exception:
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            raise
    finally:
        admin.dispose()
    CACHE.mkdir(parents=True, exist_ok=True)
    for old_meta in CACHE.glob("pg-*.json"):  # their schemas were dropped above
        old_meta.unlink()
    _save(meta, measure)
    return result, measure


def _pg_ready(conn: Any, schema: str, customers: int) -> bool:
    exists = conn.execute(
        text("SELECT 1 FROM pg_namespace WHERE nspname = :s"), {"s": schema}
    ).first()
    if not exists:
        return False
    try:
        with conn.begin_nested():
            count = conn.execute(
                text(f'SELECT count(*) FROM "{schema}".customer')
            ).scalar()
            rev = conn.execute(
                text(f'SELECT version_num FROM "{schema}".alembic_version')
            ).scalar()
    except Exception:  # noqa: BLE001 - a half-built schema: rebuild it
        return False
    return bool(count == customers and rev == head_revision())


def _admin_url(server: str) -> str:
    return (
        make_url(server)
        .set(drivername="postgresql+psycopg")
        .render_as_string(hide_password=False)
    )


def _schema_url(server: str, schema: str) -> str:
    url = make_url(_admin_url(server))
    url = url.update_query_dict({"options": f"-csearch_path={schema}"})
    return url.render_as_string(hide_password=False)


def _cached(meta: Path) -> Measure:
    data = json.loads(meta.read_text())
    return Measure(
        seconds=[data["seconds"]], peak_mb=data.get("peak_mb"),
        note=f"(cached, built {data['built']})",
    )  # fmt: skip


def _save(meta: Path, measure: Measure) -> None:
    meta.write_text(
        json.dumps(
            {
                "seconds": measure.seconds[0],
                "peak_mb": measure.peak_mb,
                "built": time.strftime("%Y-%m-%d %H:%M"),
            }
        )
    )


# -- fresh copies for write operations ------------------------------------------------


def sqlite_copy(source: Book) -> Iterator[str]:
    """A throwaway copy of the SQLite book (online backup: consistent, WAL or not)."""
    path = make_url(source.url).database
    assert path is not None
    with tempfile.TemporaryDirectory(dir=CACHE) as tmp:
        target = Path(tmp) / "copy.sqlite3"
        src, dst = sqlite3.connect(path), sqlite3.connect(target)
        try:
            src.backup(dst)
        finally:
            src.close()
            dst.close()
        yield f"sqlite:///{target}"


def pg_copy(
    source: Book, server: str, prefix: str = "o2c_bench_copy_"
) -> Iterator[str]:
    """A throwaway copy of the PostgreSQL book in its own schema, analysed."""
    schema = f"{prefix}{os.getpid()}"
    admin = create_engine(_admin_url(server))
    src_schema = make_url(source.url).query["options"]
    assert isinstance(src_schema, str)
    src = src_schema.split("=", 1)[1]
    try:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = _schema_url(server, schema)
        open_database(url).dispose()  # the same tables, by the migrations
        copier = create_engine(url)
        try:
            with copier.begin() as conn, bulk_loading(conn, BULK_TABLES):
                for table in Base.metadata.sorted_tables:
                    cols = ", ".join(f'"{c.name}"' for c in table.columns)
                    conn.execute(
                        text(
                            f'INSERT INTO "{table.name}" ({cols}) '
                            f'SELECT {cols} FROM "{src}"."{table.name}"'
                        )
                    )
                    column = table.autoincrement_column
                    if column is not None:
                        conn.execute(
                            text(
                                f"SELECT setval(pg_get_serial_sequence("
                                f"'{table.name}', '{column.name}'), "
                                f"COALESCE(MAX({column.name}), 1)) "
                                f'FROM "{table.name}"'
                            )
                        )
            # A live database has statistics (autovacuum): so does the copy.
            with copier.connect() as conn:
                conn.execution_options(isolation_level="AUTOCOMMIT")
                conn.exec_driver_sql("ANALYZE")
        finally:
            copier.dispose()
        yield url
    finally:
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()


def _copier(source: Book, server: str | None) -> Callable[[], Iterator[str]]:
    def fresh() -> Iterator[str]:
        if source.kind == "sqlite":
            yield from sqlite_copy(source)
        else:
            assert server is not None
            yield from pg_copy(source, server)

    return fresh


# -- main ------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.run",
        description="Time the operations of benchmarks/*_ops.py on the benchmark book.",
    )
    parser.add_argument(
        "--pg", metavar="URL", help="also run on this PostgreSQL server"
    )
    parser.add_argument(
        "--only", action="append", default=[], metavar="TEXT",
        help="run only operations whose name contains TEXT",
    )  # fmt: skip
    parser.add_argument("--repeat", type=int, default=3, help="runs per op (median)")
    parser.add_argument(
        "--rebuild", action="store_true", help="rebuild the cached book"
    )
    parser.add_argument("--customers", type=int, default=book.CUSTOMERS)
    parser.add_argument("--items", type=int, default=book.ITEMS)
    parser.add_argument("--seed", type=int, default=book.SEED)
    parser.add_argument("--list", action="store_true", help="list operations and exit")
    parser.add_argument("--json", action="store_true", help="print JSON, not a table")
    return parser


def _size(items: int) -> str:
    if items >= 1_000_000 and items % 1_000_000 == 0:
        return f"{items // 1_000_000}M"
    return f"{items // 1000}k" if items >= 1000 else str(items)


def main(argv: list[str] | None = None) -> int:
    """Run the benchmarks; exit code 1 if any operation failed."""
    args = _parser().parse_args(argv)
    reads, writes, errors = discover(args.only, _size(args.items))
    if args.list:
        for op in [*reads, *writes]:
            print(op, "(writes)" if op in writes else "")
        for e in errors:
            print("error:", e, file=sys.stderr)
        return 1 if errors else 0
    books: list[Book] = []
    results: dict[str, dict[str, Measure]] = {}
    build_op = f"{_BUILD} {_size(args.items)}"
    sizes = (args.customers, args.items, args.seed)
    for kind in ["sqlite"] + (["postgresql"] if args.pg else []):
        print(f"[{kind}] preparing the book...", file=sys.stderr)
        try:
            made = (
                sqlite_book(*sizes, args.rebuild) if kind == "sqlite"
                else pg_book(args.pg, *sizes, args.rebuild)
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - show it in the table
            results.setdefault(build_op, {})[kind] = Measure(error=str(exc)[:120])
            continue
        books.append(made[0])
        results.setdefault(build_op, {})[kind] = made[1]
    for b in books:
        for op, fn in [*reads.items(), *writes.items()]:
            print(f"[{b.kind}] {op}", file=sys.stderr)
            fresh = _copier(b, args.pg) if op in writes else None
            results.setdefault(op, {})[b.kind] = time_op(fn, b.url, args.repeat, fresh)
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    if args.json:
        print(json.dumps({
            "book": {"customers": args.customers, "items": args.items,
                     "seed": args.seed, "today": book.BOOK_TODAY.isoformat(),
                     "schema": head_revision(), "demo_version": DEMO_VERSION},
            "results": {op: {k: m.__dict__ for k, m in row.items()}
                        for op, row in results.items()},
            "errors": errors,
        }, indent=2))  # fmt: skip
    else:
        print(
            f"Benchmark book: {args.customers:,} customers, {args.items:,} items, "
            f"seed {args.seed}, ending {book.BOOK_TODAY} (schema {head_revision()}, "
            f"demo v{DEMO_VERSION}); median of {args.repeat}"
        )
        _table(results, kinds)
        for e in errors:
            print("error:", e)
    failed = errors or any(m.error for row in results.values() for m in row.values())
    return 1 if failed else 0


def _table(results: dict[str, dict[str, Measure]], kinds: list[str]) -> None:
    rows = [["operation", *kinds]]
    rows += [
        [op, *(row.get(k, Measure()).cell() for k in kinds)]
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
