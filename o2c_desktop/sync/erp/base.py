"""What every ERP connector returns: typed values, errors as values."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection
    from decimal import Decimal

    from o2c_desktop.engine.types import ItemKind


@dataclass(frozen=True)
class Problem:
    """One ERP record that could not be taken, and why (the rest is applied).

    Attributes:
        erp_id: the record in the ERP's own terms (``account.move.line,104``).
        field: the field at fault, empty when the record as a whole is.
        message: one line for the user.
    """

    erp_id: str
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.erp_id} {self.field}".strip()
        return f"{where}: {self.message}"


@dataclass(frozen=True)
class Failure:
    """Nothing could be pulled or pushed: the ERP is down, refused us, lacks a module.

    Attributes:
        message: one line for the user, naming the ERP and what to do.
        retry: a later attempt may work (the ERP was unreachable or busy);
            False for a wrong password or a missing module, which need a fix.
    """

    message: str
    retry: bool = False


@dataclass(frozen=True)
class ErpContact:
    """A way to reach a customer (Tryton's contact mechanisms)."""

    name: str
    email: str | None = None
    phone: str | None = None


@dataclass(frozen=True)
class ErpCustomer:
    """A customer as the ERP has it.

    Attributes:
        external_id: the ERP's id of the party.
        reference: the customer code users know it by.
    """

    external_id: str
    reference: str
    name: str
    legal_id: str | None = None
    vat_number: str | None = None
    address1: str | None = None
    postal_code: str | None = None
    city: str | None = None
    country: str | None = None
    email: str | None = None
    phone: str | None = None
    language: str | None = None
    contacts: tuple[ErpContact, ...] = ()


@dataclass(frozen=True)
class ErpItem:
    """An open item (invoice instalment, credit note, unapplied payment).

    Attributes:
        external_id: the ERP's id of the receivable line.
        customer_ref: the `ErpCustomer.reference` it belongs to.
        amount: the line's signed amount (negative for credits).
        remaining: what is left once partial payments are deducted.
    """

    external_id: str
    customer_ref: str
    kind: ItemKind
    number: str
    instalment: int
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    remaining: Decimal
    currency: str
    reference: str | None = None


@dataclass(frozen=True)
class Settled:
    """An item the ERP no longer has open: paid (reconciled) or gone.

    Attributes:
        external_id: the item's line.
        on: the payment's (reconciliation's) date; None when it vanished.
        reason: why it closed, for the item's history.
    """

    external_id: str
    on: dt.date | None
    reason: str


@dataclass(frozen=True)
class Allocation:
    """Part of a payment applied to an item."""

    item_id: str
    amount: Decimal


@dataclass(frozen=True)
class ErpPayment:
    """A payment received, and the items it went to."""

    external_id: str
    customer_ref: str
    on: dt.date
    amount: Decimal
    currency: str
    allocations: tuple[Allocation, ...] = ()


@dataclass(frozen=True)
class Pull:
    """What one pull brought.

    Attributes:
        full: every open item is in `items` (anything else open in the book
            has vanished); False for an incremental pull (only changes).
        customers: customers new or changed (all of them when full).
        items: open items new or changed.
        settled: items paid or vanished since the cursor.
        payments: payments seen, with their allocations.
        cursor: where the next incremental pull starts (save it with the rows).
        problems: records left out, each naming its ERP id.
        failure: set when nothing could be pulled (then the rest is empty).
    """

    full: bool
    customers: tuple[ErpCustomer, ...] = ()
    items: tuple[ErpItem, ...] = ()
    settled: tuple[Settled, ...] = ()
    payments: tuple[ErpPayment, ...] = ()
    cursor: str = ""
    problems: tuple[Problem, ...] = ()
    failure: Failure | None = None

    @property
    def vanished(self) -> tuple[str, ...]:
        """Items closed without a payment (cancelled or deleted in the ERP)."""
        return tuple(s.external_id for s in self.settled if s.on is None)


class WriteBackKind(StrEnum):
    """What a write-back tells the ERP."""

    NOTE = "note"  # a collection action done: letter, email, call, promise, plan...
    BLOCK = "block"  # a dispute opened or a hold: the ERP stops dunning the lines
    UNBLOCK = "unblock"  # the dispute closed or the hold lifted


@dataclass(frozen=True)
class WriteBack:
    """One outbox entry for the ERP.

    Attributes:
        marker: the idempotency marker written into the ERP (``o2c:<uuid>``),
            looked up before anything is created.
        kind: note, block or unblock.
        customer_ref: the customer's reference (its code in the ERP).
        item_ids: the items' ERP ids it concerns (may be empty).
        text: what the note says.
    """

    marker: str
    kind: WriteBackKind
    customer_ref: str
    item_ids: tuple[str, ...] = ()
    text: str = ""

    def payload(self) -> dict[str, Any]:
        """The outbox entry's JSON payload."""
        return {
            "marker": self.marker,
            "kind": self.kind.value,
            "customer_ref": self.customer_ref,
            "item_ids": list(self.item_ids),
            "text": self.text,
        }

    @classmethod
    def of(cls, payload: dict[str, Any]) -> WriteBack:
        """The write-back an outbox payload holds.

        Raises:
            ValueError: the payload is not a write-back.
        """
        try:
            return cls(
                marker=str(payload["marker"]),
                kind=WriteBackKind(payload["kind"]),
                customer_ref=str(payload["customer_ref"]),
                item_ids=tuple(str(i) for i in payload.get("item_ids", ())),
                text=str(payload.get("text", "")),
            )
        except (KeyError, ValueError) as exc:
            raise ValueError(f"not an ERP write-back: {exc}") from exc


@dataclass(frozen=True)
class Pushed:
    """What pushing one write-back gave.

    Attributes:
        done: the ERP has it (now, or from an earlier attempt: `replayed`).
        message: where it went (``account.dunning,2 chat message 7``) or the
            ERP's refusal.
        retry: not done, and a later attempt may work (the ERP was down).
        replayed: found already there by its marker; nothing was written.
    """

    done: bool
    message: str
    retry: bool = False
    replayed: bool = False


@dataclass(frozen=True)
class ConnectorInfo:
    """What `test()` learnt about the ERP."""

    server: str
    company: str
    failure: Failure | None = None
    details: dict[str, Any] = field(default_factory=dict)


class Connector(Protocol):
    """An ERP as the sync sees it."""

    name: str

    def test(self) -> ConnectorInfo:
        """Log in and check the ERP has what the sync needs."""
        ...

    def pull(
        self, cursor: str | None, *, full: bool = False, known: Collection[str] = ()
    ) -> Pull:
        """Customers, open items and payments since `cursor` (all when full).

        Args:
            cursor: from the previous pull; None pulls everything.
            full: pull everything whatever the cursor.
            known: the items' ERP ids the book holds open; those the ERP no
                longer has open come back in `Pull.settled` (an id-set
                comparison, since the ERP logs no readable id for deletions).
        """
        ...

    def push(self, wb: WriteBack) -> Pushed:
        """Write `wb` into the ERP once (idempotent by its marker)."""
        ...


def encode_cursor(since: dt.datetime | None, **extra: Any) -> str:
    """A cursor string: the ERP's own timestamp of the latest change seen."""
    return json.dumps(
        {"since": since.isoformat() if since else None, **extra}, sort_keys=True
    )


def decode_cursor(cursor: str | None) -> dict[str, Any]:
    """The values of a cursor string ({} for none or an unreadable one)."""
    if not cursor:
        return {}
    try:
        value = json.loads(cursor)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}
