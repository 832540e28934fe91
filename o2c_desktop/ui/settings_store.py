"""Window state (geometry, splitters, headers) in a QSettings INI file.

Preferences proper are the `o2c_desktop.settings.Settings` dataclass in its
own file; this store only keeps the "persist" group of how windows looked.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QSettings

if TYPE_CHECKING:
    from pathlib import Path

    from PySide6.QtWidgets import QHeaderView, QMainWindow, QSplitter

log = logging.getLogger(__name__)

GROUP = "persist"


class SettingsStore:
    """Saves and restores window geometry and splitter or header states."""

    def __init__(self, path: Path) -> None:
        self._settings = QSettings(str(path), QSettings.Format.IniFormat)

    @property
    def path(self) -> str:
        """The INI file."""
        return self._settings.fileName()

    def save_window(self, window: QMainWindow) -> None:
        """Remember a main window's geometry and toolbars."""
        self._set(f"{window.objectName()}/geometry", window.saveGeometry())
        self._set(f"{window.objectName()}/state", window.saveState())

    def restore_window(self, window: QMainWindow) -> bool:
        """Restore a main window; False when nothing was saved."""
        geometry = self._get(f"{window.objectName()}/geometry")
        if geometry is None:
            return False
        window.restoreGeometry(geometry)
        state = self._get(f"{window.objectName()}/state")
        if state is not None:
            window.restoreState(state)
        return True

    def save_splitter(self, splitter: QSplitter) -> None:
        """Remember where a splitter's handles are."""
        self._set(f"splitters/{splitter.objectName()}", splitter.saveState())

    def restore_splitter(self, splitter: QSplitter) -> None:
        """Put a splitter's handles back."""
        state = self._get(f"splitters/{splitter.objectName()}")
        if state is not None:
            splitter.restoreState(state)

    def save_header(self, name: str, header: QHeaderView) -> None:
        """Remember column widths and order."""
        self._set(f"headers/{name}", header.saveState())

    def restore_header(self, name: str, header: QHeaderView) -> None:
        """Put column widths and order back."""
        state = self._get(f"headers/{name}")
        if state is not None:
            header.restoreState(state)

    def sync(self) -> None:
        """Write to disk now."""
        self._settings.sync()

    def _set(self, key: str, value: QByteArray) -> None:
        self._settings.beginGroup(GROUP)
        self._settings.setValue(key, value)
        self._settings.endGroup()

    def _get(self, key: str) -> QByteArray | None:
        self._settings.beginGroup(GROUP)
        try:
            value = self._settings.value(key)
        finally:
            self._settings.endGroup()
        return value if isinstance(value, QByteArray) else None
