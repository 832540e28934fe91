"""Payment-behaviour models, customer scores by date, pay-date predictions (#21)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.models.base import Base, IntPk, UTCDateTime


class ScoreModel(IntPk, Base):
    """One training: when, on what, how it measured, and the model itself.

    Every desktop of a team scores with the newest row, so all agree.
    `model_text` is LightGBM's text format inside JSON (None when the rule
    is used); `shipped` is False when the model did not beat the baselines.
    """

    __tablename__ = "score_model"
    __table_args__ = (Index("ix_score_model_trained", "trained_at"),)

    trained_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    train_from: Mapped[dt.date | None] = mapped_column(Date)
    train_to: Mapped[dt.date] = mapped_column(Date)
    split_date: Mapped[dt.date | None] = mapped_column(Date)
    trained_on: Mapped[int] = mapped_column(Integer)
    basis: Mapped[str] = mapped_column(String(10))  # "model" or "rule"
    shipped: Mapped[bool] = mapped_column(Boolean, default=False)
    reason: Mapped[str | None] = mapped_column(Text)
    evaluation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    features: Mapped[list[str]] = mapped_column(JSON, default=list)
    library: Mapped[str] = mapped_column(String(40))
    model_text: Mapped[str | None] = mapped_column(Text)
    user_login: Mapped[str | None] = mapped_column(String(64))


class CustomerScore(Base):
    """A customer's behaviour score (0-10) and class (A-E) on a date."""

    __tablename__ = "customer_score"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    as_of: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    risk_class: Mapped[str] = mapped_column(String(1))
    basis: Mapped[str] = mapped_column(String(10))
    model_id: Mapped[int | None] = mapped_column(ForeignKey("score_model.id"))


class ItemPrediction(Base):
    """When an open item is expected to be paid, with its 80 % interval."""

    __tablename__ = "item_prediction"

    item_id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"),
        ForeignKey("item.id", ondelete="CASCADE"),
        primary_key=True,
    )
    model_id: Mapped[int | None] = mapped_column(ForeignKey("score_model.id"))
    as_of: Mapped[dt.date] = mapped_column(Date)
    p_late: Mapped[float] = mapped_column(Float)
    p_late30: Mapped[float] = mapped_column(Float)
    pay_date: Mapped[dt.date] = mapped_column(Date)
    pay_low: Mapped[dt.date] = mapped_column(Date)
    pay_high: Mapped[dt.date] = mapped_column(Date)
    basis: Mapped[str] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(200))
