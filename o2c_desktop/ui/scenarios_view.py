"""Scenarios and their steps, read-only (the editor comes with issue #8)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.i18n import _
from o2c_desktop.ui.itemmodels import ScenarioTableModel, StepTableModel
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import ScenarioInfo, StepInfo
    from o2c_desktop.ui.ports import BookQueries
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)


def _table(parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    return table


class ScenariosView(PageView):
    """The list of scenarios; the selected one's steps below it.

    Signals:
        steps_loaded(): the selected scenario's steps are shown.
    """

    steps_loaded = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.scenario_model = ScenarioTableModel(parent=self)
        self.step_model = StepTableModel(parent=self)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.splitter.setObjectName("scenarios_splitter")
        self.scenario_table = _table(self.splitter)
        self.scenario_table.setModel(self.scenario_model)
        header = self.scenario_table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.scenario_table.selectionModel().selectionChanged.connect(
            self._on_scenario_selection_changed
        )
        steps_box = QWidget(self.splitter)
        steps_layout = QVBoxLayout(steps_box)
        steps_layout.setContentsMargins(0, 0, 0, 0)
        self.steps_title = QLabel(steps_box)
        font = self.steps_title.font()
        font.setBold(True)
        self.steps_title.setFont(font)
        self.description = QLabel(steps_box)
        self.description.setWordWrap(True)
        self.step_table = _table(steps_box)
        self.step_table.setModel(self.step_model)
        header = self.step_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        steps_layout.addWidget(self.steps_title)
        steps_layout.addWidget(self.description)
        steps_layout.addWidget(self.step_table, 1)
        self.splitter.addWidget(self.scenario_table)
        self.splitter.addWidget(steps_box)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.body.addWidget(self.splitter, 1)
        self._steps_generation = 0
        self._selected: ScenarioInfo | None = None
        self.retranslate_ui(self.language)

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Scenarios"))
        self.scenario_model.retranslate(language)
        self.step_model.retranslate(language)
        self._show_selected_title()

    def query(self, book: BookQueries) -> Callable[[], Any]:
        """Every scenario."""
        return book.scenarios

    def show_result(self, result: tuple[ScenarioInfo, ...] | None) -> None:
        """Show the scenarios and select the first."""
        self._steps_generation += 1  # steps still loading are for the old list
        self.scenario_model.set_rows(result or ())
        self.step_model.set_rows(())
        self._selected = None
        self._show_selected_title()
        if result:
            self.scenario_table.selectRow(0)

    @Slot(QItemSelection, QItemSelection)
    def _on_scenario_selection_changed(self, *_args: object) -> None:
        rows = self.scenario_table.selectionModel().selectedRows()
        if not rows or self.workspace is None:
            return
        scenario = self.scenario_model.row_value(rows[0].row())
        self._selected = scenario
        self._show_selected_title()
        self._steps_generation += 1
        generation, book = self._steps_generation, self.workspace.book
        self.busy.start(_("Loading…"))
        self.runner.run_read(
            lambda: book.scenario_steps(scenario.id),
            lambda steps: self._on_steps_done(generation, steps),
            lambda exc: self._on_steps_failed(generation, exc),
        )

    def _on_steps_done(self, generation: int, steps: tuple[StepInfo, ...]) -> None:
        if generation != self._steps_generation:
            return
        self.busy.stop()
        self.step_model.set_rows(steps)
        self.steps_loaded.emit()

    def _on_steps_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._steps_generation:
            return
        self.busy.stop()
        self.banner.show_error(self.runner.message_for(exc))

    def _show_selected_title(self) -> None:
        scenario = self._selected
        if scenario is None:
            self.steps_title.setText(_("Scenario steps"))
            self.description.clear()
            return
        self.steps_title.setText(
            _("Steps of scenario {name}").format(name=scenario.name)
        )
        self.description.setText(scenario.description or "")
