"""Which field each column is: header evidence and value evidence, solved as a whole.

Every column gets a profile of its values (share empty, distinct values,
dates, amounts with cents, a 1, 2, 3... index, currency codes...). Each
(column, field) pair gets one score: how strongly the header means the field
(synonym, words, SAP field name) times how well the values fit it (a date
field needs dates, an item number is near-unique per row, a customer
reference repeats, an empty column takes nothing, an index is never an
amount). The assignment is then solved for the best total with each field
used once (a small Hungarian solver), instead of column by column; checks on
pairs follow (a due date is on or after the issue date). Every choice carries
a confidence and the reasons, so the preview asks only about what is unsure.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from o2c_desktop.sync.importing.fields import (
    AMOUNT_FIELDS,
    KIND_VALUES,
    KNOWN_IGNORED,
    Field,
    normalize,
)
from o2c_desktop.sync.importing.values import amount_column, date_column, text_column
from o2c_desktop.sync.importing.words import header_scores, words_set

if TYPE_CHECKING:
    import pandas as pd

log = logging.getLogger(__name__)

F = Field
PROFILE_ROWS = 500  # rows of the file the profiles read
IGNORE_UNKNOWN = 0.3  # an unknown header with no fitting values stays out
VALUE_ONLY = 0.5  # header score of a field guessed from the values alone
AMBIGUOUS = 0.1  # two columns this close for one field: ask the user
REQUIRED_BONUS = 0.6  # a required field filled beats leaving it out
FEW_ROWS = 10  # below this, repetition and uniqueness say nothing
# Optional fields whose emptiness means something (no row settled yet).
EMPTY_OK = frozenset(
    {F.SETTLED_DATE, F.PAID_AMOUNT, F.DISPUTED, F.LETTERING, F.LETTERING_DATE}
)
# Fields the values alone may suggest, under an unknown header.
GUESSABLE = frozenset(
    {
        F.CUSTOMER_REF,
        F.CUSTOMER_NAME,
        F.NUMBER,
        F.ISSUE_DATE,
        F.DUE_DATE,
        F.AMOUNT,
        F.REMAINING,
        F.CURRENCY,
    }
)
TARGETS = tuple(f for f in Field if f is not F.IGNORE)
_DATE_TEXT = re.compile(
    r"^\d{1,4}[./-]\d{1,2}[./-]\d{2,4}([ T].*)?$"
    r"|^\d{1,2}[ -][A-Za-z]{3,9}\.?[ -]\d{2,4}$"
    r"|^[A-Za-z]{3,9}\.? \d{1,2}, \d{4}$"
    r"|^(19|20)\d\d(0[1-9]|1[0-2])(0[1-9]|[12]\d|3[01])$"  # 20260115
)
_CURRENCY = re.compile(r"^[A-Z]{3}$|^[€$£¥]$")
_FLAGS = words_set("yes no true false y n oui non ja nein si x 0 1 disputed litige")


@dataclass(frozen=True)
class ColumnProfile:
    """What the first rows of one column hold.

    Attributes:
        rows: rows profiled.
        filled: non-empty cells among them.
        distinct: distinct non-empty values.
        dates: share of filled cells that are dates.
        amounts: share of filled cells that are numbers (and not dates).
        cents: some amounts have cents, or are written with two decimals.
        small_whole: every amount is a whole number from 0 to 999.
        index: the column counts rows (1, 2, 3... or 5000, 5001...).
        counts_rows: an index from 0 or 1 (the row numbers themselves).
        currency: share of three-letter codes or currency symbols.
        debit_credit: share of S, H, D, C indicators.
        kinds: share of known item types (invoice, avoir, RV...).
        flags: share of yes/no values.
        texty: share of cells with a letter.
        codes: share of cells written as a code (no space, up to 20 signs).
        day: the dates, NaT where a row has none (for pair checks).
        text: the cells as text (for pair checks).
        samples: up to three distinct values, for the preview.
    """

    rows: int
    filled: int
    distinct: int
    dates: float
    amounts: float
    cents: bool
    small_whole: bool
    index: bool
    counts_rows: bool
    currency: float
    debit_credit: float
    kinds: float
    flags: float
    texty: float
    codes: float
    day: np.ndarray[Any, Any]
    text: np.ndarray[Any, Any]
    samples: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """Nothing in the profiled rows."""
        return self.filled == 0

    @property
    def unique(self) -> float:
        """Distinct values per filled cell (1.0: every row differs)."""
        return self.distinct / self.filled if self.filled else 0.0

    def describe(self) -> str:
        """The values in a few words, for the reasons shown to the user."""
        if self.empty:
            return "empty"
        if self.index:
            return "counts rows (an index)"
        if self.dates >= 0.9:
            return "dates"
        if self.amounts >= 0.9 and (self.cents or self.texty < 0.5):
            kind = "amounts with cents" if self.cents else "whole numbers"
            return f"{kind}, {self.distinct} distinct"
        if self.filled and self.distinct == 1:
            return "one value repeated"
        return f"text, {self.distinct} distinct in {self.filled} rows"


def profile_columns(data: pd.DataFrame, count: int) -> list[ColumnProfile]:
    """Profiles of the first `count` columns over the first rows of `data`."""
    head = data.iloc[:PROFILE_ROWS]
    empty = empty_profile(len(head))
    return [_profile(head[c]) if c in head.columns else empty for c in range(count)]


def empty_profile(rows: int) -> ColumnProfile:
    """The profile of an empty column of `rows` rows."""
    nat = np.full(rows, np.datetime64("NaT"), dtype="datetime64[D]")
    blank = np.full(rows, "", dtype=object)
    return ColumnProfile(
        rows, 0, 0, 0, 0, False, False, False, False, 0, 0, 0, 0, 0, 0, nat, blank, ()
    )


def _profile(col: pd.Series[Any]) -> ColumnProfile:
    import pandas as pd

    n = len(col)
    parsed = text_column(col)
    text = parsed.values
    filled = ~parsed.empty
    nf = int(filled.sum())
    if nf == 0:
        return empty_profile(n)
    raw = col.to_numpy(dtype=object)
    is_num = (
        np.fromiter(
            (
                isinstance(v, int | float | np.number) and not isinstance(v, bool)
                for v in raw
            ),
            dtype=bool,
            count=n,
        )
        & filled
    )
    is_day = np.fromiter(
        (isinstance(v, dt.date | np.datetime64) for v in raw), dtype=bool, count=n
    )
    texts = pd.Series(text, dtype=object)
    is_text = filled & ~is_num & ~is_day
    date_text = is_text & texts.str.match(_DATE_TEXT).to_numpy(dtype=bool)
    day = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    if is_day.any() or date_text.any():
        mask = is_day | date_text
        cells = pd.Series(np.where(is_day, raw, text)[mask], dtype=object)
        parsed_days = date_column(cells)
        day[mask] = np.where(parsed_days.ok, parsed_days.values, np.datetime64("NaT"))
    dates = float((~np.isnat(day)).sum()) / nf
    money = is_num | (is_text & ~date_text)
    amounts_p = amount_column(pd.Series(np.where(is_num, raw, text), dtype=object))
    is_amount = money & amounts_p.ok & ~amounts_p.empty
    cents = amounts_p.values[is_amount]
    whole = cents // 100
    # "10,00" is written as money even when it has no cents.
    decimals = amounts_p.decimals
    written = decimals is not None and bool((decimals[is_amount] == 2).any())
    index = bool(
        is_amount.all()
        and n >= 3
        and not (cents % 100).any()
        and (np.diff(whole) == 1).all()
    )
    cells = pd.Series(text[filled], dtype="str")  # pyarrow: vectorised .str
    upper = cells.str.upper()
    uniques = pd.unique(text[filled])
    distinct = len(uniques)
    known_kinds = {v for v in uniques if normalize(v) in KIND_VALUES}
    kinds = cells.isin(known_kinds)
    samples = tuple(str(v) for v in uniques[:3])
    return ColumnProfile(
        rows=n,
        filled=nf,
        distinct=distinct,
        dates=dates,
        amounts=float(is_amount.sum()) / nf if dates < 0.5 else 0.0,
        cents=bool((cents % 100).any()) or written,
        small_whole=bool(
            len(cents)
            and not (cents % 100).any()
            and (whole >= 0).all()
            and (whole < 1000).all()
        ),
        index=index,
        counts_rows=index and int(whole[0]) in {0, 1},
        currency=float(upper.str.match(_CURRENCY).mean()),
        debit_credit=float(upper.isin(["S", "H", "D", "C"]).mean()),
        kinds=float(kinds.mean()),
        flags=float(cells.str.lower().isin(_FLAGS).mean()),
        texty=float(cells.str.contains(r"[^\W\d_]", regex=True).mean()),
        codes=float(cells.str.fullmatch(r"[\w./-]{1,20}").mean()),
        day=day,
        text=text,
        samples=samples,
    )


def value_fit(p: ColumnProfile, target: Field) -> float:
    """How well a column's values fit a field, 0 (impossible) to 1."""
    if p.empty:
        return 1.0 if target in EMPTY_OK else 0.0
    if p.index:
        return 0.0
    if target in {F.ISSUE_DATE, F.DUE_DATE, F.SETTLED_DATE, F.LETTERING_DATE}:
        return _share(p.dates)
    if p.dates >= 0.5:
        return 0.0  # dates are nothing else
    if target in {F.AMOUNT, F.REMAINING, F.DEBIT, F.CREDIT, F.PAID_AMOUNT}:
        return _share(p.amounts) * (1.0 if p.cents else 0.7)
    money = p.amounts >= 0.9 and p.cents
    few = p.filled < FEW_ROWS  # repetition says nothing on a few rows
    if target is F.NUMBER:
        if money:
            return 0.0
        if p.unique >= 0.98 or few:
            return 1.0
        return 0.8 if p.unique >= 0.8 else 0.5 if p.unique >= 0.5 else 0.15
    if target is F.CUSTOMER_REF:
        if money:
            return 0.0
        if p.distinct == 1 and not few:
            return 0.7  # one customer's items, or a company code: the header says
        return 1.0 if p.unique <= 0.9 or few else 0.6
    if target is F.CUSTOMER_NAME:
        if money or p.texty < 0.3:
            return 0.2
        return 1.0 if p.unique <= 0.9 or few else 0.7
    if target is F.CURRENCY:
        return _share(p.currency)
    if target is F.KIND:
        return 1.0 if p.kinds >= 0.8 else 0.6 if p.distinct <= 12 else 0.1
    if target is F.DEBIT_CREDIT:
        return _share(p.debit_credit)
    if target is F.INSTALMENT:
        return 1.0 if p.small_whole else 0.0
    if target is F.DISPUTED:
        return 1.0 if p.flags >= 0.95 else 0.0
    return 0.3 if money else 1.0


