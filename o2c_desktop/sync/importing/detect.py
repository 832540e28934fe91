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
from o2c_desktop.sync.importing.mapper import (
    Choice,
    empty_profile,
    profile_columns,
    solve,
)

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
_EMPTY = empty_profile(0)


@dataclass(frozen=True)
class ColumnMapping:
    """What one column of the file means.

    Attributes:
        index: 0-based column in the grid.
        letter: spreadsheet column letter ("C"), or the 1-based number for CSV.
        header: the header as written in the file.
        field: the target field (IGNORE: not imported).
        confidence: 1.0 known layout or profile; else the header score (0.95
            synonym, 0.8-0.9 header words, 0.7 partial) times the fit of the
            values, lowered when another column fits almost as well.
        reason: "layout", "profile", "user", "header", "words", "values",
            "duplicate", "empty", "index", "unknown".
        why: the reasons in a sentence, for the preview and the dry run.
        samples: up to three values of the column.
    """

    index: int
    letter: str
    header: str
    field: Field
    confidence: float
    reason: str
    why: str = ""
    samples: tuple[str, ...] = ()

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


REQUIRED_GROUPS = [
    frozenset({Field.CUSTOMER_REF, Field.CUSTOMER_NAME}),
    frozenset({Field.NUMBER}),
    frozenset({Field.REMAINING, Field.AMOUNT, Field.DEBIT}),
    frozenset({Field.DUE_DATE, Field.ISSUE_DATE}),
]


def map_columns(
    headers: list[str],
    layout: Layout | None,
    *,
    profile: Mapping[str, Field] | None = None,
    overrides: Mapping[int, Field] | None = None,
    letters: bool = True,
    first_col: int = 0,
    data: pd.DataFrame | None = None,
) -> list[ColumnMapping]:
    """Map each column: the user's choice, a profile, a layout, else the mapper.

    Without a layout (or for the columns a profile does not name), header and
    value evidence are combined and solved as a whole (`mapper.solve`).
    """
    profile_n = {normalize(k): v for k, v in (profile or {}).items()}
    profiles = (
        profile_columns(data, len(headers))
        if data is not None
        else [_EMPTY] * len(headers)
    )
    fixed: dict[int, Choice] = {}
    taken: set[Field] = set()
    for c, header in enumerate(headers):
        name = normalize(header)
        if overrides and c in overrides:
            choice = Choice(overrides[c], 1.0, "user", "your choice")
        elif name in profile_n:
            choice = Choice(profile_n[name], 1.0, "profile", "saved profile")
        elif layout is not None:
            target = layout.columns.get(name, Field.IGNORE)
            choice = Choice(target, 1.0, "layout", f"layout {layout.label}")
        else:
            continue
        duplicate = choice.field is not Field.IGNORE and choice.field in taken
        if duplicate and choice.reason != "user":
            choice = Choice(Field.IGNORE, 0.6, "duplicate", "field already taken")
        taken.add(choice.field)
        fixed[c] = choice
    solved = solve(
        headers,
        profiles,
        _ALL_KNOWN,
        {c: ch.field for c, ch in fixed.items()},
        REQUIRED_GROUPS,
    )
    out = []
    for c, header in enumerate(headers):
        ch = fixed.get(c) or solved[c]
        letter = column_letter(first_col + c) if letters else str(first_col + c + 1)
        out.append(
            ColumnMapping(
                c,
                letter,
                header,
                ch.field,
                round(ch.confidence, 2),
                ch.reason,
                ch.why,
                profiles[c].samples,
            )
        )
    return out


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
