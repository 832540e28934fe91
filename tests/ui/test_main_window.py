"""The main window: navigation, status bar, global search, drops, failures."""

from __future__ import annotations

import dataclasses
import functools
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from PySide6.QtCore import QMimeData, QPointF, Qt, QUrl
from PySide6.QtGui import QDragEnterEvent, QDropEvent
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QMessageBox

from o2c_desktop import settings as settings_mod
from o2c_desktop.app import open_workspace_or_demo
from o2c_desktop.i18n import format_money
from o2c_desktop.settings import Settings, default_database_url
from o2c_desktop.ui import customers_view
from o2c_desktop.ui.main_window import PAGES, ImportUnavailableView, MainWindow

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QWidget
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.agenda_view import AgendaView
    from o2c_desktop.ui.customers_view import CustomersView
    from o2c_desktop.ui.dashboard_view import DashboardView
    from o2c_desktop.ui.ports import Backend
    from o2c_desktop.ui.scenarios_view import ScenariosView
    from o2c_desktop.ui.workers import TaskRunner
    from tests.ui.conftest import FakeImportPage


def _settle(qtbot: QtBot, window: MainWindow) -> None:
    """Wait until every page has its first data (nothing in flight)."""
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)


def _drop(target: QWidget, paths: list[Path]) -> bool:
    """Drag `paths` over `target` and drop them; True when the drop was taken."""
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    mime.setText("\n".join(str(p) for p in paths))
    actions = Qt.DropAction.CopyAction
    buttons, mods = Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier
    enter = QDragEnterEvent(QPointF(5, 5), actions, mime, buttons, mods)
    QApplication.sendEvent(target, enter)
    if not enter.isAccepted():
        return False
    drop = QDropEvent(QPointF(5, 5), actions, mime, buttons, mods)
    QApplication.sendEvent(target, drop)
    return drop.isAccepted()


def test_navigation_lists_every_page_in_french_and_switches_pages(
    window: MainWindow,
) -> None:
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert labels == [
        "Agenda",
        "Clients",
        "Scénarios",
        "Tableaux de bord",
        "Équipe",  # from /tmp/fr_team.json, merged by `tools/i18n.py merge`
        "Import",
        "Paramètres",
    ]
    assert all(
        not window.nav.item(i).icon().isNull() for i in range(window.nav.count())
    )
    for row, name in enumerate(PAGES):
        window.nav.setCurrentRow(row)
        assert window.current_page_name() == name
        assert window.stack.currentWidget() is window.pages()[name]


def test_status_bar_names_the_database_and_the_user(
    window: MainWindow, book_url: str
) -> None:
    path = book_url.removeprefix("sqlite:///")
    assert window.db_label.text() == f"Base de données : SQLite — {path}"
    assert (
        window.user_label.text() == "Utilisateur : Alex Rossi (Chargé de recouvrement)"
    )


def test_the_agenda_shows_the_users_actions_late_ones_on_top_of_today(
    window: MainWindow,
) -> None:
    agenda: AgendaView = window.pages()["agenda"]  # type: ignore[assignment]
    today, tomorrow = agenda.columns
    assert today.day_label.text().startswith("Mardi")
    assert today.date_label.text().startswith("24/03/2026")
    assert tomorrow.day_label.text() == "Mercredi"
    model = today.model
    assert model.rowCount() == 2
    late_call = [model.data(model.index(0, c)) for c in range(4)]
    assert late_call[0] == "Denis S.A.S."
    assert late_call[3] == format_money(Decimal("2300.00"), "EUR", "fr")
    assert model.data(model.index(0, 0), Qt.ItemDataRole.ForegroundRole) is not None
    assert model.data(model.index(1, 0), Qt.ItemDataRole.ForegroundRole) is None
    assert today.progress.value() == 0
    assert (
        "Alex Rossi : 2 actions en attente, dont 1 en retard" in agenda.summary.text()
    )
    assert agenda.confirm_model.rowCount() == 1  # the letter to confirm


