"""Working days: French holidays, and the cache that spares the start-up."""

from __future__ import annotations

import datetime as dt
import json
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.engine import calendar

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture(autouse=True)
def _no_cache_left() -> Iterator[None]:
    yield
    calendar.keep_holidays_in(None)


def test_a_french_public_holiday_is_not_a_working_day() -> None:
    calendar.keep_holidays_in(None)
    # 14 July 2026 is a Tuesday; Bastille Day.
    assert not calendar.is_business_day(dt.date(2026, 7, 14), "FR")
    assert calendar.next_business_day(dt.date(2026, 7, 14), "FR") == dt.date(
        2026, 7, 15
    )
    # Spain works on 14 July, and a Saturday is off everywhere.
    assert calendar.is_business_day(dt.date(2026, 7, 14), "ES")
    assert calendar.last_business_day(dt.date(2026, 7, 18), None) == dt.date(
        2026, 7, 17
    )


def test_holidays_come_from_the_cache_on_the_next_start(tmp_path: Path) -> None:
    calendar.keep_holidays_in(tmp_path)
    assert not calendar.is_business_day(dt.date(2026, 5, 1), "FR")
    data = json.loads((tmp_path / "public-holidays.json").read_text("utf-8"))
    assert "2026-05-01" in data["days"]["FR:2025:2027"]

    # What the cache says is what the next start uses: a day written there
    # as a holiday is one, without asking the `holidays` package again.
    data["days"]["FR:2025:2027"].append("2026-06-03")
    (tmp_path / "public-holidays.json").write_text(json.dumps(data), "utf-8")
    calendar.keep_holidays_in(tmp_path)
    assert not calendar.is_business_day(dt.date(2026, 6, 3), "FR")


def test_a_cache_of_another_holidays_release_is_recomputed(tmp_path: Path) -> None:
    stale = {"holidays_version": "0.0", "days": {"FR:2025:2027": ["2026-06-03"]}}
    (tmp_path / "public-holidays.json").write_text(json.dumps(stale), "utf-8")
    calendar.keep_holidays_in(tmp_path)
    assert calendar.is_business_day(dt.date(2026, 6, 3), "FR")
    assert not calendar.is_business_day(dt.date(2026, 12, 25), "FR")


def test_an_unwritable_cache_folder_still_gives_the_holidays(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("not a folder", "utf-8")
    calendar.keep_holidays_in(blocker / "cache")
    assert not calendar.is_business_day(dt.date(2026, 12, 25), "FR")
