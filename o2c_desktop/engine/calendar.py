"""Business days: weekends and the public holidays of an entity's country.

A planned dunning date that falls on a non-working day moves to the next
working day. The engine only needs the reverse question, asked once per run:
"which is the last working day on or before today?" (see `dunning.py`).

Computing a country's holidays loads the `holidays` package, about 0.15 s of
the app's start-up for the agenda's five days; `keep_holidays_in` lets the
app remember the dates in its cache folder, so later starts read a small JSON
file instead.
"""

from __future__ import annotations

import datetime as dt
import functools
import importlib.util
import json
import logging
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

log = logging.getLogger(__name__)

_CACHE_NAME = "public-holidays.json"
_cache_lock = threading.Lock()
_cache_folder: Path | None = None


def keep_holidays_in(folder: Path | None) -> None:
    """Remember computed public holidays in `folder` across runs (None: don't)."""
    global _cache_folder  # one process-wide setting, made at start-up
    _cache_folder = folder
    _calendar.cache_clear()


def _holidays_version() -> str:
    # The installed package's folder and its time: a new release of it (which
    # may know other dates) invalidates the cache. importlib.metadata would
    # cost 70 ms of the start-up.
    spec = importlib.util.find_spec("holidays")
    if spec is None or spec.origin is None:
        return "?"
    folder = Path(spec.origin).parent
    try:
        return f"{folder}@{folder.stat().st_mtime_ns}"
    except OSError:
        return "?"


def _computed_holidays(country: str, first_year: int, last_year: int) -> list[str]:
    import holidays  # loaded only when the cache has no answer

    try:
        days = holidays.country_holidays(
            country.upper(), years=range(first_year, last_year + 1)
        )
    except NotImplementedError:
        # An unknown country still gets weekends; say so once, don't fail a run.
        log.warning("No public holidays known for country %r", country)
        return []
    return sorted(day.isoformat() for day in days)


def _read_cache(path: Path, version: str) -> dict[str, list[str]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("holidays_version") != version:
        return {}  # another release of `holidays` may know other dates
    days = data.get("days")
    return days if isinstance(days, dict) else {}


def _write_cache(path: Path, version: str, days: dict[str, list[str]]) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".holidays-")
        with os.fdopen(fd, "w", encoding="utf-8") as out:
            json.dump({"holidays_version": version, "days": days}, out)
        os.replace(tmp, path)  # readers never see half a file
    except OSError as exc:
        log.warning("Public holidays not cached in %s: %s", path.parent, exc)


def _holiday_days(country: str, first_year: int, last_year: int) -> list[str]:
    folder = _cache_folder
    if folder is None:
        return _computed_holidays(country, first_year, last_year)
    key = f"{country.upper()}:{first_year}:{last_year}"
    path = folder / _CACHE_NAME
    version = _holidays_version()
    with _cache_lock:
        cached = _read_cache(path, version)
        if key in cached:
            return cached[key]
        cached[key] = _computed_holidays(country, first_year, last_year)
        _write_cache(path, version, cached)
        return cached[key]


@functools.cache
def _calendar(country: str, first_year: int, last_year: int) -> np.busdaycalendar:
    days = _holiday_days(country, first_year, last_year) if country else []
    return np.busdaycalendar(
        weekmask="1111100", holidays=np.array(days, dtype="datetime64[D]")
    )


def business_calendar(country: str | None, around: dt.date) -> np.busdaycalendar:
    """Working days of `country` for the years around `around` (Mon-Fri, holidays off).

    Args:
        country: ISO 3166 code of the entity's country; None or "" for weekends only.
        around: a day; the calendar covers the year before to the year after.
    """
    return _calendar(country or "", around.year - 1, around.year + 1)


def is_business_day(day: dt.date, country: str | None) -> bool:
    """Whether `day` is a working day in `country`."""
    return bool(np.is_busday(day, busdaycal=business_calendar(country, day)))


def next_business_day(day: dt.date, country: str | None) -> dt.date:
    """`day` itself when it is a working day, else the next working day."""
    moved = np.busday_offset(
        day, 0, roll="forward", busdaycal=business_calendar(country, day)
    )
    return dt.date.fromisoformat(str(moved))


def last_business_day(day: dt.date, country: str | None) -> dt.date:
    """`day` itself when it is a working day, else the working day before it."""
    moved = np.busday_offset(
        day, 0, roll="backward", busdaycal=business_calendar(country, day)
    )
    return dt.date.fromisoformat(str(moved))
