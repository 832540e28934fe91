"""The client card ("Fiche de relance client") with its timeline.

Blocks as in the seed: coordinates, contacts, dunning settings, amounts; the
invoices, open items and attachments tables (a page at a time, sorted and
filtered by the service; an item's own PDF and a stored attachment open with
the system's viewer); the timeline in three tabs. Opening the card on an
action opens the action's dialog over it.
"""

from __future__ import annotations

import datetime as dt
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QDir, QModelIndex, QPoint, Qt, Signal, Slot
from PySide6.QtGui import QAction, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QFormLayout,
    QFrame,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMenu,
    QMessageBox,
    QPushButton,
    QScrollArea,
    QSplitter,
    QTableView,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.engine.types import ActionType, ItemKind
from o2c_desktop.engine.workbench import (
    ContactDraft,
    ItemQuery,
    ItemSort,
    NewAction,
    SettingsDraft,
    TimelineTab,
)
from o2c_desktop.i18n import _, format_date, format_money, ngettext
from o2c_desktop.ui import icons
from o2c_desktop.ui.action_dialog import (
    ActionDialog,
    _date_edit,
    _ok_cancel,
    contact_links,
    from_qdate,
)
from o2c_desktop.ui.client_card_risk import RiskPanel
from o2c_desktop.ui.itemmodels import (
    ContactTableModel,
    DocumentTableModel,
    ItemTableModel,
    TimelineTableModel,
)
from o2c_desktop.ui.labels import action_type_label
from o2c_desktop.ui.message_editor import open_with_desktop
from o2c_desktop.ui.timeline_view import TimelineDelegate, timeline_list
from o2c_desktop.ui.widgets import Banner, BusyIndicator

if TYPE_CHECKING:
    from collections.abc import Callable

    from o2c_desktop.engine.book import UserInfo
    from o2c_desktop.engine.risk import RiskCard
    from o2c_desktop.engine.workbench import (
        ContactInfo,
        CustomerCard,
        DunningSettings,
        ItemPage,
        ItemRow,
        TimelinePage,
    )
    from o2c_desktop.ui.ports import WorkbenchCalls
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

ITEM_PAGE = 10
TIMELINE_PAGE = 100
_TABS = (TimelineTab.DUNNING, TimelineTab.DISPUTES, TimelineTab.LITIGATION)


def _table(parent: QWidget, model: Any) -> QTableView:
    view = QTableView(parent)
    view.setModel(model)
    view.setAlternatingRowColors(True)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.setTabKeyNavigation(False)  # Tab leaves the table: sane tab order
    view.verticalHeader().hide()
    view.verticalHeader().setDefaultSectionSize(22)
    view.horizontalHeader().setHighlightSections(False)
    return view


def _caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #546e7a;")
    return label


