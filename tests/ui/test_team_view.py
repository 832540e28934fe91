"""The team page: a manager hands a leaving collector's actions over; a collector reads.

Scenario (issue #8): Emmanuel Germain, credit manager, marks Alex Rossi absent
from 1 April with himself as replacement and asks to hand Alex's waiting
actions over; the page counts them (3) before he confirms, then shows Alex
absent, replaced, with nothing waiting. A colleague's change in between is
refused with who changed it and when. Alex, a collector, sees the page but
can change nothing.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import select

from o2c_desktop.engine.desk import PortfolioInfo, Team, TeamMember
from o2c_desktop.engine.types import Role
from o2c_desktop.models import Entity, User
from o2c_desktop.models.db import open_database
from o2c_desktop.settings import Settings
from o2c_desktop.ui.itemmodels import PortfolioTableModel, TeamMemberTableModel
from o2c_desktop.ui.main_window import MainWindow
from o2c_desktop.ui.settings_store import SettingsStore

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytestqt.modeltest import ModelTester
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.ports import Backend
    from o2c_desktop.ui.team_view import TeamView
    from o2c_desktop.ui.workers import TaskRunner
    from tests.ui.conftest import FakeImportPage


@pytest.fixture
def manager_window(
    qtbot: QtBot,
    runner: TaskRunner,
    backend: Backend,
    book_url: str,
    tmp_path: Path,
    fake_import: FakeImportPage,
) -> Iterator[MainWindow]:
    """The main window on the small book as Emmanuel Germain, credit manager."""
    settings = Settings(database_url=book_url, user_login="egermain", language="en")
    main = MainWindow(
        runner,
        backend,
        settings,
        store=SettingsStore(tmp_path / "window.ini"),
        import_page_factory=lambda: fake_import.widget,
        settings_path=tmp_path / "settings.ini",
    )
    qtbot.addWidget(main)
    team: TeamView = main.pages()["team"]  # type: ignore[assignment]
    with (
        qtbot.waitSignal(main.workspace_changed, timeout=10000),
        qtbot.waitSignal(team.team_shown, timeout=10000),
    ):
        main.connect_database(settings)
    yield main
    main.close()


def _member(view: TeamView, login: str) -> TeamMember:
    assert view.team is not None
    return next(m for m in view.team.members if m.login == login)


def test_manager_marks_a_collector_absent_and_hands_the_actions_over(
    qtbot: QtBot, manager_window: MainWindow
) -> None:
    view: TeamView = manager_window.pages()["team"]  # type: ignore[assignment]
    manager_window.show_page("team")
    assert view.team is not None
    assert view.team.can_edit
    assert view.user_box.isEnabled()
    assert view.absence_box.isEnabled()
    view.select_user("arossi")
    assert view.name_edit.text() == "Alex Rossi"
    assert _member(view, "arossi").pending_actions == 3

    with qtbot.waitSignal(view.preview_counted, timeout=10000) as counted:
        view.set_absence_form(
            dt.date(2026, 4, 1), None, replacement_login="egermain", reassign=True
        )
    assert counted.args == [3]
    assert "3 waiting actions of Alex Rossi will go to Emmanuel Germain" in (
        view.preview_label.text()
    )

    with (
        qtbot.waitSignal(view.reassigned, timeout=10000) as moved,
        qtbot.waitSignal(view.team_shown, timeout=10000),
    ):
        view.save_absence(confirm=True)
    assert moved.args == [3]
    assert "3 actions handed to Emmanuel Germain" in view.banner.text()
    rossi = _member(view, "arossi")
    assert rossi.absent_from == dt.date(2026, 4, 1)
    assert rossi.absent_until is None
    assert rossi.replacement_id == _member(view, "egermain").id
    assert rossi.pending_actions == 0
    assert _member(view, "egermain").pending_actions >= 3
    row = view.member_model.row_of(rossi.id)
    assert row is not None
    model = view.member_model
    assert model.data(model.index(row, 5)) == "Emmanuel Germain"
    assert model.data(model.index(row, 6)) == "0"


def test_a_colleagues_change_in_between_is_refused_with_who_and_when(
    qtbot: QtBot, manager_window: MainWindow, book_url: str
) -> None:
    view: TeamView = manager_window.pages()["team"]  # type: ignore[assignment]
    view.select_user("arossi")
    database = open_database(book_url)
    try:
        with database.session("jdoe") as s:
            user = s.scalars(select(User).where(User.login == "arossi")).one()
            user.email = "alex.rossi@example.com"
    finally:
        database.dispose()
    view.name_edit.setText("Alexandre Rossi")
    with (
        qtbot.waitSignal(view.save_failed, timeout=10000) as failed,
        qtbot.waitSignal(view.team_shown, timeout=10000),
    ):
        view.save_user()
    message = failed.args[0]
    assert "Alex Rossi was changed by jdoe at" in message
    assert "not saved" in message
    # the page now shows the colleague's version, and still says why
    assert view.email_edit.text() == "alex.rossi@example.com"
    assert view.name_edit.text() == "Alex Rossi"
    assert "changed by jdoe" in view.banner.text()


def test_manager_adds_a_collector(qtbot: QtBot, manager_window: MainWindow) -> None:
    view: TeamView = manager_window.pages()["team"]  # type: ignore[assignment]
    view.new_user_button.click()
    view.login_edit.setText("jdupont")
    view.name_edit.setText("Julie Dupont")
    view.email_edit.setText("julie.dupont@example.com")
    with qtbot.waitSignal(view.team_shown, timeout=10000):
        view.save_user()
    julie = _member(view, "jdupont")
    assert julie.role == Role.COLLECTOR
    assert julie.active
    assert "Julie Dupont" in [
        view.collector_combo.itemText(i) for i in range(view.collector_combo.count())
    ]


def test_manager_sets_the_contractual_late_interest_rate(
    qtbot: QtBot, manager_window: MainWindow, book_url: str
) -> None:
    view: TeamView = manager_window.pages()["team"]  # type: ignore[assignment]
    view.rate_edit.setText("abc")
    view.save_entity_button.click()
    assert "number" in view.banner.text()

    view.rate_edit.setText("12,5")
    with qtbot.waitSignal(view.team_shown, timeout=10000):
        view.save_entity_button.click()
    db = open_database(book_url)
    with db.session() as s:
        rates = set(s.scalars(select(Entity.late_interest_rate)))
    db.dispose()
    assert Decimal("12.5000") in rates
    assert view.rate_edit.text() == "12.50"  # English UI in this test


def test_a_collector_sees_the_team_but_cannot_change_it(
    qtbot: QtBot, window: MainWindow
) -> None:
    view: TeamView = window.pages()["team"]  # type: ignore[assignment]
    qtbot.waitUntil(lambda: view.team is not None, timeout=10000)
    window.show_page("team")
    assert view.team is not None
    assert not view.team.can_edit
    assert view.member_model.rowCount() == 2
    assert view.portfolio_model.rowCount() == 1
    for widget in (
        view.user_box,
        view.absence_box,
        view.give_button,
        view.save_entity_button,
    ):
        assert not widget.isEnabled()
    # isVisibleTo: shown as soon as the page is, whether or not the window is.
    assert view.banner.isVisibleTo(view)
    assert view.banner.text() == (
        "Seul un credit manager ou un administrateur peut modifier l'équipe. "
        "Vous la consultez en lecture seule."
    )


@pytest.mark.parametrize("filled", [False, True])
def test_team_item_models(qtmodeltester: ModelTester, filled: bool) -> None:
    rossi = TeamMember(
        id=1,
        login="arossi",
        full_name="Alex Rossi",
        email=None,
        role=Role.COLLECTOR,
        active=True,
        absent_from=dt.date(2026, 4, 1),
        absent_until=dt.date(2026, 4, 15),
        replacement_id=2,
        pending_actions=1234,
        version=1,
    )
    germain = TeamMember(
        id=2,
        login="egermain",
        full_name="Emmanuel Germain",
        email="eg@example.com",
        role=Role.CREDIT_MANAGER,
        active=False,
        absent_from=None,
        absent_until=None,
        replacement_id=None,
        pending_actions=0,
        version=3,
    )
    portfolio = PortfolioInfo(
        id=1,
        code="35",
        name="Grand Compte",
        entity_id=None,
        collector_id=1,
        customers=7981,
        version=1,
    )
    team = Team((rossi, germain), (portfolio,), (), can_edit=True)
    members = TeamMemberTableModel(language="en")
    portfolios = PortfolioTableModel(language="en")
    if filled:
        members.set_team(team)
        portfolios.set_team(team)
        assert members.data(members.index(0, 4)) == "01/04/2026 \u2192 15/04/2026"
        assert members.data(members.index(0, 5)) == "Emmanuel Germain"
        assert portfolios.data(portfolios.index(0, 2)) == "Alex Rossi"
    check: Any = qtmodeltester.check  # untyped in pytest-qt
    check(members)
    check(portfolios)
