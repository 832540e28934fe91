"""Paid history of a file, applied through the snapshot apply (#17).

The parser puts the rows a file says are settled in `ParsedImport.settled`.
Here they become snapshots, all applied with the file's open items in one
transaction (`SnapshotApplier.apply`):

- items the book already has and that are open are closed as paid on their
  own date (the open items' snapshot's `settled` frame);
- items the book does not have yet are created (a delta snapshot) and then
  closed on their paid date (a second delta snapshot's `settled` frame), so
  the scoring has history to learn from;
- items the book has closed already are left as they are: a re-import of
  the same history changes nothing.

A forced history import (``o2c import FILE --history``) is a file of paid
invoices only: it never closes nor reopens the book's open items, so only
the items the book does not have are created, closed.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np
from sqlalchemy import select

from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Customer, Entity, Item
from o2c_desktop.services.snapshot import KEY, Snapshot

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

    from o2c_desktop.models.db import Database
    from o2c_desktop.sync.importing.parse import ParsedImport

log = logging.getLogger(__name__)

_ITEM_COLUMNS = [
    *KEY,
    "kind",
    "reference",
    "issue_date",
    "due_date",
    "amount",
    "remaining",
    "currency",
]


def known_items(db: Database, entity_code: str | None) -> pd.DataFrame:
    """Key and status of the entity's items (none when it does not exist yet)."""
    import pandas as pd

    with db.session() as s:
        entities = s.execute(select(Entity.id, Entity.code)).all()
        ids = [e.id for e in entities if entity_code is None or e.code == entity_code]
        if len(ids) != 1:  # refused or created by the apply itself
            return pd.DataFrame({c: pd.Series(dtype=object) for c in [*KEY, "status"]})
        rows = s.execute(
            select(
                Customer.reference.label("customer_ref"),
                Item.number,
                Item.instalment,
                Item.status,
            )
            .join(Customer, Customer.id == Item.customer_id)
            .where(Item.entity_id == ids[0])
        ).all()
    frame = pd.DataFrame(rows, columns=[*KEY, "status"])
    frame["status"] = [str(getattr(v, "value", v)) for v in frame["status"]]
    return frame


def history_snapshots(
    parsed: ParsedImport,
    entity: str | None,
    as_of: dt.date,
    known: pd.DataFrame,
) -> tuple[pd.DataFrame, list[Snapshot]]:
    """The settled keys for the open items' snapshot, and the history ones.

    Returns:
        (settled keys with paid_on for the open items' snapshot, the two
        delta snapshots that create the unknown items and close them).
    """
    settled = parsed.settled
    assert settled is not None
    valid = settled[settled["error"] == ""]
    keys = valid[KEY].astype({"instalment": np.int64})
    known = known.astype(
        {"customer_ref": object, "number": object, "instalment": np.int64}
    )
    found = keys.merge(known, on=KEY, how="left")["status"]
    is_new = found.isna().to_numpy()
    is_open = (found == ItemStatus.OPEN.value).to_numpy()
    paid = valid.assign(paid_on=valid["paid_date"])[[*KEY, "paid_on"]]
    new = valid[is_new]
    source = f"{parsed.path} (paid history)"
    snapshots = []
    if len(new):
        items = new[_ITEM_COLUMNS].assign(remaining=new["amount"])
        customers = new[["customer_ref", "customer_name"]]
        snapshots = [
            Snapshot(source, entity, customers, items, as_of, scope="delta"),
            Snapshot(
                source,
                entity,
                customers,
                items.iloc[:0],
                as_of,
                scope="delta",
                settled=paid[is_new],
            ),
        ]
    log.info(
        "%s: %d settled rows, %d new, %d open in the book",
        parsed.path,
        len(valid),
        int(is_new.sum()),
        int(is_open.sum()),
    )
    return paid[is_open], snapshots
