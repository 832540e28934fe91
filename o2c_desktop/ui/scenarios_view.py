"""The scenario editor (issue #8, seed "Fiche scénario / Étapes / Périmètre").

The list of scenarios on the left; the selected one's card, steps (edited in
place), scope (with the live count of customers it picks), a 30-day what-if
and the template editor on the right. Problems show as the user types;
saving a scenario customers follow asks for confirmation.
"""

from __future__ import annotations

import dataclasses
import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import (
    QItemSelection,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
    Slot,
)
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QSplitter,
    QStyledItemDelegate,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.desk import (
    ScenarioDraft,
    StepDraft,
    TemplateInfo,
    WhatIf,
    check_draft,
)
from o2c_desktop.engine.templates import FIELDS, LANGUAGES
from o2c_desktop.engine.types import ActionType, CatchUp, StepMode
from o2c_desktop.i18n import N_, _, format_money, format_number
from o2c_desktop.ui.itemmodels import (
    DashboardTableModel,
    ScenarioTableModel,
    StepEditTableModel,
)
from o2c_desktop.ui.labels import (
    action_type_label,
    channel_label,
    mode_label,
    template_label,
)
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import ScenarioInfo
    from o2c_desktop.engine.desk import ScenarioContext
    from o2c_desktop.ui.ports import BookQueries, ScenarioEditing
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)
WHAT_IF_DAYS = 30


