"""Helpers shared by services: conflicts on stale writes, simple look-ups."""

from __future__ import annotations

import uuid
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import String, func, type_coerce
from sqlalchemy.orm.exc import StaleDataError

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from o2c_desktop.models.base import Versioned

T = TypeVar("T")


class ConflictError(Exception):
    """Somebody else changed the record since it was read; nothing was written."""


def describe_change(record: Versioned) -> str:
    """Say who changed a freshly read record and when ("changed by X at T")."""
    when = record.updated_at.strftime("%Y-%m-%d %H:%M UTC")
    return f"changed by {record.updated_by or 'another user'} at {when}"


@contextmanager
def guard_conflicts(
    reload: Callable[[], Versioned | None], what: str
) -> Iterator[None]:
    """Turn a stale optimistic-lock write into a clear `ConflictError`.

    Args:
        reload: reads the record again in a new session (after the failure).
        what: how the user names the record, e.g. "Action 35426".

    Raises:
        ConflictError: "Action 35426 was changed by X at T; reload it..."
    """
    try:
        yield
    except StaleDataError as exc:
        current = reload()
        detail = describe_change(current) if current is not None else "deleted"
        raise ConflictError(
            f"{what} was {detail}. Your change was not saved: reload and try again."
        ) from exc


def get_one(session: Session, model: type[T], key: object) -> T:
    """Load a row by primary key or raise LookupError naming it."""
    row = session.get(model, key)
    if row is None:
        raise LookupError(f"{getattr(model, '__name__', model)} {key} not found")
    return row


def as_uuid(value: str | uuid.UUID, what: str = "record") -> uuid.UUID:
    """An id as the UI or the command line hands it over, as a UUID.

    Raises:
        LookupError: not an id at all (so nothing can have it).
    """
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(value)
    except ValueError as exc:
        raise LookupError(f"{what} {value} not found") from exc


def unindexed(col: Any, dialect: str) -> Any:
    """`col` as an expression SQLite can't look up in an index.

    The book has no planner statistics, so SQLite takes
    ix_item_kind_status_closed for ``kind = 'invoice'`` although it matches
    most of the book: a million lookups by rowid (1.9 s on the 1M book) where
    one pass over the table takes 0.5 s, or a second per customer where the
    customer's index takes milliseconds. Without it the planner keeps the
    customer index for a narrow filter and scans the table otherwise.
    """
    return type_coerce(col, String).concat("") if dialect == "sqlite" else col


def contains(col: Any, term: str) -> ColumnElement[bool]:
    """``col`` contains ``term``, ignoring case, on both engines.

    LIKE ignores ASCII case on SQLite but not on PostgreSQL: both sides are
    lowered so a search for "f-" finds "F-1" on the shared database too. The
    term's own ``%`` and ``_`` are matched literally.
    """
    for char in ("\\", "%", "_"):
        term = term.replace(char, "\\" + char)
    return func.lower(col).like(f"%{term.casefold()}%", escape="\\")
