"""Apply an ERP pull to the book in one transaction, with its cursor (#18).

Interim: this is to be replaced by the snapshot apply the file import will
share (`services.snapshot.apply_snapshot`, issue 13) once it lands; until then
it does the same job for ERP pulls alone. Customers are upserted by their
reference, items by ``<connector>:<erp id>`` in `item.external_id` (an item a
file import created with the same number is adopted), paid items closed on
their payment date, vanished ones closed; a full pull closes this connector's
open items it no longer lists. The cursor is saved in the same transaction,
so an interrupted apply leaves the book and the cursor as they were.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from sqlalchemy import select

from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Customer, Entity, Item, SyncCursor
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.erp_writeback import SEPARATOR, external_id

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext
    from o2c_desktop.settings import ConnectorSettings
    from o2c_desktop.sync.erp.base import ErpCustomer, ErpItem, Pull

log = logging.getLogger(__name__)

_CUSTOMER_FIELDS = (
    "name",
    "legal_id",
    "vat_number",
    "address1",
    "postal_code",
    "city",
    "country",
    "email",
    "phone",
    "language",
)


class ApplyRefusedError(Exception):
    """The pull can't be applied (unknown entity); nothing was written."""


def apply_pull(
    ctx: AppContext, cs: ConnectorSettings, pull: Pull, cursor: str
) -> dict[str, int]:
    """Apply `pull` to the entity `cs.entity`; what changed, counted.

    Raises:
        ApplyRefusedError: the connector's entity does not exist.
    """
    counts = dict.fromkeys(
        (
            "customers_created",
            "customers_updated",
            "items_created",
            "items_updated",
            "items_closed",
        ),
        0,
    )
    now = utcnow()
    today = now.date()
    with ctx.db.session(ctx.user_login) as s:
        entity_id = s.scalar(select(Entity.id).where(Entity.code == cs.entity))
        if entity_id is None:
            raise ApplyRefusedError(
                f"connector {cs.name}: unknown entity {cs.entity!r}"
            )
        customers = {
            c.reference: c
            for c in s.scalars(select(Customer).where(Customer.entity_id == entity_id))
        }
        for erp in pull.customers:
            _upsert_customer(s, entity_id, customers, erp, counts)
        s.flush()
        prefix = f"{cs.name}{SEPARATOR}"
        mine: dict[str | None, Item] = {
            it.external_id: it
            for it in s.scalars(
                select(Item).where(
                    Item.entity_id == entity_id, Item.external_id.like(f"{prefix}%")
                )
            )
        }
        seen: set[str] = set()
        for erp_item in pull.items:
            key = external_id(cs.name, erp_item.external_id)
            seen.add(key)
            _upsert_item(s, entity_id, customers, mine, key, erp_item, counts)
        for settled in pull.settled:
            item = mine.get(external_id(cs.name, settled.external_id))
            if item is not None and item.status == ItemStatus.OPEN:
                _close(item, settled.on or today)
                counts["items_closed"] += 1
        if pull.full:
            for held, item in mine.items():
                if held not in seen and item.status == ItemStatus.OPEN:
                    _close(item, today)
                    counts["items_closed"] += 1
        row = s.get(SyncCursor, cursor)
        if row is None:
            s.add(
                SyncCursor(
                    name=cursor,
                    value=pull.cursor,
                    updated_at=now,
                    updated_by=ctx.user_login or None,
                )
            )
        else:
            row.value, row.updated_at = pull.cursor, now
    return counts


def _upsert_customer(
    s: Session,
    entity_id: int,
    customers: dict[str, Customer],
    erp: ErpCustomer,
    counts: dict[str, int],
) -> None:
    values = {f: getattr(erp, f) for f in _CUSTOMER_FIELDS}
    values["country"] = (values["country"] or "")[:2] or None
    current = customers.get(erp.reference)
    if current is None:
        customer = Customer(entity_id=entity_id, reference=erp.reference, **values)
        s.add(customer)
        customers[erp.reference] = customer
        counts["customers_created"] += 1
        return
    changed = False
    for name, value in values.items():
        if value is not None and getattr(current, name) != value:
            setattr(current, name, value)
            changed = True
    counts["customers_updated"] += changed


def _upsert_item(
    s: Session,
    entity_id: int,
    customers: dict[str, Customer],
    mine: dict[str | None, Item],
    key: str,
    erp: ErpItem,
    counts: dict[str, int],
) -> None:
    customer = customers.get(erp.customer_ref)
    if customer is None:
        log.warning(
            "%s: customer %s not in the book; item skipped", key, erp.customer_ref
        )
        return
    item = mine.get(key)
    if item is None:
        # A file import may have created it before the ERP was connected.
        item = s.scalars(
            select(Item).where(
                Item.entity_id == entity_id,
                Item.customer_id == customer.id,
                Item.number == erp.number,
                Item.instalment == erp.instalment,
                Item.external_id.is_(None),
            )
        ).first()
    values = {
        "kind": erp.kind,
        "number": erp.number,
        "instalment": erp.instalment,
        "reference": erp.reference,
        "issue_date": erp.issue_date,
        "due_date": erp.due_date,
        "amount": erp.amount,
        "remaining": erp.remaining,
        "currency": erp.currency,
        "status": ItemStatus.OPEN,
        "closed_on": None,
    }
    if item is None:
        item = Item(
            entity_id=entity_id, customer_id=customer.id, external_id=key, **values
        )
        s.add(item)
        mine[key] = item
        counts["items_created"] += 1
        return
    item.external_id = key
    mine[key] = item
    changed = False
    for name, value in values.items():
        if getattr(item, name) != value:
            setattr(item, name, value)
            changed = True
    counts["items_updated"] += changed


def _close(item: Item, on: dt.date) -> None:
    item.remaining = item.remaining * 0
    item.status = ItemStatus.CLOSED
    item.closed_on = on
