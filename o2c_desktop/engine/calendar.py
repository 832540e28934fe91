"""Business days: weekends and the public holidays of an entity's country.

A planned dunning date that falls on a non-working day moves to the next
working day. The engine only needs the reverse question, asked once per run:
"which is the last working day on or before today?" (see `dunning.py`).
"""

from __future__ import annotations

import datetime as dt
import functools
import logging

import holidays
import numpy as np

log = logging.getLogger(__name__)


@functools.cache
def _calendar(country: str, first_year: int, last_year: int) -> np.busdaycalendar:
    days: list[dt.date] = []
    if country:
        try:
            days = sorted(
                holidays.country_holidays(
                    country.upper(), years=range(first_year, last_year + 1)
                ).keys()
            )
        except NotImplementedError:
            # An unknown country still gets weekends; say so once, don't fail a run.
            log.warning("No public holidays known for country %r", country)
    return np.busdaycalendar(weekmask="1111100", holidays=days)


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
