"""Risk watch: provider events, ratings, credit limits, alerts, insolvency cases."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.models.base import Base, IntPk, Money, Rate, Timestamped, UTCDateTime


class RiskEvent(IntPk, Timestamped, Base):
    """A notice or provider event as pulled; a re-pull never duplicates it."""

    __tablename__ = "risk_event"
    __table_args__ = (
        UniqueConstraint("source", "external_id"),
        Index("ix_risk_event_siren", "siren"),
        Index("ix_risk_event_published", "source", "published_on"),
    )

    source: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(80))
    siren: Mapped[str | None] = mapped_column(String(9))  # the first one named
    sirens: Mapped[list[str]] = mapped_column(JSON, default=list)  # every one
    kind: Mapped[str] = mapped_column(String(24))
    procedure: Mapped[str | None] = mapped_column(String(60))
    published_on: Mapped[dt.date] = mapped_column(Date)
    effective_on: Mapped[dt.date | None] = mapped_column(Date)
    tribunal: Mapped[str | None] = mapped_column(String(200))
    mandatary: Mapped[str | None] = mapped_column(String(200))
    url: Mapped[str | None] = mapped_column(String(400))
    summary: Mapped[str | None] = mapped_column(String(400))
    old_value: Mapped[str | None] = mapped_column(String(200))
    new_value: Mapped[str | None] = mapped_column(String(200))
    provider_id: Mapped[str | None] = mapped_column(String(80))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RiskEventCustomer(Base):
    """A customer of the book an event names (matched by SIREN).

    A manager unlinks a match made by mistake (a SIREN typo): the row stays,
    with who, when and why.
    """

    __tablename__ = "risk_event_customer"
    __table_args__ = (Index("ix_risk_event_customer_customer", "customer_id"),)

    event_id: Mapped[int] = mapped_column(
        ForeignKey("risk_event.id", ondelete="CASCADE"), primary_key=True
    )
    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    matched_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    unlinked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    unlinked_by: Mapped[str | None] = mapped_column(String(64))
    unlink_reason: Mapped[str | None] = mapped_column(String(300))


class CustomerRisk(Timestamped, Base):
    """What the providers say of one customer now, and who set its limit."""

    __tablename__ = "customer_risk"

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE"), primary_key=True
    )
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_id: Mapped[str | None] = mapped_column(String(80))  # connectId
    provider_url: Mapped[str | None] = mapped_column(String(400))
    rating: Mapped[str | None] = mapped_column(String(2))
    rating_description: Mapped[str | None] = mapped_column(String(120))
    score: Mapped[Decimal | None] = mapped_column(Rate)  # a ratio, not money
    rated_on: Mapped[dt.date | None] = mapped_column(Date)
    provider_limit: Mapped[Decimal | None] = mapped_column(Money)
    provider_currency: Mapped[str | None] = mapped_column(String(3))
    report_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    registry_name: Mapped[str | None] = mapped_column(String(200))
    registry_address: Mapped[str | None] = mapped_column(String(300))
    naf: Mapped[str | None] = mapped_column(String(10))
    active: Mapped[bool | None] = mapped_column(Boolean)
    ceased_on: Mapped[dt.date | None] = mapped_column(Date)
    identity_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    limit_source: Mapped[str | None] = mapped_column(String(20))  # manual, provider
    limit_set_by: Mapped[str | None] = mapped_column(String(64))
    limit_set_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class RiskRating(IntPk, Base):
    """One rating of a customer at a date: the rating history."""

    __tablename__ = "risk_rating"
    __table_args__ = (
        UniqueConstraint("customer_id", "source", "rated_on"),
        Index("ix_risk_rating_customer", "customer_id", "rated_on"),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE")
    )
    source: Mapped[str] = mapped_column(String(20))
    rated_on: Mapped[dt.date] = mapped_column(Date)
    rating: Mapped[str | None] = mapped_column(String(2))
    score: Mapped[Decimal | None] = mapped_column(Rate)
    provider_limit: Mapped[Decimal | None] = mapped_column(Money)
    recorded_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)


class CreditLimitChange(IntPk, Base):
    """Our credit limit of a customer as it was set: amount, source, who, when."""

    __tablename__ = "credit_limit_change"
    __table_args__ = (Index("ix_credit_limit_change_customer", "customer_id"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE")
    )
    amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    source: Mapped[str] = mapped_column(String(20))  # manual, provider, insurer
    set_by: Mapped[str | None] = mapped_column(String(64))
    set_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(300))


class RiskAlert(IntPk, Timestamped, Base):
    """An alert for the credit manager; at most one per customer, kind and event."""

    __tablename__ = "risk_alert"
    __table_args__ = (
        UniqueConstraint("customer_id", "kind", "event_key"),
        Index("ix_risk_alert_open", "acknowledged_at", "created_at"),
    )

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE")
    )
    kind: Mapped[str] = mapped_column(String(24))
    event_key: Mapped[str] = mapped_column(String(160))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_event.id", ondelete="SET NULL")
    )
    source: Mapped[str] = mapped_column(String(20))
    link: Mapped[str | None] = mapped_column(String(400))
    message: Mapped[str] = mapped_column(Text)
    acknowledged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    acknowledged_by: Mapped[str | None] = mapped_column(String(64))
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="SET NULL")
    )


class InsolvencyCase(IntPk, Timestamped, Base):
    """A collective proceeding of a customer and the claim declared in it."""

    __tablename__ = "insolvency_case"
    __table_args__ = (Index("ix_insolvency_case_customer", "customer_id", "status"),)

    customer_id: Mapped[int] = mapped_column(
        ForeignKey("customer.id", ondelete="CASCADE")
    )
    procedure: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(20))  # open, plan, closed, unlinked
    judgment_date: Mapped[dt.date | None] = mapped_column(Date)
    published_on: Mapped[dt.date] = mapped_column(Date)
    tribunal: Mapped[str | None] = mapped_column(String(200))
    mandatary: Mapped[str | None] = mapped_column(String(200))
    notice_id: Mapped[str] = mapped_column(String(80))
    event_id: Mapped[int | None] = mapped_column(
        ForeignKey("risk_event.id", ondelete="SET NULL")
    )
    deadline: Mapped[dt.date] = mapped_column(Date)
    outside_metropolitan: Mapped[bool] = mapped_column(Boolean, default=False)
    claim_amount: Mapped[Decimal | None] = mapped_column(Money)
    currency: Mapped[str] = mapped_column(String(3))
    task_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="SET NULL")
    )
    reminder_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="SET NULL")
    )
    document_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("document.id", ondelete="SET NULL")
    )
    last_notice: Mapped[str | None] = mapped_column(String(400))
    closed_on: Mapped[dt.date | None] = mapped_column(Date)
    close_reason: Mapped[str | None] = mapped_column(String(300))
    written_off_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    written_off_by: Mapped[str | None] = mapped_column(String(64))


class RiskCursor(Base):
    """Where each source's sync stopped: the next one starts there."""

    __tablename__ = "risk_cursor"

    source: Mapped[str] = mapped_column(String(20), primary_key=True)
    cursor: Mapped[dt.date | None] = mapped_column(Date)
    last_run_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    requests: Mapped[int] = mapped_column(Integer, default=0)
