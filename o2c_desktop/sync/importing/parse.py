"""From a dropped file to normalized open items and a list of problems.

`parse_file()` reads the file, finds the sheet, the header row and the
layout, maps the columns and parses every value column-wise. It returns a
`ParsedImport`: the mapping (with what the user should confirm), a DataFrame
of normalized rows (amounts in int64 cents) and every problem found, each
with file, sheet, row, column, value and why. Nothing here touches a database.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from o2c_desktop.engine.types import ItemKind
from o2c_desktop.sync.importing.detect import (
    ColumnMapping,
    fill_merged,
    find_layout,
    find_table,
    heading_rows,
    map_columns,
)
from o2c_desktop.sync.importing.fields import (
    KIND_VALUES,
    REQUIRED_HELP,
    Field,
    Layout,
    normalize,
)
from o2c_desktop.sync.importing.history import (
    disputed_flags,
    paid_amounts,
    settlement,
)
from o2c_desktop.sync.importing.reader import (
    CSV_HEAD_ROWS,
    FileError,
    RawSheet,
    read_csv_columns,
    read_sheets,
    uncached_formulas,
)
from o2c_desktop.sync.importing.values import (
    amount_column,
    cents_to_decimal,
    date_column,
    find_date,
    identifier_column,
    integer_column,
    text_column,
)

if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from decimal import Decimal

    import pandas as pd

log = logging.getLogger(__name__)

MAX_PROBLEMS_PER_CHECK = 1000
PREVIEW_ROWS = 200  # rows the preview parses; the import checks them all
ROW_COLUMNS = (
    "row",
    "customer_ref",
    "customer_name",
    "number",
    "instalment",
    "kind",
    "reference",
    "issue_date",
    "due_date",
    "amount",
    "remaining",
    "currency",
    "entity",
    "error",
)
_TOTAL_WORDS = (
    "total",
    "sous total",
    "subtotal",
    "summe",
    "gesamt",
    "totaux",
    "percents",
    "pourcentages",
    "grand total",
    "zwischensumme",
)
_TOTAL_LABEL = (
    r"^\s*(grand[ -]?|sous[ -]?|sub[ -]?)?(total|totaux|summe|gesamt|zwischensumme)"
    r"(\b|$)"
)
# ISO 4217 currencies without minor unit.
ZERO_DECIMAL_CURRENCIES = frozenset(
    {"BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"}
    | {"RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"}
)
_SYMBOLS = {"€": "EUR", "$": "USD", "£": "GBP", "¥": "JPY", "CHF": "CHF"}
_BANK_JOURNALS = ("BQ", "BAN", "BNK", "CAI", "CSH", "TRE")
_IDENTIFIERS = frozenset({Field.CUSTOMER_REF, Field.NUMBER, Field.REFERENCE})


@dataclass(frozen=True)
class Problem:
    """Something wrong in the file, said so the user can find and fix it."""

    file: str
    sheet: str
    row: int | None
    column: str | None
    value: str | None
    message: str
    severity: Literal["error", "warning"] = "error"

    def __str__(self) -> str:
        where = [self.file]
        if self.sheet:
            where.append(f"sheet {self.sheet!r}")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.column:
            where.append(f"column {self.column}")
        value = f" ({self.value!r})" if self.value not in (None, "") else ""
        return f"{', '.join(where)}: {self.message}{value}"


@dataclass(frozen=True)
class ImportOptions:
    """Choices that change how a file is read.

    Attributes:
        sheet: read this sheet instead of the best-looking one.
        profile: saved mapping, header text -> field.
        overrides: the user's choices in the preview, column index -> field.
        day_first: order of ambiguous text dates (None: from layout or values).
        default_terms_days: due date = issue date + this, when the file has
            none and the customer has no payment terms (FEC).
        as_of: balance date; FEC entries lettered after it are still open,
            and so are rows settled after it.
        history: every row is a settled item (a file of paid invoices).
    """

    sheet: str | None = None
    profile: Mapping[str, Field] | None = None
    overrides: Mapping[int, Field] | None = None
    day_first: bool | None = None
    default_terms_days: int = 30
    as_of: dt.date | None = None
    history: bool = False


@dataclass(frozen=True)
class ImportRow:
    """One normalized row, for previews and tests."""

    row: int
    customer_ref: str
    customer_name: str
    number: str
    instalment: int
    kind: ItemKind | None
    reference: str
    issue_date: dt.date | None
    due_date: dt.date | None
    amount: Decimal
    remaining: Decimal
    currency: str
    error: str


@dataclass
class ParsedImport:
    """A file read and understood, ready to preview or to apply.

    Attributes:
        path: the file.
        sheet: the sheet read ("" for CSV).
        sheets: every sheet name, hidden ones included, for the sheet picker.
        layout: catalogued layout key, or None when mapped by synonyms.
        layout_label: its human name.
        header_row: spreadsheet row number of the header (1-based), 0 if none.
        columns: the mapping of every column.
        rows: DataFrame with `ROW_COLUMNS`: amounts in int64 cents, dates
            datetime64[D] (due date NaT: from payment terms), error "" if valid.
        problems: every problem, errors first.
        as_of_hint: balance date read in the title rows, if any.
        due_from_terms: due dates (some or all) come from payment terms.
        skipped: rows left out on purpose (totals, paid, not receivables).
        left_out: the totals and subtotal rows left out, each with its row.
        options: how the file was read.
        complete: every row was parsed (False for a preview of the first rows).
        data_rows: lines below the header in the file, when known.
        settled: the settled rows (paid history), `ROW_COLUMNS` plus
            `history.SETTLED_COLUMNS`; None when the file has no settlement
            date column.
    """

    path: Path
    sheet: str = ""
    sheets: list[str] = field(default_factory=list)
    layout: str | None = None
    layout_label: str = ""
    header_row: int = 0
    columns: list[ColumnMapping] = field(default_factory=list)
    rows: pd.DataFrame | None = None
    problems: list[Problem] = field(default_factory=list)
    as_of_hint: dt.date | None = None
    due_from_terms: bool = False
    skipped: int = 0
    left_out: list[Problem] = field(default_factory=list)
    options: ImportOptions = field(default_factory=ImportOptions)
    complete: bool = True
    data_rows: int | None = None
    settled: pd.DataFrame | None = None

    @property
    def settled_count(self) -> int:
        """Settled rows (paid history), valid or not."""
        return 0 if self.settled is None else len(self.settled)

    @property
    def fatal(self) -> bool:
        """The file can't be imported at all (no rows were read)."""
        return self.rows is None

    @property
    def row_count(self) -> int:
        """Rows read as items, valid or not."""
        return 0 if self.rows is None else len(self.rows)

    @property
    def error_count(self) -> int:
        """Rows with an error."""
        return 0 if self.rows is None else int((self.rows["error"] != "").sum())

    @property
    def valid_count(self) -> int:
        """Rows that can be imported."""
        return self.row_count - self.error_count

    def valid_totals(self) -> dict[str, Decimal]:
        """Remaining amount of the valid rows per currency ("": not given)."""
        if self.rows is None or not len(self.rows):
            return {}
        valid = self.rows[self.rows["error"] == ""]
        sums = valid.groupby("currency", sort=True)["remaining"].sum()
        return {str(code): cents_to_decimal(int(c)) for code, c in sums.items()}

    @property
    def questions(self) -> list[ColumnMapping]:
        """Columns the user should confirm."""
        return [c for c in self.columns if c.uncertain]

    @property
    def needs_confirmation(self) -> bool:
        """Something is uncertain or missing: ask before importing."""
        return bool(self.questions) or self.fatal

    def sample(self, count: int = 20) -> list[ImportRow]:
        """The first rows as plain values."""
        if self.rows is None:
            return []
        out = []
        records: list[dict[Any, Any]] = self.rows.iloc[:count].to_dict("records")
        for record in records:
            rec = _Record(record)
            out.append(
                ImportRow(
                    row=int(rec.row),
                    customer_ref=str(rec.customer_ref),
                    customer_name=str(rec.customer_name),
                    number=str(rec.number),
                    instalment=int(rec.instalment),
                    kind=ItemKind(rec.kind) if rec.kind else None,
                    reference=str(rec.reference),
                    issue_date=_to_date(rec.issue_date),
                    due_date=_to_date(rec.due_date),
                    amount=cents_to_decimal(rec.amount),
                    remaining=cents_to_decimal(rec.remaining),
                    currency=str(rec.currency),
                    error=str(rec.error),
                )
            )
        return out


