"""The dunning engine: which step each open item reaches today, grouped per customer.

Pure and clock-free: `today` is a parameter, no database, no network. It works
on columns (numpy/pandas) so a book of a million items is decided in about a
second; the service loads the columns and writes the decisions.

Vocabulary (see GLOSSARY.md): a *scenario* is an ordered list of *steps*; a step
has an offset in days from the due date. On `today` an item *reaches* a step
when ``due_date + offset`` (moved to the next working day when the scenario
counts business days) is on or before `today`. The rules of issue 4:

1. Thresholds are inclusive.
2. One action per customer (and currency), at the highest step any of its
   items reaches today; each item keeps its own step and days late.
3. A step is never repeated for an item (`last_step_id`); `check_run_date`
   refuses a run dated before the last one.
4. Catch-up `ONE_STEP` (default) advances an item one step per run, starting
   at the due-date step while it is the step reached, else at the first step
   after the due date (an expired statement is not sent late); `JUMP` goes to
   today's step, but never to a legal step (registered letter, litigation) by
   itself: it stops at the last automatic step before it, and the legal step
   comes next, as a manual action. Items of a pending action (manual or
   waiting for confirmation) are held.
5. A pre-due step never goes to an item already past due, and is skipped
   once its window has passed; an item not yet due never rides along in a
   reminder of overdue items (it is only on the attached statement).
6. Disputed items, items in litigation, items on hold, customers on hold
   and customers without a scenario produce nothing and count in no amount.
   A partly disputed item (``disputed_cents`` below its remaining) stays
   dunned for the undisputed part, which is all it claims.
7. Items suspended by a promise (``suspended_until``, grace included) wait.
8. Partial payments keep the step; an item whose remainder is under the
   tolerance is not chased; credits (credit notes, unapplied cash) are netted
   and a customer whose net due is under the tolerance gets nothing. The
   amount an action claims is the sum of the items it lists, less the credits.
9. Paid items are simply absent from the input; a reopened item (reversed
   payment) comes back with its `last_step_id` and resumes from there.
10. Once an item of a customer has had the last step, the customer's case is
    final: new actions for it are manual.
11. Actions go to the customer's collector, or to the replacement while the
    collector is absent; minimum gap in days between two reminders. With
    business days, nothing is planned on a non-working day of the customer's
    entity's country: it waits for the next working day.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from o2c_desktop.engine.calendar import last_business_day
from o2c_desktop.engine.types import ActionType, CatchUp, Channel, StepMode

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    import numpy as np
    import numpy.typing as npt
    import pandas as pd

    IntArray = npt.NDArray[np.int64]
    BoolArray = npt.NDArray[np.bool_]

log = logging.getLogger(__name__)

# Day numbers (days since 1970-01-01) use NaT's integer value for "no date".
# Date columns may hold datetime64 values or such day numbers (int64).
NO_DAY = -(2**63)
_FAR = 2**40  # beyond any offset

ITEM_COLUMNS = (
    "item_id",  # int64
    "customer_id",  # int64
    "currency",  # str
    "due_date",  # datetime64
    "remaining_cents",  # int64, negative for credits
    "disputed",  # bool
    "in_litigation",  # bool
    "suspended_until",  # datetime64, NaT when not suspended (grace included)
    "last_step_id",  # int64, 0 when no step was done yet
)
# Optional item columns: a missing one means "none on any item".
OPTIONAL_ITEM_COLUMNS = (
    "disputed_cents",  # int64, part of the remaining under dispute; 0 = whole item
    "hold_until",  # datetime64 or day number, the item's own hold (inclusive)
)
CUSTOMER_COLUMNS = (
    "customer_id",  # int64
    "scenario_id",  # int64, 0 when the customer names none
    "on_hold",  # bool
    "hold_until",  # datetime64, NaT = until lifted
    "collector_id",  # int64, 0 when none
    "country",  # str, the entity's country for business days
)
# Optional customer columns, used by scenario scope rules.
SCOPE_COLUMNS = (
    "entity_id",
    "portfolio_id",
    "category",
    "risk_class",
    "outstanding_cents",
)
USER_COLUMNS = ("user_id", "absent_from", "absent_until", "replacement_id")

_SENDING_TYPES = frozenset(
    {ActionType.EMAIL, ActionType.LETTER, ActionType.REGISTERED_LETTER, ActionType.SMS}
)
# Steps with legal weight: catching up never jumps to one by itself.
_LEGAL_TYPES = frozenset({ActionType.REGISTERED_LETTER, ActionType.LITIGATION_HANDOVER})


FINAL_REASON = "case final: the last step was done, act by hand"


class RunDateError(ValueError):
    """A run dated before the last run: dunning never goes back in time."""


@dataclass(frozen=True)
class DunningStep:
    """One step of a scenario."""

    id: int
    name: str
    offset_days: int
    action_type: ActionType
    mode: StepMode = StepMode.AUTOMATIC
    template_code: str | None = None
    attach_statement: bool = False
    attach_interest: bool = False
    contact_role: str | None = None


@dataclass(frozen=True)
class DunningScenario:
    """An ordered list of steps and the settings that apply to all of them.

    `scope` picks the customers that name no scenario themselves; its keys are
    all optional and all must match: ``entity_ids``, ``portfolio_ids``,
    ``categories``, ``risk_classes`` (lists) and ``min_outstanding`` (an amount
    as text). An empty scope applies to the customers who name the scenario only.
    Lower `priority` wins when several scopes match. An inactive scenario
    applies to nobody but still maps its steps' offsets, so customers moved
    off it continue from their current step.
    """

    id: int
    name: str
    steps: tuple[DunningStep, ...]
    min_gap_days: int = 7
    tolerance: Decimal = Decimal("5.00")
    tolerances: Mapping[str, Decimal] = field(default_factory=dict)  # per currency
    catch_up: CatchUp = CatchUp.ONE_STEP
    business_days: bool = True
    scope: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 100
    active: bool = True

    def __post_init__(self) -> None:
        offsets = [s.offset_days for s in self.steps]
        if offsets != sorted(set(offsets)):
            raise ValueError(f"steps of {self.name!r} must have increasing offsets")

    def tolerance_cents(self, currency: str) -> int:
        """The minimum amount worth chasing in `currency`, in cents."""
        return to_cents(self.tolerances.get(currency, self.tolerance))


@dataclass(frozen=True)
class Book:
    """What the engine reads: open items, customers, users and the history.

    Attributes:
        items: one row per open item, columns `ITEM_COLUMNS` (+ any of
            `OPTIONAL_ITEM_COLUMNS`).
        customers: one row per customer, columns `CUSTOMER_COLUMNS`
            (+ `SCOPE_COLUMNS` when scenarios have scope rules).
        users: columns `USER_COLUMNS`; absent collectors hand over to replacements.
        held_item_ids: items of a dunning action still pending or to confirm.
        last_reminders: columns ``customer_id``, ``last_date``: the last
            dunning action of each customer (for the minimum gap).
    """

    items: pd.DataFrame
    customers: pd.DataFrame
    users: pd.DataFrame | None = None
    held_item_ids: Sequence[int] | IntArray = ()
    last_reminders: pd.DataFrame | None = None


@dataclass(frozen=True)
class ProposedItem:
    """One item of a proposed action."""

    item_id: int
    step_id: int
    days_late: int
    amount: Decimal  # claimed: the remaining amount less any disputed part


@dataclass(frozen=True)
class ProposedAction:
    """One action the engine proposes, amounts as Decimal."""

    customer_id: int
    currency: str
    step_id: int
    action_type: ActionType
    mode: StepMode
    assignee_id: int | None
    amount: Decimal  # claimed: due items minus credits
    credits: Decimal
    final: bool
    reason: str | None
    items: tuple[ProposedItem, ...]


@dataclass(frozen=True)
class Decisions:
    """What a run on `today` would create.

    Attributes:
        today: the run date.
        actions: one row per action: ``action_no, customer_id, currency,
            scenario_id, step_id, action_type, mode, assignee_id (0 = none),
            items_cents, credits_cents, amount_cents, item_count, final, reason``.
        items: one row per item: ``action_no, item_id, step_id, days_late,
            remaining_cents, claimed_cents`` (claimed: the undisputed part).
        left_out: why open debit items produced nothing (counts, not exclusive).
    """

    today: dt.date
    actions: pd.DataFrame
    items: pd.DataFrame
    left_out: Mapping[str, int] = field(default_factory=dict)

    def proposals(self) -> list[ProposedAction]:
        """The actions as value objects (for tests, letters and small books)."""
        by_action: dict[int, list[ProposedItem]] = {}
        for no, item_id, step_id, late, cents in zip(
            self.items["action_no"].tolist(),
            self.items["item_id"].tolist(),
            self.items["step_id"].tolist(),
            self.items["days_late"].tolist(),
            self.items["claimed_cents"].tolist(),
            strict=True,
        ):
            by_action.setdefault(no, []).append(
                ProposedItem(item_id, step_id, late, from_cents(cents))
            )
        return [
            ProposedAction(
                customer_id=int(row["customer_id"]),
                currency=str(row["currency"]),
                step_id=int(row["step_id"]),
                action_type=ActionType(row["action_type"]),
                mode=StepMode(row["mode"]),
                assignee_id=int(row["assignee_id"]) or None,
                amount=from_cents(row["amount_cents"]),
                credits=from_cents(row["credits_cents"]),
                final=bool(row["final"]),
                reason=row["reason"] or None,
                items=tuple(by_action.get(int(row["action_no"]), ())),
            )
            for row in self.actions.to_dict("records")
        ]


def to_cents(amount: Decimal) -> int:
    """An exact amount as integer cents (amounts are kept to the cent)."""
    return int(amount.scaleb(2).to_integral_value())


def from_cents(cents: int) -> Decimal:
    """Integer cents back to a two-place Decimal."""
    return Decimal(int(cents)).scaleb(-2)


def channel_of(action_type: ActionType) -> Channel | None:
    """How an action reaches the customer; None for calls and internal tasks."""
    if action_type is ActionType.EMAIL:
        return Channel.EMAIL
    if action_type in (ActionType.LETTER, ActionType.REGISTERED_LETTER):
        return Channel.LETTER
    if action_type is ActionType.SMS:
        return Channel.SMS
    return None


def is_send(action_type: ActionType) -> bool:
    """Whether an automatic action of this type reaches the customer."""
    return action_type in _SENDING_TYPES


def check_run_date(today: dt.date, last_run: dt.date | None) -> None:
    """Refuse a run dated before the last run.

    Raises:
        RunDateError: `today` is before `last_run`.
    """
    if last_run is not None and today < last_run:
        raise RunDateError(
            f"A dunning run was already made on {last_run.isoformat()}; "
            f"a run dated {today.isoformat()} would go back in time "
            "(a dry run may still look back)."
        )


def day_numbers(values: Any) -> IntArray:
    """Dates (datetime64, dates, None) as days since 1970-01-01; NaT -> NO_DAY."""
    import numpy as np
    import pandas as pd

    arr = np.asarray(values)
    if arr.dtype.kind in "iu":
        return arr.astype(np.int64, copy=False)
    if arr.dtype.kind != "M":
        arr = pd.to_datetime(pd.Series(values, dtype=object)).to_numpy()
    days: IntArray = arr.astype("datetime64[D]").astype(np.int64)
    return days


def _day(value: dt.date) -> int:
    return (value - dt.date(1970, 1, 1)).days


class _Steps:
    """All scenarios' steps as flat arrays, indexed by scenario position."""

    def __init__(self, scenarios: Sequence[DunningScenario]) -> None:
        import numpy as np

        self.scenarios = list(scenarios)
        self.position = {s.id: n for n, s in enumerate(self.scenarios)}
        self.offsets = [
            np.array([st.offset_days for st in s.steps], dtype=np.int64)
            for s in self.scenarios
        ]
        self.first_overdue = [
            int(np.searchsorted(offs, 0, side="left")) for offs in self.offsets
        ]
        # The first step after the due date: once an item is past the due-date
        # step's window, catching up starts here (the statement is not sent late).
        self.first_late = [
            int(np.searchsorted(offs, 0, side="right")) for offs in self.offsets
        ]
        self.jump_targets = [_jump_targets(s.steps) for s in self.scenarios]
        all_steps = [st for s in self.scenarios for st in s.steps]
        self.step_ids: IntArray = np.array([st.id for st in all_steps], dtype=np.int64)
        self.step_offsets: IntArray = np.array(
            [st.offset_days for st in all_steps], dtype=np.int64
        )

    def offsets_of(self, step_ids: IntArray) -> IntArray:
        """Offset of each step id; NO_DAY for none or unknown."""
        import numpy as np
        import pandas as pd

        where = pd.Index(self.step_ids).get_indexer(pd.Index(step_ids))
        found = where >= 0
        out = np.full(len(step_ids), NO_DAY, dtype=np.int64)
        out[found] = self.step_offsets[where[found]]
        return out