# The offscreen platform warns that it can't size windows from hints.
@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_ctrl_k_focuses_the_global_search_and_enter_finds_customers(
    window: MainWindow, qtbot: QtBot
) -> None:
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    window.nav.setFocus()
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    qtbot.waitUntil(lambda: window.search_edit.hasFocus())
    customers: CustomersView = window.pages()["customers"]  # type: ignore[assignment]
    _settle(qtbot, window)
    QTest.keyClicks(window.search_edit, "18981")
    with qtbot.waitSignal(customers.loaded, timeout=10000):
        QTest.keyClick(window.search_edit, Qt.Key.Key_Return)
    assert window.current_page_name() == "customers"
    assert customers.model.rowCount() == 1
    assert customers.model.row_value(0).name == "Monnier et Fils"
    assert customers.count_label.text() == "1 client"


def test_dropping_a_spreadsheet_anywhere_hands_it_to_the_import_page(
    window: MainWindow, fake_import: FakeImportPage, tmp_path: Path
) -> None:
    book = tmp_path / "balance âgée.xlsx"
    book.write_bytes(b"PK")
    # Over a text field, which would otherwise take the file name as text.
    assert _drop(window.search_edit, [book])
    assert window.current_page_name() == "import"
    assert fake_import.opened == [str(book)]
    assert window.search_edit.text() == ""


def test_a_file_that_is_not_a_spreadsheet_is_not_taken(
    window: MainWindow, fake_import: FakeImportPage, tmp_path: Path
) -> None:
    notes = tmp_path / "report.pdf"
    notes.write_bytes(b"%PDF-1.4 not a spreadsheet")
    assert not _drop(window.nav, [notes])
    assert fake_import.opened == []
    assert window.current_page_name() == "agenda"


def test_without_an_import_screen_the_import_page_says_so(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, tmp_path: Path
) -> None:
    main = MainWindow(runner, backend, Settings(language="fr"))
    qtbot.addWidget(main)
    page = main.pages()["import"]
    assert isinstance(page, ImportUnavailableView)
    assert "n'est pas disponible" in page.message.text()
    csv = tmp_path / "balance.csv"
    csv.write_text("a;b\n")
    assert _drop(main.stack, [csv])
    assert "Non importé : balance.csv" in page.message.text()
    main.close()


