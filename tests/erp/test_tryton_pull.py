"""Pulling from a live Tryton 8.2: the book the connector sees is Tryton's own."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c_desktop.engine.types import ItemKind
from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
from o2c_desktop.sync.erp.tryton import TrytonConnector
from tests.erp import tryton_ops as ops
from tests.erp.conftest import rpc_for

if TYPE_CHECKING:
    from o2c_desktop.sync.erp.base import ErpItem, Pull
    from tests.erp.tryton_server import TrytonServer


def by_customer(items: tuple[ErpItem, ...] | list[ErpItem]) -> dict[str, Decimal]:
    totals: dict[str, Decimal] = defaultdict(Decimal)
    for item in items:
        totals[item.customer_ref] += item.remaining
    return {k: v for k, v in totals.items() if v}


class Book:
    """What the app would hold after applying pulls: open items by ERP id."""

    def __init__(self) -> None:
        self.items: dict[str, ErpItem] = {}
        self.paid: dict[str, object] = {}

    def apply(self, pull: Pull) -> None:
        assert pull.failure is None, pull.failure
        if pull.full:
            self.items = {}
        for item in pull.items:
            self.items[item.external_id] = item
        for gone in pull.settled:
            if self.items.pop(gone.external_id, None) is not None:
                self.paid[gone.external_id] = gone.on


def test_a_full_pull_matches_trytons_receivable_per_party_to_the_cent(
    connector: TrytonConnector, rpc: TrytonRpc
) -> None:
    pull = connector.pull(None)

    assert pull.failure is None
    assert pull.problems == ()
    assert by_customer(pull.items) == ops.receivable_by_party(rpc)
    assert len(pull.customers) == 20
    kinds = {i.kind for i in pull.items}
    assert {ItemKind.INVOICE, ItemKind.CREDIT_NOTE, ItemKind.PAYMENT} <= kinds


def test_customers_come_with_code_siren_vat_address_language_and_contacts(
    connector: TrytonConnector,
) -> None:
    pull = connector.pull(None)

    first = min(pull.customers, key=lambda c: c.name)
    assert first.name == "Client 0001"
    assert first.reference  # Tryton's party code
    assert first.legal_id is not None
    assert len(first.legal_id) == 9
    assert (
        first.vat_number
        == f"FR{(12 + 3 * (int(first.legal_id) % 97)) % 97:02d}{first.legal_id}"
    )
    assert (first.address1, first.postal_code, first.city) == (
        "1 rue de l'Exemple",
        "75001",
        "Paris",
    )
    assert first.language == "fr"
    assert first.email == "ap1@client1.example"
    assert first.phone == "+33 1 00 00 01 00"


def test_partial_payments_reduce_the_invoice_remaining(
    connector: TrytonConnector, rpc: TrytonRpc
) -> None:
    pull = connector.pull(None)

    partial = [p for p in pull.payments if p.allocations]
    assert len(partial) == 15
    items = {i.external_id: i for i in pull.items}
    for payment in partial:
        (alloc,) = payment.allocations
        item = items[alloc.item_id]
        assert item.remaining == item.amount - payment.amount
    # Invoices in two instalments are numbered 1 and 2 under one invoice number.
    split = [i for i in pull.items if i.instalment == 2]
    assert split
    firsts = {(i.number, i.instalment) for i in pull.items}
    assert all((i.number, 1) in firsts or i.number for i in split)


def test_incremental_pull_after_payments_credits_and_cancelling_gives_the_full_book(
    tryton_fresh: TrytonServer,
) -> None:
    rpc = rpc_for(tryton_fresh)
    connector = TrytonConnector("t", rpc)
    book = Book()
    first = connector.pull(None)
    book.apply(first)
    lines = ops.open_invoice_lines(rpc)
    paid, partly, cancelled = lines[0], lines[1], lines[2]
    partly_before = book.items[str(partly["id"])].remaining
    ops.pay_line(rpc, paid)
    ops.post_move(
        rpc, int(partly["party"]), Decimal("10.00"), origin=partly["move_origin"]
    )
    invoice_id = int(cancelled["move_origin"].split(",")[1])
    (company,) = rpc.model("company.company", "search", [], 0, None, None)
    rpc.model("company.company", "write", [company], {"cancel_invoice_out": True})
    rpc.model("account.invoice", "cancel", [invoice_id])
    ops.credit_note(rpc, int(paid["party"]), Decimal("99.99"))

    book.apply(connector.pull(first.cursor, known=list(book.items)))
    full = connector.pull(None)

    assert by_customer(list(book.items.values())) == by_customer(full.items)
    assert by_customer(full.items) == ops.receivable_by_party(rpc)
    assert book.items.keys() == {i.external_id for i in full.items}
    assert book.items[str(partly["id"])].remaining == partly_before - Decimal("10.00")
    assert book.paid[str(paid["id"])] == ops.today()
    assert book.paid[str(cancelled["id"])] is None


def test_an_incremental_pull_with_nothing_changed_brings_nothing(
    connector: TrytonConnector,
) -> None:
    first = connector.pull(None)
    # The overlap window brings the seed's latest records back: harmless upserts.
    again = connector.pull(first.cursor, known=[i.external_id for i in first.items])

    assert again.failure is None
    assert again.settled == ()
    assert again.cursor == first.cursor
    assert {i.external_id for i in again.items} <= {i.external_id for i in first.items}


def test_bad_records_are_reported_with_their_tryton_id_and_the_rest_pulled(
    tryton_fresh: TrytonServer,
) -> None:
    rpc = rpc_for(tryton_fresh)
    before = TrytonConnector("t", rpc).pull(None)
    party = int(before.customers[0].external_id)
    no_due = ops.post_move(rpc, party, Decimal("5.00"), debit_receivable=True)
    (xxq,) = rpc.model(
        "currency.currency",
        "create",
        [{"name": "Test units", "code": "XXQ", "symbol": "Q"}],
    )
    rpc.model(
        "currency.currency.rate",
        "create",
        [{"currency": xxq, "rate": Decimal(1), "date": ops.today()}],
    )
    odd = ops.post_move(
        rpc,
        party,
        Decimal("7.00"),
        debit_receivable=True,
        maturity=ops.today(),
        second_currency=xxq,
    )

    pull = TrytonConnector("t", rpc).pull(None)

    assert [str(p) for p in pull.problems] == [
        f"account.move.line,{no_due} maturity_date: the line has no maturity date",
        f"account.move.line,{odd} currency: unknown currency 'XXQ'",
    ]
    assert len(pull.items) == len(before.items)
    assert by_customer(pull.items) == by_customer(before.items)


def test_an_erp_that_is_down_is_a_failure_to_retry_later_after_three_attempts() -> None:
    waits: list[float] = []
    from tests.erp.tryton_server import free_port

    rpc = TrytonRpc(
        f"http://127.0.0.1:{free_port()}/", "o2c", "admin", "x", sleep=waits.append
    )
    pull = TrytonConnector("acme", rpc).pull(None)

    assert pull.failure is not None
    assert pull.failure.retry is True
    assert pull.failure.message.startswith(
        "acme (Tryton): the Tryton server at http://127.0.0.1:"
    )
    assert pull.failure.message.endswith(
        "/o2c/rpc/ cannot be reached (ConnectionError)"
    )
    assert waits == [0.5, 1.0]
    assert rpc.calls == 3


def test_a_wrong_password_fails_at_once_without_retrying(tryton: TrytonServer) -> None:
    rpc = rpc_for(tryton, password="not-the-password")
    pull = TrytonConnector("acme", rpc).pull(None)

    assert pull.failure is not None
    assert pull.failure.retry is False
    assert (
        pull.failure.message
        == "acme (Tryton): the login or password of 'admin' is wrong"
    )
    assert rpc.calls == 1


def test_a_module_missing_on_the_erp_is_named(rpc: TrytonRpc) -> None:
    connector = TrytonConnector(
        "acme", rpc, modules=("account_dunning", "account_payment_sepa")
    )

    pull = connector.pull(None)
    info = connector.test()

    assert pull.failure is not None
    assert pull.failure.message == (
        "acme (Tryton): the database 'o2c' lacks the module account_payment_sepa: "
        "activate it in Tryton (Administration > Modules)"
    )
    assert info.failure == pull.failure
    assert info.server.startswith("Tryton 8.2")
    assert info.company == "Dunder Mifflin"