def _jump_targets(steps: Sequence[DunningStep]) -> tuple[IntArray, IntArray]:
    """Per step index: the first legal step after it, the last automatic before.

    Returns ``(next_legal, auto_before)``, both indexed by ``lo + 1`` (so that
    "no step yet" is row 0): ``next_legal[lo + 1]`` is the first legal step
    after ``lo`` (len(steps) when none), ``auto_before[j]`` the highest
    automatic overdue step below index ``j`` (-1 when none).
    """
    import numpy as np

    count = len(steps)
    next_legal = np.full(count + 1, count, dtype=np.int64)
    for lo in range(count - 1, -2, -1):
        nxt = lo + 1
        if nxt < count and steps[nxt].action_type in _LEGAL_TYPES:
            next_legal[lo + 1] = nxt
        elif lo + 2 <= count:
            next_legal[lo + 1] = next_legal[lo + 2]
    auto_before = np.full(count + 1, -1, dtype=np.int64)
    for j in range(1, count + 1):
        prev = steps[j - 1]
        automatic = prev.mode is StepMode.AUTOMATIC and prev.offset_days > 0
        auto_before[j] = j - 1 if automatic else auto_before[j - 1]
    return next_legal, auto_before


def _lookup(
    keys: IntArray, values: IntArray, wanted: IntArray, default: int
) -> IntArray:
    """``values[keys.index(w)]`` for each `wanted`, `default` where absent."""
    import numpy as np
    import pandas as pd

    where = pd.Index(keys).get_indexer(pd.Index(wanted))
    out = np.full(len(wanted), default, dtype=np.int64)
    found = where >= 0
    out[found] = values[where[found]]
    return out


