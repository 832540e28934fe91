"""Composition root of the desktop app: settings, database, services, windows.

This is the one module that knows both the UI and the layers below it. It
builds the `Backend` the UI calls (through workers) and starts the window,
which opens the database off the UI thread. ``o2c-desktop --self-test``
is `selftest.py` (`__main__` runs it before this module is imported).
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import logging
import sys
import time
from importlib.resources import files
from pathlib import Path
from typing import TYPE_CHECKING

from o2c_desktop import __version__, i18n
from o2c_desktop import settings as settings_mod
from o2c_desktop.composition import build_services
from o2c_desktop.engine import calendar
from o2c_desktop.models.db import DatabaseError, NewerSchemaError
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.book import BookService, check_connection
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

    from o2c_desktop.composition import Services
    from o2c_desktop.engine.risk import RiskCard
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
        risk=_LazyRisk(services),
    )


class _LazyRisk:
    """The risk calls, the service built when a card first asks (not at start)."""

    def __init__(self, services: Services) -> None:
        self._services = services

    def card(self, customer_id: int, today: dt.date) -> RiskCard:
        return self._services.risk.card(customer_id, today)


def open_workspace_or_demo(
    settings: Settings, url: str, *, size: tuple[int, int] | None = None
) -> Workspace:
    """`open_workspace`, building the demo book first into an empty database.

    What ``tools/dev.py app`` opens: in-process, so the second start costs
    nothing more than a plain one (a known user means a book is there).

    Args:
        settings: whose book.
        url: the database.
        size: customers and items of the demo book (default: the demo's).
    """
    workspace = open_workspace(settings, url)
    if workspace.user is not None or not isinstance(workspace.book, BookService):
        return workspace
    # Faker and the builder load only on this rare path.
    from o2c_desktop.services.demo import NotEmptyError, adopt_demo_user, build_demo

    book = workspace.book
    try:
        if size is None:
            summary = build_demo(book.database, report=_demo_progress)
        else:
            customers, items = size
            summary = build_demo(
                book.database, customers=customers, items=items, report=_demo_progress
            )
    except NotEmptyError:
        return workspace
    finally:
        sys.stderr.write("\n")
    book.close()
    login, note = adopt_demo_user(summary)
    log.warning("Demo book built into %s. %s", book.description, note)
    if settings.effective_user == login:  # O2C_USER names who works
        return open_workspace(settings, url)
    adopted = dataclasses.replace(settings, user_login=login)
    return dataclasses.replace(open_workspace(adopted, url), settings=adopted)


def _demo_progress(pct: float) -> None:
    sys.stderr.write(f"\ro2c-desktop: building the demo book {pct:3.0f} %")
    sys.stderr.flush()


def make_backend(
    today: Callable[[], dt.date] = local_today, *, demo_if_empty: bool = False
) -> Backend:
    """The calls the UI makes below itself.

    Args:
        today: the clock.
        demo_if_empty: build the demo book into an empty database on opening.
    """
    opener = open_workspace_or_demo if demo_if_empty else open_workspace
    return Backend(
        open_workspace=opener,
        check_connection=check_connection,
        today=today,
        newer_schema_errors=(NewerSchemaError,),
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


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """The desktop app's few command-line options."""
    parser = argparse.ArgumentParser(prog="o2c-desktop", description="O2C Desktop")
    parser.add_argument(
        "--version", action="version", version=f"o2c-desktop {__version__}"
    )
    parser.add_argument(
        "--self-test",
        action="store_true",
        help="check the installation on a temporary database and exit",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    parser.add_argument(
        "--quit-when-ready",
        action="store_true",
        help="exit once the agenda is shown (measures start-up time)",
    )
    parser.add_argument(
        "--demo-if-empty",
        action="store_true",
        help="build the demo book into an empty database first",
    )
    parser.add_argument(
        "files",
        nargs="*",
        type=Path,
        help='spreadsheets to import (the desktop\'s "Open with O2C Desktop")',
    )
    # Qt's own options (-platform, -style...) pass through to QApplication.
    args, _qt_args = parser.parse_known_args(list(argv[1:]))
    # A Qt option's value ("-platform offscreen") lands among the files.
    args.files = [f for f in args.files if f.is_file()]
    return args


def app_icon_path() -> Path:
    """The window icon (installer/make_icons.py renders the others from it)."""
    return Path(str(files("o2c_desktop.resources") / "icons" / "o2c-desktop.svg"))


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
    if args.self_test:  # `o2c_desktop.__main__` runs it, above this layer
        sys.stderr.write("o2c-desktop: error: run the self-test as o2c-desktop\n")
        return 2
    calendar.keep_holidays_in(settings_mod.cache_dir())
    from PySide6.QtCore import QTimer
    from PySide6.QtGui import QIcon
    from PySide6.QtWidgets import QApplication

    from o2c_desktop.ui.workers import MainThreadGarbageCollector

    app = QApplication(list(argv))
    app.setApplicationName("O2C Desktop")
    app.setApplicationVersion(__version__)
    app.setOrganizationName("O2C")
    app.setWindowIcon(QIcon(str(app_icon_path())))
    collector = MainThreadGarbageCollector(app)
    app.aboutToQuit.connect(collector.stop)
    settings = load_settings()  # moves a password an older version wrote
    backend = make_backend(demo_if_empty=args.demo_if_empty)
    window = build_window(app, settings, backend=backend)
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
    if args.files:
        window.open_files(args.files)
    return app.exec()
