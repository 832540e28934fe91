"""What the case work (`cases`) and the nightly review (`case_review`) share.

The texts of the actions a case writes, in the language of the customer's
entity (`Words`, `EVENT_LABELS`, `case_subject`...), the case kinds and task
states both act on, and `dispute_flags`, which recomputes the dispute and
litigation flags of items from the cases still holding them.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from o2c_desktop.engine.cases import (
    CASE_KIND_LABELS,
    DISPUTE_OUTCOME_LABELS,
    ZERO,
    CaseEvent,
    DisputeOutcome,
    DisputeReason,
    ResolvedPart,
)
from o2c_desktop.engine.types import ActionStatus, CaseKind, CaseStatus
from o2c_desktop.i18n import N_, format_amount, format_date, translator
from o2c_desktop.models import Action, ActionItem, Case, CaseItem, Item

if TYPE_CHECKING:
    import datetime as dt
    import uuid
    from collections.abc import Iterator, Mapping, Sequence
    from decimal import Decimal

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

# Cases that suspend their items (as opposed to taking them out of dunning).
SUSPENDING = (CaseKind.PROMISE, CaseKind.PAYMENT_PLAN)
# Resolutions after which a dispute still holds the items awaiting a credit note.
_AWAITING_CREDIT = (DisputeOutcome.JUSTIFIED, DisputeOutcome.PARTLY_JUSTIFIED)
# Tasks a closed case no longer needs: closing it cancels them.
OPEN_ACTIONS = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM, ActionStatus.QUEUED)

EVENT_LABELS: dict[tuple[CaseKind, CaseEvent], str] = {
    (CaseKind.PROMISE, CaseEvent.OPENED): N_("Promise recorded"),
    (CaseKind.PROMISE, CaseEvent.CONFIRMED): N_("Promise confirmation"),
    (CaseKind.PROMISE, CaseEvent.KEPT): N_("Promise kept"),
    (CaseKind.PROMISE, CaseEvent.BROKEN): N_("Broken promise"),
    (CaseKind.PROMISE, CaseEvent.CANCELLED): N_("Promise cancelled"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.OPENED): N_("Payment plan agreed"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.CONFIRMED): N_("Schedule confirmation"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.SCHEDULE_EDITED): N_("Schedule changed"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.KEPT): N_("Payment plan completed"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.BROKEN): N_("Broken payment plan"),
    (CaseKind.PAYMENT_PLAN, CaseEvent.CANCELLED): N_("Payment plan cancelled"),
    (CaseKind.DISPUTE, CaseEvent.OPENED): N_("Dispute registered"),
    (CaseKind.DISPUTE, CaseEvent.RESOLVED): N_("Dispute resolved"),
    (CaseKind.DISPUTE, CaseEvent.CLOSED): N_("Credit note received"),
    (CaseKind.DISPUTE, CaseEvent.ESCALATED): N_("No answer: escalated"),
    (CaseKind.LITIGATION, CaseEvent.OPENED): N_("Handed over to litigation"),
    (CaseKind.LITIGATION, CaseEvent.STAGE_CHANGED): N_("Litigation stage changed"),
    (CaseKind.LITIGATION, CaseEvent.CLOSED): N_("Litigation closed"),
}


@dataclass(frozen=True)
class Words:
    """Texts of the actions a case writes, in its entity's language."""

    language: str

    def __call__(self, message: str) -> str:
        return translator(self.language).gettext(message)

    def money(self, amount: Decimal) -> str:
        return format_amount(amount, self.language)

    def day(self, day: dt.date) -> str:
        return format_date(day, self.language)


def case_subject(
    kind: CaseKind,
    number: str,
    reason: str | None,
    reasons: Mapping[str, DisputeReason],
    words: Words,
    text: str,
) -> str:
    """E.g. "Price dispute - Case N°1419 - Dispute registered", in `words`' language.

    `text` (what happened) is an English message marked with `N_`.
    """
    if kind == CaseKind.DISPUTE and reason:
        found = reasons.get(reason)
        label = words(found.label) if found else reason
        prefix = f"{label} - {words(N_('Case'))} N°{number}"
    else:
        prefix = f"{words(CASE_KIND_LABELS[kind])} N°{number}"
    return f"{prefix} - {words(text)}"