def _resolve_scenarios(customers: pd.DataFrame, steps: _Steps) -> IntArray:
    """Position of each customer's scenario in `steps`, -1 for none."""
    import numpy as np

    active = [(s.id, n) for n, s in enumerate(steps.scenarios) if s.active]
    named = customers["scenario_id"].fillna(0).to_numpy(np.int64)
    out = _lookup(
        np.array([a[0] for a in active], dtype=np.int64),
        np.array([a[1] for a in active], dtype=np.int64),
        named,
        -1,
    )
    undecided = named == 0
    ranked = sorted(
        (s for s in steps.scenarios if s.active and s.scope),
        key=lambda s: (s.priority, s.id),
    )
    for scenario in ranked:
        if not undecided.any():
            break
        match = undecided & _scope_matches(customers, scenario.scope)
        out[match] = steps.position[scenario.id]
        undecided &= ~match
    return out


def _scope_matches(customers: pd.DataFrame, scope: Mapping[str, Any]) -> BoolArray:
    import numpy as np

    match = np.ones(len(customers), dtype=bool)
    for key, column in (
        ("entity_ids", "entity_id"),
        ("portfolio_ids", "portfolio_id"),
        ("categories", "category"),
        ("risk_classes", "risk_class"),
    ):
        if key in scope and column in customers:
            match &= customers[column].isin(list(scope[key])).to_numpy()
        elif key in scope:
            match[:] = False
    if "min_outstanding" in scope:
        if "outstanding_cents" in customers:
            floor = to_cents(Decimal(str(scope["min_outstanding"])))
            match &= customers["outstanding_cents"].to_numpy() >= floor
        else:
            match[:] = False
    return match


