"""The dashboard's Excel export goes through the one spreadsheet writer."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from openpyxl import load_workbook
from sqlalchemy import update

from o2c_desktop.models import Customer
from o2c_desktop.models.db import open_database
from tests.services._view_book import build_view_book

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.dashboard_view import DashboardView
    from o2c_desktop.ui.main_window import MainWindow

HOSTILE = '=HYPERLINK("http://x","y")'


@pytest.fixture
def book_url(tmp_path: Path) -> str:
    """The small book, with a customer whose name looks like a formula."""
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    database = open_database(url)
    try:
        build_view_book(database)
        with database.session("setup") as s:
            s.execute(
                update(Customer)
                .where(Customer.reference == "118436")
                .values(name=HOSTILE)
            )
    finally:
        database.dispose()
    return url


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_the_top_customers_export_keeps_a_formula_like_name_as_text(
    window: MainWindow, qtbot: QtBot, tmp_path: Path
) -> None:
    dashboard: DashboardView = window.pages()["dashboards"]  # type: ignore[assignment]
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)
    with qtbot.waitSignal(dashboard.dashboard_shown, timeout=10000):
        dashboard.show_dashboard("top")
    path = tmp_path / "top.xlsx"
    dashboard.export_excel(str(path))

    sheet = load_workbook(path).active
    assert sheet is not None
    cells = [c for row in sheet.iter_rows() for c in row if c.value is not None]
    assert not [c.coordinate for c in cells if c.data_type == "f"]
    named = [c for c in cells if c.value == HOSTILE]
    assert named
    assert all(c.data_type == "s" for c in named)
    assert any(c.data_type == "n" for c in cells)  # the amounts stay numbers
