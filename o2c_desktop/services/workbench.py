"""The collector's workbench: agenda by day, client card, timeline, performing.

`WorkbenchService` opens one session per call and returns the frozen values of
`o2c_desktop.engine.workbench`. Every figure is an SQL aggregate over what the
screen shows (one agenda's customers, one customer, one page), so a book of a
million items answers as fast as a small one: items are reached through
``item (customer_id, status)``, actions through ``action (assigned_to_id,
status, planned_date)`` and ``action (customer_id, planned_date)``.

Performing an action is one transaction: the action is marked done (a stale
version fails with "changed by X at T"), and the outcome is recorded through
`CasesService` (promise, dispute, payment plan, notifications) inside the same
transaction, so nothing is half written.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import re
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from email.parser import BytesHeaderParser
from email.policy import default as email_policy
from email.utils import getaddresses
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import and_, case, delete, func, or_, select
from sqlalchemy.orm import aliased
from sqlalchemy.orm.exc import StaleDataError

from o2c_desktop.engine import letters, pdf
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.book import UserInfo
from o2c_desktop.engine.calendar import is_business_day
from o2c_desktop.engine.cases import (
    CaseEvent,
    DisputeOutcome,
    PromiseRecord,
    promise_reliability,
)
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    Channel,
    DocumentKind,
    ItemKind,
    ItemStatus,
    Role,
)
from o2c_desktop.engine.workbench import (
    AGENDA_DAYS,
    BROKEN_PROMISE_ALERT_DAYS,
    DSO_PERIOD_DAYS,
    DSO_PERIODS,
    ITEMS_TABLE_FIELD,
    ZERO,
    ActionDetail,
    AgendaLine,
    Amounts,
    CallOutcome,
    Choice,
    ConfirmPreview,
    ConfirmResult,
    ContactInfo,
    CustomerCard,
    CustomerHit,
    CustomerSignals,
    DayColumn,
    DocumentInfo,
    DunningSettings,
    ItemPage,
    ItemQuery,
    ItemRow,
    ItemSort,
    MessageDraft,
    MessageOutcome,
    PerformResult,
    TimelineEntry,
    TimelinePage,
    TimelineTab,
    WorkAgenda,
    action_number,
    agenda_days,
    alerts_for,
    column_of,
    countback_dso,
    is_address,
)
from o2c_desktop.i18n import _
from o2c_desktop.models import (
    Action,
    ActionInstalment,
    ActionItem,
    Case,
    Contact,
    Customer,
    Document,
    Entity,
    Item,
    PlanInstalment,
    Portfolio,
    Scenario,
    Step,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.db import Database
from o2c_desktop.models.repo import (
    ConflictError,
    as_uuid,
    contains,
    describe_change,
    get_one,
    unindexed,
)
from o2c_desktop.models.scoring import ItemPrediction
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentError, DocumentService
from o2c_desktop.services.outbox import (
    NO_RETRY,
    Outbox,
    action_key,
    action_outbox,
    automatic_actions,
    enqueue_actions,
)
from o2c_desktop.sync import mail as mailer

if TYPE_CHECKING:
    from collections.abc import Iterable, Iterator, Sequence

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from o2c_desktop.engine.cases import DisputeReason
    from o2c_desktop.engine.workbench import (
        ActionEdit,
        ContactDraft,
        NewAction,
        PerformRequest,
        SettingsDraft,
    )
    from o2c_desktop.models.base import Versioned
    from o2c_desktop.models.db import AuditedSession
    from o2c_desktop.services.documents import LoadedAction
    from o2c_desktop.services.outbox import Performer

log = logging.getLogger(__name__)

LINE_LIMIT = 300  # lines loaded per agenda; the counts cover the rest
ITEM_PAGE_MAX = 500
TIMELINE_ITEMS_SHOWN = 5
ATTACHMENTS_SHOWN = 50
_WAITING = ActionStatus.PENDING
_OPEN_ACTIONS = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM)
_DEBIT_KINDS = (ItemKind.INVOICE, ItemKind.ADJUSTMENT)
_CASE_EVENTS = tuple(e.value for e in CaseEvent)
_MANAGERS = (Role.CREDIT_MANAGER, Role.ADMIN)
SEARCH_MAX = 100  # characters of a quick search that are used
_GENERATED_KINDS = (
    DocumentKind.LETTER,
    DocumentKind.STATEMENT,
    DocumentKind.INTEREST_STATEMENT,
)


class AccessError(PermissionError):
    """The current user may not see or change this; the message says why."""


@dataclass(frozen=True)
class _InTransaction(Database):
    """The open database, whose `session()` joins a transaction already open.

    Lets `CasesService` record the outcome of a performed action in the
    action's own transaction: all of it is written, or none.
    """

    held: AuditedSession | None = None

    @contextmanager
    def session(self, user_login: str | None = None) -> Iterator[AuditedSession]:
        """The held session; committing is left to its owner."""
        assert self.held is not None
        yield self.held
        self.held.flush()


class WorkbenchService:
    """Queries and writes of the agenda, the client card and action processing.

    Args:
        ctx: the database and the current user.
        performer: sends confirmed automatic actions (the documents service);
            without one, automatic actions can't be confirmed.
        documents: renders the letters and emails of the message editor.
        mail: the mail server the message editor sends through.
        days: how many day columns the agenda shows.
        outbox: sends confirmed automatic actions, instead of `performer`
            (the composition root's, which does not retry).
        cases: the cases service the agenda's verbs go through.
    """

    def __init__(
        self,
        ctx: AppContext,
        *,
        performer: Performer | None = None,
        documents: DocumentService | None = None,
        mail: mailer.MailConfig | None = None,
        days: int = AGENDA_DAYS,
        outbox: Outbox | None = None,
        cases: CasesService | None = None,
    ) -> None:
        self._ctx = ctx
        self._db = ctx.db
        self._login = ctx.user_login or None
        # A human waits on the click: a failure goes back to the agenda at once.
        if outbox is None and performer is not None:
            outbox = action_outbox(ctx, performer, retry=NO_RETRY)
        self._outbox = outbox
        self._mail = mail
        self._documents = documents or DocumentService(ctx, mail)
        self._days = days
        self._cases = cases or CasesService(ctx)

    # --- people ------------------------------------------------------------------

    def users(self) -> tuple[UserInfo, ...]:
        """Active users by name (to notify, to assign)."""
        with self._db.session() as s:
            found = s.execute(
                select(User.id, User.login, User.full_name, User.role)
                .where(User.active.is_(True))
                .order_by(User.full_name)
            ).all()
        return tuple(UserInfo(r.id, r.login, r.full_name, r.role) for r in found)

    def agenda_owners(self, today: dt.date) -> tuple[UserInfo, ...]:
        """Whose agenda the current user may open, themselves first.

        A credit manager or an administrator may open anybody's; a collector
        their own and those of colleagues they replace while they are away.
        """
        with self._db.session() as s:
            me = self._me(s)
            if me is None:
                return ()
            query = select(User).where(User.active.is_(True))
            if me.role not in _MANAGERS:
                query = query.where(
                    or_(
                        User.id == me.id,
                        and_(
                            User.replacement_id == me.id,
                            User.absent_from <= today,
                            or_(
                                User.absent_until.is_(None), User.absent_until >= today
                            ),
                        ),
                    )
                )
            users = s.scalars(query.order_by(User.full_name)).all()
            ordered = sorted(users, key=lambda u: (u.id != me.id, u.full_name))
            return tuple(_user_info(u) for u in ordered)

    def dispute_reasons(self) -> tuple[DisputeReason, ...]:
        """The reasons a dispute may be opened with."""
        return self._cases.dispute_reasons

    # --- agenda ----------------------------------------------------------------

    def agenda(
        self,
        today: dt.date,
        *,
        owner_id: int | None = None,
        action_type: ActionType | None = None,
        limit: int = LINE_LIMIT,
    ) -> WorkAgenda:
        """A collector's waiting actions by day, with completion and alerts.

        Args:
            today: late actions join today's column, on top.
            owner_id: whose agenda (default: the current user's).
            action_type: only actions of this type ("Tous types": None).
            limit: lines loaded at most; the columns' counts cover the rest.

        Raises:
            AccessError: the current user may not open that agenda.
        """
        with self._db.session() as s:
            owner = self._owner(s, owner_id, today)
            if owner is None:
                return WorkAgenda(today=today, owner=None, columns=())
            country = s.scalar(select(Entity.country).order_by(Entity.id).limit(1))
            days = agenda_days(today, self._days, lambda d: is_business_day(d, country))
            last = days[-1]
            mine = Action.assigned_to_id == owner.id
            typed = Action.action_type == action_type if action_type else None

            def where(*conds: ColumnElement[bool]) -> list[ColumnElement[bool]]:
                return [mine, *conds] + ([typed] if typed is not None else [])

            waiting_rows = s.execute(
                select(Action.planned_date, func.count())
                .where(*where(Action.status == _WAITING, Action.planned_date <= last))
                .group_by(Action.planned_date)
            ).all()
            start = dt.datetime.combine(today, dt.time(), dt.UTC)
            done_rows = s.execute(
                select(Action.planned_date, func.count())
                .where(
                    *where(
                        Action.status == ActionStatus.DONE,
                        Action.planned_date <= last,
                        or_(Action.planned_date >= today, Action.performed_at >= start),
                        Action.automatic.is_(False),
                        # Case events (kept in `case_event`) are not work done;
                        # older rows kept them in `outcome`.
                        Action.case_event.is_(None),
                        or_(
                            Action.outcome.is_(None),
                            Action.outcome.not_in(_CASE_EVENTS),
                        ),
                    )
                )
                .group_by(Action.planned_date)
            ).all()
            # Both lists in one pass: one set of figures for their customers.
            lines, to_confirm = self._lines_of(
                s,
                [
                    (
                        where(Action.status == _WAITING, Action.planned_date <= last),
                        limit + 1,
                    ),
                    (where(Action.status == ActionStatus.TO_CONFIRM), limit),
                ],
                today,
            )
        waiting = _per_column(waiting_rows, days)
        done = _per_column(done_rows, days)
        truncated = len(lines) > limit
        lines = lines[:limit]
        by_day: dict[dt.date, list[AgendaLine]] = {d: [] for d in days}
        for line in lines:
            day = column_of(line.planned_date, days)
            if day is not None:
                by_day[day].append(line)
        columns = tuple(
            DayColumn(
                day=d,
                lines=tuple(by_day[d]),
                waiting=waiting.get(d, 0),
                done=done.get(d, 0),
            )
            for d in days
        )
        return WorkAgenda(
            today=today,
            owner=_user_info(owner),
            columns=columns,
            to_confirm=tuple(to_confirm),
            truncated=truncated,
        )

    def preview_confirm(
        self, action_ids: Sequence[str], today: dt.date
    ) -> ConfirmPreview:
        """What confirming these automatic actions would send, per currency."""
        uids = [_uuid(a) for a in action_ids]
        with self._db.session() as s:
            lines = self._lines(
                s,
                [Action.id.in_(uids), Action.status == ActionStatus.TO_CONFIRM],
                today,
                len(uids),
            )
        totals: dict[str, Decimal] = {}
        for line in lines:
            if line.amount is not None and line.currency:
                totals[line.currency] = totals.get(line.currency, ZERO) + line.amount
        return ConfirmPreview(lines=tuple(lines), totals=totals)

    def confirm_actions(
        self, action_ids: Sequence[str], today: dt.date
    ) -> ConfirmResult:
        """Confirm automatic actions waiting for a click: send them now.

        With a performer (the documents service) letters are generated and
        emails sent; what fails goes back to the agenda with the reason.
        Without one nothing is written and every action is reported failed.
        Actions no longer waiting (a colleague confirmed them) are skipped.
        """
        uids = [_uuid(a) for a in action_ids]
        if self._outbox is None:
            why = "documents and email are not configured: nothing can be sent"
            return ConfirmResult(
                confirmed=0, failed=tuple((action_number(str(u)), why) for u in uids)
            )
        # Queued with their outbox entries and committed first: a crash before
        # the send leaves them for the next run to send (services/outbox.py).
        with self._db.session(self._login) as s:
            rows = s.scalars(
                select(Action).where(
                    Action.id.in_(uids), Action.status == ActionStatus.TO_CONFIRM
                )
            ).all()
            me = self._me(s)
            for action in rows:
                action.status = ActionStatus.QUEUED
                action.reason = None
                # Sent today, once the outbox has sent it (a failure clears it).
                action.performed_on = today
                if me is not None:
                    action.performed_by_id = me.id
            s.flush()
            queued = automatic_actions(s, [a.id for a in rows])
            enqueue_actions(s, queued)
        if not queued:
            return ConfirmResult(confirmed=0)
        report = self._outbox.drain(keys=[action_key(a.action_id) for a in queued])
        failed = [(action_number(str(a)), why) for a, why in report.failed]
        return ConfirmResult(confirmed=report.sent, failed=tuple(failed))

    # --- client card -------------------------------------------------------------

    def customer_card(self, customer_id: int, today: dt.date) -> CustomerCard:
        """Everything the client card shows above its tables.

        Raises:
            LookupError: no such customer.
        """
        with self._db.session() as s:
            customer = get_one(s, Customer, customer_id)
            me = self._me(s)
            entity = get_one(s, Entity, customer.entity_id)
            portfolio = (
                s.get(Portfolio, customer.portfolio_id)
                if customer.portfolio_id
                else None
            )
            contacts = s.scalars(
                select(Contact)
                .where(Contact.customer_id == customer_id)
                .order_by(Contact.is_dunning_contact.desc(), Contact.name)
            ).all()
            amounts = _amounts(s, customer_id, entity.currency, today)
            attachments = s.execute(
                select(
                    Document.id,
                    Document.filename,
                    Document.kind,
                    Document.created_at,
                    Document.action_id,
                )
                .where(Document.customer_id == customer_id)
                .order_by(Document.created_at.desc())
                .limit(ATTACHMENTS_SHOWN)
            ).all()
            promises = s.execute(
                select(Case.opened_on, Case.status).where(
                    Case.customer_id == customer_id, Case.kind == CaseKind.PROMISE
                )
            ).all()
            editable = me is not None and me.role in _MANAGERS
            settings = self._settings(s, customer, editable=editable)
            address = tuple(
                part
                for part in (
                    customer.address1,
                    customer.address2,
                    " ".join(
                        p for p in (customer.postal_code, customer.city) if p
                    ).strip(),
                    customer.country,
                )
                if part
            )
            return CustomerCard(
                id=customer.id,
                reference=customer.reference,
                name=customer.name,
                portfolio=portfolio.label if portfolio else None,
                entity=entity.name,
                legal_id=customer.legal_id,
                vat_number=customer.vat_number,
                address=address,
                phone=customer.phone,
                email=customer.email,
                language=customer.language,
                category=customer.category,
                payment_terms_days=customer.payment_terms_days,
                credit_limit=customer.credit_limit,
                contacts=tuple(_contact_info(c) for c in contacts),
                settings=settings,
                amounts=amounts,
                attachments=tuple(_document(*row) for row in attachments),
                reliability=promise_reliability(
                    (PromiseRecord(o, st) for o, st in promises), today
                ),
                on_hold=customer.is_on_hold(today),
                hold_reason=customer.hold_reason,
                hold_until=customer.hold_until,
                risk_score=customer.risk_score,
                risk_class=customer.risk_class,
                insolvency=customer.insolvency,
                entity_code=entity.code,
            )

    def items(self, customer_id: int, query: ItemQuery, today: dt.date) -> ItemPage:
        """A page of a customer's items, sorted and filtered in SQL."""
        conds: list[ColumnElement[bool]] = [Item.customer_id == customer_id]
        if query.open_only:
            conds.append(Item.status == ItemStatus.OPEN)
        if query.kinds:
            kind = unindexed(Item.kind, self._db.engine.dialect.name)
            conds.append(kind.in_([k.value for k in query.kinds]))
        if query.overdue_only:
            conds += [Item.due_date < today, Item.remaining > 0]
        term = query.search.strip()[:60]
        if term:
            conds.append(
                or_(contains(Item.number, term), contains(Item.reference, term))
            )
        order = _SORTS[query.sort]
        if query.sort in _INDEXED_SORTS:
            # Else SQLite walks a whole index in this order (every open item
            # by due date, every number) instead of the customer's items.
            order = unindexed(order, self._db.engine.dialect.name)
        # Days late grow as the due date gets older: the opposite order.
        descending = query.descending != (query.sort == ItemSort.DAYS_LATE)
        ordering = [order.desc() if descending else order.asc()]
        ordering.append(Item.id.desc() if descending else Item.id.asc())
        limit = max(1, min(query.limit, ITEM_PAGE_MAX))
        with self._db.session() as s:
            total = s.scalar(select(func.count()).select_from(Item).where(*conds)) or 0
            rows = s.execute(
                _item_select()
                .where(*conds)
                .order_by(*ordering)
                .offset(max(0, query.offset))
                .limit(limit)
            ).all()
        return ItemPage(
            query=query, rows=tuple(_item_row(r, today) for r in rows), total=total
        )

    def item_pdf(self, item_id: int) -> str:
        """Where the PDF of an item is (as the ERP import recorded it), to open it.

        Returns:
            The file's path, or the address when the ERP gave one (``https://``).

        Raises:
            LookupError: no such item, the item has no PDF, or its file is
                missing (the message names the item and the path).
        """
        with self._db.session() as s:
            item = get_one(s, Item, item_id)
            number, stored = item.number, (item.pdf_path or "").strip()
        if not stored:
            raise LookupError(_("Item {number} has no PDF.").format(number=number))
        if is_address(stored):
            return stored
        path = Path(stored).expanduser()
        if not path.is_file():
            raise LookupError(
                _("The PDF of item {number} is missing: {path}").format(
                    number=number, path=stored
                )
            )
        return str(path)

    def update_dunning_settings(self, draft: SettingsDraft) -> DunningSettings:
        """Change how a customer is dunned (credit manager or administrator).

        The change is audited. It is based on the version the user saw.

        Raises:
            AccessError: the current user is a collector.
            ConflictError: somebody changed the customer since ("changed by X at T").
        """
        with self._guard(Customer, draft.customer_id, "customer") as s:
            me = self._me(s)
            if me is None or me.role not in _MANAGERS:
                raise AccessError(
                    "Only a credit manager or an administrator may change the "
                    "dunning settings."
                )
            customer = get_one(s, Customer, draft.customer_id)
            _check_version(customer, draft.version, f"Customer {customer.reference}")
            if draft.scenario_id is not None:
                get_one(s, Scenario, draft.scenario_id)
            if draft.collector_id is not None:
                get_one(s, User, draft.collector_id)
            customer.dunning_start = draft.start
            customer.dunning_type = draft.dunning_type or None
            customer.scenario_id = draft.scenario_id
            customer.collector_id = draft.collector_id
            s.flush()
            return self._settings(s, customer, editable=True)

    def save_contact(self, customer_id: int, draft: ContactDraft) -> ContactInfo:
        """Add a contact (no id) or change one (based on the version seen).

        Marking a contact as the dunning contact unmarks the others of the
        same role: reminders go to one person.

        Raises:
            ConflictError: a colleague changed the contact since.
            ValueError: no name.
        """
        name = draft.name.strip()
        if not name:
            raise ValueError("a contact needs a name")
        key = _uuid(draft.id) if draft.id else None
        with self._guard(Contact, key, "contact") as s:
            get_one(s, Customer, customer_id)
            if key is None:
                contact = Contact(id=uuid.uuid4(), customer_id=customer_id, name=name)
                s.add(contact)
            else:
                contact = get_one(s, Contact, key)
                if contact.customer_id != customer_id:
                    raise ValueError("this contact belongs to another customer")
                _check_version(contact, draft.version, f"Contact {contact.name}")
            contact.name = name
            contact.role = draft.role or None
            contact.function = draft.function or None
            contact.language = draft.language or None
            contact.phone = draft.phone or None
            contact.mobile = draft.mobile or None
            contact.email = draft.email or None
            contact.is_dunning_contact = draft.is_dunning_contact
            if draft.is_dunning_contact:
                others = select(Contact).where(
                    Contact.customer_id == customer_id,
                    Contact.id != contact.id,
                    Contact.is_dunning_contact.is_(True),
                )
                for other in s.scalars(others):
                    if (other.role or None) == contact.role:
                        other.is_dunning_contact = False
            s.flush()
            return _contact_info(contact)

    def delete_contact(self, contact_id: str, version: int) -> None:
        """Remove a contact (based on the version seen).

        Raises:
            ConflictError: a colleague changed the contact since.
        """
        key = _uuid(contact_id)
        with self._guard(Contact, key, "contact") as s:
            contact = get_one(s, Contact, key)
            _check_version(contact, version, f"Contact {contact.name}")
            for action in s.scalars(select(Action).where(Action.contact_id == key)):
                action.contact_id = None
            for case_file in s.scalars(select(Case).where(Case.contact_id == key)):
                case_file.contact_id = None
            s.delete(contact)

    # --- timeline ------------------------------------------------------------------

    def timeline(
        self,
        customer_id: int,
        tab: TimelineTab,
        *,
        offset: int = 0,
        limit: int = 50,
    ) -> TimelinePage:
        """One tab of the customer's timeline, newest first, and each tab's size."""
        tab_of = _tab_expression()
        with self._db.session() as s:
            counts_rows = s.execute(
                select(tab_of, func.count())
                .select_from(Action)
                .outerjoin(Case, Case.id == Action.case_id)
                .where(
                    Action.customer_id == customer_id,
                    Action.status != ActionStatus.CANCELLED,
                )
                .group_by(tab_of)
            ).all()
            counts = {TimelineTab(t): n for t, n in counts_rows}
            ids = s.execute(
                select(Action.id)
                .outerjoin(Case, Case.id == Action.case_id)
                .where(
                    Action.customer_id == customer_id,
                    Action.status != ActionStatus.CANCELLED,
                    tab_of == tab.value,
                )
                .order_by(Action.planned_date.desc(), Action.created_at.desc())
                .offset(max(0, offset))
                .limit(max(1, limit))
            ).scalars()
            entries = self._entries(s, customer_id, list(ids))
        return TimelinePage(
            tab=tab, entries=entries, total=counts.get(tab, 0), counts=counts
        )

    # --- actions ------------------------------------------------------------------

    def action_detail(self, action_id: str, today: dt.date) -> ActionDetail:
        """The summary of one action ("Résumé").

        Raises:
            LookupError: no such action.
        """
        with self._db.session() as s:
            return _detail(s, get_one(s, Action, _uuid(action_id)), today)

    def perform_action(self, request: PerformRequest, today: dt.date) -> PerformResult:
        """Perform an action: outcome, comment, contact, then notify colleagues.

        One transaction: the action is done, its outcome recorded (a promise,
        a dispute or a payment plan through `CasesService`, a call planned to
        call back) and the colleagues notified, or nothing is written.

        Raises:
            ValueError: the request is incomplete (see `PerformRequest.problems`)
                or the action is no longer waiting.
            ConflictError: the action changed since `request.version`.
        """
        problems = request.problems(today)
        if problems:
            raise ValueError(" ".join(problems))
        key = _uuid(request.action_id)
        with self._guard(Action, key, "action") as s:
            action = get_one(s, Action, key)
            label = f"Action {action_number(str(action.id))}"
            _check_version(action, request.version, label)
            if action.status not in _OPEN_ACTIONS:
                raise ValueError(f"{label} is already {action.status.value}")
            me = self._me(s)
            contact_id = _uuid(request.contact_id) if request.contact_id else None
            action.status = ActionStatus.DONE
            action.performed_by_id = me.id if me else None
            action.performed_at = utcnow()
            # The business day it reached the customer: the next step and the
            # minimum gap count from it (issue 16).
            action.performed_on = today
            action.outcome = request.outcome.value
            action.comment = request.comment.strip() or None
            action.reason = None
            if contact_id is not None:
                action.contact_id = contact_id
            s.flush()
            cases = CasesService(
                AppContext(
                    db=_InTransaction(self._db.engine, self._db.factory, held=s),
                    user_login=self._login or "",
                )
            )
            case_number = self._record_outcome(
                s, cases, action, request, contact_id, today
            )
            call_back_id = None
            if request.outcome == CallOutcome.CALL_BACK:
                assert request.call_back_on is not None
                call_back = Action(
                    id=uuid.uuid4(),
                    customer_id=action.customer_id,
                    case_id=action.case_id,
                    action_type=ActionType.PHONE_CALL,
                    subject=action.subject,
                    planned_date=request.call_back_on,
                    status=ActionStatus.PENDING,
                    automatic=False,
                    amount=action.amount,
                    currency=action.currency,
                    assigned_to_id=action.assigned_to_id or (me.id if me else None),
                    created_by_id=me.id if me else None,
                    contact_id=action.contact_id,
                )
                s.add(call_back)
                call_back_id = str(call_back.id)
            if request.notify:
                message = request.notify_message or _notice(action, me)
                cases.notify(
                    request.notify,
                    message,
                    customer_id=action.customer_id,
                    action_id=action.id,
                )
            s.flush()
            return PerformResult(
                action=_detail(s, action, today),
                case_number=case_number,
                call_back_id=call_back_id,
                notified=len(set(request.notify)),
            )

    def create_action(self, new: NewAction, today: dt.date) -> ActionDetail:
        """Create a manual action of any type ("+ Nouvelle action")."""
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, new.customer_id)
            me = self._me(s)
            assignee = (
                new.assignee_id or customer.collector_id or (me.id if me else None)
            )
            action = Action(
                id=uuid.uuid4(),
                customer_id=customer.id,
                action_type=new.action_type,
                subject=(new.subject or "").strip() or None,
                planned_date=new.planned_date,
                status=ActionStatus.PENDING,
                automatic=False,
                currency=customer.entity.currency,
                assigned_to_id=assignee,
                created_by_id=me.id if me else None,
                contact_id=_uuid(new.contact_id) if new.contact_id else None,
                comment=(new.comment or "").strip() or None,
            )
            s.add(action)
            s.flush()
            return _detail(s, action, today)

    def edit_action(self, edit: ActionEdit, today: dt.date) -> ActionDetail:
        """Change a waiting action's date, assignee, contact or subject ("Modifier").

        Raises:
            ConflictError: the action changed since `edit.version`.
        """
        key = _uuid(edit.action_id)
        with self._guard(Action, key, "action") as s:
            action = get_one(s, Action, key)
            label = f"Action {action_number(str(action.id))}"
            _check_version(action, edit.version, label)
            if action.status not in _OPEN_ACTIONS:
                raise ValueError(f"{label} is already {action.status.value}")
            action.planned_date = edit.planned_date
            action.assigned_to_id = edit.assignee_id
            action.contact_id = _uuid(edit.contact_id) if edit.contact_id else None
            action.subject = (edit.subject or "").strip() or None
            s.flush()
            return _detail(s, action, today)

    def close_case(
        self,
        case_id: str,
        *,
        version: int,
        today: dt.date,
        comment: str | None = None,
        dispute_outcome: DisputeOutcome | None = None,
    ) -> None:
        """Close an action's case ("Clôturer le dossier").

        A promise is kept, a payment plan cancelled (its items resume), a
        dispute resolved with `dispute_outcome` (unjustified by default), a
        litigation closed.

        Raises:
            ConflictError: the case changed since `version`.
        """
        info = self._cases.case(case_id)
        if info.kind == CaseKind.PROMISE:
            self._cases.keep_promise(
                case_id, today=today, version=version, comment=comment
            )
        elif info.kind == CaseKind.PAYMENT_PLAN:
            self._cases.cancel_case(
                case_id, today=today, version=version, comment=comment
            )
        elif info.kind == CaseKind.DISPUTE:
            self._cases.resolve_dispute(
                case_id,
                today=today,
                outcome=dispute_outcome or DisputeOutcome.UNJUSTIFIED,
                version=version,
                comment=comment,
            )
        else:
            self._cases.close_litigation(
                case_id, today=today, version=version, comment=comment
            )

    def edit_schedule(
        self,
        case_id: str,
        *,
        version: int,
        today: dt.date,
        count: int,
        first_due: dt.date,
        comment: str | None = None,
    ) -> None:
        """Spread what is left of a payment plan over new instalments.

        Raises:
            ConflictError: the plan changed since `version`.
        """
        self._cases.edit_schedule(
            case_id,
            today=today,
            version=version,
            count=count,
            first_due=first_due,
            comment=comment,
        )

    # --- messages (letters and emails) ---------------------------------------------

    def search_customers(self, term: str, limit: int = 12) -> tuple[CustomerHit, ...]:
        """Customers for the Ctrl+K completion.

        A customer matches when its name holds `term`, or its reference, SIREN
        or one of its invoice numbers is `term`.

        Args:
            term: what the user typed; shorter than two characters finds nothing.
            limit: at most this many customers.
        """
        text = term.strip()[:SEARCH_MAX]
        if len(text) < 2:
            return ()
        legal = text.replace(" ", "")
        by_invoice = (
            select(Item.customer_id, Item.number)
            .where(Item.number == text)
            .limit(limit)
            .subquery()
        )
        with self._db.session() as s:
            rows = s.execute(
                select(
                    Customer.id,
                    Customer.reference,
                    Customer.name,
                    Customer.legal_id,
                    by_invoice.c.number,
                )
                .outerjoin(by_invoice, by_invoice.c.customer_id == Customer.id)
                .where(
                    or_(
                        contains(Customer.name, text),
                        Customer.reference == text,
                        Customer.legal_id == legal,
                        by_invoice.c.number.is_not(None),
                    )
                )
                .order_by(
                    # exact references and numbers first, then by name
                    case((Customer.reference == text, 0), else_=1),
                    case((by_invoice.c.number.is_not(None), 0), else_=1),
                    Customer.name,
                    Customer.id,
                )
                .limit(limit)
            ).all()
        hits: dict[int, CustomerHit] = {}
        for r in rows:
            matched = None
            if r.number is not None:
                matched = f"{_('invoice')} {r.number}"
            elif r.legal_id and r.legal_id == legal:
                matched = f"SIREN {r.legal_id}"
            hits.setdefault(r.id, CustomerHit(r.id, r.reference, r.name, matched))
        return tuple(hits.values())

    def prepare_message(
        self,
        action_id: str,
        today: dt.date,
        *,
        subject: str | None = None,
        body: str | None = None,
    ) -> MessageDraft:
        """Render a letter or email action for the message editor.

        The template is rendered with the merge fields in the customer's
        language and the PDFs are (re)generated and kept with the action; a
        done action's documents are evidence and stay as they are. With
        `body`, the letter PDF is regenerated from that text ("Regenerate").

        Raises:
            LookupError: no such action.
            DocumentError: the action has nothing to render, or no template.
            TemplateError: a stored template is invalid.
        """
        docs = self._documents
        aid = _uuid(action_id)
        rendered = docs.render_action(aid, today=today)
        loaded, text = self._message_text(aid, today)
        if body is not None and loaded.action_type is not ActionType.EMAIL:
            text = tpl.RenderedText(subject or text.subject, _markup(body))
            if loaded.status is not ActionStatus.DONE:
                self._store_letter(aid, loaded, text, today)
        elif body is not None:
            text = tpl.RenderedText(subject or text.subject, _markup(body))
        with self._db.session() as s:
            action = get_one(s, Action, aid)
            generated = _action_documents(s, aid)
            stored = _customer_documents(s, action.customer_id, aid)
            reason = action.reason
            done = action.status is ActionStatus.DONE
        return MessageDraft(
            action_id=str(aid),
            email=loaded.action_type is ActionType.EMAIL,
            language=rendered.language,
            template_code=rendered.template_code,
            recipients=loaded.recipients,
            subject=text.subject,
            body=re.sub(
                r"\n{3,}",
                "\n\n",
                text.markup.replace(tpl.TABLE_MARK, ITEMS_TABLE_FIELD),
            ),
            generated=generated,
            stored=stored,
            note=rendered.note,
            reason=reason,
            done=done,
        )

    def attach_statement(self, action_id: str, today: dt.date) -> DocumentInfo:
        """Produce the customer's statement of account and keep it with the action.

        Raises:
            LookupError: no such action.
        """
        docs = self._documents
        aid = _uuid(action_id)
        loaded, _rendered = self._message_text(aid, today)
        with self._db.session() as s:
            action = get_one(s, Action, aid)
            reference = action.customer.reference
            entity_code = action.customer.entity.code
        made = docs.statement(
            reference, language=loaded.language, today=today, entity_code=entity_code
        )
        with self._db.session(self._login) as s:
            action = get_one(s, Action, aid)
            row = _new_document(s, action, made.kind, made.filename, made.content)
            return _document(row.id, row.filename, row.kind, row.created_at, aid)

    def document_file(self, document_id: str, folder: str) -> str:
        """Write a stored document into `folder` (to open or preview it).

        Returns:
            The path of the file.

        Raises:
            LookupError: no such document.
        """
        with self._db.session() as s:
            row = get_one(s, Document, _uuid(document_id))
            name, content = row.filename, row.content
        target = Path(folder)
        target.mkdir(parents=True, exist_ok=True)
        path = target / Path(name).name
        path.write_bytes(content)
        return str(path)

    def send_message(
        self,
        action_id: str,
        subject: str,
        body: str,
        attachment_ids: Sequence[str],
        today: dt.date,
        *,
        as_eml_path: str | None = None,
    ) -> MessageOutcome:
        """Send a letter or email action as edited, or save the email as .eml.

        An email goes to the server with the attachments; sent, the action is
        done with the send log and the message kept as an .eml document; not
        sent, it stays pending with the reason. A letter's PDF is regenerated
        from `body` and the action is done (the letter is posted). With
        `as_eml_path` the email is written there as a draft Outlook opens and
        the action stays pending: `mark_eml_sent` records it as sent once the
        collector has sent it from their mail client.

        Args:
            action_id: the action.
            subject: the subject (emails; a letter's subject line).
            body: the edited text (see `MessageDraft.body`).
            attachment_ids: stored documents of the customer to attach.
            today: the document date.
            as_eml_path: write an .eml draft there instead of sending.

        Raises:
            LookupError: no such action or document.
            DocumentError: nothing to send (no recipient, a done action).
            ValueError: the .eml file could not be written.
        """
        aid = _uuid(action_id)
        loaded, _text = self._message_text(aid, today)
        if loaded.status is ActionStatus.DONE:
            raise DocumentError(_("This action was already performed."))
        text = tpl.RenderedText(subject.strip(), _markup(body))
        now = utcnow()
        if loaded.action_type is not ActionType.EMAIL:
            self._store_letter(aid, loaded, text, today)
            with self._db.session(self._login) as s:
                action = get_one(s, Action, aid)
                names = tuple(d.filename for d in action.documents)
                self._mark_sent(s, action, now, None, today)
                return MessageOutcome(
                    str(aid), True, attachments=names, action=_detail(s, action, today)
                )
        files = self._attachments(aid, attachment_ids)
        try:
            content = letters.compose_email(loaded.ctx, text, loaded.language)
            if not loaded.recipients:
                raise DocumentError(_("The customer has no email address."))
            outgoing = mailer.OutgoingMail(
                to=loaded.recipients,
                subject=text.subject,
                text=content.text,
                html=content.html,
                sender_name=loaded.ctx.collector.name or loaded.ctx.entity.name,
                reply_to=loaded.ctx.collector.email,
                attachments=files,
            )
            names = tuple(f.filename for f in files)
            if as_eml_path is not None:
                config = self._mail or mailer.MailConfig()
                try:
                    path = mailer.save_eml(outgoing, config, Path(as_eml_path), now)
                except OSError as exc:
                    raise ValueError(
                        _(
                            "The .eml file could not be saved to {path}: {reason}"
                        ).format(path=as_eml_path, reason=exc.strerror or exc)
                    ) from exc
                with self._db.session() as s:
                    detail = _detail(s, get_one(s, Action, aid), today)
                return MessageOutcome(
                    str(aid), False, None, str(path), names, action=detail
                )
            if self._mail is None or not self._mail.host:
                raise mailer.MailError(_("mail is not configured"))
            sent = mailer.send(outgoing, self._mail, now)
        except (mailer.MailError, DocumentError, tpl.TemplateError) as exc:
            reason = _("Email not sent: {reason}").format(reason=exc)
            with self._db.session(self._login) as s:
                action = get_one(s, Action, aid)
                action.status = ActionStatus.PENDING
                action.reason = reason[:300]
                s.flush()
                return MessageOutcome(
                    str(aid), False, reason, action=_detail(s, action, today)
                )
        eml = mailer.eml_bytes(outgoing, self._mail, now)
        name = letters.document_filename(
            "email",
            loaded.ctx.customer.reference,
            now.astimezone(),
            "eml",
            language=loaded.language,
        )
        with self._db.session(self._login) as s:
            action = get_one(s, Action, aid)
            _new_document(s, action, DocumentKind.EMAIL, name, eml, "message/rfc822")
            self._mark_sent(s, action, now, sent.to_json(), today)
            return MessageOutcome(
                str(aid), True, None, None, names, action=_detail(s, action, today)
            )

    def mark_eml_sent(
        self,
        action_id: str,
        eml_path: str,
        today: dt.date,
        *,
        version: int | None = None,
    ) -> MessageOutcome:
        """Record an email saved as .eml as sent from the collector's mail client.

        As a send is recorded: the action is done, by the current user, now;
        its send log says the message was saved as .eml to `eml_path` and sent
        from the mail client; the .eml is kept with the action (when the file
        is still there). The change is audited.

        Args:
            action_id: the email action.
            eml_path: where `send_message(as_eml_path=...)` wrote the draft.
            today: the day of the detail returned.
            version: the action's version the user saw.

        Raises:
            LookupError: no such action.
            ConflictError: the action changed since `version`.
            ValueError: not an email action, or no longer waiting.
        """
        aid = _uuid(action_id)
        path = Path(eml_path)
        try:
            content: bytes | None = path.read_bytes()
        except OSError as exc:  # moved or deleted since: still recorded as sent
            log.warning("Saved .eml %s not readable: %s", path, exc)
            content = None
        headers = (
            BytesHeaderParser(policy=email_policy).parsebytes(content)
            if content
            else None
        )
        now = utcnow()
        with self._guard(Action, aid, "action") as s:
            action = get_one(s, Action, aid)
            label = f"Action {action_number(str(action.id))}"
            _check_version(action, version, label)
            if action.action_type is not ActionType.EMAIL:
                raise ValueError(f"{label} is not an email")
            if action.status not in _OPEN_ACTIONS:
                raise ValueError(f"{label} is already {action.status.value}")
            to = headers.get_all("To", []) if headers is not None else []
            sent = mailer.SendLog(
                message_id=str(headers.get("Message-ID", "")) if headers else "",
                sent_at=now,
                server_answer=(
                    f"saved as .eml to {path}; sent from the collector's mail client"
                ),
                recipients=tuple(a for _n, a in getaddresses([str(t) for t in to])),
            )
            if content is not None:
                customer = action.customer
                name = letters.document_filename(
                    "email",
                    customer.reference,
                    now.astimezone(),
                    "eml",
                    language=customer.language or customer.entity.language,
                )
                _new_document(
                    s, action, DocumentKind.EMAIL, name, content, "message/rfc822"
                )
            record = {**json.loads(sent.to_json()), "saved_as_eml": str(path)}
            self._mark_sent(
                s, action, now, json.dumps(record, ensure_ascii=False), today
            )
            return MessageOutcome(
                str(aid),
                True,
                None,
                str(path),
                action=_detail(s, action, today),
            )

    # --- internals -----------------------------------------------------------------

    def _message_text(
        self, aid: uuid.UUID, today: dt.date
    ) -> tuple[LoadedAction, tpl.RenderedText]:
        """The action's inputs and its template rendered with the merge fields.

        `DocumentService` keeps the rendered text to itself (it returns PDFs
        and email bodies), so the editor reads the same inputs through it and
        renders the template here.
        """
        with self._db.session() as s:
            loaded = self._documents.load_action(s, aid, today, None)
        channel = (
            Channel.EMAIL if loaded.action_type is ActionType.EMAIL else Channel.LETTER
        )
        choice = tpl.choose_template(
            loaded.templates,
            loaded.code,
            channel,
            loaded.language,
            loaded.fallback_language,
            loaded.entity_id,
        )
        if choice is None:
            raise DocumentError(
                _("No template {code} for {channel} in {language}.").format(
                    code=loaded.code, channel=channel.value, language=loaded.language
                )
            )
        language = choice.template.language
        text = tpl.render(choice.template, letters.merge_fields(loaded.ctx, language))
        return dataclasses.replace(loaded, language=language), text

    def _store_letter(
        self,
        aid: uuid.UUID,
        loaded: LoadedAction,
        text: tpl.RenderedText,
        today: dt.date,
    ) -> None:
        """Regenerate the letter PDF of a pending action from an edited text."""
        registered = loaded.action_type is ActionType.REGISTERED_LETTER
        data = pdf.letter_pdf(
            letters.printed_letter(
                loaded.ctx, text, loaded.language, registered=registered
            )
        )
        name = letters.document_filename(
            "letter",
            loaded.ctx.customer.reference,
            utcnow().astimezone(),
            language=loaded.language,
        )
        with self._db.session(self._login) as s:
            action = get_one(s, Action, aid)
            s.execute(
                delete(Document).where(
                    Document.action_id == aid, Document.kind == DocumentKind.LETTER
                )
            )
            _new_document(s, action, DocumentKind.LETTER, name, data)

    def _attachments(
        self, aid: uuid.UUID, ids: Sequence[str]
    ) -> tuple[mailer.Attachment, ...]:
        """The customer's stored documents to attach, in the order given."""
        wanted = [_uuid(i) for i in ids]
        if not wanted:
            return ()
        with self._db.session() as s:
            customer_id = get_one(s, Action, aid).customer_id
            rows = {
                r.id: r
                for r in s.scalars(
                    select(Document).where(
                        Document.id.in_(wanted), Document.customer_id == customer_id
                    )
                )
            }
            missing = [str(i) for i in wanted if i not in rows]
            if missing:
                raise LookupError(f"no such document {missing[0]!r}")
            return tuple(
                mailer.Attachment(rows[i].filename, rows[i].content, rows[i].mime_type)
                for i in wanted
            )

    def _mark_sent(
        self,
        s: Session,
        action: Action,
        now: dt.datetime,
        send_log: str | None,
        today: dt.date,
    ) -> None:
        action.status = ActionStatus.DONE
        action.reason = None
        if send_log is not None:
            action.send_log = send_log
        action.performed_at = now
        action.performed_on = today
        me = self._me(s)
        if me is not None:
            action.performed_by_id = me.id
        s.flush()

    def _me(self, s: Session) -> User | None:
        if not self._login:
            return None
        return s.scalars(select(User).where(User.login == self._login)).first()

    def _owner(self, s: Session, owner_id: int | None, today: dt.date) -> User | None:
        me = self._me(s)
        if owner_id is None or (me is not None and owner_id == me.id):
            return me
        owner = get_one(s, User, owner_id)
        if me is None:
            raise AccessError("Choose who you are in Settings first.")
        covering = owner.replacement_id == me.id and owner.is_absent(today)
        if me.role not in _MANAGERS and not covering:
            raise AccessError(
                f"{owner.full_name}'s agenda is open to a credit manager, or to "
                "the colleague replacing them while they are away."
            )
        return owner

    @contextmanager
    def _guard(
        self, model: type[Versioned], key: object, what: str
    ) -> Iterator[AuditedSession]:
        """A unit of work whose stale write becomes a clear ConflictError."""
        try:
            with self._db.session(self._login) as s:
                yield s
        except StaleDataError as exc:
            with self._db.session() as s:
                current = s.get(model, key) if key is not None else None
                detail = describe_change(current) if current else "deleted"
            raise ConflictError(
                f"The {what} was {detail}. Your change was not saved: reload and "
                "try again."
            ) from exc

    def _settings(
        self, s: Session, customer: Customer, *, editable: bool
    ) -> DunningSettings:
        scenario = (
            s.get(Scenario, customer.scenario_id) if customer.scenario_id else None
        )
        collector = (
            s.get(User, customer.collector_id) if customer.collector_id else None
        )
        scenarios: tuple[Choice, ...] = ()
        collectors: tuple[Choice, ...] = ()
        if editable:
            scenarios = tuple(
                Choice(i, n)
                for i, n in s.execute(
                    select(Scenario.id, Scenario.name).order_by(Scenario.name)
                ).all()
            )
            collectors = tuple(
                Choice(i, n)
                for i, n in s.execute(
                    select(User.id, User.full_name)
                    .where(User.active.is_(True))
                    .order_by(User.full_name)
                ).all()
            )
        return DunningSettings(
            start=customer.dunning_start,
            dunning_type=customer.dunning_type,
            scenario=Choice(scenario.id, scenario.name) if scenario else None,
            collector=Choice(collector.id, collector.full_name) if collector else None,
            version=customer.version,
            editable=editable,
            scenarios=scenarios,
            collectors=collectors,
        )

    def _lines(
        self,
        s: Session,
        conds: Sequence[ColumnElement[bool]],
        today: dt.date,
        limit: int,
    ) -> list[AgendaLine]:
        return self._lines_of(s, [(conds, limit)], today)[0]

    def _lines_of(
        self,
        s: Session,
        wanted: Sequence[tuple[Sequence[ColumnElement[bool]], int]],
        today: dt.date,
    ) -> list[list[AgendaLine]]:
        """Agenda lines of each (conditions, limit), figures read once for all."""
        found = [self._line_rows(s, conds, limit) for conds, limit in wanted]
        customers = {r.customer_id for rows in found for r in rows}
        figures = _customer_figures(s, customers, today)
        signals = _customer_signals(s, customers, today)
        return [self._to_lines(rows, figures, signals, today) for rows in found]

    def _line_rows(
        self, s: Session, conds: Sequence[ColumnElement[bool]], limit: int
    ) -> Sequence[Any]:
        assignee = aliased(User)
        return s.execute(
            select(
                Action.id,
                Action.planned_date,
                Action.action_type,
                Action.status,
                Action.automatic,
                Action.subject,
                Action.amount,
                Action.currency,
                Action.reason,
                Customer.id.label("customer_id"),
                Customer.reference,
                Customer.name,
                Customer.risk_score,
                Customer.risk_class,
                Customer.insolvency,
                assignee.full_name.label("assignee"),
            )
            .join(Customer, Customer.id == Action.customer_id)
            .outerjoin(assignee, assignee.id == Action.assigned_to_id)
            .where(*conds)
            .order_by(Action.planned_date, Action.id)
            .limit(limit)
        ).all()

    @staticmethod
    def _to_lines(
        found: Sequence[Any],
        figures: dict[int, tuple[Decimal, Decimal, dt.date | None, int | None]],
        signals: dict[int, CustomerSignals],
        today: dt.date,
    ) -> list[AgendaLine]:
        lines = []
        for r in found:
            _owed, overdue, oldest, dso = figures.get(
                r.customer_id, (ZERO, ZERO, None, None)
            )
            known = signals.get(r.customer_id, CustomerSignals())
            risk = CustomerSignals(
                broken_promise_on=known.broken_promise_on,
                dispute_due=known.dispute_due,
                risk_score=r.risk_score,
                risk_class=r.risk_class,
                insolvency=r.insolvency,
            )
            failed = r.reason if r.status == ActionStatus.PENDING else None
            lines.append(
                AgendaLine(
                    action_id=str(r.id),
                    planned_date=r.planned_date,
                    action_type=r.action_type,
                    status=r.status,
                    automatic=r.automatic,
                    subject=r.subject,
                    customer_id=r.customer_id,
                    customer_reference=r.reference,
                    customer_name=r.name,
                    days_late=(today - oldest).days if oldest else None,
                    dso=dso,
                    amount=r.amount if r.amount is not None else overdue,
                    currency=r.currency,
                    alerts=alerts_for(risk, today, failed),
                    assignee=r.assignee,
                )
            )
        return lines

    def _entries(
        self, s: Session, customer_id: int, ids: list[uuid.UUID]
    ) -> tuple[TimelineEntry, ...]:
        if not ids:
            return ()
        assignee, performer, creator = aliased(User), aliased(User), aliased(User)
        rows = s.execute(
            select(
                Action,
                Case.number,
                assignee.full_name,
                performer.full_name,
                creator.full_name,
                Contact.name,
            )
            .outerjoin(Case, Case.id == Action.case_id)
            .outerjoin(assignee, assignee.id == Action.assigned_to_id)
            .outerjoin(performer, performer.id == Action.performed_by_id)
            .outerjoin(creator, creator.id == Action.created_by_id)
            .outerjoin(Contact, Contact.id == Action.contact_id)
            .where(Action.id.in_(ids))
        ).all()
        numbers, counts = _item_numbers(s, customer_id, ids)
        # A plan's instalment reminder is about instalments, not items.
        for action_id, labels in _instalment_labels(s, ids).items():
            numbers.setdefault(action_id, labels[:TIMELINE_ITEMS_SHOWN])
            counts.setdefault(action_id, len(labels))
        documents = _documents(s, customer_id, ids)
        by_id = {}
        for action, case_number, assigned, performed, created, contact in rows:
            performed_on = action.performed_at.date() if action.performed_at else None
            done = action.status == ActionStatus.DONE
            automatic = action.automatic and performed is None
            by = (performed if done else assigned) or (None if automatic else created)
            by_id[action.id] = TimelineEntry(
                action_id=str(action.id),
                day=action.planned_date,
                by=by,
                automatic=automatic,
                created_on=action.created_at.date(),
                action_type=action.action_type,
                subject=action.subject,
                status=action.status,
                assignee=assigned,
                performed_on=performed_on,
                performer=performed,
                contact=contact,
                items=numbers.get(action.id, ()),
                item_count=counts.get(action.id, 0),
                documents=documents.get(action.id, ()),
                case_number=case_number,
                comment=action.comment,
            )
        return tuple(by_id[i] for i in ids if i in by_id)

    def _record_outcome(
        self,
        s: Session,
        cases: CasesService,
        action: Action,
        request: PerformRequest,
        contact_id: uuid.UUID | None,
        today: dt.date,
    ) -> str | None:
        """Open the case the outcome calls for; its number, if one was opened."""
        comment = request.comment.strip() or None
        outcome = request.outcome
        if outcome == CallOutcome.PROMISE:
            assert request.promise_date is not None
            change = cases.open_promise(
                action.customer_id,
                today=today,
                promised_date=request.promise_date,
                amount=request.promise_amount,
                contact_id=contact_id,
                source="call"
                if action.action_type == ActionType.PHONE_CALL
                else action.action_type.value,
                comment=comment,
            )
            return change.case.number
        if outcome == CallOutcome.DISPUTE:
            assert request.dispute_reason is not None
            item_ids = request.dispute_item_ids or _open_item_ids(s, action)
            change = cases.open_dispute(
                action.customer_id,
                today=today,
                items=list(item_ids) if item_ids else _overdue_ids(s, action, today),
                reason=request.dispute_reason,
                contact_id=contact_id,
                comment=comment,
            )
            return change.case.number
        if outcome == CallOutcome.PAYMENT_PLAN:
            change = cases.open_payment_plan(
                action.customer_id,
                today=today,
                count=request.plan_count,
                first_due=request.plan_first_due,
                contact_id=contact_id,
                comment=comment,
            )
            return change.case.number
        return None


# --- queries -----------------------------------------------------------------------


def _per_column(rows: Iterable[Any], days: Sequence[dt.date]) -> dict[dt.date, int]:
    out: dict[dt.date, int] = {}
    for planned, count in rows:
        day = column_of(_as_date(planned) or days[0], days)
        if day is not None:
            out[day] = out.get(day, 0) + int(count)
    return out


def _customer_figures(
    s: Session, customer_ids: set[int], today: dt.date
) -> dict[int, tuple[Decimal, Decimal, dt.date | None, int | None]]:
    """Outstanding, overdue, oldest unpaid due date and DSO of a few customers."""
    if not customer_ids:
        return {}
    ids = list(customer_ids)
    past_due = Item.due_date < today
    found = s.execute(
        select(
            Item.customer_id,
            func.sum(Item.remaining),
            func.sum(case((past_due & (Item.remaining > 0), Item.remaining), else_=0)),
            func.min(
                case((past_due & (Item.remaining > 0), Item.due_date), else_=None)
            ),
        )
        .where(Item.customer_id.in_(ids), Item.status == ItemStatus.OPEN)
        .group_by(Item.customer_id)
    ).all()
    revenue = _revenue_by_period(s, ids, today)
    out: dict[int, tuple[Decimal, Decimal, dt.date | None, int | None]] = {}
    for customer_id, outstanding, overdue, oldest in found:
        owed = _money(outstanding)
        periods = revenue.get(customer_id, [ZERO] * DSO_PERIODS)
        out[customer_id] = (
            owed,
            _money(overdue),
            _as_date(oldest),
            countback_dso(owed, periods),
        )
    return out


def _revenue_by_period(
    s: Session, customer_ids: Sequence[int], today: dt.date
) -> dict[int, list[Decimal]]:
    """Invoiced sales (incl. tax) per 30-day period, newest first, per customer."""
    since = today - dt.timedelta(days=DSO_PERIOD_DAYS * DSO_PERIODS)
    whens = [
        (Item.issue_date > today - dt.timedelta(days=DSO_PERIOD_DAYS * (k + 1)), k)
        for k in range(DSO_PERIODS - 1)
    ]
    invoices = (
        select(
            Item.customer_id.label("customer_id"),
            case(*whens, else_=DSO_PERIODS - 1).label("period"),
            Item.amount.label("amount"),
        )
        .where(
            Item.customer_id.in_(list(customer_ids)),
            # Every status, spelled out: PostgreSQL then reads the
            # (customer_id, status) index instead of scanning the items.
            Item.status.in_((ItemStatus.OPEN, ItemStatus.CLOSED)),
            unindexed(Item.kind, s.get_bind().dialect.name) == ItemKind.INVOICE.value,
            Item.issue_date > since,
            Item.issue_date <= today,
        )
        .subquery()
    )
    rows = s.execute(
        select(
            invoices.c.customer_id, invoices.c.period, func.sum(invoices.c.amount)
        ).group_by(invoices.c.customer_id, invoices.c.period)
    ).all()
    out: dict[int, list[Decimal]] = {}
    for customer_id, period, amount in rows:
        periods = out.setdefault(customer_id, [ZERO] * DSO_PERIODS)
        periods[int(period)] = _money(amount)
    return out


def _customer_signals(
    s: Session, customer_ids: set[int], today: dt.date
) -> dict[int, CustomerSignals]:
    """Recent broken promises and overdue disputes of a few customers."""
    if not customer_ids:
        return {}
    ids = list(customer_ids)
    since = today - dt.timedelta(days=BROKEN_PROMISE_ALERT_DAYS)
    broken = dict(
        s.execute(
            select(Case.customer_id, func.max(Case.closed_on))
            .where(
                Case.customer_id.in_(ids),
                Case.kind.in_((CaseKind.PROMISE, CaseKind.PAYMENT_PLAN)),
                Case.status == CaseStatus.BROKEN,
                Case.closed_on >= since,
            )
            .group_by(Case.customer_id)
        ).all()
    )
    disputes = dict(
        s.execute(
            select(Case.customer_id, func.min(Case.answer_due))
            .where(
                Case.customer_id.in_(ids),
                Case.kind == CaseKind.DISPUTE,
                Case.status == CaseStatus.OPEN,
            )
            .group_by(Case.customer_id)
        ).all()
    )
    return {
        c: CustomerSignals(
            broken_promise_on=_as_date(broken.get(c)),
            dispute_due=_as_date(disputes.get(c)),
        )
        for c in customer_ids
    }


def _amounts(s: Session, customer_id: int, currency: str, today: dt.date) -> Amounts:
    """The amounts block, from one pass over the customer's open items."""
    debit = Item.kind.in_(_DEBIT_KINDS) & (Item.remaining > 0)
    past_due = Item.due_date < today
    disputed_part = func.coalesce(Item.disputed_amount, Item.remaining)
    row = s.execute(
        select(
            func.sum(case((debit, Item.amount), else_=0)),
            func.sum(case((debit, Item.amount - Item.remaining), else_=0)),
            func.sum(case((Item.remaining < 0, Item.remaining), else_=0)),
            func.sum(case((debit & past_due, Item.remaining), else_=0)),
            func.sum(case((Item.disputed.is_(True), disputed_part), else_=0)),
            func.sum(case((Item.in_litigation.is_(True), Item.remaining), else_=0)),
            func.sum(Item.remaining),
            func.count(),
            func.min(case((debit & past_due, Item.due_date), else_=None)),
        ).where(Item.customer_id == customer_id, Item.status == ItemStatus.OPEN)
    ).one()
    outstanding = _money(row[6])
    revenue = _revenue_by_period(s, [customer_id], today).get(
        customer_id, [ZERO] * DSO_PERIODS
    )
    oldest = _as_date(row[8])
    return Amounts(
        currency=currency,
        total=_money(row[0]),
        partial_payments=_money(row[1]),
        unapplied=-_money(row[2]),
        overdue=_money(row[3]),
        disputed=_money(row[4]),
        litigation=_money(row[5]),
        outstanding=outstanding,
        dso=countback_dso(outstanding, revenue),
        open_items=int(row[7] or 0),
        days_late=(today - oldest).days if oldest else None,
    )


_SORTS: dict[ItemSort, Any] = {
    ItemSort.NUMBER: Item.number,
    ItemSort.AMOUNT: Item.amount,
    ItemSort.CURRENCY: Item.currency,
    ItemSort.ISSUE_DATE: Item.issue_date,
    ItemSort.DUE_DATE: Item.due_date,
    ItemSort.DAYS_LATE: Item.due_date,
    ItemSort.DUNNING_STATUS: Step.offset_days,
    ItemSort.STATUS_DATE: Item.dunning_date,
    ItemSort.PAID: Item.amount - Item.remaining,
    ItemSort.REMAINING: Item.remaining,
}

_INDEXED_SORTS = (ItemSort.NUMBER, ItemSort.DUE_DATE, ItemSort.DAYS_LATE)


def _item_select() -> Any:
    return (
        select(
            Item.id,
            Item.number,
            Item.kind,
            Item.amount,
            Item.currency,
            Item.issue_date,
            Item.due_date,
            Step.name.label("step_name"),
            Item.dunning_date,
            Item.remaining,
            Item.status,
            Item.disputed,
            Item.in_litigation,
            Item.pdf_path,
            ItemPrediction.pay_date.label("expected_pay_date"),
        )
        .outerjoin(Step, Step.id == Item.dunning_step_id)
        .outerjoin(
            # The payment model's expected date (#21), once `o2c score apply` ran.
            ItemPrediction,
            ItemPrediction.item_id == Item.id,
        )
    )


def _item_row(r: Any, today: dt.date) -> ItemRow:
    late = (today - r.due_date).days
    return ItemRow(
        id=r.id,
        number=r.number,
        kind=r.kind,
        amount=r.amount,
        currency=r.currency,
        issue_date=r.issue_date,
        due_date=r.due_date,
        days_late=late if late > 0 and r.remaining > 0 else None,
        dunning_status=r.step_name,
        status_date=r.dunning_date,
        paid=r.amount - r.remaining if r.kind in _DEBIT_KINDS else ZERO,
        remaining=r.remaining,
        status=r.status,
        disputed=r.disputed,
        in_litigation=r.in_litigation,
        has_pdf=bool(r.pdf_path),
        expected_pay_date=r.expected_pay_date if r.remaining > 0 else None,
    )


def _tab_expression() -> ColumnElement[str]:
    return case(
        (Case.kind == CaseKind.DISPUTE, TimelineTab.DISPUTES.value),
        (Case.kind == CaseKind.LITIGATION, TimelineTab.LITIGATION.value),
        else_=TimelineTab.DUNNING.value,
    )


def _item_numbers(
    s: Session, customer_id: int, ids: Sequence[uuid.UUID]
) -> tuple[dict[uuid.UUID, tuple[str, ...]], dict[uuid.UUID, int]]:
    """The first few item numbers of each action, and how many items in all."""
    ranked = (
        select(
            ActionItem.action_id.label("action_id"),
            Item.number.label("number"),
            func.row_number()
            .over(partition_by=ActionItem.action_id, order_by=Item.number)
            .label("rank"),
            func.count().over(partition_by=ActionItem.action_id).label("n"),
        )
        .join(Item, Item.id == ActionItem.item_id)
        .where(
            ActionItem.action_id.in_(list(ids)),
            # The customer's items through their index, not a scan of all items.
            Item.customer_id == customer_id,
            Item.status.in_((ItemStatus.OPEN, ItemStatus.CLOSED)),
        )
        .subquery()
    )
    rows = s.execute(
        select(ranked.c.action_id, ranked.c.number, ranked.c.n)
        .where(ranked.c.rank <= TIMELINE_ITEMS_SHOWN)
        .order_by(ranked.c.action_id, ranked.c.rank)
    ).all()
    numbers: dict[uuid.UUID, list[str]] = {}
    counts: dict[uuid.UUID, int] = {}
    for action_id, number, n in rows:
        numbers.setdefault(action_id, []).append(number)
        counts[action_id] = int(n)
    return {k: tuple(v) for k, v in numbers.items()}, counts


def _instalment_labels(
    s: Session, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[str, ...]]:
    """Labels ("instalment 2") of the actions that remind plan instalments."""
    out: dict[uuid.UUID, list[str]] = {}
    for action_id, seq in s.execute(
        select(ActionInstalment.action_id, PlanInstalment.seq)
        .join(PlanInstalment, PlanInstalment.id == ActionInstalment.instalment_id)
        .where(ActionInstalment.action_id.in_(list(ids)))
        .order_by(ActionInstalment.action_id, PlanInstalment.seq)
    ):
        out.setdefault(action_id, []).append(_("instalment {seq}").format(seq=seq))
    return {k: tuple(v) for k, v in out.items()}


def _documents(
    s: Session, customer_id: int, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[DocumentInfo, ...]]:
    # Through the customer's index: document has none on action_id.
    rows = s.execute(
        select(
            Document.id,
            Document.filename,
            Document.kind,
            Document.created_at,
            Document.action_id,
        )
        .where(Document.customer_id == customer_id, Document.action_id.in_(list(ids)))
        .order_by(Document.created_at)
    ).all()
    out: dict[uuid.UUID, list[DocumentInfo]] = {}
    for row in rows:
        out.setdefault(row.action_id, []).append(_document(*row))
    return {k: tuple(v) for k, v in out.items()}


def _detail(s: Session, action: Action, today: dt.date) -> ActionDetail:
    customer = get_one(s, Customer, action.customer_id)
    case_file = s.get(Case, action.case_id) if action.case_id else None
    step = s.get(Step, action.step_id) if action.step_id else None
    names = dict(
        s.execute(
            select(User.id, User.full_name).where(
                User.id.in_(
                    [
                        i
                        for i in (
                            action.assigned_to_id,
                            action.created_by_id,
                            action.performed_by_id,
                        )
                        if i is not None
                    ]
                )
            )
        ).all()
    )
    contact = s.get(Contact, action.contact_id) if action.contact_id else None
    if contact is None:
        contact = s.scalars(
            select(Contact)
            .where(Contact.customer_id == customer.id)
            .order_by(Contact.is_dunning_contact.desc(), Contact.name)
            .limit(1)
        ).first()
    items = s.execute(
        _item_select()
        .join(ActionItem, ActionItem.item_id == Item.id)
        .where(
            ActionItem.action_id == action.id,
            Item.customer_id == action.customer_id,
            Item.status.in_((ItemStatus.OPEN, ItemStatus.CLOSED)),
        )
        .order_by(Item.due_date, Item.number)
        .limit(ITEM_PAGE_MAX)
    ).all()
    level: str | None = step.name if step else None
    if case_file is not None:
        level = case_file.kind.value
    return ActionDetail(
        id=str(action.id),
        number=action_number(str(action.id)),
        customer_id=customer.id,
        customer_reference=customer.reference,
        customer_name=customer.name,
        action_type=action.action_type,
        status=action.status,
        automatic=action.automatic,
        planned_date=action.planned_date,
        subject=action.subject,
        level=level,
        case_id=str(case_file.id) if case_file else None,
        case_number=case_file.number if case_file else None,
        case_kind=case_file.kind if case_file else None,
        case_status=case_file.status if case_file else None,
        case_version=case_file.version if case_file else None,
        created_on=action.created_at.date(),
        created_by=names.get(action.created_by_id) if action.created_by_id else None,
        assignee=names.get(action.assigned_to_id) if action.assigned_to_id else None,
        assignee_id=action.assigned_to_id,
        contact=_contact_info(contact) if contact else None,
        items=tuple(_item_row(r, today) for r in items),
        instalments=_instalment_labels(s, [action.id]).get(action.id, ()),
        amount=action.amount,
        currency=action.currency,
        performed_on=action.performed_at.date() if action.performed_at else None,
        performer=(
            names.get(action.performed_by_id) if action.performed_by_id else None
        ),
        comment=action.comment,
        reason=action.reason,
        version=action.version,
        documents=_documents(s, action.customer_id, [action.id]).get(action.id, ()),
    )


def _open_item_ids(s: Session, action: Action) -> list[int]:
    return list(
        s.scalars(
            select(Item.id)
            .join(ActionItem, ActionItem.item_id == Item.id)
            .where(
                ActionItem.action_id == action.id,
                Item.status == ItemStatus.OPEN,
                Item.remaining > 0,
            )
        )
    )


def _overdue_ids(s: Session, action: Action, today: dt.date) -> list[int]:
    return list(
        s.scalars(
            select(Item.id).where(
                Item.customer_id == action.customer_id,
                Item.status == ItemStatus.OPEN,
                Item.remaining > 0,
                Item.due_date < today,
                Item.disputed.is_(False),
            )
        )
    )


def _notice(action: Action, me: User | None) -> str:
    who = me.full_name if me else "?"
    what = action.subject or action.action_type.value
    return f"{who}: {what} ({action_number(str(action.id))}) done"


# --- small conversions ---------------------------------------------------------------


def _check_version(record: Versioned, version: int | None, what: str) -> None:
    if version is not None and record.version != version:
        raise ConflictError(
            f"{what} was {describe_change(record)}. Your change was not saved: "
            "reload and try again."
        )


def _user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id, login=user.login, full_name=user.full_name, role=user.role
    )


