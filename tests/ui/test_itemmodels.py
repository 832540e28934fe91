"""Every item model passes Qt's model tester, empty and filled."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import QAbstractItemModel, QModelIndex, Qt

from o2c_desktop import i18n
from o2c_desktop.engine.book import (
    AGING_BUCKETS,
    AgendaEntry,
    AgingLine,
    BookSummary,
    CustomerPage,
    CustomerRow,
    ScenarioInfo,
    StepInfo,
    group_agenda,
)
from o2c_desktop.engine.types import ActionStatus, ActionType, StepMode
from o2c_desktop.ui.itemmodels import (
    ROW_ROLE,
    AgendaTreeModel,
    AgingTableModel,
    CustomerTableModel,
    ScenarioTableModel,
    StepTableModel,
)

if TYPE_CHECKING:
    from pytestqt.modeltest import ModelTester
    from pytestqt.qtbot import QtBot

TODAY = dt.date(2026, 3, 24)


def _check(tester: ModelTester, model: QAbstractItemModel) -> None:
    # pytest-qt's check() is untyped; the Python tester reports clearer failures.
    run: Any = tester.check
    run(model, force_py=True)


def _customer(n: int) -> CustomerRow:
    return CustomerRow(
        id=n,
        reference=f"C{n}",
        name=f"Client {n}",
        legal_id=None,
        portfolio="35 - Grand Compte",
        collector="Alex Rossi",
        currency="EUR",
        outstanding=Decimal("1234.56"),
        overdue=Decimal("1000.00"),
        days_late=n or None,
    )


def _entry(n: int, planned: int) -> AgendaEntry:
    return AgendaEntry(
        action_id=f"a{n}",
        planned_date=TODAY + dt.timedelta(days=planned),
        action_type=ActionType.PHONE_CALL,
        status=ActionStatus.PENDING,
        subject=None,
        customer_id=n,
        customer_reference=f"C{n}",
        customer_name=f"Client {n}",
        days_late=10,
        amount=Decimal("99.99"),
        currency="EUR",
    )


def test_customer_model(qtmodeltester: ModelTester) -> None:
    model = CustomerTableModel()
    _check(qtmodeltester, model)
    model.set_page(CustomerPage(0, tuple(_customer(n) for n in range(3)), total=5))
    _check(qtmodeltester, model)
    assert model.total == 5


def test_customer_model_asks_for_the_next_page_once(qtbot: QtBot) -> None:
    model = CustomerTableModel()
    model.set_page(CustomerPage(0, (_customer(0), _customer(1)), total=3))
    root = QModelIndex()
    with qtbot.waitSignal(model.rows_requested) as asked:
        model.fetchMore(root)
    assert asked.args == [2]
    assert not model.canFetchMore(root)  # one request at a time
    model.append_page(CustomerPage(5, (_customer(9),), total=3))  # stale: ignored
    assert model.rowCount() == 2
    model.append_page(CustomerPage(2, (_customer(2),), total=3))
    assert model.rowCount() == 3
    assert not model.canFetchMore(root)


def test_amounts_are_right_aligned_and_in_the_ui_language() -> None:
    model = CustomerTableModel(language="fr")
    model.set_page(CustomerPage(0, (_customer(1),), total=1))
    index = model.index(0, 4)
    assert model.data(index) == i18n.format_money(Decimal("1234.56"), "EUR", "fr")
    assert model.data(index) == "1\u202f234,56\xa0€"
    assert (
        model.data(index, Qt.ItemDataRole.TextAlignmentRole)
        & Qt.AlignmentFlag.AlignRight
    )
    assert model.data(index, ROW_ROLE) == _customer(1)
    model.retranslate("en")
    assert model.data(index) == "€1,234.56"


def test_agenda_model(qtmodeltester: ModelTester) -> None:
    model = AgendaTreeModel()
    _check(qtmodeltester, model)
    agenda = group_agenda([_entry(1, -3), _entry(2, 0), _entry(3, 2)], TODAY)
    model.set_agenda(agenda)
    _check(qtmodeltester, model)
    assert model.rowCount() == 2
    today = model.index(0, 0)
    assert model.rowCount(today) == 2
    assert model.entry(model.index(0, 0, today)) == _entry(1, -3)
    assert model.entry(today) is None


def test_scenario_and_step_models(qtmodeltester: ModelTester) -> None:
    scenarios = ScenarioTableModel()
    scenarios.set_rows([ScenarioInfo(1, "Standard", None, "fr", True, 8, 120)])
    _check(qtmodeltester, scenarios)
    steps = StepTableModel()
    steps.set_rows(
        [
            StepInfo(
                1,
                "Étape 1",
                -15,
                ActionType.EMAIL,
                StepMode.AUTOMATIC,
                "T",
                True,
                False,
            ),
            StepInfo(
                2, "Étape 2", 0, ActionType.LETTER, StepMode.MANUAL, None, False, True
            ),
        ]
    )
    _check(qtmodeltester, steps)
    assert steps.data(steps.index(0, 5), Qt.ItemDataRole.CheckStateRole) == (
        Qt.CheckState.Checked
    )


@pytest.mark.parametrize("filled", [False, True])
def test_aging_model(qtmodeltester: ModelTester, filled: bool) -> None:
    model = AgingTableModel()
    if filled:
        aging = tuple(
            AgingLine(b, Decimal(i * 100), i) for i, b in enumerate(AGING_BUCKETS)
        )
        model.set_summary(
            BookSummary("EUR", TODAY, Decimal(1500), Decimal(1500), 15, 3, aging)
        )
    _check(qtmodeltester, model)
    if filled:
        assert model.rowCount() == len(AGING_BUCKETS) + 1
        assert model.data(model.index(len(AGING_BUCKETS), 0)) == "Total"
