"""Paid history: rows with a settlement date are settled items, not open ones (#17).

A file whose rows carry a settlement or clearing date (``Settled date``,
``Clearing date``, ``Date de lettrage``, AUGDT...) holds history: those rows
become settled items with their payment date, paid amount and disputed flag,
so that the scoring has something to learn from; rows without one stay open
items. With ``history`` forced (``o2c import FILE --history``) every row must
be settled: a file of paid invoices only, which never closes nor reopens
today's open items. A settlement dated after the balance date is still open
on that date.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from o2c_desktop.sync.importing.values import amount_column, date_column, text_column

if TYPE_CHECKING:
    import datetime as dt

    import pandas as pd

log = logging.getLogger(__name__)

# Cells of a "disputed" column that say yes.
YES = frozenset(
    {"yes", "y", "true", "1", "x", "oui", "o", "ja", "si", "sí", "disputed", "litige"}
)
SETTLED_COLUMNS = ("paid_date", "paid_amount", "disputed")


@dataclass(frozen=True)
class Settlement:
    """Which rows of a file are settled, and when.

    Attributes:
        settled: the row is a settled item.
        paid_on: its payment date (NaT when open).
        bad_date: the cell holds something that is not a date.
        missing: forced history, and the row has no settlement date.
    """

    settled: np.ndarray[Any, Any]
    paid_on: np.ndarray[Any, Any]
    bad_date: np.ndarray[Any, Any]
    missing: np.ndarray[Any, Any]


def settlement(
    col: pd.Series[Any] | None,
    n: int,
    *,
    day_first: bool | None,
    as_of: dt.date | None,
    forced: bool,
) -> Settlement | None:
    """Settled rows from the settlement-date column; None when neither applies."""
    if col is None and not forced:
        return None
    nat = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    none = np.zeros(n, dtype=bool)
    if col is None:
        return Settlement(none, nat, none, np.ones(n, dtype=bool))
    parsed = date_column(col, day_first)
    paid_on = np.where(parsed.ok, parsed.values, nat)
    settled = ~np.isnat(paid_on)
    if as_of is not None and not forced:
        settled &= paid_on <= np.datetime64(as_of, "D")
    bad = ~parsed.ok
    missing = forced & parsed.empty
    return Settlement(settled | forced, paid_on, bad, missing)


def paid_amounts(
    col: pd.Series[Any] | None, amount: np.ndarray[Any, Any]
) -> np.ndarray[Any, Any]:
    """Cents paid: the paid-amount column where filled, else the whole amount."""
    if col is None:
        return np.asarray(amount, dtype=np.int64)
    parsed = amount_column(col)
    given = parsed.ok & ~parsed.empty
    signed = np.where(amount < 0, -np.abs(parsed.values), np.abs(parsed.values))
    return np.where(given, signed, amount).astype(np.int64)


def disputed_flags(col: pd.Series[Any] | None, n: int) -> np.ndarray[Any, Any]:
    """True where the disputed column says yes."""
    if col is None:
        return np.zeros(n, dtype=bool)
    import pandas as pd

    text = pd.Series(text_column(col).values, dtype=object).str.strip().str.lower()
    return text.isin(YES).to_numpy(dtype=bool)
