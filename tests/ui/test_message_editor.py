"""The message editor shows the letter as the customer reads it and gives the
template's form back: amounts keep their narrow no-break spaces, customer text
stays escaped, bold, italic, underline and line breaks stay so, the items
table keeps its place; what the format bar offers prints in the PDF and the
email."""

from __future__ import annotations

import io
from typing import TYPE_CHECKING

from pypdf import PdfReader
from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QTextCursor
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QWidget

from o2c_desktop.engine import letters, pdf
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.workbench import ITEMS_TABLE_FIELD
from o2c_desktop.ui.message_editor import FormatBar, MarkupEdit, open_with_desktop
from tests.engine.test_letters_pdf import _ctx, _text

if TYPE_CHECKING:
    from pathlib import Path

    import pytest
    from pytestqt.qtbot import QtBot

BODY = (
    "Madame, Monsieur,\n\nLes factures suivantes demeurent impayées :\n\n"
    f"{ITEMS_TABLE_FIELD}\n\nla somme de <b>15\u202f597,33\xa0€</b> ;\n"
    "Dupont &amp; Fils &lt;b&gt;\n\nSalutations distinguées."
)


def test_the_text_reads_as_printed_and_comes_back_unchanged(qtbot: QtBot) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup(BODY)
    shown = edit.toPlainText()
    assert "<b>15" not in shown  # bold is shown as bold, not as a tag
    assert "Dupont & Fils <b>" in shown  # customer text shown literally
    assert edit.table_placeholder() in shown
    assert ITEMS_TABLE_FIELD not in shown
    assert edit.markup() == BODY


