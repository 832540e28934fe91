"""Finding the table in a sheet and what each of its columns means.

The header row is the row whose cells best match known headers; the layout is
the catalogued one whose signature headers are all there; other columns are
mapped by header synonyms, then by the values below them, with a confidence so
the user confirms what is uncertain.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from o2c_desktop.sync.importing.fields import (
    KNOWN_IGNORED,
    LAYOUTS,
    SYNONYMS,
    Field,
    Layout,
    normalize,
)
from o2c_desktop.sync.importing.values import amount_column, date_column

if TYPE_CHECKING:
    from collections.abc import Mapping

    import pandas as pd

    from o2c_desktop.sync.importing.reader import RawSheet

log = logging.getLogger(__name__)

HEADER_SCAN_ROWS = 40
CONFIDENT = 0.8  # below this, the preview asks the user to confirm
_ALL_KNOWN: dict[str, Field] = {}
for _field, _names in SYNONYMS.items():
    for _name in _names:
        _ALL_KNOWN.setdefault(_name, _field)
_LAYOUT_HEADERS = frozenset(h for layout in LAYOUTS for h in layout.columns)
_CURRENCY = re.compile(r"^[A-Z]{3}$")


@dataclass(frozen=True)
class ColumnMapping:
    """What one column of the file means.

    Attributes:
        index: 0-based column in the grid.
        letter: spreadsheet column letter ("C"), or the 1-based number for CSV.
        header: the header as written in the file.
        field: the target field (IGNORE: not imported).
        confidence: 1.0 known layout or profile, 0.95 synonym, 0.7 partial
            synonym, 0.5 guessed from values.
        reason: "layout", "profile", "user", "header", "values"...
    """

    index: int
    letter: str
    header: str
    field: Field
    confidence: float
    reason: str

    @property
    def uncertain(self) -> bool:
        """Whether the user should confirm this column."""
        return self.field is not Field.IGNORE and self.confidence < CONFIDENT


@dataclass(frozen=True)
class Table:
    """Where the table is: header row and the header text of each column."""

    header_row: int  # 0-based grid row
    headers: list[str]
    score: float


def column_letter(index: int) -> str:
    """0 -> "A", 27 -> "AB"."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _cell_text(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value).strip()


def fill_merged(sheet: RawSheet, limit: int = HEADER_SCAN_ROWS) -> list[list[str]]:
    """The first rows as text, merged cells copied into every cell they cover."""
    top = sheet.grid.iloc[:limit]
    rows = [[_cell_text(v) for v in row] for row in top.itertuples(index=False)]
    for (r0, c0), (r1, c1) in sheet.merged:
        if r0 >= len(rows) or not (0 <= c0 < len(rows[r0])):
            continue
        value = rows[r0][c0]
        for r in range(r0, min(r1 + 1, len(rows))):
            for c in range(c0, min(c1 + 1, len(rows[r]))):
                rows[r][c] = rows[r][c] or value
    return rows


def _known(name: str) -> bool:
    return bool(name) and (
        name in _ALL_KNOWN or name in _LAYOUT_HEADERS or name in KNOWN_IGNORED
    )


def find_table(sheet: RawSheet) -> Table | None:
    """The header row: the row with most known headers (at least two)."""
    rows = fill_merged(sheet)
    best: Table | None = None
    for r, cells in enumerate(rows):
        names = [normalize(c) for c in cells]
        known = len({n for n in names if _known(n)})
        filled = sum(bool(n) for n in names)
        if known < 2 or filled < 3:
            continue
        score = known + 0.01 * filled
        if any(layout.signature <= set(names) for layout in LAYOUTS):
            score += 100
        # On a tie the lower row wins: over two header rows it is the precise one.
        if (
            best is None
            or score > best.score
            or (score == best.score and r == best.header_row + 1)
        ):
            best = Table(r, _two_row_headers(rows, r), score)
    if best is not None:
        return best
    # No known header: the first row of three or more text cells over data.
    for r, cells in enumerate(rows[:-1]):
        texts = [c for c in cells if c and not _looks_numeric(c)]
        if len(texts) >= 3 and len(texts) == sum(bool(c) for c in cells):
            return Table(r, cells, 0.0)
    return None


def _looks_numeric(text: str) -> bool:
    return bool(re.fullmatch(r"[-+(]?[\d\s.,]+[)-]?", text))


def _two_row_headers(rows: list[list[str]], r: int) -> list[str]:
    """Headers of row `r`, completed by a group row above it (merged cells).

    "Montant" merged over two columns above "TTC" and "Reste dû" gives
    "Montant TTC" for the first when "TTC" alone means nothing. A known
    combination wins over the lower header alone: "Reference" under
    "Customer" is the customer reference, not the item's (#14).
    """
    headers = list(rows[r])
    if r == 0:
        return headers
    upper = rows[r - 1]
    for c, name in enumerate(headers):
        above = upper[c] if c < len(upper) else ""
        if not above or above == name:
            continue
        if not name:
            headers[c] = above
            continue
        combined = next(
            (
                text
                for text in (f"{above} {name}", f"{name} {above}")
                if normalize(text) in _ALL_KNOWN or normalize(text) in _LAYOUT_HEADERS
            ),
            None,
        )
        if combined is not None:
            headers[c] = combined
    return headers


def find_layout(headers: list[str]) -> Layout | None:
    """The catalogued layout whose signature headers are all present."""
    names = {normalize(h) for h in headers}
    for layout in LAYOUTS:
        if layout.signature <= names:
            return layout
    return None


