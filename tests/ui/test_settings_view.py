"""Settings: bad databases give a clear message and nothing is written."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import keyring
import pytest
from sqlalchemy import text

from o2c_desktop import i18n, secrets
from o2c_desktop.models.db import make_engine, open_database
from o2c_desktop.settings import Settings
from o2c_desktop.ui.settings_view import DatabaseForm, SettingsView
from tests.conftest import PG_URL, require_pg

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.ports import Backend
    from o2c_desktop.ui.workers import TaskRunner


@pytest.fixture
def settings_path(tmp_path: Path) -> Path:
    return tmp_path / "config" / "settings.ini"


@pytest.fixture
def view(
    qtbot: QtBot, runner: TaskRunner, backend: Backend, settings_path: Path
) -> SettingsView:
    i18n.set_language("fr")  # as the main window does
    page = SettingsView(
        runner, backend.check_connection, Settings(language="fr"), settings_path
    )
    qtbot.addWidget(page)
    return page


def _use_postgres(
    view: SettingsView, port: int, user: str, database: str, password: str = ""
) -> None:
    view.pg_radio.setChecked(True)
    view.host_edit.setText("127.0.0.1")
    view.port_spin.setValue(port)
    view.database_edit.setText(database)
    view.user_edit.setText(user)
    view.password_edit.setText(password)


def _use_sqlite(view: SettingsView, path: Path) -> None:
    view.sqlite_radio.setChecked(True)
    view.path_edit.setText(str(path))


def _fails(qtbot: QtBot, view: SettingsView, *, save: bool = False) -> str:
    with qtbot.waitSignal(view.connection_failed, timeout=20000) as blocker:
        view.save() if save else view.test_connection()
    assert view.result_banner.isVisibleTo(view)
    assert "Rien n'a été enregistré ni modifié." in view.result_banner.text()
    assert view.test_button.isEnabled()
    return str(blocker.args[0])


def _nothing_written(settings_path: Path, key_url: str | None = None) -> None:
    assert not settings_path.exists()
    if key_url is not None:
        assert secrets.get_password(secrets.database_key(key_url)) is None


def test_the_form_round_trips_database_urls() -> None:
    for url in (
        "",
        "sqlite:////data/o2c.sqlite3",
        "postgresql://o2c@db.example.lan:5433/book",
        "postgresql://postgres@127.0.0.1:5432/test?options=-csearch_path%3Dx",
    ):
        assert DatabaseForm.from_url(url).url() == url


def test_a_wrong_password_is_named_and_nothing_is_written(
    qtbot: QtBot, view: SettingsView, settings_path: Path, password_server: int
) -> None:
    _use_postgres(view, password_server, "o2c", "postgres", "wrong-password")
    message = _fails(qtbot, view, save=True)
    assert "refused user 'o2c': wrong password" in message
    assert "wrong password" in view.result_banner.text()
    _nothing_written(settings_path, view.form().url())


def test_the_right_password_goes_to_the_keyring_not_the_file(
    qtbot: QtBot, view: SettingsView, settings_path: Path, password_server: int
) -> None:
    _use_postgres(view, password_server, "o2c", "postgres", "right-password")
    with qtbot.waitSignal(view.settings_saved, timeout=20000) as saved:
        view.save()
    new: Settings = saved.args[0]
    url = f"postgresql://o2c@127.0.0.1:{password_server}/postgres"
    assert new.database_url == url
    assert "right-password" not in settings_path.read_text()
    assert keyring.get_password(secrets.SERVICE, secrets.database_key(url)) == (
        "right-password"
    )
    assert view.password_edit.text() == ""
    # The stored password is used when the field is left empty.
    with qtbot.waitSignal(view.connection_tested, timeout=20000):
        view.test_connection()


def test_an_unreachable_server_is_named_and_nothing_is_written(
    qtbot: QtBot, view: SettingsView, settings_path: Path
) -> None:
    _use_postgres(view, 9, "o2c", "book", "secret")
    message = _fails(qtbot, view, save=True)
    assert "Cannot reach the database server at 127.0.0.1:9/book" in message
    _nothing_written(settings_path, view.form().url())


def test_a_file_that_is_not_a_database_is_refused_untouched(
    qtbot: QtBot, view: SettingsView, settings_path: Path, tmp_path: Path
) -> None:
    junk = tmp_path / "notes.sqlite3"
    junk.write_bytes(b"Quarterly notes, not a database\n" * 200)
    before = junk.read_bytes()
    _use_sqlite(view, junk)
    message = _fails(qtbot, view, save=True)
    assert "is not an O2C Desktop database" in message
    assert junk.read_bytes() == before
    _nothing_written(settings_path)


def test_a_database_from_a_newer_app_is_refused_untouched(
    qtbot: QtBot, view: SettingsView, settings_path: Path, tmp_path: Path
) -> None:
    path = tmp_path / "newer.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    engine.dispose()
    before = path.read_bytes()
    _use_sqlite(view, path)
    message = _fails(qtbot, view, save=True)
    assert "newer version of O2C Desktop" in message
    assert path.read_bytes() == before
    _nothing_written(settings_path)


def test_the_local_postgresql_server_answers(qtbot: QtBot, view: SettingsView) -> None:
    require_pg()
    form = DatabaseForm.from_url(PG_URL)
    _use_postgres(view, form.port, form.user, form.database)
    view.host_edit.setText(form.host)
    with qtbot.waitSignal(view.connection_tested, timeout=20000) as tested:
        view.test_connection()
    assert "PostgreSQL" in tested.args[0].description
    assert view.result_banner.text().startswith("PostgreSQL — ")


def test_saving_a_good_database_picks_the_user_from_it(
    qtbot: QtBot, view: SettingsView, settings_path: Path, book_url: str
) -> None:
    _use_sqlite(view, Path(book_url.removeprefix("sqlite:///")))
    with qtbot.waitSignal(view.users_loaded, timeout=20000):
        view.test_connection()
    assert "Connexion réussie : 2 utilisateurs." in view.result_banner.text()
    items = [view.user_combo.itemText(i) for i in range(view.user_combo.count())]
    assert items == [
        "(personne)",
        "Alex Rossi — Chargé de recouvrement",
        "Emmanuel Germain — Credit manager",
    ]
    view.user_combo.setCurrentIndex(2)
    with qtbot.waitSignal(view.settings_saved, timeout=20000) as saved:
        view.save()
    assert saved.args[0].user_login == "egermain"
    assert "user_login = egermain" in settings_path.read_text()


def test_a_new_file_is_accepted_without_being_created(
    qtbot: QtBot, view: SettingsView, tmp_path: Path
) -> None:
    path = tmp_path / "later" / "book.sqlite3"
    _use_sqlite(view, path)
    with qtbot.waitSignal(view.connection_tested, timeout=20000):
        view.test_connection()
    assert "une nouvelle base vide y sera créée" in view.result_banner.text()
    assert not path.parent.exists()


def test_the_language_is_offered_and_switching_is_announced(
    qtbot: QtBot, view: SettingsView
) -> None:
    with qtbot.waitSignal(view.language_changed) as changed:
        view.language_combo.setCurrentIndex(view.language_combo.findData("en"))
    assert changed.args == ["en"]
