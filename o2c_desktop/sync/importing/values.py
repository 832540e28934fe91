"""Column-wise value parsing: amounts to integer cents, dates, identifiers.

Every function takes a whole column (a pandas Series of raw cells: str, int,
float, date, datetime or None) and returns arrays, so a million rows parse in
vectorised passes instead of a Python call per cell. Cents are exact int64;
they become `Decimal` at the database boundary.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    import pandas as pd

_NUMERIC = (int, float, np.integer, np.floating)
_DATES = (dt.date, np.datetime64)
# Excel serial day 0 (the 1900 leap-year bug is absorbed by starting on Dec 30).
EXCEL_EPOCH = np.datetime64("1899-12-30", "D")
_SERIAL_MIN, _SERIAL_MAX = 10_000, 80_000  # 1927 .. 2119

# Patterns run by pyarrow (RE2): real characters, not Python's \u escapes.
_AMOUNT_NOISE = "[\\s\u00a0\u202f\u2009\u2007'\u2019€$£¥]|[A-Za-z]{3}$|^[A-Za-z]{3}"
_AMOUNT_OK = r"^\d[\d.,]*$|^[.,]\d+$"
_SCALE = np.array([100, 10, 1], dtype=np.int64)  # cents per unit of 0, 1, 2 decimals
_FIRST_GROUP = r"^[1-9]\d{0,2}[.,]"
# CR, LF and tabs become one space; other control characters go (#14: a
# linefeed in a name broke the e-mail headers of every letter).
_BREAKS = r"[\t\n\v\f\r\x{85}\x{2028}\x{2029}]+"
_CONTROLS = r"[\x00-\x08\x0e-\x1f\x7f-\x84\x86-\x9f]"
_UNSAFE = r"[\x00-\x1f\x7f-\x9f\x{2028}\x{2029}]"


def text_series(values: Any) -> pd.Series[Any]:
    """Strings as a pandas "str" Series: pyarrow-backed, so `.str` is vectorised."""
    import pandas as pd

    return pd.Series(values, dtype="str")


@dataclass(frozen=True)
class Parsed:
    """One parsed column.

    Attributes:
        values: int64 cents, datetime64[D] dates, or object strings.
        ok: the cell parsed (or was empty).
        empty: the cell was empty.
        note: e.g. the date format chosen.
    """

    values: np.ndarray[Any, Any]
    ok: np.ndarray[Any, np.dtype[np.bool_]]
    empty: np.ndarray[Any, np.dtype[np.bool_]]
    note: str = ""
    decimals: np.ndarray[Any, Any] | None = None


def _kinds(col: pd.Series[Any]) -> tuple[np.ndarray[Any, Any], ...]:
    """Masks: values, stripped text, empty, numeric, date-typed, text.

    Columns of one type (all text from CSV, all numbers or all dates from
    Excel) take a vectorised path; mixed columns are sorted cell by cell.
    """
    import pandas as pd

    if isinstance(col.dtype, pd.StringDtype):  # read by pyarrow: stay there
        clean = col.str.strip().fillna("")
        stripped = clean.to_numpy(dtype=object)
        is_str = (clean != "").to_numpy(dtype=bool)
        none = np.zeros(len(col), dtype=bool)
        return stripped, stripped, ~is_str, none, none, is_str
    values = col.to_numpy(dtype=object)
    n = len(values)
    inferred = pd.api.types.infer_dtype(values, skipna=True)
    none = np.zeros(n, dtype=bool)
    if inferred in {"string", "empty"}:
        clean = text_series(values).str.strip().fillna("")
        stripped = clean.to_numpy(dtype=object)
        is_str = (clean != "").to_numpy(dtype=bool)
        return stripped, stripped, ~is_str, none, none, is_str
    blank = np.full(n, "", dtype=object)
    if inferred in {"floating", "integer", "mixed-integer-float"}:
        na = pd.isna(values)
        return values, blank, na, ~na, none, none
    if inferred in {"date", "datetime", "datetime64"}:
        na = pd.isna(values)
        return values, blank, na, none, ~na, none
    types = np.fromiter((type(v) for v in values), dtype=object, count=n)
    is_str = np.fromiter((t is str for t in types), dtype=bool, count=n)
    is_num = np.fromiter(
        (isinstance(v, _NUMERIC) and not isinstance(v, bool) for v in values),
        dtype=bool,
        count=n,
    )
    is_date = np.fromiter((isinstance(v, _DATES) for v in values), dtype=bool, count=n)
    stripped = blank.copy()
    if is_str.any():
        stripped[is_str] = (
            text_series(values[is_str]).str.strip().to_numpy(dtype=object)
        )
    is_nan = is_num & np.fromiter(
        (isinstance(v, float) and v != v for v in values), dtype=bool, count=n
    )
    empty = (~is_str & ~is_num & ~is_date) | (is_str & (stripped == "")) | is_nan
    return values, stripped, empty, is_num & ~is_nan, is_date, is_str & ~empty


def text_column(col: pd.Series[Any]) -> Parsed:
    """Identifiers and labels as text; numeric cells lose a spurious ".0".

    Text cells keep their leading zeros ("00042"); a number cell 1001.0 reads
    "1001". Nothing is ever evaluated: "=A1" is the text "=A1".
    """
    values, stripped, empty, is_num, is_date, is_str = _kinds(col)
    out = np.where(is_str, stripped, "").astype(object)
    if is_str.any() and _may_hold_controls(col):
        texts = np.flatnonzero(is_str)
        cleaned = clean_text(out[texts])
        if cleaned is not None:
            out[texts] = cleaned
            empty = empty.copy()
            empty[texts] |= cleaned == ""
    _unguard(out)
    idx = np.flatnonzero(is_num)
    if len(idx):
        # Whole numbers (customer codes typed as numbers) in one pass.
        floats = values[idx].astype(np.float64)
        whole = np.isfinite(floats) & (np.abs(floats) < 2**53)
        whole &= floats == np.round(np.where(whole, floats, 0))
        out[idx[whole]] = floats[whole].astype(np.int64).astype(str).astype(object)
        for i in idx[~whole]:
            out[i] = str(values[i])
    for i in np.flatnonzero(is_date):
        v = values[i]
        if isinstance(v, dt.datetime) and v.time() == dt.time():
            out[i] = v.date().isoformat()
        elif isinstance(v, dt.date):
            out[i] = v.isoformat()
        else:
            out[i] = str(v)
    return Parsed(out, np.ones(len(values), dtype=bool), empty)


def identifier_column(col: pd.Series[Any]) -> Parsed:
    """Identifiers as text: a column pandas wrote as floats loses its ".0".

    "4100023117.0" in every filled cell is the identifier 4100023117 (a float
    column in the ERP's export); a column that also holds "AB-12" or "1.5" is
    left as written. Leading zeros of text cells stay ("0040012345").
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    parsed = text_column(col)
    filled = ~parsed.empty
    if not filled.any():
        return parsed
    floated = r"^-?\d+\.0+$"
    head = pa.array(parsed.values[filled][:200], type=pa.string())
    if not pc.all(pc.match_substring_regex(head, floated)).as_py():
        return parsed  # most columns: decided on their first cells
    cells = pa.array(parsed.values[filled], type=pa.string())
    if not pc.all(pc.match_substring_regex(cells, floated)).as_py():
        return parsed
    out = parsed.values.copy()
    trimmed = pc.replace_substring_regex(cells, r"\.0+$", "")
    out[filled] = np.asarray(trimmed.to_numpy(zero_copy_only=False), dtype=object)
    return Parsed(out, parsed.ok, parsed.empty)


def _may_hold_controls(col: pd.Series[Any]) -> bool:
    """False when a column read by pyarrow has no control character at all.

    Checked on its Arrow buffers, without a Python string per cell (#3).
    """
    import pandas as pd
    import pyarrow as pa

    if not (isinstance(col.dtype, pd.StringDtype) and col.dtype.storage == "pyarrow"):
        return True
    cells = pa.array(col.array)
    chunks = cells.chunks if isinstance(cells, pa.ChunkedArray) else [cells]
    for chunk in chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, dtype=np.uint8)
        if ((raw < 0x20) | (raw == 0x7F)).any():  # C0 controls and DEL
            return True
        c1 = np.flatnonzero(raw[:-1] == 0xC2)  # U+0080-U+009F: C2 80-9F
        if (raw[c1 + 1] < 0xA0).any():
            return True
        sep = np.flatnonzero(raw[:-2] == 0xE2)  # U+2028, U+2029: E2 80 A8-A9
        if ((raw[sep + 1] == 0x80) & ((raw[sep + 2] | 1) == 0xA9)).any():
            return True
    return False


