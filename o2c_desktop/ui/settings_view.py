"""Settings: which database, who is working, in which language.

The database is the embedded SQLite file or a shared PostgreSQL server. The
server's password goes to the operating system's keyring, never to the
settings file. Saving first tests the connection (writing nothing); only a
database that can be opened is saved, then the app reconnects.
"""

from __future__ import annotations

import dataclasses
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import quote, unquote, urlsplit

import keyring.errors
from PySide6.QtCore import Signal, Slot
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QScrollArea,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.i18n import _, ngettext
from o2c_desktop.ui.labels import role_label
from o2c_desktop.ui.widgets import Banner, BusyIndicator

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.engine.book import ConnectionReport, UserInfo
    from o2c_desktop.settings import Settings
    from o2c_desktop.ui.ports import Workspace
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

LANGUAGES = (("fr", "Français"), ("en", "English"))
DEFAULT_PG_PORT = 5432


@dataclasses.dataclass(frozen=True)
class DatabaseForm:
    """The database fields of the form; a URL without password both ways."""

    kind: str = "sqlite"  # or "postgresql"
    path: str = ""  # empty: the embedded default
    host: str = "127.0.0.1"
    port: int = DEFAULT_PG_PORT
    database: str = "o2c"
    user: str = ""
    query: str = ""  # kept as found (e.g. connection options)

    @classmethod
    def from_url(cls, url: str) -> DatabaseForm:
        """Read the fields of `url` ("" means the embedded SQLite database)."""
        if not url:
            return cls()
        if url.startswith("sqlite"):
            return cls(path=url.split(":///", 1)[1] if ":///" in url else "")
        parts = urlsplit(url)
        return cls(
            kind="postgresql",
            host=parts.hostname or "127.0.0.1",
            port=parts.port or DEFAULT_PG_PORT,
            database=unquote(parts.path.lstrip("/")),
            user=unquote(parts.username or ""),
            query=parts.query,
        )

    def url(self) -> str:
        """The URL to save ("" for the embedded database); never a password."""
        if self.kind == "sqlite":
            return f"sqlite:///{Path(self.path).as_posix()}" if self.path else ""
        user = f"{quote(self.user, safe='')}@" if self.user else ""
        query = f"?{self.query}" if self.query else ""
        database = quote(self.database, safe="")
        return f"postgresql://{user}{self.host}:{self.port}/{database}{query}"