def _table(parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    return table


class ChoiceDelegate(QStyledItemDelegate):
    """A combo box editor for a column of enumeration values."""

    def __init__(
        self, choices: Callable[[], list[tuple[str, str]]], parent: QWidget
    ) -> None:
        super().__init__(parent)
        self._choices = choices

    def createEditor(self, parent: QWidget, _option: Any, _index: Any) -> QWidget:
        combo = QComboBox(parent)
        for value, label in self._choices():
            combo.addItem(label, value)
        return combo

    def setEditorData(
        self, editor: QWidget, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        assert isinstance(editor, QComboBox)
        editor.setCurrentIndex(
            max(editor.findData(index.data(Qt.ItemDataRole.EditRole)), 0)
        )

    def setModelData(
        self, editor: QWidget, model: Any, index: QModelIndex | QPersistentModelIndex
    ) -> None:
        assert isinstance(editor, QComboBox)
        model.setData(index, editor.currentData(), Qt.ItemDataRole.EditRole)


class ScenariosView(PageView):
    """Scenario list and editor.

    Signals:
        steps_loaded(): the selected scenario is in the editor.
        problems_checked(list): the editor's problems after an edit.
        scope_counted(int): customers the scope picks.
        what_if_done(object): the `WhatIf` of the edited scenario.
        saved(): the scenario was saved.
        preview_done(): the template preview was rendered.
    """

    steps_loaded = Signal()
    problems_checked = Signal(list)
    scope_counted = Signal(int)
    what_if_done = Signal(object)
    saved = Signal()
    preview_done = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.draft: ScenarioDraft | None = None
        self.context: ScenarioContext | None = None
        self.what_if: WhatIf | None = None
        self.problems: list[str] = []
        self.templates: tuple[TemplateInfo, ...] = ()
        self._selected: ScenarioInfo | None = None
        self._loading = False
        self._generation = 0
        self.scenario_model = ScenarioTableModel(parent=self)
        self.step_model = StepEditTableModel(parent=self)
        self.what_if_model = DashboardTableModel(parent=self)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("scenarios_splitter")
        # left: the list
        left = QWidget(self.splitter)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        self.scenario_table = _table(left)
        self.scenario_table.setSelectionMode(
            QAbstractItemView.SelectionMode.SingleSelection
        )
        self.scenario_table.setEditTriggers(
            QAbstractItemView.EditTrigger.NoEditTriggers
        )
        self.scenario_table.setModel(self.scenario_model)
        self.scenario_table.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.scenario_table.selectionModel().selectionChanged.connect(
            self._on_scenario_selection_changed
        )
        io = QHBoxLayout()
        self.import_button = QPushButton(left)
        self.export_button = QPushButton(left)
        self.import_button.clicked.connect(self._on_import_button_clicked)
        self.export_button.clicked.connect(self._on_export_button_clicked)
        io.addWidget(self.import_button)
        io.addWidget(self.export_button)
        left_layout.addWidget(self.scenario_table, 1)
        left_layout.addLayout(io)
        # right: the editor
        right = QWidget(self.splitter)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        self.tabs = QTabWidget(right)
        self.tabs.addTab(self._build_card(), "")
        self.tabs.addTab(self._build_steps(), "")
        self.tabs.addTab(self._build_scope(), "")
        self.tabs.addTab(self._build_what_if(), "")
        self.tabs.addTab(self._build_templates(), "")
        right_layout.addWidget(self.tabs, 1)
        self.problem_label = QLabel(right)
        self.problem_label.setWordWrap(True)
        self.problem_label.setStyleSheet("color: #c62828;")
        save_row = QHBoxLayout()
        self.save_button = QPushButton(right)
        self.save_button.setEnabled(False)
        self.save_button.clicked.connect(self._on_save_button_clicked)
        save_row.addWidget(self.problem_label, 1)
        save_row.addWidget(self.save_button)
        right_layout.addLayout(save_row)
        self.splitter.addWidget(left)
        self.splitter.addWidget(right)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 3)
        self.splitter.setSizes([250, 1100])
        self.body.addWidget(self.splitter, 1)
        self._scope_timer = QTimer(self)
        self._scope_timer.setSingleShot(True)
        self._scope_timer.setInterval(300)
        self._scope_timer.timeout.connect(self._count_scope)
        self._preview_timer = QTimer(self)
        self._preview_timer.setSingleShot(True)
        self._preview_timer.setInterval(300)
        self._preview_timer.timeout.connect(self._preview)
        self.retranslate_ui(self.language)

    # -- building -------------------------------------------------------------

    def _build_card(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.name_edit = QLineEdit(page)
        self.description_edit = QLineEdit(page)
        self.entity_combo = QComboBox(page)
        self.language_combo = QComboBox(page)
        for lang in LANGUAGES:
            self.language_combo.addItem(lang.upper(), lang)
        self.gap_spin = QSpinBox(page)
        self.gap_spin.setRange(0, 365)
        self.tolerance_edit = QLineEdit(page)
        self.catch_up_combo = QComboBox(page)
        self.business_check = QCheckBox(page)
        self.priority_spin = QSpinBox(page)
        self.priority_spin.setRange(0, 10000)
        self.active_check = QCheckBox(page)
        self.card_labels = [QLabel(page) for _i in range(10)]
        for label, widget in zip(
            self.card_labels,
            (
                self.name_edit,
                self.description_edit,
                self.entity_combo,
                self.language_combo,
                self.gap_spin,
                self.tolerance_edit,
                self.catch_up_combo,
                self.business_check,
                self.priority_spin,
                self.active_check,
            ),
            strict=True,
        ):
            form.addRow(label, widget)
        for edit in (self.name_edit, self.description_edit, self.tolerance_edit):
            edit.textEdited.connect(self._on_editor_changed)
        for combo in (self.entity_combo, self.language_combo, self.catch_up_combo):
            combo.currentIndexChanged.connect(self._on_editor_changed)
        for spin in (self.gap_spin, self.priority_spin):
            spin.valueChanged.connect(self._on_editor_changed)
        for check in (self.business_check, self.active_check):
            check.toggled.connect(self._on_editor_changed)
        return page

    def _build_steps(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.step_table = _table(page)
        self.step_table.setSelectionMode(
            QAbstractItemView.SelectionMode.ExtendedSelection
        )
        self.step_table.setModel(self.step_model)
        self.step_table.setEditTriggers(
            QAbstractItemView.EditTrigger.DoubleClicked
            | QAbstractItemView.EditTrigger.EditKeyPressed
            | QAbstractItemView.EditTrigger.SelectedClicked
        )
        self.step_table.setItemDelegateForColumn(
            2,
            ChoiceDelegate(
                lambda: [(t.value, action_type_label(t)) for t in ActionType], self
            ),
        )
        self.step_table.setItemDelegateForColumn(
            4,
            ChoiceDelegate(lambda: [(m.value, mode_label(m)) for m in StepMode], self),
        )
        header = self.step_table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.step_model.steps_edited.connect(self._on_editor_changed)
        buttons = QHBoxLayout()
        self.add_step_button = QPushButton(page)
        self.delete_steps_button = QPushButton(page)
        self.add_step_button.clicked.connect(self._on_add_step_button_clicked)
        self.delete_steps_button.clicked.connect(self._on_delete_steps_button_clicked)
        buttons.addWidget(self.add_step_button)
        buttons.addWidget(self.delete_steps_button)
        buttons.addStretch(1)
        layout.addWidget(self.step_table, 1)
        layout.addLayout(buttons)
        return page

    def _build_scope(self) -> QWidget:
        page = QWidget(self)
        form = QFormLayout(page)
        self.scope_edits = {
            key: QLineEdit(page)
            for key in (
                "entity_ids",
                "portfolio_ids",
                "categories",
                "risk_classes",
                "min_outstanding",
            )
        }
        self.scope_labels = {key: QLabel(page) for key in self.scope_edits}
        for key, edit in self.scope_edits.items():
            edit.textEdited.connect(self._on_editor_changed)
            form.addRow(self.scope_labels[key], edit)
        self.scope_count_label = QLabel(page)
        font = self.scope_count_label.font()
        font.setBold(True)
        self.scope_count_label.setFont(font)
        self.scope_help = QLabel(page)
        self.scope_help.setWordWrap(True)
        form.addRow(self.scope_count_label)
        form.addRow(self.scope_help)
        return page

    def _build_what_if(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        row = QHBoxLayout()
        self.what_if_button = QPushButton(page)
        self.what_if_button.clicked.connect(self._on_what_if_button_clicked)
        self.what_if_summary = QLabel(page)
        self.what_if_summary.setWordWrap(True)
        self.what_if_summary.setTextFormat(Qt.TextFormat.RichText)
        row.addWidget(self.what_if_button)
        row.addWidget(self.what_if_summary, 1)
        self.what_if_table = _table(page)
        self.what_if_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.what_if_table.setModel(self.what_if_model)
        self.what_if_table.horizontalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents
        )
        layout.addLayout(row)
        layout.addWidget(self.what_if_table, 1)
        return page

    def _build_templates(self) -> QWidget:
        page = QWidget(self)
        layout = QHBoxLayout(page)
        left = QVBoxLayout()
        self.template_list = QListWidget(page)
        self.template_list.currentRowChanged.connect(self._on_template_list_row_changed)
        self.field_list = QListWidget(page)
        # The template language's own tokens, written as they are typed.
        self.field_list.setProperty("shows_code", True)
        for name, attrs in FIELDS.items():
            if attrs is None:
                self.field_list.addItem(f"{{{{ {name} }}}}")
            else:
                for attr in sorted(attrs):
                    self.field_list.addItem(f"{{{{ {name}.{attr} }}}}")
        self.field_list.itemDoubleClicked.connect(self._on_field_list_double_clicked)
        self.fields_title = QLabel(page)
        left.addWidget(self.template_list, 2)
        left.addWidget(self.fields_title)
        left.addWidget(self.field_list, 3)
        middle = QVBoxLayout()
        self.subject_edit = QLineEdit(page)
        self.body_edit = QPlainTextEdit(page)
        self.template_errors = QLabel(page)
        self.template_errors.setWordWrap(True)
        self.template_errors.setStyleSheet("color: #c62828;")
        self.save_template_button = QPushButton(page)
        self.save_template_button.clicked.connect(self._on_save_template_button_clicked)
        self.subject_edit.textEdited.connect(self._on_template_edited)
        self.body_edit.textChanged.connect(self._on_template_edited)
        middle.addWidget(self.subject_edit)
        middle.addWidget(self.body_edit, 1)
        middle.addWidget(self.template_errors)
        middle.addWidget(self.save_template_button)
        right = QVBoxLayout()
        picks = QHBoxLayout()
        self.preview_language = QComboBox(page)
        for lang in LANGUAGES:
            self.preview_language.addItem(lang.upper(), lang)
        self.preview_customer = QComboBox(page)
        self.preview_language.currentIndexChanged.connect(self._on_template_edited)
        self.preview_customer.currentIndexChanged.connect(self._on_template_edited)
        picks.addWidget(self.preview_language)
        picks.addWidget(self.preview_customer, 1)
        self.preview_text = QPlainTextEdit(page)
        self.preview_text.setReadOnly(True)
        right.addLayout(picks)
        right.addWidget(self.preview_text, 1)
        layout.addLayout(left, 2)
        layout.addLayout(middle, 3)
        layout.addLayout(right, 3)
        return page

    # -- public ---------------------------------------------------------------

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Scenarios"))
        for i, text in enumerate(
            (
                _("Scenario card"),
                _("Scenario steps"),
                _("Scenario scope"),
                _("What-if, 30 days"),
                _("Templates"),
            )
        ):
            self.tabs.setTabText(i, text)
        for label, text in zip(
            self.card_labels,
            (
                _("Name:"),
                _("Description:"),
                _("Entity:"),
                _("Default language:"),
                _("Minimum gap (days):"),
                _("Tolerance:"),
                _("Catch-up:"),
                _("Business days:"),
                _("Priority:"),
                _("Active:"),
            ),
            strict=True,
        ):
            label.setText(text)
        self.catch_up_combo.blockSignals(True)
        current = self.catch_up_combo.currentIndex()
        self.catch_up_combo.clear()
        self.catch_up_combo.addItem(_("One step per run"), CatchUp.ONE_STEP.value)
        self.catch_up_combo.addItem(_("Jump to today's step"), CatchUp.JUMP.value)
        self.catch_up_combo.setCurrentIndex(max(current, 0))
        self.catch_up_combo.blockSignals(False)
        for key, text in (
            ("entity_ids", _("Entity ids:")),
            ("portfolio_ids", _("Portfolio ids:")),
            ("categories", _("Customer categories:")),
            ("risk_classes", _("Risk classes:")),
            ("min_outstanding", _("Minimum outstanding:")),
        ):
            self.scope_labels[key].setText(text)
        self.scope_help.setText(
            _(
                "Rules pick customers that name no scenario; every rule filled "
                "in must match. Separate values with commas."
            )
        )
        self.add_step_button.setText(_("Add a step"))
        self.delete_steps_button.setText(_("Delete selected"))
        self.what_if_button.setText(_("Simulate the next 30 days"))
        self.fields_title.setText(_("Merge fields (double-click to insert):"))
        self.subject_edit.setPlaceholderText(_("Subject"))
        self.save_template_button.setText(_("Save the template"))
        self.save_button.setText(_("Save the scenario"))
        self.import_button.setText(_("Import JSON…"))
        self.export_button.setText(_("Export JSON…"))
        self.scenario_model.retranslate(language)
        self.step_model.retranslate(language)
        self.what_if_model.retranslate(language)

    def query(self, book: BookQueries) -> Callable[[], Any]:
        """Every scenario."""
        return book.scenarios

    def show_result(self, result: tuple[ScenarioInfo, ...] | None) -> None:
        """Show the scenarios and select the first (or the one being edited)."""
        self._generation += 1
        keep = self._selected.id if self._selected else None
        self.scenario_model.set_rows(result or ())
        if not result:
            self._selected = None
            return
        row = next((i for i, r in enumerate(result) if r.id == keep), 0)
        self.scenario_table.selectRow(row)

    def current_draft(self) -> ScenarioDraft | None:
        """The scenario as edited on screen."""
        draft = self.draft
        if draft is None:
            return None
        try:
            tolerance = Decimal(
                self.tolerance_edit.text().replace(",", ".").strip() or "0"
            )
        except InvalidOperation:
            tolerance = Decimal(-1)
        return draft.replace(
            name=self.name_edit.text(),
            description=self.description_edit.text(),
            entity_id=self.entity_combo.currentData(),
            default_language=self.language_combo.currentData() or "fr",
            min_gap_days=self.gap_spin.value(),
            tolerance=tolerance,
            catch_up=CatchUp(
                self.catch_up_combo.currentData() or CatchUp.ONE_STEP.value
            ),
            business_days=self.business_check.isChecked(),
            priority=self.priority_spin.value(),
            active=self.active_check.isChecked(),
            scope=self._scope(),
            steps=self.step_model.steps(),
        )

    def run_what_if(self) -> None:
        """Plan the next 30 days under the edited scenario and the current one."""
        editor, draft = self._editor(), self.current_draft()
        if editor is None or draft is None:
            return
        today = self.today()
        self.what_if_button.setEnabled(False)
        self.busy.start(_("Simulating 30 days…"))
        self.runner.run_read(
            lambda: editor.what_if(draft, today, WHAT_IF_DAYS),
            self._on_what_if_done,
            self._on_task_failed,
        )

    def save(self, *, confirm: bool | None = None) -> None:
        """Save the edited scenario; ask first when customers follow it.

        Args:
            confirm: answer the confirmation without asking (tests); None asks.
        """
        editor, draft = self._editor(), self.current_draft()
        if editor is None or draft is None:
            return
        if draft.customer_count and confirm is None:
            answer = QMessageBox.question(
                self,
                _("Save the scenario"),
                _(
                    "{n} customers follow scenario {name}. Their dunning changes "
                    "from the next run. Save?"
                ).format(n=draft.customer_count, name=draft.name),
            )
            confirm = answer == QMessageBox.StandardButton.Yes
            if not confirm:
                return
        self.save_button.setEnabled(False)
        self.runner.run_write(
            lambda: editor.save(draft, confirm=bool(confirm)),
            self._on_save_done,
            self._on_task_failed,
        )

    # -- slots ----------------------------------------------------------------

    @Slot(QItemSelection, QItemSelection)
    def _on_scenario_selection_changed(self, *_args: object) -> None:
        rows = self.scenario_table.selectionModel().selectedRows()
        editor = self._editor()
        if not rows or editor is None:
            return
        scenario = self.scenario_model.row_value(rows[0].row())
        self._selected = scenario
        self._generation += 1
        generation = self._generation
        self.busy.start(_("Loading…"))
        self.runner.run_read(
            lambda: (
                editor.load(scenario.id),
                editor.context(scenario.id),
                editor.templates(),
                editor.sample_customers(),
            ),
            lambda result: self._on_draft_loaded(generation, result),
            self._on_task_failed,
        )

    def _on_draft_loaded(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return
        self.busy.stop()
        draft, context, templates, customers = result
        self.draft, self.context, self.templates = draft, context, templates
        self._loading = True
        self.name_edit.setText(draft.name)
        self.description_edit.setText(draft.description)
        self.entity_combo.clear()
        self.entity_combo.addItem(_("All entities"), None)
        for entity_id, label in context.entities:
            self.entity_combo.addItem(label, entity_id)
        self.entity_combo.setCurrentIndex(
            max(self.entity_combo.findData(draft.entity_id), 0)
        )
        self.language_combo.setCurrentIndex(
            max(self.language_combo.findData(draft.default_language), 0)
        )
        self.gap_spin.setValue(draft.min_gap_days)
        self.tolerance_edit.setText(str(draft.tolerance))
        self.catch_up_combo.setCurrentIndex(
            max(self.catch_up_combo.findData(draft.catch_up.value), 0)
        )
        self.business_check.setChecked(draft.business_days)
        self.priority_spin.setValue(draft.priority)
        self.active_check.setChecked(draft.active)
        for key, edit in self.scope_edits.items():
            value = draft.scope.get(key)
            edit.setText(
                ", ".join(str(v) for v in value)
                if isinstance(value, list)
                else str(value or "")
            )
        self.step_model.set_steps(draft.steps)
        self.template_list.clear()
        for t in templates:
            self.template_list.addItem(
                f"{template_label(t.code)} \u2014 {channel_label(t.channel)} "
                f"\u2014 {t.language.upper()}"
            )
        self.preview_customer.blockSignals(True)
        self.preview_customer.clear()
        for customer_id, label in customers:
            self.preview_customer.addItem(label, customer_id)
        self.preview_customer.blockSignals(False)
        self._loading = False
        self.what_if = None
        self.what_if_model.set_table((), ())
        self.what_if_summary.clear()
        self._check()
        self._scope_timer.start()
        self.steps_loaded.emit()

    @Slot()
    def _on_editor_changed(self, *_args: object) -> None:
        if self._loading or self.draft is None:
            return
        self.step_model.reorder()
        self._check()
        self._scope_timer.start()

    @Slot()
    def _on_add_step_button_clicked(self) -> None:
        steps = self.step_model.steps()
        offset = max((s.offset_days for s in steps), default=0) + 10
        row = self.step_model.add_step(
            StepDraft(
                name=_("Step {n}").format(n=len(steps) + 1),
                offset_days=offset,
                action_type=ActionType.PHONE_CALL,
                mode=StepMode.MANUAL,
            )
        )
        self.step_table.selectRow(row)

    @Slot()
    def _on_delete_steps_button_clicked(self) -> None:
        rows = [i.row() for i in self.step_table.selectionModel().selectedRows()]
        if rows:
            self.step_model.remove_rows(rows)

    @Slot()
    def _on_what_if_button_clicked(self) -> None:
        self.run_what_if()

    def _on_what_if_done(self, what_if: WhatIf) -> None:
        self.busy.stop()
        self.what_if_button.setEnabled(True)
        self.what_if = what_if
        lang = self.language
        rows = []
        for cur, new in zip(what_if.current, what_if.edited, strict=True):
            types = sorted(set(cur.by_type) | set(new.by_type))
            detail = ", ".join(
                f"{action_type_label(ActionType(t))} "
                f"{cur.by_type.get(t, 0)}\u2192{new.by_type.get(t, 0)}"
                for t in types
            )
            channels = ", ".join(
                f"{_(c)} {n}" for c, n in sorted(new.by_channel.items())
            )
            rows.append(
                (
                    new.day,
                    cur.actions,
                    new.actions,
                    cur.amount,
                    new.amount,
                    detail,
                    channels,
                )
            )
        self.what_if_model.set_table(
            (
                N_("Day"),
                N_("Actions now"),
                N_("Actions edited"),
                N_("Amount now"),
                N_("Amount edited"),
                N_("By type (now\u2192edited)"),
                N_("By channel (edited)"),
            ),
            rows,
        )
        now, edited = what_if.totals(what_if.current), what_if.totals(what_if.edited)

        def line(caption: str, t: Any) -> str:
            return _(
                "{caption}: <b>{actions}</b> actions (one per customer and day), "
                "{items} items, {amount}, automatic {share} %"
            ).format(
                caption=caption,
                actions=t.actions,
                items=t.items,
                amount=format_money(t.amount, "EUR", lang),
                share=format_number(t.automatic_share, lang),
            )

        self.what_if_summary.setText(
            line(_("Current scenario"), now)
            + "<br>"
            + line(_("Edited scenario"), edited)
        )
        self.what_if_done.emit(what_if)

    @Slot()
    def _on_save_button_clicked(self) -> None:
        self.save()

    def _on_save_done(self, _changes: object) -> None:
        self.save_button.setEnabled(True)
        self.banner.show_info(_("Scenario saved."))
        self.saved.emit()
        self.refresh()

    def _on_task_failed(self, exc: BaseException) -> None:
        self.busy.stop()
        self.what_if_button.setEnabled(True)
        self.save_button.setEnabled(not self.problems)
        self.banner.show_error(
            self.runner.message_for(exc)
            if not isinstance(exc, ValueError)
            else str(exc)
        )

    @Slot()
    def _on_import_button_clicked(self) -> None:
        editor = self._editor()
        path, _f = QFileDialog.getOpenFileName(
            self, _("Import a scenario"), "", "JSON (*.json)"
        )
        if not path or editor is None:
            return
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
        self.runner.run_write(
            lambda: editor.import_json(text),
            lambda _r: self.refresh(),
            self._on_task_failed,
        )

    @Slot()
    def _on_export_button_clicked(self) -> None:
        editor, draft = self._editor(), self.draft
        if editor is None or draft is None:
            return
        path, _f = QFileDialog.getSaveFileName(
            self, _("Export the scenario"), f"{draft.name}.json", "JSON (*.json)"
        )
        if path:
            self.runner.run_read(
                lambda: editor.export_json(draft.name),
                lambda text: self._write(path, text),
                self._on_task_failed,
            )

    def _write(self, path: str, text: str) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            fh.write(text)
        self.banner.show_info(_("Scenario exported to {path}.").format(path=path))

    @Slot(int)
    def _on_template_list_row_changed(self, row: int) -> None:
        if not 0 <= row < len(self.templates):
            return
        t = self.templates[row]
        self.subject_edit.setText(t.subject or "")
        self.body_edit.setPlainText(t.body)
        self.preview_language.setCurrentIndex(
            max(self.preview_language.findData(t.language), 0)
        )

    def _on_field_list_double_clicked(self, item: Any) -> None:
        self.body_edit.insertPlainText(item.text())
        self.body_edit.setFocus()

    @Slot()
    def _on_template_edited(self, *_args: object) -> None:
        self._preview_timer.start()

    @Slot()
    def _on_save_template_button_clicked(self) -> None:
        editor, row = self._editor(), self.template_list.currentRow()
        if editor is None or not 0 <= row < len(self.templates):
            return
        info = dataclasses.replace(
            self.templates[row],
            subject=self.subject_edit.text() or None,
            body=self.body_edit.toPlainText(),
        )
        self.runner.run_write(
            lambda: editor.save_template(info),
            lambda _c: self.banner.show_info(_("Template saved.")),
            self._on_task_failed,
        )

    # -- helpers --------------------------------------------------------------

    def _editor(self) -> ScenarioEditing | None:
        return self.workspace.editor if self.workspace is not None else None

    def _scope(self) -> dict[str, Any]:
        scope: dict[str, Any] = {}
        for key in ("entity_ids", "portfolio_ids"):
            values = [
                v.strip() for v in self.scope_edits[key].text().split(",") if v.strip()
            ]
            if values:
                scope[key] = [int(v) for v in values if v.isdigit()]
        for key in ("categories", "risk_classes"):
            values = [
                v.strip() for v in self.scope_edits[key].text().split(",") if v.strip()
            ]
            if values:
                scope[key] = values
        if self.scope_edits["min_outstanding"].text().strip():
            scope["min_outstanding"] = (
                self.scope_edits["min_outstanding"].text().strip()
            )
        return scope

    def _check(self) -> None:
        draft, context = self.current_draft(), self.context
        if draft is None or context is None or self.draft is None:
            return
        kept = {s.id for s in draft.steps}
        removed = [s for s in self.draft.steps if s.id not in kept]
        self.problems = check_draft(draft, context, removed)
        self.problem_label.setText("\n".join(self.problems))
        self.save_button.setEnabled(not self.problems)
        self.problems_checked.emit(self.problems)

    def _count_scope(self) -> None:
        editor, draft = self._editor(), self.current_draft()
        if editor is None or draft is None:
            return
        scope, scenario_id = self._scope(), draft.id
        self.runner.run_read(
            lambda: editor.scope_count(scope, scenario_id),
            self._on_scope_counted,
            self._on_task_failed,
        )

    def _on_scope_counted(self, count: int) -> None:
        self.scope_count_label.setText(
            _("Customers this scenario applies to: {n}").format(n=count)
        )
        self.scope_counted.emit(count)

    def _preview(self) -> None:
        editor = self._editor()
        customer_id = self.preview_customer.currentData()
        if editor is None or customer_id is None:
            return
        subject, body = self.subject_edit.text() or None, self.body_edit.toPlainText()
        language, today = self.preview_language.currentData() or "fr", self.today()
        self.runner.run_read(
            lambda: editor.preview(subject, body, language, customer_id, today),
            self._on_preview_done,
            self._on_task_failed,
        )

    def _on_preview_done(self, result: tuple[tuple[str, ...], str]) -> None:
        problems, text = result
        self.template_errors.setText("\n".join(problems))
        if not problems:
            self.preview_text.setPlainText(text)
        self.preview_done.emit()
