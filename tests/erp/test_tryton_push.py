"""Write-backs into a live Tryton: read back through its API, exactly once."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from o2c_desktop.sync.erp.base import WriteBack, WriteBackKind
from o2c_desktop.sync.erp.tryton import TrytonConnector
from tests.erp.conftest import rpc_for

if TYPE_CHECKING:
    from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
    from tests.erp.tryton_server import TrytonServer

MARKER = "o2c:5f0c6a3e-0000-4000-8000-000000000001"


def chat(rpc: TrytonRpc, dunning: int) -> list[str]:
    """The chat messages on a dunning, oldest first."""
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


def notes(rpc: TrytonRpc, party: int) -> list[str]:
    """The notes on a party, oldest first."""
    rows = rpc.model(
        "ir.note",
        "search_read",
        [("resource", "=", f"party.party,{party}")],
        0,
        None,
        [["id", "ASC"]],
        ["message"],
    )
    return [r["message"] for r in rows]


def a_dunning(rpc: TrytonRpc) -> dict[str, Any]:
    """A seeded dunning that is not blocked, with its line's party code."""
    (row,) = rpc.model(
        "account.dunning",
        "search_read",
        [("blocked", "=", False)],
        0,
        1,
        [["id", "ASC"]],
        ["line", "party", "party.code", "blocked"],
    )
    return dict(row)


def test_a_note_goes_to_the_lines_dunning_chat_once_even_when_pushed_twice(
    tryton_fresh: TrytonServer,
) -> None:
    rpc = rpc_for(tryton_fresh)
    dunning = a_dunning(rpc)
    wb = WriteBack(
        marker=MARKER,
        kind=WriteBackKind.NOTE,
        customer_ref=dunning["party."]["code"],
        item_ids=(str(dunning["line"]),),
        text="Call: promise to pay on 2026-12-15",
    )
    connector = TrytonConnector("acme", rpc)

    first = connector.push(wb)
    again = connector.push(wb)

    assert first.done
    assert not first.replayed
    assert first.message == f"account.dunning,{dunning['id']} chat"
    assert again.done
    assert again.replayed
    assert chat(rpc, dunning["id"]) == [
        f"[{MARKER}] Call: promise to pay on 2026-12-15"
    ]


def test_a_note_without_a_dunning_goes_to_the_party_once(
    tryton_fresh: TrytonServer,
) -> None:
    rpc = rpc_for(tryton_fresh)
    dunning = a_dunning(rpc)
    wb = WriteBack(
        marker=MARKER,
        kind=WriteBackKind.NOTE,
        customer_ref=dunning["party."]["code"],
        text="Letter sent: first reminder",
    )
    connector = TrytonConnector("acme", rpc)

    first = connector.push(wb)
    again = connector.push(wb)

    assert (first.done, first.replayed, again.done, again.replayed) == (
        True,
        False,
        True,
        True,
    )
    assert first.message == f"party.party,{dunning['party']} note"
    assert notes(rpc, dunning["party"]) == [f"[{MARKER}] Letter sent: first reminder"]


def test_a_dispute_blocks_the_dunning_and_its_resolution_unblocks_it(
    tryton_fresh: TrytonServer,
) -> None:
    rpc = rpc_for(tryton_fresh)
    dunning = a_dunning(rpc)
    connector = TrytonConnector("acme", rpc)
    code, line = dunning["party."]["code"], (str(dunning["line"]),)

    opened = connector.push(
        WriteBack("o2c:d1", WriteBackKind.BLOCK, code, line, "Dispute opened: price")
    )
    blocked = rpc.model("account.dunning", "read", [dunning["id"]], ["blocked"])
    closed = connector.push(
        WriteBack("o2c:d2", WriteBackKind.UNBLOCK, code, line, "Dispute resolved")
    )
    unblocked = rpc.model("account.dunning", "read", [dunning["id"]], ["blocked"])

    assert opened.message == (
        f"account.dunning,{dunning['id']} blocked; account.dunning,{dunning['id']} chat"
    )
    assert closed.done
    # Tryton on SQLite answers booleans as 1 and 0.
    assert bool(blocked[0]["blocked"]) is True
    assert bool(unblocked[0]["blocked"]) is False
    assert chat(rpc, dunning["id"]) == [
        "[o2c:d1] Dispute opened: price",
        "[o2c:d2] Dispute resolved",
    ]


def test_a_write_back_tryton_refuses_is_not_done_and_keeps_trytons_message(
    tryton_fresh: TrytonServer,
) -> None:
    admin = rpc_for(tryton_fresh)
    dunning = a_dunning(admin)
    # A Tryton user without the accounting groups: Tryton refuses its writes.
    admin.model(
        "res.user",
        "create",
        [{"name": "Reader", "login": "reader", "password": "reader-pass-1234"}],
    )
    reader = rpc_for(tryton_fresh)
    reader._login, reader._password = "reader", "reader-pass-1234"
    wb = WriteBack(
        "o2c:r1",
        WriteBackKind.BLOCK,
        dunning["party."]["code"],
        (str(dunning["line"]),),
        "Dispute opened",
    )

    pushed = TrytonConnector("acme", reader).push(wb)

    assert not pushed.done
    assert not pushed.retry
    assert pushed.message.startswith("acme (Tryton): You are not allowed to ")
    assert admin.model("account.dunning", "read", [dunning["id"]], ["blocked"]) == [
        {"id": dunning["id"], "blocked": False}
    ]
