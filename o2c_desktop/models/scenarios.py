"""Dunning scenarios, their steps, and the templates steps send."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.engine.cases import DEFAULT_PLAN_GRACE_DAYS
from o2c_desktop.engine.types import ActionType, CatchUp, Channel, StepMode
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import Base, IntPk, Money, Rate, Versioned


class Scenario(IntPk, Versioned, Base):
    """An ordered list of steps applied to the overdue items of its customers.

    `scope` holds the rules that pick customers (entity, portfolio, category,
    amount at risk, risk class) as JSON; lower `priority` wins when several
    scenarios match.
    """

    __tablename__ = "scenario"

    name: Mapped[str] = mapped_column(String(100), unique=True)
    description: Mapped[str | None] = mapped_column(Text)
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    default_language: Mapped[str] = mapped_column(String(2), default="fr")
    min_gap_days: Mapped[int] = mapped_column(Integer, default=7)
    # Days a missed plan instalment may wait before the plan breaks (issue 16).
    plan_grace_days: Mapped[int] = mapped_column(
        Integer, default=DEFAULT_PLAN_GRACE_DAYS, server_default="10"
    )
    tolerance: Mapped[Decimal] = mapped_column(Money, default=Decimal("5.00"))
    # Per-currency minimum worth chasing, {"GBP": "5.00"}; `tolerance` otherwise.
    tolerances: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    catch_up: Mapped[CatchUp] = mapped_column(
        enum_column(CatchUp), default=CatchUp.ONE_STEP
    )
    business_days: Mapped[bool] = mapped_column(Boolean, default=True)
    scope: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    priority: Mapped[int] = mapped_column(Integer, default=100)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    steps: Mapped[list[Step]] = relationship(
        back_populates="scenario",
        order_by="Step.offset_days",
        cascade="all, delete-orphan",
    )


class Step(IntPk, Base):
    """One step: an offset from the due date, an action type, a template."""

    __tablename__ = "scenario_step"
    __table_args__ = (UniqueConstraint("scenario_id", "offset_days"),)

    scenario_id: Mapped[int] = mapped_column(
        ForeignKey("scenario.id", ondelete="CASCADE")
    )
    name: Mapped[str] = mapped_column(String(100))
    offset_days: Mapped[int] = mapped_column(Integer)
    action_type: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    mode: Mapped[StepMode] = mapped_column(
        enum_column(StepMode), default=StepMode.AUTOMATIC
    )
    template_code: Mapped[str | None] = mapped_column(String(60))
    attach_statement: Mapped[bool] = mapped_column(Boolean, default=False)
    attach_interest: Mapped[bool] = mapped_column(Boolean, default=False)
    contact_role: Mapped[str | None] = mapped_column(String(60))
    # A fee charged once per item when it reaches the step: fixed, or a
    # percentage of the item's original amount (issue 16).
    fee_amount: Mapped[Decimal | None] = mapped_column(Money)
    fee_percent: Mapped[Decimal | None] = mapped_column(Rate)

    scenario: Mapped[Scenario] = relationship(back_populates="steps")


class Template(IntPk, Versioned, Base):
    """Text with merge fields for one channel and language (and optionally entity)."""

    __tablename__ = "template"
    __table_args__ = (UniqueConstraint("code", "channel", "language", "entity_id"),)

    code: Mapped[str] = mapped_column(String(60))
    channel: Mapped[Channel] = mapped_column(enum_column(Channel))
    language: Mapped[str] = mapped_column(String(2))
    entity_id: Mapped[int | None] = mapped_column(ForeignKey("entity.id"))
    name: Mapped[str] = mapped_column(String(200))
    subject: Mapped[str | None] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