class _Record:
    """Attribute access to a row dict (typed Any for the preview)."""

    def __init__(self, values: dict[Any, Any]) -> None:
        self.__dict__.update(values)

    def __getattr__(self, name: str) -> Any:
        raise AttributeError(name)


def _to_date(value: Any) -> dt.date | None:
    if value is None or value != value:  # NaT
        return None
    return dt.date.fromisoformat(str(np.datetime64(value, "D")))


class _Checks:
    """Collects row problems column-wise, capped per kind of problem."""

    def __init__(self, path: Path, sheet: str, rows: np.ndarray[Any, Any]) -> None:
        self.path, self.sheet, self.rows = path, sheet, rows
        self.error = np.full(len(rows), "", dtype=object)
        self.problems: list[Problem] = []

    def flag(
        self,
        mask: np.ndarray[Any, Any],
        message: str,
        column: ColumnMapping | None = None,
        values: Any = None,
        severity: Literal["error", "warning"] = "error",
    ) -> None:
        hits = np.flatnonzero(mask)
        if not len(hits):
            return
        if severity == "error":
            fresh = self.error[hits] == ""
            self.error[hits[fresh]] = message
        where = f"{column.letter} ({column.header})" if column else None
        shown = hits[:MAX_PROBLEMS_PER_CHECK]
        picked: Any = None
        if values is not None:
            # Only the flagged cells become Python objects, not the column.
            raw = values.iloc[shown] if hasattr(values, "iloc") else values[shown]
            picked = np.asarray(raw, dtype=object)
        for k, i in enumerate(shown):
            value = None if picked is None else _cell(picked[k])
            self.problems.append(
                Problem(
                    self.path.name,
                    self.sheet,
                    int(self.rows[i]),
                    where,
                    value,
                    message,
                    severity,
                )
            )
        if len(hits) > MAX_PROBLEMS_PER_CHECK:
            more = len(hits) - MAX_PROBLEMS_PER_CHECK
            self.problems.append(
                Problem(
                    self.path.name,
                    self.sheet,
                    None,
                    where,
                    None,
                    f"{message}: {more} more rows",
                    severity,
                )
            )