def _share(share: float) -> float:
    """Fit of a column of which `share` of the cells read as the field.

    A few bad cells are the file's errors (reported on their rows), not a
    sign of another field.
    """
    return 1.0 if share >= 0.9 else share if share >= 0.5 else 0.0


def value_only(p: ColumnProfile, target: Field) -> float:
    """The score of a field guessed from the values alone (no header)."""
    if target not in GUESSABLE or p.empty or p.index:
        return 0.0
    if p.distinct == 1 and p.filled > 5:
        return 0.0  # a constant says nothing
    fit = value_fit(p, target)
    if target in {F.AMOUNT, F.REMAINING} and not p.cents:
        fit *= 0.5
    if target is F.AMOUNT:
        fit *= 0.9  # a lone amount of an open-item list is what is left to pay
    if target is F.CUSTOMER_NAME and p.texty < 0.8:
        fit *= 0.5
    if target is F.CUSTOMER_REF and p.unique > 0.9:
        fit = 0.0
    if target is F.NUMBER and p.unique < 0.9:
        fit = 0.0
    return VALUE_ONLY * fit


def assign(score: list[list[float]]) -> list[int]:
    """Row -> column with the largest total (Hungarian method, rows <= columns)."""
    n, m = len(score), len(score[0])
    top = max(max(row) for row in score)
    cost = [[top - x for x in row] for row in score]
    inf = float("inf")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)
    p, way = [0] * (m + 1), [0] * (m + 1)
    for i in range(1, n + 1):
        p[0], j0 = i, 0
        minv, used = [inf] * (m + 1), [False] * (m + 1)
        while True:
            used[j0] = True
            i0, delta, j1 = p[j0], inf, 0
            row = cost[i0 - 1]
            for j in range(1, m + 1):
                if not used[j]:
                    cur = row[j - 1] - u[i0] - v[j]
                    if cur < minv[j]:
                        minv[j], way[j] = cur, j0
                    if minv[j] < delta:
                        delta, j1 = minv[j], j
            for j in range(m + 1):
                if used[j]:
                    u[p[j]] += delta
                    v[j] -= delta
                else:
                    minv[j] -= delta
            j0 = j1
            if p[j0] == 0:
                break
        while j0:
            j1 = way[j0]
            p[j0] = p[j1]
            j0 = j1
    out = [-1] * n
    for j in range(1, m + 1):
        if p[j]:
            out[p[j] - 1] = j - 1
    return out