def _contact_info(c: Contact) -> ContactInfo:
    return ContactInfo(
        id=str(c.id),
        name=c.name,
        role=c.role,
        function=c.function,
        language=c.language,
        phone=c.phone,
        mobile=c.mobile,
        email=c.email,
        is_dunning_contact=c.is_dunning_contact,
        version=c.version,
    )


def _document(
    doc_id: uuid.UUID,
    filename: str,
    kind: Any,
    created_at: dt.datetime,
    action_id: uuid.UUID | None,
) -> DocumentInfo:
    return DocumentInfo(
        id=str(doc_id),
        filename=filename,
        kind=kind,
        created_at=created_at,
        action_id=str(action_id) if action_id else None,
    )


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return as_uuid(value, "record")


def _money(value: object) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    if isinstance(value, int):
        # SUM of a CASE with an integer ELSE comes back as cents on SQLite.
        return Decimal(value).scaleb(-2)
    raise TypeError(f"unexpected amount {value!r}")


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value))


def _document_infos(rows: Iterable[Any]) -> tuple[DocumentInfo, ...]:
    return tuple(
        _document(r.id, r.filename, r.kind, r.created_at, r.action_id) for r in rows
    )


def _document_columns() -> Any:
    return select(
        Document.id,
        Document.filename,
        Document.kind,
        Document.created_at,
        Document.action_id,
    )


