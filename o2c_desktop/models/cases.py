"""Cases: promises to pay, payment plans, disputes and litigation."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.engine.types import CaseKind, CaseStatus
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import Base, Money, Rate, UuidPk, Versioned
from o2c_desktop.models.change_seq import ChangeTracked


class Case(UuidPk, Versioned, ChangeTracked, Base):
    """A file grouping actions about some items of a customer.

    One table for the four kinds keeps the timeline a single query; fields
    that only one kind uses are nullable (see docs/design.md).
    """

    __tablename__ = "case_file"
    __table_args__ = (Index("ix_case_customer", "customer_id", "kind", "status"),)

    number: Mapped[str] = mapped_column(String(40), unique=True)
    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[CaseKind] = mapped_column(enum_column(CaseKind))
    status: Mapped[CaseStatus] = mapped_column(
        enum_column(CaseStatus), default=CaseStatus.OPEN
    )
    opened_on: Mapped[dt.date] = mapped_column(Date)
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id"))
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str | None] = mapped_column(String(3))
    # promise to pay
    promised_date: Mapped[dt.date | None] = mapped_column(Date)
    grace_days: Mapped[int | None] = mapped_column(Integer)
    source: Mapped[str | None] = mapped_column(String(40))  # call, email, letter
    # dispute
    reason: Mapped[str | None] = mapped_column(String(60))
    answer_due: Mapped[dt.date | None] = mapped_column(Date)
    resolution: Mapped[str | None] = mapped_column(String(40))
    # litigation
    stage: Mapped[str | None] = mapped_column(String(60))
    partner: Mapped[str | None] = mapped_column(String(200))
    fees: Mapped[Decimal | None] = mapped_column(Money)
    interest_rate: Mapped[Decimal | None] = mapped_column(Rate)  # % a year
    comment: Mapped[str | None] = mapped_column(Text)

    items: Mapped[list[CaseItem]] = relationship(
        back_populates="case", cascade="all, delete-orphan"
    )
    instalments: Mapped[list[PlanInstalment]] = relationship(
        back_populates="case",
        cascade="all, delete-orphan",
        order_by="(PlanInstalment.plan_version, PlanInstalment.seq)",
    )


class CaseItem(ChangeTracked, Base):
    """An item covered by a case, possibly for part of its amount."""

    __tablename__ = "case_item"

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_file.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    amount: Mapped[Decimal] = mapped_column(Money)

    case: Mapped[Case] = relationship(back_populates="items")


class PlanInstalment(UuidPk, ChangeTracked, Base):
    """One instalment of a payment plan; editing the plan adds a new version."""

    __tablename__ = "plan_instalment"
    __table_args__ = (Index("ix_plan_instalment_case", "case_id", "plan_version"),)

    case_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("case_file.id", ondelete="CASCADE")
    )
    plan_version: Mapped[int] = mapped_column(Integer, default=1)
    seq: Mapped[int] = mapped_column(Integer)
    due_date: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money)
    paid: Mapped[Decimal] = mapped_column(Money, default=Decimal(0))
    # The last dunning step the instalment reached (dunned from its own due
    # date while the plan runs) and the day of that run.
    dunning_step_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_step.id"))
    dunning_date: Mapped[dt.date | None] = mapped_column(Date)

    case: Mapped[Case] = relationship(back_populates="instalments")
