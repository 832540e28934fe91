"""The import screen: drop an aged balance, check what will be read, import it.

A dropped file is previewed at once from its first rows (layout, mapping,
rows as they will be read); every row is then checked in the background and
the problems listed. Import runs on the write pool with a progress bar and a
Cancel button (cancel = nothing written), then the screen says what changed.
A full import that would close much of the book, or items under a case,
stops and asks first (issue 14); past imports are listed below the drop area
and on the result page, each can be undone as a whole.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QModelIndex, QPersistentModelIndex, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFileDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStackedWidget,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.imports import (
    CloseCheck,
    CloseNotConfirmedError,
    ImportRecord,
    UndoResult,
)
from o2c_desktop.i18n import N_, _, format_money, ngettext
from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.sync.importing.outcome import (
    EntityChoice,
    ImportCancelledError,
    ImportResult,
)
from o2c_desktop.sync.importing.parse import PREVIEW_ROWS, ImportOptions
from o2c_desktop.ui.import_itemmodels import (
    ImportHistoryTableModel,
    ImportRowsTableModel,
    MappingTableModel,
    ProblemTableModel,
    field_label,
)
from o2c_desktop.ui.itemmodels import format_count
from o2c_desktop.ui.widgets import Banner, FigureCard

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.sync.importing.parse import ParsedImport
    from o2c_desktop.ui.import_ports import Importer, ImportPorts
    from o2c_desktop.ui.ports import Workspace
    from o2c_desktop.ui.workers import TaskRunner, Worker

log = logging.getLogger(__name__)

FILE_FILTER = "*.xlsx *.xlsm *.xls *.ods *.csv *.txt"  # .txt: FEC and SAP exports
NEW_ENTITY = "MAIN"  # the code a first import creates


class FieldDelegate(QStyledItemDelegate):
    """A drop-down of the target fields, for the mapping's "Imported as" column."""

    def createEditor(
        self,
        parent: QWidget,
        option: QStyleOptionViewItem,
        index: QModelIndex | QPersistentModelIndex,
    ) -> QWidget:
        combo = QComboBox(parent)
        for target in Field:
            combo.addItem(field_label(target), target.value)
        # Commit as soon as the user picks, not when the editor loses focus.
        combo.activated.connect(lambda _i: self.commitData.emit(combo))
        return combo

    def setEditorData(
        self, editor: QWidget, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        assert isinstance(editor, QComboBox)
        # The field's value string: an enum does not survive the QVariant trip.
        value = index.data(Qt.ItemDataRole.EditRole)
        editor.setCurrentIndex(max(0, editor.findData(value)))

    def setModelData(
        self,
        editor: QWidget,
        model: Any,
        index: QModelIndex | QPersistentModelIndex,
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


def _table(parent: QWidget) -> QTableView:
    view = QTableView(parent)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setAlternatingRowColors(True)
    view.verticalHeader().hide()
    view.horizontalHeader().setStretchLastSection(True)
    view.setWordWrap(False)
    return view


class ImportView(QWidget):
    """Preview, options, import with progress, and the result of an import.

    Args:
        runner: runs the preview (read pool) and the import (write pool).
        ports: preview, importer and profile calls, wired by `app.py`.
        today: the current day (default balance date).

    Signals:
        preview_shown(): the first rows of a file are shown.
        check_finished(): every row was checked; the problems are listed.
        import_finished(object): an `ImportResult`, the import is written.
        import_cancelled(): the import stopped; nothing was written.
        import_failed(str): the import was refused or failed; why.
        close_confirmation_asked(object): a `CloseCheck`; the screen asks
            whether the import may close that much (`close_box`).
        history_loaded(): the list of past imports is up to date.
        undo_finished(object): an `UndoResult`, the import is undone.
        undo_failed(str): the undo was refused or failed; why.
    """

    preview_shown = Signal()
    check_finished = Signal()
    import_finished = Signal(object)
    import_cancelled = Signal()
    import_failed = Signal(str)
    close_confirmation_asked = Signal(object)
    history_loaded = Signal()
    undo_finished = Signal(object)
    undo_failed = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        ports: ImportPorts,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.ports = ports
        self.today = today
        self.language = "fr"
        self.importer: Importer | None = None
        self.path: Path | None = None
        self.options = ImportOptions()
        self.preview: ParsedImport | None = None
        self.checked: ParsedImport | None = None
        self.result: ImportResult | None = None
        self.entities: list[EntityChoice] = []
        self._generation = 0
        self._import_worker: Worker | None = None
        self._check_worker: Worker | None = None
        self._undo_worker: Worker | None = None
        self.close_box: QMessageBox | None = None
        self.undo_box: QMessageBox | None = None
        self._build()
        self.retranslate_ui(self.language)
        self._refresh_profiles()
        self._update_controls()

    # -- public API -----------------------------------------------------------

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Import into `workspace` (None: no database, preview only)."""
        self.importer = (
            None if workspace is None else self.ports.open_importer(workspace)
        )
        self.entities = []
        self._fill_entities()
        if self.importer is not None:
            self.runner.run_read(self.importer.entities, self._on_entities_loaded)
        self.refresh_history()
        self._update_controls()

    def refresh_history(self) -> None:
        """Read the past imports again (after an import or an undo)."""
        if self.importer is None:
            self.history_model.set_rows([])
            self._update_controls()
            return
        self.runner.run_read(self.importer.history, self._on_history_loaded)

    def open_file(self, path: Path | str) -> None:
        """Preview `path`: its layout, mapping, first rows; then check every row."""
        self.path = Path(path)
        self.options = ImportOptions()
        self.result = None
        self._load()

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language` (already set in `o2c_desktop.i18n`)."""
        self.language = language
        self.title.setText(_("Import an aged balance"))
        self.drop_hint.setText(
            _(
                "Drop an Excel or CSV export of your ERP's aged balance anywhere on "
                "the window, or choose a file. Nothing is written before you click "
                "Import."
            )
        )
        self.choose_button.setText(_("Choose a file…"))
        self.another_button.setText(_("Choose another file…"))
        self.sheet_label.setText(_("Sheet"))
        self.entity_label.setText(_("Entity"))
        self.as_of_label.setText(_("Balance date"))
        self.terms_label.setText(_("Default payment terms"))
        self.terms_spin.setSuffix(_(" days"))
        self.terms_spin.setToolTip(
            _(
                "The file has no due dates: customers without payment terms "
                "get the issue date plus these days."
            )
        )
        self.profile_label.setText(_("Mapping profile"))
        self.partial_check.setText(
            _("Partial import: add and update only, close nothing")
        )
        self.save_profile_button.setText(_("Save mapping as profile…"))
        self.profile_combo.setItemText(0, _("(detected automatically)"))
        self.mapping_label.setText(_("Columns of the file"))
        self.rows_label.setText(_("First rows as they will be read"))
        self.valid_only_check.setText(_("Import the valid rows only"))
        self.import_button.setText(_("Import"))
        self.cancel_button.setText(_("Cancel"))
        self.done_title.setText(_("Import done"))
        self.new_import_button.setText(_("Import another file"))
        self.history_label.setText(_("Past imports"))
        self.undo_button.setText(_("Undo the selected import…"))
        self.undo_button.setToolTip(
            _(
                "Puts the items back as they were before the import, and reopens "
                "the promises, plans and disputes closed because of it."
            )
        )
        for model in (
            self.mapping_model,
            self.rows_model,
            self.problem_model,
            self.history_model,
        ):
            model.retranslate(language)
        self._show_summary()
        if self.result is not None:
            self._show_result(self.result)

    # -- building -------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.banner = Banner(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        self.stack = QStackedWidget(self)
        layout.addWidget(self.stack, 1)

        empty = QWidget(self.stack)
        empty_layout = QVBoxLayout(empty)
        self.drop_hint = QLabel(empty)
        self.drop_hint.setWordWrap(True)
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setMinimumHeight(160)
        self.drop_hint.setStyleSheet(
            "QLabel { border: 2px dashed #90a4ae; border-radius: 8px; padding: 24px;"
            " color: #455a64; font-size: 12pt; }"
        )
        self.choose_button = QPushButton(empty)
        self.choose_button.clicked.connect(self._on_choose_button_clicked)
        empty_layout.addStretch(1)
        empty_layout.addWidget(self.drop_hint)
        empty_layout.addWidget(self.choose_button, 0, Qt.AlignmentFlag.AlignCenter)
        empty_layout.addStretch(2)
        self.stack.addWidget(empty)
        self.stack.addWidget(self._build_preview())
        self.stack.addWidget(self._build_result())
        layout.addWidget(self._build_history())
        self.stack.currentChanged.connect(self._on_stack_current_changed)

    def _build_history(self) -> QWidget:
        box = QWidget(self)
        layout = QVBoxLayout(box)
        layout.setContentsMargins(0, 0, 0, 0)
        row = QHBoxLayout()
        self.history_label = QLabel(box)
        self.undo_button = QPushButton(box)
        self.undo_button.clicked.connect(self._on_undo_button_clicked)
        row.addWidget(self.history_label, 1)
        row.addWidget(self.undo_button)
        layout.addLayout(row)
        self.history_model = ImportHistoryTableModel(self.language, self)
        self.history_view = _table(box)
        self.history_view.setModel(self.history_model)
        self.history_view.setSelectionMode(
            QAbstractItemView.SelectionMode.SingleSelection
        )
        self.history_view.setMaximumHeight(180)
        self.history_view.selectionModel().selectionChanged.connect(
            self._on_history_selection_changed
        )
        layout.addWidget(self.history_view)
        self.history_box = box
        return box

    def _build_preview(self) -> QWidget:
        page = QWidget(self.stack)
        layout = QVBoxLayout(page)
        layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        self.file_label = QLabel(page)
        self.file_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.file_label.setWordWrap(True)
        self.another_button = QPushButton(page)
        self.another_button.clicked.connect(self._on_choose_button_clicked)
        head.addWidget(self.file_label, 1)
        head.addWidget(self.another_button)
        layout.addLayout(head)

        self.options_form = QFormLayout()
        self.sheet_combo = QComboBox(page)
        self.sheet_combo.activated.connect(self._on_sheet_combo_activated)
        self.entity_combo = QComboBox(page)
        self.as_of_edit = QDateEdit(page)
        self.as_of_edit.setCalendarPopup(True)
        self.as_of_edit.setDisplayFormat("dd/MM/yyyy")
        self.profile_row = QWidget(page)
        profile_layout = QHBoxLayout(self.profile_row)
        profile_layout.setContentsMargins(0, 0, 0, 0)
        self.profile_combo = QComboBox(self.profile_row)
        self.profile_combo.addItem("", "")
        self.profile_combo.activated.connect(self._on_profile_combo_activated)
        self.save_profile_button = QPushButton(self.profile_row)
        self.save_profile_button.clicked.connect(self._on_save_profile_button_clicked)
        profile_layout.addWidget(self.profile_combo, 1)
        profile_layout.addWidget(self.save_profile_button)
        self.partial_check = QCheckBox(page)
        # FEC and other files without due dates: issue date + these days.
        self.terms_spin = QSpinBox(page)
        self.terms_spin.setRange(0, 365)
        self.terms_spin.setValue(self.options.default_terms_days)
        self.terms_spin.valueChanged.connect(self._on_terms_spin_value_changed)
        self.terms_label = QLabel(page)
        self.sheet_label = QLabel(page)
        self.entity_label = QLabel(page)
        self.as_of_label = QLabel(page)
        self.profile_label = QLabel(page)
        self.options_form.addRow(self.sheet_label, self.sheet_combo)
        self.options_form.addRow(self.entity_label, self.entity_combo)
        self.options_form.addRow(self.as_of_label, self.as_of_edit)
        self.options_form.addRow(self.terms_label, self.terms_spin)
        self.options_form.addRow(self.profile_label, self.profile_row)
        self.options_form.addRow("", self.partial_check)
        layout.addLayout(self.options_form)

        self.mapping_model = MappingTableModel(self.language, self)
        self.mapping_model.field_chosen.connect(self._on_mapping_model_field_chosen)
        self.rows_model = ImportRowsTableModel(self.language, self)
        self.problem_model = ProblemTableModel(self.language, self)
        splitter = QSplitter(Qt.Orientation.Vertical, page)
        splitter.setObjectName("import_splitter")
        top = QWidget(splitter)
        top_layout = QHBoxLayout(top)
        top_layout.setContentsMargins(0, 0, 0, 0)
        mapping_box = QWidget(top)
        mapping_layout = QVBoxLayout(mapping_box)
        mapping_layout.setContentsMargins(0, 0, 0, 0)
        self.mapping_label = QLabel(mapping_box)
        self.mapping_view = _table(mapping_box)
        self.mapping_view.setModel(self.mapping_model)
        self.mapping_view.setItemDelegateForColumn(
            MappingTableModel.FIELD_COLUMN, FieldDelegate(self.mapping_view)
        )
        self.mapping_view.setEditTriggers(QAbstractItemView.EditTrigger.AllEditTriggers)
        mapping_layout.addWidget(self.mapping_label)
        mapping_layout.addWidget(self.mapping_view)
        rows_box = QWidget(top)
        rows_layout = QVBoxLayout(rows_box)
        rows_layout.setContentsMargins(0, 0, 0, 0)
        self.rows_label = QLabel(rows_box)
        self.rows_view = _table(rows_box)
        self.rows_view.setModel(self.rows_model)
        rows_layout.addWidget(self.rows_label)
        rows_layout.addWidget(self.rows_view)
        top_layout.addWidget(mapping_box, 3)
        top_layout.addWidget(rows_box, 5)
        bottom = QWidget(splitter)
        bottom_layout = QVBoxLayout(bottom)
        bottom_layout.setContentsMargins(0, 0, 0, 0)
        self.problems_label = QLabel(bottom)
        self.problem_view = _table(bottom)
        self.problem_view.setModel(self.problem_model)
        bottom_layout.addWidget(self.problems_label)
        bottom_layout.addWidget(self.problem_view)
        splitter.addWidget(top)
        splitter.addWidget(bottom)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([520, 180])
        layout.addWidget(splitter, 1)

        self.summary_label = QLabel(page)
        self.summary_label.setWordWrap(True)
        layout.addWidget(self.summary_label)
        actions = QHBoxLayout()
        self.valid_only_check = QCheckBox(page)
        self.valid_only_check.toggled.connect(self._on_valid_only_check_toggled)
        self.progress = QProgressBar(page)
        self.progress.setRange(0, 100)
        self.progress.setMaximumWidth(260)
        self.progress_label = QLabel(page)
        self.import_button = QPushButton(page)
        self.import_button.setDefault(True)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.cancel_button = QPushButton(page)
        self.cancel_button.clicked.connect(self._on_cancel_button_clicked)
        actions.addWidget(self.valid_only_check)
        actions.addStretch(1)
        actions.addWidget(self.progress_label)
        actions.addWidget(self.progress)
        actions.addWidget(self.cancel_button)
        actions.addWidget(self.import_button)
        layout.addLayout(actions)
        return page

    def _build_result(self) -> QWidget:
        page = QWidget(self.stack)
        layout = QVBoxLayout(page)
        self.done_title = QLabel(page)
        font = self.done_title.font()
        font.setPointSizeF(font.pointSizeF() * 1.2)
        font.setBold(True)
        self.done_title.setFont(font)
        self.done_detail = QLabel(page)
        self.done_detail.setWordWrap(True)
        layout.addWidget(self.done_title)
        layout.addWidget(self.done_detail)
        grid = QGridLayout()
        self.cards: dict[str, FigureCard] = {}
        names = (
            "items_created",
            "items_updated",
            "items_closed",
            "customers_created",
            "customers_updated",
            "rows_rejected",
            "outstanding_before",
            "outstanding_after",
            "overdue_after",
        )
        for i, name in enumerate(names):
            card = FigureCard(page)
            card.setObjectName("FigureCard")
            self.cards[name] = card
            grid.addWidget(card, i // 3, i % 3)
        layout.addLayout(grid)
        line = QFrame(page)
        line.setFrameShape(QFrame.Shape.HLine)
        layout.addWidget(line)
        self.new_import_button = QPushButton(page)
        self.new_import_button.clicked.connect(self._on_choose_button_clicked)
        layout.addWidget(self.new_import_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch(1)
        return page

    # -- reading --------------------------------------------------------------

    def _load(self) -> None:
        """Preview the first rows now, then check them all in the background."""
        path = self.path
        if path is None:
            return
        self._generation += 1
        generation = self._generation
        if self._check_worker is not None:
            self._check_worker.cancel()
        self.preview = None
        self.checked = None
        self.banner.clear_message()
        self.stack.setCurrentIndex(1)
        self.file_label.setText(path.name)
        self._busy(_("Reading {file}…").format(file=path.name), 0)
        preview, options = self.ports.preview, self.options
        self.runner.run_read(
            lambda: preview(path, options, limit=PREVIEW_ROWS),
            lambda parsed: self._on_preview_done(generation, parsed),
            lambda exc: self._on_read_failed(generation, exc),
        )
        self._update_controls()

    def _check_all(self, generation: int) -> None:
        path, preview, options = self.path, self.ports.preview, self.options
        assert path is not None

        def check(report: Callable[[int], None], cancelled: Callable[[], bool]) -> Any:
            del cancelled  # parsing is not interruptible; the result is dropped
            return preview(path, options, report=report)

        self._busy(_("Checking every row…"), 0)
        self._check_worker = self.runner.run_read(
            check,
            lambda parsed: self._on_check_done(generation, parsed),
            lambda exc: self._on_read_failed(generation, exc),
            on_progress=self._on_progress,
        )

    def _show_parsed(self, parsed: ParsedImport) -> None:
        self.mapping_model.set_rows(parsed.columns)
        for row in range(self.mapping_model.rowCount()):
            self.mapping_view.openPersistentEditor(
                self.mapping_model.index(row, MappingTableModel.FIELD_COLUMN)
            )
        self.mapping_view.resizeColumnsToContents()
        self.rows_model.set_rows(parsed.sample(PREVIEW_ROWS))
        self.rows_view.resizeColumnsToContents()
        self.problem_model.set_rows(parsed.problems)
        self.problem_view.resizeColumnsToContents()
        self.sheet_combo.clear()
        for name in parsed.sheets:
            self.sheet_combo.addItem(name, name)
        self.sheet_combo.setCurrentIndex(
            max(0, self.sheet_combo.findData(parsed.sheet))
        )
        self.options_form.setRowVisible(self.sheet_combo, len(parsed.sheets) > 1)
        self.options_form.setRowVisible(self.terms_spin, parsed.due_from_terms)
        hint = parsed.as_of_hint or self.today()
        self.as_of_edit.setDate(QDate(hint.year, hint.month, hint.day))
        self._show_summary()

    def _show_summary(self) -> None:
        parsed = self.checked or self.preview
        if parsed is None or self.path is None:
            self.summary_label.setText("")
            self.problems_label.setText(_("Problems"))
            return
        where = self.path.name
        if parsed.sheet:
            where += " — " + _("sheet {sheet}").format(sheet=parsed.sheet)
        if parsed.header_row:
            where += " — " + _("headers on row {row}").format(row=parsed.header_row)
        layout = (
            _("Recognised layout: {layout}").format(layout=parsed.layout_label)
            if parsed.layout_label
            else _("Columns mapped by their headers")
        )
        self.file_label.setText(f"<b>{where}</b><br>{layout}")
        errors = sum(p.severity == "error" for p in parsed.problems)
        self.problems_label.setText(
            ngettext("{n} problem", "{n} problems", len(parsed.problems)).format(
                n=format_count(len(parsed.problems), self.language)
            )
            if parsed.problems
            else _("No problem found")
        )
        if self.checked is None:
            rows = parsed.data_rows
            self.summary_label.setText(
                _("Checking all {n} rows…").format(n=format_count(rows, self.language))
                if rows
                else _("Checking every row…")
            )
            return
        checked = self.checked
        questions = len(checked.questions)
        text = ngettext(
            "{n} item will be imported", "{n} items will be imported", checked.row_count
        ).format(n=format_count(checked.valid_count, self.language))
        totals = checked.valid_totals()
        if totals:
            text += " " + _("for {total}").format(
                total=" + ".join(
                    format_money(amount, code or self._currency(), self.language)
                    for code, amount in totals.items()
                )
            )
        if checked.error_count:
            text += " · " + ngettext(
                "{n} row has an error", "{n} rows have errors", checked.error_count
            ).format(n=format_count(checked.error_count, self.language))
        if checked.skipped:
            text += " · " + ngettext(
                "{n} row left out (totals, paid)",
                "{n} rows left out (totals, paid)",
                checked.skipped,
            ).format(n=format_count(checked.skipped, self.language))
        if questions:
            text += " · " + ngettext(
                "check the highlighted column",
                "check the {n} highlighted columns",
                questions,
            ).format(n=questions)
        if checked.fatal or (errors and not checked.row_count):
            text = _("This file can't be imported: see the problems below.")
        self.summary_label.setText(text)

    def _currency(self) -> str:
        """Currency of rows that name none: the chosen entity's."""
        code = self.entity_combo.currentData()
        return next((e.currency for e in self.entities if e.code == code), "EUR")

    def _fill_entities(self) -> None:
        self.entity_combo.clear()
        for entity in self.entities:
            self.entity_combo.addItem(f"{entity.code} — {entity.name}", entity.code)
        if not self.entities:
            # The first import creates the entity.
            self.entity_combo.addItem(
                _("{code} (new entity)").format(code=NEW_ENTITY), NEW_ENTITY
            )

    def _refresh_profiles(self) -> None:
        current = self.profile_combo.currentData()
        while self.profile_combo.count() > 1:
            self.profile_combo.removeItem(1)
        for name in self.ports.list_profiles():
            self.profile_combo.addItem(name, name)
        self.profile_combo.setCurrentIndex(max(0, self.profile_combo.findData(current)))

    def _busy(self, text: str, pct: int) -> None:
        self.progress_label.setText(text)
        self.progress.setValue(pct)
        self.progress.show()
        self.progress_label.show()

    def _idle(self, text: str = "") -> None:
        self.progress_label.setText(text)
        self.progress_label.setVisible(bool(text))
        self.progress.hide()

    def _update_controls(self) -> None:
        importing = self._import_worker is not None
        checked = self.checked
        errors = checked.error_count if checked is not None else 0
        self.valid_only_check.setVisible(errors > 0)
        can_import = (
            not importing
            and self.importer is not None
            and checked is not None
            and not checked.fatal
            and checked.valid_count > 0
            and (errors == 0 or self.valid_only_check.isChecked())
        )
        self.import_button.setEnabled(can_import)
        self.undo_button.setEnabled(
            not importing
            and self._undo_worker is None
            and self.importer is not None
            and self._selected_import() is not None
        )
        self.cancel_button.setVisible(importing)
        for widget in (
            self.sheet_combo,
            self.entity_combo,
            self.as_of_edit,
            self.profile_row,
            self.partial_check,
            self.mapping_view,
            self.valid_only_check,
            self.another_button,
        ):
            widget.setEnabled(not importing)
        self.save_profile_button.setEnabled(self.preview is not None and not importing)
        if self.importer is None and checked is not None:
            self.import_button.setToolTip(_("Open a database first (Settings)."))
        elif errors and not self.valid_only_check.isChecked():
            self.import_button.setToolTip(
                _("Some rows have errors: fix the file, or import the valid rows only.")
            )
        else:
            self.import_button.setToolTip("")

    def _show_result(self, result: ImportResult) -> None:
        lang, currency = self.language, result.currency or "EUR"
        detail = _("{file} imported into entity {entity}, balance at {date}.").format(
            file=self.path.name if self.path else "",
            entity=result.entity,
            date=self.as_of_edit.date().toString("dd/MM/yyyy"),
        )
        if result.items_unchanged:
            detail += " " + ngettext(
                "{n} item was already up to date.",
                "{n} items were already up to date.",
                result.items_unchanged,
            ).format(n=format_count(result.items_unchanged, lang))
        if not result.full:
            detail += " " + _("Partial import: no item was closed.")
        change = result.outstanding_after - result.outstanding_before
        sign = "+" if change > 0 else ""
        detail += " " + _("Outstanding changed by {amount}.").format(
            amount=sign + format_money(change, currency, lang)
        )
        self.done_detail.setText(detail)
        figures = {
            "customers_created": (_("Customers created"), result.customers_created),
            "customers_updated": (_("Customers updated"), result.customers_updated),
            "rows_rejected": (_("Rows not imported"), result.rows_rejected),
            "items_created": (_("Items created"), result.items_created),
            "items_updated": (_("Items updated"), result.items_updated),
            "items_closed": (_("Items closed (paid)"), result.items_closed),
        }
        for name, (caption, count) in figures.items():
            self.cards[name].set_figure(caption, format_count(count, lang))
        money = {
            "outstanding_before": (_("Outstanding before"), result.outstanding_before),
            "outstanding_after": (_("Outstanding after"), result.outstanding_after),
            "overdue_after": (_("Overdue after"), result.overdue_after),
        }
        for name, (caption, amount) in money.items():
            self.cards[name].set_figure(caption, format_money(amount, currency, lang))

    # -- slots ----------------------------------------------------------------

    def _on_preview_done(self, generation: int, parsed: ParsedImport) -> None:
        if generation != self._generation:
            return
        self.preview = parsed
        self._show_parsed(parsed)
        self.preview_shown.emit()
        if parsed.fatal or parsed.complete:
            self._on_check_done(generation, parsed)
        else:
            self._check_all(generation)
        self._update_controls()

    def _on_check_done(self, generation: int, parsed: ParsedImport) -> None:
        if generation != self._generation:
            return
        self._check_worker = None
        self.checked = parsed
        self.problem_model.set_rows(parsed.problems)
        self.problem_view.resizeColumnsToContents()
        if parsed.fatal and parsed is not self.preview:
            self._show_parsed(parsed)
        self._idle()
        self._show_summary()
        self._update_controls()
        self.check_finished.emit()

    def _on_read_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self._idle()
        self.banner.show_error(self.runner.message_for(exc))
        self._update_controls()

    @Slot(int)
    def _on_progress(self, pct: int) -> None:
        self.progress.setValue(pct)

    def _on_entities_loaded(self, entities: list[EntityChoice]) -> None:
        self.entities = list(entities)
        self._fill_entities()

    @Slot()
    def _on_choose_button_clicked(self) -> None:
        name, _filter = QFileDialog.getOpenFileName(
            self,
            _("Import an aged balance"),
            "",
            f"{_('Spreadsheets')} ({FILE_FILTER})",
        )
        if name:
            self.open_file(name)

    @Slot(int)
    def _on_terms_spin_value_changed(self, days: int) -> None:
        # Applied when the items are written; the preview need not be re-read.
        self.options = replace(self.options, default_terms_days=days)

    @Slot(int)
    def _on_sheet_combo_activated(self, _row: int) -> None:
        sheet = self.sheet_combo.currentData()
        if (
            sheet is not None
            and self.preview is not None
            and sheet != self.preview.sheet
        ):
            # Columns of another sheet are other columns: start the mapping afresh.
            self.options = replace(self.options, sheet=sheet, overrides=None)
            self._load()

    @Slot(int)
    def _on_profile_combo_activated(self, _row: int) -> None:
        name = self.profile_combo.currentData()
        if not name:
            self.options = replace(self.options, profile=None, overrides=None)
        else:
            try:
                loaded = self.ports.load_profile(name)
            except (LookupError, OSError, ValueError) as exc:
                self.banner.show_error(str(exc))
                return
            self.options = replace(
                loaded, sheet=self.options.sheet, overrides=None, as_of=None
            )
        self._load()

    @Slot()
    def _on_save_profile_button_clicked(self) -> None:
        parsed = self.checked or self.preview
        if parsed is None:
            return
        default = parsed.layout or (self.path.stem if self.path else "")
        name, ok = QInputDialog.getText(
            self, _("Save mapping as profile"), _("Profile name:"), text=default
        )
        if not ok or not name.strip():
            return
        try:
            self.ports.save_profile(name.strip(), parsed)
        except (OSError, ValueError) as exc:
            self.banner.show_error(str(exc))
            return
        self._refresh_profiles()
        self.profile_combo.setCurrentIndex(
            max(0, self.profile_combo.findData(name.strip()))
        )
        self.banner.show_info(_("Mapping saved as profile {name}.").format(name=name))

    @Slot(int, object)
    def _on_mapping_model_field_chosen(self, column: int, target: object) -> None:
        assert isinstance(target, Field)
        overrides = dict(self.options.overrides or {})
        overrides[column] = target
        self.options = replace(self.options, overrides=overrides)
        self._load()

    @Slot(bool)
    def _on_valid_only_check_toggled(self, _checked: bool) -> None:
        self._update_controls()

    @Slot()
    def _on_import_button_clicked(self) -> None:
        self._start_import(confirm_close=False)

    def _start_import(self, *, confirm_close: bool) -> None:
        checked, importer = self.checked, self.importer
        if checked is None or importer is None or self._import_worker is not None:
            return
        # The days chosen after the check count, without reading the file again.
        parsed = replace(
            checked,
            options=replace(
                checked.options, default_terms_days=self.terms_spin.value()
            ),
        )
        code = self.entity_combo.currentData()
        known = {e.code for e in self.entities}
        qdate = self.as_of_edit.date()
        as_of = dt.date(qdate.year(), qdate.month(), qdate.day())
        partial = self.partial_check.isChecked()
        valid_only = self.valid_only_check.isChecked()

        def run(report: Callable[[int], None], cancelled: Callable[[], bool]) -> Any:
            return importer.apply(
                parsed,
                entity_code=code,
                as_of=as_of,
                partial=partial,
                valid_only=valid_only,
                create_entity=code not in known,
                confirm_close=confirm_close,
                report=report,
                cancelled=cancelled,
            )

        self.banner.clear_message()
        self._busy(_("Importing…"), 0)
        worker = self.runner.run_write(
            run, lambda _r: None, lambda _e: None, on_progress=self._on_progress
        )
        # Heard directly: the runner drops what a cancelled worker says, and
        # the screen must know when the rollback is over.
        worker.signals.finished.connect(self._on_import_worker_finished)
        worker.signals.failed.connect(self._on_import_worker_failed)
        self._import_worker = worker
        self._update_controls()

    @Slot()
    def _on_cancel_button_clicked(self) -> None:
        if self._import_worker is not None:
            self._import_worker.cancel()
            self._busy(_("Cancelling…"), self.progress.value())
            self.cancel_button.setEnabled(False)

    @Slot(object)
    def _on_import_worker_finished(self, result: object) -> None:
        self._import_worker = None
        self.cancel_button.setEnabled(True)
        if not isinstance(result, ImportResult):  # cancelled before it started
            self._on_import_stopped()
            return
        self.result = result
        self._idle()
        self._show_result(result)
        self.stack.setCurrentIndex(2)
        self._update_controls()
        self.refresh_history()
        self.import_finished.emit(result)

    @Slot(object)
    def _on_import_worker_failed(self, exc: BaseException) -> None:
        self._import_worker = None
        self.cancel_button.setEnabled(True)
        if isinstance(exc, ImportCancelledError):
            self._on_import_stopped()
            return
        if isinstance(exc, CloseNotConfirmedError):
            self._idle()
            self._update_controls()
            self._ask_close(exc.check)
            return
        message = str(exc) or self.runner.message_for(exc)
        self._idle()
        self.banner.show_error(_("Nothing was imported: {why}").format(why=message))
        self._update_controls()
        self.import_failed.emit(message)

    def _ask_close(self, check: CloseCheck) -> None:
        """Stop and ask before a full import closes that much (issue 14)."""
        lang, currency = self.language, check.currency or "EUR"
        text = ngettext(
            "This file does not list {n} of the {total} open items: importing it "
            "in full closes it as paid.",
            "This file does not list {n} of the {total} open items: importing it "
            "in full closes them as paid.",
            check.items,
        ).format(
            n=format_count(check.items, lang),
            total=format_count(check.open_items, lang),
        )
        text += " " + _("That is {amount} of the {outstanding} outstanding.").format(
            amount=format_money(check.amount, currency, lang),
            outstanding=format_money(check.outstanding, currency, lang),
        )
        held = [
            (check.disputed, N_("{n} in dispute")),
            (check.litigation, N_("{n} in litigation")),
            (check.promised, N_("{n} under a promise to pay")),
            (check.planned, N_("{n} under a payment plan")),
        ]
        named = [_(msg).format(n=format_count(n, lang)) for n, msg in held if n]
        if named:
            text += " " + _("Among them: {cases}.").format(cases=", ".join(named))
        box = QMessageBox(
            QMessageBox.Icon.Warning,
            _("Close these items?"),
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(
            _(
                "A short or wrong file closes items that are still due. Import "
                "anyway only if the file is the complete balance; otherwise "
                "choose a partial import."
            )
        )
        box.button(QMessageBox.StandardButton.Yes).setText(_("Close and import"))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(self._on_close_box_finished)
        self.close_box = box
        box.open()  # not exec(): the event loop, and the tests, keep running
        self.close_confirmation_asked.emit(check)

    def _selected_import(self) -> ImportRecord | None:
        rows = self.history_view.selectionModel().selectedRows()
        if not rows:
            return None
        record = self.history_model.row_value(rows[0].row())
        return record if record.undone_at is None else None

    @Slot(int)
    def _on_close_box_finished(self, answer: int) -> None:
        self.close_box = None
        if answer == QMessageBox.StandardButton.Yes:
            self._start_import(confirm_close=True)
        else:
            self.banner.show_info(_("Nothing was imported."))

    @Slot(int)
    def _on_stack_current_changed(self, index: int) -> None:
        # The preview needs the room; the start and result pages show history.
        self.history_box.setVisible(index != 1)

    @Slot(object)
    def _on_history_loaded(self, records: list[ImportRecord]) -> None:
        self.history_model.set_rows(records)
        self._update_controls()
        self.history_loaded.emit()

    @Slot()
    def _on_history_selection_changed(self) -> None:
        self._update_controls()

    @Slot()
    def _on_undo_button_clicked(self) -> None:
        record = self._selected_import()
        if record is None or self.importer is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Undo this import?"),
            _(
                "Import {id} of {file}: {created} items created, {updated} "
                "updated, {closed} closed. Undoing it puts them back as they were "
                "and reopens the promises, plans and disputes closed because of it."
            ).format(
                id=record.id,
                file=Path(record.source).name,
                created=format_count(record.created, self.language),
                updated=format_count(record.updated, self.language),
                closed=format_count(record.closed, self.language),
            ),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.button(QMessageBox.StandardButton.Yes).setText(_("Undo the import"))
        box.setDefaultButton(QMessageBox.StandardButton.No)
        box.finished.connect(
            lambda answer: self._on_undo_box_finished(answer, record.id)
        )
        self.undo_box = box
        box.open()

    def _on_undo_box_finished(self, answer: int, import_id: int) -> None:
        self.undo_box = None
        importer = self.importer
        if answer != QMessageBox.StandardButton.Yes or importer is None:
            return
        self.banner.clear_message()
        self._undo_worker = self.runner.run_write(
            lambda: importer.undo(import_id), self._on_undo_done, self._on_undo_error
        )
        self._update_controls()

    def _on_undo_done(self, result: UndoResult) -> None:
        self._undo_worker = None
        text = _("Import {id} undone: {restored} items restored, {deleted} removed.")
        text = text.format(
            id=result.import_id,
            restored=format_count(result.items_restored, self.language),
            deleted=format_count(result.items_deleted, self.language),
        )
        if result.cases_reopened:
            text += " " + _("Cases reopened: {cases}.").format(
                cases=", ".join(result.cases_reopened)
            )
        self.banner.show_info(text)
        self.refresh_history()
        self.undo_finished.emit(result)

    def _on_undo_error(self, exc: BaseException) -> None:
        self._undo_worker = None
        message = str(exc) or self.runner.message_for(exc)
        self.banner.show_error(_("Not undone: {why}").format(why=message))
        self._update_controls()
        self.undo_failed.emit(message)

    def _on_import_stopped(self) -> None:
        self._idle()
        self.banner.show_info(_("Import cancelled: nothing was written."))
        self._update_controls()
        self.import_cancelled.emit()
