"""Customers (debtors) and their contacts."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import (
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.models.base import Base, IntPk, Money, Rate, UuidPk, Versioned
from o2c_desktop.models.change_seq import ChangeTracked
from o2c_desktop.models.org import Entity, Portfolio, User
from o2c_desktop.models.scenarios import Scenario


class Customer(IntPk, Versioned, ChangeTracked, Base):
    """A customer of one entity, identified by its ERP reference."""

    __tablename__ = "customer"
    __table_args__ = (
        UniqueConstraint("entity_id", "reference"),
        Index("ix_customer_name", "name"),
        Index("ix_customer_legal_id", "legal_id"),
        Index("ix_customer_collector", "collector_id"),
        Index("ix_customer_portfolio", "portfolio_id"),
    )

    entity_id: Mapped[int] = mapped_column(ForeignKey("entity.id"))
    reference: Mapped[str] = mapped_column(String(40))
    name: Mapped[str] = mapped_column(String(200))
    legal_id: Mapped[str | None] = mapped_column(String(40))  # SIREN / NIF / CRN
    vat_number: Mapped[str | None] = mapped_column(String(40))
    address1: Mapped[str | None] = mapped_column(String(200))
    address2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    country: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    fax: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    language: Mapped[str | None] = mapped_column(String(2))
    category: Mapped[str | None] = mapped_column(String(40))
    payment_terms_days: Mapped[int | None] = mapped_column(Integer)
    credit_limit: Mapped[Decimal | None] = mapped_column(Money)
    # Contract-specific late-payment rate, % a year; overrides the entity's.
    late_interest_rate: Mapped[Decimal | None] = mapped_column(Rate)
    portfolio_id: Mapped[int | None] = mapped_column(ForeignKey("portfolio.id"))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    scenario_id: Mapped[int | None] = mapped_column(ForeignKey("scenario.id"))
    dunning_type: Mapped[str | None] = mapped_column(String(60))
    dunning_start: Mapped[dt.date | None] = mapped_column(Date)
    hold_reason: Mapped[str | None] = mapped_column(String(200))
    hold_until: Mapped[dt.date | None] = mapped_column(Date)
    on_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    insolvency: Mapped[str | None] = mapped_column(String(60))
    insolvency_since: Mapped[dt.date | None] = mapped_column(Date)
    # A ratio, not money: predicted payment behaviour (0 = bad, 10 = good).
    risk_score: Mapped[float | None] = mapped_column(Float)
    risk_class: Mapped[str | None] = mapped_column(String(10))
    notes: Mapped[str | None] = mapped_column(Text)

    entity: Mapped[Entity] = relationship()
    portfolio: Mapped[Portfolio | None] = relationship()
    collector: Mapped[User | None] = relationship()
    scenario: Mapped[Scenario | None] = relationship()
    contacts: Mapped[list[Contact]] = relationship(
        back_populates="customer", cascade="all, delete-orphan"
    )

    def is_on_hold(self, day: dt.date) -> bool:
        """Whether dunning is held on `day` (a hold lifts itself at its end date)."""
        return self.on_hold and (self.hold_until is None or day <= self.hold_until)


class Contact(UuidPk, Versioned, ChangeTracked, Base):
    """A person at the customer: accounts payable, management, purchasing..."""

    __tablename__ = "contact"
    __table_args__ = (Index("ix_contact_customer", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str | None] = mapped_column(String(60))  # accounts_payable, management
    function: Mapped[str | None] = mapped_column(String(100))
    language: Mapped[str | None] = mapped_column(String(2))
    phone: Mapped[str | None] = mapped_column(String(40))
    mobile: Mapped[str | None] = mapped_column(String(40))
    fax: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    is_dunning_contact: Mapped[bool] = mapped_column(Boolean, default=False)

    customer: Mapped[Customer] = relationship(back_populates="contacts")
