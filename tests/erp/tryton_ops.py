"""What a Tryton user does, done through Tryton's own JSON-RPC (for the tests)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from o2c_desktop.sync.erp.jsonrpc import TrytonRpc

RECEIVABLE = [("type.receivable", "=", True), ("closed", "!=", True)]


def today() -> dt.date:
    """The day as the test sees it (Tryton uses the same machine's clock)."""
    return dt.date.today()  # noqa: DTZ011 - Tryton dates moves on the local day


def receivable_by_party(rpc: TrytonRpc) -> dict[str, Decimal]:
    """Tryton's own receivable per party code (its aged balance), non-zero only."""
    rows = rpc.model(
        "party.party", "search_read", [], 0, None, None, ["code", "receivable"]
    )
    return {str(r["code"]): Decimal(r["receivable"]) for r in rows if r["receivable"]}


def _one(rpc: TrytonRpc, model: str, domain: list[Any]) -> int:
    ids = rpc.model(model, "search", domain, 0, 1, None)
    assert ids, f"no {model} matches {domain}"
    return int(ids[0])


def accounts(rpc: TrytonRpc) -> dict[str, int]:
    """The receivable, revenue and cash accounts, and the cash journal."""
    return {
        "receivable": _one(rpc, "account.account", RECEIVABLE),
        "revenue": _one(
            rpc,
            "account.account",
            [("type.revenue", "=", True), ("closed", "!=", True)],
        ),
        "cash": _one(rpc, "account.account", [("code", "=", "1.1.1")]),
        "journal": _one(rpc, "account.journal", [("type", "=", "cash")]),
    }


def open_invoice_lines(rpc: TrytonRpc) -> list[dict[str, Any]]:
    """Open receivable debit lines of posted customer invoices, oldest first."""
    return list(
        rpc.model(
            "account.move.line",
            "search_read",
            [
                ("account.type.receivable", "=", True),
                ("reconciliation", "=", None),
                ("move.state", "=", "posted"),
                ("debit", ">", 0),
                ("move_origin", "like", "account.invoice,%"),
            ],
            0,
            None,
            [["id", "ASC"]],
            ["party", "debit", "move_origin", "maturity_date"],
        )
    )


def post_move(
    rpc: TrytonRpc,
    party: int,
    credit: Decimal,
    *,
    origin: str | None = None,
    maturity: dt.date | None = None,
    debit_receivable: bool = False,
    second_currency: int | None = None,
) -> int:
    """A posted cash move with one receivable line for `party`; the line's id."""
    acc = accounts(rpc)
    receivable: dict[str, Any] = {
        "account": acc["receivable"],
        "party": party,
        "debit": credit if debit_receivable else Decimal(0),
        "credit": Decimal(0) if debit_receivable else credit,
        "maturity_date": maturity,
    }
    if second_currency is not None:
        receivable["second_currency"] = second_currency
        receivable["amount_second_currency"] = credit if debit_receivable else -credit
    other = {
        "account": acc["cash"],
        "debit": Decimal(0) if debit_receivable else credit,
        "credit": credit if debit_receivable else Decimal(0),
    }
    values: dict[str, Any] = {
        "journal": acc["journal"],
        "date": today(),
        "lines": [["create", [receivable, other]]],
    }
    if origin:
        values["origin"] = origin
    (move,) = rpc.model("account.move", "create", [values])
    rpc.model("account.move", "post", [move])
    return _one(
        rpc,
        "account.move.line",
        [("move", "=", move), ("account", "=", acc["receivable"])],
    )


def reconcile(rpc: TrytonRpc, line_ids: list[int]) -> None:
    """Reconcile lines with Tryton's wizard (``reconcile`` itself is not RPC)."""
    ctx = {
        "active_model": "account.move.line",
        "active_ids": line_ids,
        "active_id": line_ids[0],
    }
    session, _start, _end = rpc.call("wizard.account.move.reconcile_lines.create")
    rpc.raw(
        "wizard.account.move.reconcile_lines.execute",
        [session, {}, "start", {**rpc.context, **ctx}],
    )
    rpc.call("wizard.account.move.reconcile_lines.delete", session)


def pay_line(rpc: TrytonRpc, line: dict[str, Any]) -> int:
    """Pay an invoice line in full and reconcile; the payment line's id."""
    paid = post_move(
        rpc, int(line["party"]), Decimal(line["debit"]), origin=line["move_origin"]
    )
    reconcile(rpc, [int(line["id"]), paid])
    return paid


def credit_note(rpc: TrytonRpc, party: int, amount: Decimal) -> int:
    """A posted credit note of `amount` for `party`; the invoice id."""
    acc = accounts(rpc)
    (invoice,) = rpc.model(
        "account.invoice",
        "create",
        [
            {
                "type": "out",
                "party": party,
                "account": acc["receivable"],
                "journal": _one(rpc, "account.journal", [("type", "=", "revenue")]),
                "invoice_address": _one(rpc, "party.address", [("party", "=", party)]),
                "invoice_date": today(),
                "payment_term": _one(rpc, "account.invoice.payment_term", []),
                "lines": [
                    [
                        "create",
                        [
                            {
                                "account": acc["revenue"],
                                "description": "Refund",
                                "quantity": -1.0,
                                "unit_price": amount,
                            }
                        ],
                    ]
                ],
            }
        ],
    )
    rpc.model("account.invoice", "post", [invoice])
    return int(invoice)
