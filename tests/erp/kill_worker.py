"""Processes killed in the middle of ERP work (for the tests).

``python -m tests.erp.kill_worker DB_URL TRYTON_URL DATABASE LOGIN PASSWORD``
claims the first ERP write-back, pushes it to Tryton, then dies with
``os._exit(9)`` before the outcome is recorded: the entry stays ``sending``.

With ``apply SETTINGS`` after those arguments it runs a sync of connector
``acme`` instead and dies once the pull's rows are written, before the commit.
"""

from __future__ import annotations

import os
import sys
from typing import Any

from sqlalchemy.orm import sessionmaker

from o2c_desktop.engine.types import OutboxChannel
from o2c_desktop.models.db import AuditedSession, Database, make_engine
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.erp_sync import ErpPerformer
from o2c_desktop.services.outbox import Entry, Outbox, Outcome
from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
from o2c_desktop.sync.erp.tryton import TrytonConnector


class DiesAfterPushing:
    """Performs through the real performer, then the process is killed."""

    def __init__(self, inner: ErpPerformer) -> None:
        self._inner = inner

    def perform(self, entry: Entry) -> Outcome:
        outcome = self._inner.perform(entry)
        sys.stdout.write(f"pushed {entry.key}: {outcome.log}\n")
        sys.stdout.flush()
        os._exit(9)


def die_applying(db: Database, rpc: TrytonRpc, settings: str) -> None:
    """Sync `acme` and die once the pull's rows are written, before the commit."""
    from pathlib import Path

    from o2c_desktop.services import snapshot
    from o2c_desktop.services.erp_sync import ErpSyncService

    real = snapshot.SnapshotApplier._apply_all

    def apply_all(self: Any, *args: Any) -> Any:
        real(self, *args)
        sys.stdout.write("killed while applying\n")
        sys.stdout.flush()
        os._exit(9)

    snapshot.SnapshotApplier._apply_all = apply_all  # type: ignore[method-assign,assignment]
    ErpSyncService(
        AppContext(db=db, user_login="worker"),
        connect=lambda cs, _pw: TrytonConnector(cs.name, rpc),
        settings_path=Path(settings),
    ).sync("acme")


def main(db_url: str, url: str, database: str, login: str, password: str) -> None:
    """Claim, push, die (or sync and die applying)."""
    engine = make_engine(db_url)  # the test built the schema with create_all
    db = Database(
        engine=engine,
        factory=sessionmaker(engine, class_=AuditedSession, expire_on_commit=False),
    )
    rpc = TrytonRpc(url, database, login, password)
    if len(sys.argv) > 7 and sys.argv[6] == "apply":
        die_applying(db, rpc, sys.argv[7])
        return
    performer = ErpPerformer({"acme": TrytonConnector("acme", rpc)})
    Outbox(
        AppContext(db=db, user_login="worker"),
        {OutboxChannel.ERP_WRITE_BACK: DiesAfterPushing(performer)},
    ).drain()


if __name__ == "__main__":
    main(*sys.argv[1:6])
