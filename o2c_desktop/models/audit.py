"""The audit trail: who changed what, when, before and after."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from sqlalchemy import JSON, BigInteger, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.models.base import Base, UTCDateTime, utcnow


class AuditEntry(Base):
    """One change to one business record."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_record", "table_name", "record_id"),)

    id: Mapped[int] = mapped_column(
        BigInteger().with_variant(Integer, "sqlite"), primary_key=True
    )
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_login: Mapped[str | None] = mapped_column(String(64))
    table_name: Mapped[str] = mapped_column(String(60))
    record_id: Mapped[str] = mapped_column(String(80))
    operation: Mapped[str] = mapped_column(String(10))  # insert, update, delete
    changes: Mapped[dict[str, Any]] = mapped_column(JSON)


def record_key(*values: object) -> str:
    """The audit log's text form of a (possibly composite) primary key."""
    return ":".join(v.hex if isinstance(v, uuid.UUID) else str(v) for v in values)


def audit_row(
    at: dt.datetime | str,
    user_login: str | None,
    table: str,
    key: str,
    operation: str,
    changes: Any,
) -> dict[str, Any]:
    """An `audit_log` row, as every write path records who, what and when.

    `at` is the moment, or its stored text for a write through the driver.
    """
    return {
        "at": at,
        "user_login": user_login,
        "table_name": table,
        "record_id": key,
        "operation": operation,
        "changes": changes,
    }
