"""UI test fixtures: a migrated database with a small book, a runner, a window."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from o2c_desktop import i18n
from o2c_desktop.app import EXPECTED_ERRORS, make_backend
from o2c_desktop.models.db import open_database
from o2c_desktop.settings import Settings
from o2c_desktop.ui.main_window import MainWindow
from o2c_desktop.ui.settings_store import SettingsStore
from o2c_desktop.ui.workers import MainThreadGarbageCollector, TaskRunner
from tests.models.test_database_auth import password_server  # noqa: F401 - fixture
from tests.services._view_book import TODAY, build_view_book

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from PySide6.QtWidgets import QApplication
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.ports import Backend


@pytest.fixture(autouse=True)
def _gc_on_the_gui_thread(qapp: QApplication) -> Iterator[None]:
    """As in the app: Python's cyclic GC runs on the GUI thread only."""
    collector = MainThreadGarbageCollector(qapp)
    yield
    collector.stop()
    collector.deleteLater()


@pytest.fixture(autouse=True)
def _source_language() -> Iterator[None]:
    """Each test starts and ends with the source (English) texts."""
    i18n.set_language("en")
    yield
    i18n.set_language("en")


@pytest.fixture
def book_url(tmp_path: Path) -> str:
    """A migrated SQLite database holding the small book of `_view_book`."""
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    database = open_database(url)
    try:
        build_view_book(database)
    finally:
        database.dispose()
    return url


@pytest.fixture
def backend() -> Backend:
    """The real backend, on the book's fixed day."""
    return make_backend(today=lambda: TODAY)


@pytest.fixture
def runner() -> Iterator[TaskRunner]:
    """A task runner that must end with no thread left."""
    task_runner = TaskRunner(EXPECTED_ERRORS)
    yield task_runner
    task_runner.shutdown()
    assert task_runner.active_count() == 0
    assert task_runner.thread_count() == 0


class FakeImportPage:
    """Records the files handed to the import page."""

    def __init__(self) -> None:
        from PySide6.QtWidgets import QWidget

        self.widget = QWidget()
        self.widget.open_file = self.open_file  # type: ignore[attr-defined]
        self.opened: list[str] = []

    def open_file(self, path: object) -> None:
        self.opened.append(str(path))


@pytest.fixture
def fake_import() -> FakeImportPage:
    return FakeImportPage()


@pytest.fixture
def window_settings(book_url: str) -> Settings:
    """Alex Rossi on the book, in French (a test module may add mail settings)."""
    return Settings(database_url=book_url, user_login="arossi", language="fr")


@pytest.fixture
def window(
    qtbot: QtBot,
    runner: TaskRunner,
    backend: Backend,
    window_settings: Settings,
    tmp_path: Path,
    fake_import: FakeImportPage,
) -> Iterator[MainWindow]:
    """The main window, connected to the book as Alex Rossi, in French."""
    settings = window_settings
    main = MainWindow(
        runner,
        backend,
        settings,
        store=SettingsStore(tmp_path / "window.ini"),
        import_page_factory=lambda: fake_import.widget,
        settings_path=tmp_path / "settings.ini",
    )
    qtbot.addWidget(main)
    agenda = main.pages()["agenda"]
    with (
        qtbot.waitSignal(main.workspace_changed, timeout=10000),
        qtbot.waitSignal(agenda.loaded, timeout=10000),  # type: ignore[attr-defined]
    ):
        main.connect_database(settings)
    yield main
    main.close()
