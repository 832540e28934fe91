"""What every benchmark operation may assume about the benchmark book.

The runner builds the book with `o2c demo` at these settings; operations read
them from here rather than from the database (e.g. the dunning run's date).
"""

from __future__ import annotations

import datetime as dt
from typing import Final

# The book's last day: fixed, so results compare from one run to the next. A
# Monday after a month end (due dates cluster there): a heavy dunning day.
BOOK_TODAY: Final = dt.date(2026, 11, 2)
CUSTOMERS: Final = 100_000
ITEMS: Final = 1_000_000
SEED: Final = 35
