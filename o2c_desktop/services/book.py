"""Read-only views of the book: customers, agenda, scenarios, aged balance.

Each method opens one session, runs a few SQL aggregates over what the view
shows (a page, one user's agenda, one summary) and returns frozen values from
`o2c_desktop.engine.book`. Nothing loads the whole book: it may hold a
million items.
"""

from __future__ import annotations

import datetime as dt
import logging
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import aliased, sessionmaker

from o2c_desktop.engine.book import (
    AGING_BUCKETS,
    ZERO,
    AgendaEntry,
    AgingLine,
    BookSummary,
    ConnectionReport,
    CustomerPage,
    CustomerRow,
    ScenarioInfo,
    StepInfo,
    UserInfo,
    group_agenda,
)
from o2c_desktop.engine.types import ActionStatus, ItemStatus
from o2c_desktop.models import (
    Action,
    Customer,
    Entity,
    Item,
    Portfolio,
    Scenario,
    Step,
    User,
    dburl,
)
from o2c_desktop.models.db import (
    AuditedSession,
    Database,
    DatabaseError,
    check_revision,
    head_revision,
    make_engine,
)
from o2c_desktop.models.repo import contains

if TYPE_CHECKING:
    from collections.abc import Sequence

    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from o2c_desktop.engine.book import Agenda
    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

AGENDA_LIMIT = 1000
SEARCH_MAX = 200  # longer terms are typos or pastes, not searches