def _assignees(
    collectors: IntArray, users: pd.DataFrame | None, today: dt.date
) -> IntArray:
    """The collector, or the replacement of an absent one (following the chain)."""
    import numpy as np

    if users is None or users.empty:
        return collectors
    today_n = _day(today)
    start = day_numbers(users["absent_from"])
    end = day_numbers(users["absent_until"])
    absent = (
        (start != NO_DAY) & (start <= today_n) & ((end == NO_DAY) | (today_n <= end))
    )
    replacement = users["replacement_id"].fillna(0).to_numpy(np.int64)
    ids = users["user_id"].to_numpy(np.int64)
    away = {
        int(u): int(r) for u, r, a in zip(ids, replacement, absent, strict=True) if a
    }
    distinct = np.unique(collectors)
    resolved = distinct.copy()
    for n, collector in enumerate(distinct.tolist()):
        current, seen = collector, {collector}
        while current in away and away[current] and away[current] not in seen:
            current = away[current]
            seen.add(current)
        resolved[n] = current
    out: IntArray = resolved[np.searchsorted(distinct, collectors)]
    return out


def _jump(hi: IntArray, lo: IntArray, targets: tuple[IntArray, IntArray]) -> IntArray:
    """Catch-up JUMP: today's step, but never a legal step by itself.

    When a legal step (registered formal notice, litigation) lies between the
    last step done and today's, the item goes to the highest automatic step
    before it; with none left, to that legal step, which a person performs.
    """
    import numpy as np

    next_legal, auto_before = targets
    legal = next_legal[lo + 1]
    blocked = legal <= hi
    auto = auto_before[np.minimum(legal, len(auto_before) - 1)]
    stop = np.where(auto > lo, auto, legal)
    out: IntArray = np.where(blocked, stop, hi)
    return out