class SettingsView(QWidget):
    """The settings page.

    Signals:
        connection_tested(object): the `ConnectionReport` of a successful test.
        connection_failed(str): why a test failed.
        settings_saved(object): the new `Settings`, written to the file.
        language_changed(str): the user picked another UI language (live).
        users_loaded(): the list of users to pick from was refreshed.
    """

    connection_tested = Signal(object)
    connection_failed = Signal(str)
    settings_saved = Signal(object)
    language_changed = Signal(str)
    users_loaded = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        check_connection: Callable[[str, str | None], ConnectionReport],
        settings: Settings,
        settings_path: Path | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self._check_connection = check_connection
        self._settings = settings
        self._settings_path = settings_path
        self.workspace: Workspace | None = None
        self._generation = 0
        self._build()
        self.load_settings(settings)
        self.retranslate_ui(settings.language)

    @property
    def settings(self) -> Settings:
        """The settings as last loaded or saved."""
        return self._settings

    def form(self) -> DatabaseForm:
        """The database fields as typed."""
        if self.sqlite_radio.isChecked():
            return DatabaseForm(path=self.path_edit.text().strip())
        return DatabaseForm(
            kind="postgresql",
            host=self.host_edit.text().strip() or "127.0.0.1",
            port=self.port_spin.value(),
            database=self.database_edit.text().strip(),
            user=self.user_edit.text().strip(),
            query=self._query,
        )

    def load_settings(self, settings: Settings) -> None:
        """Fill the form from `settings`."""
        self._settings = settings
        form = DatabaseForm.from_url(settings.database_url)
        self._query = form.query
        (self.sqlite_radio if form.kind == "sqlite" else self.pg_radio).setChecked(True)
        self.path_edit.setText(form.path)
        self.host_edit.setText(form.host)
        self.port_spin.setValue(form.port)
        self.database_edit.setText(form.database)
        self.user_edit.setText(form.user)
        self.password_edit.clear()
        self._set_users(self._users, settings.user_login)
        self.language_combo.blockSignals(True)
        codes = [code for code, _name in LANGUAGES]
        self.language_combo.setCurrentIndex(
            codes.index(settings.language) if settings.language in codes else 0
        )
        self.language_combo.blockSignals(False)
        self._on_kind_toggled()

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Offer the users of the open database."""
        self.workspace = workspace
        if workspace is None:
            return
        book = self.workspace.book if self.workspace else None
        if book is None:
            return
        self.runner.run_read(book.users, self._on_users_done, lambda _exc: None)

    def test_connection(self) -> None:
        """Test the database of the form in a worker; nothing is written."""
        self._run_check(save=False)

    def save(self) -> None:
        """Test the connection, then write the settings and the password."""
        self._run_check(save=True)

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        self.title.setText(_("Settings"))
        self.db_box.setTitle(_("Database"))
        self.sqlite_radio.setText(_("Embedded database on this computer (SQLite)"))
        self.default_path_label.setText(
            _("Default file: {path}").format(
                path=_sqlite_path(settings_mod.default_database_url())
            )
        )
        self.path_edit.setPlaceholderText(_("Default file"))
        self.browse_button.setText(_("Choose a file…"))
        self.pg_radio.setText(_("Shared PostgreSQL server"))
        self.host_label.setText(_("Server"))
        self.port_label.setText(_("Port"))
        self.database_label.setText(_("Database name"))
        self.db_user_label.setText(_("User name"))
        self.password_label.setText(_("Password"))
        self.password_edit.setPlaceholderText(
            _("Leave empty to keep the stored password")
        )
        self.keyring_note.setText(
            _("The password is kept in the system keyring, never in the settings file.")
        )
        self.test_button.setText(_("Test connection"))
        env_url = os.environ.get("O2C_DATABASE_URL")
        self.env_note.setVisible(bool(env_url))
        if env_url:
            self.env_note.setText(
                _("O2C_DATABASE_URL is set: it overrides the database chosen here.")
            )
        self.user_box.setTitle(_("Current user"))
        self.user_label.setText(_("I am"))
        self.language_box.setTitle(_("Language"))
        self.language_label.setText(_("Language of the interface"))
        self.save_button.setText(_("Save and reconnect"))
        self.revert_button.setText(_("Undo changes"))
        self._set_users(self._users, self._current_login())

    def _build(self) -> None:
        outer = QVBoxLayout(self)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        outer.addWidget(self.title)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QScrollArea.Shape.NoFrame)
        content = QWidget(scroll)
        content.setMaximumWidth(960)  # forms read badly across a wide screen
        layout = QVBoxLayout(content)
        scroll.setWidget(content)
        outer.addWidget(scroll, 1)

        self.db_box = QGroupBox(content)
        db = QVBoxLayout(self.db_box)
        self.kind_group = QButtonGroup(self)
        self.sqlite_radio = QRadioButton(self.db_box)
        self.pg_radio = QRadioButton(self.db_box)
        self.kind_group.addButton(self.sqlite_radio)
        self.kind_group.addButton(self.pg_radio)
        self.sqlite_radio.toggled.connect(self._on_kind_toggled)
        db.addWidget(self.sqlite_radio)
        self.default_path_label = QLabel(self.db_box)
        self.default_path_label.setWordWrap(True)
        self.default_path_label.setStyleSheet("color: #546e7a; margin-left: 22px;")
        db.addWidget(self.default_path_label)
        path_row = QHBoxLayout()
        path_row.setContentsMargins(22, 0, 0, 0)
        self.path_edit = QLineEdit(self.db_box)
        self.browse_button = QPushButton(self.db_box)
        self.browse_button.clicked.connect(self._on_browse_button_clicked)
        path_row.addWidget(self.path_edit, 1)
        path_row.addWidget(self.browse_button)
        db.addLayout(path_row)
        db.addWidget(self.pg_radio)
        pg_form = QFormLayout()
        pg_form.setContentsMargins(22, 0, 0, 0)
        self.host_label, self.host_edit = QLabel(self.db_box), QLineEdit(self.db_box)
        self.port_label, self.port_spin = QLabel(self.db_box), QSpinBox(self.db_box)
        self.port_spin.setRange(1, 65535)
        self.database_label, self.database_edit = (
            QLabel(self.db_box),
            QLineEdit(self.db_box),
        )
        self.db_user_label, self.user_edit = QLabel(self.db_box), QLineEdit(self.db_box)
        self.password_label = QLabel(self.db_box)
        self.password_edit = QLineEdit(self.db_box)
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        for label, field in (
            (self.host_label, self.host_edit),
            (self.port_label, self.port_spin),
            (self.database_label, self.database_edit),
            (self.db_user_label, self.user_edit),
            (self.password_label, self.password_edit),
        ):
            pg_form.addRow(label, field)
        self.keyring_note = QLabel(self.db_box)
        self.keyring_note.setWordWrap(True)
        self.keyring_note.setStyleSheet("color: #546e7a;")
        pg_form.addRow("", self.keyring_note)
        db.addLayout(pg_form)
        self.pg_fields = [
            self.host_edit,
            self.port_spin,
            self.database_edit,
            self.user_edit,
            self.password_edit,
        ]
        test_row = QHBoxLayout()
        self.test_button = QPushButton(self.db_box)
        self.test_button.clicked.connect(self._on_test_button_clicked)
        self.busy = BusyIndicator(self.db_box)
        test_row.addWidget(self.test_button)
        test_row.addWidget(self.busy)
        test_row.addStretch(1)
        db.addLayout(test_row)
        self.result_banner = Banner(self.db_box)
        db.addWidget(self.result_banner)
        self.env_note = QLabel(self.db_box)
        self.env_note.setWordWrap(True)
        db.addWidget(self.env_note)
        layout.addWidget(self.db_box)

        self.user_box = QGroupBox(content)
        user_form = QFormLayout(self.user_box)
        self.user_label = QLabel(self.user_box)
        self.user_combo = QComboBox(self.user_box)
        self.user_combo.setMinimumContentsLength(30)
        user_form.addRow(self.user_label, self.user_combo)
        layout.addWidget(self.user_box)
        self._users: tuple[UserInfo, ...] = ()

        self.language_box = QGroupBox(content)
        language_form = QFormLayout(self.language_box)
        self.language_label = QLabel(self.language_box)
        self.language_combo = QComboBox(self.language_box)
        for code, name in LANGUAGES:
            self.language_combo.addItem(name, code)
        self.language_combo.currentIndexChanged.connect(self._on_language_combo_changed)
        language_form.addRow(self.language_label, self.language_combo)
        layout.addWidget(self.language_box)

        buttons = QHBoxLayout()
        self.save_button = QPushButton(content)
        self.save_button.setDefault(True)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        self.revert_button = QPushButton(content)
        self.revert_button.clicked.connect(self._on_revert_button_clicked)
        buttons.addStretch(1)
        buttons.addWidget(self.revert_button)
        buttons.addWidget(self.save_button)
        layout.addLayout(buttons)
        layout.addStretch(1)

    def _current_login(self) -> str:
        login = self.user_combo.currentData()
        return str(login) if login else self._settings.user_login

    def _set_users(self, users: tuple[UserInfo, ...], login: str) -> None:
        self._users = users
        self.user_combo.clear()
        self.user_combo.addItem(_("(nobody)"), "")
        for user in users:
            self.user_combo.addItem(
                f"{user.full_name} — {role_label(user.role)}", user.login
            )
        if login and login not in {u.login for u in users}:
            self.user_combo.addItem(
                _("{login} (not in this database)").format(login=login), login
            )
        self.user_combo.setCurrentIndex(max(0, self.user_combo.findData(login)))

    def _run_check(self, *, save: bool) -> None:
        form = self.form()
        url = form.url() or settings_mod.default_database_url()
        password = self.password_edit.text() or None
        if form.kind == "postgresql" and password is None:
            password = secrets.get_password(secrets.database_key(form.url()))
        self._generation += 1
        generation = self._generation
        self.result_banner.clear_message()
        self.busy.start(_("Connecting…"))
        self.test_button.setEnabled(False)
        self.save_button.setEnabled(False)
        check = self._check_connection
        self.runner.run_read(
            lambda: check(url, password),
            lambda report: self._on_check_done(generation, report, save=save),
            lambda exc: self._on_check_failed(generation, exc),
        )

    def _on_check_done(
        self, generation: int, report: ConnectionReport, *, save: bool
    ) -> None:
        if generation != self._generation:
            return
        self._end_check()
        if report.state == "ready":
            self._set_users(report.users, self._current_login())
            self.users_loaded.emit()
        self.result_banner.show_info(_describe(report))
        self.connection_tested.emit(report)
        if save:
            self._write_settings()

    def _on_check_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._end_check()
        message = self.runner.message_for(exc)
        self.result_banner.show_error(
            _("Cannot use this database: {reason}").format(reason=message)
            + "\n"
            + _("Nothing was saved or changed.")
        )
        self.connection_failed.emit(message)

    def _end_check(self) -> None:
        self.busy.stop()
        self.test_button.setEnabled(True)
        self.save_button.setEnabled(True)

    def _write_settings(self) -> None:
        form = self.form()
        password = self.password_edit.text()
        if form.kind == "postgresql" and password:
            try:
                secrets.set_password(secrets.database_key(form.url()), password)
            except keyring.errors.KeyringError as exc:
                self.result_banner.show_error(
                    _(
                        "The password could not be stored in the system keyring "
                        "({error}). Nothing was saved."
                    ).format(error=exc)
                )
                return
        new = dataclasses.replace(
            self._settings,
            database_url=form.url(),
            user_login=self._current_login(),
            language=str(self.language_combo.currentData()),
        )
        try:
            settings_mod.save(new, self._settings_path)
        except OSError as exc:
            self.result_banner.show_error(
                _("The settings could not be written: {error}").format(error=exc)
            )
            return
        self._settings = new
        self.password_edit.clear()
        self.result_banner.show_info(_("Settings saved."))
        self.settings_saved.emit(new)

    def _on_users_done(self, users: tuple[UserInfo, ...]) -> None:
        self._set_users(users, self._current_login())
        self.users_loaded.emit()

    @Slot()
    def _on_kind_toggled(self) -> None:
        sqlite = self.sqlite_radio.isChecked()
        self.path_edit.setEnabled(sqlite)
        self.browse_button.setEnabled(sqlite)
        for field in self.pg_fields:
            field.setEnabled(not sqlite)

    @Slot()
    def _on_browse_button_clicked(self) -> None:
        path, _filter = QFileDialog.getSaveFileName(
            self,
            _("Database file"),
            self.path_edit.text() or _sqlite_path(settings_mod.default_database_url()),
            _("SQLite databases (*.sqlite3 *.sqlite *.db);;All files (*)"),
            options=QFileDialog.Option.DontConfirmOverwrite,
        )
        if path:
            self.path_edit.setText(path)

    @Slot()
    def _on_test_button_clicked(self) -> None:
        self.test_connection()

    @Slot()
    def _on_save_button_clicked(self) -> None:
        self.save()

    @Slot()
    def _on_revert_button_clicked(self) -> None:
        self.result_banner.clear_message()
        language = self.language_combo.currentData()
        self.load_settings(self._settings)
        if language != self._settings.language:
            self.language_changed.emit(self._settings.language)

    @Slot(int)
    def _on_language_combo_changed(self, _index: int) -> None:
        self.language_changed.emit(str(self.language_combo.currentData()))


def _sqlite_path(url: str) -> str:
    return url.split(":///", 1)[1] if ":///" in url else url


def _describe(report: ConnectionReport) -> str:
    if report.state == "new":
        text = _(
            "The file does not exist yet: a new, empty database will be created there."
        )
    elif report.state == "empty":
        text = _("The database is empty: its tables will be created when it is opened.")
    elif report.state == "upgrade":
        text = _(
            "This database comes from an older version: it will be upgraded when "
            "it is opened (an SQLite file is copied first)."
        )
    else:
        text = ngettext(
            "Connection OK: {n} user.", "Connection OK: {n} users.", len(report.users)
        ).format(n=len(report.users))
    return f"{report.description}\n{text}"
