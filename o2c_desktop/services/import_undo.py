"""Undoing what the case review did because an import closed items (issue 14).

`ImportService.undo` puts the items back; this reopens the promises, plans
and disputes the review closed as kept or paid because of those closings,
from the audit trail the review writes.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import bindparam, delete, insert, select, update

from o2c_desktop.engine.types import CaseStatus
from o2c_desktop.models import (
    Action,
    ActionInstalment,
    ActionItem,
    AuditEntry,
    Case,
    CaseItem,
    ImportChange,
    Item,
    Notification,
    PlanInstalment,
)
from o2c_desktop.models.audit import audit_row, record_key
from o2c_desktop.services._case_common import dispute_flags

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from o2c_desktop.models import ImportBatch

log = logging.getLogger(__name__)

# Review outcomes an import's closings cause, which its undo reverses.
_CLOSING_OUTCOMES = frozenset(
    {CaseStatus.KEPT.value, CaseStatus.RESOLVED.value, CaseStatus.CLOSED.value}
)


class CaseUndo:
    """Reverse what the case review did because an import closed items.

    The review writes its audit rows at one instant: the case's update (old
    status, closed_on, resolution) names that instant, and the actions it
    added, the tasks it cancelled, the instalments it marked paid and the
    suspensions it released are found by it. Only closings after the import,
    into a kept, resolved or closed state, of cases holding its closed items.
    """

    def __init__(
        self, s: Session, batch: ImportBatch, login: str | None, now: dt.datetime
    ) -> None:
        self.s = s
        self.batch = batch
        self.login = login
        self.now = now
        self.audit: list[dict[str, Any]] = []

    def run(self) -> tuple[list[str], int, int]:
        """Reopen the cases; return their numbers, actions removed, tasks restored."""
        closed = (
            select(ImportChange.item_id)
            .where(
                ImportChange.import_id == self.batch.id,
                ImportChange.change == "closed",
            )
            .scalar_subquery()
        )
        cases = self.s.execute(
            select(Case.id, Case.number, Case.status)
            .where(
                Case.status != CaseStatus.OPEN,
                Case.id.in_(
                    select(CaseItem.case_id).where(CaseItem.item_id.in_(closed))
                ),
            )
            .order_by(Case.number)
        ).all()
        numbers: list[str] = []
        removed = tasks = 0
        flagged: set[int] = set()
        for case in cases:
            reverted = False
            status = case.status.value
            for entry in self._closings(case.id):
                old, new = entry.changes["status"]
                if new != status or new not in _CLOSING_OUTCOMES:
                    break
                items = self._reopen(case.id, entry)
                r, t = self._review_writes(case.id, items, entry.at)
                removed, tasks = removed + r, tasks + t
                flagged.update(items)
                status, reverted = old, True
                if old == CaseStatus.OPEN.value:
                    break
            if reverted:
                numbers.append(case.number)
        if flagged:
            self._reflag(sorted(flagged))
        if self.audit:
            self.s.connection().execute(insert(AuditEntry), self.audit)
        return numbers, removed, tasks

    def _closings(self, case_id: Any) -> list[Any]:
        """The case's status changes since the import, newest first."""
        rows = self.s.execute(
            select(AuditEntry.at, AuditEntry.changes)
            .where(
                AuditEntry.table_name == "case_file",
                AuditEntry.record_id == record_key(case_id),
                AuditEntry.operation == "update",
                AuditEntry.at > self.batch.taken_at,
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        ).all()
        return [r for r in rows if "status" in (r.changes or {})]

    def _reopen(self, case_id: Any, entry: Any) -> list[int]:
        """Give the case its status before the review; return its items."""
        changes = entry.changes
        old_status = changes["status"][0]
        closed_on = changes.get("closed_on", [None])[0]
        values: dict[str, Any] = {
            "status": CaseStatus(old_status),
            "closed_on": dt.date.fromisoformat(closed_on) if closed_on else None,
            "version": Case.version + 1,
            "updated_at": self.now,
            "updated_by": self.login,
        }
        if "resolution" in changes:
            values["resolution"] = changes["resolution"][0]
        self.s.connection().execute(
            update(Case).where(Case.id == case_id).values(**values)
        )
        self._log(
            "case_file",
            record_key(case_id),
            {k: list(reversed(v)) for k, v in changes.items()},
        )
        return list(
            self.s.scalars(select(CaseItem.item_id).where(CaseItem.case_id == case_id))
        )

    def _at(self, table: str, keys: list[str], at: dt.datetime) -> list[Any]:
        """Audit rows of these records written at the review's instant."""
        rows: list[Any] = []
        for start in range(0, len(keys), 500):
            rows.extend(
                self.s.execute(
                    select(
                        AuditEntry.record_id, AuditEntry.operation, AuditEntry.changes
                    ).where(
                        AuditEntry.table_name == table,
                        AuditEntry.record_id.in_(keys[start : start + 500]),
                        AuditEntry.at == at,
                    )
                )
            )
        return rows

    def _review_writes(
        self, case_id: Any, items: list[int], at: dt.datetime
    ) -> tuple[int, int]:
        """Remove the review's actions, restore its cancelled tasks and the rest."""
        conn = self.s.connection()
        actions = {
            record_key(a): a
            for a in self.s.scalars(select(Action.id).where(Action.case_id == case_id))
        }
        added, tasks = [], 0
        for row in self._at("action", list(actions), at):
            action_id = actions[row.record_id]
            if row.operation == "insert":
                added.append(action_id)
            elif row.operation == "update" and "status" in row.changes:
                status, reason = row.changes["status"][0], None
                if "reason" in row.changes:
                    reason = row.changes["reason"][0]
                conn.execute(
                    update(Action)
                    .where(Action.id == action_id)
                    .values(
                        status=status,
                        reason=reason,
                        version=Action.version + 1,
                        updated_at=self.now,
                        updated_by=self.login,
                    )
                )
                self._log(
                    "action",
                    row.record_id,
                    {k: list(reversed(v)) for k, v in row.changes.items()},
                )
                tasks += 1
        if added:
            for table in (ActionItem, ActionInstalment, Notification):
                conn.execute(delete(table).where(table.action_id.in_(added)))
            conn.execute(delete(Action).where(Action.id.in_(added)))
            for action_id in added:
                self._log("action", record_key(action_id), {}, operation="delete")
        instalments = {
            record_key(i): i
            for i in self.s.scalars(
                select(PlanInstalment.id).where(PlanInstalment.case_id == case_id)
            )
        }
        for row in self._at("plan_instalment", list(instalments), at):
            if "paid" in row.changes:
                old, new = row.changes["paid"]
                conn.execute(
                    update(PlanInstalment)
                    .where(PlanInstalment.id == instalments[row.record_id])
                    .values(paid=Decimal(old))
                )
                self._log("plan_instalment", row.record_id, {"paid": [new, old]})
        keys = {record_key(i): i for i in items}
        for row in self._at("item", list(keys), at):
            if "suspended_until" in row.changes:
                old, new = row.changes["suspended_until"]
                conn.execute(
                    update(Item)
                    .where(Item.id == keys[row.record_id])
                    .values(
                        suspended_until=dt.date.fromisoformat(old) if old else None,
                        updated_at=self.now,
                    )
                )
                self._log("item", row.record_id, {"suspended_until": [new, old]})
        return len(added), tasks

    def _reflag(self, item_ids: list[int]) -> None:
        """Dispute and litigation flags from the cases open again."""
        changed = [
            {"b_id": i, "b_d": d, "b_a": a, "b_l": lit}
            for i, (old, (d, a, lit)) in dispute_flags(self.s, item_ids).items()
            if old != (d, a, lit)
        ]
        if changed:
            self.s.connection().execute(
                update(Item)
                .where(Item.id == bindparam("b_id"))
                .values(
                    disputed=bindparam("b_d"),
                    disputed_amount=bindparam("b_a"),
                    in_litigation=bindparam("b_l"),
                    updated_at=self.now,
                ),
                changed,
            )

    def _log(
        self, table: str, key: str, changes: Any, operation: str = "update"
    ) -> None:
        self.audit.append(
            audit_row(self.now, self.login, table, key, operation, changes)
        )
