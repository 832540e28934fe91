"""ERP sync runs: when each connector last pulled, what it did, what went wrong."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, Boolean, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from o2c_desktop.models.base import Base, IntPk, UTCDateTime


class SyncRun(IntPk, Base):
    """One pull from an ERP connector (`o2c sync status` reads the latest).

    A failed pull keeps its message (the ERP down, a wrong password) so the
    user sees why; `counts` says what an applied pull changed and `problems`
    the ERP records it left out, each naming its ERP id.
    """

    __tablename__ = "sync_run"
    __table_args__ = (Index("ix_sync_run_connector", "connector", "started_at"),)

    connector: Mapped[str] = mapped_column(String(120))
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime)
    finished_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime)
    full: Mapped[bool] = mapped_column(Boolean, default=False)
    dry_run: Mapped[bool] = mapped_column(Boolean, default=False)
    ok: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(Text)
    counts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    problems: Mapped[list[str]] = mapped_column(JSON, default=list)
    user_login: Mapped[str | None] = mapped_column(String(64))