def test_customers_load_more_rows_as_the_list_scrolls(
    window: MainWindow, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(customers_view, "PAGE_SIZE", 3)
    customers: CustomersView = window.pages()["customers"]  # type: ignore[assignment]
    _settle(qtbot, window)
    with qtbot.waitSignal(customers.loaded, timeout=10000):
        window.show_page("customers")
        customers.refresh()
    model = customers.model
    assert (model.rowCount(), model.total) == (3, 4)
    assert model.canFetchMore(model.index(-1, -1))
    with qtbot.waitSignal(customers.page_loaded, timeout=10000):
        model.fetchMore(model.index(-1, -1))
    assert model.rowCount() == 4
    assert not model.canFetchMore(model.index(-1, -1))
    amounts = [model.data(model.index(r, 4)) for r in range(4)]
    assert amounts[2] == format_money(Decimal("1634.56"), "EUR", "fr")
    align = model.data(model.index(0, 4), Qt.ItemDataRole.TextAlignmentRole)
    assert align & Qt.AlignmentFlag.AlignRight


@pytest.mark.qt_log_ignore("propagateSizeHints")  # the drill-down dialog, offscreen
def test_dashboard_shows_the_book_and_its_aged_balance(
    window: MainWindow, qtbot: QtBot
) -> None:
    dashboard: DashboardView = window.pages()["dashboards"]  # type: ignore[assignment]
    _settle(qtbot, window)
    with qtbot.waitSignal(dashboard.dashboard_shown, timeout=10000):
        dashboard.refresh()
    tab = dashboard.pages["aging"]
    model = tab.model
    assert [model.data(model.index(r, 0)) for r in range(model.rowCount())] == [
        "Non échu",
        "1\u201330",
        "31\u201360",
        "61\u201390",
        "91\u2013180",
        "> 180",
        "Total",
    ]
    # EUR, the main currency: the GBP item is not added to it
    assert model.data(model.index(6, 1)) == format_money(
        Decimal("3934.56"), "EUR", "fr"
    )
    assert model.data(model.index(6, 2)) == "6"
    with qtbot.waitSignal(dashboard.drill_opened, timeout=10000) as opened:
        tab.chart.click_category(5)  # > 180 days: Denis's F-9
    drill = opened.args[0]
    assert drill.model.rowCount() == 1
    drill.close()
    for key in ("dso", "top", "revenue", "risk", "team", "disputes", "cash"):
        with qtbot.waitSignal(dashboard.dashboard_shown, timeout=10000):
            dashboard.show_dashboard(key)
        assert dashboard.pages[key].data is not None


@pytest.mark.qt_log_ignore("propagateSizeHints")  # a shown window, offscreen
def test_hidden_dashboards_draw_their_chart_only_when_shown(
    window: MainWindow, qtbot: QtBot
) -> None:
    # Every dashboard loads at start-up; drawing them all (pyqtgraph) would
    # hold the agenda back, so a chart draws when its page is shown (#15).
    dashboard: DashboardView = window.pages()["dashboards"]  # type: ignore[assignment]
    _settle(qtbot, window)
    with qtbot.waitSignal(dashboard.dashboard_shown, timeout=10000):
        dashboard.refresh()
    chart = dashboard.pages["aging"].chart
    assert dashboard.pages["aging"].data is not None
    built_hidden = chart.plot is not None
    window.show()
    window.show_page("dashboards")
    qtbot.waitExposed(window)
    assert not built_hidden
    qtbot.waitUntil(lambda: chart.plot is not None, timeout=10000)
    # invoices and credits, one bar per bucket of the aged balance
    visible = [bar for bar in chart._bars if bar.isVisible()]
    assert [len(bar.opts["height"]) for bar in visible] == [6, 6]


def test_scenarios_show_the_steps_of_the_selected_one(
    window: MainWindow, qtbot: QtBot
) -> None:
    scenarios: ScenariosView = window.pages()["scenarios"]  # type: ignore[assignment]
    _settle(qtbot, window)
    signals = [scenarios.loaded, scenarios.steps_loaded]
    with qtbot.waitSignals(signals, order="strict", timeout=10000):
        scenarios.refresh()
    assert scenarios.scenario_model.rowCount() == 1
    model = scenarios.step_model
    assert model.rowCount() == 8
    first = [model.data(model.index(0, c)) for c in range(5)]
    assert first == [
        "Étape 1",
        "-15 jours",
        "Email",
        "FR EMAIL PRE-RELANCE J-10",
        "Automatique",
    ]
    assert model.data(model.index(1, 1)) == "0 jour"
    assert scenarios.name_edit.text() == "Standard"


def test_the_language_switches_live(window: MainWindow) -> None:
    combo = window.settings_view.language_combo
    combo.setCurrentIndex(combo.findData("en"))
    labels = [window.nav.item(i).text() for i in range(window.nav.count())]
    assert labels == [
        "Agenda",
        "Customers",
        "Scenarios",
        "Dashboards",
        "Team",
        "Import",
        "Settings",
    ]
    assert window.user_label.text() == "User: Alex Rossi (Collector)"
    combo.setCurrentIndex(combo.findData("fr"))
    assert window.nav.item(1).text() == "Clients"


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_a_file_that_is_not_a_database_is_refused_and_the_local_one_offered(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, tmp_path: Path
) -> None:
    junk = tmp_path / "compta.sqlite3"
    junk.write_bytes(b"Not a database at all\n" * 100)
    before = junk.read_bytes()
    settings = Settings(database_url=f"sqlite:///{junk}", language="fr")
    main = MainWindow(runner, backend, settings)
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.database_failed, timeout=10000) as failed:
        main.connect_database(settings)
    assert "is not an O2C Desktop database" in str(failed.args[0])
    assert junk.read_bytes() == before
    assert main.workspace is None
    assert main.db_label.text() == "Aucune base de données ouverte"
    dialog = main.problem_dialog
    assert isinstance(dialog, QMessageBox)
    texts = [b.text() for b in dialog.buttons()]
    assert {"Ouvrir les paramètres", "Utiliser la base locale", "Quitter"} <= set(texts)
    local = next(b for b in dialog.buttons() if b.text() == "Utiliser la base locale")
    with qtbot.waitSignal(main.workspace_changed, timeout=10000):
        local.click()
    path = default_database_url().removeprefix("sqlite:///")
    assert main.db_label.text() == f"Base de données : SQLite — {path}"
    assert main.user_label.text() == "Aucun utilisateur choisi (voir Paramètres)"
    assert junk.read_bytes() == before
    main.close()


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_open_settings_from_the_failure_dialog(
    qtbot: QtBot, runner: TaskRunner, backend: Backend
) -> None:
    settings = Settings(database_url="postgresql://o2c@127.0.0.1:9/book", language="fr")
    main = MainWindow(runner, backend, settings)
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.database_failed, timeout=20000) as failed:
        main.connect_database(settings)
    assert "Cannot reach the database server at 127.0.0.1:9" in str(failed.args[0])
    dialog = main.problem_dialog
    assert dialog is not None
    next(b for b in dialog.buttons() if b.text() == "Ouvrir les paramètres").click()
    assert main.current_page_name() == "settings"
    main.close()