def under_tolerance(book: Book, scenarios: Sequence[DunningScenario]) -> IntArray:
    """Ids of the debit items whose remainder is under their scenario's tolerance.

    Such a remainder (a payment left 0.05) is not chased: a reminder still
    pending for it is cancelled, as for a full payment (issue 16).
    """
    import numpy as np
    import pandas as pd

    items, customers = book.items, book.customers
    ceiling = max(
        (to_cents(t) for s in scenarios for t in (s.tolerance, *s.tolerances.values())),
        default=0,
    )
    remaining = items["remaining_cents"].to_numpy(np.int64)
    # Only the few small remainders need their scenario (1M rows: milliseconds).
    rows = np.flatnonzero((remaining > 0) & (remaining < ceiling))
    if not len(rows):
        return np.zeros(0, dtype=np.int64)
    steps = _Steps(scenarios)
    c_scen = _resolve_scenarios(customers, steps)
    pos = pd.Index(customers["customer_id"].to_numpy(np.int64)).get_indexer(
        items["customer_id"].to_numpy(np.int64)[rows]
    )
    scen = np.where(pos >= 0, c_scen[np.maximum(pos, 0)], -1)
    currency = items["currency"].iloc[rows].to_numpy(object)
    tol = np.array(
        [
            steps.scenarios[k].tolerance_cents(str(c)) if k >= 0 else 0
            for k, c in zip(scen.tolist(), currency.tolist(), strict=True)
        ],
        dtype=np.int64,
    )
    small = remaining[rows] < tol
    out: IntArray = items["item_id"].to_numpy(np.int64)[rows[small]]
    return out


def _optional(items: pd.DataFrame, column: str, n: int) -> IntArray:
    """An optional item column as int64 (day numbers for dates), absent = none."""
    import numpy as np

    if column not in items:
        return np.full(n, NO_DAY if column == "hold_until" else 0, dtype=np.int64)
    if column == "hold_until":
        return day_numbers(items[column])
    return items[column].fillna(0).to_numpy(np.int64)


