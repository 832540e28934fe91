"""The credit manager's dashboards (issue #8), aggregated in SQL or on columns.

Each method opens one session, runs a few set-based queries narrowed by a
`DashboardFilter`, and returns a `DashboardData` (chart series, key figures,
the table behind them). Ages are computed on numpy columns of day numbers:
SQLite's julianday() per row costs seconds on a million items. The pure
formulas (DSO, CEI, buckets) live in `o2c_desktop.engine.analytics`.

Amounts are in the filter's entity currency; a book with several currencies
counts, in each dashboard, only the main one (the currency of most items).
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    BigInteger,
    Numeric,
    String,
    case,
    cast,
    func,
    select,
    type_coerce,
)
from sqlalchemy.orm import aliased

from o2c_desktop.engine import analytics as an
from o2c_desktop.engine.analytics import (
    DashboardData,
    FilterChoices,
    Percent,
    Series,
)
from o2c_desktop.engine.cases import DEFAULT_DISPUTE_REASONS
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemKind,
    ItemStatus,
)
from o2c_desktop.i18n import N_
from o2c_desktop.models import (
    Action,
    ActionItem,
    BalanceSnapshot,
    Case,
    Customer,
    Entity,
    Item,
    Portfolio,
    SnapshotLine,
    Step,
    User,
)
from o2c_desktop.models.repo import unindexed
from o2c_desktop.models.scoring import ItemPrediction

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    import numpy as np
    import numpy.typing as npt
    import pandas as pd
    from sqlalchemy import ColumnElement
    from sqlalchemy.orm import Session

    from o2c_desktop.engine.analytics import DashboardFilter
    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

ZERO = an.ZERO
CENT = Decimal("0.01")
TOP = 20
DSO_MONTHS = 24
HISTORY_MONTHS = 36  # revenue months read for the countback of the oldest DSO
DELAY_MONTHS = 12
CASH_WEEKS_BACK = 8
CASH_WEEKS_AHEAD = 8
# The cash chart's line of the payment model's pay dates, once scored (#21).
MODEL_SERIES = N_("Expected by the payment model")
DISPUTE_AGES = (30, 60, 90)
KEYS = (
    "aging",
    "dso",
    "top",
    "revenue",
    "risk",
    "customer",
    "team",
    "disputes",
    "cash",
)


class DashboardService:
    """Aggregates behind the dashboards, for one open database."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def dashboard(self, key: str, f: DashboardFilter, today: dt.date) -> DashboardData:
        """The dashboard called `key` (one of `KEYS`).

        Raises:
            KeyError: unknown dashboard.
        """
        methods: dict[str, Callable[[DashboardFilter, dt.date], DashboardData]] = {
            "aging": self.aged_balance,
            "dso": self.dso,
            "top": self.top_customers,
            "revenue": self.revenue,
            "risk": self.risk,
            "customer": self.customer_360,
            "team": self.team,
            "disputes": self.disputes,
            "cash": self.cash,
        }
        return methods[key](f, today)

    def choices(self, today: dt.date) -> FilterChoices:
        """Entities, portfolios, collectors, snapshot dates and months to pick."""
        with self._ctx.db.session() as s:
            entities = s.execute(
                select(Entity.id, Entity.code, Entity.name).order_by(Entity.code)
            ).all()
            portfolios = s.execute(
                select(Portfolio.id, Portfolio.code, Portfolio.name).order_by(
                    Portfolio.code
                )
            ).all()
            collectors = s.execute(
                select(User.id, User.full_name)
                .where(User.active.is_(True))
                .order_by(User.full_name)
            ).all()
            dates = s.scalars(
                select(BalanceSnapshot.as_of).distinct().order_by(BalanceSnapshot.as_of)
            ).all()
        return FilterChoices(
            entities=tuple((r.id, f"{r.code} - {r.name}") for r in entities),
            portfolios=tuple((r.id, f"{r.code} - {r.name}") for r in portfolios),
            collectors=tuple((r.id, r.full_name) for r in collectors),
            snapshot_dates=tuple(reversed(dates)),
            months=tuple(reversed(an.last_months(today, DSO_MONTHS))),
        )

    # -- aged balance ---------------------------------------------------------

    def aged_balance(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Open items by age bucket, stacked by kind of ageing.

        Options: ``basis`` "due" (days past the due date, default) or "issue"
        (days since the invoice date); ``measure`` "amount" or "count".
        The bars stack debit items (invoices...) and credits separately.
        """
        import numpy as np

        basis = f.option("basis", "due")
        measure = f.option("measure", "amount")
        day = f.as_of or today
        with self._ctx.db.session() as s:
            cols, currency = self._open_columns(s, f, day, past=day < today)
        if basis == "issue":
            age = an.day_number(day) - cols["issue"]
            buckets = an.issue_bucket_of(age, f.bucket_limits)
            labels = an.issue_bucket_labels(f.bucket_limits)
        else:
            age = an.day_number(day) - cols["due"]
            buckets = an.bucket_of(age, f.bucket_limits)
            labels = an.bucket_labels(f.bucket_limits)
        cents = cols["cents"]
        debit = cents > 0
        n = len(labels)
        amount_debit = np.bincount(buckets[debit], weights=cents[debit], minlength=n)
        amount_credit = np.bincount(buckets[~debit], weights=cents[~debit], minlength=n)
        count_debit = np.bincount(buckets[debit], minlength=n)
        count_credit = np.bincount(buckets[~debit], minlength=n)
        amounts = [_money_cents(a) for a in amount_debit + amount_credit]
        counts = [int(c) for c in count_debit + count_credit]
        if measure == "count":
            series = (
                Series(
                    N_("Invoices and debits"),
                    tuple(Decimal(int(c)) for c in count_debit),
                ),
                Series(N_("Credits"), tuple(Decimal(int(c)) for c in count_credit)),
            )
            unit = "count"
        else:
            series = (
                Series(
                    N_("Invoices and debits"), tuple(map(_money_cents, amount_debit))
                ),
                Series(N_("Credits"), tuple(map(_money_cents, amount_credit))),
            )
            unit = currency
        total = sum(amounts, ZERO)
        overdue = _money_cents(cents[cols["due"] < an.day_number(day)].sum())
        rows = tuple(
            (labels[i], amounts[i], counts[i], _share(amounts[i], total))
            for i in range(n)
        )
        return DashboardData(
            key="aging",
            categories=labels,
            series=series,
            unit=unit,
            figures=(
                (N_("Outstanding"), _fmt(total, currency)),
                (N_("Overdue"), _fmt(overdue, currency)),
                (N_("Overdue share"), Percent(_share(overdue, total))),
                (N_("Open items"), sum(counts)),
            ),
            columns=(N_("Age"), N_("Amount"), N_("Items"), N_("Share %")),
            rows=(*rows, (N_("Total"), total, sum(counts), Decimal(100))),
            drill=tuple(range(n)),
            currency=currency,
            as_of=day,
        )

    # -- DSO ------------------------------------------------------------------

    def dso(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """DSO per month over 24 months, with CEI and average days delinquent.

        Receivables at each month end come from the balance snapshots of that
        month (the latest one); the current month uses the open items today.
        Option ``method``: "countback" (default) or "standard".
        """
        method = f.option("method", "countback")
        months = an.last_months(f.as_of or today, DSO_MONTHS)
        with self._ctx.db.session() as s:
            currency = self._currency(s, f)
            revenue = self._monthly_revenue(s, f, currency, HISTORY_MONTHS, today)
            balances = self._snapshot_balances(s, f, months)
            current_month = an.month_key(today)
            if current_month in months:
                # Two sums in SQL: a date comparison per row, no date arithmetic.
                dialect = _dialect(s)
                cents = _cents(Item.remaining, dialect)
                now = (
                    s.connection()
                    .execute(
                        self._item_where(
                            select(
                                func.sum(cents),
                                func.sum(case((Item.due_date < today, cents), else_=0)),
                            ),
                            f,
                            currency,
                        ).where(Item.status == ItemStatus.OPEN)
                    )
                    .one()
                )
                balances[current_month] = (
                    _money_cents(now[0] or 0),
                    _money_cents(now[1] or 0),
                )
        all_months = an.last_months(f.as_of or today, HISTORY_MONTHS)
        dsos: list[Decimal | None] = []
        ceis: list[Decimal | None] = []
        adds: list[Decimal | None] = []
        rows = []
        for key in months:
            found = balances.get(key)
            ar: Decimal | None = found[0] if found is not None else None
            overdue: Decimal | None = found[1] if found is not None else None
            position = all_months.index(key)
            back = list(reversed(all_months[: position + 1]))
            sales = [revenue.get(m, ZERO) for m in back]
            days = [an.days_in_month(m) for m in back]
            value = an.dso(method, ar, sales, days) if ar is not None else None
            best = (
                an.dso(method, ar - overdue, sales, days)
                if ar is not None and overdue is not None
                else None
            )
            add = value - best if value is not None and best is not None else None
            previous = all_months[position - 1] if position else None
            begin = balances.get(previous, (None, None))[0] if previous else None
            index = (
                an.cei(begin, revenue.get(key, ZERO), ar, ar - overdue)
                if begin is not None and ar is not None and overdue is not None
                else None
            )
            dsos.append(value)
            ceis.append(index)
            adds.append(add)
            rows.append((key, ar, revenue.get(key, ZERO), value, best, add, index))
        last = next((v for v in reversed(dsos) if v is not None), None)
        return DashboardData(
            key="dso",
            categories=months,
            series=(
                Series(N_("DSO"), tuple(dsos), kind="bar"),
                Series(N_("Average days delinquent"), tuple(adds), kind="line"),
                Series(N_("CEI %"), tuple(ceis), kind="line", axis="right"),
            ),
            unit="days",
            right_unit="%",
            figures=(
                (N_("DSO"), last),
                (
                    N_("Method"),
                    N_("countback") if method != "standard" else N_("standard"),
                ),
            ),
            columns=(
                N_("Month"),
                N_("Receivables"),
                N_("Revenue"),
                N_("DSO"),
                N_("Best possible DSO"),
                N_("Average days delinquent"),
                N_("CEI %"),
            ),
            rows=tuple(rows),
            currency=currency,
            as_of=f.as_of or today,
        )

    # -- top customers --------------------------------------------------------

    def top_customers(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """The 20 customers with the most overdue (option ``by``: "amount", "days")."""
        import numpy as np
        import pandas as pd

        by = f.option("by", "amount")
        day = f.as_of or today
        with self._ctx.db.session() as s:
            cols, currency = self._open_columns(s, f, day, past=day < today)
            frame = pd.DataFrame(
                {
                    "customer": cols["customer"],
                    "cents": cols["cents"],
                    "late": an.day_number(day) - cols["due"],
                }
            )
            overdue = frame[frame["late"] > 0]
            per = pd.DataFrame(
                {
                    "outstanding": frame.groupby("customer")["cents"].sum(),
                    "overdue": overdue.groupby("customer")["cents"].sum(),
                    "late": overdue[overdue["cents"] > 0]
                    .groupby("customer")["late"]
                    .max(),
                }
            ).fillna(0)
            per = per[per["overdue"] > 0]
            column = "overdue" if by != "days" else "late"
            per = per.sort_values(
                [column, "overdue"], ascending=False, kind="stable"
            ).head(TOP)
            ids = [int(i) for i in per.index]
            names = _customer_names(s, ids)
        rows = tuple(
            (
                names.get(cid, ("", str(cid)))[0],
                names.get(cid, ("", str(cid)))[1],
                _money_cents(per.at[cid, "outstanding"]),
                _money_cents(per.at[cid, "overdue"]),
                int(per["late"].get(cid, 0)),
            )
            for cid in ids
        )
        if by == "days":
            series = (
                Series(
                    N_("Days late"),
                    tuple(Decimal(int(v)) for v in per["late"].to_numpy(np.int64)),
                ),
            )
            unit = "days"
        else:
            series = (
                Series(
                    N_("Overdue"),
                    tuple(_money_cents(v) for v in per["overdue"].to_numpy()),
                ),
            )
            unit = currency
        return DashboardData(
            key="top",
            categories=tuple(r[1] for r in rows),
            series=series,
            unit=unit,
            columns=(
                N_("Reference"),
                N_("Customer"),
                N_("Outstanding"),
                N_("Overdue"),
                N_("Days late"),
            ),
            rows=rows,
            drill=tuple(ids),
            currency=currency,
            as_of=day,
        )

    # -- revenue --------------------------------------------------------------

    def revenue(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Revenue per month (24 months) and the average payment delay.

        The delay of a month is the average days past due, weighted by amount,
        of the invoices paid (closed) that month; computed on the last 12
        months from (close date, due date) groups.
        """
        end = _month_last_day(f.month) if f.month else today
        months = an.last_months(end, DSO_MONTHS)
        with self._ctx.db.session() as s:
            currency = self._currency(s, f)
            revenue = self._monthly_revenue(s, f, currency, DSO_MONTHS, end)
            delays = self._payment_delays(s, f, currency, months[-DELAY_MONTHS:])
        per_year: dict[str, Decimal] = {}
        for key in months:
            per_year[key[:4]] = per_year.get(key[:4], ZERO) + revenue.get(key, ZERO)
        rows = tuple((m, revenue.get(m, ZERO), delays.get(m)) for m in months)
        return DashboardData(
            key="revenue",
            categories=months,
            series=(
                Series(N_("Revenue"), tuple(revenue.get(m, ZERO) for m in months)),
                Series(
                    N_("Average payment delay (days)"),
                    tuple(delays.get(m) for m in months),
                    kind="line",
                    axis="right",
                ),
            ),
            unit=currency,
            right_unit="days",
            figures=tuple(
                (year, _fmt(amount, currency)) for year, amount in per_year.items()
            ),
            columns=(N_("Month"), N_("Revenue"), N_("Average payment delay (days)")),
            rows=rows,
            currency=currency,
            as_of=end,
        )

    # -- risk -----------------------------------------------------------------

    def risk(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Customers by risk class, or by oldest overdue bucket until scores exist."""
        import pandas as pd

        day = f.as_of or today
        with self._ctx.db.session() as s:
            cols, currency = self._open_columns(s, f, day, past=day < today)
            frame = pd.DataFrame(
                {
                    "customer": cols["customer"],
                    "cents": cols["cents"],
                    "late": an.day_number(day) - cols["due"],
                }
            )
            per = frame.groupby("customer").agg(
                cents=("cents", "sum"), late=("late", "max")
            )
            per = per[per["cents"] > 0]
            classes = dict(
                s.execute(
                    select(Customer.id, Customer.risk_class).where(
                        Customer.risk_class.is_not(None)
                    )
                ).all()
            )
        scored = bool(classes)
        if scored:
            per["class"] = [classes.get(int(c), "?") for c in per.index]
            labels = tuple(sorted({str(c) for c in per["class"]}))
            per["index"] = [labels.index(str(c)) for c in per["class"]]
        else:
            labels = an.bucket_labels(f.bucket_limits)
            per["index"] = an.bucket_of(per["late"].to_numpy(), f.bucket_limits)
        counts = per.groupby("index").size()
        amounts = per.groupby("index")["cents"].sum()
        n = len(labels)
        count_values = tuple(Decimal(int(counts.get(i, 0))) for i in range(n))
        amount_values = tuple(_money_cents(amounts.get(i, 0)) for i in range(n))
        return DashboardData(
            key="risk",
            categories=labels,
            series=(
                Series(N_("Customers"), count_values),
                Series(N_("Outstanding"), amount_values, kind="line", axis="right"),
            ),
            unit="count",
            right_unit=currency,
            figures=(
                (
                    N_("Classes"),
                    N_("risk score classes")
                    if scored
                    else N_("oldest overdue bucket (no scores yet)"),
                ),
            ),
            columns=(N_("Class"), N_("Customers"), N_("Outstanding")),
            rows=tuple(
                (labels[i], int(count_values[i]), amount_values[i]) for i in range(n)
            ),
            drill=tuple(range(n)),
            currency=currency,
            as_of=day,
        )

    # -- 360 ------------------------------------------------------------------

    def customer_360(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """One customer: amounts, revenue, DSO and its change, items by level."""
        import numpy as np

        if not f.customer_ids:
            return DashboardData(key="customer", categories=(), series=(), unit="")
        customer_id = f.customer_ids[0]
        day = f.as_of or today
        with self._ctx.db.session() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise LookupError(f"customer {customer_id} not found")
            currency = s.scalar(select(Entity.currency).where(Entity.id == c.entity_id))
            one = an.DashboardFilter(customer_ids=(customer_id,))
            cols, _cur = self._open_columns(s, one, day, currency=currency)
            revenue = self._monthly_revenue(s, one, currency or "EUR", 15, day)
            levels = s.execute(
                select(
                    func.coalesce(Step.name, ""),
                    func.sum(_cents(Item.remaining, _dialect(s))),
                    func.count(),
                )
                .select_from(Item)
                .outerjoin(Step, Step.id == Item.dunning_step_id)
                .where(Item.customer_id == customer_id, Item.status == ItemStatus.OPEN)
                .group_by(Step.name)
            ).all()
            priority = s.execute(
                select(Item.number, Item.due_date, Item.remaining)
                .where(
                    Item.customer_id == customer_id,
                    Item.status == ItemStatus.OPEN,
                    Item.kind == ItemKind.INVOICE,
                    Item.disputed.is_(False),
                )
                .order_by(Item.due_date, Item.remaining.desc())
                .limit(1)
            ).first()
            past = s.execute(
                select(BalanceSnapshot.as_of, SnapshotLine.outstanding)
                .join(SnapshotLine, SnapshotLine.snapshot_id == BalanceSnapshot.id)
                .where(
                    SnapshotLine.customer_id == customer_id,
                    BalanceSnapshot.as_of <= day - dt.timedelta(days=80),
                )
                .order_by(BalanceSnapshot.as_of.desc())
                .limit(1)
            ).first()
            info = (c.reference, c.name, c.city, c.country, c.risk_score, c.risk_class)
        money = currency or "EUR"
        cents = cols["cents"]
        kinds = cols["kind"]
        late = an.day_number(day) - cols["due"]
        outstanding = _money_cents(cents.sum())
        overdue = _money_cents(cents[(late > 0) & (cents > 0)].sum())
        unapplied = _money_cents(
            cents[
                np.isin(kinds, [ItemKind.UNAPPLIED_CASH.value, "unapplied_cash"])
            ].sum()
        )
        months = an.last_months(day, 12)
        back = list(reversed(an.last_months(day, 15)))
        sales = [revenue.get(m, ZERO) for m in back]
        days = [an.days_in_month(m) for m in back]
        dso_now = an.dso_countback(outstanding, sales, days)
        dso_before = (
            an.dso_countback(Decimal(past.outstanding), sales[3:], days[3:])
            if past is not None
            else None
        )
        change = (
            dso_now - dso_before
            if dso_now is not None and dso_before is not None
            else None
        )
        buckets = an.bucket_of(late, f.bucket_limits)
        labels = an.bucket_labels(f.bucket_limits)
        by_bucket = np.bincount(buckets, weights=cents, minlength=len(labels))
        year_revenue = sum((revenue.get(m, ZERO) for m in months), ZERO)
        figures = (
            (N_("Customer"), f"{info[0]} - {info[1]}"),
            (N_("Location"), " ".join(p for p in (info[2], info[3]) if p)),
            (N_("Outstanding"), _fmt(outstanding, money)),
            (N_("Overdue"), _fmt(overdue, money)),
            (N_("Revenue, 12 months"), _fmt(year_revenue, money)),
            (N_("Unapplied credit"), _fmt(unapplied, money)),
            (N_("DSO"), dso_now),
            (
                N_("DSO change, 3 months"),
                change,
            ),
            (
                N_("Score"),
                Decimal(str(info[4])).quantize(Decimal("0.1"))
                if info[4] is not None
                else None,
            ),
            (N_("Class"), info[5] or None),
            (N_("Priority invoice"), priority.number if priority else None),
            (N_("Its due date"), priority.due_date if priority else None),
        )
        rows = tuple(
            (name or N_("Not dunned yet"), _money_cents(amount), count)
            for name, amount, count in levels
        )
        return DashboardData(
            key="customer",
            categories=labels,
            series=(
                Series(N_("Remaining due"), tuple(_money_cents(v) for v in by_bucket)),
            ),
            unit=money,
            figures=figures,
            columns=(N_("Dunning level"), N_("Outstanding"), N_("Items")),
            rows=rows,
            drill=tuple(range(len(labels))),
            currency=money,
            as_of=day,
        )

    # -- team -----------------------------------------------------------------

    def team(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Actions done per collector in the month, promises made and kept.

        Option ``period``: "week" (default) or "day" for the table's rows.
        "Collected after an action": remaining amounts of the action's items
        that were closed on or after the action's date.
        """
        first, last = _month_bounds(f.month or an.month_key(today))
        last = min(last, f.as_of or today) if not f.month else last
        period = f.option("period", "week")
        performer = aliased(User)
        with self._ctx.db.session() as s:
            who = func.coalesce(Action.performed_by_id, Action.assigned_to_id)
            query = (
                select(
                    who.label("user_id"),
                    Action.planned_date,
                    Action.action_type,
                    Action.automatic,
                    func.count(),
                )
                .join(Customer, Customer.id == Action.customer_id)
                .where(
                    Action.status == ActionStatus.DONE,
                    Action.planned_date >= first,
                    Action.planned_date <= last,
                )
                .group_by(
                    who, Action.planned_date, Action.action_type, Action.automatic
                )
            )
            done = s.connection().execute(self._customer_where(query, f)).all()
            collected = (
                s.connection()
                .execute(
                    self._customer_where(
                        select(
                            who.label("user_id"),
                            func.sum(_cents(ActionItem.amount, _dialect(s))),
                        )
                        .select_from(Action)
                        .join(ActionItem, ActionItem.action_id == Action.id)
                        .join(Item, Item.id == ActionItem.item_id)
                        .join(Customer, Customer.id == Action.customer_id)
                        .where(
                            Action.status == ActionStatus.DONE,
                            Action.planned_date >= first,
                            Action.planned_date <= last,
                            Item.status == ItemStatus.CLOSED,
                            Item.closed_on >= Action.planned_date,
                        )
                        .group_by(who),
                        f,
                    )
                )
                .all()
            )
            promises = (
                s.connection()
                .execute(
                    self._customer_where(
                        select(Case.owner_id, Case.status, func.count())
                        .join(Customer, Customer.id == Case.customer_id)
                        .where(
                            Case.kind == CaseKind.PROMISE,
                            Case.opened_on >= first,
                            Case.opened_on <= last,
                        )
                        .group_by(Case.owner_id, Case.status),
                        f,
                    )
                )
                .all()
            )
            names = dict(s.execute(select(performer.id, performer.full_name)).all())
        users = sorted(
            {r.user_id for r in done} | {r[0] for r in promises if r[0]},
            key=lambda u: names.get(u, "") if u else "~",
        )
        labels = tuple(names.get(u, N_("Nobody")) if u else N_("Nobody") for u in users)
        index = {u: i for i, u in enumerate(users)}
        automatic = [0] * len(users)
        manual = [0] * len(users)
        table: dict[tuple[int, dt.date | str, ActionType], list[int]] = {}
        for r in done:
            i = index[r.user_id]
            n = int(r[4])
            if r.automatic:
                automatic[i] += n
            else:
                manual[i] += n
            when: dt.date | str = (
                r.planned_date if period == "day" else _week_label(r.planned_date)
            )
            # The type itself, not its code: each screen shows its own label.
            kind = ActionType(r.action_type)
            cell = table.setdefault((i, when, kind), [0, 0])
            cell[0 if r.automatic else 1] += n
        made = [0] * len(users)
        kept = [0] * len(users)
        for owner, status, n in promises:
            if owner in index:
                made[index[owner]] += int(n)
                if status == CaseStatus.KEPT:
                    kept[index[owner]] += int(n)
        cash = [ZERO] * len(users)
        for user_id, cents in collected:
            if user_id in index:
                cash[index[user_id]] = _money_cents(cents or 0)
        rows = tuple(
            (labels[i], when, kind, a, m)
            for (i, when, kind), (a, m) in sorted(table.items())
        )
        total = sum(automatic) + sum(manual)
        currency = "EUR"
        return DashboardData(
            key="team",
            categories=labels,
            series=(
                Series(N_("Automatic"), tuple(Decimal(v) for v in automatic)),
                Series(N_("Manual"), tuple(Decimal(v) for v in manual)),
                Series(
                    N_("Promises made"),
                    tuple(Decimal(v) for v in made),
                    kind="line",
                    axis="right",
                ),
                Series(
                    N_("Promises kept"),
                    tuple(Decimal(v) for v in kept),
                    kind="line",
                    axis="right",
                ),
            ),
            unit="count",
            right_unit="count",
            figures=(
                (N_("Actions done"), total),
                (
                    N_("Automatic share"),
                    Percent(_share(Decimal(sum(automatic)), Decimal(total))),
                ),
                (N_("Collected after an action"), _fmt(sum(cash, ZERO), currency)),
                (
                    N_("Promises kept"),
                    f"{sum(kept)} / {sum(made)}",
                ),
            ),
            columns=(
                N_("Collector"),
                N_("Day") if period == "day" else N_("Week"),
                N_("Action type"),
                N_("Automatic"),
                N_("Manual"),
            ),
            rows=rows,
            drill=tuple(users),
            currency=currency,
            as_of=last,
        )

    # -- disputes -------------------------------------------------------------

    def disputes(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Open disputes by reason, owner and age; average time to resolution."""
        day = f.as_of or today
        owner = aliased(User)
        with self._ctx.db.session() as s:
            open_rows = s.execute(
                self._customer_where(
                    select(
                        Case.reason,
                        owner.full_name,
                        Case.opened_on,
                        Case.amount,
                    )
                    .join(Customer, Customer.id == Case.customer_id)
                    .outerjoin(owner, owner.id == Case.owner_id)
                    .where(
                        Case.kind == CaseKind.DISPUTE, Case.status == CaseStatus.OPEN
                    ),
                    f,
                )
            ).all()
            closed_rows = s.execute(
                self._customer_where(
                    select(Case.opened_on, Case.closed_on)
                    .join(Customer, Customer.id == Case.customer_id)
                    .where(
                        Case.kind == CaseKind.DISPUTE,
                        Case.status != CaseStatus.OPEN,
                        Case.closed_on.is_not(None),
                    ),
                    f,
                )
            ).all()
            currency = self._currency(s, f)
        reasons = sorted({r.reason or "" for r in open_rows})
        labels = tuple(reasons)
        count = dict.fromkeys(reasons, 0)
        amount = dict.fromkeys(reasons, ZERO)
        table: dict[tuple[str, str, str], list[Any]] = {}
        age_labels = _age_labels(DISPUTE_AGES)
        names = {r.code: r.label for r in DEFAULT_DISPUTE_REASONS}
        for r in open_rows:
            key = r.reason or ""
            count[key] += 1
            value = Decimal(r.amount or 0)
            amount[key] += value
            age = (day - r.opened_on).days
            band = age_labels[sum(1 for a in DISPUTE_AGES if age > a)]
            cell = table.setdefault(
                (names.get(key, key), r.full_name or "", band), [0, ZERO]
            )
            cell[0] += 1
            cell[1] += value
        durations = [(c - o).days for o, c in closed_rows]
        average = (
            (Decimal(sum(durations)) / len(durations)).quantize(Decimal("0.1"))
            if durations
            else None
        )
        return DashboardData(
            key="disputes",
            categories=tuple(names.get(code, code) for code in labels),
            series=(
                Series(N_("Open disputes"), tuple(Decimal(count[k]) for k in reasons)),
                Series(
                    N_("Disputed amount"),
                    tuple(amount[k] for k in reasons),
                    kind="line",
                    axis="right",
                ),
            ),
            unit="count",
            right_unit=currency,
            figures=(
                (N_("Open disputes"), len(open_rows)),
                (N_("Disputed amount"), _fmt(sum(amount.values(), ZERO), currency)),
                (
                    N_("Average time to resolution"),
                    average,
                ),
                (N_("Resolved disputes"), len(durations)),
            ),
            columns=(
                N_("Reason"),
                N_("Owner"),
                N_("Age"),
                N_("Disputes"),
                N_("Amount"),
            ),
            rows=tuple((*k, v[0], v[1]) for k, v in sorted(table.items())),
            drill=tuple(labels),
            currency=currency,
            as_of=day,
        )

    # -- cash -----------------------------------------------------------------

    def cash(self, f: DashboardFilter, today: dt.date) -> DashboardData:
        """Collections per week against what due dates and promises expected.

        Weeks start on Monday: 8 weeks back and 8 ahead of the position date.
        Collected = invoices closed that week (their amount); expected = items
        due that week (amount if closed since, remaining if open) plus promises
        falling due that week.
        """
        day = f.as_of or today
        monday = day - dt.timedelta(days=day.weekday())
        start = monday - dt.timedelta(weeks=CASH_WEEKS_BACK)
        end = monday + dt.timedelta(weeks=CASH_WEEKS_AHEAD, days=-1)
        with self._ctx.db.session() as s:
            currency = self._currency(s, f)
            dialect = _dialect(s)
            base = self._item_where(select().select_from(Item), f, currency).where(
                Item.kind == ItemKind.INVOICE
            )
            collected = (
                s.connection()
                .execute(
                    base.add_columns(
                        Item.closed_on, func.sum(_cents(Item.amount, dialect))
                    )
                    .where(
                        Item.status == ItemStatus.CLOSED,
                        Item.closed_on >= start,
                        Item.closed_on <= min(day, end),
                    )
                    .group_by(Item.closed_on)
                )
                .all()
            )
            due = (
                s.connection()
                .execute(
                    base.add_columns(
                        Item.due_date,
                        Item.status,
                        func.sum(_cents(Item.amount, dialect)),
                        func.sum(_cents(Item.remaining, dialect)),
                    )
                    .where(
                        Item.status.in_([ItemStatus.OPEN, ItemStatus.CLOSED]),
                        Item.due_date >= start,
                        Item.due_date <= end,
                    )
                    .group_by(Item.due_date, Item.status)
                )
                .all()
            )
            promised = s.execute(
                self._customer_where(
                    select(Case.promised_date, func.sum(Case.amount))
                    .join(Customer, Customer.id == Case.customer_id)
                    .where(
                        Case.kind == CaseKind.PROMISE,
                        Case.promised_date >= start,
                        Case.promised_date <= end,
                        Case.status.in_([CaseStatus.OPEN, CaseStatus.KEPT]),
                    )
                    .group_by(Case.promised_date),
                    f,
                )
            ).all()
            by_model = self._model_forecast(s, base, dialect, day, start, end)
        weeks = CASH_WEEKS_BACK + CASH_WEEKS_AHEAD
        got = [ZERO] * weeks
        expected_due = [ZERO] * weeks
        expected_promises = [ZERO] * weeks

        def week(d: dt.date) -> int:
            return (d - start).days // 7

        for d, cents in collected:
            got[week(d)] += _money_cents(cents or 0)
        for d, status, amount_cents, remaining_cents in due:
            value = amount_cents if status == ItemStatus.CLOSED else remaining_cents
            expected_due[week(d)] += _money_cents(value or 0)
        for d, amount in promised:
            expected_promises[week(d)] += Decimal(amount or 0).quantize(CENT)
        labels = tuple(_week_label(start + dt.timedelta(weeks=i)) for i in range(weeks))
        current = week(day)
        collected_series = tuple(got[i] if i <= current else None for i in range(weeks))
        rows: tuple[tuple[Any, ...], ...] = tuple(
            (
                labels[i],
                start + dt.timedelta(weeks=i),
                collected_series[i],
                expected_due[i],
                expected_promises[i],
            )
            for i in range(weeks)
        )
        series: tuple[Series, ...] = (
            Series(N_("Expected from due dates"), tuple(expected_due)),
            Series(N_("Expected from promises"), tuple(expected_promises)),
            Series(N_("Collected"), collected_series, kind="line"),
        )
        columns: tuple[str, ...] = (
            N_("Week"),
            N_("From"),
            N_("Collected"),
            N_("Expected from due dates"),
            N_("Expected from promises"),
        )
        figures: tuple[tuple[str, Decimal], ...] = ()
        if by_model:  # only once `o2c score apply` has predicted pay dates
            model = [ZERO] * weeks
            for d, cents in by_model:
                model[week(d)] += _money_cents(cents or 0)
            model_series = tuple(
                model[i] if i > current else None for i in range(weeks)
            )
            series += (Series(MODEL_SERIES, model_series, kind="line"),)
            columns += (MODEL_SERIES,)
            rows = tuple((*r, model_series[i]) for i, r in enumerate(rows))
            figures = (
                (
                    N_("Expected by the payment model, next 8 weeks"),
                    _fmt(sum(model[current + 1 :], ZERO), currency),
                ),
            )
        return DashboardData(
            key="cash",
            categories=labels,
            series=series,
            unit=currency,
            figures=(
                (
                    N_("Collected, 8 weeks"),
                    _fmt(sum(got[: current + 1], ZERO), currency),
                ),
                (
                    N_("Expected, next 8 weeks"),
                    _fmt(
                        sum(expected_due[current + 1 :], ZERO)
                        + sum(expected_promises[current + 1 :], ZERO),
                        currency,
                    ),
                ),
                *figures,
            ),
            columns=columns,
            rows=rows,
            drill=tuple(start + dt.timedelta(weeks=i) for i in range(weeks)),
            currency=currency,
            as_of=day,
        )

    def _model_forecast(
        self,
        s: Session,
        base: Any,
        dialect: str,
        day: dt.date,
        start: dt.date,
        end: dt.date,
    ) -> list[Any]:
        """Open invoices' remaining by predicted pay date (#21); [] before any."""
        return list(
            s.connection().execute(
                base.add_columns(
                    ItemPrediction.pay_date, func.sum(_cents(Item.remaining, dialect))
                )
                .join(ItemPrediction, ItemPrediction.item_id == Item.id)
                .where(
                    Item.status == ItemStatus.OPEN,
                    ItemPrediction.pay_date > day,
                    ItemPrediction.pay_date >= start,
                    ItemPrediction.pay_date <= end,
                )
                .group_by(ItemPrediction.pay_date)
            )
        )  # fmt: skip

    # -- drill-down -----------------------------------------------------------

    def drill(
        self, key: str, f: DashboardFilter, today: dt.date, category: int
    ) -> DashboardData:
        """The customers or items behind one bar of dashboard `key`.

        Args:
            key: the dashboard.
            f: its filter.
            today: the day.
            category: the bar's index along the x axis.

        Returns:
            A table (no chart) of open items, at most 500 rows, largest first.
        """
        import numpy as np

        source = self.dashboard(key, f, today)
        if not 0 <= category < len(source.drill):
            return DashboardData(key="drill", categories=(), series=(), unit="")
        target = source.drill[category]
        day = f.as_of or today
        narrowed = f
        if key in ("top", "customer"):
            narrowed = an.DashboardFilter(customer_ids=(int(target),), as_of=f.as_of)
        with self._ctx.db.session() as s:
            cols, currency = self._open_columns(
                s, narrowed, day, with_ids=True, past=day < today
            )
            late = an.day_number(day) - cols["due"]
            keep = np.ones(len(late), dtype=bool)
            if key in ("aging", "customer", "risk"):
                if key == "aging" and f.option("basis", "due") == "issue":
                    age = an.day_number(day) - cols["issue"]
                    buckets = an.issue_bucket_of(age, f.bucket_limits)
                else:
                    buckets = an.bucket_of(late, f.bucket_limits)
                if key == "risk":
                    keep = self._risk_members(cols, late, f, int(target))
                else:
                    keep = buckets == int(target)
            elif key == "cash":
                first = an.day_number(target)
                keep = (cols["due"] >= first) & (cols["due"] < first + 7)
            ids = cols["id"][keep]
            order = np.argsort(-cols["cents"][keep], kind="stable")[:500]
            chosen = [int(i) for i in ids[order]]
            rows = s.execute(
                select(
                    Customer.reference,
                    Customer.name,
                    Item.number,
                    Item.kind,
                    Item.issue_date,
                    Item.due_date,
                    Item.remaining,
                )
                .join(Customer, Customer.id == Item.customer_id)
                .where(Item.id.in_(chosen))
            ).all()
        by_number = sorted(rows, key=lambda r: -r.remaining)
        return DashboardData(
            key="drill",
            categories=(),
            series=(),
            unit=currency,
            columns=(
                N_("Reference"),
                N_("Customer"),
                N_("Item"),
                N_("Kind"),
                N_("Invoice date"),
                N_("Due date"),
                N_("Remaining due"),
                N_("Days late"),
            ),
            rows=tuple(
                (
                    r.reference,
                    r.name,
                    r.number,
                    str(r.kind),
                    r.issue_date,
                    r.due_date,
                    Decimal(r.remaining),
                    max((day - r.due_date).days, 0),
                )
                for r in by_number
            ),
            currency=currency,
            as_of=day,
        )

    # -- helpers --------------------------------------------------------------

    def _risk_members(
        self, cols: dict[str, Any], late: Any, f: DashboardFilter, target: int
    ) -> Any:
        import numpy as np
        import pandas as pd

        frame = pd.DataFrame({"customer": cols["customer"], "late": late})
        oldest = frame.groupby("customer")["late"].max()
        members = oldest.index[
            an.bucket_of(oldest.to_numpy(), f.bucket_limits) == target
        ]
        return np.isin(cols["customer"], members.to_numpy())

    def _currency(self, s: Session, f: DashboardFilter) -> str:
        if f.entity_id is not None:
            found = s.scalar(select(Entity.currency).where(Entity.id == f.entity_id))
            if found:
                return str(found)
        currencies = s.scalars(select(Entity.currency).distinct()).all()
        if len(currencies) == 1:
            return str(currencies[0])
        main = s.execute(
            select(Entity.currency, func.count(Customer.id))
            .join(Customer, Customer.entity_id == Entity.id)
            .group_by(Entity.currency)
            .order_by(func.count(Customer.id).desc())
        ).first()
        return str(main[0]) if main else "EUR"

    def _customer_where(self, query: Any, f: DashboardFilter) -> Any:
        """Narrow a query that joins Customer by the filter's customer fields."""
        if f.entity_id is not None:
            query = query.where(Customer.entity_id == f.entity_id)
        if f.portfolio_id is not None:
            query = query.where(Customer.portfolio_id == f.portfolio_id)
        if f.collector_id is not None:
            query = query.where(Customer.collector_id == f.collector_id)
        if f.customer_ids:
            query = query.where(Customer.id.in_(f.customer_ids))
        return query

    def _item_where(self, query: Any, f: DashboardFilter, currency: str | None) -> Any:
        """Narrow an item query by the filter, without joining Customer for all."""
        if currency is not None:
            query = query.where(Item.currency == currency)
        if f.entity_id is not None:
            # "+ 0": an entity holds most of the book, so its index (the unique
            # one, entity first) is never worth it; see `models.repo.unindexed`.
            query = query.where(Item.entity_id + 0 == f.entity_id)
        if f.customer_ids:
            query = query.where(Item.customer_id.in_(f.customer_ids))
        if f.portfolio_id is not None or f.collector_id is not None:
            chosen = select(Customer.id)
            if f.portfolio_id is not None:
                chosen = chosen.where(Customer.portfolio_id == f.portfolio_id)
            if f.collector_id is not None:
                chosen = chosen.where(Customer.collector_id == f.collector_id)
            query = query.where(Item.customer_id.in_(chosen))
        return query

    def _open_columns(
        self,
        s: Session,
        f: DashboardFilter,
        day: dt.date,
        *,
        currency: str | None = None,
        with_ids: bool = False,
        past: bool = False,
    ) -> tuple[dict[str, Any], str]:
        """Open items (as they stood on `day`) as numpy columns.

        Columns: customer, cents (remaining), due and issue (day numbers),
        kind, and id when asked. With `past` (a position before today), items
        closed after `day` count for their full amount (their remaining on
        that day is not stored) and items issued after it are left out.
        """
        import numpy as np

        dialect = _dialect(s)
        money = currency or self._currency(s, f)
        fields: list[Any] = [
            Item.customer_id,
            _cents(Item.remaining, dialect),
            _raw_date(Item.due_date, dialect),
            _raw_date(Item.issue_date, dialect),
            type_coerce(Item.kind, String),
        ]
        if with_ids:
            fields.append(Item.id)
        query = self._item_where(select(*fields), f, money).where(
            Item.status == ItemStatus.OPEN, Item.remaining != 0
        )
        rows = _rows(s, query)
        closed: list[Any] = []
        if past:
            # A past position: add back what was still open on that day.
            fields[1] = _cents(Item.amount, dialect)
            closed = _rows(
                s,
                self._item_where(select(*fields), f, money).where(
                    Item.status == ItemStatus.CLOSED,
                    Item.closed_on > day,
                    Item.issue_date <= day,
                ),
            )
            rows = [r for r in rows if _as_date(r[3]) <= day] + list(closed)
        cols = list(zip(*rows, strict=True)) if rows else [()] * len(fields)
        out: dict[str, Any] = {
            "customer": np.asarray(cols[0], dtype=np.int64),
            "cents": np.asarray(cols[1], dtype=np.int64),
            "due": _day_numbers(cols[2]),
            "issue": _day_numbers(cols[3]),
            "kind": np.asarray([str(k) for k in cols[4]], dtype=object),
        }
        if with_ids:
            out["id"] = np.asarray(cols[5], dtype=np.int64)
        return out, money

    def _monthly_revenue(
        self, s: Session, f: DashboardFilter, currency: str, months: int, end: dt.date
    ) -> dict[str, Decimal]:
        """Invoiced amounts per month ("2026-03" -> amount), `months` to `end`."""
        keys = an.last_months(end, months)
        first = dt.date.fromisoformat(f"{keys[0]}-01")
        dialect = _dialect(s)
        month = _month_expr(Item.issue_date, dialect)
        found = (
            s.connection()
            .execute(
                self._item_where(
                    select(month.label("m"), func.sum(_cents(Item.amount, dialect))),
                    f,
                    currency,
                )
                .where(
                    unindexed(Item.kind, dialect) == ItemKind.INVOICE.value,
                    Item.issue_date >= first,
                    Item.issue_date <= an.month_end(end),
                )
                .group_by(month)
            )
            .all()
        )
        return {str(m): _money_cents(v or 0) for m, v in found}

    def _payment_delays(
        self, s: Session, f: DashboardFilter, currency: str, months: Sequence[str]
    ) -> dict[str, Decimal]:
        """Average days past due, weighted by amount, of invoices paid each month."""
        import numpy as np

        if not months:
            return {}
        first = dt.date.fromisoformat(f"{months[0]}-01")
        last = an.month_end(dt.date.fromisoformat(f"{months[-1]}-01"))
        dialect = _dialect(s)
        found = (
            s.connection()
            .execute(
                self._item_where(
                    select(
                        _raw_date(Item.closed_on, dialect),
                        _raw_date(Item.due_date, dialect),
                        func.sum(_cents(Item.amount, dialect)),
                    ),
                    f,
                    currency,
                )
                .where(
                    unindexed(Item.kind, dialect) == ItemKind.INVOICE.value,
                    unindexed(Item.status, dialect) == ItemStatus.CLOSED.value,
                    Item.closed_on >= first,
                    Item.closed_on <= last,
                )
                .group_by(Item.closed_on, Item.due_date)
            )
            .all()
        )
        if not found:
            return {}
        cols = list(zip(*found, strict=True))
        closed = _day_numbers(cols[0])
        due = _day_numbers(cols[1])
        weight = np.asarray(cols[2], dtype=np.float64)
        late = np.maximum(closed - due, 0).astype(np.float64)
        month = np.asarray(
            [an.month_key(an.from_day_number(int(d))) for d in closed], dtype=object
        )
        out: dict[str, Decimal] = {}
        for key in months:
            mask = month == key
            total = weight[mask].sum()
            if total > 0:
                value = float((late[mask] * weight[mask]).sum() / total)
                out[key] = Decimal(str(round(value, 1)))
        return out

    def _snapshot_balances(
        self, s: Session, f: DashboardFilter, months: Sequence[str]
    ) -> dict[str, tuple[Decimal, Decimal]]:
        """Outstanding and overdue at each month end, from the last snapshot of it."""
        first = dt.date.fromisoformat(f"{months[0]}-01")
        by_customer = f.portfolio_id or f.collector_id or f.customer_ids
        dialect = _dialect(s)
        if by_customer:
            query = (
                select(
                    BalanceSnapshot.as_of,
                    func.sum(_cents(SnapshotLine.outstanding, dialect)),
                    func.sum(_cents(SnapshotLine.overdue, dialect)),
                )
                .join(SnapshotLine, SnapshotLine.snapshot_id == BalanceSnapshot.id)
                .join(Customer, Customer.id == SnapshotLine.customer_id)
                .where(BalanceSnapshot.as_of >= first)
                .group_by(BalanceSnapshot.as_of)
            )
            query = self._customer_where(query, f)
        else:
            query = (
                select(
                    BalanceSnapshot.as_of,
                    func.sum(_cents(BalanceSnapshot.outstanding, dialect)),
                    func.sum(_cents(BalanceSnapshot.overdue, dialect)),
                )
                .where(BalanceSnapshot.as_of >= first)
                .group_by(BalanceSnapshot.as_of)
            )
            if f.entity_id is not None:
                query = query.where(BalanceSnapshot.entity_id == f.entity_id)
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for as_of, outstanding, overdue in sorted(s.execute(query).all()):
            out[an.month_key(as_of)] = (
                _money_cents(outstanding or 0),
                _money_cents(overdue or 0),
            )
        return out


def _rows(s: Session, query: Any) -> list[Any]:
    """Run a column query in Core: no ORM bookkeeping per row (a million rows)."""
    return list(s.connection().execute(query).all())


def _dialect(s: Session) -> str:
    return s.get_bind().dialect.name


def _cents(col: Any, dialect: str) -> ColumnElement[int]:
    """A Money column as integer cents (SQLite stores cents already)."""
    if dialect == "sqlite":
        return type_coerce(col, BigInteger)
    return cast(type_coerce(col, Numeric(18, 2)) * 100, BigInteger)


def _raw_date(col: Any, dialect: str) -> Any:
    """A date column as SQLite stores it (ISO text): no date object per row."""
    return type_coerce(col, String) if dialect == "sqlite" else col


def _month_expr(col: Any, dialect: str) -> ColumnElement[str]:
    if dialect == "sqlite":
        return func.substr(col, 1, 7)
    return func.to_char(col, "YYYY-MM")


def _day_numbers(values: Sequence[Any]) -> npt.NDArray[np.int64]:
    """ISO strings or dates as day numbers since 1970-01-01 (one numpy pass)."""
    import numpy as np

    if not values:
        return np.zeros(0, dtype=np.int64)
    arr = np.asarray(
        [v.isoformat() if isinstance(v, dt.date) else v for v in values]
        if not isinstance(values[0], str)
        else values,
        dtype="datetime64[D]",
    )
    out: npt.NDArray[np.int64] = arr.astype(np.int64)
    return out


def _as_date(value: Any) -> dt.date:
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(value)


def _money_cents(cents: Any) -> Decimal:
    return (Decimal(round(float(cents))) / 100).quantize(CENT)


def _share(part: Decimal, total: Decimal) -> Decimal:
    if total == 0:
        return Decimal("0.0")
    return (part / total * 100).quantize(Decimal("0.1"))


def _fmt(amount: Decimal, currency: str) -> Decimal:
    """Money for a key figure: the UI formats it in the user's locale."""
    return amount.quantize(CENT)


def _week_label(day: dt.date) -> str:
    year, week, _d = day.isocalendar()
    return f"{year}-W{week:02d}"


def _month_bounds(key: str) -> tuple[dt.date, dt.date]:
    first = dt.date.fromisoformat(f"{key}-01")
    return first, an.month_end(first)


def _month_last_day(key: str) -> dt.date:
    return _month_bounds(key)[1]


def _age_labels(limits: Sequence[int]) -> tuple[str, ...]:
    labels = [f"0\u2013{limits[0]}"]
    labels += [f"{a + 1}\u2013{b}" for a, b in itertools.pairwise(limits)]
    labels.append(f"> {limits[-1]}")
    return tuple(labels)


def _customer_names(s: Session, ids: Sequence[int]) -> dict[int, tuple[str, str]]:
    if not ids:
        return {}
    found = s.execute(
        select(Customer.id, Customer.reference, Customer.name).where(
            Customer.id.in_(ids)
        )
    ).all()
    return {r.id: (r.reference, r.name) for r in found}


def frame_of(data: DashboardData) -> pd.DataFrame:
    """The table of a dashboard as a DataFrame (tests and exports)."""
    import pandas as pd

    return pd.DataFrame(list(data.rows), columns=list(data.columns))
