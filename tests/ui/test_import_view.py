"""The import screen: drop a file on the window, check the preview, import it."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QMessageBox
from sqlalchemy import func, select

from o2c_desktop.app import import_page_factory
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import Customer, Item
from o2c_desktop.models.db import open_database
from o2c_desktop.services.importing import ImportOutcome
from o2c_desktop.settings import Settings
from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.ui.import_itemmodels import MappingTableModel
from o2c_desktop.ui.import_view import ImportView
from o2c_desktop.ui.main_window import MainWindow
from o2c_desktop.ui.settings_store import SettingsStore
from tests.sync import import_builders as b
from tests.ui.test_main_window import _drop

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.ports import Backend
    from o2c_desktop.ui.workers import TaskRunner

HEAD = [
    "Code client",
    "Nom client",
    "N° facture",
    "Date facture",
    "Date d'échéance",
    "Montant TTC",
    "Reste dû",
    "Devise",
]
DAY = dt.date(2026, 1, 15)
# The confirmation dialogs, offscreen.
pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


def _rows(count: int, bad_date_on: int | None = None) -> list[list[object]]:
    rows: list[list[object]] = []
    for i in range(count):
        due: object = DAY + dt.timedelta(days=30 + i)
        if i == bad_date_on:
            due = "31/02/2026"
        rows.append(
            [
                f"NEW{i % 4:03d}",
                f"Client importé {i % 4}",
                f"FA-{i:05d}",
                DAY,
                due,
                1200.0 + i,
                1000.0 + i,
                "EUR",
            ]
        )
    return rows


def _aged_balance(path: Path, count: int = 30, bad_date_on: int | None = None) -> Path:
    """An ERP export: a title line, a blank line, the table, a total line."""
    title: list[object] = ["Balance âgée clients au 31/03/2026"]
    total: list[object] = ["Total", "", "", "", "", 0, 0, ""]
    return b.xlsx(path, [title, [], HEAD, *_rows(count, bad_date_on), total], "Balance")


def _counts(url: str) -> tuple[int, int]:
    database = open_database(url, migrate=False)
    try:
        with database.session() as s:
            items = s.scalar(select(func.count(Item.id))) or 0
            customers = s.scalar(select(func.count(Customer.id))) or 0
    finally:
        database.dispose()
    return items, customers


@pytest.fixture
def main(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, book_url: str, tmp_path: Path
) -> Iterator[MainWindow]:
    """The main window with the real import screen, on the small book."""
    settings = Settings(database_url=book_url, user_login="arossi", language="en")
    window = MainWindow(
        runner,
        backend,
        settings,
        store=SettingsStore(tmp_path / "window.ini"),
        import_page_factory=import_page_factory(runner, backend.today),
        settings_path=tmp_path / "settings.ini",
    )
    qtbot.addWidget(window)
    with qtbot.waitSignal(window.workspace_changed, timeout=10000):
        window.connect_database(settings)
    qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    yield window
    window.close()


def _view(window: MainWindow) -> ImportView:
    page = window.pages()["import"]
    assert isinstance(page, ImportView)
    return page


def _drop_and_check(qtbot: QtBot, window: MainWindow, path: Path) -> ImportView:
    view = _view(window)
    with qtbot.waitSignal(view.check_finished, timeout=20000):
        assert _drop(window.nav, [path])
    return view


def _import_confirming_close(qtbot: QtBot, view: ImportView) -> ImportOutcome:
    """Click Import, say yes to closing what the file does not list."""
    with qtbot.waitSignal(view.close_confirmation_asked, timeout=20000):
        view.import_button.click()
    assert view.close_box is not None
    with qtbot.waitSignal(view.import_finished, timeout=20000) as done:
        view.close_box.button(QMessageBox.StandardButton.Yes).click()
    result = done.args[0]
    assert isinstance(result, ImportOutcome)
    return result


def test_a_dropped_workbook_is_previewed_imported_and_summed_up(
    qtbot: QtBot, main: MainWindow, book_url: str, tmp_path: Path
) -> None:
    path = _aged_balance(tmp_path / "balance.xlsx")
    items_before, customers_before = _counts(book_url)

    view = _drop_and_check(qtbot, main, path)

    assert main.current_page_name() == "import"
    fields = {
        view.mapping_model.row_value(r).header: view.mapping_model.row_value(r).field
        for r in range(view.mapping_model.rowCount())
    }
    assert fields["N° facture"] is Field.NUMBER
    assert fields["Reste dû"] is Field.REMAINING
    assert fields["Date d'échéance"] is Field.DUE_DATE
    assert view.rows_model.rowCount() == 30
    first = view.rows_model.row_value(0)
    assert (first.number, first.remaining) == ("FA-00000", Decimal("1000.00"))
    assert view.problem_model.rowCount() == 0
    assert view.as_of_edit.date().toPython() == dt.date(2026, 3, 31)  # from the title
    assert view.entity_combo.currentData() == "FR01"
    assert view.import_button.isEnabled()

    result = _import_confirming_close(qtbot, view)

    assert (result.customers_created, result.items_created) == (4, 30)
    assert result.items_closed > 0  # FR01's items the file no longer lists
    assert result.outstanding_after == sum(Decimal(1000 + i) for i in range(30))
    assert view.stack.currentIndex() == 2
    assert view.cards["items_created"].value.text() == "30"
    assert view.cards["customers_created"].value.text() == "4"
    assert view.cards["outstanding_after"].value.text() == "€30,435.00"
    items_after, customers_after = _counts(book_url)
    assert (items_after, customers_after) == (items_before + 30, customers_before + 4)


def test_cancelling_the_import_writes_nothing(
    qtbot: QtBot, main: MainWindow, book_url: str, tmp_path: Path
) -> None:
    path = _aged_balance(tmp_path / "balance.xlsx", count=3000)
    before = _counts(book_url)
    view = _drop_and_check(qtbot, main, path)

    with qtbot.waitSignal(view.import_cancelled, timeout=20000):
        view.import_button.click()
        assert view.cancel_button.isVisibleTo(view)
        view.cancel_button.click()

    assert _counts(book_url) == before
    assert "nothing was written" in view.banner.text()
    assert view.stack.currentIndex() == 1
    assert view.import_button.isEnabled()


def test_errors_are_listed_and_the_valid_rows_can_be_imported(
    qtbot: QtBot, main: MainWindow, book_url: str, tmp_path: Path
) -> None:
    path = _aged_balance(tmp_path / "balance.xlsx", count=10, bad_date_on=3)
    items_before, _customers = _counts(book_url)
    view = _drop_and_check(qtbot, main, path)

    problem = view.problem_model.row_value(0)
    assert (problem.file, problem.sheet, problem.row) == ("balance.xlsx", "Balance", 7)
    assert (problem.column, problem.value) == ("E (Date d'échéance)", "31/02/2026")
    assert problem.message == "unknown date format"
    assert not view.import_button.isEnabled()
    assert view.valid_only_check.isVisibleTo(view)

    view.valid_only_check.setChecked(True)
    assert view.import_button.isEnabled()
    result = _import_confirming_close(qtbot, view)

    assert (result.items_created, result.rows_rejected) == (9, 1)
    assert _counts(book_url)[0] == items_before + 9


def test_choosing_a_field_in_the_mapping_reads_the_file_again(
    qtbot: QtBot, main: MainWindow, tmp_path: Path
) -> None:
    view = _drop_and_check(qtbot, main, _aged_balance(tmp_path / "balance.xlsx"))
    model = view.mapping_model
    row = next(
        r for r in range(model.rowCount()) if model.row_value(r).header == "Devise"
    )
    index = model.index(row, MappingTableModel.FIELD_COLUMN)

    with qtbot.waitSignal(view.check_finished, timeout=20000):
        assert model.setData(index, Field.IGNORE.value)

    assert model.row_value(row).field is Field.IGNORE
    assert model.row_value(row).reason == "user"
    assert view.options.overrides == {7: Field.IGNORE}


def test_the_import_item_models_pass_the_model_tester(
    qtbot: QtBot, qtmodeltester: object, main: MainWindow, tmp_path: Path
) -> None:
    path = _aged_balance(tmp_path / "balance.xlsx", count=10, bad_date_on=3)
    view = _drop_and_check(qtbot, main, path)
    for model in (view.mapping_model, view.rows_model, view.problem_model):
        assert model.rowCount() > 0
        qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_a_file_without_due_dates_asks_for_the_default_payment_terms(
    qtbot: QtBot, main: MainWindow, book_url: str, tmp_path: Path
) -> None:
    view = _drop_and_check(qtbot, main, b.fec(tmp_path / "FEC.txt"))
    assert view.options_form.isRowVisible(view.terms_spin)
    view.terms_spin.setValue(45)
    _import_confirming_close(qtbot, view)

    engine = open_database(book_url)
    with engine.session() as s:
        issue, due = s.execute(
            select(Item.issue_date, Item.due_date).where(Item.number == "FA001")
        ).one()
    engine.dispose()
    assert due - issue == dt.timedelta(days=45)  # Dupont SA has no payment terms


def _open_items(url: str) -> int:
    database = open_database(url, migrate=False)
    try:
        with database.session() as s:
            query = select(func.count(Item.id)).where(Item.status == ItemStatus.OPEN)
            return int(s.scalar(query) or 0)
    finally:
        database.dispose()


def test_a_short_file_stops_and_asks_and_an_import_is_undone_from_the_history(
    qtbot: QtBot,
    qtmodeltester: object,
    main: MainWindow,
    book_url: str,
    tmp_path: Path,
) -> None:
    open_before = _open_items(book_url)
    view = _drop_and_check(qtbot, main, _aged_balance(tmp_path / "balance.xlsx"))
    first = _import_confirming_close(qtbot, view)
    assert _open_items(book_url) == open_before - first.items_closed + 30

    # The next night's export is cut short: 3 of the 30 rows.
    view = _drop_and_check(qtbot, main, _aged_balance(tmp_path / "cut.xlsx", 3))
    with qtbot.waitSignal(view.close_confirmation_asked, timeout=20000) as asked:
        view.import_button.click()
    check = asked.args[0]
    assert (check.items, check.open_items) == (27, 30)
    assert check.amount == sum(Decimal(1000 + i) for i in range(3, 30))
    box = view.close_box
    assert box is not None
    assert box.text().startswith(
        "This file does not list 27 of the 30 open items: importing it in full "
        "closes them as paid. That is €27,432.00 of the €30,435.00 outstanding."
    )
    box.button(QMessageBox.StandardButton.No).click()
    assert view.banner.text() == "Nothing was imported."
    assert _open_items(book_url) == open_before - first.items_closed + 30

    # Undo the first import from the history: the book is back as before.
    view.stack.setCurrentIndex(0)
    assert view.history_box.isVisibleTo(view)
    model = view.history_model
    qtbot.waitUntil(lambda: model.rowCount() >= 1, timeout=10000)
    assert model.row_value(0).id == first.import_id
    qtmodeltester.check(model)  # type: ignore[attr-defined]
    assert not view.undo_button.isEnabled()
    view.history_view.selectRow(0)
    assert view.undo_button.isEnabled()
    view.undo_button.click()
    assert view.undo_box is not None
    with qtbot.waitSignal(view.undo_finished, timeout=20000) as undone:
        view.undo_box.button(QMessageBox.StandardButton.Yes).click()
    assert undone.args[0].items_deleted == 30
    assert _open_items(book_url) == open_before
    assert view.banner.text().startswith(f"Import {first.import_id} undone:")
    qtbot.waitUntil(lambda: model.row_value(0).undone_at is not None, timeout=10000)
