"""What an insolvency notice does to a customer of the book (issue 19).

Called by `services.risk` inside its session, for each customer a new notice
names. The customer's existing flags carry the effect, so the dunning engine
and the letters need no change:

- ``customer.on_hold`` (no end date) with the reason, ``insolvency`` and
  ``insolvency_since``: the dunning engine skips a held customer, and the
  letters and interest statements claim no interest under insolvency;
- pending actions are cancelled with the reason (L622-21), an automatic one
  queued in the outbox included: the outbox skips a cancelled action;
- the claim is valued per invoice at the judgment date (L622-28) and a task
  "declare the claim" is due on the R622-24 deadline, with a reminder and
  the declaration letter attached.
"""

from __future__ import annotations

import logging
import uuid
from typing import TYPE_CHECKING

from sqlalchemy import select

from o2c_desktop.engine import insolvency as claims
from o2c_desktop.engine import interest
from o2c_desktop.engine import pdf as pdfs
from o2c_desktop.engine import risk as rules
from o2c_desktop.engine.cases import CaseEvent
from o2c_desktop.engine.identifiers import siren_of
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    DocumentKind,
    ItemKind,
    ItemStatus,
    Role,
)
from o2c_desktop.i18n import _
from o2c_desktop.models import (
    Action,
    ActionItem,
    Customer,
    Document,
    Entity,
    InsolvencyCase,
    Item,
    Notification,
    RiskEvent,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.documents import letterhead_of

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

log = logging.getLogger(__name__)

OPEN_STATUSES = ("open", "plan")
_CANCELLABLE = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM, ActionStatus.QUEUED)
DECLARE_EVENT = "insolvency_declare"
REMINDER_EVENT = "insolvency_reminder"


def open_case(s: Session, customer_id: int) -> InsolvencyCase | None:
    """The customer's proceeding in course, if any."""
    return s.scalars(
        select(InsolvencyCase)
        .where(
            InsolvencyCase.customer_id == customer_id,
            InsolvencyCase.status.in_(OPEN_STATUSES),
        )
        .order_by(InsolvencyCase.id.desc())
        .limit(1)
    ).first()


def credit_manager(s: Session, customer: Customer) -> User | None:
    """Who declares claims: an active credit manager, else the collector."""
    manager = s.scalars(
        select(User)
        .where(User.role == Role.CREDIT_MANAGER, User.active.is_(True))
        .order_by(User.id)
        .limit(1)
    ).first()
    return manager or customer.collector


def apply_notice(
    s: Session, customer: Customer, event: RiskEvent, today: dt.date, login: str
) -> tuple[InsolvencyCase | None, bool]:
    """Open or update the customer's insolvency case from one judgment notice.

    Returns:
        (the case, whether this notice opened it).
    """
    kind = rules.NoticeKind(event.kind)
    procedure = rules.Procedure(event.procedure) if event.procedure else None
    case = open_case(s, customer.id)
    judged = event.effective_on or event.published_on
    if case is not None:
        if case.notice_id == event.external_id or (
            kind is rules.NoticeKind.OPENING
            and case.procedure == (procedure.value if procedure else None)
            and case.judgment_date == event.effective_on
        ):
            return case, False  # a second notice of the same judgment
        case.last_notice = event.summary
        if procedure is not None and kind in (
            rules.NoticeKind.OPENING,
            rules.NoticeKind.CONVERSION,
        ):
            case.procedure = procedure.value
            customer.insolvency = procedure.value
        if kind is rules.NoticeKind.PLAN:
            case.status = "plan"
        elif kind is rules.NoticeKind.CLOSURE:
            case.status = "closed"
            case.closed_on = judged
            case.close_reason = event.summary
        return case, False
    if kind not in (rules.NoticeKind.OPENING, rules.NoticeKind.CONVERSION):
        return None, False  # a later judgment of a proceeding we never saw open
    if procedure is None:
        return None, False
    entity = s.get(Entity, customer.entity_id)
    assert entity is not None
    outside = rules.outside_metropolitan_france(entity.country, entity.postal_code)
    deadline = rules.declaration_deadline(
        event.published_on, outside_metropolitan=outside
    )
    case = InsolvencyCase(
        customer_id=customer.id,
        procedure=procedure.value,
        status="open",
        judgment_date=event.effective_on,
        published_on=event.published_on,
        tribunal=event.tribunal,
        mandatary=event.mandatary,
        notice_id=event.external_id,
        event_id=event.id,
        deadline=deadline,
        outside_metropolitan=outside,
        currency=entity.currency,
        last_notice=event.summary,
    )
    s.add(case)
    _freeze(s, customer, procedure, judged, today)
    _declare(s, case, customer, entity, event, today, login)
    return case, True


