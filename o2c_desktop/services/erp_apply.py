"""Apply an ERP pull through the snapshot apply the file import shares (#18).

One code path for "what the book now says": the pull becomes a `Snapshot`
(``full`` or ``delta``) whose items carry ``<connector>:<erp id>`` as their
`external_id`, paid items go in `settled` with their payment date, vanished
ones in `vanished` with the reason, and the connector's cursor is the
snapshot's watermark, saved in the transaction of the rows. The ERP's customer
details (SIREN, VAT, address, e-mail, phone, language) the snapshot does not
carry are written right after, for the customers the pull brought.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from o2c_desktop.models import Customer, Entity, Item
from o2c_desktop.services.erp_writeback import external_id
from o2c_desktop.services.snapshot import Snapshot, Watermark, apply_snapshot

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

    import numpy as np
    import pandas as pd

    from o2c_desktop.services.context import AppContext
    from o2c_desktop.settings import ConnectorSettings
    from o2c_desktop.sync.erp.base import Pull

log = logging.getLogger(__name__)

DETAILS = (
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


def _cents(value: Decimal) -> int:
    return int((value * 100).to_integral_value())


def snapshot_of(
    ctx: AppContext, cs: ConnectorSettings, pull: Pull, cursor: str, today: dt.date
) -> Snapshot:
    """The snapshot of a pull (settled and vanished items keyed as in the book)."""
    import pandas as pd

    customers = pd.DataFrame(
        {
            "customer_ref": [c.reference for c in pull.customers],
            "customer_name": [c.name for c in pull.customers],
        },
        dtype=object,
    )
    items = pd.DataFrame(
        {
            "customer_ref": pd.Series(
                [i.customer_ref for i in pull.items], dtype=object
            ),
            "number": pd.Series([i.number for i in pull.items], dtype=object),
            "instalment": pd.Series([i.instalment for i in pull.items], dtype="int64"),
            "kind": pd.Series([i.kind.value for i in pull.items], dtype=object),
            "reference": pd.Series(
                [i.reference or "" for i in pull.items], dtype=object
            ),
            "issue_date": _days([i.issue_date for i in pull.items]),
            "due_date": _days([i.due_date for i in pull.items]),
            "amount": pd.Series([_cents(i.amount) for i in pull.items], dtype="int64"),
            "remaining": pd.Series(
                [_cents(i.remaining) for i in pull.items], dtype="int64"
            ),
            "currency": pd.Series([i.currency for i in pull.items], dtype=object),
            "external_id": pd.Series(
                [external_id(cs.name, i.external_id) for i in pull.items], dtype=object
            ),
        }
    )
    keys = _keys(ctx, cs, [s.external_id for s in pull.settled])
    paid = [
        (keys[s.external_id], s.on)
        for s in pull.settled
        if s.external_id in keys and s.on
    ]
    gone = [
        (keys[s.external_id], s.reason)
        for s in pull.settled
        if s.external_id in keys and s.on is None
    ]
    return Snapshot(
        source=f"{cs.kind}:{cs.name}",
        entity=cs.entity,
        customers=customers,
        items=items,
        as_of=today,
        scope="full" if pull.full else "delta",
        settled=_keyed(
            [k for k, _on in paid], "paid_on", _days([on for _k, on in paid])
        ),
        vanished=_keyed([k for k, _why in gone], "reason", [w for _k, w in gone]),
        watermark=Watermark(cursor, pull.cursor),
    )


def _days(values: Sequence[dt.date | None]) -> np.ndarray[Any, Any]:
    import numpy as np

    return np.array(
        [v.isoformat() if v else "NaT" for v in values], dtype="datetime64[D]"
    )


def _keyed(keys: list[tuple[str, str, int]], name: str, values: Any) -> pd.DataFrame:
    import pandas as pd

    return pd.DataFrame(
        {
            "customer_ref": pd.Series([k[0] for k in keys], dtype=object),
            "number": pd.Series([k[1] for k in keys], dtype=object),
            "instalment": pd.Series([k[2] for k in keys], dtype="int64"),
            name: values if name == "paid_on" else pd.Series(values, dtype=object),
        }
    )


def _keys(
    ctx: AppContext, cs: ConnectorSettings, erp_ids: list[str]
) -> dict[str, tuple[str, str, int]]:
    """(customer ref, number, instalment) of the book's items by ERP id."""
    if not erp_ids:
        return {}
    wanted = {external_id(cs.name, e): e for e in erp_ids}
    out: dict[str, tuple[str, str, int]] = {}
    names = list(wanted)
    with ctx.db.session(ctx.user_login) as s:
        for start in range(0, len(names), 1000):
            rows = s.execute(
                select(
                    Item.external_id, Customer.reference, Item.number, Item.instalment
                )
                .join(Customer, Customer.id == Item.customer_id)
                .join(Entity, Entity.id == Item.entity_id)
                .where(
                    Entity.code == cs.entity,
                    Item.external_id.in_(names[start : start + 1000]),
                )
            ).all()
            for ext, ref, number, instalment in rows:
                out[wanted[ext or ""]] = (ref, number, instalment)
    return out


def apply_pull(
    ctx: AppContext,
    cs: ConnectorSettings,
    pull: Pull,
    cursor: str,
    *,
    dry_run: bool = False,
) -> dict[str, int]:
    """Apply `pull` to the entity `cs.entity`; what changed (or would), counted.

    The ERP is the book's authority and a pull is all or nothing, so a full
    pull closes what the ERP no longer has open without the close check a
    short file needs.

    Raises:
        ImportRefusedError: the snapshot can't be applied (an unknown entity).
    """
    today = dt.datetime.now(dt.UTC).date()
    snapshot = snapshot_of(ctx, cs, pull, cursor, today)
    outcome = apply_snapshot(
        ctx.db,
        snapshot,
        user_login=ctx.user_login or None,
        dry_run=dry_run,
        confirm_close=True,
    )
    counts = {
        "customers_created": outcome.customers_created,
        "customers_updated": outcome.customers_updated,
        "items_created": outcome.items_created,
        "items_updated": outcome.items_updated,
        "items_closed": outcome.items_closed,
        "items_paid": outcome.items_settled,
        "items_vanished": outcome.items_vanished,
    }
    if not dry_run:
        counts["customers_detailed"] = _details(ctx, cs, pull)
    return counts


def _details(ctx: AppContext, cs: ConnectorSettings, pull: Pull) -> int:
    """Write the ERP's details of the pulled customers; how many changed."""
    by_ref = {c.reference: c for c in pull.customers}
    if not by_ref:
        return 0
    changed = 0
    with ctx.db.session(ctx.user_login) as s:
        refs = list(by_ref)
        for start in range(0, len(refs), 1000):
            for customer in s.scalars(
                select(Customer)
                .join(Entity, Entity.id == Customer.entity_id)
                .where(
                    Entity.code == cs.entity,
                    Customer.reference.in_(refs[start : start + 1000]),
                )
            ):
                erp = by_ref[customer.reference]
                touched = False
                for name in DETAILS:
                    value = getattr(erp, name)
                    if name == "country" and value:
                        value = value[:2]
                    if value is not None and getattr(customer, name) != value:
                        setattr(customer, name, value)
                        touched = True
                changed += touched
    return changed
