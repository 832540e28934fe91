"""Performed actions go back to the ERP through the outbox, exactly once (#18).

When an action is performed (a letter or an email sent, a call logged, a
promise, a dispute opened or closed, a payment plan, a litigation hand-over, a
hold) on items that came from an ERP, an `outbox_entry` on the ERP channel is
written in the same transaction: by an ORM hook for actions the services add
or mark done, and by the outbox itself for the letters and emails it sends.
`services.erp_sync.ErpPerformer` pushes it with the action's id as marker
(``[o2c:<uuid>]`` in the ERP's text), which the connector looks up before
writing: a worker killed between the ERP's answer and our commit never writes
twice, so an interrupted ERP entry is simply pushed again.

Items from an ERP carry ``<connector>:<erp id>`` in `item.external_id`.
"""

from __future__ import annotations

import logging
import uuid
from collections import defaultdict
from typing import TYPE_CHECKING, Any

from sqlalchemy import event, func, insert, inspect, select

from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    OutboxChannel,
    OutboxStatus,
)
from o2c_desktop.models import Action, ActionItem, Case, Customer, Item, OutboxEntry
from o2c_desktop.models.base import utcnow
from o2c_desktop.sync.erp.base import WriteBack, WriteBackKind

if TYPE_CHECKING:
    from collections.abc import Collection, Sequence

    from sqlalchemy.orm import Session, UOWTransaction


log = logging.getLogger(__name__)

SEPARATOR = ":"
_PENDING = "_o2c_erp_write_back"
_BLOCKING = {CaseEvent.OPENED.value, CaseEvent.HOLD.value}
_UNBLOCKING = {
    CaseEvent.RESOLVED.value,
    CaseEvent.CLOSED.value,
    CaseEvent.CANCELLED.value,
    CaseEvent.HOLD_LIFTED.value,
}
_TYPE_CATEGORY = {
    ActionType.EMAIL: "email",
    ActionType.LETTER: "letter",
    ActionType.REGISTERED_LETTER: "letter",
    ActionType.PHONE_CALL: "call",
    ActionType.LITIGATION_HANDOVER: "litigation",
}


def external_id(connector: str, erp_id: str) -> str:
    """The `item.external_id` of an ERP record pulled by `connector`."""
    return f"{connector}{SEPARATOR}{erp_id}"


def split_external_id(value: str | None) -> tuple[str, str] | None:
    """(connector, ERP id) of an `item.external_id`; None for a file import's."""
    if not value or SEPARATOR not in value:
        return None
    connector, _, erp_id = value.partition(SEPARATOR)
    return connector, erp_id


def category(
    action_type: ActionType, case_kind: CaseKind | None, case_event: str | None
) -> str:
    """Which `ConnectorSettings.write_back` switch covers an action."""
    if case_event in {CaseEvent.HOLD.value, CaseEvent.HOLD_LIFTED.value}:
        return "hold"
    if case_kind is not None:
        return case_kind.value
    return _TYPE_CATEGORY.get(action_type, "other")


def write_back_kind(
    case_kind: CaseKind | None, case_event: str | None
) -> WriteBackKind:
    """Block the ERP's dunning for a dispute or a hold; unblock when it ends."""
    holds = case_event in {CaseEvent.HOLD.value, CaseEvent.HOLD_LIFTED.value}
    if case_kind is CaseKind.DISPUTE or holds:
        if case_event in _BLOCKING:
            return WriteBackKind.BLOCK
        if case_event in _UNBLOCKING:
            return WriteBackKind.UNBLOCK
    return WriteBackKind.NOTE


def entry_key(connector: str, action_id: uuid.UUID) -> str:
    """The idempotency key of an action's write-back to one ERP."""
    return f"erp:{connector}:{action_id.hex}"