def _cell(value: Any) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _fatal(
    path: Path, message: str, row: int | None = None, **kwargs: Any
) -> ParsedImport:
    result = ParsedImport(path=path, **kwargs)
    result.problems.append(
        Problem(path.name, kwargs.get("sheet", ""), row, None, None, message)
    )
    return result


def parse_file(
    path: Path | str,
    options: ImportOptions | None = None,
    *,
    report: Callable[[int], None] | None = None,
    limit: int | None = None,
) -> ParsedImport:
    """Read an aged-balance file into normalized rows and problems.

    Args:
        path: xlsx, xlsm, xls, ods or csv file.
        options: sheet, saved profile, the user's mapping changes...
        report: called with a percentage as reading progresses.
        limit: parse only the first rows (the preview); `complete` is then
            False when the file has more.

    Returns:
        The parsed import; `fatal` is true when nothing could be read, and
        `problems` then says why.
    """
    path = Path(path)
    options = options or ImportOptions()
    tick = report or (lambda _pct: None)
    tick(0)
    try:
        sheets = read_sheets(path, csv_rows=CSV_HEAD_ROWS)
    except FileError as exc:
        return _fatal(path, str(exc), exc.row, options=options)
    tick(40)
    names = [s.name for s in sheets]
    chosen = _choose_sheet(path, sheets, options)
    if isinstance(chosen, str):
        return _fatal(path, chosen, sheets=names, options=options)
    sheet, table = chosen
    layout = find_layout(table.headers)
    is_csv = not sheet.name
    data = sheet.grid.iloc[table.header_row + 1 :]
    mapping = map_columns(
        table.headers,
        layout,
        profile=options.profile,
        overrides=options.overrides,
        letters=not is_csv,
        first_col=sheet.first_col,
        data=data,
    )
    preamble = fill_merged(sheet)[: table.header_row]
    hint = next(
        (d for row in preamble for c in row if c and (d := find_date(c)) is not None),
        None,
    )
    result = ParsedImport(
        path=path,
        sheet=sheet.name,
        sheets=names,
        layout=layout.name if layout else None,
        layout_label=layout.label if layout else "",
        header_row=sheet.first_row + table.header_row,
        columns=mapping,
        as_of_hint=hint,
        options=options,
    )
    if layout is not None and layout.summary:
        result.problems.append(
            Problem(
                path.name,
                sheet.name,
                result.header_row,
                None,
                None,
                f"{layout.label}: a summary by customer has no invoices. Export "
                "the detailed report (one row per invoice) instead.",
            )
        )
        return result
    missing = _missing(mapping, layout, history=options.history)
    if missing:
        for target in missing:
            result.problems.append(
                Problem(
                    path.name,
                    sheet.name,
                    result.header_row,
                    None,
                    None,
                    f"missing required column: {REQUIRED_HELP[target]}",
                )
            )
        return result
    tick(50)
    if sheet.complete:
        result.data_rows = len(data)
    if not sheet.complete and (limit is None or len(data) < limit):
        # A CSV file's head was enough to find the table: read the rest by
        # column, only those the mapping needs.
        try:
            data = read_csv_columns(
                path, sheet, table.header_row + 1, _needed_columns(mapping, layout)
            )
        except FileError as exc:
            return _fatal(path, str(exc), exc.row, sheets=names, options=options)
        result.data_rows = len(data)
        tick(70)
    if limit is not None and len(data) > limit:
        data = data.iloc[:limit]
        result.complete = False
    _read_rows(result, sheet, data, layout, options)
    tick(100)
    result.problems.sort(key=lambda p: (p.severity != "error", p.row or 0))
    return result


