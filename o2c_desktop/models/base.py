"""Declarative base, column types and mixins shared by every table.

Two storage rules hold in both engines (SQLite and PostgreSQL):

- Money is `Decimal` in Python. PostgreSQL stores ``NUMERIC(18, 2)``; SQLite,
  which has no exact decimal type, stores integer cents, so sums stay exact
  and fast there too. Reading either gives back a `Decimal` with two places.
- Timestamps are aware UTC datetimes in Python, whatever the engine keeps.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import BigInteger, DateTime, Integer, MetaData, Numeric, String, Uuid
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator, TypeEngine

if TYPE_CHECKING:
    from sqlalchemy.engine import Dialect

CENT = Decimal("0.01")
RATE_STEP = Decimal("0.0001")

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time as an aware UTC datetime."""
    return datetime.now(UTC)


class Money(TypeDecorator[Decimal]):
    """An exact amount with two decimal places (integer cents on SQLite)."""

    impl = Numeric(18, 2)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """Integer cents on SQLite, NUMERIC elsewhere."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(Numeric(18, 2, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Round to the cent (banker's rounding) and convert for the engine."""
        if value is None:
            return None
        amount = Decimal(value).quantize(CENT, ROUND_HALF_EVEN)
        if dialect.name == "sqlite":
            return int(amount.scaleb(2))
        return amount

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a two-place Decimal."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            if isinstance(value, float):  # AVG() and friends return REAL
                return (Decimal(repr(value)) / 100).quantize(CENT, ROUND_HALF_EVEN)
            return Decimal(int(value)).scaleb(-2)
        return Decimal(value).quantize(CENT, ROUND_HALF_EVEN)

    @property
    def python_type(self) -> type[Decimal]:
        """The Decimal type."""
        return Decimal


class Rate(TypeDecorator[Decimal]):
    """A percentage with four decimal places, exact on both engines.

    SQLite keeps ten-thousandths as an integer in the NUMERIC column, so no
    float ever carries a rate (SQLAlchemy would warn and round).
    """

    impl = Numeric(7, 4)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        """NUMERIC everywhere; no Decimal conversion by the SQLite driver."""
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Numeric(7, 4, asdecimal=False))
        return dialect.type_descriptor(Numeric(7, 4, asdecimal=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Four places; integer ten-thousandths on SQLite."""
        if value is None:
            return None
        rate = Decimal(value).quantize(RATE_STEP, ROUND_HALF_EVEN)
        return int(rate.scaleb(4)) if dialect.name == "sqlite" else rate

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        """Back to a four-place Decimal."""
        if value is None:
            return None
        if dialect.name == "sqlite":
            return Decimal(round(value)).scaleb(-4)
        return Decimal(value).quantize(RATE_STEP)

    @property
    def python_type(self) -> type[Decimal]:
        """The Decimal type."""
        return Decimal


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        """Refuse naive datetimes; store UTC."""
        if value is None:
            return None
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise ValueError(f"naive or non-datetime timestamp refused: {value!r}")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        """An aware UTC datetime."""
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)

    @property
    def python_type(self) -> type[datetime]:
        """The datetime type."""
        return datetime


class Base(DeclarativeBase):
    """Root of every table; constraint names are stable for migrations."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UuidPk:
    """Primary key for rows a desktop may create offline: copies never collide."""

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)


class IntPk:
    """Integer primary key for rows that come from the ERP or the shared database."""

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)


class Timestamped:
    """Creation and last-change times, in UTC."""

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(
        UTCDateTime, default=utcnow, onupdate=utcnow
    )


class Versioned(Timestamped):
    """Optimistic locking for records several people edit.

    A write based on a stale version fails (see `models.repo.ConflictError`)
    instead of silently overwriting a colleague's change.
    """

    version: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    updated_by: Mapped[str | None] = mapped_column(String(64))

    @declared_attr.directive
    def __mapper_args__(cls) -> dict[str, Any]:  # noqa: N805 - declared_attr
        table = cls.__table__  # type: ignore[attr-defined]  # set by declarative
        return {"version_id_col": table.c.version}


def uuid4_hexes(raw: Any) -> list[str]:
    """Version-4 UUIDs as 32 hex digits from an (n, 16) uint8 array of random bytes.

    Bulk writers (dunning runs, the demo) make ids by the hundred thousand;
    the caller picks the randomness (the OS, or a seeded generator).
    """
    raw = raw.copy()
    raw[:, 6] = (raw[:, 6] & 0x0F) | 0x40  # version 4
    raw[:, 8] = (raw[:, 8] & 0x3F) | 0x80  # RFC 4122 variant
    text: str = raw.tobytes().hex()
    return [text[k : k + 32] for k in range(0, len(text), 32)]
