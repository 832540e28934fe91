"""What each import changed, so that it can be undone as a whole (issue 14)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.models.base import Base, IntPk, Money, UTCDateTime


class ImportBatch(IntPk, Base):
    """One import into one entity: when, from which file, what it did.

    Items it created carry its `taken_at` as their `created_at`; the items it
    updated or closed have an `ImportChange` row with their values before.
    `snapshot_id` is the balance snapshot of a full import (kept as a plain
    number: an undo deletes the snapshot, the history still names it).
    """

    __tablename__ = "import_batch"
    __table_args__ = (Index("ix_import_batch_entity", "entity_id", "taken_at"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    snapshot_id: Mapped[int | None] = mapped_column(Integer)
    as_of: Mapped[dt.date] = mapped_column(Date)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    user_login: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(400))
    full: Mapped[bool] = mapped_column(default=True)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    undone_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    undone_by: Mapped[str | None] = mapped_column(String(64))


class ImportChange(Base):
    """An item an import updated or closed, with its values before the import."""

    __tablename__ = "import_change"

    import_id: Mapped[int] = mapped_column(
        ForeignKey("import_batch.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("item.id", ondelete="CASCADE"),
        primary_key=True,
    )
    change: Mapped[str] = mapped_column(String(8))  # "updated" or "closed"
    kind: Mapped[str] = mapped_column(String(24))
    reference: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    remaining: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[str] = mapped_column(String(24))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)


class SyncCursor(Base):
    """How far a feed (an ERP connector, a risk provider) has been applied.

    Saved by `services.snapshot.apply_snapshot` in the transaction of the rows
    it applied, so a crash never leaves the cursor ahead of the data.
    """

    __tablename__ = "sync_cursor"

    name: Mapped[str] = mapped_column(String(120), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    updated_by: Mapped[str | None] = mapped_column(String(64))