def hold_subject(words: Words, event: CaseEvent, until: dt.date | None) -> str:
    """E.g. "Dunning on hold until 31/03/2025", or "Dunning hold lifted"."""
    if event != CaseEvent.HOLD:
        return words(N_("Dunning hold lifted"))
    end = words.day(until) if until else words(N_("further notice"))
    return words(N_("Dunning on hold until {end}")).format(end=end)


def resolution_text(
    words: Words, outcome: DisputeOutcome, parts: Sequence[ResolvedPart]
) -> str:
    """What a dispute's resolution decided, for the comment of its action."""
    text = N_(
        "Resolution: {outcome}; credit note expected {credit}, claimed again {back}"
    )
    return words(text).format(
        outcome=words(DISPUTE_OUTCOME_LABELS[outcome]),
        credit=words.money(sum((p.credit_expected for p in parts), ZERO)),
        back=words.money(sum((p.back_to_dunning for p in parts), ZERO)),
    )


Flags = tuple[bool, "Decimal | None", bool]  # disputed, disputed_amount, litigation


def dispute_flags(
    s: Session, item_ids: Sequence[int]
) -> dict[int, tuple[Flags, Flags]]:
    """Item id -> (stored flags, flags from the cases still holding the item).

    An item is disputed while an open dispute covers it, or a resolved one
    still expects a credit note on it; `disputed_amount` is the part under
    dispute, None when it is the whole remaining amount. It is in litigation
    while an open litigation covers it. A few queries for any number of items.
    """
    ids = list(dict.fromkeys(item_ids))
    holding: dict[int, list[Any]] = {i: [] for i in ids}
    awaiting: set[uuid.UUID] = set()
    stored: dict[int, Any] = {}
    links: list[Any] = []
    for chunk in chunks(ids):
        links.extend(
            s.execute(
                select(
                    CaseItem.item_id,
                    CaseItem.amount,
                    Case.id,
                    Case.kind,
                    Case.status,
                    Case.resolution,
                )
                .join(Case, Case.id == CaseItem.case_id)
                .where(CaseItem.item_id.in_(chunk))
            )
        )
        stored.update(
            (row.id, row)
            for row in s.execute(
                select(
                    Item.id,
                    Item.remaining,
                    Item.disputed,
                    Item.disputed_amount,
                    Item.in_litigation,
                ).where(Item.id.in_(chunk))
            )
        )
    for link in links:
        holding[link.item_id].append(link)
        if (
            link.kind == CaseKind.DISPUTE
            and link.status == CaseStatus.RESOLVED
            and link.resolution in _AWAITING_CREDIT
        ):
            awaiting.add(link.id)
    credit: dict[tuple[uuid.UUID | None, int], Decimal] = {}
    for chunk in chunks(list(awaiting)):
        for case_id, item_id, expected in s.execute(
            select(Action.case_id, ActionItem.item_id, ActionItem.amount)
            .join(Action, Action.id == ActionItem.action_id)
            .where(
                Action.case_id.in_(chunk),
                Action.case_event == CaseEvent.RESOLVED.value,
            )
        ):
            credit[(case_id, item_id)] = expected
    out: dict[int, tuple[Flags, Flags]] = {}
    for item_id in ids:
        disputed = litigation = False
        part = ZERO
        for link in holding[item_id]:
            if link.kind == CaseKind.LITIGATION:
                litigation = litigation or link.status == CaseStatus.OPEN
            elif link.kind == CaseKind.DISPUTE and link.status == CaseStatus.OPEN:
                disputed = True
                part += link.amount
            elif link.id in awaiting:
                wait = credit.get((link.id, item_id), ZERO)
                if wait > 0:
                    disputed = True
                    part += wait
        row = stored[item_id]
        share = part if disputed and ZERO < part < row.remaining else None
        out[item_id] = (
            (row.disputed, row.disputed_amount, row.in_litigation),
            (disputed, share, litigation),
        )
    return out


def chunks(values: Sequence[Any], size: int = 500) -> Iterator[Sequence[Any]]:
    """Slices short enough for an IN list on every database."""
    for start in range(0, len(values), size):
        yield values[start : start + size]