@dataclass
class Choice:
    """The mapper's decision for one column, before it becomes a mapping."""

    field: Field
    confidence: float
    reason: str
    why: str


@dataclass(frozen=True)
class _Evidence:
    header: dict[Field, tuple[float, str]]  # field -> (score, source)
    ignore: float  # score of leaving the column out
    ignore_why: str


def header_evidence(header: str, known: dict[str, Field]) -> _Evidence:
    """Header scores of one column: synonym list, words, SAP field names."""
    name = normalize(header)
    out: dict[Field, tuple[float, str]] = {}
    ignore, why = IGNORE_UNKNOWN, "unknown header"
    if not name:
        return _Evidence(out, ignore, "no header")
    if name in known:
        out[known[name]] = (0.95, "header")
    if name in KNOWN_IGNORED:
        ignore, why = 0.95, "header known, not imported"
    for target, score in header_scores(header).items():
        if target is F.IGNORE:
            if score > ignore:
                ignore, why = score, "header words say it is not imported"
        elif score > out.get(target, (0.0, ""))[0]:
            out[target] = (score, "words")
    if not out and ignore == IGNORE_UNKNOWN:
        found = _partial(name, known)
        if found is not None:
            out[found] = (0.7, "header (partial)")
    return _Evidence(out, ignore, why)


