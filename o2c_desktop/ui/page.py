"""The base of the pages behind the navigation: a workspace, a busy state, a banner."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from o2c_desktop.i18n import _
from o2c_desktop.ui.widgets import Banner, BusyIndicator

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.ui.ports import BookQueries, Workspace
    from o2c_desktop.ui.workers import TaskRunner

log = logging.getLogger(__name__)


class PageView(QWidget):
    """A page that shows one query's result for the open workspace.

    Subclasses build their widgets in `body`, return the query from `query()`
    and show its result in `show_result()`. A result that arrives after the
    workspace changed (or after a newer refresh) is dropped.

    Signals:
        loaded(): the latest query's result is shown.
        load_failed(str): the latest query failed; the message says why.
    """

    loaded = Signal()
    load_failed = Signal(str)

    def __init__(
        self,
        runner: TaskRunner,
        today: Callable[[], dt.date],
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.runner = runner
        self.today = today
        self.language = "fr"
        self.workspace: Workspace | None = None
        self._generation = 0
        layout = QVBoxLayout(self)
        self.title = QLabel(self)
        font = self.title.font()
        font.setPointSizeF(font.pointSizeF() * 1.5)
        font.setBold(True)
        self.title.setFont(font)
        self.banner = Banner(self)
        self.busy = BusyIndicator(self)
        layout.addWidget(self.title)
        layout.addWidget(self.banner)
        layout.addWidget(self.busy)
        self.body = QVBoxLayout()
        layout.addLayout(self.body, 1)

    def set_workspace(self, workspace: Workspace | None) -> None:
        """Show data of `workspace` (None: no database open)."""
        self.workspace = workspace
        self.refresh()

    def refresh(self) -> None:
        """Run the page's query again."""
        self._generation += 1
        generation = self._generation
        if self.workspace is None:
            self.busy.stop()
            self.show_result(None)
            self.banner.show_info(_("No database is open. Choose one in Settings."))
            return
        query = self.query(self.workspace.book)
        if query is None:
            return
        self.busy.start(_("Loading…"))
        self.set_loading(True)
        self.runner.run_read(
            query,
            lambda result: self._on_query_done(generation, result),
            lambda exc: self._on_query_failed(generation, exc),
        )

    def retranslate_ui(self, language: str) -> None:
        """Show every text in `language` (already set in `o2c_desktop.i18n`)."""
        self.language = language

    def query(self, book: BookQueries) -> Callable[[], Any] | None:
        """The call to run on a worker; None when there is nothing to load."""
        raise NotImplementedError

    def show_result(self, result: Any) -> None:
        """Show the query's result (None: clear the page)."""
        raise NotImplementedError

    def set_loading(self, loading: bool) -> None:
        """Disable what would start the same query again."""

    def _on_query_done(self, generation: int, result: Any) -> None:
        if generation != self._generation:
            return
        self.busy.stop()
        self.set_loading(False)
        self.banner.clear_message()
        self.show_result(result)
        self.loaded.emit()

    def _on_query_failed(self, generation: int, exc: BaseException) -> None:
        if generation != self._generation:
            return
        self.busy.stop()
        self.set_loading(False)
        message = self.runner.message_for(exc)
        self.banner.show_error(message)
        self.load_failed.emit(message)
