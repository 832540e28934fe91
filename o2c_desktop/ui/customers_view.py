"""The customer list: a virtual table loaded a page at a time, searchable."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QTimer, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QTableView,
    QWidget,
)

from o2c_desktop.i18n import _, ngettext
from o2c_desktop.ui import icons
from o2c_desktop.ui.itemmodels import CustomerTableModel, format_count
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import CustomerPage
    from o2c_desktop.ui.ports import BookQueries
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

PAGE_SIZE = 200


class CustomersView(PageView):
    """Customers by name with outstanding, overdue and days late.

    Signals:
        page_loaded(): a further page was added (scrolling down).
    """

    page_loaded = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.model = CustomerTableModel(parent=self)
        self.model.rows_requested.connect(self._on_model_rows_requested)
        bar = QHBoxLayout()
        self.search_edit = QLineEdit(self)
        self.search_edit.setClearButtonEnabled(True)
        self.search_edit.addAction(
            icons.icon("search"), QLineEdit.ActionPosition.LeadingPosition
        )
        self.search_edit.textChanged.connect(self._on_search_edit_text_changed)
        self.count_label = QLabel(self)
        bar.addWidget(self.search_edit, 1)
        bar.addWidget(self.count_label)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setAlternatingRowColors(True)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(24)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column, width in (
            (0, 90),
            (2, 170),
            (3, 140),
            (4, 130),
            (5, 130),
            (6, 100),
        ):
            header.resizeSection(column, width)
        self.body.addLayout(bar)
        self.body.addWidget(self.table, 1)
        self._search_timer = QTimer(self)
        self._search_timer.setSingleShot(True)
        self._search_timer.setInterval(250)
        self._search_timer.timeout.connect(self._on_search_timer_timeout)
        self._page_generation = 0
        self.retranslate_ui(self.language)

    def search(self, text: str) -> None:
        """Show the customers matching `text` (name, reference, SIREN, invoice)."""
        self.search_edit.blockSignals(True)
        self.search_edit.setText(text)
        self.search_edit.blockSignals(False)
        self._search_timer.stop()
        self.refresh()

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Customers"))
        self.search_edit.setPlaceholderText(
            _("Search by name, reference, SIREN or invoice number")
        )
        self.model.retranslate(language)
        self._show_count()

    def query(self, book: BookQueries) -> Callable[[], Any]:
        """The first page of the current search."""
        self._page_generation += 1
        search, today = self.search_edit.text(), self.today()
        return lambda: book.customers(search, 0, PAGE_SIZE, today)

    def show_result(self, result: CustomerPage | None) -> None:
        """Start the list over with its first page."""
        if result is None:
            self.model.set_rows([])
        else:
            self.model.set_page(result)
        self._show_count()

    def _show_count(self) -> None:
        if self.workspace is None:
            self.count_label.clear()
            return
        total = self.model.total
        self.count_label.setText(
            ngettext("{n} customer", "{n} customers", total).format(
                n=format_count(total, self.language)
            )
        )

    @Slot(str)
    def _on_search_edit_text_changed(self, _text: str) -> None:
        self._search_timer.start()

    @Slot()
    def _on_search_timer_timeout(self) -> None:
        self.refresh()

    @Slot(int)
    def _on_model_rows_requested(self, offset: int) -> None:
        if self.workspace is None:
            self.model.page_failed()
            return
        book, generation = self.workspace.book, self._page_generation
        search, today = self.search_edit.text(), self.today()
        self.busy.start(_("Loading…"))
        self.runner.run_read(
            lambda: book.customers(search, offset, PAGE_SIZE, today),
            lambda page: self._on_page_done(generation, page),
            lambda exc: self._on_page_failed(generation, exc),
        )

    def _on_page_done(self, generation: int, page: CustomerPage) -> None:
        if generation != self._page_generation:
            return
        self.busy.stop()
        self.model.append_page(page)
        self.page_loaded.emit()

    def _on_page_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._page_generation:
            return
        self.busy.stop()
        self.model.page_failed()
        self.banner.show_error(self.runner.message_for(exc))