def _partial(name: str, known: dict[str, Field]) -> Field | None:
    """A synonym found as whole words inside a longer header."""
    best: tuple[int, Field] | None = None
    padded = f" {name} "
    for synonym, target in known.items():
        longer = best is None or len(synonym) > best[0]
        if len(synonym) > 3 and f" {synonym} " in padded and longer:
            best = (len(synonym), target)
    return best[1] if best else None


def solve(
    headers: list[str],
    profiles: list[ColumnProfile],
    known: dict[str, Field],
    fixed: dict[int, Field],
    required: list[frozenset[Field]],
) -> dict[int, Choice]:
    """The best assignment of fields to the columns not `fixed` by the user.

    Args:
        headers: the header of each column.
        profiles: the values of each column.
        known: synonym -> field.
        fixed: columns the user or a profile already decided.
        required: groups of fields of which the import needs one.
    """
    free = [c for c in range(len(headers)) if c not in fixed]
    taken = set(fixed.values())
    targets = [t for t in TARGETS if t not in taken]
    if not free:
        return {}
    evidence = {c: header_evidence(headers[c], known) for c in free}
    score: dict[tuple[int, Field], tuple[float, str]] = {}
    profiles = list(profiles)
    for c in free:
        p, ev = profiles[c], evidence[c]
        strong = any(s >= 0.8 for s, _src in ev.header.values())
        money = any(s >= 0.8 and t in AMOUNT_FIELDS for t, (s, _) in ev.header.items())
        if p.index and money and not p.counts_rows:
            # 1200, 1201, 1202... under "Montant TTC": amounts, not an index.
            p = profiles[c] = replace(p, index=False)
        for t in targets:
            h, source = ev.header.get(t, (0.0, ""))
            s = h * value_fit(p, t)
            if p.index and t is F.NUMBER and h >= 0.8 and p.distinct == p.rows:
                s = 0.5 * h  # a numbered list of invoices, maybe: ask
            guess = 0.0
            if not strong and ev.ignore < 0.8:
                guess = value_only(p, t)
            elif t in {F.NUMBER, F.CUSTOMER_REF}:  # the file may have no other
                guess = 0.8 * value_only(p, t)
            if guess > s:
                s, source = guess, "values"
            if s > 0:
                score[c, t] = (s, source)

    def ignore_score(c: int) -> float:
        if profiles[c].empty or profiles[c].index:
            return max(evidence[c].ignore, 0.35)
        return evidence[c].ignore

    def run(bonus: dict[Field, float], keep: set[int]) -> dict[int, Field]:
        matrix = [
            [
                score.get((c, t), (0.0, ""))[0]
                + (bonus.get(t, 0.0) if (c, t) in score and c not in keep else 0.0)
                for t in targets
            ]
            + [ignore_score(c)] * len(free)
            for c in free
        ]
        picks = assign(matrix)
        return {
            c: targets[j] if j < len(targets) else F.IGNORE
            for c, j in zip(free, picks, strict=True)
        }

    chosen = run({}, set())
    bonus: dict[Field, float] = {}
    for group in required:
        have = taken | set(chosen.values())
        if not group & have:
            first = next(t for t in sorted(group, key=_group_order) if t in targets)
            bonus[first] = REQUIRED_BONUS
    if bonus:
        # A missing required field may take a column from an optional field
        # or from nothing, never from another required one.
        needed = frozenset().union(*required)
        keep = {c for c, t in chosen.items() if t in needed}
        chosen = run(bonus, keep)
    return _explain(chosen, score, evidence, profiles, headers)