def _partial(name: str) -> Field | None:
    """A synonym found as whole words inside a longer header."""
    best: tuple[int, Field] | None = None
    padded = f" {name} "
    for synonym, target in _ALL_KNOWN.items():
        longer = best is None or len(synonym) > best[0]
        if len(synonym) > 3 and f" {synonym} " in padded and longer:
            best = (len(synonym), target)
    return best[1] if best else None


def map_columns(
    headers: list[str],
    layout: Layout | None,
    *,
    profile: Mapping[str, Field] | None = None,
    overrides: Mapping[int, Field] | None = None,
    letters: bool = True,
) -> list[ColumnMapping]:
    """Map each column by override, profile, layout, synonym, partial synonym."""
    profile_n = {normalize(k): v for k, v in (profile or {}).items()}
    taken: set[Field] = set()
    out: list[ColumnMapping] = []
    for c, header in enumerate(headers):
        name = normalize(header)
        letter = column_letter(c) if letters else str(c + 1)
        if overrides and c in overrides:
            target, conf, reason = overrides[c], 1.0, "user"
        elif name in profile_n:
            target, conf, reason = profile_n[name], 1.0, "profile"
        elif layout is not None and name in layout.columns:
            target, conf, reason = layout.columns[name], 1.0, "layout"
        elif layout is not None:
            target, conf, reason = Field.IGNORE, 1.0, "layout"
        elif name in _ALL_KNOWN:
            target, conf, reason = _ALL_KNOWN[name], 0.95, "header"
        elif name in KNOWN_IGNORED:
            target, conf, reason = Field.IGNORE, 0.95, "header"
        elif (found := _partial(name)) is not None:
            target, conf, reason = found, 0.7, "header (partial)"
        else:
            target, conf, reason = Field.IGNORE, 0.3, "unknown"
        if target is not Field.IGNORE and target in taken and reason != "user":
            target, conf, reason = Field.IGNORE, 0.6, "duplicate"
        taken.add(target)
        out.append(ColumnMapping(c, letter, header, target, conf, reason))
    return out


def guess_from_values(
    mapping: list[ColumnMapping], data: pd.DataFrame
) -> list[ColumnMapping]:
    """Fill missing required fields from unmapped columns' values (confidence 0.5)."""
    import pandas as pd

    have = {m.field for m in mapping}
    sample = data.iloc[:300]
    kinds: dict[int, str] = {}
    uniq: dict[int, float] = {}
    for m in mapping:
        if m.reason not in {"unknown", "duplicate"} or m.index >= sample.shape[1]:
            continue
        col = sample.iloc[:, m.index]
        filled = col[[bool(_cell_text(v)) for v in col]]
        if len(filled) == 0:
            continue
        series = pd.Series(filled.to_numpy(dtype=object), dtype=object)
        dates = date_column(series)
        amounts = amount_column(series)
        texts = [_cell_text(v) for v in series]
        uniq[m.index] = len(set(texts)) / len(texts)
        if dates.ok.mean() > 0.9 and not all(_looks_numeric(t) for t in texts):
            kinds[m.index] = "date"
        elif amounts.ok.mean() > 0.9:
            kinds[m.index] = "amount"
        elif all(_CURRENCY.match(t) for t in texts):
            kinds[m.index] = "currency"
        else:
            kinds[m.index] = "text"
    guesses: dict[int, Field] = {}

    def pick(kind: str, target: Field, *, last: bool = False, key: Any = None) -> None:
        if target in have or target in guesses.values():
            return
        free = [c for c, k in kinds.items() if k == kind and c not in guesses]
        if key is not None:
            free.sort(key=key)
        if free:
            guesses[free[-1] if last else free[0]] = target

    date_cols = [c for c, k in kinds.items() if k == "date"]
    if not have & {Field.DUE_DATE, Field.ISSUE_DATE} and len(date_cols) >= 2:
        pick("date", Field.ISSUE_DATE)
    pick("date", Field.DUE_DATE, last=True)
    pick("date", Field.ISSUE_DATE)
    amount_cols = [c for c, k in kinds.items() if k == "amount"]
    if not have & {Field.REMAINING, Field.AMOUNT} and len(amount_cols) >= 2:
        pick("amount", Field.AMOUNT)
    pick("amount", Field.REMAINING, last=True)
    pick("currency", Field.CURRENCY)
    pick("text", Field.NUMBER, last=True, key=lambda c: uniq.get(c, 0))
    pick("text", Field.CUSTOMER_REF, key=lambda c: uniq.get(c, 0))
    return [
        ColumnMapping(m.index, m.letter, m.header, guesses[m.index], 0.5, "values")
        if m.index in guesses
        else m
        for m in mapping
    ]


def heading_rows(data: pd.DataFrame) -> np.ndarray[Any, Any]:
    """Rows whose only filled cell is text: group headings (Xero contacts)."""
    filled = np.zeros(len(data), dtype=np.int64)
    first_text = np.zeros(len(data), dtype=bool)
    for c in range(data.shape[1]):
        col = data.iloc[:, c].to_numpy(dtype=object)
        has = np.fromiter((bool(_cell_text(v)) for v in col), bool, len(col))
        is_text = np.fromiter((isinstance(v, str) for v in col), bool, len(col))
        first_text |= (filled == 0) & has & is_text
        filled += has
    return np.asarray((filled == 1) & first_text, dtype=bool)
