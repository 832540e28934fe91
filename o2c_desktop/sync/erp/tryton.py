"""The Tryton connector (8.2, modules account_invoice and account_dunning).

Open items are the posted, unreconciled receivable move lines with a party.
An invoice's own lines are its instalments; a credit line of another move whose
origin is the invoice is a partial payment and reduces the invoice's remaining
(earliest instalment first); other credit lines are unapplied payments. A line
reconciled is paid on its reconciliation's date: its dunning disappears
without being written, so "paid" is read from the line, never the dunning.

Incremental pulls search ``create_date``/``write_date`` from the ERP's own
latest timestamp seen, minus an overlap window (a transaction that committed
late, a clock difference); upserts downstream are idempotent, so seeing a
record twice is harmless. Deletions leave no readable id in Tryton's log, so
the items the book holds open (`known`) are compared with Tryton's open set.
See docs/erp-sync.md and the facts in tests/erp/contracts/.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from o2c_desktop.engine.types import ItemKind
from o2c_desktop.sync.erp.base import (
    Allocation,
    ConnectorInfo,
    ErpContact,
    ErpCustomer,
    ErpItem,
    ErpPayment,
    Failure,
    Problem,
    Pull,
    Pushed,
    Settled,
    WriteBack,
    WriteBackKind,
    decode_cursor,
    encode_cursor,
)
from o2c_desktop.sync.erp.jsonrpc import RpcError, TrytonRpc

if TYPE_CHECKING:
    from collections.abc import Collection, Iterable, Sequence

log = logging.getLogger(__name__)

REQUIRED_MODULES = ("account", "account_invoice", "account_dunning")
OVERLAP = dt.timedelta(minutes=10)
LINE = "account.move.line"
_OPEN = [
    ("account.type.receivable", "=", True),
    ("reconciliation", "=", None),
    ("party", "!=", None),
    ("move.state", "=", "posted"),
]
_LINE_FIELDS = [
    "party",
    "debit",
    "credit",
    "maturity_date",
    "date",
    "move",
    "move.number",
    "move_origin",
    "description",
    "currency.code",
    "second_currency.code",
    "amount_second_currency",
    "create_date",
    "write_date",
]
_INVOICE_FIELDS = [
    "number",
    "type",
    "invoice_date",
    "reference",
    "state",
    "move",
    "lines_to_pay",
    "currency.code",
]
_BATCH = 2000
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def _known_currencies() -> frozenset[str]:
    from babel.numbers import list_currencies  # only when pulling

    return frozenset(list_currencies())


@dataclass(frozen=True)
class TrytonSettings:
    """How to reach one Tryton database (the password is in the keyring)."""

    url: str
    database: str
    login: str


class TrytonConnector:
    """Pulls from and pushes to one Tryton database over JSON-RPC.

    Args:
        name: the connector's name in the app's settings.
        rpc: the JSON-RPC client (logged in on first use).
        modules: the Tryton modules the sync needs activated.
    """

    def __init__(
        self, name: str, rpc: TrytonRpc, *, modules: Sequence[str] = REQUIRED_MODULES
    ) -> None:
        self.name = name
        self._rpc = rpc
        self._modules = tuple(modules)
        self._checked = False
        self._currencies = _known_currencies()

    # -- the Connector protocol -------------------------------------------

    def test(self) -> ConnectorInfo:
        """Log in, and check the modules the sync needs are activated."""
        try:
            version = str(self._rpc.server_version())
            prefs = self._rpc.login()
            failure = self._check_modules()
        except RpcError as exc:
            return ConnectorInfo("", "", Failure(self._says(exc), exc.retry))
        company = str(prefs.get("company.rec_name") or "")
        return ConnectorInfo(f"Tryton {version}", company, failure)

    def pull(
        self, cursor: str | None, *, full: bool = False, known: Collection[str] = ()
    ) -> Pull:
        """Customers, open items and payments since `cursor` (see the module doc)."""
        since_text = decode_cursor(cursor).get("since")
        since = (
            None if full or not since_text else dt.datetime.fromisoformat(since_text)
        )
        try:
            if not self._checked and (failure := self._check_modules()):
                return Pull(full=since is None, failure=failure)
            return self._pull(since, known)
        except RpcError as exc:
            return Pull(full=since is None, failure=Failure(self._says(exc), exc.retry))

    def push(self, wb: WriteBack) -> Pushed:
        """Write `wb` once: looked up by its marker before anything is created."""
        try:
            return self._push(wb)
        except RpcError as exc:
            return Pushed(False, self._says(exc), retry=exc.retry)

    # -- pulling ------------------------------------------------------------

    def _pull(self, since: dt.datetime | None, known: Collection[str]) -> Pull:
        rpc = self._rpc
        problems: list[Problem] = []
        seen: list[dt.datetime] = []
        if since is None:
            lines = self._search_read(LINE, _OPEN, _LINE_FIELDS)
            open_ids = {int(line["id"]) for line in lines}
        else:
            after = since - OVERLAP
            changed = self._search_read(LINE, [*_OPEN, _changed(after)], _LINE_FIELDS)
            # A partial payment changes its invoice's other lines: read them all.
            invoices = self._invoices(_invoice_ids(changed))
            related = {i for inv in invoices.values() for i in inv["lines_to_pay"]}
            related.update(
                int(line["id"]) for line in changed if line["id"] not in related
            )
            lines = self._search_read(
                LINE, [*_OPEN, ("id", "in", sorted(related))], _LINE_FIELDS
            )
            lines += self._payments_of(invoices, {int(x["id"]) for x in lines})
            open_ids = set(rpc.model(LINE, "search", _OPEN, 0, None, None))
        seen.extend(_stamps(lines))
        invoices = self._invoices(_invoice_ids(lines))
        items, payments = self._items(lines, invoices, problems)
        party_ids = {int(line["party"]) for line in lines}
        if since is not None:
            parties_changed = rpc.model(
                "party.party", "search", [_changed(since - OVERLAP)], 0, None, None
            )
            party_ids.update(int(p) for p in parties_changed)
        customers = self._customers(sorted(party_ids), problems, seen)
        code = {c.external_id: c.reference for c in customers}
        # Items name their customer by its code: stable (Tryton won't change it).
        items = [
            ErpItem(**{**i.__dict__, "customer_ref": code[i.customer_ref]})
            for i in items
            if i.customer_ref in code
        ]
        payments = [
            ErpPayment(**{**p.__dict__, "customer_ref": code[p.customer_ref]})
            for p in payments
            if p.customer_ref in code
        ]
        gone = {int(k) for k in known if k.isdigit()} - open_ids
        settled = self._settled(gone, seen) if gone else []
        latest = max(seen, default=since)
        return Pull(
            full=since is None,
            customers=tuple(customers),
            items=tuple(items),
            settled=tuple(settled),
            payments=tuple(payments),
            cursor=encode_cursor(latest),
            problems=tuple(problems),
        )

    def _items(
        self,
        lines: Sequence[dict[str, Any]],
        invoices: dict[int, dict[str, Any]],
        problems: list[Problem],
    ) -> tuple[list[ErpItem], list[ErpPayment]]:
        own: dict[int, list[dict[str, Any]]] = defaultdict(list)
        paid_on_invoice: dict[int, list[dict[str, Any]]] = defaultdict(list)
        loose: list[dict[str, Any]] = []
        for line in lines:
            invoice = invoices.get(_invoice_id(line) or 0)
            if invoice is None:
                loose.append(line)
            elif int(line["move"]) == invoice["move"]:
                own[invoice["id"]].append(line)
            else:
                paid_on_invoice[invoice["id"]].append(line)
        items: list[ErpItem] = []
        payments: list[ErpPayment] = []
        for invoice_id, group in own.items():
            invoice = invoices[invoice_id]
            group.sort(key=lambda ln: (ln["maturity_date"] or dt.date.max, ln["id"]))
            made = [
                it
                for line in group
                if (it := self._item(line, invoice, problems)) is not None
            ]
            made, paid = _allocate(made, paid_on_invoice.pop(invoice_id, []), invoice)
            items.extend(made)
            payments.extend(paid)
        # Payments whose invoice has no open line left stay as credits.
        for rest in paid_on_invoice.values():
            loose.extend(rest)
        for line in loose:
            item = self._item(line, None, problems)
            if item is not None:
                items.append(item)
        return items, payments

    def _item(
        self,
        line: dict[str, Any],
        invoice: dict[str, Any] | None,
        problems: list[Problem],
    ) -> ErpItem | None:
        erp_id = f"{LINE},{line['id']}"
        amount = Decimal(line["debit"]) - Decimal(line["credit"])
        currency = _code(line.get("currency."))
        if (
            line.get("second_currency.")
            and line.get("amount_second_currency") is not None
        ):
            currency = _code(line.get("second_currency."))
            amount = Decimal(line["amount_second_currency"])
        due = line.get("maturity_date")
        if due is None and amount < 0:
            due = line["date"]  # a payment or credit falls due when made
        if due is None:
            problems.append(
                Problem(erp_id, "maturity_date", "the line has no maturity date")
            )
            return None
        if not _CURRENCY.match(currency) or currency not in self._currencies:
            problems.append(
                Problem(
                    erp_id, "currency", f"unknown currency {currency or '(none)'!r}"
                )
            )
            return None
        if invoice is not None:
            number = str(invoice["number"] or f"INV{invoice['id']}")
            to_pay = sorted(invoice["lines_to_pay"])
            instalment = (
                to_pay.index(line["id"]) + 1
                if len(to_pay) > 1 and line["id"] in to_pay
                else 0
            )
            issue = invoice["invoice_date"] or line["date"]
            kind = ItemKind.INVOICE if amount >= 0 else ItemKind.CREDIT_NOTE
            reference = invoice.get("reference")
        else:
            number = str(_code(line.get("move."), "number") or f"L{line['id']}")
            instalment = 0
            issue = line["date"]
            kind = ItemKind.PAYMENT if amount < 0 else ItemKind.ADJUSTMENT
            reference = line.get("description")
        return ErpItem(
            external_id=str(line["id"]),
            customer_ref=str(line["party"]),
            kind=kind,
            number=number,
            instalment=instalment,
            issue_date=issue,
            due_date=due,
            amount=amount,
            remaining=amount,
            currency=currency,
            reference=reference or None,
        )

    def _customers(
        self, party_ids: Sequence[int], problems: list[Problem], seen: list[dt.datetime]
    ) -> list[ErpCustomer]:
        if not party_ids:
            return []
        parties = self._read(
            "party.party",
            party_ids,
            [
                "code",
                "name",
                "lang.code",
                "identifiers",
                "addresses",
                "contact_mechanisms",
                "create_date",
                "write_date",
            ],
        )
        seen.extend(_stamps(parties))
        idents = {
            r["id"]: r
            for r in self._read(
                "party.identifier",
                [i for p in parties for i in p["identifiers"]],
                ["type", "code"],
            )
        }
        addresses = {
            r["id"]: r
            for r in self._read(
                "party.address",
                [p["addresses"][0] for p in parties if p["addresses"]],
                ["street", "postal_code", "city", "country.code"],
            )
        }
        mechanisms = {
            r["id"]: r
            for r in self._read(
                "party.contact_mechanism",
                [m for p in parties for m in p["contact_mechanisms"]],
                ["type", "value", "name"],
            )
        }
        out = []
        for party in parties:
            if not party.get("code"):
                problems.append(
                    Problem(
                        f"party.party,{party['id']}",
                        "code",
                        "the party has no code: its items are left out",
                    )
                )
                continue
            ids = [idents[i] for i in party["identifiers"] if i in idents]
            mechs = [
                mechanisms[m] for m in party["contact_mechanisms"] if m in mechanisms
            ]
            address = (
                addresses.get(party["addresses"][0]) if party["addresses"] else None
            )
            street = (address or {}).get("street") or None
            out.append(
                ErpCustomer(
                    external_id=str(party["id"]),
                    reference=str(party["code"]),
                    name=str(party["name"]),
                    legal_id=_identifier(ids, "fr_siren", "fr_siret"),
                    vat_number=_identifier(ids, "eu_vat"),
                    address1=street.splitlines()[0] if street else None,
                    postal_code=(address or {}).get("postal_code") or None,
                    city=(address or {}).get("city") or None,
                    country=_code((address or {}).get("country.")) or None,
                    email=_mechanism(mechs, "email"),
                    phone=_mechanism(mechs, "phone", "mobile"),
                    language=(_code(party.get("lang.")) or "")[:2] or None,
                    contacts=tuple(
                        ErpContact(
                            name=str(m.get("name") or party["name"]),
                            email=m["value"] if m["type"] == "email" else None,
                            phone=m["value"]
                            if m["type"] in {"phone", "mobile"}
                            else None,
                        )
                        for m in mechs
                        if m["type"] in {"email", "phone", "mobile"}
                    ),
                )
            )
        return out

    def _settled(self, gone: set[int], seen: list[dt.datetime]) -> list[Settled]:
        """Why items the book holds open are no longer open in Tryton."""
        rows = self._read(
            LINE,
            sorted(gone),
            [
                "reconciliation",
                "reconciliation.date",
                "reconciliation.create_date",
                "move_origin",
            ],
        )
        cancelled = {
            inv["id"]
            for inv in self._read(
                "account.invoice", sorted(_invoice_ids(rows)), ["state"]
            )
            if inv["state"] == "cancelled"
        }
        paid_on = self._payment_dates(
            {int(r["reconciliation"]) for r in rows if r.get("reconciliation")}
        )
        out = []
        for row in rows:
            rec = row.get("reconciliation.") or {}
            if _invoice_id(row) in cancelled:
                out.append(Settled(str(row["id"]), None, "cancelled in Tryton"))
            elif row.get("reconciliation"):
                if rec.get("create_date"):
                    seen.append(rec["create_date"])
                on = paid_on.get(int(row["reconciliation"])) or rec.get("date")
                out.append(Settled(str(row["id"]), on, "paid in Tryton"))
            else:
                out.append(Settled(str(row["id"]), None, "no longer open in Tryton"))
        found = {int(r["id"]) for r in rows}
        out.extend(
            Settled(str(i), None, "deleted in Tryton") for i in sorted(gone - found)
        )
        return out

    def _payment_dates(self, reconciliations: set[int]) -> dict[int, dt.date]:
        """When each reconciliation was paid: its lines' latest effective date.

        Tryton's own reconciliation date also weighs maturity dates, so an
        invoice paid early would look paid on its due date.
        """
        if not reconciliations:
            return {}
        recs = self._read(
            "account.move.reconciliation", sorted(reconciliations), ["lines"]
        )
        line_ids = sorted({i for r in recs for i in r["lines"]})
        dates = {r["id"]: r["date"] for r in self._read(LINE, line_ids, ["date"])}
        return {
            int(r["id"]): max(dates[i] for i in r["lines"] if i in dates)
            for r in recs
            if any(i in dates for i in r["lines"])
        }

    def _payments_of(
        self, invoices: dict[int, dict[str, Any]], have: set[int]
    ) -> list[dict[str, Any]]:
        """The open partial-payment lines of `invoices` not read yet."""
        if not invoices:
            return []
        refs = [f"account.invoice,{i}" for i in sorted(invoices)]
        return [
            line
            for line in self._search_read(
                LINE, [*_OPEN, ("move.origin", "in", refs)], _LINE_FIELDS
            )
            if int(line["id"]) not in have
        ]

    def _invoices(self, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        rows = self._read("account.invoice", sorted(set(ids)), _INVOICE_FIELDS)
        return {int(r["id"]): r for r in rows}

    def _search_read(
        self, model: str, domain: list[Any], fields: list[str]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        offset = 0
        while True:
            page = self._rpc.model(
                model, "search_read", domain, offset, _BATCH, [["id", "ASC"]], fields
            )
            out.extend(page)
            if len(page) < _BATCH:
                return out
            offset += _BATCH

    def _read(
        self, model: str, ids: Sequence[int], fields: list[str]
    ) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for start in range(0, len(ids), _BATCH):
            chunk = list(ids[start : start + _BATCH])
            # search_read skips deleted ids where read() would refuse them all.
            out.extend(
                self._rpc.model(
                    model, "search_read", [("id", "in", chunk)], 0, None, None, fields
                )
            )
        return out

    def _check_modules(self) -> Failure | None:
        rows = self._rpc.model(
            "ir.module",
            "search_read",
            [("name", "in", list(self._modules)), ("state", "=", "activated")],
            0,
            None,
            None,
            ["name"],
        )
        missing = sorted(set(self._modules) - {r["name"] for r in rows})
        if missing:
            return Failure(
                f"{self.name} (Tryton): the database {self._rpc.database!r} "
                f"lacks the module{'s' if len(missing) > 1 else ''} "
                f"{', '.join(missing)}: "
                "activate it in Tryton (Administration > Modules)"
            )
        self._checked = True
        return None

    # -- pushing ------------------------------------------------------------

    def _push(self, wb: WriteBack) -> Pushed:
        rpc = self._rpc
        marker = f"[{wb.marker}]"
        text = f"{marker} {wb.text}".strip()
        line_ids = [int(i) for i in wb.item_ids if i.isdigit()]
        dunnings = (
            rpc.model(
                "account.dunning",
                "search_read",
                [("line", "in", line_ids)],
                0,
                None,
                [["id", "ASC"]],
                ["id", "blocked"],
            )
            if line_ids
            else []
        )
        where: list[str] = []
        replayed = True
        if wb.kind in {WriteBackKind.BLOCK, WriteBackKind.UNBLOCK}:
            wanted = wb.kind is WriteBackKind.BLOCK
            to_write = [d["id"] for d in dunnings if bool(d["blocked"]) != wanted]
            if to_write:
                rpc.model("account.dunning", "write", to_write, {"blocked": wanted})
                replayed = False
            where.extend(
                f"account.dunning,{d['id']} {'blocked' if wanted else 'unblocked'}"
                for d in dunnings
            )
        for dunning in dunnings:
            resource = f"account.dunning,{dunning['id']}"
            found = rpc.model(
                "ir.chat.message",
                "search",
                [
                    ("channel.resource", "=", resource),
                    ("content", "ilike", f"%{marker}%"),
                ],
                0,
                1,
                None,
            )
            if not found:
                rpc.model("ir.chat.channel", "post", resource, text, "internal")
                replayed = False
            where.append(f"{resource} chat")
        if not dunnings:
            party = self._party_of(wb.customer_ref)
            resource = f"party.party,{party}"
            found = rpc.model(
                "ir.note",
                "search",
                [("resource", "=", resource), ("message", "ilike", f"%{marker}%")],
                0,
                1,
                None,
            )
            if not found:
                rpc.model(
                    "ir.note", "create", [{"resource": resource, "message": text}]
                )
                replayed = False
            where.append(f"{resource} note")
        return Pushed(True, "; ".join(where), replayed=replayed)

    def _party_of(self, code: str) -> int:
        found = self._rpc.model(
            "party.party", "search", [("code", "=", code)], 0, 1, None
        )
        if not found:
            raise RpcError(f"no party with the code {code!r} in Tryton", "missing")
        return int(found[0])

    def _says(self, exc: RpcError) -> str:
        return f"{self.name} (Tryton): {exc}"


def _changed(after: dt.datetime) -> list[Any]:
    return ["OR", ("create_date", ">=", after), ("write_date", ">=", after)]


def _stamps(rows: Iterable[dict[str, Any]]) -> list[dt.datetime]:
    return [
        stamp
        for row in rows
        for stamp in (row.get("create_date"), row.get("write_date"))
        if isinstance(stamp, dt.datetime)
    ]


def _invoice_id(line: dict[str, Any]) -> int | None:
    origin = line.get("move_origin")
    if isinstance(origin, str) and origin.startswith("account.invoice,"):
        tail = origin.partition(",")[2]
        return int(tail) if tail.isdigit() else None
    return None


def _invoice_ids(lines: Iterable[dict[str, Any]]) -> set[int]:
    return {i for line in lines if (i := _invoice_id(line)) is not None}


def _code(related: Any, name: str = "code") -> str:
    return str(related.get(name) or "") if isinstance(related, dict) else ""


def _identifier(rows: Sequence[dict[str, Any]], *types: str) -> str | None:
    for wanted in types:
        for row in rows:
            if row.get("type") == wanted and row.get("code"):
                # Tryton formats SIRENs for display ("123 456 782").
                code = "".join(str(row["code"]).split())
                return code[:9] if wanted == "fr_siret" else code
    return None


def _mechanism(rows: Sequence[dict[str, Any]], *types: str) -> str | None:
    for row in rows:
        if row.get("type") in types and row.get("value"):
            return str(row["value"])
    return None


def _allocate(
    items: list[ErpItem], payments: list[dict[str, Any]], invoice: dict[str, Any]
) -> tuple[list[ErpItem], list[ErpPayment]]:
    """Deduct an invoice's partial payments from its items, earliest first."""
    remaining = [it.remaining for it in items]
    out: list[ErpPayment] = []
    for line in sorted(payments, key=lambda ln: ln["id"]):
        left = Decimal(line["credit"]) - Decimal(line["debit"])
        allocations = []
        for n, it in enumerate(items):
            if left <= 0 or remaining[n] <= 0:
                continue
            take = min(left, remaining[n])
            remaining[n] -= take
            left -= take
            allocations.append(Allocation(it.external_id, take))
        out.append(
            ErpPayment(
                external_id=str(line["id"]),
                customer_ref=str(line["party"]),
                on=line["date"],
                amount=Decimal(line["credit"]) - Decimal(line["debit"]),
                currency=_code(line.get("currency.")),
                allocations=tuple(allocations),
            )
        )
        if left > 0 and items:
            # Overpaid: the excess stays on the last instalment as a credit.
            remaining[-1] -= left
    made = [
        ErpItem(**{**it.__dict__, "remaining": remaining[n]})
        for n, it in enumerate(items)
    ]
    return made, out
