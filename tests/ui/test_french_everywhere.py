"""Every screen in French shows French: no raw code, no ISO date, no decimal point.

A collector reads "15,5 %", "31/07/2024" and "Appel téléphonique", never
"15.5 %", "2024-07-31" or "phone_call". This walks every page, every
dashboard and a client card of the small book as Alex Rossi sees them and
reads every visible text: labels, buttons, tabs, lists, table cells and
headers, chart categories.
"""

from __future__ import annotations

import functools
import re
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt
from PySide6.QtWidgets import (
    QAbstractButton,
    QAbstractItemView,
    QComboBox,
    QGroupBox,
    QLabel,
    QLineEdit,
    QTabBar,
    QWidget,
)
from sqlalchemy import select

from o2c_desktop.models import Customer
from o2c_desktop.models.db import open_database
from o2c_desktop.services.demo import build_demo
from o2c_desktop.ui.charts import DashboardChart
from tests.services._view_book import TODAY, build_view_book

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.agenda_view import AgendaView
    from o2c_desktop.ui.dashboard_view import DashboardTab, DashboardView
    from o2c_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")

_WRONG = {
    "an ISO date": re.compile(r"\b\d{4}-\d{2}-\d{2}\b"),
    "an ISO month": re.compile(r"\b(19|20)\d{2}-(0[1-9]|1[0-2])\b"),
    "an ISO week": re.compile(r"\b\d{4}-W\d{2}\b"),
    "a decimal point": re.compile(r"(?<![\w.])\d+\.\d+(?![\w.])"),
    "a raw code": re.compile(r"\b([a-z]+_[a-z_]+|[A-Z]{2,}_[A-Z_]+)\b"),
}
# Texts the user typed or that name a place on disk are theirs, not ours.
_THEIRS = (QLineEdit,)
_ROWS = 60


def _columns(model: QAbstractItemModel, parent: QModelIndex) -> int:
    try:
        return model.columnCount(parent)
    except TypeError:  # a list model keeps columnCount private in PySide6
        return 1


def _model_texts(model: QAbstractItemModel) -> list[str]:
    out: list[str] = []
    root = QModelIndex()
    for column in range(_columns(model, root)):
        header = model.headerData(column, Qt.Orientation.Horizontal)
        out.append(str(header or ""))

    def walk(parent: Any, depth: int) -> None:
        for row in range(min(model.rowCount(parent), _ROWS)):
            for column in range(_columns(model, parent)):
                index = model.index(row, column, parent)
                value = model.data(index, Qt.ItemDataRole.DisplayRole)
                if value is not None:
                    out.append(str(value))
                tip = model.data(index, Qt.ItemDataRole.ToolTipRole)
                if tip is not None:
                    out.append(str(tip))
            if depth < 2:
                walk(model.index(row, 0, parent), depth + 1)

    walk(root, 0)
    return out


def _axis_texts(chart: DashboardChart) -> list[str]:
    """The figures along a chart's value axes, as drawn."""
    assert chart.plot is not None
    out: list[str] = []
    for side in ("left", "right"):
        axis = chart.plot.getAxis(side)
        low, high = axis.range
        for spacing, values in axis.tickValues(low, high, max(axis.height(), 100)):
            out += axis.tickStrings(values, axis.scale, spacing)
    return out


def visible_texts(root: QWidget) -> list[tuple[str, str]]:
    """(where, text) of everything `root` shows a user."""
    found: list[tuple[str, str]] = []

    def add(widget: QWidget, text: str) -> None:
        if text.strip():
            found.append((f"{type(widget).__name__} {widget.objectName()}", text))

    for widget in [root, *root.findChildren(QWidget)]:
        if isinstance(widget, _THEIRS) or widget.property("shows_code"):
            continue
        if isinstance(widget, QLabel):
            add(widget, re.sub(r"<[^>]+>", " ", widget.text()))
        elif isinstance(widget, QAbstractButton):
            add(widget, widget.text())
        elif isinstance(widget, QGroupBox):
            add(widget, widget.title())
        elif isinstance(widget, QTabBar):
            for i in range(widget.count()):
                add(widget, widget.tabText(i))
        elif isinstance(widget, QComboBox):
            for i in range(widget.count()):
                add(widget, widget.itemText(i))
        elif isinstance(widget, QAbstractItemView) and widget.model() is not None:
            for text in _model_texts(widget.model()):
                add(widget, text)
        if isinstance(widget, DashboardChart) and widget.plot is not None:
            for text in _axis_texts(widget):
                add(widget, text)
        categories = getattr(widget, "categories", None)
        if isinstance(categories, list | tuple):
            for text in categories:
                add(widget, str(text))
        tip = widget.toolTip()
        if tip:
            add(widget, re.sub(r"<[^>]+>", " ", tip))
    return found


def wrong_texts(root: QWidget, *, ignore: tuple[str, ...] = ()) -> list[str]:
    """What in `root` is not French as a French user expects it."""
    problems = []
    for where, text in visible_texts(root):
        for what, pattern in _WRONG.items():
            for match in pattern.finditer(text):
                if match.group(0) not in ignore:
                    problems.append(f"{what} {match.group(0)!r} in {where}: {text!r}")
    return sorted(set(problems))


@pytest.fixture(params=["small book", "demo book"])
def book_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The small book of the UI tests, and a small demo book (every kind of row)."""
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    database = open_database(url)
    try:
        if request.param == "demo book":
            build_demo(database, customers=40, items=800, today=TODAY)
        else:
            build_view_book(database)
    finally:
        database.dispose()
    return url


def _loaded(page: DashboardTab) -> bool:
    return page.data is not None


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=20000)


def test_every_page_shows_french_texts_numbers_and_dates(
    window: MainWindow, qtbot: QtBot, book_url: str
) -> None:
    window.resize(1440, 900)
    window.show()
    problems: list[str] = []
    for name in window.pages():
        window.show_page(name)
        _settle(qtbot, window)
        problems += wrong_texts(window.pages()[name])
    dashboard: DashboardView = window.pages()["dashboards"]  # type: ignore[assignment]
    window.show_page("dashboards")
    for key, page in dashboard.pages.items():
        dashboard.show_dashboard(key)
        qtbot.waitUntil(functools.partial(_loaded, page), timeout=20000)
        _settle(qtbot, window)
        problems += wrong_texts(page)

    database = open_database(book_url)
    try:
        with database.session() as s:
            ids = list(s.scalars(select(Customer.id).order_by(Customer.id).limit(8)))
    finally:
        database.dispose()
    agenda: AgendaView = window.pages()["agenda"]  # type: ignore[assignment]
    window.show_page("agenda")
    for customer_id in ids:
        with qtbot.waitSignal(agenda.card.loaded, timeout=20000):
            agenda.card.open_customer(customer_id)
        _settle(qtbot, window)
        for index in range(agenda.card.tables.count()):
            agenda.card.tables.setCurrentIndex(index)
            problems += wrong_texts(agenda.card)
    assert not problems, "\n".join(sorted(set(problems)))
