"""What a full import would close, and the record of past imports (issue 14).

A truncated or wrong file given as a full import closes every open item it
does not list. `CloseCheck` holds the figures and the rule that makes such an
import stop and ask; `ImportRecord` is one line of the import history, which
an undo reverses as a whole.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

log = logging.getLogger(__name__)

DEFAULT_MAX_CLOSE_SHARE = Decimal("0.20")


@dataclass(frozen=True)
class CloseCheck:
    """The open items a full import would close, against the book before it.

    Attributes:
        items: open items the file no longer lists.
        amount: what is left to pay on them.
        open_items: open items of the entity before the import.
        outstanding: the entity's outstanding before the import.
        disputed: of `items`, those under dispute.
        litigation: those in litigation.
        promised: those covered by an open promise to pay.
        planned: those covered by a running payment plan.
        max_share: closing more than this share of the open items or of the
            outstanding needs a confirmation.
        currency: the entity's currency, for the figures.
    """

    items: int
    amount: Decimal
    open_items: int
    outstanding: Decimal
    disputed: int = 0
    litigation: int = 0
    promised: int = 0
    planned: int = 0
    max_share: Decimal = DEFAULT_MAX_CLOSE_SHARE
    currency: str = ""

    @property
    def held(self) -> int:
        """Closing items under a case counts, whatever the share."""
        return self.disputed + self.litigation + self.promised + self.planned

    @property
    def too_many(self) -> bool:
        """More than `max_share` of the open items or of the outstanding."""
        if not self.items:
            return False
        if self.open_items and self.items > self.max_share * self.open_items:
            return True
        return self.outstanding > 0 and self.amount > self.max_share * self.outstanding

    @property
    def needs_confirmation(self) -> bool:
        """The import must not run without the user's explicit yes."""
        return self.too_many or (self.items > 0 and self.held > 0)

    def describe(self) -> str:
        """One line (English, for logs and the command line)."""
        money = f"{self.amount} {self.currency}".strip()
        total = f"{self.outstanding} {self.currency}".strip()
        return (
            f"would close {self.items} of {self.open_items} open items "
            f"({money} of {total} outstanding); {self.disputed} in dispute, "
            f"{self.litigation} in litigation, {self.promised} under a promise, "
            f"{self.planned} under a payment plan"
        )

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            "items": self.items,
            "amount": str(self.amount),
            "open_items": self.open_items,
            "outstanding": str(self.outstanding),
            "disputed": self.disputed,
            "litigation": self.litigation,
            "promised": self.promised,
            "planned": self.planned,
            "max_share": str(self.max_share),
            "needs_confirmation": self.needs_confirmation,
        }


class CloseNotConfirmedError(Exception):
    """A full import would close too much, or items under a case: nothing written.

    Attributes:
        check: the figures to show the user before asking again.
    """

    def __init__(self, check: CloseCheck) -> None:
        super().__init__(f"{check.describe()}; nothing was imported")
        self.check = check


class UndoRefusedError(Exception):
    """An import can't be undone; the message says why. Nothing was changed."""


@dataclass(frozen=True)
class ImportRecord:
    """One import in the history.

    Attributes:
        id: what `o2c import undo` takes.
        entity: the entity's code.
        snapshot_id: the balance snapshot of a full import.
        as_of: the balance date.
        taken_at: when it ran (UTC).
        user_login: who ran it.
        source: the file.
        full: a full import (it closed what the file did not list).
        created: items it created.
        updated: items it changed.
        closed: items it closed.
        undone_at: when it was undone, if it was.
    """

    id: int
    entity: str
    snapshot_id: int | None
    as_of: dt.date
    taken_at: dt.datetime
    user_login: str | None
    source: str
    full: bool
    created: int
    updated: int
    closed: int
    undone_at: dt.datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            k: v.isoformat() if isinstance(v, dt.date) else v
            for k, v in self.__dict__.items()
        }


@dataclass(frozen=True)
class UndoResult:
    """What undoing an import put back.

    Attributes:
        import_id: the import undone.
        items_restored: items given back their values before the import.
        items_deleted: items the import had created, removed.
        cases_reopened: numbers of the cases the review had closed because
            the import closed their items, open again.
        actions_removed: the review's actions about those closings, removed.
        tasks_restored: tasks the review had cancelled, back as they were.
    """

    import_id: int
    items_restored: int
    items_deleted: int
    cases_reopened: tuple[str, ...] = ()
    actions_removed: int = 0
    tasks_restored: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {**self.__dict__, "cases_reopened": list(self.cases_reopened)}