def _group_order(target: Field) -> int:
    order = (F.CUSTOMER_REF, F.NUMBER, F.REMAINING, F.DUE_DATE)
    return order.index(target) if target in order else len(order)


def _explain(
    chosen: dict[int, Field],
    score: dict[tuple[int, Field], tuple[float, str]],
    evidence: dict[int, _Evidence],
    profiles: list[ColumnProfile],
    headers: list[str],
) -> dict[int, Choice]:
    """Confidence and reasons of each choice; close calls become questions."""
    out: dict[int, Choice] = {}
    by_field = {t: c for c, t in chosen.items() if t is not F.IGNORE}
    for c, target in chosen.items():
        p, ev = profiles[c], evidence[c]
        values = p.describe()
        if target is F.IGNORE:
            best = max(ev.header.items(), key=lambda kv: kv[1][0], default=None)
            if p.empty:
                out[c] = Choice(target, 1.0, "empty", "the column is empty")
            elif p.index:
                out[c] = Choice(target, 1.0, "index", f"values: {values}")
            elif (
                best is not None
                and best[1][0] >= 0.8
                and best[0] in by_field
                and value_fit(p, best[0]) >= 0.5
            ):
                other = by_field[best[0]]
                out[c] = Choice(
                    target,
                    best[1][0],
                    "duplicate",
                    f"header reads as {best[0].value}, but column "
                    f"{headers[other]!r} fits it better",
                )
            elif best is not None and best[1][0] >= 0.8:
                out[c] = Choice(
                    target,
                    best[1][0],
                    "values",
                    f"header reads as {best[0].value}, but its values are: {values}",
                )
            elif best is not None and best[0] in by_field and ev.ignore < 0.8:
                other = by_field[best[0]]
                out[c] = Choice(
                    target,
                    1 - best[1][0],
                    "weaker",
                    f"header reads a little as {best[0].value}; column "
                    f"{headers[other]!r} is it",
                )
            else:
                reason = "header" if ev.ignore >= 0.8 else "unknown"
                out[c] = Choice(target, ev.ignore, reason, ev.ignore_why)
            continue
        s, source = score[c, target]
        why = {
            "header": "header is a known name of the field",
            "words": "header words name the field",
            "header (partial)": "part of the header names the field",
            "values": "guessed from the values alone",
        }[source]
        fit = value_fit(p, target)
        # Values that mostly fit leave the header's word; bad cells are
        # reported on their rows.
        confidence = min(1.0, s / fit if source != "values" and fit >= 0.5 else s)
        if target is F.CUSTOMER_REF and source != "values" and p.codes >= 0.95:
            # Codes that repeat per customer: the header's "customer" or
            # "account" was the reference.
            confidence = min(1.0, s + (1 - s) * 0.5)
        rivals = [
            (score[o, target][0], o)
            for o in chosen
            if o != c and (o, target) in score and score[o, target][1] != "values"
        ]
        rival = max(rivals, default=None)
        if rival is not None and rival[0] > s - AMBIGUOUS:
            confidence = min(confidence, 0.7)
            why += f"; column {headers[rival[1]]!r} fits it almost as well"
        out[c] = Choice(target, confidence, source, f"{why}; values: {values}")
    _check_dates(out, profiles, headers)
    _check_customers(out, profiles)
    return out


