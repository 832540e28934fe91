"""The collector's agenda ("Gestionnaire de relance"), read-only for now.

Shows the current user's actions that wait for a human, grouped by planned
day, late ones on top of today. Performing actions comes with issue #7.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTreeView,
    QWidget,
)

from o2c_desktop.i18n import _, ngettext
from o2c_desktop.ui.itemmodels import AgendaTreeModel
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import Agenda
    from o2c_desktop.ui.ports import BookQueries
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)


class AgendaView(PageView):
    """The current user's waiting actions, by day."""

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.model = AgendaTreeModel(parent=self)
        bar = QHBoxLayout()
        self.summary = QLabel(self)
        self.refresh_button = QPushButton(self)
        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.refresh_button)
        self.tree = QTreeView(self)
        self.tree.setModel(self.model)
        self.tree.setUniformRowHeights(True)
        self.tree.setAlternatingRowColors(True)
        self.tree.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.tree.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        header = self.tree.header()
        header.setStretchLastSection(False)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in ((0, 250), (2, 120), (3, 130), (4, 120), (5, 120)):
            header.resizeSection(column, width)
        self.body.addLayout(bar)
        self.body.addWidget(self.tree, 1)
        self.agenda: Agenda | None = None
        self.retranslate_ui(self.language)

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Dunning agenda"))
        self.refresh_button.setText(_("Refresh"))
        self.model.retranslate(language)
        self._show_summary()
        self._span_days()

    def query(self, book: BookQueries) -> Callable[[], Any]:
        """The current user's agenda for today."""
        today = self.today()
        return lambda: book.agenda(today)

    def show_result(self, result: Agenda | None) -> None:
        """Show the agenda, every day expanded."""
        self.agenda = result
        self.model.set_agenda(result)
        self.tree.expandAll()
        self._span_days()
        self._show_summary()

    def set_loading(self, loading: bool) -> None:
        """No second refresh while one runs."""
        self.refresh_button.setEnabled(not loading)

    def _span_days(self) -> None:
        root = self.tree.rootIndex()
        for row in range(self.model.rowCount()):
            self.tree.setFirstColumnSpanned(row, root, True)

    def _show_summary(self) -> None:
        agenda = self.agenda
        if self.workspace is None or agenda is None:
            self.summary.clear()
            return
        user = self.workspace.user
        if user is None:
            self.summary.setText(
                _("Choose who you are in Settings to see your agenda.")
            )
            return
        late = sum(1 for d in agenda.days for e in d.entries if e.is_late(agenda.today))
        text = ngettext(
            "{name}: {n} action waiting", "{name}: {n} actions waiting", agenda.count
        ).format(name=user.full_name, n=agenda.count)
        if late:
            text += ngettext(", {n} late", ", {n} late", late).format(n=late)
        if agenda.truncated:
            text += " " + _("(the oldest ones are shown first)")
        self.summary.setText(text)

    @Slot()
    def _on_refresh_button_clicked(self) -> None:
        self.refresh()
