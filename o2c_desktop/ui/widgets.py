"""Small widgets the views share: busy indicator, message banner, figure card."""

from __future__ import annotations

import logging

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFrame,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QVBoxLayout,
    QWidget,
)

log = logging.getLogger(__name__)


class BusyIndicator(QWidget):
    """An indeterminate bar and a label, shown while a query runs."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self._bar = QProgressBar(self)
        self._bar.setRange(0, 0)
        self._bar.setMaximumWidth(120)
        self._bar.setMaximumHeight(14)
        self._bar.setTextVisible(False)
        self._label = QLabel(self)
        layout.addWidget(self._bar)
        layout.addWidget(self._label)
        layout.addStretch(1)
        self.hide()

    def start(self, text: str) -> None:
        """Show that something is running."""
        self._label.setText(text)
        self.show()

    def stop(self) -> None:
        """Hide the indicator."""
        self.hide()

    @property
    def text(self) -> str:
        """What the indicator says."""
        return self._label.text()


class Banner(QLabel):
    """A message above a view: information, or an error in red."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWordWrap(True)
        self.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.hide()

    def show_info(self, text: str) -> None:
        """Show a neutral message."""
        self.setStyleSheet(
            "QLabel { background: #e3f2fd; color: #0d47a1; padding: 8px;"
            " border-radius: 4px; }"
        )
        self.setText(text)
        self.show()

    def show_error(self, text: str) -> None:
        """Show a problem and what to do about it."""
        self.setStyleSheet(
            "QLabel { background: #ffebee; color: #b71c1c; padding: 8px;"
            " border-radius: 4px; }"
        )
        self.setText(text)
        self.show()

    def clear_message(self) -> None:
        """Hide the banner."""
        self.clear()
        self.hide()


class FigureCard(QFrame):
    """A key figure: a caption above a large value, e.g. "Encours / 1 234,56 €"."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("FigureCard")
        self.setStyleSheet(
            "#FigureCard { background: palette(base); border: 1px solid #cfd8dc;"
            " border-radius: 6px; }"
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(12, 8, 12, 8)
        self.caption = QLabel(self)
        self.caption.setStyleSheet("color: #546e7a;")
        self.value = QLabel(self)
        font = self.value.font()
        font.setPointSizeF(font.pointSizeF() * 1.6)
        font.setBold(True)
        self.value.setFont(font)
        self.value.setAlignment(
            Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter
        )
        layout.addWidget(self.caption)
        layout.addWidget(self.value)

    def set_figure(self, caption: str, value: str) -> None:
        """Show `value` under `caption`."""
        self.caption.setText(caption)
        self.value.setText(value)