def clean_text(text: np.ndarray[Any, Any]) -> np.ndarray[Any, Any] | None:
    """Text without control characters, or None when there was none.

    Line breaks and tabs become one space, other control characters are
    dropped, so a name fits on one line of a letter or a mail header.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    s = pa.array(text, type=pa.string())
    if not pc.any(pc.match_substring_regex(s, _UNSAFE)).as_py():
        return None
    s = pc.replace_substring_regex(s, _BREAKS, " ")
    s = pc.utf8_trim_whitespace(pc.replace_substring_regex(s, _CONTROLS, ""))
    return np.asarray(s.to_numpy(zero_copy_only=False), dtype=object)


def _unguard(out: np.ndarray[Any, Any]) -> None:
    """Drop the apostrophe our CSV export puts before ``=``, ``+``, ``-``, ``@``."""
    guarded = text_series(out).str.match(r"'[=+\-@]")
    idx = np.flatnonzero(guarded.to_numpy(dtype=bool, na_value=False))
    if len(idx):
        out[idx] = [value[1:] for value in out[idx]]


def amount_column(col: pd.Series[Any]) -> Parsed:
    """Amounts to int64 cents.

    Understands ``1 234,56`` (with NBSP or narrow NBSP), ``1.234,56``,
    ``1,234.56``, ``-12,50``, ``(12,50)``, SAP's ``12,50-``, currency symbols
    and codes, and numeric cells. A single separator followed by exactly three
    digits is a thousands separator (money has two decimals) when a group of
    1-3 digits comes before it: ``1,284`` but not ``0,125``, ``1234,567`` or
    ``1 234 567,891`` (spaces already group those digits).
    `decimals` counts the decimals written in text cells, so that more than
    the currency has is refused rather than rounded.
    """
    values, stripped, empty, is_num, _is_date, is_str = _kinds(col)
    n = len(values)
    cents = np.zeros(n, dtype=np.int64)
    decimals = np.zeros(n, dtype=np.int8)
    ok = empty.copy()
    if is_num.any():
        nums = values[is_num].astype(np.float64)
        big = np.abs(nums) >= 1e15
        cents[is_num] = np.where(big, 0, np.round(nums * 100)).astype(np.int64)
        ok[is_num] = ~big
    idx = np.flatnonzero(is_str)
    if len(idx):
        # Text amounts: every step is a pyarrow kernel over the column (#3).
        value, neg, good, frac = _text_cents(stripped[idx])
        cents[idx] = np.where(neg, -value, value)
        ok[idx] = good
        decimals[idx] = np.where(good, np.minimum(frac, 99), 0)
    return Parsed(cents, ok, empty, decimals=decimals)


def _text_cents(
    text: np.ndarray[Any, Any],
) -> tuple[np.ndarray[Any, Any], ...]:
    """Cents, negative sign, validity and decimals of stripped text amounts."""
    import pyarrow as pa
    import pyarrow.compute as pc

    def numpy(array: Any) -> np.ndarray[Any, Any]:
        return np.asarray(array.to_numpy(zero_copy_only=False))

    s = pa.array(text, type=pa.string())
    neg = numpy(
        pc.or_(
            pc.or_(pc.starts_with(s, "-"), pc.starts_with(s, "\u2212")),
            pc.or_(
                pc.ends_with(s, "-"),
                pc.and_(pc.starts_with(s, "("), pc.ends_with(s, ")")),
            ),
        )
    ).astype(bool)
    body = pc.replace_substring_regex(s, _AMOUNT_NOISE, "")
    body = pc.utf8_trim(body, "+-\u2212()")
    body = pc.replace_substring_regex(body, _AMOUNT_NOISE, "")
    good = numpy(pc.match_substring_regex(body, _AMOUNT_OK)).astype(bool)
    # The last separator is the decimal one unless three digits follow it.
    last = pc.extract_regex(body, r"(?P<sep>[.,])(?P<tail>\d*)$")
    sep_char = numpy(pc.fill_null(pc.struct_field(last, "sep"), "")).astype(object)
    tail_len = numpy(pc.fill_null(pc.utf8_length(pc.struct_field(last, "tail")), 0))
    dots = numpy(pc.count_substring(body, ".")).astype(np.int64)
    commas = numpy(pc.count_substring(body, ",")).astype(np.int64)
    same_sep = np.where(sep_char == ".", dots, np.where(sep_char == ",", commas, 0))
    thousands_only = (tail_len == 3) & (dots + commas == same_sep)
    # Only after a group of 1-3 digits: "1 234,567" (spaces are gone from the
    # body: "1234,567"), "0,125" and "1234,567" have three decimals (#14).
    thousands_only &= numpy(pc.match_substring_regex(body, _FIRST_GROUP)).astype(bool)
    has_decimal = (sep_char != "") & ~thousands_only
    digits = pc.replace_substring_regex(body, "[.,]", "")
    length = numpy(pc.utf8_length(digits)).astype(np.int64)
    frac_len = np.where(has_decimal, tail_len, 0).astype(np.int64)
    good &= length - frac_len <= 15
    short = good & (frac_len <= 2) & (length > 0)
    whole = pc.cast(pc.if_else(pa.array(short), digits, "0"), pa.int64())
    value = numpy(whole).astype(np.int64) * _SCALE[np.minimum(frac_len, 2)]
    # More than 2 decimals is refused by the caller; the value shown beside
    # the error is cut to cents (up to 18 digits fit in int64).
    long = good & (frac_len > 2) & (length <= 18)
    if long.any():
        raw = pc.cast(pc.if_else(pa.array(long), digits, "0"), pa.int64())
        scale = 10 ** np.clip(frac_len - 2, 0, 18).astype(np.int64)
        value = np.where(long, numpy(raw).astype(np.int64) // scale, value)
        noise = long & _float_noise(body, long)
        if noise.any():
            # 1520.1299999999999 is 1520.13 written by a float: round to the
            # cent once, here, and say nothing (docs/importing.md).
            dotted = pc.replace_substring(body, ",", ".")  # one separator only
            units = pc.cast(pc.if_else(pa.array(noise), dotted, "0"), pa.float64())
            rounded = np.round(numpy(units).astype(np.float64) * 100).astype(np.int64)
            value = np.where(noise, rounded, value)
            frac_len = np.where(noise, 2, frac_len)
    return value, neg, good, frac_len


def _float_noise(body: Any, rows: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Amounts whose decimals past the cents are a float's residue.

    Four zeros or four nines right after the cents ("...,1299999999999",
    "...,1300000000002") and at least six decimals: within 0.0001 of a cent,
    which no currency's real sub-unit writes.
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    hits = pc.match_substring_regex(body, r"^\d+[.,]\d{2}(0000|9999)\d*$")
    hits = pc.and_(hits, pa.array(rows))
    lengthy = pc.match_substring_regex(body, r"[.,]\d{6,}$")
    return np.asarray(
        pc.fill_null(pc.and_(hits, lengthy), False).to_numpy(zero_copy_only=False),
        dtype=bool,
    )


# Candidate formats for text dates, tried on the column's distinct values.
_DATE_FORMATS: tuple[tuple[str, bool | None], ...] = (
    ("ISO8601", None),
    ("%d/%m/%Y", True),
    ("%m/%d/%Y", False),
    ("%d.%m.%Y", True),
    ("%Y%m%d", None),
    ("%d-%m-%Y", True),
    ("%d/%m/%y", True),
    ("%m/%d/%y", False),
    ("%d.%m.%y", True),
    ("%d %b %Y", None),
    ("%d %B %Y", None),
    ("%b %d, %Y", None),
    ("%B %d, %Y", None),
    ("%d-%b-%Y", None),
    ("%d-%b-%y", None),
)


def _try_format(text: pd.Series[Any], fmt: str) -> np.ndarray[Any, Any]:
    import pandas as pd

    if fmt == "%Y%m%d":
        text = text.where(text.str.fullmatch(r"\d{8}"), "")
    parsed = pd.to_datetime(text, format=fmt, errors="coerce")
    return parsed.to_numpy(dtype="datetime64[D]")


def date_column(col: pd.Series[Any], day_first: bool | None = None) -> Parsed:
    """Dates from date cells, Excel serials and text in the column's format.

    The text format is chosen on the column's distinct values; dd/mm versus
    mm/dd is decided by the values (a day above 12), then by `day_first`,
    then day first (our users are European first).
    """
    import pandas as pd

    values, stripped, empty, is_num, is_date, is_str = _kinds(col)
    n = len(values)
    out = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    ok = empty.copy()
    if is_date.any():
        stamps = pd.to_datetime(pd.Series(values[is_date], dtype=object))
        out[is_date] = stamps.to_numpy(dtype="datetime64[D]")
        ok[is_date] = True
    if is_num.any():
        serial = values[is_num].astype(np.float64)
        good = (serial >= _SERIAL_MIN) & (serial <= _SERIAL_MAX)
        days = np.where(good, np.floor(serial), 0).astype(np.int64)
        out[is_num] = np.where(good, EXCEL_EPOCH + days, np.datetime64("NaT"))
        ok[is_num] = good
    idx = np.flatnonzero(is_str)
    note = ""
    if len(idx):
        text = text_series(stripped[idx])
        # Text serials ("45321") come from CSV exports of Excel sheets.
        serial_text = text.str.fullmatch(r"\d{5}(\.\d+)?").to_numpy(dtype=bool)
        sample = text_series(text[~serial_text].unique()[:2000])
        scores: list[tuple[int, int, str, bool | None]] = []
        for rank, (fmt, order) in enumerate(_DATE_FORMATS):
            hits = (
                int((~np.isnat(_try_format(sample, fmt))).sum()) if len(sample) else 0
            )
            preferred = order is None or order == (
                True if day_first is None else day_first
            )
            scores.append((hits, int(preferred), fmt, order))
            scores[-1] = (hits, int(preferred) * 100 - rank, fmt, order)
        scores.sort(reverse=True)
        chosen_order = scores[0][3]
        parsed = np.full(len(idx), np.datetime64("NaT"), dtype="datetime64[D]")
        for hits, _pref, fmt, order in scores:
            if hits == 0:
                break
            if order is not None and chosen_order is not None and order != chosen_order:
                continue  # never mix dd/mm and mm/dd in one column
            todo = np.isnat(parsed) & ~serial_text
            if not todo.any():
                break
            parsed[todo] = _try_format(text[todo], fmt)
            note = note or fmt
        if serial_text.any():
            serial = text[serial_text].astype(float).to_numpy()
            good = (serial >= _SERIAL_MIN) & (serial <= _SERIAL_MAX)
            parsed[serial_text] = np.where(
                good,
                EXCEL_EPOCH + np.floor(np.where(good, serial, 0)).astype(np.int64),
                np.datetime64("NaT"),
            )
        out[idx] = parsed
        ok[idx] = ~np.isnat(parsed)
    return Parsed(out, ok, empty, note)


def integer_column(col: pd.Series[Any]) -> Parsed:
    """Small whole numbers (instalment numbers); empty reads 0."""
    values, stripped, empty, is_num, _is_date, is_str = _kinds(col)
    out = np.zeros(len(values), dtype=np.int64)
    ok = empty.copy()
    for i in np.flatnonzero(is_num | is_str):
        raw = values[i] if is_num[i] else stripped[i]
        try:
            number = Decimal(str(raw))
        except InvalidOperation:
            continue
        if number == number.to_integral_value() and 0 <= number < 10_000:
            out[i] = int(number)
            ok[i] = True
    return Parsed(out, ok, empty)


def cents_to_decimal(cents: int) -> Decimal:
    """Exact amount from integer cents."""
    return Decimal(int(cents)).scaleb(-2)


def find_date(text: str) -> dt.date | None:
    """The first date written in a title line ("As of March 31, 2026")."""
    import pandas as pd

    patterns = (
        r"\d{4}-\d{2}-\d{2}",
        r"\d{1,2}[/.]\d{1,2}[/.]\d{4}",
        r"\d{1,2} [A-Za-z]{3,9} \d{4}",
        r"[A-Za-z]{3,9} \d{1,2}, \d{4}",
    )
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            parsed = date_column(pd.Series([match.group(0)], dtype=object))
            if parsed.ok[0] and not parsed.empty[0]:
                return dt.date.fromisoformat(str(parsed.values[0]))
    return None
