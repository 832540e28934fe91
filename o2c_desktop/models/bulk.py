"""The one bulk writer: rows by the thousand through the raw driver (issue 13).

SQLAlchemy's per-row bind processing costs more than the database itself at
100,000 rows, so the import, the dunning run's writes and the demo builder
give rows here already in the shape the ORM types store (`money`, `ts`,
`day`): integer cents, ISO dates and naive UTC text on SQLite; decimal text
and UTC-suffixed timestamps on PostgreSQL. Rows go in with ``COPY`` on
PostgreSQL and ``executemany`` on SQLite.

The storage rules the ORM applies by itself are applied here too: every row
of a synced table gets its change marker (`models.change_seq`), and `audit`
writes `audit_log` rows shaped by `models.audit.audit_row`, as the ORM hook
does for what goes through a session.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from typing import TYPE_CHECKING, Any, Final

from o2c_desktop.models import change_seq
from o2c_desktop.models.audit import audit_row

if TYPE_CHECKING:
    from collections.abc import Iterable, Sequence

    import numpy as np
    import numpy.typing as npt
    from sqlalchemy.engine import Connection

# Rows per CSV buffer of a column-wise COPY.
COPY_ROWS: Final = 100_000
_AUDIT_COLUMNS: Final = (
    "at",
    "user_login",
    "table_name",
    "record_id",
    "operation",
    "changes",
)


class BulkWriter:
    """Bulk inserts and updates on one connection, in its transaction.

    Args:
        conn: the connection of the caller's transaction.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.pg = conn.dialect.name == "postgresql"
        self.raw: Any = conn.connection.driver_connection
        self.mark = "%s" if self.pg else "?"

    # -- values as the columns store them -------------------------------------------
    def ts(self, moment: dt.datetime) -> str:
        """An aware timestamp as `UTCDateTime` stores it."""
        utc = moment.astimezone(dt.UTC).replace(tzinfo=None)
        if self.pg:
            return utc.isoformat(timespec="microseconds") + "+00:00"
        return utc.isoformat(sep=" ", timespec="microseconds")

    def money(self, cents: npt.NDArray[np.int64]) -> list[Any]:
        """Money column values from int64 cents (decimal text on PostgreSQL)."""
        if not self.pg:
            values: list[Any] = cents.tolist()  # SQLite: Money is integer cents
            return values
        text: list[Any] = cents_text(cents).tolist()
        return text

    def day(self, day: dt.date) -> Any:
        """A date as the driver takes it."""
        return day if self.pg else day.isoformat()

    # -- the change marker -------------------------------------------------------------
    def change_set(self) -> str:
        """``, change_seq = ...`` to end the SET clause of a synced table's UPDATE."""
        return change_seq.set_sql(self.conn)

    def marker(self, table: str) -> int | None:
        """SQLite's marker for the rows of one insert into `table`, if synced."""
        if self.pg or table not in change_seq.SYNCED_TABLES:
            return None
        return change_seq.next_value(self.conn)

    # -- writing -----------------------------------------------------------------
    def insert_rows(
        self, table: str, names: Sequence[str], chunks: Iterable[Sequence[Any]]
    ) -> int:
        """Insert rows (tuples in `names` order), given by chunks; return how many."""
        count = 0
        marker = self.marker(table)
        cols = ", ".join(names)
        if self.pg:
            with (
                self.raw.cursor() as cur,
                cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy,
            ):
                for chunk in chunks:
                    for row in chunk:
                        copy.write_row(row)
                    count += len(chunk)
            return count
        marks = ", ".join("?" * len(names))
        if marker is not None:
            cols, marks = f"{cols}, {change_seq.COLUMN}", f"{marks}, {marker}"
        cur = self.raw.cursor()
        try:
            for chunk in chunks:
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", chunk)
                count += len(chunk)
        finally:
            cur.close()
        return count

    def insert(self, table: str, names: Sequence[str], rows: Sequence[Any]) -> None:
        """Insert `rows` (tuples in `names` order)."""
        if rows:
            self.insert_rows(table, names, [rows])

    def insert_columns(
        self,
        table: str,
        columns: dict[str, list[Any]],
        constants: dict[str, Any] | None = None,
    ) -> None:
        """Insert rows given by column; `constants` are the same on every row."""
        fixed = dict(constants or {})
        marker = self.marker(table)
        if marker is not None:
            fixed[change_seq.COLUMN] = marker
        names = ", ".join([*columns, *fixed])
        if self.pg:
            import pandas as pd

            count = len(next(iter(columns.values()), []))
            # Timestamps as text once: pandas would format them row by row.
            text = {
                k: v.isoformat() if isinstance(v, dt.datetime) else v
                for k, v in fixed.items()
            }
            frame = pd.DataFrame(
                {**columns, **{k: [v] * count for k, v in text.items()}}
            )
            sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
            with self.raw.cursor() as cur, cur.copy(sql) as copy:
                for start in range(0, len(frame), COPY_ROWS):
                    buffer = io.StringIO()
                    frame.iloc[start : start + COPY_ROWS].to_csv(
                        buffer, header=False, index=False
                    )
                    copy.write(buffer.getvalue())
            return
        # Constants are written into the statement: fewer values to bind per row.
        values = ["?"] * len(columns) + [sql_literal(v) for v in fixed.values()]
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(values)})"
        self.executemany(sql, zip(*columns.values(), strict=True))

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        """One statement over many parameter rows, through the driver."""
        cur = self.raw.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()

    def execute(self, sql: str, params: Sequence[Any] = ()) -> int:
        """One statement through the driver; the rows it touched."""
        cur = self.raw.cursor()
        try:
            cur.execute(sql, params)
            count: int = cur.rowcount
        finally:
            cur.close()
        return count

    def audit(
        self,
        table: str,
        entries: Iterable[tuple[str, str, Any]],
        now: dt.datetime,
        user: str | None,
    ) -> None:
        """`audit_log` rows (key, operation, changes) for records written in bulk."""
        stamp = self.ts(now)
        rows = []
        for key, operation, changes in entries:
            row = audit_row(stamp, user, table, key, operation, changes)
            row["changes"] = json.dumps(changes)
            rows.append(tuple(row[name] for name in _AUDIT_COLUMNS))
        self.insert("audit_log", _AUDIT_COLUMNS, rows)


def sql_literal(value: Any) -> str:
    """A constant of ours (number, flag, code, timestamp) as SQLite text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def cents_text(cents: npt.NDArray[np.int64]) -> npt.NDArray[Any]:
    """Integer cents as exact decimal text: -1234 -> "-12.34"."""
    import numpy as np

    if not len(cents):  # np.char.zfill refuses an empty array
        return np.array([], dtype=object)
    units, rest = np.divmod(np.abs(cents), 100)
    sign = np.where(cents < 0, "-", "")
    text = np.char.add(
        np.char.add(sign, units.astype(str)),
        np.char.add(".", np.char.zfill(rest.astype(str), 2)),
    )
    return text.astype(object)
