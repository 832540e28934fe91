"""The message editor shows the letter as the customer reads it and gives the
template's form back: amounts keep their narrow no-break spaces, customer text
stays escaped, bold stays bold, the items table keeps its place."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QTextCursor
from PySide6.QtTest import QTest

from o2c_desktop.engine.workbench import ITEMS_TABLE_FIELD
from o2c_desktop.ui.message_editor import MarkupEdit

if TYPE_CHECKING:
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
