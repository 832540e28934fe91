"""The ERP sync as a collector relies on it: a live Tryton and the book."""

from __future__ import annotations

import datetime as dt
import subprocess
import sys
from collections import defaultdict
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from o2c_desktop.engine.cases import FollowUpKind
from o2c_desktop.engine.types import ItemStatus, OutboxChannel, OutboxStatus, Role
from o2c_desktop.models import Customer, Entity, Item, OutboxEntry, SyncCursor, User
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.erp_sync import ErpSyncService
from o2c_desktop.services.outbox import SENDING_STALE, Outbox
from o2c_desktop.settings import ConnectorSettings
from o2c_desktop.sync.erp.tryton import TrytonConnector
from tests.erp import tryton_ops as ops
from tests.erp.conftest import rpc_for

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
    from tests.erp.tryton_server import TrytonServer

ROOT = Path(__file__).resolve().parents[2]


def setup(db: Database, server: TrytonServer, tmp_path: Path) -> ErpSyncService:
    """An entity, a collector and the connector `acme` on the live Tryton."""
    with db.session("setup") as s:
        s.add(Entity(code="FR01", name="Dunder Mifflin", currency="EUR", country="FR"))
        s.add(User(login="alice", full_name="Alice Rossi", role=Role.COLLECTOR))
    service = ErpSyncService(
        AppContext(db=db, user_login="alice"),
        connect=lambda cs, _pw: TrytonConnector(cs.name, rpc_for(server)),
        settings_path=tmp_path / "settings.ini",
    )
    service.add(
        ConnectorSettings(
            "acme", "tryton", server.url, server.database, server.login, "FR01"
        ),
        server.password,
    )
    return service


def outstanding(db: Database) -> dict[str, Decimal]:
    """The book's open remaining per customer reference, non-zero only."""
    totals: dict[str, Decimal] = defaultdict(Decimal)
    with db.session() as s:
        for ref, remaining in s.execute(
            select(Customer.reference, Item.remaining)
            .join(Customer, Customer.id == Item.customer_id)
            .where(Item.status == ItemStatus.OPEN)
        ):
            totals[ref] += remaining
    return {k: v for k, v in totals.items() if v}


def item_of_line(db: Database, line: int) -> Item:
    with db.session() as s:
        item = s.scalars(select(Item).where(Item.external_id == f"acme:{line}")).one()
        s.expunge(item)
        return item


def test_a_first_sync_gives_trytons_aged_balance_and_an_incremental_one_keeps_it(
    db: Database, tryton_fresh: TrytonServer, tmp_path: Path
) -> None:
    service = setup(db, tryton_fresh, tmp_path)
    rpc = rpc_for(tryton_fresh)

    first = service.sync("acme")

    assert first.ok
    assert first.full
    assert first.counts["customers_created"] == 20
    assert outstanding(db) == ops.receivable_by_party(rpc)

    lines = ops.open_invoice_lines(rpc)
    paid, partly = lines[0], lines[1]
    partly_before = item_of_line(db, partly["id"]).remaining
    ops.pay_line(rpc, paid)
    ops.post_move(
        rpc, int(partly["party"]), Decimal("25.50"), origin=partly["move_origin"]
    )
    second = service.sync("acme")

    assert second.ok
    assert not second.full
    assert second.counts["items_closed"] == 1
    assert outstanding(db) == ops.receivable_by_party(rpc)
    closed = item_of_line(db, paid["id"])
    assert (closed.status, closed.closed_on, closed.remaining) == (
        ItemStatus.CLOSED,
        ops.today(),
        Decimal("0.00"),
    )
    assert item_of_line(db, partly["id"]).remaining == partly_before - Decimal("25.50")
    with db.session() as s:
        assert s.get(SyncCursor, "erp:acme") is not None
    (status,) = service.status()
    assert (status.name, status.last_error, status.queued, status.failed) == (
        "acme",
        None,
        0,
        0,
    )


def test_a_dry_run_counts_and_changes_nothing(
    db: Database, tryton: TrytonServer, tmp_path: Path
) -> None:
    service = setup(db, tryton, tmp_path)

    report = service.sync("acme", dry_run=True)

    assert report.ok
    assert report.counts["customers"] == 20
    assert report.counts["items"] > 150
    assert outstanding(db) == {}


def test_an_erp_that_cannot_be_reached_is_recorded_and_the_book_kept(
    db: Database, tryton: TrytonServer, tmp_path: Path
) -> None:
    from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
    from tests.erp.tryton_server import free_port

    service = setup(db, tryton, tmp_path)
    service.sync("acme")
    before = outstanding(db)
    down = ErpSyncService(
        AppContext(db=db, user_login="alice"),
        connect=lambda cs, _pw: TrytonConnector(
            cs.name,
            TrytonRpc(
                f"http://127.0.0.1:{free_port()}/",
                "o2c",
                "admin",
                "x",
                sleep=lambda _s: None,
            ),
        ),
        settings_path=tmp_path / "settings.ini",
    )

    report = down.sync("acme")

    assert not report.ok
    assert report.error is not None
    assert "cannot be reached (ConnectionError)" in report.error
    assert outstanding(db) == before
    (status,) = down.status()
    assert status.last_error == report.error


def dunned_line(rpc: TrytonRpc) -> dict[str, Any]:
    (row,) = rpc.model(
        "account.dunning",
        "search_read",
        [("blocked", "=", False)],
        0,
        1,
        [["id", "ASC"]],
        ["line", "party"],
    )
    return dict(row)


