"""The credit manager's dashboards (issue #8, seed "ASTON 360").

One filter bar (entity, portfolio, collector, customer, month, position date,
age buckets) above one tab per dashboard. Each tab has its key figures, a
chart created once and updated with new data, and the table behind it.
Hovering a bar shows its values; clicking it lists the items behind it.
Export writes the table to Excel and the chart to PNG.
"""

from __future__ import annotations

import logging
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop import settings as settings_mod
from o2c_desktop.engine import analytics as an
from o2c_desktop.engine.analytics import Percent
from o2c_desktop.engine.types import ActionType
from o2c_desktop.i18n import N_, _, format_date, format_period
from o2c_desktop.sync import spreadsheet
from o2c_desktop.ui.charts import DashboardChart
from o2c_desktop.ui.itemmodels import DashboardTableModel, cell_text
from o2c_desktop.ui.labels import action_type_label
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.analytics import DashboardData, FilterChoices
    from o2c_desktop.ui.ports import BookQueries
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

TABS: tuple[tuple[str, str], ...] = (
    ("aging", N_("Aged balance")),
    ("dso", N_("DSO")),
    ("top", N_("Top customers")),
    ("revenue", N_("Revenue and payment delay")),
    ("risk", N_("Risk")),
    ("customer", N_("Customer 360")),
    ("team", N_("Team follow-up")),
    ("disputes", N_("Disputes")),
    ("cash", N_("Cash follow-up")),
)
# Per dashboard: (option key, [(value, English label)]).
OPTIONS: dict[str, tuple[str, tuple[tuple[str, str], ...]]] = {
    "aging": ("basis", (("due", N_("By due date")), ("issue", N_("By invoice date")))),
    "dso": (
        "method",
        (("countback", N_("Countback method")), ("standard", N_("Standard method"))),
    ),
    "top": ("by", (("amount", N_("By overdue amount")), ("days", N_("By days late")))),
    "team": ("period", (("week", N_("Per week")), ("day", N_("Per day")))),
}
MEASURES = (("amount", N_("Amount")), ("count", N_("Number of items")))
DSO_HELP = N_(
    "DSO, countback method (default): from the receivables at the end of a "
    "month, subtract each month's revenue going back in time, counting that "
    "month's days, until the receivables are used up; the last month counts in "
    "proportion. Standard method: receivables / revenue of the last 3 months x "
    "their days. CEI = (receivables at the start + revenue - receivables at the "
    "end) / (receivables at the start + revenue - current receivables at the "
    "end) x 100. Average days delinquent = DSO - best possible DSO (the same "
    "method applied to the receivables not yet due)."
)


