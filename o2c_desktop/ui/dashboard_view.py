"""The book at a glance: key figures and the aged balance (more in issue #8)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.i18n import _, format_date, format_money
from o2c_desktop.ui.charts import AgingChart
from o2c_desktop.ui.itemmodels import AgingTableModel, format_count
from o2c_desktop.ui.page import PageView
from o2c_desktop.ui.widgets import FigureCard

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import AgingBucket, BookSummary
    from o2c_desktop.ui.ports import BookQueries
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)


class DashboardView(PageView):
    """Outstanding, overdue, open items, customers and the aged balance."""

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.summaries: tuple[BookSummary, ...] = ()
        bar = QHBoxLayout()
        self.as_of = QLabel(self)
        self.currency_label = QLabel(self)
        self.currency_combo = QComboBox(self)
        self.currency_combo.currentIndexChanged.connect(self._on_currency_combo_changed)
        bar.addWidget(self.as_of, 1)
        bar.addWidget(self.currency_label)
        bar.addWidget(self.currency_combo)
        cards = QGridLayout()
        self.cards = [FigureCard(self) for _i in range(4)]
        for i, card in enumerate(self.cards):
            cards.addWidget(card, 0, i)
        self.aging_title = QLabel(self)
        font = self.aging_title.font()
        font.setBold(True)
        self.aging_title.setFont(font)
        self.model = AgingTableModel(parent=self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("dashboard_splitter")
        left = QWidget(self.splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.table = QTableView(left)
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.table.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        left_layout.addWidget(self.aging_title)
        left_layout.addWidget(self.table)
        left_layout.addStretch(1)
        self.chart = AgingChart(self.splitter)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.chart)
        self.splitter.setStretchFactor(0, 2)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([460, 700])
        self.body.addLayout(bar)
        self.body.addLayout(cards)
        self.body.addWidget(self.splitter, 1)
        self.retranslate_ui(self.language)

    @property
    def summary(self) -> BookSummary | None:
        """The summary shown (the selected currency's)."""
        index = self.currency_combo.currentIndex()
        return self.summaries[index] if 0 <= index < len(self.summaries) else None

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Dashboards"))
        self.aging_title.setText(_("Aged balance by due date"))
        self.currency_label.setText(_("Currency:"))
        self.model.retranslate(language)
        self._show_summary()

    def query(self, book: BookQueries) -> Callable[[], Any]:
        """The book's summary today."""
        today = self.today()
        return lambda: book.summary(today)

    def show_result(self, result: tuple[BookSummary, ...] | None) -> None:
        """Show the summaries; the largest currency first."""
        self.summaries = result or ()
        self.currency_combo.blockSignals(True)
        self.currency_combo.clear()
        self.currency_combo.addItems([s.currency for s in self.summaries])
        self.currency_combo.blockSignals(False)
        several = len(self.summaries) > 1
        self.currency_combo.setVisible(several)
        self.currency_label.setVisible(several)
        self._show_summary()

    def _show_summary(self) -> None:
        summary = self.summary
        self.model.set_summary(summary)
        self._fit_table()
        lang = self.language
        if summary is None:
            self.as_of.setText(
                "" if self.workspace is None else _("No open items in the book.")
            )
            for card in self.cards:
                card.set_figure("", "")
            self.chart.set_buckets([], [], "", "")
            return
        self.as_of.setText(
            _("Position on {date}").format(date=format_date(summary.as_of, lang))
        )
        figures = (
            (
                _("Outstanding"),
                format_money(summary.outstanding, summary.currency, lang),
            ),
            (_("Overdue"), format_money(summary.overdue, summary.currency, lang)),
            (_("Open items"), format_count(summary.open_items, lang)),
            (_("Customers with open items"), format_count(summary.customers, lang)),
        )
        for card, (caption, value) in zip(self.cards, figures, strict=True):
            card.set_figure(caption, value)
        self.chart.set_buckets(
            [short_label(line.bucket) for line in summary.aging],
            [line.amount for line in summary.aging],
            _("{currency} (thousands)").format(currency=summary.currency),
            _("Days past due"),
        )

    def _fit_table(self) -> None:
        # The table is as tall as its rows: no scroll bar, no empty area.
        rows = self.model.rowCount()
        height = self.table.horizontalHeader().height() + 2 * self.table.frameWidth()
        height += sum(self.table.rowHeight(r) for r in range(rows))
        self.table.setFixedHeight(height)

    @Slot(int)
    def _on_currency_combo_changed(self, _index: int) -> None:
        self._show_summary()


def short_label(bucket: AgingBucket) -> str:
    """A bucket's name on the chart's axis, e.g. "31-60" or "> 180"."""
    if bucket.low is None:
        return _("Not due")
    if bucket.high is None:
        return f"> {bucket.low - 1}"
    return f"{bucket.low}\u2013{bucket.high}"
