"""`o2c customers list|show`: find a customer's reference, see where it stands.

Every other command names customers by reference; this one finds them by
part of the name, reference, SIREN or invoice number (the customer list's
search) and shows one customer's figures (the client card's).
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import ArgumentValueError, CommandError, Result, add_json_flag
from o2c_desktop.cli._common import parse_date, services
from o2c_desktop.i18n import ngettext

if TYPE_CHECKING:
    import argparse

    from o2c_desktop.composition import Services


LIST_LIMIT = 50


def register(subparsers: Any) -> None:
    """Add `o2c customers list` and `o2c customers show`."""
    customers = subparsers.add_parser("customers", help="find and show customers")
    sub = customers.add_subparsers(
        dest="customers_command", metavar="ACTION", required=True
    )
    list_ = sub.add_parser(
        "list", help="customers by name, with their outstanding and overdue amounts"
    )
    list_.add_argument(
        "--search", default="", help="part of the name, or a reference, SIREN, invoice"
    )
    list_.add_argument("--entity", help="only this entity's customers (code)")
    list_.add_argument(
        "--limit",
        type=_limit,
        default=LIST_LIMIT,
        help=f"at most this many customers ({LIST_LIMIT})",
    )
    list_.add_argument("--date", type=parse_date, help="amounts on this day (today)")
    add_json_flag(list_)
    list_.set_defaults(handler=_list)

    show = sub.add_parser("show", help="one customer: collector, amounts, hold")
    show.add_argument("reference", help="the customer's reference")
    show.add_argument("--entity", help="entity code, when references repeat")
    show.add_argument("--date", type=parse_date, help="amounts on this day (today)")
    add_json_flag(show)
    show.set_defaults(handler=_show)


def _limit(text: str) -> int:
    try:
        value = int(text)
    except ValueError as exc:
        raise ArgumentValueError(f"not a whole number: {text!r}") from exc
    if value < 1:
        raise ArgumentValueError(f"must be at least 1: {text!r}")
    return value


def _today(value: dt.date | None) -> dt.date:
    return value or dt.datetime.now(dt.UTC).astimezone().date()


def _check_entity(built: Services, code: str | None) -> None:
    if not code:
        return
    known = [e.code for e in built.importer.entities()]
    if code not in known:
        raise CommandError(
            f"unknown entity {code!r} (known: {', '.join(known) or 'none'})"
        )


def _list(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with services() as built:
        _check_entity(built, args.entity)
        page = built.book.customers(
            args.search, 0, args.limit, today, entity_code=args.entity
        )
    rows = [
        {
            "reference": r.reference,
            "name": r.name,
            "entity": r.entity,
            "legal_id": r.legal_id,
            "collector": r.collector,
            "currency": r.currency,
            "outstanding": r.outstanding,
            "overdue": r.overdue,
            "days_late": r.days_late,
        }
        for r in page.rows
    ]
    data = {"total": page.total, "customers": rows}
    if not rows:
        return Result(data=data, text="No customer found.")
    table = [
        (
            r.reference,
            r.name,
            r.entity,
            r.collector or "-",
            f"{r.outstanding} {r.currency}",
            f"{r.overdue} {r.currency}",
        )
        for r in page.rows
    ]
    head = ("reference", "name", "entity", "collector", "outstanding", "overdue")
    widths = [max(len(row[i]) for row in (head, *table)) for i in range(len(head))]
    right = {4, 5}
    lines = [
        "  ".join(
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(row)
        ).rstrip()
        for row in (head, *table)
    ]
    shown = ngettext("{n} customer", "{n} customers", page.total).format(n=page.total)
    if page.total > len(rows):
        shown += f" ({len(rows)} shown: --limit or --search)"
    return Result(data=data, text="\n".join([*lines, shown]))


def _show(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with services() as built:
        _check_entity(built, args.entity)
        try:
            customer_id = built.cases.find_customer(args.reference, args.entity)
        except LookupError as exc:
            raise CommandError(str(exc).strip("'\"")) from exc
        card = built.workbench.customer_card(customer_id, today)
    a = card.amounts
    collector = card.settings.collector.name if card.settings.collector else None
    data = {
        "reference": card.reference,
        "name": card.name,
        "entity": card.entity_code,
        "entity_name": card.entity,
        "legal_id": card.legal_id,
        "portfolio": card.portfolio,
        "collector": collector,
        "language": card.language,
        "email": card.email,
        "phone": card.phone,
        "currency": a.currency,
        "outstanding": a.outstanding,
        "overdue": a.overdue,
        "disputed": a.disputed,
        "open_items": a.open_items,
        "days_late": a.days_late,
        "on_hold": card.on_hold,
        "hold_reason": card.hold_reason,
        "hold_until": card.hold_until,
        "date": today,
    }
    hold = "no"
    if card.on_hold:
        hold = "yes" + (f", {card.hold_reason}" if card.hold_reason else "")
        hold += f", until {card.hold_until.isoformat()}" if card.hold_until else ""
    lines = [
        f"{card.reference} {card.name}",
        f"  entity:      {card.entity_code} ({card.entity})",
        f"  collector:   {collector or '-'}",
        f"  outstanding: {a.outstanding} {a.currency} on {today.isoformat()}",
        f"  overdue:     {a.overdue} {a.currency}"
        + (f", {a.days_late} days late" if a.days_late else ""),
        f"  disputed:    {a.disputed} {a.currency}",
        "  open items:  " + str(a.open_items),
        f"  on hold:     {hold}",
    ]
    return Result(data=data, text="\n".join(lines))