def test_an_edit_keeps_the_rest_and_ctrl_b_makes_bold(qtbot: QtBot) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup(BODY)
    cursor = edit.textCursor()
    cursor.movePosition(QTextCursor.MoveOperation.End)
    cursor.movePosition(
        QTextCursor.MoveOperation.StartOfBlock, QTextCursor.MoveMode.KeepAnchor
    )
    edit.setTextCursor(cursor)
    QTest.keyClick(edit, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert edit.markup().endswith("<b>Salutations distinguées.</b>")
    assert "<b>15\u202f597,33\xa0€</b>" in edit.markup()


STYLED = (
    "Madame, Monsieur,\n\nMerci de régler <b>avant le <u>31 mars</u></b>, "
    "<i>sans autre avis</i> ;<br>à défaut, <b><i>mise en demeure</i></b>.\n\n"
    f"{ITEMS_TABLE_FIELD}\n\n<u>Service recouvrement</u>"
)


def test_italic_underline_and_line_breaks_come_back_unchanged(qtbot: QtBot) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup(STYLED)
    shown = edit.toPlainText()
    assert "<" not in shown.replace(edit.table_placeholder(), "")
    # <br>: a line break inside the paragraph, not a new paragraph
    assert "sans autre avis ;\u2028à défaut" in edit.document().toRawText()
    assert edit.markup() == STYLED


def test_template_spellings_are_read_and_given_back_in_one_form(
    qtbot: QtBot,
) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup(
        "<strong>Urgent</strong> <EM>now</EM><br/>"
        "<b>a</b> <b>b</b> <i><b>c</b></i> <u>d</u> e"
    )
    assert edit.markup() == (
        "<b>Urgent</b> <i>now</i><br><b>a b <i>c</i></b> <u>d</u> e"
    )


def _select(edit: MarkupEdit, text: str) -> None:
    start = edit.toPlainText().index(text)
    cursor = edit.textCursor()
    cursor.setPosition(start)
    cursor.setPosition(start + len(text), QTextCursor.MoveMode.KeepAnchor)
    edit.setTextCursor(cursor)


def test_ctrl_i_and_ctrl_u_style_the_selection_and_toggle_back(
    qtbot: QtBot,
) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup("Payez vite.\n\nCordialement")
    _select(edit, "vite")
    QTest.keyClick(edit, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    QTest.keyClick(edit, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert edit.markup() == "Payez <b><i><u>vite</u></i></b>.\n\nCordialement"
    QTest.keyClick(edit, Qt.Key.Key_I, Qt.KeyboardModifier.ControlModifier)
    assert edit.markup() == "Payez <b><u>vite</u></b>.\n\nCordialement"
    edit.setReadOnly(True)  # a done action: the shortcuts change nothing
    QTest.keyClick(edit, Qt.Key.Key_U, Qt.KeyboardModifier.ControlModifier)
    assert edit.markup() == "Payez <b><u>vite</u></b>.\n\nCordialement"


def test_the_format_bar_follows_the_cursor_and_styles_the_selection(
    qtbot: QtBot,
) -> None:
    host = QWidget()
    qtbot.addWidget(host)
    edit = MarkupEdit(host)
    bar = FormatBar(edit, host)
    buttons = bar.actions_by_style
    assert [a.text() for a in buttons.values()] == ["B", "I", "U"]
    assert "Ctrl+I" in buttons["i"].toolTip()
    edit.set_markup("Un <b>montant</b> et une <i>date</i>.")
    cursor = edit.textCursor()
    cursor.setPosition(edit.toPlainText().index("montant") + 2)
    edit.setTextCursor(cursor)
    assert [a.isChecked() for a in buttons.values()] == [True, False, False]
    cursor.setPosition(edit.toPlainText().index("date") + 2)
    edit.setTextCursor(cursor)
    assert [a.isChecked() for a in buttons.values()] == [False, True, False]
    QTest.keyClick(edit, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert buttons["i"].isChecked()
    assert buttons["b"].isChecked()  # what is typed next is bold too
    QTest.keyClick(edit, Qt.Key.Key_B, Qt.KeyboardModifier.ControlModifier)
    assert not buttons["b"].isChecked()
    _select(edit, "Un")
    buttons["u"].trigger()
    assert buttons["u"].isChecked()
    assert edit.markup() == "<u>Un</u> <b>montant</b> et une <i>date</i>."
    buttons["u"].trigger()
    assert edit.markup() == "Un <b>montant</b> et une <i>date</i>."


def test_what_the_bar_offers_survives_to_the_letter_pdf_and_the_email(
    qtbot: QtBot,
) -> None:
    edit = MarkupEdit()
    qtbot.addWidget(edit)
    edit.set_markup(STYLED)
    markup = edit.markup()
    # The tags are those a template may hold...
    assert tpl.validate(None, markup.replace(ITEMS_TABLE_FIELD, "")) == []
    rendered = tpl.RenderedText(
        "Relance", markup.replace(ITEMS_TABLE_FIELD, tpl.TABLE_MARK)
    )
    # ... the letter prints them (italic in the italic face, no tag as text)...
    data = pdf.letter_pdf(letters.printed_letter(_ctx(), rendered, "fr"))
    text = " ".join(_text(data))
    assert "sans autre avis" in text
    assert "<" not in text.replace("<b>Dupont & Fils</b>", "")
    assert b"Oblique" in data or b"Italic" in data  # the italic face is used
    assert len(PdfReader(io.BytesIO(data)).pages) >= 1
    # ... and so does the email.
    email = letters.compose_email(_ctx(), rendered, "fr")
    assert "<i>sans autre avis</i>" in email.html
    assert "<u>31 mars</u>" in email.html
    assert "sans autre avis ;\nà défaut" in email.text


def test_the_system_viewer_gets_a_file_or_an_address(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(QUrl(url))
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    open_with_desktop(str(tmp_path / "F-1.pdf"))
    open_with_desktop("https://erp.example/invoices/F-3.pdf")
    assert opened[0] == QUrl.fromLocalFile(str(tmp_path / "F-1.pdf"))
    assert opened[1].scheme() == "https"
    assert opened[1].path() == "/invoices/F-3.pdf"
