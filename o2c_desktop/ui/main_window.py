"""The main window: navigation, pages, global search, status bar, file drops.

It opens the database through the injected `Backend` on the write pool (an
upgrade writes), shows which database and user are active, and hands the
open `Workspace` to every page. A database that can't be opened leaves the
window usable, with a dialog that says why and offers a way out.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QLibraryInfo, QObject, Qt, QTranslator, Signal, Slot
from PySide6.QtGui import (
    QCloseEvent,
    QDragEnterEvent,
    QDropEvent,
    QKeySequence,
    QShortcut,
)
from PySide6.QtWidgets import (
    QApplication,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMainWindow,
    QMessageBox,
    QPushButton,
    QSplitter,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop import i18n
from o2c_desktop import settings as settings_mod
from o2c_desktop.i18n import _
from o2c_desktop.ui import icons
from o2c_desktop.ui.agenda_view import AgendaView
from o2c_desktop.ui.customers_view import CustomersView
from o2c_desktop.ui.dashboard_view import DashboardView
from o2c_desktop.ui.labels import role_label
from o2c_desktop.ui.quick_search import QuickSearch
from o2c_desktop.ui.scenarios_view import ScenariosView
from o2c_desktop.ui.settings_view import SettingsView
from o2c_desktop.ui.team_view import TeamView
from o2c_desktop.ui.widgets import BusyIndicator

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from PySide6.QtCore import QMimeData

    from o2c_desktop.settings import Settings
    from o2c_desktop.ui.ports import Backend, Workspace
    from o2c_desktop.ui.settings_store import SettingsStore
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

# .txt: FEC files and SAP list exports are text files.
IMPORTABLE_SUFFIXES = (".xlsx", ".xlsm", ".xls", ".ods", ".csv", ".txt")
PAGES = (
    "agenda",
    "customers",
    "scenarios",
    "dashboards",
    "team",
    "import",
    "settings",
)
_PAGE_TITLES = {
    "agenda": i18n.N_("Agenda"),
    "customers": i18n.N_("Customers"),
    "scenarios": i18n.N_("Scenarios"),
    "dashboards": i18n.N_("Dashboards"),
    "team": i18n.N_("Team"),
    "import": i18n.N_("Import"),
    "settings": i18n.N_("Settings"),
}
_PAGE_ICONS = {
    "agenda": "agenda",
    "customers": "customers",
    "scenarios": "scenarios",
    "dashboards": "dashboards",
    "team": "team",
    "import": "import",
    "settings": "settings",
}


def importable_files(mime: QMimeData) -> list[Path]:
    """The local spreadsheet or CSV files among dragged data."""
    if not mime.hasUrls():
        return []
    paths = [Path(url.toLocalFile()) for url in mime.urls() if url.isLocalFile()]
    return [p for p in paths if p.suffix.lower() in IMPORTABLE_SUFFIXES]


_qt_translators: list[QTranslator] = []


def install_qt_translations(app: QApplication, language: str) -> bool:
    """Load Qt's own strings (standard buttons, file dialogs) in `language`."""
    for old in _qt_translators:
        app.removeTranslator(old)
    _qt_translators.clear()
    translator = QTranslator(app)
    folder = QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)
    if not translator.load(f"qtbase_{language}", folder):
        log.debug("No Qt translations for %s in %s", language, folder)
        return False
    app.installTranslator(translator)
    _qt_translators.append(translator)
    return True


class ImportUnavailableView(QWidget):
    """Stands in for the import screen when this build does not have it.

    It says so plainly and lists the files the user tried to import, which
    were not imported.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.received: list[Path] = []
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.message = QLabel(self)
        self.message.setWordWrap(True)
        layout.addWidget(self.title)
        layout.addWidget(self.message)
        layout.addStretch(1)
        self.retranslate_ui("fr")

    def open_file(self, path: Path | str) -> None:
        """Note a dropped file; it can't be imported here."""
        self.received.append(Path(path))
        self.retranslate_ui("")

    def retranslate_ui(self, _language: str) -> None:
        """Show every text in the current language."""
        self.title.setText(_("Import"))
        text = _("The import screen is not available in this version of the app.")
        if self.received:
            names = ", ".join(p.name for p in self.received)
            text += "\n\n" + _("Not imported: {files}").format(files=names)
        self.message.setText(text)