def chat(rpc: TrytonRpc, dunning: int) -> list[str]:
    rows = rpc.model(
        "ir.chat.message",
        "search_read",
        [("channel.resource", "=", f"account.dunning,{dunning}")],
        0,
        None,
        [["id", "ASC"]],
        ["content"],
    )
    return [r["content"] for r in rows]


def test_a_dispute_a_promise_and_a_letter_reach_tryton_exactly_once(
    sqlite_db: Database, tryton_fresh: TrytonServer, tmp_path: Path
) -> None:
    db = sqlite_db
    service = setup(db, tryton_fresh, tmp_path)
    service.sync("acme")
    rpc = rpc_for(tryton_fresh)
    dunning = dunned_line(rpc)
    item = item_of_line(db, dunning["line"])
    cases = CasesService(AppContext(db=db, user_login="alice"))
    today = ops.today()

    dispute = cases.open_dispute(
        item.customer_id, today=today, items=[item.id], reason="price"
    )
    with db.session() as s:
        queued = s.scalars(
            select(OutboxEntry).where(
                OutboxEntry.channel == OutboxChannel.ERP_WRITE_BACK
            )
        ).all()
    cases.record_follow_up(
        dispute.case.id,
        today=today,
        kind=FollowUpKind.LETTER,
        comment="copy of the delivery note asked",
    )
    pushed = service.push("acme")

    assert len(queued) == 1
    assert queued[0].payload["kind"] == "block"
    assert queued[0].payload["item_ids"] == [str(dunning["line"])]
    assert pushed.sent == 2
    blocked = rpc.model("account.dunning", "read", [dunning["id"]], ["blocked"])
    assert bool(blocked[0]["blocked"]) is True
    messages = chat(rpc, dunning["id"])
    assert len(messages) == 2
    assert messages[0] == (
        f"[o2c:{queued[0].action_id}] Contestation sur le prix - Case N°1 - "
        f"Enregistrement du litige ({today.isoformat()})"
    )
    assert messages[1].endswith(
        f"- copy of the delivery note asked ({today.isoformat()})"
    )

    # A worker killed after Tryton answered, before our commit.
    promise = cases.open_promise(
        item.customer_id,
        today=today,
        promised_date=today + dt.timedelta(days=10),
        item_ids=[item.id],
    )
    assert promise.case.id
    died = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.erp.kill_worker",
            str(db.engine.url),
            tryton_fresh.url,
            tryton_fresh.database,
            tryton_fresh.login,
            tryton_fresh.password,
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert died.returncode == 9, died.stderr
    assert len(chat(rpc, dunning["id"])) == 3
    with db.session() as s:
        stuck = s.scalars(
            select(OutboxEntry).where(OutboxEntry.status == OutboxStatus.SENDING)
        ).one()
    outbox = Outbox(AppContext(db=db, user_login="alice"))
    handed = outbox.hand_over_stale(
        now=utcnow() + SENDING_STALE + dt.timedelta(minutes=1)
    )
    again = service.push("acme")

    assert handed == 1
    assert again.sent == 1
    messages = chat(rpc, dunning["id"])
    assert len(messages) == 3  # the promise once, though pushed twice
    assert sum(1 for m in messages if m.startswith(f"[o2c:{stuck.action_id}]")) == 1
    with db.session() as s:
        assert s.get(OutboxEntry, stuck.id).status is OutboxStatus.DONE  # type: ignore[union-attr]


@pytest.mark.parametrize("password", ["wrong-password"])
def test_a_wrong_password_fails_the_sync_at_once(
    db: Database, tryton: TrytonServer, tmp_path: Path, password: str
) -> None:
    service = ErpSyncService(
        AppContext(db=db, user_login="alice"),
        connect=lambda cs, _pw: TrytonConnector(
            cs.name, rpc_for(tryton, password=password)
        ),
        settings_path=tmp_path / "settings.ini",
    )
    with db.session("setup") as s:
        s.add(Entity(code="FR01", name="Dunder Mifflin", currency="EUR", country="FR"))
    service.add(
        ConnectorSettings("acme", "tryton", tryton.url, "o2c", "admin", "FR01"),
        password,
    )

    report = service.sync("acme")

    assert not report.ok
    assert report.error == "acme (Tryton): the login or password of 'admin' is wrong"


def test_a_sync_killed_while_applying_leaves_the_book_and_the_next_completes_it(
    sqlite_db: Database, tryton: TrytonServer, tmp_path: Path
) -> None:
    db = sqlite_db
    service = setup(db, tryton, tmp_path)
    rpc = rpc_for(tryton)

    died = subprocess.run(
        [
            sys.executable,
            "-m",
            "tests.erp.kill_worker",
            str(db.engine.url),
            tryton.url,
            tryton.database,
            tryton.login,
            tryton.password,
            "apply",
            str(tmp_path / "settings.ini"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert died.returncode == 9, died.stderr
    assert died.stdout.strip() == "killed while applying"
    assert outstanding(db) == {}
    with db.session() as s:
        assert s.get(SyncCursor, "erp:acme") is None
    assert service.status()[0].last_run_at is None

    again = service.sync("acme")

    assert again.ok
    assert again.full
    assert outstanding(db) == ops.receivable_by_party(rpc)
