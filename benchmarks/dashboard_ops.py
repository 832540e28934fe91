"""The credit manager's dashboards and the scenario what-if (issue #8).

Each dashboard is timed from the service call to the values the chart draws,
on the whole book and narrowed to one portfolio; budget 1.5 s each on SQLite.
The what-if plans 30 days under an edited scenario; budget 10 s.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from benchmarks.book import BOOK_TODAY
from o2c_desktop.engine.analytics import DashboardFilter
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dashboards import KEYS, DashboardService

if TYPE_CHECKING:
    from collections.abc import Callable


def _dashboard(key: str, **narrow: Any) -> Callable[[str], object]:
    def op(url: str) -> object:
        db = open_database(url, migrate=False)
        try:
            service = DashboardService(AppContext(db=db, user_login="fgay"))
            f = DashboardFilter(**narrow)
            if key == "customer":
                f = DashboardFilter(customer_ids=(1,))
            return service.dashboard(key, f, BOOK_TODAY)
        finally:
            db.dispose()

    return op


def _what_if(url: str) -> object:
    from o2c_desktop.services.scenario_editor import ScenarioEditorService

    db = open_database(url, migrate=False)
    try:
        service = ScenarioEditorService(AppContext(db=db, user_login="fgay"))
        draft = service.load(service.scenario_ids()[0])
        steps = tuple(
            s if s.offset_days <= 0 else s.moved(s.offset_days + 2) for s in draft.steps
        )
        return service.what_if(draft.with_steps(steps), BOOK_TODAY, 30)
    finally:
        db.dispose()


OPS: dict[str, Callable[[str], object]] = {
    f"dashboards: {key}": _dashboard(key) for key in KEYS
}
OPS["dashboards: aging, one portfolio"] = _dashboard("aging", portfolio_id=1)
OPS["dashboards: dso, one portfolio"] = _dashboard("dso", portfolio_id=1)
OPS["dashboards: revenue, one entity"] = _dashboard("revenue", entity_id=1)
OPS["dashboards: cash, one entity"] = _dashboard("cash", entity_id=1)
OPS["scenario editor: what-if 30 days"] = _what_if