class BookService:
    """Queries behind the read-only views, for one open database and user."""

    def __init__(self, ctx: AppContext) -> None:
        self._db: Database = ctx.db
        self._login = ctx.user_login

    @property
    def database(self) -> Database:
        """The open database (other services of this workspace share it)."""
        return self._db

    @property
    def description(self) -> str:
        """Kind and location of the database, never the password."""
        return self._db.description

    @property
    def user_login(self) -> str:
        """Login of the current user as configured (may be unknown)."""
        return self._login

    def close(self) -> None:
        """Release the database connections."""
        self._db.dispose()

    def users(self) -> tuple[UserInfo, ...]:
        """Active users, by name."""
        with self._db.session() as s:
            return _users(s)

    def current_user(self) -> UserInfo | None:
        """The configured user, None when the login is empty or unknown."""
        if not self._login:
            return None
        with self._db.session() as s:
            row = s.scalars(select(User).where(User.login == self._login)).first()
            return _user_info(row) if row is not None else None

    def customers(
        self,
        search: str,
        offset: int,
        limit: int,
        today: dt.date,
        *,
        entity_code: str | None = None,
    ) -> CustomerPage:
        """One page of customers matching `search`, ordered by name.

        Args:
            search: part of a name, or a reference, SIREN or invoice number;
                empty for every customer.
            offset: index of the first row.
            limit: number of rows at most.
            today: the day amounts and days late are computed for.
            entity_code: only this entity's customers.

        Returns:
            The rows with their amounts, and how many customers match.
        """
        with self._db.session() as s:
            where = _customer_filter(search)
            if entity_code:
                where = where & Customer.entity_id.in_(
                    select(Entity.id).where(Entity.code == entity_code)
                )
            total = s.scalar(select(func.count(Customer.id)).where(where)) or 0
            collector = aliased(User)
            page = s.execute(
                select(
                    Customer.id,
                    Customer.reference,
                    Customer.name,
                    Customer.legal_id,
                    Portfolio.code,
                    Portfolio.name,
                    collector.full_name,
                    Entity.currency,
                    Entity.code.label("entity_code"),
                )
                .join(Entity, Entity.id == Customer.entity_id)
                .outerjoin(Portfolio, Portfolio.id == Customer.portfolio_id)
                .outerjoin(collector, collector.id == Customer.collector_id)
                .where(where)
                .order_by(Customer.name, Customer.id)
                .offset(offset)
                .limit(limit)
            ).all()
            amounts = _customer_amounts(s, [r.id for r in page], today)
        rows = []
        for r in page:
            outstanding, overdue, oldest = amounts.get(r.id, (ZERO, ZERO, None))
            rows.append(
                CustomerRow(
                    id=r.id,
                    reference=r.reference,
                    name=r.name,
                    legal_id=r.legal_id,
                    portfolio=f"{r[4]} - {r[5]}" if r[4] else None,
                    collector=r.full_name,
                    currency=r.currency,
                    outstanding=outstanding,
                    overdue=overdue,
                    days_late=(today - oldest).days if oldest else None,
                    entity=r.entity_code,
                )
            )
        return CustomerPage(offset=offset, rows=tuple(rows), total=total)

    def agenda(self, today: dt.date, limit: int = AGENDA_LIMIT) -> Agenda:
        """The current user's actions waiting for a human, grouped by day.

        Args:
            today: actions planned before it are shown on top of it, late.
            limit: at most this many actions, oldest first.
        """
        with self._db.session() as s:
            user_id = s.scalar(select(User.id).where(User.login == self._login))
            if user_id is None:
                return group_agenda((), today)
            found = s.execute(
                select(
                    Action.id,
                    Action.planned_date,
                    Action.action_type,
                    Action.status,
                    Action.subject,
                    Action.amount,
                    Action.currency,
                    Customer.id.label("customer_id"),
                    Customer.reference,
                    Customer.name,
                )
                .join(Customer, Customer.id == Action.customer_id)
                .where(
                    Action.assigned_to_id == user_id,
                    Action.status.in_([ActionStatus.PENDING, ActionStatus.TO_CONFIRM]),
                )
                .order_by(Action.planned_date, Action.id)
                .limit(limit + 1)
            ).all()
            truncated = len(found) > limit
            found = found[:limit]
            amounts = _customer_amounts(s, {r.customer_id for r in found}, today)
        entries = []
        for r in found:
            oldest = amounts.get(r.customer_id, (ZERO, ZERO, None))[2]
            entries.append(
                AgendaEntry(
                    action_id=str(r.id),
                    planned_date=r.planned_date,
                    action_type=r.action_type,
                    status=r.status,
                    subject=r.subject,
                    customer_id=r.customer_id,
                    customer_reference=r.reference,
                    customer_name=r.name,
                    days_late=(today - oldest).days if oldest else None,
                    amount=r.amount,
                    currency=r.currency,
                )
            )
        return group_agenda(entries, today, truncated=truncated)

    def scenarios(self) -> tuple[ScenarioInfo, ...]:
        """Every scenario with its number of steps and of customers following it."""
        steps = (
            select(Step.scenario_id, func.count(Step.id).label("n"))
            .group_by(Step.scenario_id)
            .subquery()
        )
        customers = (
            select(Customer.scenario_id, func.count(Customer.id).label("n"))
            .where(Customer.scenario_id.is_not(None))
            .group_by(Customer.scenario_id)
            .subquery()
        )
        with self._db.session() as s:
            found = s.execute(
                select(
                    Scenario,
                    func.coalesce(steps.c.n, 0),
                    func.coalesce(customers.c.n, 0),
                )
                .outerjoin(steps, steps.c.scenario_id == Scenario.id)
                .outerjoin(customers, customers.c.scenario_id == Scenario.id)
                .order_by(Scenario.priority, Scenario.name)
            ).all()
            return tuple(
                ScenarioInfo(
                    id=sc.id,
                    name=sc.name,
                    description=sc.description,
                    default_language=sc.default_language,
                    active=sc.active,
                    step_count=n_steps,
                    customer_count=n_customers,
                )
                for sc, n_steps, n_customers in found
            )

    def scenario_steps(self, scenario_id: int) -> tuple[StepInfo, ...]:
        """The steps of one scenario, by offset from the due date."""
        with self._db.session() as s:
            found = s.scalars(
                select(Step)
                .where(Step.scenario_id == scenario_id)
                .order_by(Step.offset_days)
            ).all()
            return tuple(
                StepInfo(
                    id=st.id,
                    name=st.name,
                    offset_days=st.offset_days,
                    action_type=st.action_type,
                    mode=st.mode,
                    template_code=st.template_code,
                    attach_statement=st.attach_statement,
                    attach_interest=st.attach_interest,
                )
                for st in found
            )

    def summary(self, today: dt.date) -> tuple[BookSummary, ...]:
        """The book per currency: outstanding, overdue, counts and aged balance.

        One pass over the open items; the bucket of an item is decided by
        comparing its due date with bound dates, never by date arithmetic per
        row.
        """
        # Grouping on a labelled subquery column: PostgreSQL would not match
        # the CASE's bound parameters between SELECT and GROUP BY.
        open_items = (
            select(
                Item.currency,
                _bucket_expression(today).label("bucket"),
                Item.remaining,
            )
            .where(Item.status == ItemStatus.OPEN)
            .subquery()
        )
        with self._db.session() as s:
            found = s.execute(
                select(
                    open_items.c.currency,
                    open_items.c.bucket,
                    func.sum(open_items.c.remaining),
                    func.count(),
                ).group_by(open_items.c.currency, open_items.c.bucket)
            ).all()
            customers: dict[str, int] = dict(
                s.execute(
                    select(Item.currency, func.count(func.distinct(Item.customer_id)))
                    .where(Item.status == ItemStatus.OPEN)
                    .group_by(Item.currency)
                ).all()
            )
        per_currency: dict[str, dict[int, tuple[Decimal, int]]] = {}
        for currency, index, amount, count in found:
            per_currency.setdefault(currency, {})[int(index)] = (_money(amount), count)
        summaries = []
        for currency, buckets in per_currency.items():
            aging = tuple(
                AgingLine(b, *buckets.get(i, (ZERO, 0)))
                for i, b in enumerate(AGING_BUCKETS)
            )
            summaries.append(
                BookSummary(
                    currency=currency,
                    as_of=today,
                    outstanding=sum((a.amount for a in aging), ZERO),
                    overdue=sum((a.amount for a in aging[1:]), ZERO),
                    open_items=sum(a.count for a in aging),
                    customers=customers.get(currency, 0),
                    aging=aging,
                )
            )
        summaries.sort(key=lambda x: (-x.outstanding, x.currency))
        return tuple(summaries)


