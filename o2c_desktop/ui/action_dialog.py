"""Processing one action: its summary, performing it, notifying colleagues.

The seed's flow: the summary ("Résumé") with Perform / Edit / Edit the
schedule / Close the case / Close; Perform asks for the contact, a comment and
the outcome (a call: reached or not, a promise to pay, a dispute, call back, a
payment plan); then "notify colleagues?" with a searchable list; then
validate. Every write goes through the workbench service on the write pool.
"""

from __future__ import annotations

import datetime as dt
import html
import logging
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDate, QDir, QSortFilterProxyModel, Qt, Signal, Slot
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QButtonGroup,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListView,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPlainTextEdit,
    QPushButton,
    QRadioButton,
    QSpinBox,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.types import ActionType, CaseKind, CaseStatus
from o2c_desktop.engine.workbench import (
    MESSAGE_TYPES,
    OUTCOME_LABELS,
    ActionEdit,
    CallOutcome,
    PerformRequest,
    PerformResult,
)
from o2c_desktop.i18n import N_, _, format_date, format_money
from o2c_desktop.ui.itemmodels import UserCheckModel
from o2c_desktop.ui.labels import action_type_label, status_label
from o2c_desktop.ui.message_editor import MessageEditor, open_with_desktop
from o2c_desktop.ui.widgets import Banner

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from o2c_desktop.engine.book import UserInfo
    from o2c_desktop.engine.cases import DisputeReason
    from o2c_desktop.engine.workbench import ActionDetail, ContactInfo
    from o2c_desktop.ui.ports import WorkbenchCalls
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

CASE_KIND_LABELS = {
    CaseKind.PROMISE: N_("Promise to pay"),
    CaseKind.PAYMENT_PLAN: N_("Payment plan"),
    CaseKind.DISPUTE: N_("Dispute"),
    CaseKind.LITIGATION: N_("Litigation"),
}
_CALL_OUTCOMES = (
    CallOutcome.REACHED,
    CallOutcome.NOT_REACHED,
    CallOutcome.PROMISE,
    CallOutcome.DISPUTE,
    CallOutcome.CALL_BACK,
    CallOutcome.PAYMENT_PLAN,
)
_OTHER_OUTCOMES = (
    CallOutcome.DONE,
    CallOutcome.PROMISE,
    CallOutcome.DISPUTE,
    CallOutcome.CALL_BACK,
    CallOutcome.PAYMENT_PLAN,
)
SUMMARY, PERFORM, NOTIFY, MESSAGE = range(4)


def to_qdate(day: dt.date) -> QDate:
    """A Python date as a QDate."""
    return QDate(day.year, day.month, day.day)


def from_qdate(day: QDate) -> dt.date:
    """A QDate as a Python date."""
    return dt.date(day.year(), day.month(), day.day())


def phone_link(number: str | None) -> str:
    """A click-to-call link, e.g. <a href="tel:0498894196">04 98 89 41 96</a>."""
    if not number:
        return ""
    target = "".join(c for c in number if c.isdigit() or c == "+")
    # Never wrapped inside a number.
    shown = html.escape(number).replace(" ", "&nbsp;")
    return f'<a href="tel:{target}">{shown}</a>'


def mail_link(address: str | None) -> str:
    """A mailto: link."""
    if not address:
        return ""
    shown = html.escape(address)
    return f'<a href="mailto:{html.escape(address, quote=True)}">{shown}</a>'


def contact_links(contact: ContactInfo | None) -> str:
    """The contact's name with click-to-call and mail links."""
    if contact is None:
        return "-"
    parts = [html.escape(contact.name)]
    parts += [
        link
        for link in (
            phone_link(contact.phone),
            phone_link(contact.mobile),
            mail_link(contact.email),
        )
        if link
    ]
    return " · ".join(parts)


def _date_edit(parent: QWidget, day: dt.date) -> QDateEdit:
    edit = QDateEdit(parent)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("dd/MM/yyyy")
    edit.setDate(to_qdate(day))
    return edit


