"""Open items (invoices, credit notes, payments...) and aged-balance snapshots."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.engine.types import ItemKind, ItemStatus
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import Base, IntPk, Money, Timestamped, UTCDateTime
from o2c_desktop.models.change_seq import ChangeTracked
from o2c_desktop.models.customers import Customer


class Item(Timestamped, ChangeTracked, Base):
    """One line of a customer's account, identified like the ERP identifies it.

    `remaining` is what is left to pay (negative for credits). The dunning
    columns (`dunning_step_id`, `dunning_date`) record the last step done for
    the item so the engine never repeats it; `suspended_until` is set by a
    promise to pay, `disputed` and `in_litigation` by open cases.
    """

    __tablename__ = "item"
    __table_args__ = (
        UniqueConstraint("entity_id", "customer_id", "number", "instalment"),
        # The ERP's own id, for connectors that upsert by it (issue 13).
        # Partial: the rows without one (every file import's) cost no index entry.
        Index(
            "uq_item_entity_external_id",
            "entity_id",
            "external_id",
            unique=True,
            sqlite_where=text("external_id IS NOT NULL"),
            postgresql_where=text("external_id IS NOT NULL"),
        ),
        Index("ix_item_customer_status", "customer_id", "status"),
        Index("ix_item_status_due", "status", "due_date"),
        Index("ix_item_number", "number"),
        # Revenue and collections per month read closed invoices by close date.
        Index("ix_item_kind_status_closed", "kind", "status", "closed_on"),
    )

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[ItemKind] = mapped_column(enum_column(ItemKind))
    number: Mapped[str] = mapped_column(String(40))
    instalment: Mapped[int] = mapped_column(Integer, default=0)
    reference: Mapped[str | None] = mapped_column(String(100))
    issue_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    remaining: Mapped[Decimal] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    status: Mapped[ItemStatus] = mapped_column(
        enum_column(ItemStatus), default=ItemStatus.OPEN
    )
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    disputed: Mapped[bool] = mapped_column(default=False)
    # Part of the remaining amount under dispute; None = the whole item.
    disputed_amount: Mapped[Decimal | None] = mapped_column(Money)
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    hold_until: Mapped[dt.date | None] = mapped_column(Date)
    in_litigation: Mapped[bool] = mapped_column(default=False)
    suspended_until: Mapped[dt.date | None] = mapped_column(Date)
    dunning_step_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_step.id"))
    dunning_date: Mapped[dt.date | None] = mapped_column(Date)
    pdf_path: Mapped[str | None] = mapped_column(String(400))
    external_id: Mapped[str | None] = mapped_column(String(80))

    customer: Mapped[Customer] = relationship()

    def days_late(self, day: dt.date) -> int:
        """Days past due on `day` (negative before the due date)."""
        return (day - self.due_date).days


class BalanceSnapshot(IntPk, Base):
    """An aged balance as imported at a date: the basis of trends and DSO."""

    __tablename__ = "balance_snapshot"
    __table_args__ = (Index("ix_snapshot_entity_date", "entity_id", "as_of"),)

    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    taken_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    source: Mapped[str] = mapped_column(String(400))
    item_count: Mapped[int] = mapped_column(Integer)
    outstanding: Mapped[Decimal] = mapped_column(Money)
    overdue: Mapped[Decimal] = mapped_column(Money)


class SnapshotLine(Base):
    """A customer's outstanding and overdue in one snapshot."""

    __tablename__ = "snapshot_line"

    snapshot_id: Mapped[int] = mapped_column(
        ForeignKey("balance_snapshot.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id"), primary_key=True
    )
    outstanding: Mapped[Decimal] = mapped_column(Money)
    overdue: Mapped[Decimal] = mapped_column(Money)