def decide(
    book: Book, scenarios: Sequence[DunningScenario], today: dt.date
) -> Decisions:
    """Decide the actions of a run on `today` (rules 1-11 of the module docstring).

    Args:
        book: open items, customers, users and history as columns.
        scenarios: every scenario, inactive ones included (for step offsets).
        today: the run date.

    Returns:
        The proposed actions and their items; nothing is written anywhere.
    """
    import numpy as np
    import pandas as pd

    steps = _Steps(scenarios)
    items, customers = book.items, book.customers
    today_n = _day(today)
    n_scen = len(steps.scenarios)

    # Customers: scenario, hold, the working day runs count from, gap, collector.
    cust_ids = customers["customer_id"].to_numpy(np.int64)
    c_scen = _resolve_scenarios(customers, steps)
    hold_until = day_numbers(customers["hold_until"])
    c_hold = customers["on_hold"].fillna(False).to_numpy(bool) & (
        (hold_until == NO_DAY) | (today_n <= hold_until)
    )
    country_codes, country_names = pd.factorize(
        customers["country"].fillna("").astype(str)
    )
    working = np.array(
        [_day(last_business_day(today, str(c))) for c in country_names] or [today_n],
        dtype=np.int64,
    )
    business = np.array(
        [s.business_days for s in steps.scenarios] + [False], dtype=bool
    )[c_scen]
    c_reach_day = np.where(
        business, working[np.maximum(country_codes, 0)], today_n
    ).astype(np.int64)
    c_gap = np.array([s.min_gap_days for s in steps.scenarios] + [0], dtype=np.int64)[
        c_scen
    ]
    c_last = np.full(len(customers), NO_DAY, dtype=np.int64)
    if book.last_reminders is not None and not book.last_reminders.empty:
        where = pd.Index(cust_ids).get_indexer(book.last_reminders["customer_id"])
        known = where >= 0
        c_last[where[known]] = day_numbers(book.last_reminders["last_date"])[known]
    c_gap_ok = (c_last == NO_DAY) | (today_n - c_last >= c_gap)

    # Items, joined to their customer's columns by position.
    n = len(items)
    pos = pd.Index(cust_ids).get_indexer(items["customer_id"])
    known_customer = pos >= 0
    pos = np.where(known_customer, pos, 0)
    item_ids = items["item_id"].to_numpy(np.int64)
    remaining = items["remaining_cents"].to_numpy(np.int64)
    due = day_numbers(items["due_date"])
    currency_codes, currencies = pd.factorize(items["currency"].astype(str))
    currency_codes = currency_codes.astype(np.int64)
    n_cur = max(len(currencies), 1)
    scen = np.where(known_customer, c_scen[pos], -1) if n else np.zeros(0, np.int64)
    days_late = today_n - due
    elapsed = c_reach_day[pos] - due
    suspended = day_numbers(items["suspended_until"])
    item_hold = _optional(items, "hold_until", n)
    last_step_ids = items["last_step_id"].fillna(0).to_numpy(np.int64)
    last_offset = steps.offsets_of(last_step_ids)

    tol_table = np.zeros((n_scen + 1, n_cur), dtype=np.int64)
    for s_pos, scenario in enumerate(steps.scenarios):
        for c_pos, code in enumerate(currencies):
            tol_table[s_pos, c_pos] = scenario.tolerance_cents(str(code))
    tol = tol_table[scen, currency_codes] if n else np.zeros(0, np.int64)

    debit = remaining > 0
    disputed_flag = items["disputed"].fillna(False).to_numpy(bool)
    # A partial dispute takes its part out of the claim; the rest is dunned.
    part = _optional(items, "disputed_cents", n)
    disputed_part = np.where(
        disputed_flag,
        np.where((part > 0) & (part < remaining), part, np.maximum(remaining, 0)),
        0,
    )
    claim = remaining - disputed_part
    disputed = disputed_flag & (claim <= 0)
    litigation = items["in_litigation"].fillna(False).to_numpy(bool)
    is_suspended = (suspended != NO_DAY) & (today_n <= suspended)
    item_held = (item_hold != NO_DAY) & (today_n <= item_hold)
    held = np.isin(item_ids, np.asarray(book.held_item_ids, dtype=np.int64))
    has_scenario = scen >= 0
    on_hold = c_hold[pos] & known_customer
    # Counted in amounts (rule 6): what the customer owes and is not contesting.
    claimable = (
        debit
        & ~disputed
        & ~litigation
        & ~is_suspended
        & ~item_held
        & has_scenario
        & ~on_hold
    )
    eligible = claimable & ~held & (claim >= tol)

    # Where each item is (L) and what it reaches today (H), per scenario.
    reach_idx = np.full(n, -1, dtype=np.int64)
    target = np.full(n, -1, dtype=np.int64)
    final_item = np.zeros(n, dtype=bool)
    for s_pos, scenario in enumerate(steps.scenarios):
        mine = scen == s_pos
        if not mine.any() or not scenario.steps:
            continue
        offs = steps.offsets[s_pos]
        lo = np.searchsorted(offs, last_offset[mine], side="right") - 1
        hi = np.searchsorted(offs, elapsed[mine], side="right") - 1
        reach_idx[mine] = hi
        final_item[mine] = lo == len(offs) - 1
        hi_offset = np.where(hi >= 0, offs[np.maximum(hi, 0)], -_FAR)
        pre_due = hi_offset < 0
        if scenario.catch_up is CatchUp.JUMP:
            overdue_target = _jump(hi, lo, steps.jump_targets[s_pos])
        else:
            # The due-date step only while it is the step reached; later the
            # first late step (a statement "due today" is not sent late).
            first = np.where(
                hi_offset > 0, steps.first_late[s_pos], steps.first_overdue[s_pos]
            )
            overdue_target = np.maximum(lo + 1, first)
        tgt = np.where(
            pre_due,
            np.where((hi > lo) & (days_late[mine] <= 0), hi, -1),
            np.where((hi > lo) & (overdue_target <= hi), overdue_target, -1),
        )
        target[mine] = tgt

    c_final = np.zeros(len(customers), dtype=bool)
    c_final[pos[final_item & debit]] = True
    # Business days: nothing is planned on a customer's weekend or holiday; what
    # fell due then goes out on the next working day.
    c_plans_today = ~business | (c_reach_day == today_n)
    candidate = eligible & (target >= 0) & c_gap_ok[pos] & c_plans_today[pos]

    # One action per customer and currency: net credits, apply the tolerance.
    key = pos * n_cur + currency_codes
    n_keys = len(customers) * n_cur
    # An item not yet due never rides along in a reminder of overdue items:
    # it would be claimed "payable by" a date before it falls due.
    overdue_key = np.zeros(n_keys, dtype=bool)
    overdue_key[key[candidate & (days_late >= 0)]] = True
    candidate &= (days_late >= 0) | ~overdue_key[key]
    credits = np.zeros(n_keys, dtype=np.int64)
    credit_rows = (remaining < 0) & ~disputed_flag
    np.add.at(credits, key[credit_rows], -remaining[credit_rows])
    # The amount claimed is what the action lists, net of the credits.
    due_total = np.zeros(n_keys, dtype=np.int64)
    np.add.at(due_total, key[candidate], claim[candidate])

    cand_key = key[candidate]
    keys, action_of = np.unique(cand_key, return_inverse=True)
    action_of = action_of.reshape(-1)
    k_cust = keys // n_cur
    k_tol = tol_table[c_scen[k_cust], keys % n_cur] if len(keys) else keys
    k_net = due_total[keys] - credits[keys]
    covered = k_net <= 0
    keep = ~covered & (k_net >= k_tol)
    cand_per_key = np.bincount(action_of, minlength=len(keys))

    left_out = {
        "no_scenario": int((debit & ~has_scenario).sum()),
        "on_hold": int((debit & on_hold).sum()),
        "item_on_hold": int((debit & item_held).sum()),
        "disputed": int((debit & disputed).sum()),
        "partly_disputed": int((claimable & disputed_flag).sum()),
        "in_litigation": int((debit & litigation).sum()),
        "suspended": int((debit & is_suspended).sum()),
        "held_by_pending_action": int((claimable & held).sum()),
        "under_tolerance": int((claimable & (claim < tol)).sum()),
        "min_gap": int((eligible & (target >= 0) & ~c_gap_ok[pos]).sum()),
        "covered_by_credits": int(cand_per_key[covered].sum()),
        "net_under_tolerance": int(cand_per_key[~covered & ~keep].sum()),
    }

    # Renumber the kept actions 0..m-1, in customer order.
    renumber = np.full(len(keys), -1, dtype=np.int64)
    renumber[keep] = np.arange(int(keep.sum()))
    item_action = renumber[action_of] if len(keys) else action_of
    kept_items = item_action >= 0
    cand_rows = np.flatnonzero(candidate)[kept_items]
    item_action = item_action[kept_items]

    m = int(keep.sum())
    a_step = np.full(m, -1, dtype=np.int64)
    np.maximum.at(a_step, item_action, target[cand_rows])
    a_cust_pos = k_cust[keep]
    a_scen = c_scen[a_cust_pos]
    offsets_flat = np.cumsum([0] + [len(s.steps) for s in steps.scenarios])
    step_of = [st for s in steps.scenarios for st in s.steps]
    a_flat = offsets_flat[a_scen] + a_step
    item_flat = offsets_flat[scen[cand_rows]] + target[cand_rows]
    a_final = c_final[a_cust_pos]
    # Per flat step: its type and mode; a final case makes every action manual.
    step_types = np.array([st.action_type.value for st in step_of] or [""], object)
    step_modes = np.array([st.mode.value for st in step_of] or [""], object)
    a_mode = step_modes[a_flat] if m else np.zeros(0, object)
    forced = a_final & (a_mode != StepMode.MANUAL.value)
    a_mode = np.where(forced, StepMode.MANUAL.value, a_mode)
    reasons = np.where(forced, FINAL_REASON, "").astype(object)
    collectors = customers["collector_id"].fillna(0).to_numpy(np.int64)
    assignees = _assignees(collectors, book.users, today)
    items_cents = np.zeros(m, dtype=np.int64)
    np.add.at(items_cents, item_action, claim[cand_rows])
    scenario_ids = np.array([s.id for s in steps.scenarios] or [0], dtype=np.int64)
    actions = pd.DataFrame(
        {
            "action_no": np.arange(m, dtype=np.int64),
            "customer_id": cust_ids[a_cust_pos],
            "currency": np.asarray(currencies, dtype=object)[keys[keep] % n_cur]
            if m
            else np.zeros(0, dtype=object),
            "scenario_id": scenario_ids[a_scen],
            "step_id": steps.step_ids[a_flat],
            "action_type": step_types[a_flat] if m else np.zeros(0, object),
            "mode": a_mode,
            "assignee_id": assignees[a_cust_pos],
            "items_cents": items_cents,
            "credits_cents": credits[keys[keep]],
            "amount_cents": k_net[keep],
            "item_count": np.bincount(item_action, minlength=m).astype(np.int64),
            "final": a_final,
            "reason": reasons,
        }
    )
    decided = pd.DataFrame(
        {
            "action_no": item_action,
            "item_id": item_ids[cand_rows],
            "step_id": steps.step_ids[item_flat],
            "days_late": days_late[cand_rows],
            "remaining_cents": remaining[cand_rows],
            "claimed_cents": claim[cand_rows],
        }
    )
    return Decisions(today=today, actions=actions, items=decided, left_out=left_out)