class MainWindow(QMainWindow):
    """Navigation on the left, the pages, a global customer search, a status bar.

    Signals:
        workspace_changed(object): a database was opened (`Workspace`) or
            closed (None).
        database_failed(str): opening a database failed; the message says why.
        files_dropped(list): importable files were dropped on the window.
    """

    workspace_changed = Signal(object)
    database_failed = Signal(str)
    files_dropped = Signal(list)

    def __init__(
        self,
        runner: TaskRunner,
        backend: Backend,
        settings: Settings,
        store: SettingsStore | None = None,
        import_page_factory: Callable[[], QWidget] | None = None,
        settings_path: Path | None = None,
    ) -> None:
        super().__init__()
        self.setObjectName("main_window")
        self.runner = runner
        self.backend = backend
        self.settings = settings
        self.store = store
        self.workspace: Workspace | None = None
        self.language = settings.language
        self.problem_dialog: QMessageBox | None = None
        self._connect_generation = 0
        self.setAcceptDrops(True)
        self._build(import_page_factory, settings_path)
        QShortcut(QKeySequence("Ctrl+K"), self, self.focus_search)
        app = QApplication.instance()
        if app is not None:
            app.installEventFilter(self)
        runner.busy_changed.connect(self._on_runner_busy_changed)
        self.apply_language(self.language)
        self.show_page("agenda")
        if store is not None:
            if not store.restore_window(self):
                self.resize(1280, 800)
            for splitter in self.findChildren(QSplitter):
                if splitter.objectName():
                    store.restore_splitter(splitter)
        else:
            self.resize(1280, 800)

    # -- public API -------------------------------------------------------

    def pages(self) -> dict[str, QWidget]:
        """The pages by name (see `PAGES`)."""
        return dict(self._pages)

    def show_page(self, name: str) -> None:
        """Bring the page called `name` to the front."""
        self.nav.setCurrentRow(PAGES.index(name))

    def current_page_name(self) -> str:
        """The name of the page in front."""
        return PAGES[self.stack.currentIndex()]

    def focus_search(self) -> None:
        """Put the cursor in the global customer search (Ctrl+K)."""
        self.search_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.search_edit.selectAll()

    def connect_database(self, settings: Settings, url: str | None = None) -> None:
        """Open the database of `settings` (or `url`) in the background.

        An older database is upgraded on the way (a write, so on the write
        pool). On failure the current workspace stays as it was.
        """
        target = url or settings.effective_database_url
        self._connect_generation += 1
        generation = self._connect_generation
        self.connect_busy.start(_("Opening the database…"))
        opener = self.backend.open_workspace
        self.runner.run_write(
            lambda: opener(settings, target),
            lambda ws: self._on_connect_done(generation, settings, ws),
            lambda exc: self._on_connect_failed(generation, exc),
        )

    def open_files(self, paths: Iterable[Path]) -> None:
        """Hand files to the Import page and show it."""
        files = list(paths)
        if not files:
            return
        self.show_page("import")
        page: Any = self._pages["import"]
        for path in files:
            page.open_file(path)
        self.files_dropped.emit(files)

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Show `workspace` everywhere; the previous one is closed."""
        old, self.workspace = self.workspace, workspace
        for name, page in self._pages.items():
            if hasattr(page, "set_workspace") and (name != "import" or workspace):
                page.set_workspace(workspace)
        self._show_status()
        self.workspace_changed.emit(workspace)
        if old is not None and old is not workspace:
            self.runner.run_write(old.book.close, lambda _r: None)

    def apply_language(self, language: str) -> None:
        """Switch the whole UI to `language`, live."""
        i18n.set_language(language)
        app = QApplication.instance()
        if isinstance(app, QApplication):
            install_qt_translations(app, language)
        self.retranslate_ui(language)

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        self.language = language
        self.setWindowTitle(_("O2C Desktop — credit collection"))
        for row, name in enumerate(PAGES):
            item = self.nav.item(row)
            item.setText(_(_PAGE_TITLES[name]))
        self.search_edit.setPlaceholderText(_("Find a customer (Ctrl+K)"))
        self.search_button.setText(_("Search"))
        for page in self._pages.values():
            if hasattr(page, "retranslate_ui"):
                page.retranslate_ui(language)
        self._show_status()

    # -- building -----------------------------------------------------------

    def _build(
        self,
        import_page_factory: Callable[[], QWidget] | None,
        settings_path: Path | None,
    ) -> None:
        central = QWidget(self)
        outer = QVBoxLayout(central)
        outer.setContentsMargins(6, 6, 6, 0)
        top = QHBoxLayout()
        brand = QLabel("O2C Desktop", central)
        font = brand.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.2)
        brand.setFont(font)
        brand.setMinimumWidth(190)
        self.search_edit = QLineEdit(central)
        self.search_edit.setObjectName("global_search")
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.addAction(
            icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search_edit.returnPressed.connect(self._on_search_edit_return_pressed)
        self.quick_search = QuickSearch(
            self.search_edit,
            self.runner,
            lambda: self.workspace.workbench if self.workspace else None,
        )
        self.quick_search.customer_chosen.connect(self._on_quick_search_chosen)
        self.search_button = QPushButton(central)
        self.search_button.clicked.connect(self._on_search_edit_return_pressed)
        top.addWidget(brand)
        top.addWidget(self.search_edit, 1)
        top.addWidget(self.search_button)
        outer.addLayout(top)

        body = QHBoxLayout()
        self.nav = QListWidget(central)
        self.nav.setObjectName("navigation")
        self.nav.setFixedWidth(190)
        self.nav.setIconSize(self.nav.iconSize() * 1.5)
        self.nav.setSpacing(2)
        self.nav.setStyleSheet(
            "QListWidget#navigation { background: #eceff1; border: none;"
            " font-size: 11pt; }"
            " QListWidget#navigation::item { padding: 6px; }"
            " QListWidget#navigation::item:selected { background: #1565c0;"
            " color: white; }"
        )
        for name in PAGES:
            QListWidgetItem(icons.icon(_PAGE_ICONS[name]), name, self.nav)
        self.stack = QStackedWidget(central)
        today = self.backend.today
        import_page = self._make_import_page(import_page_factory)
        self.settings_view = SettingsView(
            self.runner, self.backend.check_connection, self.settings, settings_path
        )
        self.settings_view.settings_saved.connect(self._on_settings_view_saved)
        self.settings_view.language_changed.connect(
            self._on_settings_view_language_changed
        )
        self._pages: dict[str, QWidget] = {
            "agenda": AgendaView(self.runner, today),
            "customers": CustomersView(self.runner, today),
            "scenarios": ScenariosView(self.runner, today),
            "dashboards": DashboardView(self.runner, today),
            "team": TeamView(self.runner, today),
            "import": import_page,
            "settings": self.settings_view,
        }
        for name in PAGES:
            self.stack.addWidget(self._pages[name])
        self.nav.currentRowChanged.connect(self.stack.setCurrentIndex)
        customers_page = self._pages["customers"]
        assert isinstance(customers_page, CustomersView)
        customers_page.table.activated.connect(self._on_customer_activated)
        team_page = self._pages["team"]
        assert isinstance(team_page, TeamView)
        team_page.mail_settings_requested.connect(lambda: self.show_page("settings"))
        team_page.reassigned.connect(self._on_team_reassigned)
        body.addWidget(self.nav)
        body.addWidget(self.stack, 1)
        outer.addLayout(body, 1)
        self.setCentralWidget(central)

        status = self.statusBar()
        self.db_label = QLabel(self)
        self.user_label = QLabel(self)
        self.connect_busy = BusyIndicator(self)
        status.addWidget(self.db_label, 1)
        status.addWidget(self.connect_busy)
        status.addPermanentWidget(self.user_label)

    def _make_import_page(self, factory: Callable[[], QWidget] | None) -> QWidget:
        if factory is None:
            return ImportUnavailableView()
        try:
            page = factory()
        except Exception:
            # The import screen is another module; a fault there must not
            # keep the rest of the app from opening.
            log.exception("The import screen could not be built")
            return ImportUnavailableView()
        if not hasattr(page, "open_file"):
            log.error(
                "The import screen has no open_file(); files can't be handed over"
            )
            return ImportUnavailableView()
        return page

    def _show_status(self) -> None:
        workspace = self.workspace
        if workspace is None:
            self.db_label.setText(_("No database open"))
            self.user_label.setText("")
            return
        self.db_label.setText(
            _("Database: {description}").format(description=workspace.description)
        )
        user = workspace.user
        if user is not None:
            self.user_label.setText(
                _("User: {name} ({role})").format(
                    name=user.full_name, role=role_label(user.role)
                )
            )
        elif workspace.book.user_login:
            self.user_label.setText(
                _("User {login} is unknown in this database").format(
                    login=workspace.book.user_login
                )
            )
        else:
            self.user_label.setText(_("No user chosen (see Settings)"))

    # -- slots ----------------------------------------------------------------

    def _on_connect_done(
        self, generation: int, settings: Settings, workspace: Workspace
    ) -> None:
        if generation != self._connect_generation:
            self.runner.run_write(workspace.book.close, lambda _r: None)
            return
        self.connect_busy.stop()
        if workspace.settings is not None:
            settings = workspace.settings
            self.settings_view.load_settings(settings)
        self.settings = settings
        self.set_workspace(workspace)

    def _on_connect_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._connect_generation:
            return
        self.connect_busy.stop()
        message = self.runner.message_for(exc)
        self._show_status()
        if self.workspace is None:
            for name, page in self._pages.items():
                if name not in ("import", "settings") and hasattr(page, "banner"):
                    page.banner.show_error(message)
        if isinstance(exc, self.backend.newer_schema_errors):
            # A colleague's newer app upgraded the book: not a fault to fix
            # in Settings, a version to install (issue 25).
            self._show_problem(
                message,
                _("A newer version of O2C Desktop is needed"),
                _(
                    "Someone opened this database with a newer version of "
                    "O2C Desktop, which upgraded it. Install that version "
                    "(ask your administrator), then start the app again. "
                    "Nothing was changed."
                ),
            )
        else:
            self._show_problem(message)
        self.database_failed.emit(message)

    def _show_problem(
        self, message: str, title: str | None = None, info: str | None = None
    ) -> None:
        if self.problem_dialog is not None:
            self.problem_dialog.close()
        box = QMessageBox(self)
        box.setIcon(QMessageBox.Icon.Warning)
        box.setWindowTitle(title or _("The database cannot be opened"))
        box.setText(message)
        box.setInformativeText(info or _("Nothing was changed."))
        settings_button = box.addButton(
            _("Open settings"), QMessageBox.ButtonRole.AcceptRole
        )
        local_button = box.addButton(
            _("Use the local database"), QMessageBox.ButtonRole.ActionRole
        )
        quit_button = box.addButton(_("Quit"), QMessageBox.ButtonRole.RejectRole)
        box.setDefaultButton(settings_button)

        def chosen(button: object) -> None:
            self.problem_dialog = None
            if button is settings_button:
                self.show_page("settings")
            elif button is local_button:
                self.connect_database(
                    self.settings, settings_mod.default_database_url()
                )
            elif button is quit_button:
                self.close()

        box.buttonClicked.connect(chosen)
        box.setWindowModality(Qt.WindowModality.WindowModal)
        self.problem_dialog = box
        box.open()

    @Slot(object)
    def _on_settings_view_saved(self, new: Settings) -> None:
        old = self.settings
        self.settings = new
        if new.language != self.language:
            self.apply_language(new.language)
        if (
            new.effective_database_url != old.effective_database_url
            or new.effective_user != old.effective_user
            or self.workspace is None
        ):
            self.connect_database(new)

    @Slot(str)
    def _on_settings_view_language_changed(self, language: str) -> None:
        self.apply_language(language)

    @Slot(int)
    def _on_quick_search_chosen(self, customer_id: int) -> None:
        agenda = self._pages["agenda"]
        assert isinstance(agenda, AgendaView)
        self.show_page("agenda")
        agenda.open_customer(customer_id)

    @Slot()
    def _on_search_edit_return_pressed(self) -> None:
        if self.quick_search.popup_visible():
            return  # Enter picks the highlighted customer (Ctrl+K completion)
        customers = self._pages["customers"]
        assert isinstance(customers, CustomersView)
        self.show_page("customers")
        customers.search(self.search_edit.text())

    @Slot(object)
    def _on_customer_activated(self, index: Any) -> None:
        # Enter or a double-click on a customer opens its card (#7).
        customers = self._pages["customers"]
        agenda = self._pages["agenda"]
        assert isinstance(customers, CustomersView)
        assert isinstance(agenda, AgendaView)
        row = customers.model.row_value(index.row())
        self.show_page("agenda")
        agenda.open_customer(row.id)

    @Slot(int)
    def _on_team_reassigned(self, _moved: int) -> None:
        # Actions handed to a replacement leave (or join) the open agenda.
        agenda = self._pages["agenda"]
        assert isinstance(agenda, AgendaView)
        agenda.refresh()

    @Slot(bool)
    def _on_runner_busy_changed(self, busy: bool) -> None:
        if busy:
            QApplication.setOverrideCursor(Qt.CursorShape.BusyCursor)
        else:
            while QApplication.overrideCursor() is not None:
                QApplication.restoreOverrideCursor()

    # -- Qt overrides -----------------------------------------------------------

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        # Files dropped anywhere on the window go to the import page, even
        # over a text field that would otherwise take the file name as text.
        kind = event.type()
        if kind in (QEvent.Type.DragEnter, QEvent.Type.DragMove, QEvent.Type.Drop) and (
            isinstance(watched, QWidget) and watched.window() is self
        ):
            drag: Any = event
            files = importable_files(drag.mimeData())
            if files:
                drag.acceptProposedAction()
                if kind == QEvent.Type.Drop:
                    self.open_files(files)
                return True
        return super().eventFilter(watched, event)

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        if importable_files(event.mimeData()):
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        files = importable_files(event.mimeData())
        if files:
            event.acceptProposedAction()
            self.open_files(files)
        else:
            event.ignore()

    def closeEvent(self, event: QCloseEvent) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
        if self.store is not None:
            self.store.save_window(self)
            for splitter in self.findChildren(QSplitter):
                if splitter.objectName():
                    self.store.save_splitter(splitter)
            self.store.sync()
        self.runner.shutdown()
        if self.workspace is not None:
            self.workspace.book.close()
        self._on_runner_busy_changed(False)
        super().closeEvent(event)
