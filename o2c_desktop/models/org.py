"""The organisation: selling entities, users and portfolios."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.engine.types import Role
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import Base, IntPk, Rate, Versioned


class Entity(IntPk, Versioned, Base):
    """A selling company (filiale): its currency, language, letterhead, legal ids."""

    __tablename__ = "entity"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    legal_form: Mapped[str | None] = mapped_column(String(40))
    currency: Mapped[str] = mapped_column(String(3), default="EUR")
    country: Mapped[str] = mapped_column(String(2), default="FR")
    language: Mapped[str] = mapped_column(String(2), default="fr")
    legal_id: Mapped[str | None] = mapped_column(String(40))  # SIREN, NIF, CRN
    vat_number: Mapped[str | None] = mapped_column(String(40))
    share_capital: Mapped[str | None] = mapped_column(String(60))
    trade_registry: Mapped[str | None] = mapped_column(String(120))  # RCS Lyon
    address1: Mapped[str | None] = mapped_column(String(200))
    address2: Mapped[str | None] = mapped_column(String(200))
    postal_code: Mapped[str | None] = mapped_column(String(20))
    city: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(200))
    iban: Mapped[str | None] = mapped_column(String(40))
    bic: Mapped[str | None] = mapped_column(String(20))
    letterhead_note: Mapped[str | None] = mapped_column(Text)
    # Late-payment rate of the terms of sale, % a year; None = the legal default.
    late_interest_rate: Mapped[Decimal | None] = mapped_column(Rate)
    logo_path: Mapped[str | None] = mapped_column(String(400))


class User(IntPk, Versioned, Base):
    """A person who works in the app."""

    __tablename__ = "app_user"

    login: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(40))
    role: Mapped[Role] = mapped_column(enum_column(Role), default=Role.COLLECTOR)
    language: Mapped[str] = mapped_column(String(2), default="fr")
    signature: Mapped[str | None] = mapped_column(Text)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    absent_from: Mapped[dt.date | None] = mapped_column(Date)
    absent_until: Mapped[dt.date | None] = mapped_column(Date)
    replacement_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    replacement: Mapped[User | None] = relationship(remote_side="User.id")

    def is_absent(self, day: dt.date) -> bool:
        """Whether the user is away on `day` (their actions go to the replacement)."""
        if self.absent_from is None:
            return False
        return self.absent_from <= day and (
            self.absent_until is None or day <= self.absent_until
        )


class Portfolio(IntPk, Versioned, Base):
    """A set of customers owned by a collector, e.g. "35 - Grand Compte"."""

    __tablename__ = "portfolio"

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    collector_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    collector: Mapped[User | None] = relationship()

    @property
    def label(self) -> str:
        """The name users see: code and name."""
        return f"{self.code} - {self.name}"