def _freeze(
    s: Session,
    customer: Customer,
    procedure: rules.Procedure,
    judged: dt.date,
    today: dt.date,
) -> None:
    """Stop dunning now (L622-21): hold, flags, pending actions cancelled."""
    reason = _("Insolvency: {procedure} (judgment of {date}), L622-21").format(
        procedure=procedure.value, date=judged.isoformat()
    )
    customer.on_hold = True
    customer.hold_reason = reason[:200]
    customer.hold_until = None
    customer.insolvency = procedure.value
    customer.insolvency_since = judged
    pending = s.scalars(
        select(Action).where(
            Action.customer_id == customer.id,
            Action.status.in_(_CANCELLABLE),
            Action.action_type != ActionType.INTERNAL_TASK,
        )
    ).all()
    for action in pending:
        action.status = ActionStatus.CANCELLED
        action.reason = reason[:300]
    s.add(
        Action(
            id=uuid.uuid4(),
            customer_id=customer.id,
            action_type=ActionType.INTERNAL_TASK,
            subject=_("Dunning stopped: insolvency proceedings"),
            planned_date=today,
            status=ActionStatus.DONE,
            performed_at=utcnow(),
            case_event=CaseEvent.HOLD.value,
            comment=reason,
        )
    )


def owed_invoices(
    s: Session, customer_id: int
) -> list[tuple[Item, claims.InvoiceOwed]]:
    """The customer's open invoices as the declaration sees them."""
    items = s.scalars(
        select(Item)
        .where(
            Item.customer_id == customer_id,
            Item.status == ItemStatus.OPEN,
            Item.kind.in_((ItemKind.INVOICE, ItemKind.ADJUSTMENT)),
            Item.remaining > 0,
        )
        .order_by(Item.due_date, Item.number)
    ).all()
    # What is owed today is the base: payment dates are not kept per item.
    return [
        (
            i,
            claims.InvoiceOwed(
                i.number, i.issue_date, i.due_date, i.remaining, i.currency
            ),
        )
        for i in items
    ]


