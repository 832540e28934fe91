"""The message editor of letter and email actions (issue 7).

The template rendered with its merge fields, editable; the generated PDFs
(open, regenerate); "Attach a stored document"; "Attach the statement of
account"; preview; then send, or save the email as an .eml draft. Every call
goes through `WorkbenchCalls` on a worker thread.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDir, Qt, QUrl, Signal, Slot
from PySide6.QtGui import QDesktopServices, QFont, QTextCharFormat
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QTextEdit,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.workbench import ITEMS_TABLE_FIELD
from o2c_desktop.i18n import _, format_date
from o2c_desktop.ui.widgets import Banner

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.workbench import DocumentInfo, MessageDraft
    from o2c_desktop.ui.ports import WorkbenchCalls
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

_ID = Qt.ItemDataRole.UserRole


def open_with_desktop(path: str) -> None:
    """Open a file with the system's viewer (the PDF reader for a PDF)."""
    QDesktopServices.openUrl(QUrl.fromLocalFile(path))


class MessageEditor(QWidget):
    """Edit, attach, preview and send one letter or email action.

    Signals:
        loaded(object): the draft was rendered (`MessageDraft`).
        sent(object): the message was sent or saved (`MessageOutcome`).
        failed(str): a send failed; the action stays pending with this reason.
        back_requested(): the collector leaves the editor.
    """

    loaded = Signal(object)
    sent = Signal(object)
    failed = Signal(str)
    back_requested = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        workbench: WorkbenchCalls,
        action_id: str,
        *,
        today: dt.date,
        language: str = "fr",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("message_editor")
        self.language = language
        self.runner = runner
        self.workbench = workbench
        self.action_id = action_id
        self.today = today
        self.draft: MessageDraft | None = None
        self._generated_ids: set[str] = set()
        self.folder = str(Path(QDir.tempPath()) / "o2c_desktop")
        self.open_file: Callable[[str], None] = open_with_desktop
        layout = QVBoxLayout(self)
        self.banner = Banner(self)
        layout.addWidget(self.banner)
        form = QFormLayout()
        self.recipients_label = QLabel(self)
        self.recipients_label.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByMouse
        )
        form.addRow(_("To:"), self.recipients_label)
        self.subject_edit = QLineEdit(self)
        self.subject_edit.setObjectName("message_subject")
        form.addRow(_("&Subject:"), self.subject_edit)
        layout.addLayout(form)
        self.body_edit = MarkupEdit(self)
        self.body_edit.setObjectName("message_body")
        self.body_edit.setTabChangesFocus(True)
        self.body_edit.setMinimumHeight(260)
        layout.addWidget(self.body_edit, 3)
        layout.addWidget(QLabel(_("Attachments (ticked ones are sent):"), self))
        self.attachments = QListWidget(self)
        self.attachments.setObjectName("message_attachments")
        self.attachments.setMaximumHeight(120)
        self.attachments.itemActivated.connect(self._on_attachments_activated)
        layout.addWidget(self.attachments, 1)
        tools = QHBoxLayout()
        self.open_button = QPushButton(_("&Open"), self)
        self.regenerate_button = QPushButton(_("&Regenerate the PDFs"), self)
        self.stored_button = QPushButton(_("Attach a s&tored document…"), self)
        self.statement_button = QPushButton(_("Attach the statement of &account"), self)
        self.preview_button = QPushButton(_("Pre&view"), self)
        for button in (
            self.open_button,
            self.regenerate_button,
            self.stored_button,
            self.statement_button,
            self.preview_button,
        ):
            tools.addWidget(button)
        tools.addStretch(1)
        layout.addLayout(tools)
        bottom = QHBoxLayout()
        self.back_button = QPushButton(_("&Back"), self)
        bottom.addWidget(self.back_button)
        bottom.addStretch(1)
        self.eml_button = QPushButton(_("Save as .&eml…"), self)
        self.send_button = QPushButton(_("&Send"), self)
        self.send_button.setObjectName("message_send")
        bottom.addWidget(self.eml_button)
        bottom.addWidget(self.send_button)
        layout.addLayout(bottom)
        self.open_button.clicked.connect(self._on_open_button_clicked)
        self.regenerate_button.clicked.connect(self._on_regenerate_button_clicked)
        self.stored_button.clicked.connect(self._on_stored_button_clicked)
        self.statement_button.clicked.connect(self._on_statement_button_clicked)
        self.preview_button.clicked.connect(self._on_preview_button_clicked)
        self.send_button.clicked.connect(self._on_send_button_clicked)
        self.eml_button.clicked.connect(self._on_eml_button_clicked)
        self.back_button.clicked.connect(self.back_requested)
        self._set_busy(True)

    # -- public ---------------------------------------------------------------

    def load(self) -> None:
        """Render the action's template and PDFs (off the UI thread)."""
        self._set_busy(True)
        self.banner.show_info(_("Preparing the message…"))
        workbench, aid, today = self.workbench, self.action_id, self.today
        self.runner.run_write(
            lambda: workbench.prepare_message(aid, today),
            self._on_draft_loaded,
            self._on_error,
        )

    def attachment_ids(self) -> list[str]:
        """The ticked attachments, in the list's order."""
        ids = []
        for row in range(self.attachments.count()):
            item = self.attachments.item(row)
            if item.checkState() == Qt.CheckState.Checked:
                ids.append(str(item.data(_ID)))
        return ids

    def add_attachment(self, doc: DocumentInfo, *, checked: bool = True) -> None:
        """List a document, ticked unless told otherwise (no duplicates)."""
        for row in range(self.attachments.count()):
            item = self.attachments.item(row)
            if item.data(_ID) == doc.id:
                item.setCheckState(Qt.CheckState.Checked)
                return
        item = QListWidgetItem(
            f"{doc.filename}  ·  {format_date(doc.created_at.date(), self.language)}",
            self.attachments,
        )
        item.setData(_ID, doc.id)
        item.setToolTip(doc.filename)
        item.setFlags(item.flags() | Qt.ItemFlag.ItemIsUserCheckable)
        state = Qt.CheckState.Checked if checked else Qt.CheckState.Unchecked
        item.setCheckState(state)

    # -- internals ------------------------------------------------------------

    def _set_busy(self, busy: bool) -> None:
        draft = self.draft
        editable = not busy and draft is not None and not draft.done
        for widget in (
            self.regenerate_button,
            self.stored_button,
            self.statement_button,
            self.send_button,
        ):
            widget.setEnabled(editable)
        self.eml_button.setEnabled(editable and draft is not None and draft.email)
        self.open_button.setEnabled(not busy)
        self.preview_button.setEnabled(not busy)
        self.body_edit.setReadOnly(not editable)
        self.subject_edit.setReadOnly(not editable)
        self.setCursor(
            Qt.CursorShape.BusyCursor if busy else Qt.CursorShape.ArrowCursor
        )

    def _show_draft(self, draft: MessageDraft, *, keep_text: bool = False) -> None:
        self.draft = draft
        self.recipients_label.setText(
            ", ".join(draft.recipients) if draft.email else _("printed letter")
        )
        if not keep_text:
            self.subject_edit.setText(draft.subject)
            self.body_edit.set_markup(draft.body)
        generated = {d.id for d in draft.generated}
        for row in reversed(range(self.attachments.count())):
            item = self.attachments.item(row)
            doc_id = item.data(_ID)
            if doc_id not in generated and doc_id in self._generated_ids:
                self.attachments.takeItem(row)  # replaced by its regenerated PDF
        self._generated_ids = generated
        for doc in draft.generated:
            self.add_attachment(doc)
        if draft.reason:
            self.banner.show_error(draft.reason)
        elif draft.note:
            self.banner.show_info(draft.note)
        elif draft.done:
            self.banner.show_info(_("This action was already performed."))
        else:
            self.banner.clear_message()
        self._set_busy(False)

    def _selected_id(self) -> str | None:
        if not self.attachments.count():
            return None
        row = max(self.attachments.currentRow(), 0)
        return str(self.attachments.item(row).data(_ID))

    def _open(self, document_id: str) -> None:
        workbench, folder = self.workbench, self.folder
        self.runner.run_read(
            lambda: workbench.document_file(document_id, folder),
            lambda path: self.open_file(str(path)),
            self._on_error,
        )

    def _on_draft_loaded(self, draft: Any) -> None:
        self._show_draft(draft)
        self.body_edit.setFocus(Qt.FocusReason.OtherFocusReason)
        self.loaded.emit(draft)

    def _on_regenerated(self, draft: Any) -> None:
        self._show_draft(draft, keep_text=True)
        self.banner.show_info(_("The PDFs were regenerated."))

    def _on_statement_attached(self, doc: Any) -> None:
        self.add_attachment(doc)
        self._set_busy(False)
        self.banner.show_info(_("Statement of account attached."))

    def _on_send_done(self, outcome: Any) -> None:
        self._set_busy(False)
        if outcome.eml_path:
            self.banner.show_info(
                _("Saved as {path}; the action stays pending.").format(
                    path=outcome.eml_path
                )
            )
            self.sent.emit(outcome)
            return
        if not outcome.sent:
            self.banner.show_error(outcome.reason or _("Not sent."))
            self.failed.emit(outcome.reason or "")
            return
        self.sent.emit(outcome)

    def _on_error(self, exc: BaseException) -> None:
        self._set_busy(False)
        self.banner.show_error(self.runner.message_for(exc))

    def _send(self, eml_path: str | None) -> None:
        self._set_busy(True)
        self.banner.show_info(_("Sending…") if eml_path is None else _("Saving…"))
        workbench, aid, today = self.workbench, self.action_id, self.today
        subject, body = self.subject_edit.text(), self.body_edit.markup()
        ids = self.attachment_ids()
        self.runner.run_write(
            lambda: workbench.send_message(
                aid, subject, body, ids, today, as_eml_path=eml_path
            ),
            self._on_send_done,
            self._on_error,
        )

    # -- slots ----------------------------------------------------------------

    @Slot(QListWidgetItem)
    def _on_attachments_activated(self, item: QListWidgetItem) -> None:
        self._open(str(item.data(_ID)))

    @Slot()
    def _on_open_button_clicked(self) -> None:
        doc_id = self._selected_id()
        if doc_id is not None:
            self._open(doc_id)

    @Slot()
    def _on_preview_button_clicked(self) -> None:
        draft = self.draft
        if draft is None:
            return
        if draft.generated and not draft.email:
            self._open(draft.generated[0].id)
            return
        doc_id = self._selected_id()
        if doc_id is not None:
            self._open(doc_id)

    @Slot()
    def _on_regenerate_button_clicked(self) -> None:
        self._set_busy(True)
        workbench, aid, today = self.workbench, self.action_id, self.today
        subject, body = self.subject_edit.text(), self.body_edit.markup()
        self.runner.run_write(
            lambda: workbench.prepare_message(aid, today, subject=subject, body=body),
            self._on_regenerated,
            self._on_error,
        )

    @Slot()
    def _on_statement_button_clicked(self) -> None:
        self._set_busy(True)
        workbench, aid, today = self.workbench, self.action_id, self.today
        self.runner.run_write(
            lambda: workbench.attach_statement(aid, today),
            self._on_statement_attached,
            self._on_error,
        )

    @Slot()
    def _on_stored_button_clicked(self) -> None:
        draft = self.draft
        if draft is None or not draft.stored:
            self.banner.show_info(_("The customer has no stored document."))
            return
        labels = [
            f"{d.filename}  ·  {format_date(d.created_at.date(), self.language)}"
            for d in draft.stored
        ]
        label, ok = QInputDialog.getItem(
            self, _("Attach a stored document"), _("Document:"), labels, 0, False
        )
        if ok and label in labels:
            self.add_attachment(draft.stored[labels.index(label)])

    @Slot()
    def _on_send_button_clicked(self) -> None:
        self._send(None)

    @Slot()
    def _on_eml_button_clicked(self) -> None:
        draft = self.draft
        name = f"email_{draft.action_id[:8] if draft else 'draft'}.eml"
        path, _filter = QFileDialog.getSaveFileName(
            self, _("Save as .eml"), str(Path.home() / name), _("Email (*.eml)")
        )
        if path:
            self._send(path)


