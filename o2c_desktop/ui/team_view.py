"""Team and portfolios (issue #8): users, absences, portfolios, entity settings.

Everyone sees the page; only a credit manager or an administrator changes it
(the service refuses anyone else, and the page shows itself read-only to
them). Before a leaving collector's waiting actions go to a replacement, the
page counts them and asks for confirmation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QItemSelection, Qt, Signal, Slot
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDateEdit,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine import interest
from o2c_desktop.engine.desk import UserDraft
from o2c_desktop.engine.types import Role
from o2c_desktop.i18n import N_, _, format_number, format_share, ngettext
from o2c_desktop.ui.itemmodels import PortfolioTableModel, TeamMemberTableModel
from o2c_desktop.ui.labels import role_label
from o2c_desktop.ui.page import PageView

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.engine.desk import EntitySettings, Team, TeamMember
    from o2c_desktop.ui.ports import BookQueries, TeamCalls
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

# Entity fields edited as one-line texts: (attribute, English label).
_ENTITY_GROUPS: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    (
        N_("Letterhead"),
        (
            ("name", N_("Company name:")),
            ("legal_form", N_("Legal form:")),
            ("address1", N_("Address:")),
            ("postal_code", N_("Postal code:")),
            ("city", N_("City:")),
            ("phone", N_("Phone:")),
            ("email", N_("Email:")),
        ),
    ),
    (
        N_("Legal ids"),
        (
            ("legal_id", N_("Company id (SIREN):")),
            ("vat_number", N_("VAT number:")),
            ("share_capital", N_("Share capital:")),
            ("trade_registry", N_("Trade registry:")),
        ),
    ),
    (N_("Bank details"), (("iban", N_("IBAN:")), ("bic", N_("BIC:")))),
)


def _parse_rate(text: str) -> Decimal | None:
    """A percentage typed the French or English way ("12,5" or "12.5")."""
    cleaned = text.strip().replace("%", "").replace(" ", "").replace(",", ".")
    if not cleaned:
        return None
    try:
        rate = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(text) from exc
    if not rate.is_finite() or rate < 0 or rate >= 100:
        raise ValueError(text)
    return rate


def _is_conflict(exc: BaseException) -> bool:
    # The UI may not import o2c_desktop.models (import-linter): match by name.
    return type(exc).__name__ == "ConflictError"


def _table(parent: QWidget) -> QTableView:
    table = QTableView(parent)
    table.setAlternatingRowColors(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.verticalHeader().hide()
    table.verticalHeader().setDefaultSectionSize(26)
    header = table.horizontalHeader()
    header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    header.setStretchLastSection(True)
    return table


def _day(edit: QDateEdit) -> dt.date:
    d = edit.date()
    return dt.date(d.year(), d.month(), d.day())


def _date_edit(parent: QWidget) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    return edit


class TeamView(PageView):
    """Users and absences, portfolios, entity settings.

    Signals:
        team_shown(object): the `Team` now on screen.
        preview_counted(int): waiting actions a reassignment would move.
        reassigned(int): actions handed to a replacement by the last save.
        saved(str): a change was saved; the text says what.
        save_failed(str): a change was refused; the text says why.
        mail_settings_requested(): the user wants the mail settings.
    """

    team_shown = Signal(object)
    preview_counted = Signal(int)
    reassigned = Signal(int)
    saved = Signal(str)
    save_failed = Signal(str)
    mail_settings_requested = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(runner, today, parent)
        self.team: Team | None = None
        self.preview: int | None = None
        self._member: TeamMember | None = None
        self._new_user = False
        self._filling = False
        self._selected_user: int | None = None
        self._sticky: tuple[bool, str] | None = None  # (error?, text) after reload
        self._preview_generation = 0
        self.member_model = TeamMemberTableModel(parent=self)
        self.portfolio_model = PortfolioTableModel(parent=self)
        self.tabs = QTabWidget(self)
        self.tabs.addTab(self._build_users(), "")
        self.tabs.addTab(self._build_portfolios(), "")
        self.tabs.addTab(self._build_entities(), "")
        self.body.addWidget(self.tabs, 1)
        self.retranslate_ui(self.language)

    # -- building -------------------------------------------------------------

    def _build_users(self) -> QWidget:
        page = QWidget(self)
        layout = QHBoxLayout(page)
        self.users_splitter = QSplitter(Qt.Orientation.Horizontal, page)
        self.users_splitter.setObjectName("team_users_splitter")
        self.member_table = _table(self.users_splitter)
        self.member_table.setModel(self.member_model)
        self.member_table.setColumnHidden(1, True)  # the login is on the card
        self.member_table.selectionModel().selectionChanged.connect(
            self._on_member_selection_changed
        )
        side = QWidget(self.users_splitter)
        side_layout = QVBoxLayout(side)
        side_layout.setContentsMargins(0, 0, 0, 0)
        # the user's card
        self.user_box = QGroupBox(side)
        form = QFormLayout(self.user_box)
        self.login_edit = QLineEdit(self.user_box)
        self.name_edit = QLineEdit(self.user_box)
        self.email_edit = QLineEdit(self.user_box)
        self.role_combo = QComboBox(self.user_box)
        self.active_check = QCheckBox(self.user_box)
        self.user_labels = [QLabel(self.user_box) for _i in range(5)]
        for label, widget in zip(
            self.user_labels,
            (
                self.login_edit,
                self.name_edit,
                self.email_edit,
                self.role_combo,
                self.active_check,
            ),
            strict=True,
        ):
            form.addRow(label, widget)
        user_buttons = QHBoxLayout()
        self.new_user_button = QPushButton(self.user_box)
        self.deactivate_button = QPushButton(self.user_box)
        self.save_user_button = QPushButton(self.user_box)
        self.new_user_button.clicked.connect(self._on_new_user_button_clicked)
        self.deactivate_button.clicked.connect(self._on_deactivate_button_clicked)
        self.save_user_button.clicked.connect(self._on_save_user_button_clicked)
        user_buttons.addWidget(self.new_user_button)
        user_buttons.addWidget(self.deactivate_button)
        user_buttons.addStretch(1)
        user_buttons.addWidget(self.save_user_button)
        form.addRow(user_buttons)
        # the absence
        self.absence_box = QGroupBox(side)
        absence = QFormLayout(self.absence_box)
        self.absent_check = QCheckBox(self.absence_box)
        self.from_edit = _date_edit(self.absence_box)
        until_row = QHBoxLayout()
        self.until_edit = _date_edit(self.absence_box)
        self.open_ended_check = QCheckBox(self.absence_box)
        until_row.addWidget(self.until_edit)
        until_row.addWidget(self.open_ended_check)
        self.replacement_combo = QComboBox(self.absence_box)
        self.reassign_check = QCheckBox(self.absence_box)
        self.preview_label = QLabel(self.absence_box)
        self.preview_label.setWordWrap(True)
        font = self.preview_label.font()
        font.setBold(True)
        self.preview_label.setFont(font)
        self.save_absence_button = QPushButton(self.absence_box)
        self.save_absence_button.clicked.connect(self._on_save_absence_button_clicked)
        self.absence_labels = [QLabel(self.absence_box) for _i in range(3)]
        absence.addRow(self.absent_check)
        absence.addRow(self.absence_labels[0], self.from_edit)
        absence.addRow(self.absence_labels[1], until_row)
        absence.addRow(self.absence_labels[2], self.replacement_combo)
        absence.addRow(self.reassign_check)
        absence.addRow(self.preview_label)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        save_row.addWidget(self.save_absence_button)
        absence.addRow(save_row)
        self.absent_check.toggled.connect(self._on_absence_edited)
        self.open_ended_check.toggled.connect(self._on_absence_edited)
        self.replacement_combo.currentIndexChanged.connect(self._on_absence_edited)
        self.reassign_check.toggled.connect(self._on_absence_edited)
        side_layout.addWidget(self.user_box)
        side_layout.addWidget(self.absence_box)
        side_layout.addStretch(1)
        self.users_splitter.addWidget(self.member_table)
        self.users_splitter.addWidget(side)
        self.users_splitter.setStretchFactor(0, 3)
        self.users_splitter.setStretchFactor(1, 2)
        # Wide enough for the replacement and waiting actions columns.
        self.users_splitter.setSizes([820, 480])
        layout.addWidget(self.users_splitter)
        return page

    def _build_portfolios(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        self.portfolio_table = _table(page)
        self.portfolio_table.setModel(self.portfolio_model)
        self.portfolio_table.selectionModel().selectionChanged.connect(
            self._on_portfolio_selection_changed
        )
        row = QHBoxLayout()
        self.collector_label = QLabel(page)
        self.collector_combo = QComboBox(page)
        self.collector_combo.setMinimumWidth(220)
        self.give_button = QPushButton(page)
        self.give_button.clicked.connect(self._on_give_button_clicked)
        row.addWidget(self.collector_label)
        row.addWidget(self.collector_combo)
        row.addWidget(self.give_button)
        row.addStretch(1)
        layout.addWidget(self.portfolio_table, 1)
        layout.addLayout(row)
        return page

    def _build_entities(self) -> QWidget:
        page = QWidget(self)
        outer = QVBoxLayout(page)
        pick = QHBoxLayout()
        self.entity_label = QLabel(page)
        self.entity_combo = QComboBox(page)
        self.entity_combo.setMinimumWidth(260)
        self.entity_combo.currentIndexChanged.connect(self._on_entity_combo_changed)
        pick.addWidget(self.entity_label)
        pick.addWidget(self.entity_combo)
        pick.addStretch(1)
        outer.addLayout(pick)
        grid = QGridLayout()
        self.entity_edits: dict[str, QLineEdit] = {}
        self.entity_field_labels: dict[str, QLabel] = {}
        self.entity_boxes: list[QGroupBox] = []
        for n, (_title, fields) in enumerate(_ENTITY_GROUPS):
            box = QGroupBox(page)
            form = QFormLayout(box)
            for attr, _label in fields:
                label, edit = QLabel(box), QLineEdit(box)
                self.entity_field_labels[attr] = label
                self.entity_edits[attr] = edit
                form.addRow(label, edit)
            if n == 0:
                self.note_label = QLabel(box)
                self.note_edit = QPlainTextEdit(box)
                self.note_edit.setMaximumHeight(60)
                form.addRow(self.note_label, self.note_edit)
            self.entity_boxes.append(box)
        grid.addWidget(self.entity_boxes[0], 0, 0, 3, 1)
        grid.addWidget(self.entity_boxes[1], 0, 1)
        grid.addWidget(self.entity_boxes[2], 1, 1)
        # mail: set per computer in Settings; a pointer, not a copy
        self.mail_box = QGroupBox(page)
        mail = QVBoxLayout(self.mail_box)
        self.mail_text = QLabel(self.mail_box)
        self.mail_text.setWordWrap(True)
        self.mail_button = QPushButton(self.mail_box)
        self.mail_button.clicked.connect(self.mail_settings_requested)
        mail.addWidget(self.mail_text)
        mail.addWidget(self.mail_button, 0, Qt.AlignmentFlag.AlignLeft)
        grid.addWidget(self.mail_box, 2, 1)
        # interest: the law of the entity's country; read-only here
        self.interest_box = QGroupBox(page)
        interest_layout = QVBoxLayout(self.interest_box)
        self.interest_text = QLabel(self.interest_box)
        self.interest_text.setWordWrap(True)
        self.interest_text.setTextFormat(Qt.TextFormat.RichText)
        interest_layout.addWidget(self.interest_text)
        rate_row = QHBoxLayout()
        self.rate_label = QLabel(self.interest_box)
        self.rate_edit = QLineEdit(self.interest_box)
        self.rate_edit.setMaximumWidth(120)
        self.rate_label.setBuddy(self.rate_edit)
        rate_row.addWidget(self.rate_label)
        rate_row.addWidget(self.rate_edit)
        rate_row.addStretch(1)
        interest_layout.addLayout(rate_row)
        grid.addWidget(self.interest_box, 3, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        outer.addLayout(grid)
        save_row = QHBoxLayout()
        save_row.addStretch(1)
        self.save_entity_button = QPushButton(page)
        self.save_entity_button.clicked.connect(self._on_save_entity_button_clicked)
        save_row.addWidget(self.save_entity_button)
        outer.addLayout(save_row)
        outer.addStretch(1)
        return page

    # -- public ---------------------------------------------------------------

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        super().retranslate_ui(language)
        self.title.setText(_("Team"))
        for i, text in enumerate(
            (_("Users and absences"), _("Portfolios"), _("Entities"))
        ):
            self.tabs.setTabText(i, text)
        self.user_box.setTitle(_("User"))
        for label, text in zip(
            self.user_labels,
            (_("Login:"), _("Full name:"), _("Email:"), _("Role:"), _("Active:")),
            strict=True,
        ):
            label.setText(text)
        current = self.role_combo.currentData()
        self.role_combo.clear()
        for role in Role:
            self.role_combo.addItem(role_label(role), role.value)
        self.role_combo.setCurrentIndex(max(self.role_combo.findData(current), 0))
        self.new_user_button.setText(_("New user"))
        self.deactivate_button.setText(_("Deactivate"))
        self.save_user_button.setText(_("Save the user"))
        self.absence_box.setTitle(_("Absence and replacement"))
        self.absent_check.setText(_("Absent"))
        for label, text in zip(
            self.absence_labels,
            (_("From:"), _("Until:"), _("Replaced by:")),
            strict=True,
        ):
            label.setText(text)
        self.open_ended_check.setText(_("Open-ended"))
        self.reassign_check.setText(
            _("Hand their waiting actions to the replacement now")
        )
        self.save_absence_button.setText(_("Save the absence"))
        self.collector_label.setText(_("Collector:"))
        self.give_button.setText(_("Give the portfolio to this collector"))
        self.entity_label.setText(_("Entity:"))
        for n, (title, fields) in enumerate(_ENTITY_GROUPS):
            self.entity_boxes[n].setTitle(_(title))
            for attr, caption in fields:
                self.entity_field_labels[attr].setText(_(caption))
        self.note_label.setText(_("Letterhead note:"))
        self.mail_box.setTitle(_("Mail settings"))
        self.mail_text.setText(
            _(
                "Reminders are sent through the mail server set on each computer "
                "in Settings; the sender is the collector unless a shared "
                "mailbox is set there."
            )
        )
        self.mail_button.setText(_("Open the mail settings"))
        self.interest_box.setTitle(_("Interest rules"))
        self.rate_label.setText(_("Contractual rate (% a year, empty = statutory):"))
        self.save_entity_button.setText(_("Save the entity"))
        self.member_model.retranslate(language)
        self.portfolio_model.retranslate(language)
        if self.team is not None:
            self._fill_entity()
            self._show_preview()

    def query(self, book: BookQueries) -> Callable[[], Any] | None:
        """The team, when the workspace has the team calls."""
        calls = self._calls()
        return calls.team if calls is not None else None

    def show_result(self, result: Team | None) -> None:
        """Show users, portfolios and entities; keep the selected user."""
        self.team = result
        self.member_model.set_team(result)
        self.portfolio_model.set_team(result)
        self._fill_pickers()
        editable = bool(result and result.can_edit)
        for widget in (
            self.user_box,
            self.absence_box,
            self.collector_combo,
            self.give_button,
            self.save_entity_button,
            *self.entity_boxes,
        ):
            widget.setEnabled(editable)
        if result is not None and not result.can_edit:
            self.banner.show_info(
                _(
                    "Only a credit manager or an administrator can change the "
                    "team. You see it read-only."
                )
            )
        if self._sticky is not None:
            error, text = self._sticky
            self._sticky = None
            if error:
                self.banner.show_error(text)
            else:
                self.banner.show_info(text)
        if result is None:
            return
        keep = self._selected_user
        row = self.member_model.row_of(keep) if keep is not None else None
        self.member_table.selectRow(row if row is not None else 0)
        if self.portfolio_model.rowCount():
            self.portfolio_table.selectRow(0)
        self._fill_entity()
        self.team_shown.emit(result)

    def select_user(self, login: str) -> None:
        """Select the user with `login` in the table."""
        for row in range(self.member_model.rowCount()):
            if self.member_model.row_value(row).member.login == login:
                self.member_table.selectRow(row)
                return

    def set_absence_form(
        self,
        start: dt.date | None,
        until: dt.date | None = None,
        replacement_login: str | None = None,
        *,
        reassign: bool = False,
    ) -> None:
        """Fill the absence form as a user would (tests, keyboard-free use)."""
        self.absent_check.setChecked(start is not None)
        if start is not None:
            self.from_edit.setDate(QDate(start))
        self.open_ended_check.setChecked(until is None)
        if until is not None:
            self.until_edit.setDate(QDate(until))
        index = 0
        if replacement_login is not None and self.team is not None:
            found = next(
                (m.id for m in self.team.members if m.login == replacement_login),
                None,
            )
            index = max(self.replacement_combo.findData(found), 0)
        self.replacement_combo.setCurrentIndex(index)
        self.reassign_check.setChecked(reassign)
        self._on_absence_edited()

    def save_absence(self, *, confirm: bool | None = None) -> None:
        """Save the selected user's absence; ask before moving their actions.

        Args:
            confirm: answer the confirmation without asking (tests); None asks.
        """
        calls, member = self._calls(), self._member
        if calls is None or member is None:
            return
        absent = self.absent_check.isChecked()
        start = _day(self.from_edit) if absent else None
        until = (
            _day(self.until_edit)
            if absent and not self.open_ended_check.isChecked()
            else None
        )
        replacement = self.replacement_combo.currentData() if absent else None
        reassign = absent and self.reassign_check.isChecked() and replacement
        if reassign and confirm is None:
            count = self.preview if self.preview is not None else member.pending_actions
            answer = QMessageBox.question(
                self,
                _("Hand the waiting actions over"),
                ngettext(
                    "Hand {n} waiting action of {name} to {replacement}?",
                    "Hand {n} waiting actions of {name} to {replacement}?",
                    count,
                ).format(
                    n=count,
                    name=member.full_name,
                    replacement=self.replacement_combo.currentText(),
                ),
            )
            if answer != QMessageBox.StandardButton.Yes:
                return
        elif reassign and confirm is False:
            return
        self.save_absence_button.setEnabled(False)
        name = self.replacement_combo.currentText()
        self.runner.run_write(
            lambda: calls.set_absence(
                member.id,
                start,
                until,
                replacement,
                member.version,
                reassign=bool(reassign),
            ),
            lambda moved: self._on_absence_saved(moved, bool(reassign), name),
            self._on_write_failed,
        )

    def save_user(self, *, active: bool | None = None) -> None:
        """Save the user card (a new user after "New user")."""
        calls = self._calls()
        if calls is None or (self._member is None and not self._new_user):
            return
        member = None if self._new_user else self._member
        draft = UserDraft(
            login=self.login_edit.text().strip(),
            full_name=self.name_edit.text().strip(),
            email=self.email_edit.text().strip() or None,
            role=Role(self.role_combo.currentData() or Role.COLLECTOR.value),
            active=self.active_check.isChecked() if active is None else active,
            id=member.id if member else None,
            version=member.version if member else 0,
        )
        self.save_user_button.setEnabled(False)
        if member is None:
            self._selected_user = None
        self.runner.run_write(
            lambda: calls.save_user(draft),
            lambda _c: self._on_written(
                _("User {name} saved.").format(name=draft.full_name)
            ),
            self._on_write_failed,
        )

    # -- slots ----------------------------------------------------------------

    @Slot(QItemSelection, QItemSelection)
    def _on_member_selection_changed(self, *_args: object) -> None:
        rows = self.member_table.selectionModel().selectedRows()
        if not rows:
            return
        member = self.member_model.row_value(rows[0].row()).member
        self._member, self._new_user = member, False
        self._selected_user = member.id
        self._filling = True
        self.login_edit.setText(member.login)
        self.login_edit.setReadOnly(True)
        self.name_edit.setText(member.full_name)
        self.email_edit.setText(member.email or "")
        self.role_combo.setCurrentIndex(
            max(self.role_combo.findData(member.role.value), 0)
        )
        self.active_check.setChecked(member.active)
        self.deactivate_button.setEnabled(member.active)
        self.replacement_combo.clear()
        self.replacement_combo.addItem(_("Nobody"), None)
        for m in self.team.members if self.team else ():
            if m.active and m.id != member.id:
                self.replacement_combo.addItem(m.full_name, m.id)
        today = self.today()
        self.absent_check.setChecked(member.absent_from is not None)
        self.from_edit.setDate(QDate(member.absent_from or today))
        self.open_ended_check.setChecked(member.absent_until is None)
        self.until_edit.setDate(QDate(member.absent_until or today))
        self.replacement_combo.setCurrentIndex(
            max(self.replacement_combo.findData(member.replacement_id), 0)
        )
        self.reassign_check.setChecked(False)
        self._filling = False
        self._on_absence_edited()

    @Slot()
    def _on_absence_edited(self, *_args: object) -> None:
        if self._filling:
            return
        absent = self.absent_check.isChecked()
        for widget in (
            self.from_edit,
            self.open_ended_check,
            self.replacement_combo,
            self.reassign_check,
        ):
            widget.setEnabled(absent)
        self.until_edit.setEnabled(absent and not self.open_ended_check.isChecked())
        self.preview = None
        self._show_preview()
        calls, member = self._calls(), self._member
        if (
            calls is None
            or member is None
            or not absent
            or not self.reassign_check.isChecked()
            or self.replacement_combo.currentData() is None
        ):
            return
        self._preview_generation += 1
        generation = self._preview_generation
        self.preview_label.setText(_("Counting the waiting actions…"))
        self.runner.run_read(
            lambda: calls.pending_count(member.id),
            lambda n: self._on_preview_counted(generation, n),
            self._on_write_failed,
        )

    def _on_preview_counted(self, generation: int, count: int) -> None:
        if generation != self._preview_generation:
            return
        self.preview = count
        self._show_preview()
        self.preview_counted.emit(count)

    @Slot()
    def _on_save_absence_button_clicked(self) -> None:
        self.save_absence()

    def _on_absence_saved(self, moved: int, reassign: bool, replacement: str) -> None:
        self.save_absence_button.setEnabled(True)
        text = _("Absence saved.")
        if reassign:
            text += " " + ngettext(
                "{n} action handed to {name}.", "{n} actions handed to {name}.", moved
            ).format(n=moved, name=replacement)
            self.reassigned.emit(moved)
        self._on_written(text)

    @Slot()
    def _on_new_user_button_clicked(self) -> None:
        self._member, self._new_user = None, True
        self.member_table.clearSelection()
        for edit in (self.login_edit, self.name_edit, self.email_edit):
            edit.clear()
        self.login_edit.setReadOnly(False)
        self.role_combo.setCurrentIndex(
            max(self.role_combo.findData(Role.COLLECTOR.value), 0)
        )
        self.active_check.setChecked(True)
        self.login_edit.setFocus()

    @Slot()
    def _on_save_user_button_clicked(self) -> None:
        self.save_user()

    @Slot()
    def _on_deactivate_button_clicked(self) -> None:
        member = self._member
        if member is None:
            return
        answer = QMessageBox.question(
            self,
            _("Deactivate"),
            _("{name} will no longer be able to work in the app. Deactivate?").format(
                name=member.full_name
            ),
        )
        if answer == QMessageBox.StandardButton.Yes:
            self.save_user(active=False)

    @Slot(QItemSelection, QItemSelection)
    def _on_portfolio_selection_changed(self, *_args: object) -> None:
        rows = self.portfolio_table.selectionModel().selectedRows()
        if rows:
            line = self.portfolio_model.row_value(rows[0].row())
            self.collector_combo.setCurrentIndex(
                max(self.collector_combo.findData(line.portfolio.collector_id), 0)
            )

    @Slot()
    def _on_give_button_clicked(self) -> None:
        calls = self._calls()
        rows = self.portfolio_table.selectionModel().selectedRows()
        if calls is None or not rows:
            return
        portfolio = self.portfolio_model.row_value(rows[0].row()).portfolio
        collector = self.collector_combo.currentData()
        self.give_button.setEnabled(False)
        self.runner.run_write(
            lambda: calls.set_portfolio_collector(
                portfolio.id, collector, portfolio.version
            ),
            lambda _c: self._on_written(
                _("Portfolio {code} given to {name}.").format(
                    code=portfolio.code, name=self.collector_combo.currentText()
                )
            ),
            self._on_write_failed,
        )

    @Slot(int)
    def _on_entity_combo_changed(self, _index: int) -> None:
        self._fill_entity()

    @Slot()
    def _on_save_entity_button_clicked(self) -> None:
        calls, entity = self._calls(), self._entity()
        if calls is None or entity is None:
            return
        values: dict[str, Any] = {
            attr: (edit.text().strip() or None)
            for attr, edit in self.entity_edits.items()
        }
        values["name"] = values["name"] or ""
        try:
            values["late_interest_rate"] = _parse_rate(self.rate_edit.text())
        except ValueError:
            self.banner.show_error(
                _("The contractual rate must be a number, e.g. 12,5.")
            )
            return
        values["letterhead_note"] = self.note_edit.toPlainText().strip() or None
        settings = dataclasses.replace(entity, **values)
        self.save_entity_button.setEnabled(False)
        self.runner.run_write(
            lambda: calls.save_entity(settings),
            lambda _c: self._on_written(
                _("Entity {code} saved.").format(code=entity.code)
            ),
            self._on_write_failed,
        )

    def _on_written(self, message: str) -> None:
        self.save_user_button.setEnabled(True)
        self.give_button.setEnabled(True)
        self.save_entity_button.setEnabled(True)
        self.save_absence_button.setEnabled(True)
        self._sticky = (False, message)
        self.refresh()
        self.saved.emit(message)

    def _on_write_failed(self, exc: BaseException) -> None:
        for button in (
            self.save_user_button,
            self.give_button,
            self.save_entity_button,
            self.save_absence_button,
        ):
            button.setEnabled(True)
        message = self.runner.message_for(exc)
        self.banner.show_error(message)
        self.save_failed.emit(message)
        if _is_conflict(exc):
            # Show the colleague's version; the message stays above it.
            self._sticky = (True, message)
            self.refresh()

    # -- helpers --------------------------------------------------------------

    def _calls(self) -> TeamCalls | None:
        return self.workspace.team if self.workspace is not None else None

    def _fill_pickers(self) -> None:
        team = self.team
        self.collector_combo.clear()
        self.collector_combo.addItem(_("Nobody"), None)
        self.entity_combo.blockSignals(True)
        current = self.entity_combo.currentData()
        self.entity_combo.clear()
        if team is not None:
            for m in team.members:
                if m.active:
                    self.collector_combo.addItem(m.full_name, m.id)
            for e in team.entities:
                self.entity_combo.addItem(f"{e.code} - {e.name}", e.id)
        self.entity_combo.setCurrentIndex(max(self.entity_combo.findData(current), 0))
        self.entity_combo.blockSignals(False)

    def _entity(self) -> EntitySettings | None:
        entity_id = self.entity_combo.currentData()
        if self.team is None:
            return None
        return next((e for e in self.team.entities if e.id == entity_id), None)

    def _fill_entity(self) -> None:
        entity = self._entity()
        for attr, edit in self.entity_edits.items():
            edit.setText(str(getattr(entity, attr) or "") if entity else "")
        self.note_edit.setPlainText(entity.letterhead_note or "" if entity else "")
        rate = entity.late_interest_rate if entity else None
        self.rate_edit.setText(
            format_number(rate.normalize(), self.language, 2) if rate else ""
        )
        if entity is None:
            self.interest_text.clear()
            return
        law = interest.law_for(entity.country)
        today = self.today()
        floor = law.contractual_floor(today)
        lines = [
            _("Late-payment law: <b>{law}</b> (country {country}).").format(
                law=law.name, country=entity.country
            ),
            _("Statutory rate today: <b>{rate}</b> a year.").format(
                rate=format_share(law.default_rate(today), self.language, 2)
            ),
        ]
        if floor is not None:
            lines.append(
                _("A contractual rate may not be below {rate} a year.").format(
                    rate=format_share(floor, self.language, 2)
                )
            )
        if entity.late_interest_rate is None:
            lines.append(
                _("No contractual rate: interest statements use the statutory rate.")
            )
        self.interest_text.setText("<br>".join(lines))

    def _show_preview(self) -> None:
        member = self._member
        if (
            member is None
            or not self.absent_check.isChecked()
            or not self.reassign_check.isChecked()
        ):
            self.preview_label.setText(
                ngettext(
                    "{n} waiting action.",
                    "{n} waiting actions.",
                    member.pending_actions,
                ).format(n=member.pending_actions)
                if member is not None
                else ""
            )
            return
        if self.preview is None:
            return
        self.preview_label.setText(
            ngettext(
                "{n} waiting action of {name} will go to {replacement}.",
                "{n} waiting actions of {name} will go to {replacement}.",
                self.preview,
            ).format(
                n=self.preview,
                name=member.full_name,
                replacement=self.replacement_combo.currentText(),
            )
        )
