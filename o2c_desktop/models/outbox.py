"""The outbox: everything that leaves the machine, one row per message."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.engine.types import OutboxChannel, OutboxStatus
from o2c_desktop.models._columns import enum_column
from o2c_desktop.models.base import Base, Timestamped, UTCDateTime, UuidPk


class OutboxEntry(UuidPk, Timestamped, Base):
    """One email, printed letter, SMS, ERP write-back or risk request to send.

    Written in the transaction of the business change that calls for it; the
    unique idempotency key makes each exist once. A sender claims it
    (queued -> sending, committed) before performing it and records the
    outcome right after, so a crash leaves at most the one in flight unsure.
    """

    __tablename__ = "outbox_entry"
    __table_args__ = (
        Index("ix_outbox_entry_due", "status", "next_attempt_at"),
        Index("ix_outbox_entry_action", "action_id"),
    )

    idempotency_key: Mapped[str] = mapped_column(String(120), unique=True)
    channel: Mapped[OutboxChannel] = mapped_column(enum_column(OutboxChannel))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    action_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("action.id", ondelete="CASCADE")
    )
    status: Mapped[OutboxStatus] = mapped_column(
        enum_column(OutboxStatus), default=OutboxStatus.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    claimed_by: Mapped[str | None] = mapped_column(String(120))
    last_error: Mapped[str | None] = mapped_column(Text)