class MarkupEdit(QTextEdit):
    """The letter's text as the customer will read it: bold shown as bold.

    Templates mark emphasis with ``<b>`` and the items table with a field;
    the collector edits rendered text, and `markup()` gives the template's
    form back (text escaped, bold runs in ``<b>``) for the PDF and the email.
    Ctrl+B toggles bold on the selection.
    """

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAcceptRichText(False)  # pasted text arrives plain
        self.setTabChangesFocus(True)

    @staticmethod
    def table_placeholder() -> str:
        """What stands for the items table in the editor."""
        return _("[table of the items concerned]")

    def set_markup(self, markup: str) -> None:
        """Show `markup` (escaped text with ``<b>`` runs and newlines)."""
        shown = markup.replace(
            ITEMS_TABLE_FIELD, html.escape(self.table_placeholder(), quote=False)
        )
        # Built run by run, not with setHtml(): the HTML parser would fold
        # the narrow no-break spaces of French amounts into plain spaces.
        self.clear()
        cursor = self.textCursor()
        normal, bold = QTextCharFormat(), QTextCharFormat()
        normal.setFontWeight(QFont.Weight.Normal)
        bold.setFontWeight(QFont.Weight.Bold)
        for n, run in enumerate(re.split(r"</?b>", shown)):
            cursor.insertText(html.unescape(run), bold if n % 2 else normal)
        self.moveCursor(cursor.MoveOperation.Start)

    def markup(self) -> str:
        """The edited text back in template form."""
        lines: list[str] = []
        block = self.document().begin()
        while block.isValid():
            parts: list[str] = []
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid():
                    # A paragraph's line breaks come back as U+2028.
                    text = html.escape(fragment.text(), quote=False).replace(
                        "\u2028", "\n"
                    )
                    bold = fragment.charFormat().fontWeight() >= QFont.Weight.Bold
                    parts.append(f"<b>{text}</b>" if bold and text.strip() else text)
                it += 1
            lines.append("".join(parts))
            block = block.next()
        placeholder = html.escape(self.table_placeholder(), quote=False)
        return "\n".join(lines).replace(placeholder, ITEMS_TABLE_FIELD)

    def keyPressEvent(self, event: Any) -> None:
        if (
            event.key() == Qt.Key.Key_B
            and event.modifiers() == Qt.KeyboardModifier.ControlModifier
        ):
            fmt = QTextCharFormat()
            bold = self.fontWeight() < QFont.Weight.Bold
            fmt.setFontWeight(QFont.Weight.Bold if bold else QFont.Weight.Normal)
            self.mergeCurrentCharFormat(fmt)
            return
        super().keyPressEvent(event)
