"""The message editor of letter and email actions (issue 7).

The template rendered with its merge fields, editable (bold, italic,
underline); the generated PDFs (open, regenerate); "Attach a stored
document"; "Attach the statement of account"; preview; then send, or save
the email as an .eml draft for the collector's own mail client, after which
the editor asks whether to record the action as done (sent from there).
Every call goes through `WorkbenchCalls` on a worker thread.
"""

from __future__ import annotations

import html
import logging
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDir, Qt, QUrl, Signal, Slot
from PySide6.QtGui import (
    QAction,
    QDesktopServices,
    QFont,
    QKeySequence,
    QTextCharFormat,
    QTextCursor,
)
from PySide6.QtWidgets import (
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QTextEdit,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.workbench import ITEMS_TABLE_FIELD, is_address
from o2c_desktop.i18n import N_, _, format_date
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
    """Open a file with the system's viewer (the PDF reader for a PDF).

    An address (``https://...``, ``file://...``) opens as it is.
    """
    url = QUrl(path) if is_address(path) else QUrl.fromLocalFile(path)
    if not QDesktopServices.openUrl(url):
        log.warning("No application opened %s", url.toString())


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
        self.format_bar = FormatBar(self.body_edit, self)
        layout.addWidget(self.format_bar)
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
        self.format_bar.setEnabled(editable)
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
        if outcome.eml_path and not outcome.sent:
            if self.ask_mark_done(outcome.eml_path):
                self._mark_eml_sent(outcome)
                return
            self.banner.show_info(
                _("Saved as {path}; the action stays pending.").format(
                    path=outcome.eml_path
                )
            )
            self.sent.emit(outcome)
            return
        if outcome.eml_path:
            self.banner.show_info(
                _("Saved as {path} and recorded as sent.").format(path=outcome.eml_path)
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

    def ask_mark_done(self, path: str) -> bool:
        """After saving an .eml: is it sent from the mail client (default yes)?"""
        box = QMessageBox(
            QMessageBox.Icon.Question,
            _("Save as .eml"),
            _("Mark the action as done? (sent from your mail client)"),
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            self,
        )
        box.setInformativeText(
            _("Saved as {path}. No keeps the action pending.").format(path=path)
        )
        box.setDefaultButton(QMessageBox.StandardButton.Yes)
        return box.exec() == QMessageBox.StandardButton.Yes

    def _mark_eml_sent(self, saved: Any) -> None:
        self._set_busy(True)
        self.banner.show_info(_("Saving…"))
        workbench, aid, today = self.workbench, self.action_id, self.today
        path = saved.eml_path
        version = saved.action.version if saved.action is not None else None
        self.runner.run_write(
            lambda: workbench.mark_eml_sent(aid, path, today, version=version),
            self._on_send_done,
            self._on_error,
        )

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


class FormatBar(QToolBar):
    """Bold, italic and underline for a `MarkupEdit`, checked as at the cursor.

    What the template markup, the letter PDF and the email all carry, and
    nothing else. The buttons take no focus: Ctrl+B, Ctrl+I and Ctrl+U do
    the same from the text.
    """

    def __init__(self, edit: MarkupEdit, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("message_format_bar")
        self.edit = edit
        self.actions_by_style: dict[str, QAction] = {}
        for name, label, key in (
            ("b", N_("Bold"), QKeySequence.StandardKey.Bold),
            ("i", N_("Italic"), QKeySequence.StandardKey.Italic),
            ("u", N_("Underline"), QKeySequence.StandardKey.Underline),
        ):
            action = QAction(self)
            action.setObjectName(f"format_{name}")
            action.setCheckable(True)
            font = action.font()
            font.setBold(name == "b")
            font.setItalic(name == "i")
            font.setUnderline(name == "u")
            action.setFont(font)
            action.setData((label, QKeySequence(key)))
            action.triggered.connect(
                lambda checked, n=name: self._on_action_triggered(n, checked)
            )
            self.addAction(action)
            self.actions_by_style[name] = action
        edit.currentCharFormatChanged.connect(self._on_edit_format_changed)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        """Show every text in the current language."""
        for action in self.actions_by_style.values():
            label, key = action.data()
            text = _(label)
            # The initial of the translated word, as word processors show:
            # B I U in English, G I S in French.
            action.setText(text[:1].upper())
            shortcut = key.toString(QKeySequence.SequenceFormat.NativeText)
            action.setToolTip(f"{text} ({shortcut})")

    def show_styles(self) -> None:
        """Check the buttons of the styles at the cursor."""
        for name, action in self.actions_by_style.items():
            action.setChecked(self.edit.is_style(name))

    def _on_action_triggered(self, name: str, checked: bool) -> None:
        self.edit.set_style(name, checked)
        self.edit.setFocus(Qt.FocusReason.OtherFocusReason)

    @Slot(QTextCharFormat)
    def _on_edit_format_changed(self, _fmt: QTextCharFormat) -> None:
        self.show_styles()


class MarkupEdit(QTextEdit):
    """The letter's text as the customer will read it: emphasis shown as such.

    Templates may use ``<b> <i> <u> <br>`` (and ``<strong> <em>``, read as
    bold and italic) and mark the items table with a field: the letter PDF
    and the email print exactly these (see `engine.templates`). The
    collector edits rendered text; `markup()` gives the template's form back
    (text escaped, runs in ``<b>``, ``<i>``, ``<u>``, line breaks inside a
    paragraph as ``<br>``). Ctrl+B, Ctrl+I and Ctrl+U toggle bold, italic
    and underline on the selection. There are no lists: neither the
    template markup nor the letter layout has them.
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
        """Show `markup` (escaped text with the allowed tags and newlines)."""
        shown = markup.replace(
            ITEMS_TABLE_FIELD, html.escape(self.table_placeholder(), quote=False)
        )
        # Built run by run, not with setHtml(): the HTML parser would fold
        # the narrow no-break spaces of French amounts into plain spaces.
        self.clear()
        cursor = self.textCursor()
        depth = dict.fromkeys(_STYLES, 0)
        at = 0
        for tag in _TAG.finditer(shown):
            self._insert(cursor, html.unescape(shown[at : tag.start()]), depth)
            at = tag.end()
            name = _TAG_STYLE.get(tag.group(2).lower())
            if name is None:  # <br>
                self._insert(cursor, _LINE_BREAK, depth)
            elif tag.group(1):
                depth[name] = max(0, depth[name] - 1)
            else:
                depth[name] += 1
        self._insert(cursor, html.unescape(shown[at:]), depth)
        self.moveCursor(cursor.MoveOperation.Start)

    def markup(self) -> str:
        """The edited text back in template form."""
        lines: list[str] = []
        block = self.document().begin()
        while block.isValid():
            runs: list[tuple[str, list[str]]] = []
            it = block.begin()
            while not it.atEnd():
                fragment = it.fragment()
                if fragment.isValid():
                    runs.append((fragment.text(), _styles_of(fragment.charFormat())))
                it += 1
            lines.append(_line_markup(runs))
            block = block.next()
        placeholder = html.escape(self.table_placeholder(), quote=False)
        return "\n".join(lines).replace(placeholder, ITEMS_TABLE_FIELD)

    def is_style(self, name: str) -> bool:
        """Whether the text at the cursor is bold (``"b"``), italic or underlined."""
        return name in _styles_of(self.currentCharFormat())

    def toggle_style(self, name: str) -> None:
        """Bold, italicise or underline the selection, or undo it (``"b" "i" "u"``)."""
        self.set_style(name, not self.is_style(name))

    def set_style(self, name: str, on: bool) -> None:
        """Set or clear one style on the selection (or for what is typed next)."""
        fmt = QTextCharFormat()
        if name == "b":
            fmt.setFontWeight(QFont.Weight.Bold if on else QFont.Weight.Normal)
        elif name == "i":
            fmt.setFontItalic(on)
        else:
            fmt.setFontUnderline(on)
        self.mergeCurrentCharFormat(fmt)

    @staticmethod
    def _insert(cursor: QTextCursor, text: str, depth: dict[str, int]) -> None:
        if not text:
            return
        fmt = QTextCharFormat()
        fmt.setFontWeight(QFont.Weight.Bold if depth["b"] else QFont.Weight.Normal)
        fmt.setFontItalic(bool(depth["i"]))
        fmt.setFontUnderline(bool(depth["u"]))
        cursor.insertText(text, fmt)

    def keyPressEvent(self, event: Any) -> None:
        for key, name in _STYLE_KEYS:
            if event.matches(key):
                if not self.isReadOnly():
                    self.toggle_style(name)
                return
        super().keyPressEvent(event)


# The template markup's styles, in the order they nest (outermost first).
_STYLES = ("b", "i", "u")
_TAG_STYLE = {"b": "b", "strong": "b", "i": "i", "em": "i", "u": "u"}
_TAG = re.compile(r"<\s*(/?)\s*(b|strong|i|em|u|br)\s*/?\s*>", re.IGNORECASE)
_LINE_BREAK = "\u2028"  # a line break inside a paragraph (Shift+Enter)
_STYLE_KEYS = (
    (QKeySequence.StandardKey.Bold, "b"),
    (QKeySequence.StandardKey.Italic, "i"),
    (QKeySequence.StandardKey.Underline, "u"),
)


def _line_markup(runs: list[tuple[str, list[str]]]) -> str:
    """One line of runs (text, styles) as markup, tags nested b > i > u.

    Bold or italic spaces look like plain ones: a blank run takes those of
    its neighbours that both share, so ``<b>a</b> <b>b</b>`` reads back as
    ``<b>a b</b>`` and ``<b>a</b> <i>b</i>`` keeps its space outside.
    """
    blank = [not t.replace(_LINE_BREAK, "").strip() for t, _s in runs]
    styles = [list(s) for _t, s in runs]
    for n, (_text, own) in enumerate(runs):
        if not blank[n]:
            continue
        before = next((styles[k] for k in range(n - 1, -1, -1) if not blank[k]), [])
        after = next((styles[k] for k in range(n + 1, len(runs)) if not blank[k]), [])
        styles[n] = [
            x
            for x in _STYLES
            if (x == "u" and x in own) or (x != "u" and x in before and x in after)
        ]
    parts: list[str] = []
    opened: list[str] = []  # outermost first
    for (text, _own), wanted in zip(runs, styles, strict=True):
        keep = 0
        while keep < min(len(opened), len(wanted)) and opened[keep] == wanted[keep]:
            keep += 1
        parts.extend(f"</{x}>" for x in reversed(opened[keep:]))
        parts.extend(f"<{x}>" for x in wanted[keep:])
        opened = wanted
        parts.append(html.escape(text, quote=False).replace(_LINE_BREAK, "<br>"))
    parts.extend(f"</{x}>" for x in reversed(opened))
    return "".join(parts)


def _styles_of(fmt: QTextCharFormat) -> list[str]:
    on = {
        "b": fmt.fontWeight() >= QFont.Weight.Bold,
        "i": fmt.fontItalic(),
        "u": fmt.fontUnderline(),
    }
    return [n for n in _STYLES if on[n]]
