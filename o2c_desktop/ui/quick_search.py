"""Ctrl+K: find a customer as you type and open the card with Enter.

The line edit's text is searched by name, reference, SIREN or invoice number
(`WorkbenchCalls.search_customers`) on the read pool, 250 ms after the last
key, and the hits pop up under it through a `QCompleter`.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QStringListModel, Qt, QTimer, Signal, Slot
from PySide6.QtWidgets import QCompleter

if TYPE_CHECKING:
    from collections.abc import Callable

    from PySide6.QtWidgets import QLineEdit

    from o2c_desktop.ui.ports import WorkbenchCalls
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)

DEBOUNCE_MS = 250
MIN_CHARS = 2


class QuickSearch(QObject):
    """A completion pop-up of customers under a line edit.

    Signals:
        customer_chosen(int): the id of the customer picked in the pop-up.
        hits_loaded(int): how many customers the last search found.
    """

    customer_chosen = Signal(int)
    hits_loaded = Signal(int)

    def __init__(
        self,
        edit: QLineEdit,
        runner: TaskRunner,
        calls: Callable[[], WorkbenchCalls | None],
        *,
        delay_ms: int = DEBOUNCE_MS,
    ) -> None:
        super().__init__(edit)
        self.edit = edit
        self.runner = runner
        self.calls = calls
        self.model = QStringListModel(self)
        self.completer = QCompleter(self.model, edit)
        self.completer.setCompletionMode(
            QCompleter.CompletionMode.UnfilteredPopupCompletion
        )
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        self.completer.setWidget(edit)
        self.completer.activated.connect(self._on_completer_activated)
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(delay_ms)
        self.timer.timeout.connect(self._on_timer_timeout)
        edit.textEdited.connect(self._on_edit_text_edited)
        self._hits: dict[str, int] = {}
        self._generation = 0

    def popup_visible(self) -> bool:
        """True while the pop-up shows hits."""
        popup = self.completer.popup()
        return popup is not None and popup.isVisible()

    def search_now(self) -> None:
        """Search the current text without waiting (tests, the search button)."""
        self.timer.stop()
        self._on_timer_timeout()

    # -- slots ----------------------------------------------------------------

    @Slot(str)
    def _on_edit_text_edited(self, _text: str) -> None:
        self.timer.start()

    @Slot()
    def _on_timer_timeout(self) -> None:
        term = self.edit.text().strip()
        calls = self.calls()
        self._generation += 1
        if calls is None or len(term) < MIN_CHARS:
            self.model.setStringList([])
            popup = self.completer.popup()
            if popup is not None:
                popup.hide()
            return
        generation = self._generation
        self.runner.run_read(
            lambda: calls.search_customers(term),
            lambda hits: self._on_hits(generation, hits),
            lambda exc: log.warning("Quick search failed: %s", exc),
        )

    def _on_hits(self, generation: int, hits: Any) -> None:
        if generation != self._generation:
            return  # a newer search is under way
        self._hits = {h.label: h.customer_id for h in hits}
        self.model.setStringList(list(self._hits))
        if self._hits and self.edit.hasFocus():
            self.completer.complete()
        self.hits_loaded.emit(len(self._hits))

    @Slot(str)
    def _on_completer_activated(self, label: str) -> None:
        customer_id = self._hits.get(label)
        if customer_id is None:
            return
        self.timer.stop()
        self.edit.clear()
        self.customer_chosen.emit(customer_id)
