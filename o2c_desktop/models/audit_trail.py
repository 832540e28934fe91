"""Writes the audit trail from the ORM unit of work, for every business record."""

from __future__ import annotations

import datetime as dt
import enum
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, insert, inspect

from o2c_desktop.models.audit import AuditEntry, audit_row, record_key
from o2c_desktop.models.base import utcnow

if TYPE_CHECKING:
    from sqlalchemy.orm import Session, UOWTransaction

# Bookkeeping columns that change on every write and say nothing to a reader.
_SKIPPED = frozenset({"version", "updated_at", "updated_by", "created_at", "content"})
_NOT_AUDITED = frozenset({"audit_log", "balance_snapshot", "snapshot_line"})


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, dt.date | dt.datetime):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return f"<{len(value)} bytes>"
    return value


def _columns(obj: object) -> dict[str, Any]:
    state = inspect(obj)
    return {
        attr.key: _plain(attr.value)
        for attr in state.attrs
        if attr.key in state.mapper.columns and attr.key not in _SKIPPED
    }


def _diff(obj: object) -> dict[str, Any]:
    state = inspect(obj)
    changes: dict[str, Any] = {}
    for attr in state.attrs:
        if attr.key not in state.mapper.columns or attr.key in _SKIPPED:
            continue
        hist = attr.load_history()
        if hist.has_changes():
            before = hist.deleted[0] if hist.deleted else None
            after = hist.added[0] if hist.added else None
            changes[attr.key] = [_plain(before), _plain(after)]
    return changes


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    user = session.info.get("user_login")
    pending: list[tuple[object, str, dict[str, Any]]] = session.info.setdefault(
        "_o2c_audit", []
    )

    def add(obj: object, operation: str, changes: dict[str, Any]) -> None:
        table = getattr(obj, "__tablename__", "")
        if table and table not in _NOT_AUDITED and changes:
            if hasattr(obj, "updated_by") and operation != "delete":
                obj.updated_by = user
            pending.append((obj, operation, changes))

    for obj in session.new:
        add(obj, "insert", _columns(obj))
    for obj in session.dirty:
        if session.is_modified(obj, include_collections=False):
            add(obj, "update", _diff(obj))
    for obj in session.deleted:
        add(obj, "delete", _columns(obj))


def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
    pending: list[tuple[object, str, dict[str, Any]]] = session.info.pop(
        "_o2c_audit", []
    )
    if not pending:
        return
    at = utcnow()
    user = session.info.get("user_login")
    rows = []
    for obj, operation, changes in pending:
        # The identity key isn't set yet for new rows; read the primary key.
        state = inspect(obj)
        key = state.mapper.primary_key_from_instance(obj)
        table = getattr(obj, "__tablename__", "")
        rows.append(audit_row(at, user, table, record_key(*key), operation, changes))
    # Core insert: adding ORM objects inside after_flush would need another flush.
    session.execute(insert(AuditEntry), rows)


def _after_rollback(session: Session, _previous: Any) -> None:
    # A failed flush must not leave its entries for the next, unrelated one.
    session.info.pop("_o2c_audit", None)


def install(session_class: type[Session]) -> None:
    """Record every ORM change made through sessions of `session_class`."""
    event.listen(session_class, "before_flush", _before_flush)
    event.listen(session_class, "after_flush", _after_flush)
    event.listen(session_class, "after_soft_rollback", _after_rollback)