class ActionDialog(QDialog):
    """The summary of an action and its processing, as in the seed.

    Signals:
        performed(object): the action was performed (`PerformResult`).
        changed(): the action or its case was edited or closed.
    """

    performed = Signal(object)
    changed = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        workbench: WorkbenchCalls,
        detail: ActionDetail,
        *,
        today: dt.date,
        users: Sequence[UserInfo] = (),
        contacts: Sequence[ContactInfo] = (),
        reasons: Sequence[DisputeReason] = (),
        language: str = "fr",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("action_dialog")
        self.runner = runner
        self.workbench = workbench
        self.detail = detail
        self.today = today
        self.language = language
        self.users = tuple(users)
        self.contacts = tuple(contacts)
        self.reasons = tuple(reasons)
        self.open_file: Callable[[str], None] = open_with_desktop  # tests replace it
        self.setWindowTitle(
            _("Action No. {number} - {type}").format(
                number=detail.number, type=action_type_label(detail.action_type)
            )
        )
        self.setMinimumWidth(640)
        layout = QVBoxLayout(self)
        self.banner = Banner(self)
        layout.addWidget(self.banner)
        self.pages = QStackedWidget(self)
        layout.addWidget(self.pages, 1)
        self.pages.addWidget(self._build_summary())
        self.pages.addWidget(self._build_perform())
        self.pages.addWidget(self._build_notify())
        self.message_editor: MessageEditor | None = None
        self._on_outcome_changed()
        self.show_page(SUMMARY)

    # -- public ---------------------------------------------------------------

    @Slot(str)
    def open_document(self, document_id: str) -> None:
        """Open one of the action's documents with the system's viewer."""
        folder = str(Path(QDir.tempPath()) / "o2c_desktop")
        workbench = self.workbench
        self.runner.run_read(
            lambda: workbench.document_file(document_id, folder),
            lambda path: self.open_file(str(path)),
            lambda exc: self.banner.show_error(self.runner.message_for(exc)),
        )

    def show_page(self, page: int) -> None:
        """Bring summary, perform or notify to the front, focus its first field."""
        if page == MESSAGE:
            self.open_message_editor()
            return
        self.pages.setCurrentIndex(page)
        self.banner.clear_message()
        focus = {
            SUMMARY: self.perform_button
            if self.perform_button.isEnabled()
            else self.close_button,
            PERFORM: self.comment_edit,
            NOTIFY: self.user_search,
        }[page]
        focus.setFocus(Qt.FocusReason.OtherFocusReason)
        default = {
            SUMMARY: self.perform_button,
            PERFORM: self.continue_button,
            NOTIFY: self.validate_button,
        }[page]
        default.setDefault(True)

    @property
    def is_message(self) -> bool:
        """True for a letter or email action (performed in the message editor)."""
        return self.detail.action_type.value in MESSAGE_TYPES

    def open_message_editor(self) -> MessageEditor:
        """Show the message editor of a letter or email action, rendering it."""
        editor = self.message_editor
        if editor is None:
            editor = MessageEditor(
                self.runner,
                self.workbench,
                self.detail.id,
                today=self.today,
                parent=self,
            )
            editor.sent.connect(self._on_message_sent)
            editor.back_requested.connect(lambda: self.show_page(SUMMARY))
            self.pages.addWidget(editor)
            self.message_editor = editor
            self.setMinimumWidth(900)
            editor.load()
        self.banner.clear_message()
        self.pages.setCurrentWidget(editor)
        editor.send_button.setDefault(True)
        return editor

    def request(self) -> PerformRequest:
        """The perform request the form describes."""
        outcome = self.outcome()
        contact = self.contact_combo.currentData()
        amount: Decimal | None = None
        text = self.promise_amount.text().strip().replace("\u202f", "")
        text = text.replace(" ", "").replace(",", ".")
        if text:
            try:
                amount = Decimal(text)
            except InvalidOperation:
                amount = Decimal(-1)  # refused by PerformRequest.problems()
        disputed = tuple(
            int(self.dispute_items.item(i).data(Qt.ItemDataRole.UserRole))
            for i in range(self.dispute_items.count())
            if self.dispute_items.item(i).checkState() == Qt.CheckState.Checked
        )
        return PerformRequest(
            action_id=self.detail.id,
            version=self.detail.version,
            outcome=outcome,
            comment=self.comment_edit.toPlainText(),
            contact_id=contact,
            promise_amount=amount,
            promise_date=from_qdate(self.promise_date.date())
            if outcome == CallOutcome.PROMISE
            else None,
            dispute_reason=self.reason_combo.currentData()
            if outcome == CallOutcome.DISPUTE
            else None,
            dispute_item_ids=disputed or None,
            call_back_on=from_qdate(self.call_back_date.date())
            if outcome == CallOutcome.CALL_BACK
            else None,
            plan_count=self.plan_count.value()
            if outcome == CallOutcome.PAYMENT_PLAN
            else None,
            plan_first_due=from_qdate(self.plan_first_due.date())
            if outcome == CallOutcome.PAYMENT_PLAN
            else None,
            notify=tuple(self.user_model.checked()),
        )

    def outcome(self) -> CallOutcome:
        """The outcome chosen."""
        button = self.outcome_group.checkedButton()
        return CallOutcome(button.property("outcome")) if button else CallOutcome.DONE

    def set_outcome(self, outcome: CallOutcome) -> None:
        """Choose an outcome (as a click on its radio button would)."""
        for button in self.outcome_group.buttons():
            if button.property("outcome") == outcome.value:
                button.setChecked(True)
        self._on_outcome_changed()

    def check_user(self, login: str) -> None:
        """Tick a colleague to notify."""
        for row in range(self.user_model.rowCount()):
            if self.user_model.row_value(row).login == login:
                self.user_model.setData(
                    self.user_model.index(row, 0),
                    Qt.CheckState.Checked.value,
                    Qt.ItemDataRole.CheckStateRole,
                )

    # -- building -----------------------------------------------------------------

    def _build_summary(self) -> QWidget:
        d = self.detail
        page = QWidget(self)
        layout = QVBoxLayout(page)
        heading = QLabel(page)
        heading.setObjectName("summary_heading")
        heading.setWordWrap(True)
        font = heading.font()
        font.setBold(True)
        heading.setFont(font)
        status = status_label(d.status).lower()
        if d.case_number and d.case_kind:
            text = _(
                "Action No. {number} {status}, attached to the {kind} case No. {case}"
            ).format(
                number=d.number,
                status=status,
                kind=_(CASE_KIND_LABELS[d.case_kind]).lower(),
                case=d.case_number,
            )
        else:
            text = _("Action No. {number} {status}").format(
                number=d.number, status=status
            )
        heading.setText(text)
        layout.addWidget(heading)
        grid = QGridLayout()
        lang = self.language
        level = d.level
        if d.case_kind is not None:
            level = _(CASE_KIND_LABELS[d.case_kind])
        left = [
            (_("Action No.:"), d.number),
            (_("Created on:"), format_date(d.created_on, lang)),
            (_("By:"), d.created_by or _("automatic")),
            (_("Dunning level:"), level or "-"),
            (_("Case No.:"), d.case_number or "-"),
        ]
        right = [
            (_("Action type:"), action_type_label(d.action_type)),
            (_("Processing date:"), format_date(d.planned_date, lang)),
            (_("Status:"), status_label(d.status)),
            (_("Customer contact:"), contact_links(d.contact)),
            (_("Assigned to:"), d.assignee or "-"),
        ]
        for column, pairs in ((0, left), (2, right)):
            for row, (label, value) in enumerate(pairs):
                caption = QLabel(label, page)
                caption.setStyleSheet("color: #546e7a;")
                shown = QLabel(value, page)
                shown.setTextFormat(Qt.TextFormat.RichText)
                shown.setWordWrap(True)  # a contact with two phone numbers
                shown.setOpenExternalLinks(True)
                shown.setTextInteractionFlags(
                    Qt.TextInteractionFlag.TextBrowserInteraction
                )
                grid.addWidget(caption, row, column)
                grid.addWidget(shown, row, column + 1)
        grid.setColumnStretch(1, 1)
        grid.setColumnStretch(3, 1)
        layout.addLayout(grid)
        items = QGroupBox(_("Items concerned"), page)
        items_layout = QVBoxLayout(items)
        numbers = ", ".join((*(i.number for i in d.items), *d.instalments)) or "-"
        if d.amount is not None and d.currency:
            numbers += "  —  " + format_money(d.amount, d.currency, lang)
        items_label = QLabel(numbers, items)
        items_label.setWordWrap(True)
        items_layout.addWidget(items_label)
        layout.addWidget(items)
        documents = QGroupBox(_("Attachments"), page)
        docs_layout = QVBoxLayout(documents)
        # Links: a click, or Tab then Enter, opens the document.
        links = [
            f'{format_date(doc.created_at.date(), lang)} - <a href="{doc.id}">'
            f"{html.escape(doc.filename)}</a>"
            for doc in d.documents
        ]
        self.documents_label = QLabel(
            "<br>".join(links) or html.escape(_("No document yet.")), documents
        )
        self.documents_label.setObjectName("action_documents")
        self.documents_label.setTextFormat(Qt.TextFormat.RichText)
        self.documents_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.LinksAccessibleByMouse
            | Qt.TextInteractionFlag.LinksAccessibleByKeyboard
        )
        self.documents_label.linkActivated.connect(self.open_document)
        docs_layout.addWidget(self.documents_label)
        layout.addWidget(documents)
        if d.comment:
            layout.addWidget(QLabel(_("Comment: {text}").format(text=d.comment), page))
        if d.reason:
            reason = QLabel(_("Not sent: {reason}").format(reason=d.reason), page)
            reason.setStyleSheet("color: #b71c1c;")
            reason.setWordWrap(True)
            layout.addWidget(reason)
        layout.addStretch(1)
        buttons = QHBoxLayout()
        self.perform_button = QPushButton(_("&Perform"), page)
        self.edit_button = QPushButton(_("&Edit"), page)
        self.schedule_button = QPushButton(_("Edit the &schedule"), page)
        self.close_case_button = QPushButton(_("Close the c&ase"), page)
        self.close_button = QPushButton(_("Close"), page)
        case_open = d.case_status == CaseStatus.OPEN
        self.perform_button.setEnabled(d.is_open)
        self.edit_button.setEnabled(d.is_open)
        self.schedule_button.setEnabled(
            case_open and d.case_kind == CaseKind.PAYMENT_PLAN
        )
        self.close_case_button.setEnabled(case_open)
        self.perform_button.clicked.connect(self._on_perform_button_clicked)
        self.edit_button.clicked.connect(self._on_edit_button_clicked)
        self.schedule_button.clicked.connect(self._on_schedule_button_clicked)
        self.close_case_button.clicked.connect(self._on_close_case_button_clicked)
        self.close_button.clicked.connect(self.reject)
        for button in (
            self.perform_button,
            self.edit_button,
            self.schedule_button,
            self.close_case_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(self.close_button)
        layout.addLayout(buttons)
        return page

    def _build_perform(self) -> QWidget:
        d = self.detail
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel(
            _("Action No. {number} - {type}").format(
                number=d.number, type=action_type_label(d.action_type)
            ),
            page,
        )
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        form = QFormLayout()
        self.contact_combo = QComboBox(page)
        self.contact_combo.addItem(_("(no contact)"), None)
        current = d.contact.id if d.contact else None
        for contact in self.contacts:
            self.contact_combo.addItem(contact.name, contact.id)
        if current is not None:
            index = self.contact_combo.findData(current)
            if index < 0 and d.contact is not None:
                self.contact_combo.addItem(d.contact.name, d.contact.id)
                index = self.contact_combo.count() - 1
            self.contact_combo.setCurrentIndex(index)
        self.contact_links = QLabel(page)
        self.contact_links.setOpenExternalLinks(True)
        self.contact_links.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
        )
        self.contact_combo.currentIndexChanged.connect(self._on_contact_changed)
        contact_row = QHBoxLayout()
        contact_row.addWidget(self.contact_combo)
        contact_row.addWidget(self.contact_links, 1)
        contact_label = QLabel(_("Customer &contact:"), page)
        contact_label.setBuddy(self.contact_combo)
        form.addRow(contact_label, contact_row)
        self.comment_edit = QPlainTextEdit(page)
        self.comment_edit.setPlaceholderText(_("Comment"))
        self.comment_edit.setTabChangesFocus(True)
        self.comment_edit.setMaximumHeight(90)
        comment_label = QLabel(_("Co&mment:"), page)
        comment_label.setBuddy(self.comment_edit)
        form.addRow(comment_label, self.comment_edit)
        layout.addLayout(form)
        if d.action_type in (
            ActionType.EMAIL,
            ActionType.LETTER,
            ActionType.REGISTERED_LETTER,
        ):
            docs = ", ".join(doc.filename for doc in d.documents)
            note = QLabel(
                _("Documents: {names}").format(names=docs)
                if docs
                else _(
                    "The message editor comes later: performing records the "
                    "comment only."
                ),
                page,
            )
            note.setWordWrap(True)
            note.setStyleSheet("color: #546e7a;")
            layout.addWidget(note)

        outcomes = QGroupBox(_("Outcome"), page)
        grid = QGridLayout(outcomes)
        self.outcome_group = QButtonGroup(self)
        choices = (
            _CALL_OUTCOMES
            if d.action_type in (ActionType.PHONE_CALL, ActionType.MEETING)
            else _OTHER_OUTCOMES
        )
        for row, outcome in enumerate(choices):
            radio = QRadioButton(_(OUTCOME_LABELS[outcome]), outcomes)
            radio.setProperty("outcome", outcome.value)
            radio.setObjectName(f"outcome_{outcome.value}")
            self.outcome_group.addButton(radio)
            grid.addWidget(radio, row, 0)
            if row == 0:
                radio.setChecked(True)
        self.outcome_group.buttonToggled.connect(self._on_outcome_changed)
        due = sum((i.remaining for i in d.items if i.remaining > 0), Decimal(0))
        self.promise_amount = QLineEdit(outcomes)
        self.promise_amount.setAlignment(Qt.AlignmentFlag.AlignRight)
        self.promise_amount.setPlaceholderText(
            format_money(due, d.currency or "EUR", self.language)
            if due
            else _("all that is overdue")
        )
        self.promise_date = _date_edit(outcomes, self.today + dt.timedelta(days=7))
        self.reason_combo = QComboBox(outcomes)
        for reason in self.reasons:
            self.reason_combo.addItem(_(reason.label), reason.code)
        self.dispute_items = QListWidget(outcomes)
        self.dispute_items.setMaximumHeight(80)
        for item in d.items:
            remaining = format_money(item.remaining, item.currency, self.language)
            entry = QListWidgetItem(f"{item.number}  {remaining}", self.dispute_items)
            entry.setData(Qt.ItemDataRole.UserRole, item.id)
            entry.setFlags(entry.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            entry.setCheckState(Qt.CheckState.Checked)
        self.call_back_date = _date_edit(outcomes, self.today + dt.timedelta(days=2))
        self.plan_count = QSpinBox(outcomes)
        self.plan_count.setRange(1, 36)
        self.plan_count.setValue(3)
        self.plan_first_due = _date_edit(outcomes, self.today + dt.timedelta(days=30))
        details = QFormLayout()
        self._detail_rows: dict[CallOutcome, list[QWidget]] = {}

        def add(outcome: CallOutcome, label: str, widget: QWidget) -> None:
            caption = QLabel(label, outcomes)
            caption.setBuddy(widget)
            details.addRow(caption, widget)
            self._detail_rows.setdefault(outcome, []).extend([caption, widget])

        add(CallOutcome.PROMISE, _("Amount promised:"), self.promise_amount)
        add(CallOutcome.PROMISE, _("Payment date:"), self.promise_date)
        add(CallOutcome.DISPUTE, _("Reason:"), self.reason_combo)
        add(CallOutcome.DISPUTE, _("Items disputed:"), self.dispute_items)
        add(CallOutcome.CALL_BACK, _("Call back on:"), self.call_back_date)
        add(CallOutcome.PAYMENT_PLAN, _("Instalments:"), self.plan_count)
        add(CallOutcome.PAYMENT_PLAN, _("First due date:"), self.plan_first_due)
        grid.addLayout(details, 0, 1, len(choices), 1)
        grid.setColumnStretch(1, 1)
        layout.addWidget(outcomes, 1)
        buttons = QHBoxLayout()
        self.back_button = QPushButton(_("Cancel"), page)
        self.continue_button = QPushButton(_("Continue"), page)
        self.back_button.clicked.connect(lambda: self.show_page(SUMMARY))
        self.continue_button.clicked.connect(self._on_continue_button_clicked)
        buttons.addStretch(1)
        buttons.addWidget(self.back_button)
        buttons.addWidget(self.continue_button)
        layout.addLayout(buttons)
        self._on_contact_changed()
        return page

    def _build_notify(self) -> QWidget:
        page = QWidget(self)
        layout = QVBoxLayout(page)
        title = QLabel(
            _("{type} / Notify").format(
                type=action_type_label(self.detail.action_type)
            ),
            page,
        )
        font = title.font()
        font.setBold(True)
        title.setFont(font)
        layout.addWidget(title)
        intro = QLabel(
            _(
                "Before you validate, you may select one or more colleagues to "
                "tell that this action was performed. You may skip this step, or "
                "select them and click Validate to finish."
            ),
            page,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        layout.addWidget(
            QLabel(_("Do you want to notify at least one colleague?"), page)
        )
        self.user_search = QLineEdit(page)
        self.user_search.setClearButtonEnabled(True)
        self.user_search.setPlaceholderText(_("Search users"))
        self.user_model = UserCheckModel(self.language, self)
        self.user_model.set_rows(self.users)
        self.user_proxy = QSortFilterProxyModel(self)
        self.user_proxy.setSourceModel(self.user_model)
        self.user_proxy.setFilterCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.user_search.textChanged.connect(self.user_proxy.setFilterFixedString)
        self.user_list = QListView(page)
        self.user_list.setModel(self.user_proxy)
        layout.addWidget(self.user_search)
        layout.addWidget(self.user_list, 1)
        QShortcut(QKeySequence("Space"), self.user_list, self._toggle_current_user)
        buttons = QHBoxLayout()
        self.notify_back_button = QPushButton(_("Cancel"), page)
        self.validate_button = QPushButton(_("Validate"), page)
        self.notify_back_button.clicked.connect(lambda: self.show_page(PERFORM))
        self.validate_button.clicked.connect(self._on_validate_button_clicked)
        buttons.addStretch(1)
        buttons.addWidget(self.notify_back_button)
        buttons.addWidget(self.validate_button)
        layout.addLayout(buttons)
        return page

    # -- slots --------------------------------------------------------------------

    @Slot()
    def _toggle_current_user(self) -> None:
        index = self.user_proxy.mapToSource(self.user_list.currentIndex())
        if not index.isValid():
            return
        checked = self.user_model.data(index, Qt.ItemDataRole.CheckStateRole)
        new = (
            Qt.CheckState.Unchecked
            if checked == Qt.CheckState.Checked
            else Qt.CheckState.Checked
        )
        self.user_model.setData(index, new.value, Qt.ItemDataRole.CheckStateRole)

    @Slot()
    def _on_contact_changed(self) -> None:
        chosen = self.contact_combo.currentData()
        contact = next((c for c in self.contacts if c.id == chosen), None)
        if contact is None and self.detail.contact and self.detail.contact.id == chosen:
            contact = self.detail.contact
        links = [
            link
            for link in (
                phone_link(contact.phone) if contact else "",
                phone_link(contact.mobile) if contact else "",
                mail_link(contact.email) if contact else "",
            )
            if link
        ]
        self.contact_links.setText(" · ".join(links))

    @Slot()
    def _on_outcome_changed(self) -> None:
        chosen = self.outcome()
        for outcome, widgets in getattr(self, "_detail_rows", {}).items():
            for widget in widgets:
                widget.setVisible(outcome == chosen)

    @Slot()
    def _on_perform_button_clicked(self) -> None:
        self.show_page(MESSAGE if self.is_message else PERFORM)

    def _on_message_sent(self, outcome: Any) -> None:
        if not outcome.sent or outcome.action is None:  # saved as .eml, pending
            self.changed.emit()
            return
        self.performed.emit(PerformResult(action=outcome.action))
        self.accept()

    @Slot()
    def _on_continue_button_clicked(self) -> None:
        problems = self.request().problems(self.today)
        if problems:
            self.banner.show_error(" ".join(_(p) for p in problems))
            return
        self.show_page(NOTIFY)

    @Slot()
    def _on_validate_button_clicked(self) -> None:
        request = self.request()
        problems = request.problems(self.today)
        if problems:
            self.banner.show_error(" ".join(_(p) for p in problems))
            return
        self.validate_button.setEnabled(False)
        self.notify_back_button.setEnabled(False)
        workbench, today = self.workbench, self.today
        self.runner.run_write(
            lambda: workbench.perform_action(request, today),
            self._on_perform_done,
            self._on_write_failed,
        )

    def _on_perform_done(self, result: Any) -> None:
        self.performed.emit(result)
        self.accept()

    def _on_write_failed(self, exc: BaseException) -> None:
        self.validate_button.setEnabled(True)
        self.notify_back_button.setEnabled(True)
        for button in (self.edit_button, self.schedule_button, self.close_case_button):
            button.setEnabled(True)
        self.banner.show_error(self.runner.message_for(exc))

    @Slot()
    def _on_edit_button_clicked(self) -> None:
        dialog = EditActionDialog(self.detail, self.users, self.contacts, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        edit = dialog.edit()
        workbench, today = self.workbench, self.today
        self.edit_button.setEnabled(False)
        self.runner.run_write(
            lambda: workbench.edit_action(edit, today),
            lambda _detail: self._on_changed(),
            self._on_write_failed,
        )

    @Slot()
    def _on_schedule_button_clicked(self) -> None:
        d = self.detail
        if d.case_id is None or d.case_version is None:
            return
        dialog = ScheduleDialog(self.today, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        count, first = dialog.values()
        workbench, today = self.workbench, self.today
        case_id, version = d.case_id, d.case_version
        self.schedule_button.setEnabled(False)
        self.runner.run_write(
            lambda: workbench.edit_schedule(
                case_id, version=version, today=today, count=count, first_due=first
            ),
            lambda _r: self._on_changed(),
            self._on_write_failed,
        )

    @Slot()
    def _on_close_case_button_clicked(self) -> None:
        d = self.detail
        if d.case_id is None or d.case_version is None or d.case_kind is None:
            return
        answer = QMessageBox.question(
            self,
            _("Close the case"),
            _("Close the {kind} case No. {case}?").format(
                kind=_(CASE_KIND_LABELS[d.case_kind]).lower(), case=d.case_number
            ),
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        workbench, today = self.workbench, self.today
        case_id, version = d.case_id, d.case_version
        self.close_case_button.setEnabled(False)
        self.runner.run_write(
            lambda: workbench.close_case(case_id, version=version, today=today),
            lambda _r: self._on_changed(),
            self._on_write_failed,
        )

    def _on_changed(self) -> None:
        self.changed.emit()
        self.accept()


class EditActionDialog(QDialog):
    """Change a waiting action's date, assignee, contact or subject."""

    def __init__(
        self,
        detail: ActionDetail,
        users: Sequence[UserInfo],
        contacts: Sequence[ContactInfo],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.detail = detail
        self.setWindowTitle(_("Edit the action"))
        form = QFormLayout(self)
        self.date_edit = _date_edit(self, detail.planned_date)
        self.assignee_combo = QComboBox(self)
        self.assignee_combo.addItem("-", None)
        for user in users:
            self.assignee_combo.addItem(user.full_name, user.id)
        self.assignee_combo.setCurrentIndex(
            max(0, self.assignee_combo.findData(detail.assignee_id))
        )
        self.contact_combo = QComboBox(self)
        self.contact_combo.addItem(_("(no contact)"), None)
        for contact in contacts:
            self.contact_combo.addItem(contact.name, contact.id)
        if detail.contact is not None:
            self.contact_combo.setCurrentIndex(
                max(0, self.contact_combo.findData(detail.contact.id))
            )
        self.subject_edit = QLineEdit(detail.subject or "", self)
        form.addRow(_("Processing date:"), self.date_edit)
        form.addRow(_("Assigned to:"), self.assignee_combo)
        form.addRow(_("Customer contact:"), self.contact_combo)
        form.addRow(_("Subject:"), self.subject_edit)
        form.addRow(_ok_cancel(self))

    def edit(self) -> ActionEdit:
        """The edit the form describes."""
        return ActionEdit(
            action_id=self.detail.id,
            version=self.detail.version,
            planned_date=from_qdate(self.date_edit.date()),
            assignee_id=self.assignee_combo.currentData(),
            contact_id=self.contact_combo.currentData(),
            subject=self.subject_edit.text(),
        )


class ScheduleDialog(QDialog):
    """New instalments for what is left of a payment plan."""

    def __init__(self, today: dt.date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(_("Edit the schedule"))
        form = QFormLayout(self)
        self.count = QSpinBox(self)
        self.count.setRange(1, 36)
        self.count.setValue(3)
        self.first_due = _date_edit(self, today + dt.timedelta(days=30))
        form.addRow(_("Instalments:"), self.count)
        form.addRow(_("First due date:"), self.first_due)
        form.addRow(_ok_cancel(self))

    def values(self) -> tuple[int, dt.date]:
        """Number of instalments and the first due date."""
        return self.count.value(), from_qdate(self.first_due.date())


def _ok_cancel(dialog: QDialog) -> QHBoxLayout:
    row = QHBoxLayout()
    ok = QPushButton(_("OK"), dialog)
    ok.setDefault(True)
    cancel = QPushButton(_("Cancel"), dialog)
    ok.clicked.connect(dialog.accept)
    cancel.clicked.connect(dialog.reject)
    row.addStretch(1)
    row.addWidget(cancel)
    row.addWidget(ok)
    return row