def _table(parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(24)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(False)  # a wide last column hides its figures
    return table


class DashboardTab(QWidget):
    """One dashboard: options, key figures, chart and table."""

    def __init__(self, key: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.key = key
        self.data: DashboardData | None = None
        layout = QVBoxLayout(self)
        bar = QHBoxLayout()
        self.option = QComboBox(self)
        self.measure = QComboBox(self)
        self.option.setVisible(key in OPTIONS)
        self.measure.setVisible(key == "aging")
        bar.addWidget(self.option)
        bar.addWidget(self.measure)
        self.figures = QLabel(self)
        self.figures.setTextFormat(Qt.TextFormat.RichText)
        self.figures.setWordWrap(True)
        bar.addWidget(self.figures, 1)
        layout.addLayout(bar)
        self.help = QLabel(self)
        self.help.setWordWrap(True)
        self.help.setStyleSheet("color: #455a64;")
        self.help.setVisible(key == "dso")
        layout.addWidget(self.help)
        self.splitter = QSplitter(Qt.Orientation.Vertical, self)
        self.chart = DashboardChart(self.splitter)
        self.model = DashboardTableModel(parent=self)
        self.table = _table(self.splitter)
        self.table.setModel(self.model)
        self.splitter.addWidget(self.chart)
        self.splitter.addWidget(self.table)
        self.splitter.setStretchFactor(0, 3)
        self.splitter.setStretchFactor(1, 2)
        layout.addWidget(self.splitter, 1)

    def options(self) -> dict[str, str]:
        """The dashboard's options as chosen."""
        out: dict[str, str] = {}
        if self.key in OPTIONS and self.option.currentData():
            out[OPTIONS[self.key][0]] = str(self.option.currentData())
        if self.key == "aging" and self.measure.currentData():
            out["measure"] = str(self.measure.currentData())
        return out

    def retranslate(self, language: str) -> None:
        """Show every text in `language`."""
        for combo, choices in (
            (self.option, OPTIONS.get(self.key, ("", ()))[1]),
            (self.measure, MEASURES if self.key == "aging" else ()),
        ):
            current = combo.currentIndex()
            combo.blockSignals(True)
            combo.clear()
            for value, label in choices:
                combo.addItem(_(label), value)
            combo.setCurrentIndex(max(current, 0))
            combo.blockSignals(False)
        self.help.setText(_(DSO_HELP))
        self.model.retranslate(language)
        if self.data is not None:
            self.show_data(self.data, language)

    def show_data(self, data: DashboardData, language: str) -> None:
        """Draw the chart, the figures and the table."""
        self.data = data
        money = data.unit not in ("count", "days", "%", "")
        scale = 1000.0 if money and _largest(data) >= 100_000 else 1.0
        right_money = data.right_unit not in ("count", "days", "%", "")
        right_scale = 1000.0 if right_money else 1.0
        bars = [
            (_(s.name), [_float(v) / scale for v in s.values])
            for s in data.series
            if s.kind == "bar"
        ]
        lines = [
            (
                _(s.name),
                [
                    None
                    if v is None
                    else _float(v) / (right_scale if s.axis == "right" else scale)
                    for v in s.values
                ],
                s.axis == "right",
            )
            for s in data.series
            if s.kind == "line"
        ]
        categories = [format_period(c, language) for c in data.categories]
        tips = [
            "\n".join(
                [category]
                + [
                    f"{_(s.name)}: {cell_text(s.values[i], language, data.currency)}"
                    for s in data.series
                ]
            )
            for i, category in enumerate(categories)
        ]
        self.chart.set_data(
            categories,
            bars,
            lines,
            _unit_label(data.unit, scale),
            _unit_label(data.right_unit, right_scale),
            tips,
        )
        self.figures.setText(
            " &nbsp; ".join(
                f"<span style='color:#546e7a'>{_(caption)}</span> "
                f"<b>{cell_text(value, language, data.currency)}</b>"
                for caption, value in data.figures
            )
        )
        self.model.set_table(data.columns, data.rows, data.currency)


class DrillDialog(QDialog):
    """The items behind a bar."""

    def __init__(
        self, title: str, data: DashboardData, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.resize(900, 500)
        layout = QVBoxLayout(self)
        self.model = DashboardTableModel(parent=self)
        self.model.set_table(data.columns, data.rows, data.currency)
        self.table = _table(self)
        self.table.setModel(self.model)
        layout.addWidget(QLabel(_("{n} items").format(n=len(data.rows)), self))
        layout.addWidget(self.table, 1)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)


class DashboardView(PageView):
    """The dashboards, with their filters and exports.

    Signals:
        dashboard_shown(str): a dashboard's figures are drawn (its key).
        drill_opened(object): the list behind a bar is shown (the dialog).
    """

    dashboard_shown = Signal(str)
    drill_opened = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.choices: FilterChoices | None = None
        self._store = QSettings(
            str(settings_mod.config_dir() / "dashboards.ini"),
            QSettings.Format.IniFormat,
        )
        filters = QFormLayout()
        row1 = QHBoxLayout()
        row2 = QHBoxLayout()
        self.entity = QComboBox(self)
        self.portfolio = QComboBox(self)
        self.collector = QComboBox(self)
        self.month = QComboBox(self)
        self.as_of = QComboBox(self)
        self.customer = QLineEdit(self)
        self.buckets = QLineEdit(self)
        self.buckets.setText(
            str(self._store.value("bucket_limits", "0, 30, 60, 90, 180"))
        )
        self.buckets.setMaximumWidth(160)
        self.excel_button = QPushButton(self)
        self.png_button = QPushButton(self)
        self.labels: dict[str, QLabel] = {}
        for name, widget, row in (
            ("entity", self.entity, row1),
            ("portfolio", self.portfolio, row1),
            ("collector", self.collector, row1),
            ("customer", self.customer, row1),
            ("month", self.month, row2),
            ("as_of", self.as_of, row2),
            ("buckets", self.buckets, row2),
        ):
            label = QLabel(self)
            self.labels[name] = label
            row.addWidget(label)
            row.addWidget(widget, 1 if name != "buckets" else 0)
        row2.addStretch(1)
        row2.addWidget(self.excel_button)
        row2.addWidget(self.png_button)
        filters.addRow(row1)
        filters.addRow(row2)
        self.body.addLayout(filters)
        self.tabs = QTabWidget(self)
        self.pages: dict[str, DashboardTab] = {}
        for key, _title in TABS:
            tab = DashboardTab(key, self.tabs)
            tab.option.currentIndexChanged.connect(self._on_filter_changed)
            tab.measure.currentIndexChanged.connect(self._on_filter_changed)
            tab.chart.bar_clicked.connect(self._on_chart_bar_clicked)
            self.pages[key] = tab
            self.tabs.addTab(tab, "")
        self.body.addWidget(self.tabs, 1)
        for combo in (
            self.entity,
            self.portfolio,
            self.collector,
            self.month,
            self.as_of,
        ):
            combo.currentIndexChanged.connect(self._on_filter_changed)
        self.customer.returnPressed.connect(self._on_filter_changed)
        self.buckets.editingFinished.connect(self._on_buckets_edited)
        self.tabs.currentChanged.connect(self._on_filter_changed)
        self.excel_button.clicked.connect(self._on_excel_button_clicked)
        self.png_button.clicked.connect(self._on_png_button_clicked)
        self._load_generation = 0
        self._customer_ids: tuple[int, ...] = ()
        self.retranslate_ui(self.language)

    @property
    def current_key(self) -> str:
        """The dashboard shown."""
        return TABS[self.tabs.currentIndex()][0]

    def show_dashboard(self, key: str) -> None:
        """Bring one dashboard to the front (loads it)."""
        self.tabs.setCurrentIndex([k for k, _t in TABS].index(key))

    def current_filter(self) -> an.DashboardFilter:
        """The filter as chosen in the bar."""
        try:
            limits = an.parse_bucket_limits(self.buckets.text())
        except ValueError:
            limits = an.DEFAULT_BUCKET_LIMITS
        return an.DashboardFilter(
            entity_id=self.entity.currentData(),
            portfolio_id=self.portfolio.currentData(),
            collector_id=self.collector.currentData(),
            customer_ids=self._customer_ids,
            month=self.month.currentData(),
            as_of=self.as_of.currentData(),
            bucket_limits=limits,
            options=self.pages[self.current_key].options(),
        )

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Dashboards"))
        captions = {
            "entity": _("Entity:"),
            "portfolio": _("Portfolio:"),
            "collector": _("Collector:"),
            "customer": _("Customer:"),
            "month": _("Month:"),
            "as_of": _("Position on:"),
            "buckets": _("Age buckets (days):"),
        }
        for name, label in self.labels.items():
            label.setText(captions[name])
        self.customer.setPlaceholderText(_("Name, reference or SIREN, then Enter"))
        self.excel_button.setText(_("Export to Excel…"))
        self.png_button.setText(_("Export chart as PNG…"))
        for i, (_key, title) in enumerate(TABS):
            self.tabs.setTabText(i, _(title))
        for tab in self.pages.values():
            tab.retranslate(language)
        self._fill_choices()

    def query(self, book: BookQueries) -> Callable[[], Any] | None:
        """Filter choices, then the current dashboard."""
        workspace = self.workspace
        if workspace is None or workspace.dashboards is None:
            return None
        dashboards = workspace.dashboards
        today = self.today()
        key = self.current_key
        f = self.current_filter()
        return lambda: (dashboards.choices(today), dashboards.dashboard(key, f, today))

    def show_result(self, result: tuple[FilterChoices, DashboardData] | None) -> None:
        """Fill the filter bar and draw the dashboard."""
        if result is None:
            return
        self.choices, data = result
        self._fill_choices()
        self._show(data)

    def _fill_choices(self) -> None:
        choices = self.choices
        lang = self.language

        def fill(combo: QComboBox, everything: str, items: Any) -> None:
            current = combo.currentData()
            combo.blockSignals(True)
            combo.clear()
            combo.addItem(everything, None)
            for value, label in items:
                combo.addItem(label, value)
            index = combo.findData(current)
            combo.setCurrentIndex(max(index, 0))
            combo.blockSignals(False)

        fill(self.entity, _("All entities"), choices.entities if choices else ())
        fill(self.portfolio, _("All portfolios"), choices.portfolios if choices else ())
        fill(self.collector, _("All collectors"), choices.collectors if choices else ())
        fill(
            self.month,
            _("Current month"),
            [(m, format_period(m, lang)) for m in choices.months] if choices else (),
        )
        fill(
            self.as_of,
            _("Today"),
            [
                (d, _("Snapshot of {date}").format(date=format_date(d, lang)))
                for d in choices.snapshot_dates
            ]
            if choices
            else (),
        )

    def _show(self, data: DashboardData) -> None:
        tab = self.pages.get(data.key)
        if tab is None:
            return
        tab.show_data(data, self.language)
        self.dashboard_shown.emit(data.key)

    def _reload(self) -> None:
        workspace = self.workspace
        if workspace is None or workspace.dashboards is None:
            return
        dashboards = workspace.dashboards
        self._load_generation += 1
        generation = self._load_generation
        key, f, today = self.current_key, self.current_filter(), self.today()
        self.busy.start(_("Loading…"))
        self.runner.run_read(
            lambda: dashboards.dashboard(key, f, today),
            lambda data: self._on_load_done(generation, data),
            lambda exc: self._on_load_failed(generation, exc),
        )

    def _on_load_done(self, generation: int, data: DashboardData) -> None:
        if generation != self._load_generation:
            return
        self.busy.stop()
        self.banner.clear_message()
        self._show(data)

    def _on_load_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._load_generation:
            return
        self.busy.stop()
        self.banner.show_error(self.runner.message_for(exc))

    @Slot()
    def _on_filter_changed(self, *_args: object) -> None:
        text = self.customer.text().strip()
        workspace = self.workspace
        if text and workspace is not None:
            book, today = workspace.book, self.today()
            self.runner.run_read(
                lambda: book.customers(text, 0, 20, today),
                self._on_customer_search_done,
            )
            return
        self._customer_ids = ()
        self._reload()

    def _on_customer_search_done(self, page: Any) -> None:
        self._customer_ids = tuple(r.id for r in page.rows)
        if not self._customer_ids:
            self.banner.show_info(_("No customer matches."))
            return
        self._reload()

    @Slot()
    def _on_buckets_edited(self) -> None:
        try:
            an.parse_bucket_limits(self.buckets.text())
        except ValueError:
            self.banner.show_error(
                _(
                    "Age buckets: increasing whole days starting at 0, "
                    "e.g. 0, 30, 60, 90."
                )
            )
            return
        self._store.setValue("bucket_limits", self.buckets.text())
        self._reload()

    @Slot(int)
    def _on_chart_bar_clicked(self, category: int) -> None:
        workspace = self.workspace
        tab = self.pages[self.current_key]
        if workspace is None or workspace.dashboards is None or tab.data is None:
            return
        if category >= len(tab.data.drill):
            return
        dashboards = workspace.dashboards
        key, f, today = self.current_key, self.current_filter(), self.today()
        title = f"{_(dict(TABS)[key])} \u2014 {_(tab.data.categories[category])}"
        self.runner.run_read(
            lambda: dashboards.drill(key, f, today, category),
            lambda data: self._on_drill_done(title, data),
            lambda exc: self.banner.show_error(self.runner.message_for(exc)),
        )

    def _on_drill_done(self, title: str, data: DashboardData) -> None:
        dialog = DrillDialog(title, data, self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.drill_opened.emit(dialog)
        dialog.show()

    @Slot()
    def _on_excel_button_clicked(self) -> None:
        path, _f = QFileDialog.getSaveFileName(
            self, _("Export to Excel"), f"{self.current_key}.xlsx", "Excel (*.xlsx)"
        )
        if path:
            self.export_excel(path)

    @Slot()
    def _on_png_button_clicked(self) -> None:
        path, _f = QFileDialog.getSaveFileName(
            self, _("Export chart as PNG"), f"{self.current_key}.png", "PNG (*.png)"
        )
        if path:
            self.pages[self.current_key].chart.export_png(path)

    def export_excel(self, path: str) -> None:
        """Write the current dashboard's figures and table to an .xlsx file."""
        from openpyxl import Workbook

        tab = self.pages[self.current_key]
        data = tab.data
        book = Workbook()
        sheet = book.active
        assert sheet is not None
        sheet.title = self.current_key
        spreadsheet.append(sheet, [_(dict(TABS)[self.current_key])])
        if data is not None:
            for caption, value in data.figures:
                spreadsheet.append(sheet, [_(caption), _excel(value)])
            spreadsheet.append(sheet, [])
            spreadsheet.append(sheet, [_(c) for c in data.columns])
            for row in data.rows:
                spreadsheet.append(sheet, [_excel(v) for v in row])
        spreadsheet.save_workbook(book, path)


def _excel(value: object) -> object:
    if isinstance(value, Percent):
        value = value.value
    if isinstance(value, Decimal):
        return float(value)  # openpyxl writes numbers; the file is for reading
    if isinstance(value, ActionType):
        return action_type_label(value)
    if isinstance(value, str):
        return _(value) if value else value
    return value


def _float(value: Decimal | None) -> float:
    return float(value) if value is not None else 0.0


def _largest(data: DashboardData) -> float:
    values = [abs(_float(v)) for s in data.series if s.axis == "left" for v in s.values]
    return max(values, default=0.0)


def _unit_label(unit: str, scale: float) -> str:
    if unit == "count":
        return _("Number")
    if unit == "days":
        return _("Days")
    if unit in ("", "%"):
        return unit
    if scale > 1:
        return _("{currency} (thousands)").format(currency=unit)
    return unit
