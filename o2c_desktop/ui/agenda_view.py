"""The collector's agenda ("Gestionnaire de relance") and the client card behind it.

One column per day (today, then the next working days) with its completion;
late actions sit on top of today, in red. A line per action: type icon,
customer, days late of the oldest item, DSO, amount at stake and an alert
icon whose tooltip says why. Opening a line (Enter or double-click) opens the
client card on that action; after it is performed, "back to the agenda"
selects the next action. A second tab lists the automatic actions waiting
for a confirmation, confirmed one by one or in bulk after a preview.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QModelIndex, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.types import ActionType
from o2c_desktop.engine.workbench import ALERT_LABELS, AlertKind
from o2c_desktop.i18n import _, format_date, format_money, ngettext
from o2c_desktop.ui import icons
from o2c_desktop.ui.client_card_view import ClientCardView
from o2c_desktop.ui.itemmodels import AgendaLineTableModel, ConfirmTableModel
from o2c_desktop.ui.labels import action_type_label
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.workbench import (
        AgendaLine,
        ConfirmPreview,
        ConfirmResult,
        DayColumn,
        WorkAgenda,
    )
    from o2c_desktop.ui.ports import BookQueries, Workspace
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

AGENDA, CARD = range(2)


class DayColumnView(QFrame):
    """One day of the agenda: its name and date, its lines, its completion.

    Signals:
        line_opened(object): the collector opened a line (`AgendaLine`).
    """

    line_opened = Signal(object)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("day_column")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        self.day_label = QLabel(self)
        font = self.day_label.font()
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        self.day_label.setFont(font)
        self.date_label = QLabel(self)
        self.model = AgendaLineTableModel(parent=self)
        self.table = QTableView(self)
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setTabKeyNavigation(False)
        self.table.setAlternatingRowColors(True)
        self.table.setShowGrid(False)
        self.table.verticalHeader().hide()
        self.table.verticalHeader().setDefaultSectionSize(26)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        for column in (1, 2, 3):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(4, QHeaderView.ResizeMode.ResizeToContents)
        self.table.activated.connect(self._on_table_activated)
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 100)
        self.progress.setFormat("%p %")
        layout.addWidget(self.day_label)
        layout.addWidget(self.date_label)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.progress)
        self.column: DayColumn | None = None

    def set_column(self, column: DayColumn, today: dt.date, language: str) -> None:
        """Show one day of the agenda."""
        from babel.dates import format_date as babel_format_date

        from o2c_desktop.i18n import locale_for

        self.column = column
        name = babel_format_date(column.day, format="EEEE", locale=locale_for(language))
        name = name[:1].upper() + name[1:]
        if column.day == today:
            name = _("{day} (today)").format(day=name)
        self.day_label.setText(name)
        count = column.waiting
        self.date_label.setText(
            format_date(column.day, language)
            + "   "
            + ngettext("{n} action to do", "{n} actions to do", count).format(n=count)
        )
        self.model.language = language
        self.model.set_lines(column.lines, today)
        self.progress.setValue(column.completion)
        self.progress.setToolTip(
            ngettext(
                "{done} done out of {total}", "{done} done out of {total}", column.done
            ).format(done=column.done, total=column.done + column.waiting)
        )

    def select(self, action_id: str | None) -> bool:
        """Select the line of `action_id`; whether it is in this column."""
        row = self.model.row_of(action_id) if action_id else None
        if row is None:
            return False
        self.table.selectRow(row)
        self.table.setFocus(Qt.FocusReason.OtherFocusReason)
        return True

    @Slot(QModelIndex)
    def _on_table_activated(self, index: QModelIndex) -> None:
        self.line_opened.emit(self.model.row_value(index.row()))


class AgendaView(PageView):
    """A collector's agenda by day, the actions to confirm, and the client card.

    Signals:
        card_shown(): the client card is in front (opened on an action).
        confirmed(object): automatic actions were confirmed (`ConfirmResult`).
    """

    card_shown = Signal()
    confirmed = Signal(object)

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.agenda: WorkAgenda | None = None
        self.current_action: str | None = None
        self._select_after_load: str | None = None
        self._owners_for: object = None
        self.stack = QStackedWidget(self)
        self.body.addWidget(self.stack, 1)
        self.stack.addWidget(self._build_agenda())
        self.card = ClientCardView(runner, today, self)
        self.card.back_requested.connect(self._on_card_back_requested)
        self.card.next_requested.connect(self._on_card_next_requested)
        self.card.action_performed.connect(self._on_card_action_performed)
        self.stack.addWidget(self.card)
        self.refresh_shortcut = QShortcut(QKeySequence("F5"), self, self.refresh)
        self.retranslate_ui(self.language)

    # -- public ---------------------------------------------------------------

    @property
    def columns(self) -> list[DayColumnView]:
        """The day columns shown."""
        return list(self._columns)

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Show the agenda of `workspace`'s user."""
        self.card.set_workbench(workspace.workbench if workspace else None)
        self.card.set_risk(
            workspace.risk.card if workspace and workspace.risk else None
        )
        self.owner_combo.blockSignals(True)
        self.owner_combo.clear()
        self.owner_combo.blockSignals(False)
        self.stack.setCurrentIndex(AGENDA)
        super().set_workspace(workspace)
        if workspace is not None and workspace.workbench is not None:
            workbench, today = workspace.workbench, self.today()
            self.runner.run_read(
                lambda: workbench.agenda_owners(today), self._on_owners_loaded
            )

    def open_line(self, line: AgendaLine) -> None:
        """Open the client card on a line's action."""
        self.current_action = line.action_id
        self.card.open_customer(line.customer_id, line.action_id)
        self.show_card()

    def open_customer(self, customer_id: int) -> None:
        """Open a customer's card (from the customer list or the search)."""
        self.current_action = None
        self.card.open_customer(customer_id)
        self.show_card()

    def show_card(self) -> None:
        """Bring the client card to the front."""
        self.stack.setCurrentIndex(CARD)
        self.title.hide()
        self.card.back_button.setFocus(Qt.FocusReason.OtherFocusReason)
        self.card_shown.emit()

    def back_to_agenda(self) -> None:
        """Show the agenda again, on the action after the one just opened."""
        following = None
        if self.agenda is not None and self.current_action is not None:
            following = self.agenda.next_after(self.current_action)
        self._select_after_load = following.action_id if following else None
        self.stack.setCurrentIndex(AGENDA)
        self.title.show()
        self.refresh()

    def selected_line(self) -> AgendaLine | None:
        """The line selected in the focused (or first) column."""
        for column in self._columns:
            index = column.table.currentIndex()
            if index.isValid() and column.table.selectionModel().isSelected(index):
                return column.model.row_value(index.row())
        return None

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Dunning agenda"))
        self.owner_label.setText(_("Agenda of:"))
        self.type_label.setText(_("Type:"))
        self.type_combo.setItemText(0, _("All types"))
        for row, kind in enumerate(ActionType, start=1):
            self.type_combo.setItemText(row, action_type_label(kind))
        self.refresh_button.setText(_("Refresh"))
        self.refresh_button.setToolTip(_("Refresh (F5)"))
        self.legend_button.setText(_("Legend"))
        self.confirm_all_button.setText(_("Select all"))
        self.confirm_button.setText(_("Preview and confirm…"))
        self.confirm_model.retranslate(language)
        self.card.retranslate_ui(language)
        self._show_agenda()

    def query(self, book: BookQueries) -> Callable[[], Any] | None:
        """The agenda of the owner chosen, filtered by type."""
        workspace = self.workspace
        if workspace is None or workspace.workbench is None:
            return None
        workbench, today = workspace.workbench, self.today()
        owner = self.owner_combo.currentData()
        kind = self.type_combo.currentData()
        action_type = ActionType(kind) if kind else None
        return lambda: workbench.agenda(today, owner_id=owner, action_type=action_type)

    def show_result(self, result: WorkAgenda | None) -> None:
        """Show the agenda; select the action to work next."""
        self.agenda = result
        self._show_agenda()
        wanted, self._select_after_load = self._select_after_load, None
        if result is None:
            return
        if wanted is None or not any(c.select(wanted) for c in self._columns):
            first = result.lines[0].action_id if result.lines else None
            for column in self._columns:
                if column.select(first):
                    break

    def set_loading(self, loading: bool) -> None:
        """No second refresh while one runs."""
        self.refresh_button.setEnabled(not loading)

    # -- building -----------------------------------------------------------------

    def _build_agenda(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        self.owner_label = QLabel(page)
        self.owner_combo = QComboBox(page)
        self.owner_combo.setMinimumWidth(180)
        self.owner_label.setBuddy(self.owner_combo)
        self.owner_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.type_label = QLabel(page)
        self.type_combo = QComboBox(page)
        self.type_combo.addItem("", None)
        for kind in ActionType:
            self.type_combo.addItem(icons.action_icon(kind), "", kind.value)
        self.type_label.setBuddy(self.type_combo)
        self.type_combo.currentIndexChanged.connect(self._on_filter_changed)
        self.summary = QLabel(page)
        self.refresh_button = QPushButton(icons.icon("refresh"), "", page)
        self.refresh_button.clicked.connect(self._on_refresh_button_clicked)
        self.legend_button = QPushButton(icons.icon("legend"), "", page)
        self.legend_button.clicked.connect(self._on_legend_button_clicked)
        bar.addWidget(self.owner_label)
        bar.addWidget(self.owner_combo)
        bar.addWidget(self.type_label)
        bar.addWidget(self.type_combo)
        bar.addWidget(self.summary, 1)
        bar.addWidget(self.refresh_button)
        bar.addWidget(self.legend_button)
        layout.addLayout(bar)
        self.tabs = QTabWidget(page)
        columns_page = QWidget(self.tabs)
        self.columns_layout = QHBoxLayout(columns_page)
        self.columns_layout.setContentsMargins(0, 4, 0, 0)
        self._columns: list[DayColumnView] = []
        self.tabs.addTab(columns_page, "")
        confirm_page = QWidget(self.tabs)
        confirm_layout = QVBoxLayout(confirm_page)
        self.confirm_model = ConfirmTableModel(parent=self)
        self.confirm_table = QTableView(confirm_page)
        self.confirm_table.setModel(self.confirm_model)
        self.confirm_table.setSelectionBehavior(
            QAbstractItemView.SelectionBehavior.SelectRows
        )
        self.confirm_table.setTabKeyNavigation(False)
        self.confirm_table.verticalHeader().hide()
        self.confirm_table.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch
        )
        self.confirm_table.horizontalHeader().resizeSection(0, 260)
        self.confirm_table.activated.connect(self._on_confirm_table_activated)
        confirm_bar = QHBoxLayout()
        self.confirm_all_button = QPushButton(confirm_page)
        self.confirm_all_button.clicked.connect(
            lambda: self.confirm_model.set_all_checked(True)
        )
        self.confirm_button = QPushButton(confirm_page)
        self.confirm_button.clicked.connect(self._on_confirm_button_clicked)
        confirm_bar.addWidget(self.confirm_all_button)
        confirm_bar.addStretch(1)
        confirm_bar.addWidget(self.confirm_button)
        confirm_layout.addWidget(self.confirm_table, 1)
        confirm_layout.addLayout(confirm_bar)
        self.tabs.addTab(confirm_page, "")
        layout.addWidget(self.tabs, 1)
        return page

    def _ensure_columns(self, count: int) -> None:
        while len(self._columns) < count:
            column = DayColumnView(self)
            column.line_opened.connect(self.open_line)
            self.columns_layout.addWidget(column, 1)
            if self._columns:
                QWidget.setTabOrder(self._columns[-1].table, column.table)
            self._columns.append(column)
        for index, column in enumerate(self._columns):
            column.setVisible(index < count)

    # -- showing ----------------------------------------------------------------------

    def _show_agenda(self) -> None:
        agenda = self.agenda
        columns = agenda.columns if agenda else ()
        self._ensure_columns(len(columns))
        if agenda is not None:
            for view, column in zip(self._columns, columns, strict=False):
                view.set_column(column, agenda.today, self.language)
        waiting = agenda.to_confirm if agenda else ()
        self.confirm_model.language = self.language
        self.confirm_model.set_rows(waiting)
        self.confirm_button.setEnabled(bool(waiting))
        self.confirm_all_button.setEnabled(bool(waiting))
        self.tabs.setTabText(0, _("To do"))
        self.tabs.setTabText(
            1,
            _("Automatic, to confirm ({n})").format(n=len(waiting))
            if waiting
            else _("Automatic, to confirm"),
        )
        self._show_summary()

    def _show_summary(self) -> None:
        agenda = self.agenda
        if self.workspace is None or agenda is None:
            self.summary.clear()
            return
        owner = agenda.owner
        if owner is None:
            self.summary.setText(
                _("Choose who you are in Settings to see your agenda.")
            )
            return
        count = sum(c.waiting for c in agenda.columns)
        late = sum(1 for line in agenda.lines if line.is_late(agenda.today))
        text = ngettext(
            "{name}: {n} action waiting", "{name}: {n} actions waiting", count
        ).format(name=owner.full_name, n=count)
        if late:
            text += ngettext(", {n} late", ", {n} late", late).format(n=late)
        if agenda.truncated:
            text += " " + _("(the oldest ones are shown first)")
        self.summary.setText(text)

    # -- slots ------------------------------------------------------------------------

    def _on_owners_loaded(self, owners: Any) -> None:
        self.owner_combo.blockSignals(True)
        self.owner_combo.clear()
        for user in owners:
            self.owner_combo.addItem(user.full_name, user.id)
        self.owner_combo.blockSignals(False)
        self.owner_combo.setEnabled(len(owners) > 1)

    @Slot()
    def _on_filter_changed(self) -> None:
        self.refresh()

    @Slot()
    def _on_refresh_button_clicked(self) -> None:
        self.refresh()

    @Slot()
    def _on_legend_button_clicked(self) -> None:
        rows = [
            f"<tr><td><b>{action_type_label(kind)}</b></td></tr>" for kind in ActionType
        ]
        alerts = "".join(f"<li>{_(ALERT_LABELS[kind])}</li>" for kind in AlertKind)
        text = (
            "<p>"
            + _(
                "Each line: the action type, the customer, the days late of the "
                "oldest unpaid item, the customer's DSO and the amount at stake."
            )
            + "</p><p>"
            + _("Lines in red were planned for an earlier day.")
            + "</p><p>"
            + _("The warning sign says why a line needs attention:")
            + f"</p><ul>{alerts}</ul><p>"
            + _("The percentage under a day is the share of its actions done.")
            + f"</p><table>{''.join(rows)}</table>"
        )
        box = QMessageBox(self)
        box.setWindowTitle(_("Legend"))
        box.setTextFormat(Qt.TextFormat.RichText)
        box.setText(text)
        box.open()

    @Slot(QModelIndex)
    def _on_confirm_table_activated(self, index: QModelIndex) -> None:
        self.open_line(self.confirm_model.row_value(index.row()))

    @Slot()
    def _on_confirm_button_clicked(self) -> None:
        workspace = self.workspace
        ids = self.confirm_model.checked()
        if workspace is None or workspace.workbench is None:
            return
        if not ids:
            self.banner.show_info(_("Tick the actions to confirm first."))
            return
        workbench, today = workspace.workbench, self.today()
        self.confirm_button.setEnabled(False)
        self.runner.run_read(
            lambda: workbench.preview_confirm(ids, today),
            self._on_preview_loaded,
            self._on_confirm_failed,
        )

    def _on_preview_loaded(self, preview: ConfirmPreview) -> None:
        self.confirm_button.setEnabled(True)
        workspace = self.workspace
        if workspace is None or workspace.workbench is None:
            return
        lines = "\n".join(
            f"{action_type_label(line.action_type)} — {line.customer_name}"
            for line in preview.lines[:20]
        )
        if preview.count > 20:
            lines += "\n…"
        totals = ", ".join(
            format_money(amount, currency, self.language)
            for currency, amount in sorted(preview.totals.items())
        )
        box = QMessageBox(self)
        box.setWindowTitle(_("Confirm automatic actions"))
        box.setText(
            ngettext(
                "Send {n} automatic action now?",
                "Send {n} automatic actions now?",
                preview.count,
            ).format(n=preview.count)
        )
        box.setInformativeText(
            _("Amount claimed: {totals}").format(totals=totals or "-")
        )
        box.setDetailedText(lines)
        box.setStandardButtons(
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel
        )
        if box.exec() != QMessageBox.StandardButton.Yes:
            return
        workbench, today = workspace.workbench, self.today()
        ids = [line.action_id for line in preview.lines]
        self.confirm_button.setEnabled(False)
        self.runner.run_write(
            lambda: workbench.confirm_actions(ids, today),
            self._on_confirm_done,
            self._on_confirm_failed,
        )

    def _on_confirm_done(self, result: ConfirmResult) -> None:
        text = ngettext(
            "{n} action confirmed.", "{n} actions confirmed.", result.confirmed
        ).format(n=result.confirmed)
        if result.failed:
            text += " " + _("Not sent: {list}").format(
                list="; ".join(f"{n} ({why})" for n, why in result.failed)
            )
            self.banner.show_error(text)
        else:
            self.banner.show_info(text)
        self.confirmed.emit(result)
        self.refresh()

    def _on_confirm_failed(self, exc: BaseException) -> None:
        self.confirm_button.setEnabled(True)
        self.banner.show_error(self.runner.message_for(exc))

    @Slot()
    def _on_card_back_requested(self) -> None:
        self.back_to_agenda()

    @Slot()
    def _on_card_next_requested(self) -> None:
        following = None
        if self.agenda is not None and self.current_action is not None:
            following = self.agenda.next_after(self.current_action)
        if following is None:
            self.back_to_agenda()
            return
        self.open_line(following)

    @Slot(object)
    def _on_card_action_performed(self, _result: object) -> None:
        self.card.banner.show_info(
            _("Action performed. Back to the agenda (Alt+Left) or next action.")
        )