def _check_dates(
    out: dict[int, Choice], profiles: list[ColumnProfile], headers: list[str]
) -> None:
    """A due date is on or after the issue date: swap or ask when it is not."""
    cols = {ch.field: c for c, ch in out.items()}
    issue, due = cols.get(F.ISSUE_DATE), cols.get(F.DUE_DATE)
    if issue is None or due is None:
        return
    a, b = profiles[issue].day, profiles[due].day
    both = ~np.isnat(a) & ~np.isnat(b)
    if not both.any():
        return
    ordered = float((b[both] >= a[both]).mean())
    if ordered >= 0.9:
        return
    if float((a[both] >= b[both]).mean()) >= 0.9 and "values" in (
        out[issue].reason,
        out[due].reason,
    ):
        out[issue], out[due] = (
            Choice(F.DUE_DATE, 0.6, "values", "later than the other date column"),
            Choice(F.ISSUE_DATE, 0.6, "values", "earlier than the other date column"),
        )
        return
    late = f"due date before the issue date on {1 - ordered:.0%} of rows"
    for c in (issue, due):
        ch = out[c]
        out[c] = Choice(
            ch.field, min(ch.confidence, 0.6), ch.reason, f"{ch.why}; {late}"
        )
    log.info("Date columns %r and %r: %s", headers[issue], headers[due], late)


def _check_customers(out: dict[int, Choice], profiles: list[ColumnProfile]) -> None:
    """A customer reference groups the rows as the customer name does."""
    cols = {ch.field: c for c, ch in out.items()}
    ref, name = cols.get(F.CUSTOMER_REF), cols.get(F.CUSTOMER_NAME)
    if ref is None or name is None:
        return
    r, n = profiles[ref].text, profiles[name].text
    pairs = len(set(zip(r, n, strict=True)))
    groups = max(len(set(r)), len(set(n)))
    if pairs <= 1.2 * groups + 1:
        return
    for c in (ref, name):
        ch = out[c]
        out[c] = Choice(
            ch.field,
            min(ch.confidence, 0.6),
            ch.reason,
            f"{ch.why}; reference and name do not group the rows alike",
        )
