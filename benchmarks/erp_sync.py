"""ERP sync against a live Tryton 8.2 (issue 18): pulls and write-backs, timed.

Needs the test template (``python3 tests/erp/tryton_server.py build``). With
``--lines N`` (default 10,000) a bigger Tryton is built once, through Tryton's
own RPC, and cached beside the template. Prints, median of ``--repeat`` runs:

- Tryton's own ``search_read`` of the open receivable lines, alone;
- a full pull of the same lines (customers, invoices, partial payments too);
- an incremental pull with nothing changed (the id-set comparison included);
- the write-back of ``--entries`` outbox entries (notes on parties).

``.venv/bin/python -m benchmarks.erp_sync [--lines 10000] [--entries 1000]``
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import insert
from sqlalchemy.orm import sessionmaker

from o2c_desktop.engine.types import OutboxChannel, OutboxStatus
from o2c_desktop.models import Base, OutboxEntry
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.db import AuditedSession, Database, make_engine
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.erp_sync import ErpPerformer
from o2c_desktop.services.outbox import Outbox
from o2c_desktop.sync.erp.base import WriteBack, WriteBackKind
from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
from o2c_desktop.sync.erp.tryton import _LINE_FIELDS, _OPEN, TrytonConnector
from tests.erp import tryton_ops as ops
from tests.erp import tryton_server as ts

if TYPE_CHECKING:
    from collections.abc import Callable

BATCH = 500


def rpc_of(server: ts.TrytonServer) -> TrytonRpc:
    return TrytonRpc(server.url, server.database, server.login, server.password)


def big_template(lines: int) -> Path:
    """The seeded template plus `lines` open receivable lines, built once."""
    target = ts.template_path().with_name(f"o2c-{lines}.sqlite")
    if target.exists():
        return target
    folder = Path(tempfile.mkdtemp(prefix="tryton-big-"))
    server = ts.TrytonServer(folder)
    server.start()
    try:
        rpc = rpc_of(server)
        acc = ops.accounts(rpc)
        parties = rpc.model(
            "party.party", "search", [("code", "!=", None)], 0, 20, None
        )
        made = 0
        start = time.monotonic()
        while made < lines:
            count = min(BATCH, lines - made)
            receivable = [
                {
                    "account": acc["receivable"],
                    "party": parties[(made + n) % len(parties)],
                    "debit": Decimal("10.00") + n % 90,
                    "credit": Decimal(0),
                    "maturity_date": ops.today(),
                    "description": f"bench {made + n}",
                }
                for n in range(count)
            ]
            total = sum((r["debit"] for r in receivable), Decimal(0))
            other = {"account": acc["revenue"], "debit": Decimal(0), "credit": total}
            (move,) = rpc.model(
                "account.move",
                "create",
                [
                    {
                        "journal": acc["journal"],
                        "date": ops.today(),
                        "lines": [["create", [*receivable, other]]],
                    }
                ],
            )
            rpc.model("account.move", "post", [move])
            made += count
        print(
            f"built {lines} lines through Tryton's RPC in "
            f"{time.monotonic() - start:.0f} s"
        )
        server.stop()
        ts._checkpoint(folder / f"{ts.DATABASE}.sqlite")
        shutil.copyfile(folder / f"{ts.DATABASE}.sqlite", target.with_suffix(".tmp"))
        target.with_suffix(".tmp").replace(target)
    finally:
        server.stop()
        shutil.rmtree(folder, ignore_errors=True)
    return target


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def write_backs(server: ts.TrytonServer, entries: int, folder: Path) -> float:
    """Seconds to push `entries` notes through the outbox (SQLite book)."""
    engine = make_engine(f"sqlite:///{folder / 'book.sqlite3'}")
    Base.metadata.create_all(engine)
    db = Database(engine=engine, factory=sessionmaker(engine, class_=AuditedSession))
    rpc = rpc_of(server)
    codes = [
        r["code"]
        for r in rpc.model(
            "party.party", "search_read", [("code", "!=", None)], 0, 20, None, ["code"]
        )
    ]
    now = utcnow()
    rows = []
    for n in range(entries):
        wb = WriteBack(
            f"o2c:{uuid.uuid4()}",
            WriteBackKind.NOTE,
            codes[n % len(codes)],
            (),
            f"bench {n}",
        )
        rows.append(
            {
                "id": uuid.uuid4(),
                "idempotency_key": f"bench:{n}",
                "channel": OutboxChannel.ERP_WRITE_BACK,
                "payload": {**wb.payload(), "connector": "bench", "category": "other"},
                "status": OutboxStatus.QUEUED,
                "attempts": 0,
                "created_at": now,
                "updated_at": now,
            }
        )
    with db.session() as s:
        s.execute(insert(OutboxEntry), rows)
    outbox = Outbox(
        AppContext(db=db, user_login="bench"),
        {
            OutboxChannel.ERP_WRITE_BACK: ErpPerformer(
                {"bench": TrytonConnector("bench", rpc)}
            )
        },
    )
    start = time.perf_counter()
    report = outbox.drain()
    took = time.perf_counter() - start
    assert report.sent == entries, report
    db.dispose()
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, default=10_000)
    parser.add_argument("--entries", type=int, default=1_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if reason := ts.unavailable_reason():
        raise SystemExit(reason)
    rows: list[tuple[str, str]] = []
    template = big_template(args.lines) if args.lines else ts.template_path()
    folder = Path(tempfile.mkdtemp(prefix="erp-bench-"))
    server = ts.TrytonServer(folder)
    original = ts.template_path
    ts.template_path = lambda: template  # serve the big copy
    try:
        took = server.start()
        rows.append(("trytond start (copy + first answer)", f"{took:.2f} s"))
        took = server.reset()
        rows.append(("reset (fresh copy + restart)", f"{took:.2f} s"))
        rpc = rpc_of(server)
        rpc.login()
        connector = TrytonConnector("bench", rpc)
        # Paged like the connector (2,000 lines a call), the same fields.
        raw, found = timed(
            lambda: connector._search_read("account.move.line", _OPEN, _LINE_FIELDS),
            args.repeat,
        )
        rows.append((f"Tryton search_read of {len(found)} open lines", f"{raw:.2f} s"))
        full, pull = timed(lambda: connector.pull(None), args.repeat)
        assert pull.failure is None
        rows.append(
            (
                f"full pull: {len(pull.items)} items, {len(pull.customers)} customers",
                f"{full:.2f} s ({full / raw:.1f}x search_read)",
            )
        )
        known = [i.external_id for i in pull.items]
        inc, again = timed(
            lambda: connector.pull(pull.cursor, known=known), args.repeat
        )
        rows.append(
            (
                f"incremental pull, nothing changed ({len(again.items)} re-read)",
                f"{inc:.2f} s",
            )
        )
        if args.entries:
            took = write_backs(server, args.entries, folder)
            rows.append(
                (
                    f"write-back of {args.entries} outbox entries",
                    f"{took:.1f} s ({took / args.entries * 1000:.0f} ms each)",
                )
            )
    finally:
        ts.template_path = original
        server.stop()
        with contextlib.suppress(OSError):
            shutil.rmtree(folder)
    width = max(len(r[0]) for r in rows)
    for name, value in rows:
        print(f"{name:<{width}}  {value}")


if __name__ == "__main__":
    main()