def _choose_sheet(
    path: Path, sheets: list[RawSheet], options: ImportOptions
) -> tuple[RawSheet, Any] | str:
    if options.sheet is not None:
        named = [s for s in sheets if s.name == options.sheet]
        if not named:
            return f"no sheet named {options.sheet!r}."
        table = find_table(named[0]) if len(named[0].grid) else None
        if table is None:
            return f"no table found in sheet {options.sheet!r}."
        return named[0], table
    candidates: list[tuple[float, int, RawSheet, Any]] = []
    for sheet in sheets:
        if not sheet.visible or not len(sheet.grid):
            continue
        table = find_table(sheet)
        if table is not None:
            candidates.append((table.score, -len(candidates), sheet, table))
    if not candidates:
        hidden = [s.name for s in sheets if not s.visible]
        extra = f" (hidden sheets not read: {', '.join(hidden)})" if hidden else ""
        return f"no table of open items found{extra}."
    candidates.sort(key=lambda c: (c[0], c[1]), reverse=True)
    return candidates[0][2], candidates[0][3]


def _needed_columns(
    mapping: list[ColumnMapping], layout: Layout | None
) -> list[int] | None:
    """Columns `_read_rows` reads; None when heading rows need them all."""
    fields = {m.field for m in mapping}
    if (layout is not None and layout.group_rows) or not fields & {
        Field.CUSTOMER_REF,
        Field.CUSTOMER_NAME,
    }:
        return None
    # The first three columns are where totals and headings are written.
    return sorted({m.index for m in mapping_fields(mapping)} | {0, 1, 2})


def _missing(
    mapping: list[ColumnMapping], layout: Layout | None, *, history: bool = False
) -> list[Field]:
    have = {m.field for m in mapping}
    missing = [Field.SETTLED_DATE] if history and Field.SETTLED_DATE not in have else []
    group_rows = layout is not None and layout.group_rows
    if not have & {Field.CUSTOMER_REF, Field.CUSTOMER_NAME} and not group_rows:
        missing.append(Field.CUSTOMER_REF)
    if Field.NUMBER not in have:
        missing.append(Field.NUMBER)
    if (
        not have & {Field.REMAINING, Field.AMOUNT}
        and not {Field.DEBIT, Field.CREDIT} <= have
    ):
        missing.append(Field.REMAINING)
    if not have & {Field.ISSUE_DATE, Field.DUE_DATE}:
        missing.append(Field.DUE_DATE)
    return missing


