"""The rows of a snapshot apply: the entity's items read and written in bulk.

`ItemWriter` is the import's part of the one bulk writer (`models.bulk`):
customers, items, their undo records and balance-snapshot lines, prepared on
columns (integer cents and ISO dates on SQLite, decimal text for
PostgreSQL's NUMERIC). `existing_items` reads the entity's items as columns
for the diff. Used by `services.snapshot` only.
"""

from __future__ import annotations

from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, Final

import numpy as np
from sqlalchemy import (
    BigInteger,
    String,
    Table,
    bindparam,
    cast,
    func,
    select,
    type_coerce,
    update,
)

from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Customer, Item, change_seq
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.bulk import BulkWriter, sql_literal

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    import pandas as pd
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import ColumnElement

# A first import this large rebuilds item look-up indexes at the end.
BULK_INDEX_ROWS: Final = 20_000
CHUNK: Final = 20_000


class ItemWriter(BulkWriter):
    """The import's bulk writes (`models.bulk.BulkWriter`): customers and items.

    Values are prepared on columns: integer cents and ISO dates on SQLite,
    decimal text for PostgreSQL's NUMERIC.
    """

    def insert_customers(
        self,
        entity_id: int,
        new: list[tuple[str, str]],
        user: str | None,
        now: dt.datetime,
    ) -> int:
        """Insert the customers no one has inserted yet; return how many.

        ON CONFLICT DO NOTHING: a concurrent import creating the same new
        customer must not fail with a unique violation (issue 14).
        """
        if not new:
            return 0
        stamp = self.ts(now)
        refs, names = zip(*new, strict=True)
        if self.pg:
            with self.raw.cursor() as cur:
                cur.execute(
                    "INSERT INTO customer (reference, name, entity_id, version, "
                    "on_hold, created_at, updated_at, updated_by) SELECT r, n, %s, 1, "
                    "false, %s, %s, %s FROM unnest(%s::text[], %s::text[]) AS u(r, n) "
                    "ON CONFLICT (entity_id, reference) DO NOTHING",
                    (entity_id, stamp, stamp, user, list(refs), list(names)),
                )
                count: int = cur.rowcount
            return count
        constants = {
            "entity_id": entity_id,
            "version": 1,
            "on_hold": False,
            "created_at": stamp,
            "updated_at": stamp,
            "updated_by": user,
        }
        marker = self.marker("customer")
        if marker is not None:
            constants[change_seq.COLUMN] = marker
        fixed = ", ".join(sql_literal(v) for v in constants.values())
        cur = self.raw.cursor()
        try:
            cur.executemany(
                f"INSERT INTO customer (reference, name, {', '.join(constants)}) "
                f"VALUES (?, ?, {fixed}) ON CONFLICT (entity_id, reference) DO NOTHING",
                zip(refs, names, strict=True),
            )
            count = cur.rowcount
        finally:
            cur.close()
        return count

    def insert_items(
        self, entity_id: int, rows: pd.DataFrame, now: dt.datetime
    ) -> None:
        if rows.empty:
            return
        stamp = self.ts(now)
        with self._without_item_indexes(len(rows)):
            # By slices: a million rows as Python lists at once would cost 1 GB.
            for start in range(0, len(rows), CHUNK * 5):
                chunk = rows.iloc[start : start + CHUNK * 5]
                self._insert_items(chunk, entity_id, stamp)

    @contextmanager
    def _without_item_indexes(self, new_rows: int) -> Iterator[None]:
        """Rebuild the look-up indexes once instead of row by row.

        Only on SQLite (one writer; the drop is part of the transaction) and
        when the import at least doubles the table, as a first import does.
        The unique key stays: it is what refuses a duplicate item.
        """
        if self.pg or new_rows < BULK_INDEX_ROWS:
            yield
            return
        existing = self.conn.scalar(select(func.count()).select_from(_ITEM))
        if (existing or 0) > new_rows:
            yield
            return
        indexes = [ix for ix in _ITEM.indexes if not ix.unique]
        for index in indexes:
            index.drop(self.conn)
        yield
        for index in indexes:
            index.create(self.conn)

    def _insert_items(self, rows: pd.DataFrame, entity_id: int, stamp: Any) -> None:
        columns = {
            "customer_id": rows["customer_id"].to_numpy(np.int64).tolist(),
            "number": rows["number"].to_numpy(dtype=object).tolist(),
            "instalment": rows["instalment"].to_numpy(np.int64).tolist(),
            **self._values(rows),
        }
        self.insert_columns(
            "item",
            columns,
            {
                "entity_id": entity_id,
                "status": ItemStatus.OPEN.value,
                "disputed": False,
                "in_litigation": False,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def _values(self, rows: pd.DataFrame) -> dict[str, list[Any]]:
        """The columns a feed sets on an item, as the driver takes them."""
        columns = {
            "kind": rows["kind"].to_numpy(dtype=object).tolist(),
            "reference": _none_if_empty(rows["reference"]),
            "issue_date": _days(rows["issue_date"]),
            "due_date": _days(rows["due_date"]),
            "amount": self.money(rows["amount"].to_numpy(np.int64)),
            "remaining": self.money(rows["remaining"].to_numpy(np.int64)),
            "currency": rows["currency"].to_numpy(dtype=object).tolist(),
        }
        if "external_id" in rows:
            columns["external_id"] = _none_if_empty(rows["external_id"])
        return columns

    def update_items(self, rows: pd.DataFrame, now: dt.datetime) -> None:
        if rows.empty:
            return
        columns = {"id": rows["id"].to_numpy(np.int64).tolist(), **self._values(rows)}
        fields = [c for c in columns if c != "id"]
        stamp = self.ts(now)
        marked = self.change_set()
        if self.pg:
            self.conn.exec_driver_sql(
                "CREATE TEMPORARY TABLE o2c_import_update (id bigint, kind "
                "varchar(24), reference varchar(100), issue_date date, due_date "
                "date, amount numeric(18, 2), remaining numeric(18, 2), currency "
                "varchar(3), external_id varchar(80)) ON COMMIT DROP"
            )
            self.insert_columns("o2c_import_update", columns)
            sets = ", ".join(f"{c} = u.{c}" for c in fields)
            self.conn.exec_driver_sql(
                f"UPDATE item SET {sets}, status = %(open)s, closed_on = NULL, "
                f"updated_at = %(now)s{marked} FROM o2c_import_update u "
                "WHERE item.id = u.id",
                {"open": ItemStatus.OPEN.value, "now": stamp},
            )
            self.conn.exec_driver_sql("DROP TABLE o2c_import_update")
            return
        sets = ", ".join(f"{c} = ?" for c in fields)
        sql = (
            f"UPDATE item SET {sets}, status = ?, closed_on = NULL, updated_at = ?"
            f"{marked} WHERE id = ?"
        )
        values = zip(
            *(columns[c] for c in fields),
            *(
                [ItemStatus.OPEN.value] * len(rows),
                [stamp] * len(rows),
                columns["id"],
            ),
            strict=True,
        )
        self.executemany(sql, values)

    def record_changes(
        self, import_id: int, ids: np.ndarray[Any, Any], change: str
    ) -> None:
        """Keep the items' values before the import changes them (its undo)."""
        if not len(ids):
            return
        columns = (
            "kind, reference, issue_date, due_date, amount, remaining, currency, "
            "status, closed_on"
        )
        if self.pg:
            self.execute(
                f"INSERT INTO import_change (import_id, item_id, change, {columns})"
                f" SELECT %s, id, %s, {columns} FROM item WHERE id = ANY(%s)",
                (import_id, change, ids.astype(np.int64).tolist()),
            )
            return
        self.executemany(
            f"INSERT INTO import_change (import_id, item_id, change, {columns}) "
            f"SELECT ?, id, ?, {columns} FROM item WHERE id = ?",
            ((import_id, change, int(i)) for i in ids),
        )

    def close_items(
        self, ids: np.ndarray[Any, Any], on: np.ndarray[Any, Any], now: dt.datetime
    ) -> None:
        """Close items as paid, each on its day (`on`, datetime64[D])."""
        if not len(ids):
            return
        status, stamp, marked = ItemStatus.CLOSED.value, self.ts(now), self.change_set()
        days = np.datetime_as_string(on.astype("datetime64[D]"), unit="D").tolist()
        if self.pg:
            self.execute(
                "UPDATE item SET status = %s, closed_on = u.d, remaining = 0, "
                f"updated_at = %s{marked} FROM unnest(%s::bigint[], %s::date[]) "
                "AS u(id, d) WHERE item.id = u.id",
                (status, stamp, ids.astype(np.int64).tolist(), days),
            )
            return
        self.executemany(
            "UPDATE item SET status = ?, closed_on = ?, remaining = 0, "
            f"updated_at = ?{marked} WHERE id = ?",
            zip(
                [status] * len(ids),
                days,
                [stamp] * len(ids),
                ids.astype(np.int64).tolist(),
                strict=True,
            ),
        )

    def insert_snapshot_lines(self, snapshot_id: int, lines: pd.DataFrame) -> None:
        if lines.empty:
            return
        self.insert_columns(
            "snapshot_line",
            {
                "snapshot_id": [snapshot_id] * len(lines),
                "customer_id": lines["customer_id"].to_numpy(np.int64).tolist(),
                "outstanding": self.money(lines["outstanding"].to_numpy(np.int64)),
                "overdue": self.money(lines["overdue"].to_numpy(np.int64)),
            },
        )


def existing_items(conn: Connection, entity_id: int) -> pd.DataFrame:
    """The entity's items as columns: integer cents, ISO dates, raw enum text."""
    import pandas as pd

    item = _ITEM
    pg = conn.dialect.name == "postgresql"

    def cents(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column * 100, BigInteger) if pg else type_coerce(column, BigInteger)

    def day(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column, String) if pg else type_coerce(column, String)

    query = select(
        item.c.id,
        item.c.customer_id,
        item.c.number,
        item.c.instalment,
        type_coerce(item.c.status, String).label("status"),
        type_coerce(item.c.kind, String).label("kind_db"),
        func.coalesce(item.c.reference, "").label("reference_db"),
        day(item.c.issue_date).label("issue_date_db"),
        day(item.c.due_date).label("due_date_db"),
        cents(item.c.amount).label("amount_db"),
        cents(item.c.remaining).label("remaining_db"),
        item.c.currency.label("currency_db"),
        func.coalesce(item.c.external_id, "").label("external_id_db"),
    ).where(item.c.entity_id == entity_id)
    names = [c.name for c in query.selected_columns]
    # Through the driver: SQLAlchemy's Row objects cost more than the query.
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        if compiled.positiontup is not None:
            cur.execute(str(compiled), [params[k] for k in compiled.positiontup])
        else:
            cur.execute(str(compiled), params)
        records = cur.fetchall()
    finally:
        cur.close()
    frame = pd.DataFrame.from_records(records, columns=names, coerce_float=False)
    data = {name: frame[name].to_numpy(dtype=object) for name in names}
    for name in ("id", "customer_id", "instalment", "amount_db", "remaining_db"):
        data[name] = data[name].astype(np.int64)
    for name in ("issue_date_db", "due_date_db"):
        data[name] = data[name].astype("datetime64[D]")
    return pd.DataFrame(data)


def _none_if_empty(values: pd.Series[Any]) -> list[str | None]:
    """Text for the database, NULL where the file had nothing."""
    return [v or None for v in values.to_numpy(dtype=object).tolist()]


def _days(values: pd.Series[Any]) -> list[str | None]:
    days = values.to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = None
    result: list[str | None] = text.tolist()
    return result


def write_customers(
    conn: Connection,
    writer: ItemWriter,
    entity_id: int,
    customers: pd.DataFrame,
    user: str | None,
) -> tuple[int, int, dict[str, int]]:
    """Insert new customers, rename changed ones; return counts and ref -> id."""
    cust = _CUSTOMER
    existing = {
        r.reference: (r.id, r.name)
        for r in conn.execute(
            select(cust.c.id, cust.c.reference, cust.c.name).where(
                cust.c.entity_id == entity_id
            )
        )
    }
    names = customers.drop_duplicates("customer_ref").set_index("customer_ref")[
        "customer_name"
    ]
    now = utcnow()
    new = [
        (str(ref), str(name or ref))
        for ref, name in names.items()
        if ref not in existing
    ]
    inserted = writer.insert_customers(entity_id, new, user, now)
    renamed = [
        {"cid": existing[ref][0], "new_name": name}
        for ref, name in names.items()
        if ref in existing and name and name != existing[ref][1]
    ]
    if renamed:
        conn.execute(
            update(cust)
            .where(cust.c.id == bindparam("cid"))
            .values(
                name=bindparam("new_name"),
                version=cust.c.version + 1,
                updated_at=now,
                updated_by=user,
            ),
            renamed,
        )
    ids = {ref: cid for ref, (cid, _name) in existing.items()}
    if new:
        last = max(ids.values(), default=0)
        query = select(cust.c.reference, cust.c.id).where(
            cust.c.entity_id == entity_id, cust.c.id > last
        )
        ids.update((ref, cid) for ref, cid in conn.execute(query))
        # Those a concurrent import created first may have lower ids.
        missing = [ref for ref, _name in new if ref not in ids]
        for start in range(0, len(missing), 1000):
            query = select(cust.c.reference, cust.c.id).where(
                cust.c.entity_id == entity_id,
                cust.c.reference.in_(missing[start : start + 1000]),
            )
            ids.update((ref, cid) for ref, cid in conn.execute(query))
    created = [(ref, name) for ref, name in new if ref in ids]
    writer.audit(
        "customer",
        [
            *(
                (str(ids[ref]), "insert", {"reference": ref, "name": name})
                for ref, name in created
            ),
            *(
                (
                    str(existing[ref][0]),
                    "update",
                    {"name": [existing[ref][1], name]},
                )
                for ref, name in names.items()
                if ref in existing and name and name != existing[ref][1]
            ),
        ],
        now,
        user,
    )
    return inserted, len(renamed), ids


_ITEM: Table = Item.__table__  # type: ignore[assignment]  # a mapped class's table
_CUSTOMER: Table = Customer.__table__  # type: ignore[assignment]
