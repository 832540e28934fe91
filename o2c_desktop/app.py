"""Composition root of the desktop app: settings, database, services, windows.

This is the one module that knows both the UI and the layers below it. It
builds the `Backend` the UI calls (through workers) and starts the window,
which opens the database off the UI thread. ``o2c-desktop --self-test``
imports everything, opens a temporary database and builds the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib
import logging
import os
import pkgutil
import sys
import tempfile
import time
from pathlib import Path
from typing import TYPE_CHECKING

from o2c_desktop import __version__, i18n
from o2c_desktop import settings as settings_mod
from o2c_desktop.composition import build_services
from o2c_desktop.models.db import DatabaseError
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.book import check_connection
from o2c_desktop.services.context import load_settings
from o2c_desktop.services.documents import DocumentError
from o2c_desktop.services.importing import (
    CloseNotConfirmedError,
    ImportService,
    UndoRefusedError,
    list_profiles,
    load_profile,
    save_profile,
)
from o2c_desktop.services.workbench import AccessError
from o2c_desktop.ui.ports import Backend, Workspace

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from PySide6.QtWidgets import QApplication, QWidget

    from o2c_desktop.settings import Settings
    from o2c_desktop.ui.import_ports import Importer, ImportPorts
    from o2c_desktop.ui.main_window import MainWindow
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

EXPECTED_ERRORS: tuple[type[BaseException], ...] = (
    DatabaseError,
    ConflictError,
    AccessError,
    ValueError,  # a request the services refused, with the reason
    PermissionError,  # a collector tried a manager's change
    LookupError,  # a record a colleague deleted meanwhile
    DocumentError,  # a template or letter that cannot be produced, with why
    CloseNotConfirmedError,  # an import that asks first (issue 14)
    UndoRefusedError,  # an import a later one or a run built on
)


def local_today() -> dt.date:
    """Today in the computer's time zone (the one place the app reads the clock)."""
    return dt.datetime.now(dt.UTC).astimezone().date()


def open_workspace(settings: Settings, url: str) -> Workspace:
    """Open (upgrading if needed) the database at `url` for the settings' user.

    Runs on a worker thread. The services come from the composition root
    (`composition.build_services`), as every `o2c` command's do.

    Raises:
        DatabaseError: with a message for the user; nothing was written.
    """
    services = build_services(settings, url=url)
    try:
        user = services.book.current_user()
    except Exception:
        services.close()
        raise
    log.info("Opened %s for %r", services.book.description, settings.effective_user)
    return Workspace(
        book=services.book,
        user=user,
        workbench=services.workbench,
        dashboards=services.dashboards,
        editor=services.editor,
        team=services.team,
        importer=services.importer,
    )


def make_backend(today: Callable[[], dt.date] = local_today) -> Backend:
    """The calls the UI makes below itself."""
    return Backend(
        open_workspace=open_workspace, check_connection=check_connection, today=today
    )


def open_importer(workspace: Workspace) -> Importer:
    """The import service of an open workspace (it shares the book's database)."""
    if workspace.importer is None:
        raise TypeError(f"no database behind {workspace.book!r}")
    return workspace.importer


def import_ports() -> ImportPorts:
    """The calls the import screen makes below the UI."""
    from o2c_desktop.ui.import_ports import ImportPorts

    return ImportPorts(
        preview=ImportService.preview,
        open_importer=open_importer,
        list_profiles=list_profiles,
        load_profile=load_profile,
        save_profile=save_profile,
    )


def import_page_factory(
    runner: TaskRunner, today: Callable[[], dt.date]
) -> Callable[[], QWidget] | None:
    """How to build the import screen, None when this build has none.

    The screen is its own module (`ui/import_view.py`); the window shows a
    plain "not available" page without it.
    """
    try:
        # A plain import, so that a frozen build sees the module.
        from o2c_desktop.ui.import_view import ImportView
    except ModuleNotFoundError as exc:
        if exc.name != "o2c_desktop.ui.import_view":
            raise
        log.info("No import screen in this build")
        return None
    ports = import_ports()
    return lambda: ImportView(runner, ports, today)  # duck-typed plug-in page