def enqueue_for_actions(s: Session, action_ids: Collection[uuid.UUID]) -> int:
    """Queue the ERP write-backs of performed actions, in the caller's transaction.

    Actions on no ERP item, of customers without one, or already queued get
    none.

    Returns:
        The entries added.
    """
    if not action_ids:
        return 0
    ids = list(action_ids)
    actions = s.execute(
        select(
            Action.id,
            Action.customer_id,
            Action.action_type,
            Action.case_id,
            Action.case_event,
            Action.subject,
            Action.comment,
            Action.performed_at,
        ).where(Action.id.in_(ids), Action.status == ActionStatus.DONE)
    ).all()
    if not actions:
        return 0
    items: dict[uuid.UUID, list[str | None]] = defaultdict(list)
    for action_id, ext in s.execute(
        select(ActionItem.action_id, Item.external_id)
        .join(Item, Item.id == ActionItem.item_id)
        .where(ActionItem.action_id.in_(ids), Item.external_id.is_not(None))
        .order_by(Item.id)
    ):
        items[action_id].append(ext)
    customers = {a.customer_id for a in actions}
    refs = dict(
        s.execute(
            select(Customer.id, Customer.reference).where(Customer.id.in_(customers))
        ).all()
    )
    # A customer-level action (a call) goes to the ERP its items came from.
    home = dict(
        s.execute(
            select(Item.customer_id, func.min(Item.external_id))
            .where(Item.customer_id.in_(customers), Item.external_id.is_not(None))
            .group_by(Item.customer_id)
        ).all()
    )
    cases = {a.case_id for a in actions if a.case_id is not None}
    kinds = (
        dict(s.execute(select(Case.id, Case.kind).where(Case.id.in_(cases))).all())
        if cases
        else {}
    )
    now = utcnow()
    rows = []
    for a in actions:
        per_connector: dict[str, list[str]] = defaultdict(list)
        for ext in items.get(a.id, ()):
            if (split := split_external_id(ext)) is not None:
                per_connector[split[0]].append(split[1])
        if not per_connector and (split := split_external_id(home.get(a.customer_id))):
            per_connector[split[0]] = []
        kind = kinds.get(a.case_id) if a.case_id is not None else None
        text = a.subject or a.action_type.value
        if a.comment:
            text = f"{text} - {a.comment}"
        when = (a.performed_at or now).date().isoformat()
        for connector, erp_ids in per_connector.items():
            wb = WriteBack(
                marker=f"o2c:{a.id}",
                kind=write_back_kind(kind, a.case_event),
                customer_ref=refs.get(a.customer_id, ""),
                item_ids=tuple(erp_ids),
                text=f"{text} ({when})",
            )
            rows.append(
                {
                    "id": uuid.uuid4(),
                    "idempotency_key": entry_key(connector, a.id),
                    "channel": OutboxChannel.ERP_WRITE_BACK,
                    "payload": {
                        **wb.payload(),
                        "connector": connector,
                        "category": category(a.action_type, kind, a.case_event),
                    },
                    "action_id": a.id,
                    "status": OutboxStatus.QUEUED,
                    "attempts": 0,
                    "created_at": now,
                    "updated_at": now,
                }
            )
    if not rows:
        return 0
    known = set(
        s.scalars(
            select(OutboxEntry.idempotency_key).where(
                OutboxEntry.idempotency_key.in_([r["idempotency_key"] for r in rows])
            )
        )
    )
    rows = [r for r in rows if r["idempotency_key"] not in known]
    if rows:
        s.execute(insert(OutboxEntry), rows)
    return len(rows)


def _before_flush(session: Session, _ctx: UOWTransaction, _instances: Any) -> None:
    done: set[uuid.UUID] = session.info.setdefault(_PENDING, set())
    for obj in session.new:
        if isinstance(obj, Action) and obj.status == ActionStatus.DONE:
            done.add(obj.id)
    for obj in session.dirty:
        if isinstance(obj, Action) and obj.status == ActionStatus.DONE:
            history = inspect(obj).attrs.status.history
            if history.has_changes():
                done.add(obj.id)


def _after_flush(session: Session, _ctx: UOWTransaction) -> None:
    done: set[uuid.UUID] = session.info.pop(_PENDING, set())
    if done:
        enqueue_for_actions(session, done)


def _after_rollback(session: Session, _previous: Any) -> None:
    session.info.pop(_PENDING, None)


def install(session_class: type[Session]) -> None:
    """Queue write-backs for the actions performed through `session_class`."""
    if not event.contains(session_class, "before_flush", _before_flush):
        event.listen(session_class, "before_flush", _before_flush)
        event.listen(session_class, "after_flush", _after_flush)
        event.listen(session_class, "after_soft_rollback", _after_rollback)


def queued_for(s: Session, action_ids: Sequence[uuid.UUID]) -> list[dict[str, Any]]:
    """The ERP write-back payloads queued for actions (for tests and status)."""
    return [
        dict(p)
        for p in s.scalars(
            select(OutboxEntry.payload).where(
                OutboxEntry.action_id.in_(action_ids),
                OutboxEntry.channel == OutboxChannel.ERP_WRITE_BACK,
            )
        )
    ]