def check_connection(url: str, password: str | None) -> ConnectionReport:
    """Connect to `url` and say what is there, writing nothing.

    An SQLite file that does not exist is not created; an older or empty
    database is not upgraded (that happens when the app opens it).

    Raises:
        DatabaseError: unreachable, refused, not a database, or too new; the
            message says what to do.
    """
    try:
        parsed = dburl.parse(url)
    except dburl.UrlError as exc:
        raise DatabaseError(str(exc)) from exc
    if parsed.get_backend_name() == "sqlite":
        path = parsed.database or ""
        if path and path != ":memory:" and not Path(path).exists():
            return ConnectionReport(description=f"SQLite — {path}", state="new")
    engine = make_engine(parsed, password)
    try:
        revision = check_revision(engine)
        description = Database(
            engine, sessionmaker(engine, class_=AuditedSession)
        ).description
        if revision is None:
            return ConnectionReport(description=description, state="empty")
        if revision != head_revision():
            return ConnectionReport(description=description, state="upgrade")
        with engine.connect() as conn:
            found = conn.execute(
                select(User.id, User.login, User.full_name, User.role)
                .where(User.active.is_(True))
                .order_by(User.full_name)
            ).all()
        users = tuple(UserInfo(r.id, r.login, r.full_name, r.role) for r in found)
        return ConnectionReport(description=description, state="ready", users=users)
    finally:
        engine.dispose()


def _users(s: Session) -> tuple[UserInfo, ...]:
    found = s.scalars(
        select(User).where(User.active.is_(True)).order_by(User.full_name)
    ).all()
    return tuple(_user_info(u) for u in found)


def _user_info(user: User) -> UserInfo:
    return UserInfo(
        id=user.id, login=user.login, full_name=user.full_name, role=user.role
    )


def _customer_filter(search: str) -> ColumnElement[bool]:
    term = search.strip()[:SEARCH_MAX]
    if not term:
        return Customer.id.is_not(None)
    by_invoice = select(Item.customer_id).where(Item.number == term)
    return or_(
        contains(Customer.name, term),
        Customer.reference == term,
        Customer.legal_id == term.replace(" ", ""),
        Customer.id.in_(by_invoice),
    )


def _customer_amounts(
    s: Session, customer_ids: Sequence[int] | set[int], today: dt.date
) -> dict[int, tuple[Decimal, Decimal, dt.date | None]]:
    """Outstanding, overdue and oldest unpaid due date of a few customers."""
    if not customer_ids:
        return {}
    past_due = Item.due_date < today
    found = s.execute(
        select(
            Item.customer_id,
            func.sum(Item.remaining),
            func.sum(case((past_due, Item.remaining), else_=None)),
            func.min(
                case((past_due & (Item.remaining > 0), Item.due_date), else_=None)
            ),
        )
        .where(Item.customer_id.in_(list(customer_ids)), Item.status == ItemStatus.OPEN)
        .group_by(Item.customer_id)
    ).all()
    result: dict[int, tuple[Decimal, Decimal, dt.date | None]] = {}
    for customer_id, outstanding, overdue, oldest in found:
        result[customer_id] = (_money(outstanding), _money(overdue), _as_date(oldest))
    return result


def _bucket_expression(today: dt.date) -> ColumnElement[int]:
    """The index of an item's aging bucket, from its due date."""
    whens = [
        (Item.due_date >= today - dt.timedelta(days=b.high), index)
        for index, b in enumerate(AGING_BUCKETS)
        if b.high is not None
    ]
    return case(*whens, else_=len(AGING_BUCKETS) - 1)


def _money(value: object) -> Decimal:
    if value is None:
        return ZERO
    if isinstance(value, Decimal):
        return value
    raise TypeError(f"unexpected amount {value!r}")


def _as_date(value: object) -> dt.date | None:
    if value is None or isinstance(value, dt.date):
        return value
    # SQLite may hand back an aggregate of dates as ISO text.
    return dt.date.fromisoformat(str(value))
