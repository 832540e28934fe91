"""The credit manager edits a scenario, sees the what-if, saves, runs, sees the agenda.

Scenario (issue #8): step 2 of "Standard" (due date, automatic email) becomes
a manual phone call; the 30-day what-if shows calls instead of emails; saving
asks for confirmation (two customers follow it); after a dunning run the
collector's agenda holds the new call.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt

from o2c_desktop.engine.analytics import DashboardData, Series
from o2c_desktop.engine.desk import StepDraft
from o2c_desktop.engine.templates import validate
from o2c_desktop.engine.types import ActionType, Channel, StepMode
from o2c_desktop.models import Template
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.ui.itemmodels import DashboardTableModel, StepEditTableModel
from tests.services._view_book import STANDARD_STEPS, TODAY

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.main_window import MainWindow
    from o2c_desktop.ui.scenarios_view import ScenariosView


@pytest.fixture
def templates(book_url: str) -> None:
    database = open_database(book_url)
    try:
        with database.session("setup") as s:
            for _n, _o, _t, _m, code in STANDARD_STEPS:
                if code:
                    s.add(
                        Template(
                            code=code,
                            channel=Channel.LETTER,
                            language="fr",
                            name=code,
                            subject="Relance",
                            body="Bonjour {{ customer.name }}",
                        )
                    )
    finally:
        database.dispose()


def test_edit_what_if_save_and_run(
    qtbot: QtBot, templates: None, window: MainWindow, book_url: str
) -> None:
    view: ScenariosView = window.pages()["scenarios"]  # type: ignore[assignment]
    window.show_page("scenarios")
    with qtbot.waitSignal(view.steps_loaded, timeout=10000):
        view.refresh()
    assert view.problems == []
    model = view.step_model
    assert model.rowCount() == len(STANDARD_STEPS)

    with qtbot.waitSignal(view.what_if_done, timeout=30000) as before:
        view.run_what_if()
    baseline = before.args[0]
    assert baseline.totals(baseline.edited).by_type == {
        "phone_call": 4,
        "letter": 4,
        "registered_letter": 2,
    }

    # step 4 (+10): automatic letter -> manual phone call, in place
    with qtbot.waitSignal(view.problems_checked):
        model.setData(
            model.index(3, 2), ActionType.PHONE_CALL.value, Qt.ItemDataRole.EditRole
        )
    model.setData(model.index(3, 4), StepMode.MANUAL.value, Qt.ItemDataRole.EditRole)
    model.setData(model.index(3, 3), "", Qt.ItemDataRole.EditRole)
    # two steps at one offset are refused as you type
    with qtbot.waitSignal(view.problems_checked) as checked:
        model.setData(model.index(2, 1), 0, Qt.ItemDataRole.EditRole)
    assert any(re.search(r"\b0 (days|jours)\b", p) for p in checked.args[0])
    assert not view.save_button.isEnabled()
    with qtbot.waitSignal(view.problems_checked) as checked:
        row = next(
            i for i in range(model.rowCount()) if model.step(i).name == "Étape 3"
        )
        model.setData(model.index(row, 1), 5, Qt.ItemDataRole.EditRole)
    assert checked.args[0] == []

    with qtbot.waitSignal(view.what_if_done, timeout=30000) as after:
        view.run_what_if()
    what_if = after.args[0]
    current = what_if.totals(what_if.current)
    edited = what_if.totals(what_if.edited)
    # The two automatic letters 1 of the month become calls; nothing else moves.
    assert current.by_type == {"phone_call": 4, "letter": 4, "registered_letter": 2}
    assert edited.by_type == {"phone_call": 6, "letter": 2, "registered_letter": 2}
    assert (edited.actions, edited.items) == (current.actions, current.items)
    assert (current.automatic, edited.automatic) == (2, 0)
    assert view.what_if_model.rowCount() == 30

    with qtbot.waitSignal(view.saved, timeout=10000):
        view.save(confirm=True)

    database = open_database(book_url)
    try:
        DunningService(AppContext(db=database, user_login="arossi")).run(TODAY)
    finally:
        database.dispose()
    workspace = window.workspace
    assert workspace is not None
    agenda = workspace.book.agenda(TODAY)
    calls = [
        e
        for day in agenda.days
        for e in day.entries
        if e.customer_name == "Monnier et Fils"
        and e.action_type == ActionType.PHONE_CALL
        and e.planned_date == TODAY
    ]
    assert len(calls) == 1


def test_template_editor_shows_errors_as_you_type(
    qtbot: QtBot, templates: None, window: MainWindow
) -> None:
    view: ScenariosView = window.pages()["scenarios"]  # type: ignore[assignment]
    with qtbot.waitSignal(view.steps_loaded, timeout=10000):
        view.refresh()
    view.template_list.setCurrentRow(0)
    with qtbot.waitSignal(view.preview_done, timeout=10000):
        view.body_edit.setPlainText("Bonjour {{ customer.nom }}")
    assert "customer.nom" in view.template_errors.text()
    with qtbot.waitSignal(view.preview_done, timeout=10000):
        view.body_edit.setPlainText("Bonjour {{ customer.name }}")
    assert view.template_errors.text() == ""
    assert "Bonjour" in view.preview_text.toPlainText()


def test_scope_count_is_live(qtbot: QtBot, window: MainWindow) -> None:
    view: ScenariosView = window.pages()["scenarios"]  # type: ignore[assignment]
    with qtbot.waitSignal(view.scope_counted, timeout=10000) as counted:
        view.refresh()
    assert counted.args[0] == 2


def test_item_models(qtmodeltester: ModelTester) -> None:
    steps = StepEditTableModel()
    steps.set_steps(
        [
            StepDraft("Relance", 10, ActionType.LETTER, template_code="R1"),
            StepDraft("Appel", 5, ActionType.PHONE_CALL, StepMode.MANUAL),
        ]
    )
    check: Any = qtmodeltester.check  # untyped in pytest-qt
    check(steps, force_py=True)
    assert steps.step(0).name == "Appel"
    table = DashboardTableModel()
    data = DashboardData(
        key="aging",
        categories=("Not due",),
        series=(Series("Amount", ()),),
        unit="EUR",
        columns=("Age", "Amount", "Items"),
        rows=(("Not due", None, 3),),
    )
    table.set_table(data.columns, data.rows)
    check(table, force_py=True)


def test_a_template_that_could_hang_a_run_is_refused_on_save(
    qtbot: QtBot, templates: None, window: MainWindow
) -> None:
    # Issue 14 §5: validating this used to compute 9**387420489 and hang.
    view: ScenariosView = window.pages()["scenarios"]  # type: ignore[assignment]
    with qtbot.waitSignal(view.steps_loaded, timeout=10000):
        view.refresh()
    view.template_list.setCurrentRow(0)
    body = "Bonjour {{ 9**(9**9) }}"
    # The reason in the user's language (the window's), as the engine words it.
    (reason,) = (str(p) for p in validate(None, body))
    assert "**" in reason
    with qtbot.waitSignal(view.preview_done, timeout=10000):
        view.body_edit.setPlainText(body)
    assert view.template_errors.text() == reason
    with qtbot.waitSignal(
        view.runner.busy_changed, timeout=10000, check_params_cb=lambda busy: not busy
    ):
        view.save_template_button.click()
    assert view.banner.text() == reason