def _read_rows(
    result: ParsedImport,
    sheet: RawSheet,
    data: pd.DataFrame,
    layout: Layout | None,
    options: ImportOptions,
) -> None:
    """Parse every mapped column over all rows, then keep the item rows."""
    import pandas as pd

    by_field = {m.field: m for m in mapping_fields(result.columns)}
    n = len(data)
    rownums = np.arange(n, dtype=np.int64) + result.header_row + 1
    checks = _Checks(result.path, sheet.name, rownums)

    def col(target: Field) -> pd.Series[Any] | None:
        m = by_field.get(target)
        if m is None or m.index not in data.columns:
            return None
        return data[m.index]

    def text(target: Field) -> np.ndarray[Any, Any]:
        c = col(target)
        if c is None:
            return np.full(n, "", object)
        if target in _IDENTIFIERS:
            return identifier_column(c).values
        return text_column(c).values

    number_col = col(Field.NUMBER)
    assert number_col is not None
    number_parsed = identifier_column(number_col)
    number = number_parsed.values
    no_number = number_parsed.empty
    # Totals, subtotals and headings have no item number: look only there.
    blank_rows = np.flatnonzero(no_number)
    blank = data.iloc[blank_rows]
    first_texts = [text_column(blank[c]).values for c in sorted(blank.columns)[:3]]
    is_total = np.zeros(n, dtype=bool)
    for values in first_texts:
        low = pd.Series(values, dtype=object).str.lower().str.lstrip()
        is_total[blank_rows] |= low.str.startswith(_TOTAL_WORDS).to_numpy(dtype=bool)
    # Odoo repeats its header row for each account.
    header_text = by_field[Field.NUMBER].header.strip().lower()
    repeated = pd.Series(number, dtype=object).str.lower().to_numpy() == header_text
    has_customer = Field.CUSTOMER_REF in by_field or Field.CUSTOMER_NAME in by_field
    heading = np.full(n, "", dtype=object)
    if ((layout is not None and layout.group_rows) or not has_customer) and len(blank):
        texts = first_texts[0]
        for values in first_texts[1:]:
            texts = np.where(texts == "", values, texts)
        marks = np.full(n, None, dtype=object)
        is_heading = heading_rows(blank) & ~is_total[blank_rows]
        marks[blank_rows[is_heading]] = texts[is_heading]
        marks[is_total] = ""
        heading = (
            pd.Series(marks, dtype=object).ffill().fillna("").to_numpy(dtype=object)
        )
    dates: dict[Field, Any] = {}
    day_first = options.day_first
    if day_first is None and layout is not None:
        day_first = layout.day_first
    for target in (Field.ISSUE_DATE, Field.DUE_DATE):
        c = col(target)
        dates[target] = date_column(c, day_first) if c is not None else None
    paid = settlement(
        col(Field.SETTLED_DATE),
        n,
        day_first=day_first,
        as_of=options.as_of,
        forced=options.history,
    )
    dated = np.zeros(n, dtype=bool)
    for parsed_date in dates.values():
        if parsed_date is not None:
            dated |= parsed_date.ok & ~parsed_date.empty
    # A row with a date and an amount but no item number is an item missing
    # its number; without an amount it is a note (QuickBooks payment lines).
    priced = np.zeros(n, dtype=bool)
    for target in (Field.AMOUNT, Field.REMAINING, Field.DEBIT, Field.CREDIT):
        c = col(target)
        if c is not None and len(blank_rows):
            priced[blank_rows] |= _filled(c.iloc[blank_rows])
    # A total written in the customer or number column (#14: "Grand Total"
    # became a customer and doubled the outstanding).
    # Only rows without a number or a date can be totals: usually none.
    undated = np.flatnonzero(no_number | ~dated)
    for target in (Field.CUSTOMER_REF, Field.CUSTOMER_NAME, Field.NUMBER):
        c = col(target)
        if c is not None and len(undated):
            is_total[undated] |= _total_label(c.iloc[undated])
    missing_number = no_number & dated & priced & ~is_total & ~repeated
    keep = (~no_number | missing_number) & ~is_total & ~repeated
    checks.flag(missing_number, "missing item number", by_field[Field.NUMBER])
    # FEC: open receivables are unlettered lines on 411 accounts.
    if layout is not None and layout.fec:
        account = pd.Series(text(Field.ACCOUNT), dtype=object)
        lettered = text(Field.LETTERING) != ""
        let_col = col(Field.LETTERING_DATE)
        if let_col is not None and options.as_of is not None:
            let_date = date_column(let_col, True).values
            lettered &= ~(let_date > np.datetime64(options.as_of, "D"))
        keep &= account.str.startswith("411").to_numpy(dtype=bool) & ~lettered
    for target, parsed_date in dates.items():
        source = col(target)
        if parsed_date is not None and source is not None:
            checks.flag(
                keep & ~parsed_date.ok,
                "unknown date format",
                by_field[target],
                source,
            )
    amounts: dict[Field, np.ndarray[Any, Any]] = {}
    present: dict[Field, np.ndarray[Any, Any]] = {}
    decimals: dict[Field, np.ndarray[Any, Any]] = {}
    for target in (Field.AMOUNT, Field.REMAINING, Field.DEBIT, Field.CREDIT):
        c = col(target)
        if c is None:
            continue
        parsed = amount_column(c)
        checks.flag(
            keep & ~parsed.ok,
            "text in an amount",
            by_field[target],
            c,
        )
        amounts[target] = parsed.values
        present[target] = ~parsed.empty
        if parsed.decimals is not None:
            decimals[target] = parsed.decimals
    _empty_amounts(checks, result, sheet, keep, present, by_field, rownums)
    if Field.AMOUNT in present and Field.REMAINING in present:
        # 100 owed -100 is not a credit note: one of them is wrong (#14).
        both = keep & present[Field.AMOUNT] & present[Field.REMAINING]
        total, left = amounts[Field.AMOUNT], amounts[Field.REMAINING]
        opposite = ((total < 0) & (left > 0)) | ((total > 0) & (left < 0))
        checks.flag(
            both & opposite,
            "remaining amount and amount have opposite signs",
            by_field[Field.REMAINING],
            col(Field.REMAINING),
        )
    if Field.DEBIT in amounts or Field.CREDIT in amounts:
        zero = np.zeros(n, dtype=np.int64)
        net = amounts.get(Field.DEBIT, zero) - amounts.get(Field.CREDIT, zero)
        amounts.setdefault(Field.REMAINING, net)
        present.setdefault(Field.REMAINING, np.ones(n, dtype=bool))
    remaining = amounts.get(Field.REMAINING, amounts.get(Field.AMOUNT))
    has_remaining = present.get(Field.REMAINING, present.get(Field.AMOUNT))
    assert remaining is not None
    assert has_remaining is not None
    amount = np.where(
        present.get(Field.AMOUNT, np.zeros(n, dtype=bool)),
        amounts.get(Field.AMOUNT, remaining),
        remaining,
    )
    # SAP's debit/credit indicator: H (Haben) and C are credits.
    dc = pd.Series(text(Field.DEBIT_CREDIT), dtype=object).str.upper().to_numpy()
    credit_ind = (dc == "H") | (dc == "C")
    remaining = np.where(credit_ind, -np.abs(remaining), remaining)
    amount = np.where(credit_ind, -np.abs(amount), amount)
    kind = np.where(remaining < 0, ItemKind.CREDIT_NOTE.value, ItemKind.INVOICE.value)
    kind = kind.astype(object)
    if Field.KIND in by_field:
        typed = text(Field.KIND)
        uniques = {v: KIND_VALUES.get(normalize(v)) for v in pd.unique(typed)}
        kind_of = {v: (k.value if k is not None else "") for v, k in uniques.items()}
        mapped = pd.Series(typed, dtype=object).map(kind_of).to_numpy(dtype=object)
        unknown = (mapped == "") & (typed != "")
        checks.flag(
            keep & unknown,
            "unknown item type, kind taken from the sign",
            by_field[Field.KIND],
            typed,
            severity="warning",
        )
        kind = np.where(mapped != "", mapped, kind)
    if layout is not None and layout.fec:
        journal = pd.Series(text(Field.JOURNAL), dtype=object).str.upper()
        bank = journal.str.startswith(_BANK_JOURNALS).to_numpy(dtype=bool)
        kind = np.where((remaining < 0) & bank, ItemKind.UNAPPLIED_CASH.value, kind)
    credit_kinds = np.isin(
        kind, [ItemKind.CREDIT_NOTE.value, ItemKind.UNAPPLIED_CASH.value]
    )
    # Credit notes and unapplied cash stay items of their own, always negative.
    remaining = np.where(credit_kinds, -np.abs(remaining), remaining)
    amount = np.where(credit_kinds, -np.abs(amount), amount)
    ref, name = text(Field.CUSTOMER_REF), text(Field.CUSTOMER_NAME)
    name = np.where(name == "", heading, name)
    ref = np.where(ref == "", name, ref)
    name = np.where(name == "", ref, name)
    ref_col = by_field.get(Field.CUSTOMER_REF, by_field.get(Field.CUSTOMER_NAME))
    checks.flag(keep & (ref == ""), "missing customer", ref_col)
    ref_len = pd.Series(ref, dtype=object).str.len().to_numpy()
    checks.flag(
        keep & (ref_len > 40),
        "customer reference longer than 40 characters",
        ref_col,
        ref,
    )
    num_len = pd.Series(number, dtype=object).str.len().to_numpy()
    checks.flag(
        keep & (num_len > 40),
        "item number longer than 40 characters",
        by_field[Field.NUMBER],
        number,
    )
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    issue_p, due_p = dates[Field.ISSUE_DATE], dates[Field.DUE_DATE]
    issue = issue_p.values if issue_p is not None else nat
    due = due_p.values if due_p is not None else nat
    issue = np.where(np.isnat(issue), due, issue)
    checks.flag(
        keep & np.isnat(issue) & (checks.error == ""),
        "missing date",
        by_field.get(Field.ISSUE_DATE, by_field.get(Field.DUE_DATE)),
    )
    result.due_from_terms = bool((keep & np.isnat(due) & ~np.isnat(issue)).any())
    before = keep & ~np.isnat(due) & ~np.isnat(issue) & (due < issue)
    checks.flag(
        before,
        "due date before the invoice date",
        by_field.get(Field.DUE_DATE),
        due.astype(str),
    )
    too_much = keep & (np.abs(remaining) > np.abs(amount)) & (remaining * amount >= 0)
    remaining_raw = col(Field.REMAINING)
    checks.flag(
        too_much,
        "remaining amount greater than the amount",
        by_field.get(Field.REMAINING),
        remaining_raw,
    )
    currency = pd.Series(text(Field.CURRENCY), dtype=object).str.upper()
    currency = currency.replace(_SYMBOLS)
    bad_currency = (currency != "") & ~currency.str.fullmatch(r"[A-Z]{3}").astype(bool)
    checks.flag(
        keep & bad_currency.to_numpy(dtype=bool),
        "unknown currency code",
        by_field.get(Field.CURRENCY),
        currency.to_numpy(dtype=object),
    )
    # "1 234 567,891" is not 1 234 567 891 nor rounded: the file is wrong.
    whole_units = currency.isin(ZERO_DECIMAL_CURRENCIES).to_numpy(dtype=bool)
    for target, places in decimals.items():
        too_precise = places > 2
        if whole_units.any():
            too_precise |= whole_units & (amounts[target] % 100 != 0)
        checks.flag(
            keep & too_precise,
            "more decimals than the currency has",
            by_field[target],
            col(target),
        )
    instalment = np.zeros(n, dtype=np.int64)
    inst_col = col(Field.INSTALMENT)
    if inst_col is not None:
        parsed_inst = integer_column(inst_col)
        checks.flag(
            keep & ~parsed_inst.ok,
            "instalment is not a whole number",
            by_field[Field.INSTALMENT],
            inst_col,
        )
        instalment = parsed_inst.values
    settled = np.zeros(n, dtype=bool)
    if paid is not None:
        column = by_field.get(Field.SETTLED_DATE)
        source = col(Field.SETTLED_DATE)
        checks.flag(keep & paid.bad_date, "unknown date format", column, source)
        checks.flag(keep & paid.missing, "missing settlement date (--history)", column)
        settled = keep & paid.settled
        keep &= ~settled
    # Lines with nothing left to pay are not open items.
    keep &= ~((remaining == 0) & has_remaining & (checks.error == ""))
    references = text(Field.REFERENCE)
    entities = text(Field.ENTITY)
    currencies = currency.to_numpy(dtype=object)

    def rows_of(mask: np.ndarray[Any, Any]) -> pd.DataFrame:
        return pd.DataFrame(
            {
                "row": rownums[mask],
                "customer_ref": ref[mask],
                "customer_name": pd.Series(name[mask], dtype=object).str.slice(0, 200),
                "number": number[mask],
                "instalment": instalment[mask],
                "kind": kind[mask],
                "reference": pd.Series(references[mask], dtype=object).str.slice(
                    0, 100
                ),
                "issue_date": issue[mask],
                "due_date": due[mask],
                "amount": amount[mask].astype(np.int64),
                "remaining": remaining[mask].astype(np.int64),
                "currency": currencies[mask],
                "entity": entities[mask],
                "error": checks.error[mask],
            }
        )

    frame = rows_of(keep)
    if paid is not None:
        history = rows_of(settled)
        history["paid_date"] = paid.paid_on[settled]
        paid_cents = paid_amounts(col(Field.PAID_AMOUNT), amount)
        history["paid_amount"] = paid_cents[settled]
        history["disputed"] = disputed_flags(col(Field.DISPUTED), n)[settled]
        # A settled item has nothing left to pay, whatever the file says.
        history["remaining"] = np.zeros(len(history), dtype=np.int64)
        result.settled = _instalments_and_duplicates(
            history, checks, by_field, inst_col is not None
        )
    listed = keep | settled
    checks.problems = [
        p for p in checks.problems if p.row is None or listed[p.row - rownums[0]]
    ]
    label_col = by_field.get(Field.CUSTOMER_REF, by_field.get(Field.CUSTOMER_NAME))
    # Said apart from the problems: a total line is expected, not wrong.
    notes = _Checks(result.path, sheet.name, rownums)
    notes.flag(is_total, "totals row left out", label_col, severity="warning")
    result.left_out = notes.problems
    frame = _instalments_and_duplicates(frame, checks, by_field, inst_col is not None)
    result.rows = frame
    result.problems.extend(checks.problems)
    result.skipped = int(n - listed.sum())


