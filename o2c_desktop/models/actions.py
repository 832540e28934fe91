"""Actions (what is done or to do for a customer), documents, notifications."""

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
    LargeBinary,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from o2c_desktop.engine.types import ActionStatus, ActionType, DocumentKind
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import (
    Base,
    IntPk,
    Money,
    Timestamped,
    UTCDateTime,
    UuidPk,
    Versioned,
)
from o2c_desktop.models.change_seq import ChangeTracked
from o2c_desktop.models.customers import Contact, Customer


class Action(UuidPk, Versioned, ChangeTracked, Base):
    """One thing to do, or done, for a customer: a reminder, a call, a task."""

    __tablename__ = "action"
    __table_args__ = (
        Index("ix_action_agenda", "assigned_to_id", "status", "planned_date"),
        Index("ix_action_customer", "customer_id", "planned_date"),
        Index("ix_action_case", "case_id"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    case_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("case_file.id"))
    step_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_step.id"))
    action_type: Mapped[ActionType] = mapped_column(enum_column(ActionType))
    subject: Mapped[str | None] = mapped_column(String(300))
    planned_date: Mapped[dt.date] = mapped_column(Date)
    status: Mapped[ActionStatus] = mapped_column(
        enum_column(ActionStatus), default=ActionStatus.PENDING
    )
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    amount: Mapped[Decimal | None] = mapped_column(Money)  # amount claimed
    currency: Mapped[str | None] = mapped_column(String(3))
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    performed_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    performed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    contact_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("contact.id"))
    outcome: Mapped[str | None] = mapped_column(String(60))
    # What the action did to its case: case_opened, case_broken, case_escalated...
    case_event: Mapped[str | None] = mapped_column(String(30))
    comment: Mapped[str | None] = mapped_column(Text)
    reason: Mapped[str | None] = mapped_column(String(300))  # cancelled / failed why
    send_log: Mapped[str | None] = mapped_column(Text)

    customer: Mapped[Customer] = relationship()
    contact: Mapped[Contact | None] = relationship()
    items: Mapped[list[ActionItem]] = relationship(
        back_populates="action", cascade="all, delete-orphan"
    )
    instalments: Mapped[list[ActionInstalment]] = relationship(
        back_populates="action", cascade="all, delete-orphan"
    )
    documents: Mapped[list[Document]] = relationship(back_populates="action")


class ActionItem(ChangeTracked, Base):
    """An item an action is about, with its amount and days late at that time.

    The unique index on (item, step) is what makes a dunning step happen once
    per item, even when several desktops run the engine at the same time.
    """

    __tablename__ = "action_item"
    __table_args__ = (
        Index(
            "uq_action_item_item_step",
            "item_id",
            "step_id",
            unique=True,
            sqlite_where=text("step_id IS NOT NULL"),
            postgresql_where=text("step_id IS NOT NULL"),
        ),
    )

    action_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("action.id", ondelete="CASCADE"), primary_key=True
    )
    item_id: Mapped[int] = mapped_column(ForeignKey("item.id"), primary_key=True)
    step_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_step.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    days_late: Mapped[int] = mapped_column(Integer)

    action: Mapped[Action] = relationship(back_populates="items")


class ActionInstalment(ChangeTracked, Base):
    """A payment-plan instalment an action reminds, with its amount then.

    Like `ActionItem` for items: the unique index on (instalment, step) makes
    a dunning step happen once per instalment.
    """

    __tablename__ = "action_instalment"
    __table_args__ = (
        Index(
            "uq_action_instalment_step",
            "instalment_id",
            "step_id",
            unique=True,
            sqlite_where=text("step_id IS NOT NULL"),
            postgresql_where=text("step_id IS NOT NULL"),
        ),
    )

    action_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("action.id", ondelete="CASCADE"), primary_key=True
    )
    instalment_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("plan_instalment.id", ondelete="CASCADE"), primary_key=True
    )
    step_id: Mapped[int | None] = mapped_column(ForeignKey("scenario_step.id"))
    amount: Mapped[Decimal] = mapped_column(Money)
    days_late: Mapped[int] = mapped_column(Integer)

    action: Mapped[Action] = relationship(back_populates="instalments")


class Document(UuidPk, Timestamped, ChangeTracked, Base):
    """A generated or attached file: letter, statement, email, invoice PDF."""

    __tablename__ = "document"
    __table_args__ = (
        Index("ix_document_customer", "customer_id"),
        Index("ix_document_action", "action_id"),
    )

    customer_id: Mapped[int] = mapped_column(ForeignKey("customer.id"))
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="SET NULL")
    )
    kind: Mapped[DocumentKind] = mapped_column(enum_column(DocumentKind))
    filename: Mapped[str] = mapped_column(String(300))
    mime_type: Mapped[str] = mapped_column(String(100), default="application/pdf")
    content: Mapped[bytes] = mapped_column(LargeBinary)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    action: Mapped[Action | None] = relationship(back_populates="documents")


class Notification(UuidPk, Timestamped, Base):
    """A message to a colleague, shown in their agenda until read."""

    __tablename__ = "notification"
    __table_args__ = (Index("ix_notification_user", "user_id", "read_at"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    sender_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    customer_id: Mapped[int | None] = mapped_column(ForeignKey("customer.id"))
    action_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("action.id"))
    message: Mapped[str] = mapped_column(Text)
    read_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)


class DunningRun(IntPk, Base):
    """One run of the dunning engine: the date it ran for and what it did.

    The last run's date is what refuses a run dated before it.
    """

    __tablename__ = "dunning_run"
    __table_args__ = (Index("ix_dunning_run_date", "run_date"),)

    run_date: Mapped[dt.date] = mapped_column(Date)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    user_login: Mapped[str | None] = mapped_column(String(64))
    actions_created: Mapped[int] = mapped_column(Integer, default=0)
    items_covered: Mapped[int] = mapped_column(Integer, default=0)
    actions_cancelled: Mapped[int] = mapped_column(Integer, default=0)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
