"""A collector's morning at the workbench, driven from the keyboard.

Alex Rossi opens the agenda, opens the late call to Denis S.A.S., performs
it with a promise to pay, notifies Emmanuel Germain, goes back to the agenda
on the next action and opens it. Then the letter flow: the email to Monnier
et Fils is edited, the statement of account attached, and it goes to a real
SMTP server on loopback. Every item model passes the model tester.
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from PySide6.QtCore import Qt, QTimer, QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QFileDialog, QMessageBox, QWidget
from sqlalchemy import select

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    DocumentKind,
    Role,
)
from o2c_desktop.engine.workbench import CallOutcome, PerformRequest
from o2c_desktop.models import (
    Action,
    Case,
    Contact,
    Customer,
    Item,
    Notification,
    User,
)
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.workbench import WorkbenchService
from o2c_desktop.settings import Settings
from o2c_desktop.ui.action_dialog import NOTIFY, PERFORM, SUMMARY, ActionDialog
from o2c_desktop.ui.agenda_view import AgendaView
from tests.services._view_book import TODAY
from tests.services.test_workbench_documents import small_pdf
from tests.sync import smtp_server

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from pytestqt.modeltest import ModelTester
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.main_window import MainWindow

pytestmark = pytest.mark.qt_log_ignore("propagateSizeHints")


@pytest.fixture
def book_url(book_url: str) -> str:
    """The small book, with dunning contacts for Denis and Monnier, and Julien
    Boucher away this week, replaced by Alex Rossi, with a call to make."""
    database = open_database(book_url)
    try:
        with database.session("setup") as s:
            rossi = s.scalars(select(User).where(User.login == "arossi")).one()
            boucher = User(
                login="jboucher",
                full_name="Julien Boucher",
                role=Role.COLLECTOR,
                absent_from=TODAY - dt.timedelta(days=1),
                absent_until=TODAY + dt.timedelta(days=4),
                replacement_id=rossi.id,
            )
            s.add(boucher)
            s.flush()
            allain = s.scalars(select(Customer).where(Customer.reference == "20001"))
            s.add(
                Action(
                    customer_id=allain.one().id,
                    action_type=ActionType.PHONE_CALL,
                    planned_date=TODAY,
                    assigned_to_id=boucher.id,
                )
            )
            denis = s.scalars(select(Customer).where(Customer.reference == "118436"))
            s.add(
                Contact(
                    customer_id=denis.one().id,
                    name="Camille Leduc",
                    phone="04 98 89 41 96",
                    email="cleduc@example.org",
                    is_dunning_contact=True,
                )
            )
            monnier = s.scalars(select(Customer).where(Customer.reference == "18981"))
            s.add(
                Contact(
                    customer_id=monnier.one().id,
                    name="Paul Monnier",
                    email="compta@monnier.example",
                    language="en",
                    is_dunning_contact=True,
                )
            )
    finally:
        database.dispose()
    return book_url


@pytest.fixture
def smtp(request: pytest.FixtureRequest) -> Iterator[tuple[smtp_server.Inbox, int]]:
    """A real SMTP server on loopback; parametrized "down", a closed port."""
    inbox = smtp_server.Inbox()
    if getattr(request, "param", "up") == "down":
        yield inbox, smtp_server.free_port()
        return
    controller, port = smtp_server.start(inbox)
    yield inbox, port
    controller.stop()


@pytest.fixture
def window_settings(book_url: str, smtp: tuple[smtp_server.Inbox, int]) -> Settings:
    """Alex Rossi in French, sending through the loopback server."""
    return Settings(
        database_url=book_url,
        user_login="arossi",
        language="fr",
        smtp_host="127.0.0.1",
        smtp_port=smtp[1],
        smtp_security="none",
        mail_from="relances@vallet.example",
    )


@pytest.fixture
def agenda(window: MainWindow, qtbot: QtBot) -> AgendaView:
    page = window.pages()["agenda"]
    assert isinstance(page, AgendaView)
    with qtbot.waitActive(window):
        window.show()
        window.activateWindow()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)
    return page


def _dialog(qtbot: QtBot, agenda: AgendaView) -> ActionDialog:
    qtbot.waitUntil(lambda: agenda.card.action_dialog is not None, timeout=10000)
    dialog = agenda.card.action_dialog
    assert dialog is not None
    qtbot.waitUntil(dialog.isVisible)
    return dialog


def _focus(widget: QWidget) -> QWidget:
    widget.activateWindow()
    widget.setFocus(Qt.FocusReason.OtherFocusReason)
    return widget


def test_a_collectors_morning(
    agenda: AgendaView, window: MainWindow, qtbot: QtBot, book_url: str
) -> None:
    today = agenda.columns[0]
    # The late call to Denis is selected first: Enter opens it.
    assert agenda.selected_line() is not None
    assert agenda.selected_line().customer_name == "Denis S.A.S."  # type: ignore[union-attr]
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        QTest.keyClick(_focus(today.table), Qt.Key.Key_Return)
    assert agenda.stack.currentWidget() is agenda.card
    assert agenda.card.title.text().endswith("118436 - Denis S.A.S.")
    assert "tel:0498894196" in agenda.card.contact_links.text()
    dialog = _dialog(qtbot, agenda)
    assert dialog.pages.currentIndex() == SUMMARY
    # Perform (the default button), then the outcome form.
    QTest.keyClick(_focus(dialog.perform_button), Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == PERFORM
    assert dialog.comment_edit.hasFocus()
    assert "tel:0498894196" in dialog.contact_links.text()
    QTest.keyClicks(dialog.comment_edit, "Virement promis pour mardi")
    dialog.findChild(QWidget, f"outcome_{CallOutcome.PROMISE.value}").click()  # type: ignore[union-attr]
    assert dialog.promise_date.isVisible()
    dialog.promise_amount.setText("1 500,00")
    QTest.keyClick(_focus(dialog.continue_button), Qt.Key.Key_Return)
    assert dialog.pages.currentIndex() == NOTIFY
    # Notify a colleague: search, then Space ticks the user.
    QTest.keyClicks(dialog.user_search, "germ")
    assert dialog.user_proxy.rowCount() == 1
    dialog.user_list.setCurrentIndex(dialog.user_proxy.index(0, 0))
    QTest.keyClick(_focus(dialog.user_list), Qt.Key.Key_Space)
    assert dialog.user_model.checked() == ["egermain"]
    with qtbot.waitSignal(agenda.card.action_performed, timeout=10000) as performed:
        QTest.keyClick(_focus(dialog.validate_button), Qt.Key.Key_Return)
    result = performed.args[0]
    assert result.case_number
    assert result.notified == 1
    database = open_database(book_url)
    try:
        with database.session() as s:
            promise = s.scalars(select(Case).where(Case.kind == CaseKind.PROMISE)).one()
            assert promise.status == CaseStatus.OPEN
            assert promise.amount == Decimal("1500.00")
            assert promise.promised_date == TODAY + dt.timedelta(days=7)
            note = s.scalars(select(Notification)).one()
            assert note.message
    finally:
        database.dispose()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)
    # The timeline shows the call, newest first, done by Alex Rossi.
    timeline = agenda.card.timeline_models[0]
    texts = [timeline.data(timeline.index(r, 3)) for r in range(timeline.rowCount())]
    assert any("Alex Rossi" in str(t) for t in texts)
    # Back to the agenda (Alt+Left): the next action is selected.
    with qtbot.waitActive(window):
        window.activateWindow()
    with qtbot.waitSignal(agenda.loaded, timeout=10000):
        QTest.keyClick(
            _focus(agenda.card.back_button),
            Qt.Key.Key_Left,
            Qt.KeyboardModifier.AltModifier,
        )
    assert agenda.stack.currentWidget() is not agenda.card
    selected = agenda.selected_line()
    assert selected is not None
    assert selected.customer_name == "Monnier et Fils"
    assert agenda.columns[0].progress.value() == 50
    # ... and Enter opens it.
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        QTest.keyClick(_focus(agenda.columns[0].table), Qt.Key.Key_Return)
    assert agenda.card.title.text().endswith("18981 - Monnier et Fils")
    dialog = _dialog(qtbot, agenda)
    dialog.reject()


def test_a_colleagues_change_meanwhile_is_reported_not_overwritten(
    agenda: AgendaView, window: MainWindow, qtbot: QtBot, book_url: str
) -> None:
    line = agenda.columns[0].model.row_value(0)
    agenda.open_line(line)
    dialog = _dialog(qtbot, agenda)
    database = open_database(book_url)
    try:
        colleague = WorkbenchService(AppContext(db=database, user_login="egermain"))
        detail = colleague.action_detail(line.action_id, TODAY)
        colleague.perform_action(
            PerformRequest(detail.id, detail.version, CallOutcome.NOT_REACHED), TODAY
        )
    finally:
        database.dispose()
    dialog.show_page(PERFORM)
    dialog.show_page(NOTIFY)
    dialog.validate_button.click()
    qtbot.waitUntil(lambda: dialog.banner.isVisible(), timeout=10000)
    assert "egermain" in dialog.banner.text()
    assert dialog.validate_button.isEnabled()
    dialog.reject()


def test_a_collector_cannot_edit_the_dunning_settings(
    agenda: AgendaView, qtbot: QtBot
) -> None:
    line = agenda.columns[0].model.row_value(1)
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        agenda.open_customer(line.customer_id)
    card = agenda.card
    assert not card.edit_settings_button.isEnabled()
    assert "Standard" in card.settings_label.text()
    amounts = [
        card.amounts.itemAt(i).widget().text()  # type: ignore[union-attr]
        for i in range(card.amounts.count())
    ]
    assert "1\u202f634,56\xa0€" in amounts  # outstanding, French format


def test_the_agenda_is_reachable_from_the_keyboard(
    agenda: AgendaView, window: MainWindow
) -> None:
    chain = []
    widget: QWidget = agenda.owner_combo
    for _step in range(2000):
        if widget.focusPolicy() & Qt.FocusPolicy.TabFocus and widget.isVisible():
            chain.append(widget)
        following = widget.nextInFocusChain()
        assert following is not None
        widget = following
        if widget is agenda.owner_combo:
            break
    tables = [c.table for c in agenda.columns]
    assert all(t in chain for t in tables)
    assert chain.index(tables[0]) < chain.index(tables[1])
    bar = [agenda.owner_combo, agenda.type_combo, agenda.refresh_button]
    assert [chain.index(w) for w in bar] == sorted(chain.index(w) for w in bar)
    assert agenda.refresh_shortcut.key().toString() == "F5"


def test_every_workbench_item_model_passes_the_model_tester(
    agenda: AgendaView, qtbot: QtBot, qtmodeltester: ModelTester
) -> None:
    line = agenda.columns[0].model.row_value(0)
    agenda.open_line(line)
    dialog = _dialog(qtbot, agenda)
    qtbot.waitUntil(lambda: agenda.card.invoices.model.rowCount() > 0, timeout=10000)
    card = agenda.card
    models = [
        agenda.columns[0].model,
        agenda.columns[1].model,
        agenda.confirm_model,
        card.invoices.model,
        card.open_items.model,
        card.contact_model,
        card.document_model,
        *card.timeline_models,
        dialog.user_model,
    ]
    for model in models:
        qtmodeltester.check(model, force_py=True)  # type: ignore[no-untyped-call]
    dialog.reject()


def _open_email(agenda: AgendaView, qtbot: QtBot) -> ActionDialog:
    column = agenda.columns[0]
    lines = [column.model.row_value(r) for r in range(column.model.rowCount())]
    email = next(x for x in lines if x.action_type is ActionType.EMAIL)
    agenda.open_line(email)
    return _dialog(qtbot, agenda)


def _action(book_url: str, action_id: str) -> Any:
    database = open_database(book_url)
    try:
        with database.session() as s:
            action = s.get(Action, uuid.UUID(action_id))
            assert action is not None
            return (
                action.status,
                action.reason,
                [d.filename for d in action.documents],
            )
    finally:
        database.dispose()


def test_an_email_is_edited_and_sent_to_the_smtp_server(
    agenda: AgendaView,
    qtbot: QtBot,
    book_url: str,
    smtp: tuple[smtp_server.Inbox, int],
) -> None:
    dialog = _open_email(agenda, qtbot)
    with qtbot.waitSignal(dialog.pages.currentChanged, timeout=10000):
        QTest.keyClick(_focus(dialog.perform_button), Qt.Key.Key_Return)
    editor = dialog.message_editor
    assert editor is not None
    qtbot.waitUntil(lambda: editor.draft is not None, timeout=10000)
    # The contact reads English: the template is rendered in English.
    assert editor.subject_edit.text() == "Reminder \u2013 overdue invoice(s)"
    assert "compta@monnier.example" in editor.recipients_label.text()
    assert editor.body_edit.table_placeholder() in editor.body_edit.toPlainText()
    assert "[[ITEMS_TABLE]]" in editor.body_edit.markup()
    # 1,234.56 overdue less the 100.00 credit note: the action's amount.
    assert "€1,134.56" in editor.body_edit.toPlainText()
    opened: list[str] = []
    editor.open_file = opened.append
    editor.statement_button.click()
    qtbot.waitUntil(lambda: editor.attachments.count() == 1, timeout=10000)
    assert editor.attachment_ids()
    editor.preview_button.click()
    qtbot.waitUntil(lambda: bool(opened), timeout=10000)
    assert opened[0].endswith(".pdf")
    editor.body_edit.append("\nPS: our bank details changed in May.")
    with qtbot.waitSignal(agenda.card.action_performed, timeout=15000) as performed:
        editor.send_button.click()
    assert performed.args[0].action.status is ActionStatus.DONE
    inbox = smtp[0]
    assert len(inbox.messages) == 1
    message = inbox.messages[0].message
    assert message["Subject"] == "Reminder \u2013 overdue invoice(s)"
    assert inbox.messages[0].recipients == ["compta@monnier.example"]
    names = [n for n, _data in smtp_server.attachments(message)]
    assert len(names) == 1
    assert names[0].startswith("statement_18981_")
    assert names[0].endswith(".pdf")
    body = message.get_body(("plain",))
    assert body is not None
    assert "bank details changed" in body.get_content()
    status, reason, documents = _action(book_url, editor.action_id)
    assert status is ActionStatus.DONE
    assert reason is None
    assert any(d.endswith(".eml") for d in documents)

    # The sent statement is among the card's attachments; Enter opens it.
    card = agenda.card
    card.reload()
    qtbot.waitUntil(
        lambda: any(
            card.document_model.row_value(r).filename.startswith("statement_")
            for r in range(card.document_model.rowCount())
        ),
        timeout=10000,
    )
    row = next(
        r
        for r in range(card.document_model.rowCount())
        if card.document_model.row_value(r).filename.startswith("statement_")
    )
    shown: list[str] = []
    card.open_file = shown.append
    card.documents.activated.emit(card.document_model.index(row, 0))
    qtbot.waitUntil(lambda: bool(shown), timeout=10000)
    assert shown[0].endswith(".pdf")
    with open(shown[0], "rb") as fh:
        assert fh.read(5) == b"%PDF-"

    # From the timeline, the action's summary links its documents: the
    # statement opens from there too.
    before = card.action_dialog
    card.open_action(editor.action_id)
    qtbot.waitUntil(lambda: card.action_dialog not in (None, before), timeout=10000)
    summary = card.action_dialog
    assert summary is not None
    links = {
        name: href
        for href, name in re.findall(
            r'<a href="([^"]+)">([^<]+)</a>', summary.documents_label.text()
        )
    }
    assert any(name.endswith(".eml") for name in links)
    statement = next(h for n, h in links.items() if n.startswith("statement_"))
    from_summary: list[str] = []
    summary.open_file = from_summary.append
    summary.documents_label.linkActivated.emit(statement)
    qtbot.waitUntil(lambda: bool(from_summary), timeout=10000)
    with open(from_summary[0], "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    summary.reject()


@pytest.mark.parametrize("smtp", ["down"], indirect=True)
def test_a_send_to_a_server_down_leaves_the_action_pending_with_why(
    agenda: AgendaView, qtbot: QtBot, book_url: str
) -> None:
    dialog = _open_email(agenda, qtbot)
    dialog.perform_button.click()
    editor = dialog.message_editor
    assert editor is not None
    qtbot.waitUntil(lambda: editor.draft is not None, timeout=10000)
    with qtbot.waitSignal(editor.failed, timeout=30000) as failed:
        editor.send_button.click()
    reason = failed.args[0]
    assert "cannot reach the mail server" in reason  # in French: "Email non envoyé"
    assert editor.banner.isVisible()
    assert reason in editor.banner.text()
    assert editor.send_button.isEnabled()
    assert dialog.isVisible()
    status, stored_reason, _documents = _action(book_url, editor.action_id)
    assert status is ActionStatus.PENDING
    assert stored_reason == reason
    dialog.reject()


@pytest.mark.qt_log_ignore(
    "propagateSizeHints", "does not support raise", "does not support grabbing"
)
def test_ctrl_k_completes_a_customer_and_enter_opens_its_card(
    agenda: AgendaView, window: MainWindow, qtbot: QtBot
) -> None:
    QTest.keyClick(window, Qt.Key.Key_K, Qt.KeyboardModifier.ControlModifier)
    assert window.search_edit.hasFocus()
    search = window.quick_search
    with qtbot.waitSignal(search.hits_loaded, timeout=10000) as loaded:
        QTest.keyClicks(window.search_edit, "monn")
    assert loaded.args == [1]
    assert search.model.stringList() == ["18981 - Monnier et Fils"]
    assert search.popup_visible()
    popup = search.completer.popup()
    assert popup is not None
    popup.setCurrentIndex(search.completer.completionModel().index(0, 0))
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        QTest.keyClick(popup, Qt.Key.Key_Return)
    assert agenda.card.title.text().endswith("18981 - Monnier et Fils")


def test_an_invoices_pdf_opens_with_the_system_viewer(
    agenda: AgendaView,
    qtbot: QtBot,
    book_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    pdf = small_pdf(tmp_path / "F-1.pdf")
    database = open_database(book_url)
    try:
        with database.session("setup") as s:
            for item in s.scalars(select(Item).where(Item.number.in_(["F-1", "F-2"]))):
                item.pdf_path = str(pdf if item.number == "F-1" else tmp_path / "x.pdf")
    finally:
        database.dispose()
    opened: list[QUrl] = []

    def open_url(url: QUrl) -> bool:
        opened.append(QUrl(url))
        return True

    monkeypatch.setattr(QDesktopServices, "openUrl", open_url)
    assert agenda.agenda is not None
    monnier = next(
        line for line in agenda.agenda.lines if line.customer_reference == "18981"
    )
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        agenda.open_customer(monnier.customer_id)
    card = agenda.card
    pane = card.invoices
    qtbot.waitUntil(lambda: pane.model.rowCount() == 4, timeout=10000)
    rows = {pane.model.row_value(r).number: r for r in range(pane.model.rowCount())}
    f1 = pane.model.index(rows["F-1"], 0)
    assert pane.model.data(f1, Qt.ItemDataRole.DecorationRole) is not None
    assert "PDF" in pane.model.data(f1, Qt.ItemDataRole.ToolTipRole)

    # No PDF: the button is off, and Enter says so.
    card.tables.setCurrentWidget(pane)
    pane.table.setCurrentIndex(pane.model.index(rows["F-3"], 0))
    assert not pane.pdf_button.isEnabled()
    QTest.keyClick(_focus(pane.table), Qt.Key.Key_Return)
    assert "La pièce F-3 n'a pas de PDF." in card.banner.text()
    assert opened == []

    # Enter on an invoice with its PDF opens it with the system's viewer.
    pane.table.setCurrentIndex(f1)
    assert pane.pdf_button.isEnabled()
    QTest.keyClick(_focus(pane.table), Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: len(opened) == 1, timeout=10000)
    assert opened[0] == QUrl.fromLocalFile(str(pdf))
    with open(opened[0].toLocalFile(), "rb") as fh:
        assert fh.read(5) == b"%PDF-"
    # ... so does a double click, and the "Open PDF" button.
    centre = pane.table.visualRect(f1).center()
    viewport = pane.table.viewport()
    QTest.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    QTest.mouseDClick(viewport, Qt.MouseButton.LeftButton, pos=centre)
    qtbot.waitUntil(lambda: len(opened) == 2, timeout=10000)
    pane.pdf_button.click()
    qtbot.waitUntil(lambda: len(opened) == 3, timeout=10000)
    assert {u.toLocalFile() for u in opened} == {str(pdf)}

    # A PDF whose file is gone: a clear message naming it, nothing opened.
    pane.table.setCurrentIndex(pane.model.index(rows["F-2"], 0))
    pane.pdf_action.trigger()
    qtbot.waitUntil(lambda: "introuvable" in card.banner.text(), timeout=10000)
    assert "F-2" in card.banner.text()
    assert "x.pdf" in card.banner.text()
    assert len(opened) == 3


def _answer_with_enter(asked: list[str]) -> QTimer:
    """Press Enter in the next message box (its default button) once shown."""
    timer = QTimer()

    def look() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            timer.stop()
            asked.append(box.text())
            assert box.defaultButton() is box.button(QMessageBox.StandardButton.Yes)
            QTest.keyClick(box, Qt.Key.Key_Return)

    timer.timeout.connect(look)
    timer.start(50)
    return timer


def test_an_email_saved_as_eml_is_marked_done_when_the_collector_says_so(
    agenda: AgendaView,
    qtbot: QtBot,
    book_url: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "relance.eml"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", lambda *_a, **_k: (str(target), "")
    )
    dialog = _open_email(agenda, qtbot)
    dialog.perform_button.click()
    editor = dialog.message_editor
    assert editor is not None
    qtbot.waitUntil(lambda: editor.draft is not None, timeout=10000)
    assert editor.eml_button.isEnabled()
    asked: list[str] = []
    watch = _answer_with_enter(asked)
    # Saved, the editor asks; Enter takes the default answer, Yes: done.
    with qtbot.waitSignal(agenda.card.action_performed, timeout=15000) as performed:
        editor.eml_button.click()
    watch.stop()
    assert asked[0].startswith("Marquer l'action comme faite ?")
    assert performed.args[0].action.status is ActionStatus.DONE
    assert b"X-Unsent: 1" in target.read_bytes()
    status, reason, documents = _action(book_url, editor.action_id)
    assert (status, reason) == (ActionStatus.DONE, None)
    assert any(d.endswith(".eml") for d in documents)
    database = open_database(book_url)
    try:
        with database.session() as s:
            action = s.get(Action, uuid.UUID(editor.action_id))
            assert action is not None
            assert str(target) in (action.send_log or "")
            assert any(d.kind is DocumentKind.EMAIL for d in action.documents)
    finally:
        database.dispose()


def test_the_colleague_alex_replaces_has_their_agenda_in_the_selector(
    agenda: AgendaView, window: MainWindow, qtbot: QtBot
) -> None:
    combo = agenda.owner_combo
    qtbot.waitUntil(lambda: combo.count() == 2, timeout=10000)
    assert combo.isEnabled()
    assert [combo.itemText(i) for i in range(2)] == ["Alex Rossi", "Julien Boucher"]
    assert combo.currentIndex() == 0  # his own agenda first
    with qtbot.waitSignal(agenda.loaded, timeout=10000):
        combo.setCurrentIndex(1)
    lines = agenda.agenda.lines  # type: ignore[union-attr]
    assert [x.customer_name for x in lines] == ["Allain Mercier et Fils"]
    assert agenda.summary.text().startswith("Julien Boucher")
    # Enter opens the colleague's action on the customer's card.
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        QTest.keyClick(_focus(agenda.columns[0].table), Qt.Key.Key_Return)
    assert agenda.card.title.text().endswith("20001 - Allain Mercier et Fils")
    _dialog(qtbot, agenda).reject()