def _action_documents(s: Session, aid: uuid.UUID) -> tuple[DocumentInfo, ...]:
    """The PDFs generated for an action, letter first."""
    rows = s.execute(
        _document_columns()
        .where(Document.action_id == aid, Document.kind.in_(_GENERATED_KINDS))
        .order_by(Document.created_at, Document.filename)
    ).all()
    order = {k: n for n, k in enumerate(_GENERATED_KINDS)}
    return _document_infos(sorted(rows, key=lambda r: order[r.kind]))


def _customer_documents(
    s: Session, customer_id: int, aid: uuid.UUID
) -> tuple[DocumentInfo, ...]:
    """The customer's other PDFs, newest first (what "attach a stored one" offers)."""
    rows = s.execute(
        _document_columns()
        .where(
            Document.customer_id == customer_id,
            Document.mime_type == "application/pdf",
            or_(Document.action_id.is_(None), Document.action_id != aid),
        )
        .order_by(Document.created_at.desc(), Document.filename)
        .limit(ATTACHMENTS_SHOWN)
    ).all()
    return _document_infos(rows)


def _new_document(
    s: Session,
    action: Action,
    kind: DocumentKind,
    filename: str,
    content: bytes,
    mime_type: str = "application/pdf",
) -> Document:
    row = Document(
        customer_id=action.customer_id,
        action_id=action.id,
        kind=kind,
        filename=filename,
        mime_type=mime_type,
        content=content,
    )
    s.add(row)
    s.flush()
    return row


def _markup(body: str) -> str:
    """An edited text back to template markup (the items table mark)."""
    return body.replace("\r\n", "\n").replace(ITEMS_TABLE_FIELD, tpl.TABLE_MARK)