def _total_label(col: pd.Series[Any]) -> np.ndarray[Any, Any]:
    """Cells that read as a total: "Grand Total", "Sous-total", "Total général".

    A column read by pyarrow is matched on its buffers, without a Python
    string per cell.
    """
    import pandas as pd
    import pyarrow as pa
    import pyarrow.compute as pc

    if isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow":
        cells = pa.array(col.array)
    else:
        cells = pa.array(text_column(col).values, type=pa.string())
    hits = pc.fill_null(
        pc.match_substring_regex(cells, _TOTAL_LABEL, ignore_case=True), False
    )
    return np.asarray(hits.to_numpy(zero_copy_only=False), dtype=bool)


def _empty_amounts(
    checks: _Checks,
    result: ParsedImport,
    sheet: RawSheet,
    keep: np.ndarray[Any, Any],
    present: dict[Field, np.ndarray[Any, Any]],
    by_field: dict[Field, ColumnMapping],
    rownums: np.ndarray[Any, Any],
) -> None:
    """Flag empty amount cells, which would read 0.00 (#14).

    Of a debit/credit pair one is empty by nature: only both empty is wrong.
    An xlsx formula saved without its result looks empty too: say so.
    """
    empty: dict[Field, np.ndarray[Any, Any]] = {}
    if Field.DEBIT in present and Field.CREDIT in present:
        empty[Field.DEBIT] = ~present[Field.DEBIT] & ~present[Field.CREDIT]
    for target in (Field.AMOUNT, Field.REMAINING, Field.DEBIT, Field.CREDIT):
        if (
            target in present
            and target not in empty
            and not (target is Field.CREDIT and Field.DEBIT in present)
        ):
            empty[target] = ~present[target]
    formulas: dict[int, set[int]] | None = None
    for target, blank in empty.items():
        blank = keep & blank
        if not blank.any():
            continue
        column = by_field[target]
        if formulas is None:
            suffix = result.path.suffix.lower()
            xlsx = sheet.name and suffix in {".xlsx", ".xlsm"}
            formulas = uncached_formulas(result.path, sheet.name) if xlsx else {}
        rows = formulas.get(sheet.first_col + column.index)
        if rows:
            uncomputed = blank & np.isin(rownums, np.fromiter(rows, np.int64))
            checks.flag(
                uncomputed,
                "formula without a computed value: open and save the file in Excel",
                column,
            )
        checks.flag(blank, "amount is empty", column)