def _declare(
    s: Session,
    case: InsolvencyCase,
    customer: Customer,
    entity: Entity,
    event: RiskEvent,
    today: dt.date,
    login: str,
) -> None:
    """The claim, the task and its reminder, the letter, a notification."""
    owed = owed_invoices(s, customer.id)
    law = interest.law_for(entity.country)
    rate = interest.agreed_rate(customer.late_interest_rate, entity.late_interest_rate)
    judged = event.effective_on or event.published_on
    claim = claims.declaration(
        [o for _i, o in owed], judged, law, entity.currency, rate
    )
    case.claim_amount = claim.total
    manager = credit_manager(s, customer)
    subject = _("Declare the claim to the mandataire judiciaire: {name}").format(
        name=customer.name
    )
    task = Action(
        id=uuid.uuid4(),
        customer_id=customer.id,
        action_type=ActionType.INTERNAL_TASK,
        subject=subject[:300],
        planned_date=case.deadline,
        status=ActionStatus.PENDING,
        amount=claim.total,
        currency=entity.currency,
        assigned_to_id=manager.id if manager else None,
        case_event=DECLARE_EVENT,
        comment=_(
            "{procedure}, {tribunal}; mandataire: {mandatary}; published in "
            "BODACC on {published}; deadline {deadline}. {url}"
        ).format(
            procedure=case.procedure,
            tribunal=case.tribunal or "-",
            mandatary=case.mandatary or "-",
            published=case.published_on.isoformat(),
            deadline=case.deadline.isoformat(),
            url=event.url or "",
        ),
    )
    task.items = [
        ActionItem(item_id=i.id, amount=i.remaining, days_late=i.days_late(today))
        for i, _o in owed
    ]
    reminder = Action(
        id=uuid.uuid4(),
        customer_id=customer.id,
        action_type=ActionType.INTERNAL_TASK,
        subject=_("Reminder: the claim on {name} must be declared by {date}").format(
            name=customer.name, date=case.deadline.isoformat()
        )[:300],
        planned_date=rules.reminder_date(case.deadline, today),
        status=ActionStatus.PENDING,
        assigned_to_id=manager.id if manager else None,
        case_event=REMINDER_EVENT,
    )
    s.add_all([task, reminder])
    s.flush()
    case.task_id, case.reminder_id = task.id, reminder.id
    signer = s.scalars(select(User).where(User.login == login)).first() or manager
    pdf = claims_pdf(case, customer, entity, claim, law, today, signer)
    doc = Document(
        id=uuid.uuid4(),
        customer_id=customer.id,
        action_id=task.id,
        kind=DocumentKind.LITIGATION_FILE,
        filename=f"declaration_creance_{customer.reference}_{case.notice_id}.pdf",
        content=pdf,
    )
    s.add(doc)
    s.flush()
    case.document_id = doc.id
    if manager is not None:
        s.add(
            Notification(
                id=uuid.uuid4(),
                user_id=manager.id,
                customer_id=customer.id,
                action_id=task.id,
                message=_(
                    "{name}: {procedure} opened; declare the claim of {amount} "
                    "{currency} by {date}"
                ).format(
                    name=customer.name,
                    procedure=case.procedure,
                    amount=claim.total,
                    currency=entity.currency,
                    date=case.deadline.isoformat(),
                ),
            )
        )


def claims_pdf(
    case: InsolvencyCase,
    customer: Customer,
    entity: Entity,
    claim: claims.Declaration,
    law: interest.LatePaymentLaw,
    today: dt.date,
    signer: User | None,
) -> bytes:
    """The declaration letter to the mandataire, as a PDF."""
    signature = [signer.full_name] if signer else []
    signature.append(entity.name)
    letter = claims.DeclarationLetter(
        entity=letterhead_of(entity),
        debtor_name=customer.name,
        debtor_siren=siren_of(customer.legal_id) or (customer.legal_id or ""),
        debtor_reference=customer.reference,
        procedure=case.procedure,
        judgment_date=case.judgment_date or case.published_on,
        published_on=case.published_on,
        tribunal=case.tribunal or "",
        notice=case.notice_id,
        mandatary=case.mandatary or "",
        signature=tuple(signature),
        today=today,
    )
    return pdfs.letter_pdf(claims.declaration_letter(claim, letter, law))


def unlink_case(
    s: Session, customer: Customer, event_id: int, reason: str, today: dt.date
) -> None:
    """A notice matched by mistake: its case is dropped and dunning resumes."""
    case = s.scalars(
        select(InsolvencyCase).where(
            InsolvencyCase.customer_id == customer.id,
            InsolvencyCase.event_id == event_id,
        )
    ).first()
    if case is None:
        return
    case.status = "unlinked"
    case.close_reason = reason[:300]
    for key in (case.task_id, case.reminder_id):
        action = s.get(Action, key) if key else None
        if action is not None and action.status in _CANCELLABLE:
            action.status = ActionStatus.CANCELLED
            action.reason = reason[:300]
    if open_case(s, customer.id) is None:
        customer.on_hold = False
        customer.hold_reason = None
        customer.insolvency = None
        customer.insolvency_since = None
    s.add(
        Action(
            id=uuid.uuid4(),
            customer_id=customer.id,
            action_type=ActionType.INTERNAL_TASK,
            subject=_("Dunning resumed: the insolvency notice was not this customer's"),
            planned_date=today,
            status=ActionStatus.DONE,
            performed_at=utcnow(),
            case_event=CaseEvent.HOLD_LIFTED.value,
            comment=reason,
        )
    )
