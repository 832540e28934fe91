"""Raw SQL for the whole-book reads (dunning run, scoring): no ORM objects.

Reading a million items as ORM rows, or even as Decimals, costs seconds; the
dunning run and the scoring read day numbers and integer cents straight from
the driver's cursor. Every value inlined in this SQL is an enum value or an
integer computed by the caller, never user input.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

NULL_DAY: Final = -(10**9)  # a day number before any real date, for SQL NULLs


class RawSql:
    """Dialect spellings of the few expressions the raw queries need."""

    def __init__(self, dialect: str) -> None:
        self.pg = dialect == "postgresql"

    def day(self, col: str) -> str:
        """A date column as days since 1970-01-01, NULL as `NULL_DAY`."""
        if self.pg:
            expr = f"({col} - DATE '1970-01-01')"
        else:
            expr = f"CAST(julianday({col}) - 2440587.5 AS INTEGER)"
        return f"COALESCE({expr}, {NULL_DAY})"

    def cents(self, col: str) -> str:
        """A Money column as integer cents (SQLite already stores cents)."""
        return f"CAST({col} * 100 AS BIGINT)" if self.pg else col

    def flag(self, col: str) -> str:
        """A boolean column as 0/1."""
        return f"CAST({col} AS INTEGER)" if self.pg else col

    @staticmethod
    def date(day: dt.date) -> str:
        """A date literal (an ISO string compares as a date on both engines)."""
        return f"'{day.isoformat()}'"


def fetch(s: Session, sql: str) -> list[tuple[Any, ...]]:
    """Rows of `sql` as plain tuples, from the driver's cursor."""
    cursor = s.connection().connection.cursor()
    try:
        cursor.execute(sql)
        rows: list[tuple[Any, ...]] = list(cursor.fetchall())
    finally:
        cursor.close()
    return rows