def build_window(
    app: QApplication,
    settings: Settings,
    *,
    backend: Backend | None = None,
    runner: TaskRunner | None = None,
    store_path: Path | None = None,
) -> MainWindow:
    """Create the main window with its services; it connects when asked."""
    from o2c_desktop.ui.main_window import MainWindow, install_qt_translations
    from o2c_desktop.ui.settings_store import SettingsStore
    from o2c_desktop.ui.workers import TaskRunner

    i18n.set_language(settings.language)
    install_qt_translations(app, settings.language)
    store = SettingsStore(store_path or settings_mod.config_dir() / "window-state.ini")
    runner = runner or TaskRunner(EXPECTED_ERRORS)
    backend = backend or make_backend()
    return MainWindow(
        runner,
        backend,
        settings,
        store=store,
        import_page_factory=import_page_factory(runner, backend.today),
    )


def self_test() -> int:
    """Import every module, open a temporary database, build the window."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import o2c_desktop

    for info in pkgutil.walk_packages(o2c_desktop.__path__, "o2c_desktop."):
        # Alembic runs migrations/ itself; importing env.py outside it fails.
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication(["o2c-desktop", "--self-test"])
    assert isinstance(app, QApplication)
    with tempfile.TemporaryDirectory(prefix="o2c-self-test-") as tmp:
        url = f"sqlite:///{Path(tmp, 'self-test.sqlite3').as_posix()}"
        settings = settings_mod.Settings(database_url=url, user_login="self-test")
        workspace = open_workspace(settings, url)
        today = local_today()
        book = workspace.book
        book.summary(today)
        book.customers("", 0, 10, today)
        book.agenda(today)
        book.scenarios()
        window = build_window(app, settings, store_path=Path(tmp, "window.ini"))
        window.set_workspace(workspace)
        window.close()
    sys.stdout.write(f"o2c-desktop {__version__} self-test passed\n")
    return 0


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The desktop app's few command-line options."""
    parser = argparse.ArgumentParser(prog="o2c-desktop", description="O2C Desktop")
    parser.add_argument(
        "--version", action="version", version=f"o2c-desktop {__version__}"
    )
    parser.add_argument(
        "--self-test", action="store_true", help="check the installation and exit"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument(
        "--quit-when-ready",
        action="store_true",
        help="exit once the agenda is shown (measures start-up time)",
    )
    # Qt's own options (-platform, -style...) pass through to QApplication.
    args, _qt_args = parser.parse_known_args(list(argv[1:]))
    return args


def main(argv: Sequence[str], started: float | None = None) -> int:
    """Run the desktop app; return its exit code.

    Args:
        argv: the command line, program name first.
        started: `time.perf_counter()` when the process began, for the
            start-up time reported by ``--quit-when-ready``.
    """
    since = time.perf_counter() if started is None else started
    args = parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    if args.self_test:
        return self_test()
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    from o2c_desktop.ui.workers import MainThreadGarbageCollector

    app = QApplication(list(argv))
    app.setApplicationName("O2C Desktop")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("O2C")
    collector = MainThreadGarbageCollector(app)
    app.aboutToQuit.connect(collector.stop)
    settings = load_settings()  # moves a password an older version wrote
    window = build_window(app, settings)
    agenda = window.pages()["agenda"]

    def ready() -> None:
        elapsed = time.perf_counter() - since
        log.info("Agenda shown %.2f s after start", elapsed)
        if args.quit_when_ready:
            sys.stderr.write(f"ready in {elapsed:.2f} s\n")
            QTimer.singleShot(0, window.close)

    agenda.loaded.connect(ready)  # type: ignore[attr-defined]  # AgendaView.loaded
    if args.quit_when_ready:
        window.database_failed.connect(lambda _m: QTimer.singleShot(0, window.close))
    window.show()
    window.connect_database(settings)
    return app.exec()