def _filled(col: pd.Series[Any]) -> np.ndarray[Any, Any]:
    return ~text_column(col).empty


def _c2s(cents: int) -> str:
    return str(cents_to_decimal(cents))


def mapping_fields(columns: list[ColumnMapping]) -> list[ColumnMapping]:
    """The mapped (not ignored) columns."""
    return [c for c in columns if c.field is not Field.IGNORE]


def _instalments_and_duplicates(
    frame: pd.DataFrame,
    checks: _Checks,
    by_field: dict[Field, ColumnMapping],
    has_instalment: bool,
) -> pd.DataFrame:
    """Number instalments of one item by due date; flag true duplicates.

    Without an instalment column, lines of one document with different due
    dates are its instalments (SAP); the same due date twice is a duplicate.
    """
    if frame.empty:
        return frame
    key = ["entity", "customer_ref", "number"]  # entity: "" unless our export
    if not has_instalment:
        counts = frame.groupby(key, sort=False)["row"].transform("size")
        multi = counts.to_numpy() > 1
        if multi.any():
            sub = frame[multi]
            rank = sub.groupby(key, sort=False)["due_date"].rank(method="dense")
            frame.loc[multi, "instalment"] = rank.fillna(0).astype(np.int64).to_numpy()
    dup = frame.duplicated([*key, "instalment"], keep="first").to_numpy()
    if dup.any():
        first = frame.drop_duplicates([*key, "instalment"], keep="first").set_index(
            [*key, "instalment"]
        )["row"]
        positions = np.flatnonzero(dup)
        message = "duplicate item number in the file"
        fresh = frame["error"].to_numpy(dtype=object)
        fresh = fresh.copy()
        for p in positions:
            if not fresh[p]:
                fresh[p] = message
        frame["error"] = fresh
        row_of = dict(zip(frame["row"].to_numpy(), range(len(frame)), strict=True))
        column = by_field[Field.NUMBER]
        for p in positions[:MAX_PROBLEMS_PER_CHECK]:
            rec = frame.iloc[p]
            earlier = first.get(tuple(rec[k] for k in [*key, "instalment"]))
            checks.problems.append(
                Problem(
                    checks.path.name,
                    checks.sheet,
                    int(rec["row"]),
                    f"{column.letter} ({column.header})",
                    str(rec["number"]),
                    f"{message} (first on row {earlier})",
                )
            )
        del row_of
    return frame


def with_overrides(
    parsed: ParsedImport, overrides: Mapping[int, Field]
) -> ParsedImport:
    """Parse the same file again with the user's column choices."""
    merged = dict(parsed.options.overrides or {})
    merged.update(overrides)
    return parse_file(
        parsed.path,
        replace(parsed.options, overrides=merged, sheet=parsed.sheet or None),
    )
