"""The per-row change marker a replica syncs from (issue 13).

Every table a replica copies has a `change_seq` column, set on every insert
and update by every write path:

- PostgreSQL: one sequence, ``o2c_change_seq``. The column's default is
  ``nextval('o2c_change_seq')``, so inserts (ORM, Core, ``COPY``) get a value
  without naming the column; updates set it to ``nextval(...)``. Values grow
  across sessions; each row gets its own.
- SQLite: a one-row counter table, ``change_counter``, bumped in the writing
  transaction (SQLite has one writer at a time, so values grow with commits).
  All the rows one statement writes share the value of that statement.

SQLAlchemy statements (ORM flushes and Core inserts/updates alike) get the
column from `install` (an engine hook); writes through the raw driver (the
bulk writer, `models.bulk`) set it themselves with `next_value`/`set_sql`.
A NULL marker is a row not written since revision 0010: a replica's first
sync copies everything anyway.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import BigInteger, Integer, Sequence, Table, event
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.sql import Insert, Update
from sqlalchemy.sql.functions import FunctionElement

from o2c_desktop.models.base import Base

if TYPE_CHECKING:
    from sqlalchemy.engine import Connection, Engine
    from sqlalchemy.sql.compiler import SQLCompiler

COLUMN: Final = "change_seq"
SEQUENCE_NAME: Final = "o2c_change_seq"
# The tables a replica syncs (models carrying `ChangeTracked`).
SYNCED_TABLES: Final = frozenset(
    {
        "customer",
        "contact",
        "item",
        "action",
        "action_item",
        "action_instalment",
        "case_file",
        "case_item",
        "plan_instalment",
        "document",
    }
)
CHANGE_SEQUENCE = Sequence(SEQUENCE_NAME, metadata=Base.metadata)
_BUMP: Final = (
    "INSERT INTO change_counter (id, value) VALUES (1, 1) "
    "ON CONFLICT (id) DO UPDATE SET value = value + 1 RETURNING value"
)


class ChangeCounter(Base):
    """SQLite's change marker: one row, bumped by each writing statement."""

    __tablename__ = "change_counter"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    value: Mapped[int] = mapped_column(BigInteger)


class _NextChangeSeq(FunctionElement[int]):
    """The column default: the sequence on PostgreSQL, none on SQLite."""

    name = "o2c_next_change_seq"
    inherit_cache = True
    type = BigInteger()


@compiles(_NextChangeSeq, "postgresql")
def _nextval(_element: Any, _compiler: SQLCompiler, **_kw: Any) -> str:
    return f"nextval('{SEQUENCE_NAME}')"


@compiles(_NextChangeSeq)
def _no_default(_element: Any, _compiler: SQLCompiler, **_kw: Any) -> str:
    return "NULL"


class ChangeTracked:
    """Mixin of the synced tables: the indexed `change_seq` marker."""

    change_seq: Mapped[int | None] = mapped_column(
        BigInteger, server_default=_NextChangeSeq(), index=True
    )


def next_value(conn: Connection) -> int | None:
    """A fresh marker for rows written now (SQLite); None on PostgreSQL."""
    if conn.dialect.name == "postgresql":
        return None
    value: int = conn.exec_driver_sql(_BUMP).scalar_one()
    return value


def set_sql(conn: Connection) -> str:
    """``, change_seq = ...`` to end the SET clause of a raw UPDATE."""
    value = next_value(conn)
    marker = f"nextval('{SEQUENCE_NAME}')" if value is None else str(value)
    return f", {COLUMN} = {marker}"


def _names(statement: Insert | Update, multiparams: Any, params: Any) -> set[str]:
    names = {str(getattr(k, "key", k)) for k in (statement._values or {})}
    first = multiparams[0] if multiparams else params
    if isinstance(first, dict):
        names.update(first)
    return names


def _before_execute(
    conn: Connection,
    clause: Any,
    multiparams: Any,
    params: Any,
    _options: Any,
) -> tuple[Any, Any, Any]:
    unchanged = clause, multiparams, params
    if not isinstance(clause, Insert | Update):
        return unchanged
    table = clause.table
    if not isinstance(table, Table) or table.name not in SYNCED_TABLES:
        return unchanged
    if COLUMN not in table.c:  # a migration's copy of a table before 0010
        return unchanged
    pg = conn.dialect.name == "postgresql"
    # PostgreSQL's column default marks inserts; INSERT ... SELECT names its own.
    if isinstance(clause, Insert) and (
        pg or clause.select is not None or clause._multi_values
    ):
        return unchanged
    ordered = getattr(clause, "_ordered_values", None)
    if ordered or COLUMN in _names(clause, multiparams, params):
        return unchanged
    marker: Any = CHANGE_SEQUENCE.next_value() if pg else next_value(conn)
    return clause.values({COLUMN: marker}), multiparams, params


def install(engine: Engine) -> None:
    """Set the change marker on every SQLAlchemy insert/update through `engine`."""
    event.listen(engine, "before_execute", _before_execute, retval=True)