def test_window_geometry_is_kept_between_sessions(
    qtbot: QtBot, backend: Backend, tmp_path: Path
) -> None:
    from o2c_desktop.app import EXPECTED_ERRORS
    from o2c_desktop.ui.settings_store import SettingsStore
    from o2c_desktop.ui.workers import TaskRunner

    store_path = tmp_path / "state.ini"
    first = MainWindow(
        TaskRunner(EXPECTED_ERRORS), backend, Settings(), SettingsStore(store_path)
    )
    qtbot.addWidget(first)
    first.resize(700, 500)
    first.close()
    assert "persist" in store_path.read_text()
    second = MainWindow(
        TaskRunner(EXPECTED_ERRORS), backend, Settings(), SettingsStore(store_path)
    )
    qtbot.addWidget(second)
    assert (second.width(), second.height()) == (700, 500)
    second.close()


def test_the_first_start_on_an_empty_database_builds_the_demo_book(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, tmp_path: Path
) -> None:
    # What `tools/dev.py app` does: the app itself fills an empty book.
    first = dataclasses.replace(
        backend,
        open_workspace=functools.partial(open_workspace_or_demo, size=(12, 120)),
    )
    url = f"sqlite:///{tmp_path / 'first.sqlite3'}"
    settings = Settings(database_url=url, language="fr")
    main = MainWindow(runner, first, settings, settings_path=tmp_path / "s.ini")
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.workspace_changed, timeout=30000):
        main.connect_database(settings)
    workspace = main.workspace
    assert workspace is not None
    assert workspace.user is not None
    assert workspace.user.login == "arossi"
    assert main.user_label.text().startswith("Utilisateur : Alex Rossi")
    # The window and the saved settings agree on who is working, so saving
    # the Settings page later cannot put the empty login back.
    assert main.settings.user_login == "arossi"
    assert main.settings_view.settings.user_login == "arossi"
    assert settings_mod.load().user_login == "arossi"
    day = backend.today()
    assert workspace.book.customers("", 0, 100, day).total == 12

    with qtbot.waitSignal(main.workspace_changed, timeout=30000):
        main.connect_database(main.settings)
    again = main.workspace
    assert again is not None
    assert again.settings is None
    assert again.book.customers("", 0, 100, day).total == 12
    main.close()
