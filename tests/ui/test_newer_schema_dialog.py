"""A book a colleague's newer app upgraded: the window says to install that version."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest
from PySide6.QtWidgets import QMessageBox

from o2c_desktop.settings import Settings
from o2c_desktop.ui.main_window import MainWindow
from tests.cli.test_newer_schema import NEWER, upgraded_by_a_newer_app

if TYPE_CHECKING:
    from pathlib import Path

    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.ports import Backend
    from o2c_desktop.ui.workers import TaskRunner


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_a_newer_schema_asks_for_the_newer_app_and_changes_nothing(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, tmp_path: Path
) -> None:
    book = tmp_path / "shared.sqlite3"
    url = upgraded_by_a_newer_app(book)
    before = book.read_bytes()
    settings = Settings(database_url=url, language="en")
    main = MainWindow(runner, backend, settings)
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.database_failed, timeout=10000) as failed:
        main.connect_database(settings)
    assert f"newer version of O2C Desktop (schema {NEWER};" in str(failed.args[0])
    dialog = main.problem_dialog
    assert isinstance(dialog, QMessageBox)
    assert dialog.windowTitle() == "A newer version of O2C Desktop is needed"
    assert dialog.text() == failed.args[0]
    assert dialog.informativeText().startswith(
        "Someone opened this database with a newer version of O2C Desktop, which "
        "upgraded it. Install that version"
    )
    assert {b.text() for b in dialog.buttons()} == {
        "Open settings", "Use the local database", "Quit"
    }  # fmt: skip
    assert main.workspace is None
    assert book.read_bytes() == before
    assert not list(tmp_path.glob("shared.backup-*"))
    main.close()


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_an_unreadable_file_keeps_the_plain_failure_dialog(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.sqlite3"
    junk.write_bytes(b"Not a database\n" * 300)
    settings = Settings(database_url=f"sqlite:///{junk}", language="en")
    main = MainWindow(runner, backend, settings)
    qtbot.addWidget(main)
    with qtbot.waitSignal(main.database_failed, timeout=10000):
        main.connect_database(settings)
    dialog = main.problem_dialog
    assert isinstance(dialog, QMessageBox)
    assert dialog.windowTitle() == "The database cannot be opened"
    assert dialog.informativeText() == "Nothing was changed."
    main.close()
