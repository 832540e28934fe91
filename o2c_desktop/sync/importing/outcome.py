"""What an import changed, as plain values the UI may hold (no SQLAlchemy here)."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)


class ImportRefusedError(Exception):
    """The import can't be applied; the message says why. Nothing was written."""


class ImportCancelledError(Exception):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class EntityChoice:
    """An entity the user can import into."""

    id: int
    code: str
    name: str
    currency: str


@dataclass(frozen=True)
class ImportResult:
    """What an import changed (or would change, for a dry run)."""

    entity: str
    as_of: dt.date
    full: bool
    dry_run: bool
    rows_imported: int
    rows_rejected: int
    customers_created: int
    customers_updated: int
    items_created: int
    items_updated: int
    items_unchanged: int
    items_closed: int
    outstanding_before: Decimal
    outstanding_after: Decimal
    overdue_after: Decimal
    entity_created: bool = False
    snapshot_id: int | None = None
    currency: str = ""

    @property
    def customers_changed(self) -> bool:
        """Customers were created or renamed."""
        return bool(self.customers_created or self.customers_updated)

    @property
    def items_changed(self) -> bool:
        """Items were created, updated or closed."""
        return bool(self.items_created or self.items_updated or self.items_closed)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            k: str(v) if isinstance(v, Decimal | dt.date) else v
            for k, v in self.__dict__.items()
        }