@dataclass(frozen=True)
class PlanDay:
    """What a run would create on one day of a plan."""

    day: dt.date
    decisions: Decisions


def plan(
    book: Book, scenarios: Sequence[DunningScenario], start: dt.date, days: int
) -> list[PlanDay]:
    """What the scenarios would produce day by day, assuming nobody pays.

    Every proposed action is assumed performed on its day, so pending actions
    hold their items on the first day only.

    Args:
        book: the book as it is before `start`.
        scenarios: every scenario (see `decide`).
        start: the first day of the plan.
        days: how many days to plan.

    Returns:
        One `PlanDay` per day, empty days included.
    """
    import numpy as np
    import pandas as pd

    out: list[PlanDay] = []
    items = book.items.copy()
    index = pd.Index(items["item_id"].to_numpy(np.int64))
    reminders = (
        book.last_reminders.copy()
        if book.last_reminders is not None
        else pd.DataFrame({"customer_id": [], "last_date": []})
    )
    # Day numbers throughout: the service loads them so, tests may pass dates.
    reminders["last_date"] = day_numbers(reminders["last_date"]).astype(np.int64)
    current = book
    for offset in range(days):
        day = start + dt.timedelta(days=offset)
        decisions = decide(current, scenarios, day)
        out.append(PlanDay(day, decisions))
        if not decisions.items.empty:
            rows = index.get_indexer(decisions.items["item_id"])
            column = items["last_step_id"].to_numpy(np.int64, copy=True)
            column[rows] = decisions.items["step_id"].to_numpy(np.int64)
            items["last_step_id"] = column
            reminders = pd.concat(
                [
                    reminders,
                    pd.DataFrame(
                        {
                            "customer_id": decisions.actions["customer_id"],
                            "last_date": _day(day),
                        }
                    ),
                ],
                ignore_index=True,
            )
            reminders = reminders.groupby("customer_id", as_index=False).agg(
                last_date=("last_date", "max")
            )
        current = dataclasses.replace(
            current, items=items, held_item_ids=(), last_reminders=reminders
        )
    return out