class ItemsPane(QWidget):
    """A page of invoices or open items with a pager and a number filter.

    Enter, a double click, the "Open PDF" button or the context menu ask for
    the PDF of the current item.

    Signals:
        page_wanted(object): the `ItemQuery` to load.
        pdf_wanted(object): the `ItemRow` whose PDF to open.
    """

    page_wanted = Signal(object)
    pdf_wanted = Signal(object)

    def __init__(self, query: ItemQuery, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.query = query
        self.model = ItemTableModel(parent=self)
        self.model.sort_requested.connect(self._on_model_sort_requested)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        bar = QHBoxLayout()
        self.filter_edit = QLineEdit(self)
        self.filter_edit.setClearButtonEnabled(True)
        self.filter_edit.returnPressed.connect(self._on_filter_edit_return_pressed)
        self.first_button = QPushButton("<<", self)
        self.previous_button = QPushButton("<", self)
        self.next_button = QPushButton(">", self)
        self.last_button = QPushButton(">>", self)
        for button in (
            self.first_button,
            self.previous_button,
            self.next_button,
            self.last_button,
        ):
            button.setMaximumWidth(36)
        self.first_button.clicked.connect(lambda: self._go(0))
        self.previous_button.clicked.connect(
            lambda: self._go(self.query.offset - self.query.limit)
        )
        self.next_button.clicked.connect(
            lambda: self._go(self.query.offset + self.query.limit)
        )
        self.last_button.clicked.connect(self._go_last)
        self.range_label = QLabel(self)
        self.pdf_button = QPushButton(icons.icon("pdf"), "", self)
        self.pdf_button.setEnabled(False)
        self.pdf_button.clicked.connect(self._on_pdf_button_clicked)
        bar.addWidget(self.filter_edit, 1)
        bar.addWidget(self.pdf_button)
        bar.addWidget(self.first_button)
        bar.addWidget(self.previous_button)
        bar.addWidget(self.next_button)
        bar.addWidget(self.last_button)
        bar.addWidget(self.range_label)
        layout.addLayout(bar)
        self.table = _table(self, self.model)
        self.table.setSortingEnabled(True)
        self.table.horizontalHeader().setSortIndicator(4, Qt.SortOrder.AscendingOrder)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.table.activated.connect(self._on_table_activated)
        self.table.selectionModel().currentRowChanged.connect(self._show_pdf_state)
        self.model.modelReset.connect(self._show_pdf_state)
        self.table.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.table.customContextMenuRequested.connect(self._on_table_context_menu)
        self.pdf_action = QAction(icons.icon("pdf"), "", self)
        self.pdf_action.triggered.connect(self._on_pdf_button_clicked)
        layout.addWidget(self.table, 1)
        self.retranslate_ui()

    def retranslate_ui(self) -> None:
        """Show every text in the current language."""
        self.filter_edit.setPlaceholderText(_("Filter by number"))
        self.first_button.setToolTip(_("First page"))
        self.previous_button.setToolTip(_("Previous page"))
        self.next_button.setToolTip(_("Next page"))
        self.last_button.setToolTip(_("Last page"))
        self.pdf_button.setText(_("Open &PDF"))
        self.pdf_button.setToolTip(_("Open the PDF of the selected item (Enter)"))
        self.pdf_action.setText(_("Open PDF"))
        self._show_range()

    def current_row(self) -> ItemRow | None:
        """The item of the table's current row, if any."""
        index = self.table.currentIndex()
        if not index.isValid() or index.row() >= self.model.rowCount():
            return None
        return self.model.row_value(index.row())

    def set_page(self, page: ItemPage) -> None:
        """Show a page the service returned."""
        self.query = page.query
        self.model.set_page(page)
        self._show_range()

    def _show_range(self) -> None:
        total = self.model.total
        first = self.query.offset + 1 if total else 0
        last = min(self.query.offset + self.query.limit, total)
        self.range_label.setText(
            _("Results {first} to {last} of {total}").format(
                first=first, last=last, total=total
            )
        )
        self.first_button.setEnabled(self.query.offset > 0)
        self.previous_button.setEnabled(self.query.offset > 0)
        self.next_button.setEnabled(last < total)
        self.last_button.setEnabled(last < total)

    def _go(self, offset: int) -> None:
        offset = max(0, min(offset, max(0, self.model.total - 1)))
        self._want(offset=offset)

    def _go_last(self) -> None:
        limit = self.query.limit
        self._want(offset=max(0, (self.model.total - 1) // limit * limit))

    def _want(self, **changes: Any) -> None:
        from dataclasses import replace

        self.page_wanted.emit(replace(self.query, **changes))

    def _show_pdf_state(self) -> None:
        row = self.current_row()
        self.pdf_button.setEnabled(row is not None and row.has_pdf)

    @Slot(QModelIndex)
    def _on_table_activated(self, index: QModelIndex) -> None:
        if index.isValid():
            self.pdf_wanted.emit(self.model.row_value(index.row()))

    @Slot()
    def _on_pdf_button_clicked(self) -> None:
        row = self.current_row()
        if row is not None:
            self.pdf_wanted.emit(row)

    @Slot(QPoint)
    def _on_table_context_menu(self, pos: QPoint) -> None:
        index = self.table.indexAt(pos)
        if not index.isValid():
            return
        self.table.setCurrentIndex(index)
        self.pdf_action.setEnabled(self.model.row_value(index.row()).has_pdf)
        menu = QMenu(self.table)
        menu.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        menu.addAction(self.pdf_action)
        menu.popup(self.table.viewport().mapToGlobal(pos))

    @Slot(object, bool)
    def _on_model_sort_requested(self, sort: ItemSort, descending: bool) -> None:
        self._want(sort=sort, descending=descending, offset=0)

    @Slot()
    def _on_filter_edit_return_pressed(self) -> None:
        self._want(search=self.filter_edit.text(), offset=0)


class ClientCardView(QWidget):
    """One customer's card and timeline, opened from the agenda or the list.

    Signals:
        back_requested(): "back to the agenda".
        next_requested(): open the agenda's next action.
        action_performed(object): an action was performed (`PerformResult`).
        loaded(): the card's blocks are shown.
        changed(): something of the customer was written.
    """

    back_requested = Signal()
    next_requested = Signal()
    action_performed = Signal(object)
    loaded = Signal()
    changed = Signal()

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.setObjectName("client_card")
        self.runner = runner
        self.today = today
        self.language = "fr"
        self.workbench: WorkbenchCalls | None = None
        # The risk block's query (issue 19); None: no risk data shown.
        self.risk_card: Callable[[int, dt.date], RiskCard] | None = None
        self.card: CustomerCard | None = None
        self.customer_id: int | None = None
        self.users: tuple[UserInfo, ...] = ()
        self.action_dialog: ActionDialog | None = None
        self._pending_action: str | None = None
        self._generation = 0
        self._build()
        QShortcut(QKeySequence("Alt+Left"), self, self.back_requested.emit)
        QShortcut(QKeySequence("Ctrl+Shift+N"), self, self._on_new_action_clicked)
        self.retranslate_ui(self.language)

    # -- public -------------------------------------------------------------------

    def set_workbench(self, workbench: WorkbenchCalls | None) -> None:
        """Use `workbench` for every query (None: no database open)."""
        self.workbench = workbench
        self.users = ()
        if workbench is not None:
            self.runner.run_read(workbench.users, self._on_users_loaded)

    def set_risk(self, risk_card: Callable[[int, dt.date], RiskCard] | None) -> None:
        """Show the risk block from `risk_card(customer_id, today)` (issue 19)."""
        self.risk_card = risk_card
        if risk_card is None:
            self.risk_panel.set_card(None)

    def open_customer(self, customer_id: int, action_id: str | None = None) -> None:
        """Load the card of `customer_id`; open `action_id`'s dialog over it."""
        self.customer_id = customer_id
        self._pending_action = action_id
        self.reload()

    def reload(self) -> None:
        """Load the card, its tables and its timeline again."""
        workbench, customer_id = self.workbench, self.customer_id
        if workbench is None or customer_id is None:
            return
        self._generation += 1
        generation = self._generation
        today = self.today()
        self.busy.start(_("Loading…"))
        self.runner.run_read(
            lambda: workbench.customer_card(customer_id, today),
            lambda card: self._on_card_loaded(generation, card),
            lambda exc: self._on_failed(generation, exc),
        )
        for pane in (self.invoices, self.open_items):
            self._load_items(pane, pane.query)
        self._load_timeline()
        risk_card = self.risk_card
        if risk_card is not None:
            self.runner.run_read(
                lambda: risk_card(customer_id, today),
                lambda card: self._on_risk_loaded(generation, card),
                lambda exc: self._on_failed(generation, exc),
            )

    def open_action(self, action_id: str) -> None:
        """Open the dialog of one action of this customer."""
        workbench = self.workbench
        if workbench is None:
            return
        today = self.today()
        self.runner.run_read(
            lambda: workbench.action_detail(action_id, today),
            self._on_detail_loaded,
            self._on_error,
        )

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language`."""
        self.language = language
        self.risk_panel.retranslate_ui(language)
        self.back_button.setText(_("Back to the agenda"))
        self.back_button.setToolTip(_("Back to the agenda (Alt+Left)"))
        self.next_button.setText(_("Next action"))
        self.new_action_button.setText(_("+ New action"))
        self.new_action_button.setToolTip(_("Create a manual action (Ctrl+Shift+N)"))
        self.coordinates_box.setTitle(_("Coordinates"))
        self.contacts_box.setTitle(_("Contacts"))
        self.settings_box.setTitle(_("Dunning settings"))
        self.amounts_box.setTitle(_("Amount calculations"))
        self.timeline_box.setTitle(_("Timeline"))
        self.add_contact_button.setText(_("Add"))
        self.edit_contact_button.setText(_("Edit"))
        self.mark_contact_button.setText(_("Dunning contact"))
        self.delete_contact_button.setText(_("Delete"))
        self.edit_settings_button.setText(_("Edit…"))
        self.tables.setTabText(0, _("Invoices"))
        self.tables.setTabText(1, _("Open items"))
        self.tables.setTabText(2, _("Attachments"))
        self._show_tab_titles()
        for view in getattr(self, "timeline_views", ()):
            delegate = view.itemDelegate()
            if isinstance(delegate, TimelineDelegate):
                delegate.language = language
        models: list[Any] = [
            self.contact_model,
            self.document_model,
            self.invoices.model,
            self.open_items.model,
            *self.timeline_models,
        ]
        for model in models:
            model.retranslate(language)
        self.invoices.retranslate_ui()
        self.open_items.retranslate_ui()
        self._show_card()

    # -- building -------------------------------------------------------------------

    def _build(self) -> None:
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        top = QHBoxLayout()
        self.back_button = QPushButton(icons.icon("back"), "", self)
        self.back_button.clicked.connect(self.back_requested.emit)
        self.title = QLabel(self)
        self.title.setObjectName("card_title")
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.35)
        font.setBold(True)
        self.title.setFont(font)
        self.subtitle = QLabel(self)
        self.next_button = QPushButton(icons.icon("next"), "", self)
        self.next_button.clicked.connect(self.next_requested.emit)
        top.addWidget(self.back_button)
        top.addWidget(self.title)
        top.addWidget(self.subtitle, 1)
        top.addWidget(self.next_button)
        layout.addLayout(top)
        self.banner = Banner(self)
        self.busy = BusyIndicator(self)
        layout.addWidget(self.banner)
        layout.addWidget(self.busy)

        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.setObjectName("card_splitter")
        left = QSplitter(Qt.Orientation.Vertical, self.splitter)
        left.setObjectName("card_left_splitter")
        scroll = QScrollArea(left)
        scroll.setWidgetResizable(True)
        scroll.setFrameShape(QFrame.Shape.NoFrame)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        blocks = QWidget(scroll)
        grid = QGridLayout(blocks)
        grid.setContentsMargins(0, 0, 6, 0)
        self.coordinates_box = QGroupBox(blocks)
        self.coordinates = QFormLayout(self.coordinates_box)
        self.contacts_box = QGroupBox(blocks)
        self._build_contacts()
        self.settings_box = QGroupBox(blocks)
        settings = QHBoxLayout(self.settings_box)
        self.settings_label = QLabel(self.settings_box)
        self.settings_label.setWordWrap(True)
        self.edit_settings_button = QPushButton(self.settings_box)
        self.edit_settings_button.clicked.connect(self._on_edit_settings_clicked)
        settings.addWidget(self.settings_label, 1)
        settings.addWidget(self.edit_settings_button)
        self.amounts_box = QGroupBox(blocks)
        self.amounts = QGridLayout(self.amounts_box)
        self.extra_label = QLabel(blocks)
        self.extra_label.setWordWrap(True)
        grid.addWidget(self.coordinates_box, 0, 0)
        grid.addWidget(self.amounts_box, 0, 1)
        grid.addWidget(self.contacts_box, 1, 0, 1, 2)
        grid.addWidget(self.settings_box, 2, 0, 1, 2)
        grid.addWidget(self.extra_label, 3, 0, 1, 2)
        self.risk_panel = RiskPanel(blocks)
        grid.addWidget(self.risk_panel, 4, 0, 1, 2)
        grid.setColumnStretch(0, 1)
        grid.setColumnStretch(1, 1)
        grid.setRowStretch(5, 1)
        scroll.setWidget(blocks)

        self.tables = QTabWidget(left)
        self.invoices = ItemsPane(
            ItemQuery(limit=ITEM_PAGE, kinds=(ItemKind.INVOICE,)), self.tables
        )
        self.open_items = ItemsPane(
            ItemQuery(limit=ITEM_PAGE, open_only=True), self.tables
        )
        for pane in (self.invoices, self.open_items):
            pane.page_wanted.connect(lambda query, p=pane: self._load_items(p, query))
            pane.pdf_wanted.connect(self._on_item_pdf_wanted)
        self.document_model = DocumentTableModel(parent=self)
        self.documents = _table(self.tables, self.document_model)
        # Enter or a double click opens the PDF with the system's viewer.
        self.documents.activated.connect(self._on_documents_activated)
        self.open_file: Callable[[str], None] = open_with_desktop
        self.documents.horizontalHeader().setSectionResizeMode(
            0, QHeaderView.ResizeMode.Stretch
        )
        self.tables.addTab(self.invoices, "")
        self.tables.addTab(self.open_items, "")
        self.tables.addTab(self.documents, "")
        left.addWidget(scroll)
        left.addWidget(self.tables)
        left.setStretchFactor(0, 3)
        left.setStretchFactor(1, 2)

        self.timeline_box = QGroupBox(self.splitter)
        timeline = QVBoxLayout(self.timeline_box)
        bar = QHBoxLayout()
        self.new_action_button = QPushButton(self.timeline_box)
        self.new_action_button.clicked.connect(self._on_new_action_clicked)
        bar.addWidget(self.new_action_button)
        bar.addStretch(1)
        timeline.addLayout(bar)
        self.timeline_tabs = QTabWidget(self.timeline_box)
        self.timeline_models = [TimelineTableModel(parent=self) for _tab in _TABS]
        self.timeline_views = []
        for model in self.timeline_models:
            view = timeline_list(model, self.language, self.timeline_tabs)
            view.activated.connect(self._on_timeline_activated)
            self.timeline_views.append(view)
            self.timeline_tabs.addTab(view, "")
        self.timeline_tabs.currentChanged.connect(lambda _i: self._load_timeline())
        timeline.addWidget(self.timeline_tabs, 1)
        self.splitter.addWidget(left)
        self.splitter.addWidget(self.timeline_box)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setSizes([780, 500])
        layout.addWidget(self.splitter, 1)

    def _build_contacts(self) -> None:
        box = self.contacts_box
        layout = QVBoxLayout(box)
        self.contact_model = ContactTableModel(parent=self)
        self.contacts = _table(box, self.contact_model)
        self.contacts.setMaximumHeight(110)
        header = self.contacts.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)
        self.contacts.selectionModel().currentRowChanged.connect(
            self._on_contact_selected
        )
        self.contacts.activated.connect(lambda _i: self._on_edit_contact_clicked())
        self.contact_links = QLabel(box)
        self.contact_links.setWordWrap(True)
        self.contact_links.setOpenExternalLinks(True)
        self.contact_links.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextBrowserInteraction
        )
        buttons = QHBoxLayout()
        self.add_contact_button = QPushButton(box)
        self.edit_contact_button = QPushButton(box)
        self.mark_contact_button = QPushButton(box)
        self.delete_contact_button = QPushButton(box)
        self.add_contact_button.clicked.connect(self._on_add_contact_clicked)
        self.edit_contact_button.clicked.connect(self._on_edit_contact_clicked)
        self.mark_contact_button.clicked.connect(self._on_mark_contact_clicked)
        self.delete_contact_button.clicked.connect(self._on_delete_contact_clicked)
        for button in (
            self.add_contact_button,
            self.edit_contact_button,
            self.mark_contact_button,
            self.delete_contact_button,
        ):
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addWidget(self.contacts)
        layout.addWidget(self.contact_links)
        layout.addLayout(buttons)

    # -- showing -------------------------------------------------------------------

    def _show_card(self) -> None:
        card = self.card
        if card is None:
            self.title.setText("")
            self.subtitle.setText("")
            return
        lang = self.language
        self.title.setText(
            _("Dunning card: {reference} - {name}").format(
                reference=card.reference, name=card.name
            )
        )
        self.subtitle.setText(
            "   " + _("Portfolio: {name}").format(name=card.portfolio or "-")
        )
        while self.coordinates.rowCount():
            self.coordinates.removeRow(0)
        dunning = card.dunning_contact
        rows = [
            (_("Customer reference"), card.reference),
            (_("Company name"), card.name),
            (_("Customer contact"), dunning.name if dunning else "-"),
            (_("Address"), "\n".join(card.address) or "-"),
            (_("Phone"), _phone(card.phone)),
            (_("Email"), _mail(card.email)),
            (_("SIREN"), card.legal_id or "-"),
        ]
        for label, value in rows:
            shown = QLabel(value, self.coordinates_box)
            shown.setOpenExternalLinks(True)
            shown.setTextInteractionFlags(Qt.TextInteractionFlag.TextBrowserInteraction)
            self.coordinates.addRow(_caption(label, self.coordinates_box), shown)
        self.contact_model.set_rows(card.contacts)
        if card.contacts:
            self.contacts.selectRow(0)
        self._on_contact_selected()
        settings = card.settings
        self.settings_label.setText(_settings_text(settings, lang))
        self.edit_settings_button.setEnabled(settings.editable)
        self.edit_settings_button.setToolTip(
            ""
            if settings.editable
            else _("Only a credit manager or an administrator may change them.")
        )
        self._show_amounts()
        extra = [_reliability_text(card)]
        if card.risk_score is not None:
            score = f"{card.risk_score:.1f}".replace(".", "," if lang == "fr" else ".")
            extra.append(_("Risk score: {score}/10").format(score=score))
        if card.insolvency:
            extra.append(_("Insolvency: {what}").format(what=card.insolvency))
        if card.on_hold:
            until = format_date(card.hold_until, lang) if card.hold_until else "-"
            extra.append(
                _("On hold until {until}: {reason}").format(
                    until=until, reason=card.hold_reason or "-"
                )
            )
        self.extra_label.setText("   ·   ".join(extra))
        self.document_model.set_rows(card.attachments)

    def _show_amounts(self) -> None:
        while self.amounts.count():
            item = self.amounts.takeAt(0)
            widget = item.widget() if item is not None else None
            if widget is not None:
                widget.deleteLater()
        card = self.card
        if card is None:
            return
        a = card.amounts
        lang = self.language

        def money(value: Any) -> str:
            return format_money(value, a.currency, lang)

        dso = ngettext("{n} day", "{n} days", a.dso).format(n=a.dso) if a.dso else "-"
        cells = [
            (_("Total amount"), money(a.total), _("Overdue amount"), money(a.overdue)),
            (
                _("Partial payments"),
                money(a.partial_payments),
                _("Disputed amount"),
                money(a.disputed) if a.disputed else "-",
            ),
            (
                _("Unapplied payments"),
                money(a.unapplied),
                _("Litigation amount"),
                money(a.litigation) if a.litigation else "-",
            ),
            (_("Outstanding"), money(a.outstanding), _("DSO"), dso),
        ]
        right = Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        # One pair a line: the block fits beside the coordinates, never cut.
        pairs = [(c1, v1) for c1, v1, _c2, _v2 in cells]
        pairs += [(c2, v2) for _c1, _v1, c2, v2 in cells]
        for row, (caption, value) in enumerate(pairs):
            label = _caption(caption, self.amounts_box)
            shown = QLabel(value, self.amounts_box)
            shown.setAlignment(right)
            font = shown.font()
            font.setBold(True)
            shown.setFont(font)
            self.amounts.addWidget(label, row, 0)
            self.amounts.addWidget(shown, row, 1)
        self.amounts.setColumnStretch(1, 1)

    def _show_tab_titles(self) -> None:
        titles = (_("Dunning"), _("Disputes"), _("Litigation"))
        for index, (model, title) in enumerate(
            zip(self.timeline_models, titles, strict=True)
        ):
            total = model.total
            self.timeline_tabs.setTabText(
                index, f"{title} ({total})" if total else title
            )

    # -- loading ----------------------------------------------------------------------

    def _load_items(self, pane: ItemsPane, query: ItemQuery) -> None:
        workbench, customer_id = self.workbench, self.customer_id
        if workbench is None or customer_id is None:
            return
        generation, today = self._generation, self.today()
        self.runner.run_read(
            lambda: workbench.items(customer_id, query, today),
            lambda page: self._on_items_loaded(generation, pane, page),
            lambda exc: self._on_failed(generation, exc),
        )

    def _load_timeline(self) -> None:
        workbench, customer_id = self.workbench, self.customer_id
        if workbench is None or customer_id is None:
            return
        generation = self._generation
        tab = _TABS[max(0, self.timeline_tabs.currentIndex())]
        self.runner.run_read(
            lambda: workbench.timeline(customer_id, tab, limit=TIMELINE_PAGE),
            lambda page: self._on_timeline_loaded(generation, page),
            lambda exc: self._on_failed(generation, exc),
        )

    def _on_users_loaded(self, users: tuple[UserInfo, ...]) -> None:
        self.users = users

    def _on_card_loaded(self, generation: int, card: CustomerCard) -> None:
        if generation != self._generation:
            return
        self.busy.stop()
        self.banner.clear_message()
        self.card = card
        self._show_card()
        self.loaded.emit()
        if self._pending_action is not None:
            action_id, self._pending_action = self._pending_action, None
            self.open_action(action_id)

    def _on_risk_loaded(self, generation: int, card: RiskCard) -> None:
        if generation == self._generation:
            currency = self.card.amounts.currency if self.card else "EUR"
            self.risk_panel.set_card(card, currency)

    def _on_items_loaded(
        self, generation: int, pane: ItemsPane, page: ItemPage
    ) -> None:
        if generation == self._generation:
            pane.set_page(page)

    def _on_timeline_loaded(self, generation: int, page: TimelinePage) -> None:
        if generation != self._generation:
            return
        for tab, model in zip(_TABS, self.timeline_models, strict=True):
            if tab == page.tab:
                model.set_page(page)
            else:
                model.total = page.counts.get(tab, 0)
        self._show_tab_titles()

    def _on_failed(self, generation: int, exc: BaseException) -> None:
        if generation == self._generation:
            self._on_error(exc)

    def _on_error(self, exc: BaseException) -> None:
        self.busy.stop()
        self.banner.show_error(self.runner.message_for(exc))

    def _on_detail_loaded(self, detail: Any) -> None:
        workbench = self.workbench
        if workbench is None:
            return
        contacts = self.card.contacts if self.card else ()
        dialog = ActionDialog(
            self.runner,
            workbench,
            detail,
            today=self.today(),
            users=self.users,
            contacts=contacts,
            reasons=workbench.dispute_reasons(),
            language=self.language,
            parent=self,
        )
        dialog.performed.connect(self._on_action_performed)
        dialog.changed.connect(self._on_something_changed)
        dialog.finished.connect(lambda _r: self._forget_dialog(dialog))
        self.action_dialog = dialog
        dialog.open()

    def _forget_dialog(self, dialog: ActionDialog) -> None:
        if self.action_dialog is dialog:
            self.action_dialog = None
        dialog.deleteLater()

    def _on_action_performed(self, result: Any) -> None:
        self.action_performed.emit(result)
        self._on_something_changed()
        self.next_button.setFocus(Qt.FocusReason.OtherFocusReason)

    def _on_something_changed(self) -> None:
        self.changed.emit()
        self.reload()

    def _write(self, call: Callable[[], Any]) -> None:
        self.runner.run_write(
            call, lambda _r: self._on_something_changed(), self._on_error
        )

    # -- slots ------------------------------------------------------------------

    @Slot(QModelIndex)
    def _on_documents_activated(self, index: QModelIndex) -> None:
        workbench = self.workbench
        if workbench is None or not index.isValid():
            return
        doc = self.document_model.row_value(index.row())
        folder = str(Path(QDir.tempPath()) / "o2c_desktop")
        self.runner.run_read(
            lambda: workbench.document_file(doc.id, folder),
            lambda path: self.open_file(str(path)),
            lambda exc: self.banner.show_error(self.runner.message_for(exc)),
        )

    @Slot(object)
    def _on_item_pdf_wanted(self, row: ItemRow) -> None:
        workbench = self.workbench
        if workbench is None:
            return
        if not row.has_pdf:
            self.banner.show_info(
                _("Item {number} has no PDF.").format(number=row.number)
            )
            return
        item_id = row.id
        self.runner.run_read(
            lambda: workbench.item_pdf(item_id),
            lambda path: self.open_file(str(path)),
            lambda exc: self.banner.show_error(self.runner.message_for(exc)),
        )

    @Slot()
    def _on_contact_selected(self) -> None:
        contact = self._selected_contact()
        self.contact_links.setText(contact_links(contact) if contact else "")
        for button in (
            self.edit_contact_button,
            self.mark_contact_button,
            self.delete_contact_button,
        ):
            button.setEnabled(contact is not None)

    def _selected_contact(self) -> ContactInfo | None:
        index = self.contacts.currentIndex()
        if not index.isValid():
            return None
        return self.contact_model.row_value(index.row())

    @Slot()
    def _on_add_contact_clicked(self) -> None:
        self._edit_contact(None)

    @Slot()
    def _on_edit_contact_clicked(self) -> None:
        contact = self._selected_contact()
        if contact is not None:
            self._edit_contact(contact)

    def _edit_contact(self, contact: ContactInfo | None) -> None:
        workbench, customer_id = self.workbench, self.customer_id
        if workbench is None or customer_id is None:
            return
        dialog = ContactDialog(contact, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        draft = dialog.draft()
        self._write(lambda: workbench.save_contact(customer_id, draft))

    @Slot()
    def _on_mark_contact_clicked(self) -> None:
        workbench, customer_id = self.workbench, self.customer_id
        contact = self._selected_contact()
        if workbench is None or customer_id is None or contact is None:
            return
        draft = _draft_of(contact, is_dunning_contact=True)
        self._write(lambda: workbench.save_contact(customer_id, draft))

    @Slot()
    def _on_delete_contact_clicked(self) -> None:
        workbench = self.workbench
        contact = self._selected_contact()
        if workbench is None or contact is None:
            return
        answer = QMessageBox.question(
            self, _("Delete"), _("Delete the contact {name}?").format(name=contact.name)
        )
        if answer == QMessageBox.StandardButton.Yes:
            self._write(lambda: workbench.delete_contact(contact.id, contact.version))

    @Slot()
    def _on_edit_settings_clicked(self) -> None:
        workbench, card = self.workbench, self.card
        if workbench is None or card is None:
            return
        dialog = SettingsDialog(card.id, card.settings, self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        draft = dialog.draft()
        self._write(lambda: workbench.update_dunning_settings(draft))

    @Slot()
    def _on_new_action_clicked(self) -> None:
        workbench, card = self.workbench, self.card
        if workbench is None or card is None:
            return
        dialog = NewActionDialog(card, self.users, self.today(), self)
        if dialog.exec() != QDialog.DialogCode.Accepted:
            return
        new = dialog.new_action()
        today = self.today()
        self._write(lambda: workbench.create_action(new, today))

    @Slot(object)
    def _on_timeline_activated(self, index: Any) -> None:
        view = self.timeline_views[self.timeline_tabs.currentIndex()]
        model = view.model()
        assert isinstance(model, TimelineTableModel)
        self.open_action(model.row_value(index.row()).action_id)


def _phone(number: str | None) -> str:
    from o2c_desktop.ui.action_dialog import phone_link

    return phone_link(number) or "-"


def _mail(address: str | None) -> str:
    from o2c_desktop.ui.action_dialog import mail_link

    return mail_link(address) or "-"


def _settings_text(settings: DunningSettings, language: str) -> str:
    start = format_date(settings.start, language) if settings.start else "-"
    parts = [
        _("Start date: {day}").format(day=start),
        _("Dunning type: {type}").format(type=settings.dunning_type or "-"),
        _("Scenario: {name}").format(
            name=settings.scenario.name if settings.scenario else "-"
        ),
        _("Collector: {name}").format(
            name=settings.collector.name if settings.collector else "-"
        ),
    ]
    return "     ".join(parts)


def _reliability_text(card: CustomerCard) -> str:
    r = card.reliability
    if r.made == 0:
        return _("Promise reliability: no promise decided in 12 months")
    return _("Promise reliability: {kept}/{made} kept").format(kept=r.kept, made=r.made)


def _draft_of(contact: ContactInfo, *, is_dunning_contact: bool) -> ContactDraft:
    return ContactDraft(
        name=contact.name,
        id=contact.id,
        version=contact.version,
        role=contact.role,
        function=contact.function,
        language=contact.language,
        phone=contact.phone,
        mobile=contact.mobile,
        email=contact.email,
        is_dunning_contact=is_dunning_contact,
    )


class ContactDialog(QDialog):
    """Add or edit a contact of the customer."""

    def __init__(
        self, contact: ContactInfo | None, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.contact = contact
        self.setWindowTitle(_("Edit the contact") if contact else _("Add a contact"))
        form = QFormLayout(self)
        self.name = QLineEdit(contact.name if contact else "", self)
        self.function = QLineEdit((contact.function or "") if contact else "", self)
        self.role = QLineEdit((contact.role or "") if contact else "", self)
        self.language = QComboBox(self)
        for code in ("", "fr", "en", "es", "de", "it", "nl"):
            self.language.addItem(code.upper() or "-", code)
        if contact and contact.language:
            self.language.setCurrentIndex(
                max(0, self.language.findData(contact.language))
            )
        self.phone = QLineEdit((contact.phone or "") if contact else "", self)
        self.mobile = QLineEdit((contact.mobile or "") if contact else "", self)
        self.email = QLineEdit((contact.email or "") if contact else "", self)
        self.dunning = QCheckBox(_("Dunning contact"), self)
        self.dunning.setChecked(bool(contact and contact.is_dunning_contact))
        form.addRow(_("Name:"), self.name)
        form.addRow(_("Function:"), self.function)
        form.addRow(_("Role:"), self.role)
        form.addRow(_("Language:"), self.language)
        form.addRow(_("Phone:"), self.phone)
        form.addRow(_("Mobile:"), self.mobile)
        form.addRow(_("Email:"), self.email)
        form.addRow(self.dunning)
        form.addRow(_ok_cancel(self))

    def draft(self) -> ContactDraft:
        """The contact the form describes."""
        c = self.contact
        return ContactDraft(
            name=self.name.text(),
            id=c.id if c else None,
            version=c.version if c else None,
            role=self.role.text(),
            function=self.function.text(),
            language=self.language.currentData(),
            phone=self.phone.text(),
            mobile=self.mobile.text(),
            email=self.email.text(),
            is_dunning_contact=self.dunning.isChecked(),
        )


class SettingsDialog(QDialog):
    """Change how a customer is dunned (credit manager, administrator)."""

    def __init__(
        self, customer_id: int, settings: DunningSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.customer_id = customer_id
        self.settings = settings
        self.setWindowTitle(_("Dunning settings"))
        form = QFormLayout(self)
        self.start_check = QCheckBox(self)
        self.start_check.setChecked(settings.start is not None)
        self.start = _date_edit(self, settings.start or dt.date(2000, 1, 1))
        start_row = QHBoxLayout()
        start_row.addWidget(self.start_check)
        start_row.addWidget(self.start, 1)
        self.dunning_type = QLineEdit(settings.dunning_type or "", self)
        self.scenario = QComboBox(self)
        self.scenario.addItem("-", None)
        for choice in settings.scenarios:
            self.scenario.addItem(choice.name, choice.id)
        if settings.scenario:
            self.scenario.setCurrentIndex(
                max(0, self.scenario.findData(settings.scenario.id))
            )
        self.collector = QComboBox(self)
        self.collector.addItem("-", None)
        for choice in settings.collectors:
            self.collector.addItem(choice.name, choice.id)
        if settings.collector:
            self.collector.setCurrentIndex(
                max(0, self.collector.findData(settings.collector.id))
            )
        form.addRow(_("Start date:"), start_row)
        form.addRow(_("Dunning type:"), self.dunning_type)
        form.addRow(_("Scenario:"), self.scenario)
        form.addRow(_("Collector:"), self.collector)
        form.addRow(_ok_cancel(self))

    def draft(self) -> SettingsDraft:
        """The settings the form describes, based on the version shown."""
        return SettingsDraft(
            customer_id=self.customer_id,
            version=self.settings.version,
            start=from_qdate(self.start.date())
            if self.start_check.isChecked()
            else None,
            dunning_type=self.dunning_type.text(),
            scenario_id=self.scenario.currentData(),
            collector_id=self.collector.currentData(),
        )


class NewActionDialog(QDialog):
    """A manual action of any type ("+ Nouvelle action")."""

    def __init__(
        self,
        card: CustomerCard,
        users: tuple[UserInfo, ...],
        today: dt.date,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.card = card
        self.setWindowTitle(_("New action"))
        form = QFormLayout(self)
        self.type_combo = QComboBox(self)
        for kind in ActionType:
            self.type_combo.addItem(
                icons.action_icon(kind), action_type_label(kind), kind.value
            )
        self.type_combo.setCurrentIndex(
            self.type_combo.findData(ActionType.PHONE_CALL.value)
        )
        self.date_edit = _date_edit(self, today)
        self.subject = QLineEdit(self)
        self.assignee = QComboBox(self)
        self.assignee.addItem(_("The customer's collector"), None)
        for user in users:
            self.assignee.addItem(user.full_name, user.id)
        self.contact = QComboBox(self)
        self.contact.addItem(_("(no contact)"), None)
        for contact in card.contacts:
            self.contact.addItem(contact.name, contact.id)
        dunning = card.dunning_contact
        if dunning is not None:
            self.contact.setCurrentIndex(max(0, self.contact.findData(dunning.id)))
        self.comment = QLineEdit(self)
        form.addRow(_("Action type:"), self.type_combo)
        form.addRow(_("Processing date:"), self.date_edit)
        form.addRow(_("Subject:"), self.subject)
        form.addRow(_("Assigned to:"), self.assignee)
        form.addRow(_("Customer contact:"), self.contact)
        form.addRow(_("Comment:"), self.comment)
        form.addRow(_ok_cancel(self))

    def new_action(self) -> NewAction:
        """The action the form describes."""
        return NewAction(
            customer_id=self.card.id,
            action_type=ActionType(self.type_combo.currentData()),
            planned_date=from_qdate(self.date_edit.date()),
            subject=self.subject.text(),
            assignee_id=self.assignee.currentData(),
            contact_id=self.contact.currentData(),
            comment=self.comment.text(),
        )
