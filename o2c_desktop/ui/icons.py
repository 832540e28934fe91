"""Small line icons drawn from inline SVG, so they look the same on every platform.

Theme icons are missing on Windows and macOS and under the offscreen platform;
these need no resource file and follow the palette's text colour.
"""

from __future__ import annotations

import logging
from functools import cache
from typing import TYPE_CHECKING

from PySide6.QtCore import QByteArray, QRectF, Qt
from PySide6.QtGui import QIcon, QPainter, QPixmap
from PySide6.QtSvg import QSvgRenderer

if TYPE_CHECKING:
    from o2c_desktop.engine.types import ActionType

log = logging.getLogger(__name__)

_PATHS = {
    # Navigation
    "agenda": (
        '<rect x="3" y="5" width="18" height="16" rx="2"/>'
        '<path d="M3 10h18M8 3v4M16 3v4M7 14h3M7 17h6"/>'
    ),
    "customers": (
        '<circle cx="9" cy="8" r="3.5"/>'
        '<path d="M2.5 20c.5-4 3.3-6 6.5-6s6 2 6.5 6"/>'
        '<circle cx="17" cy="9" r="2.5"/>'
        '<path d="M16 14c3 0 5 1.8 5.5 5"/>'
    ),
    "scenarios": (
        '<circle cx="5" cy="6" r="2"/>'
        '<circle cx="5" cy="18" r="2"/>'
        '<circle cx="19" cy="12" r="2"/>'
        '<path d="M7 6h5l5 5M7 18h5l5-5"/>'
    ),
    "dashboards": (
        '<path d="M3 21h18"/>'
        '<rect x="5" y="11" width="3" height="8"/>'
        '<rect x="10.5" y="6" width="3" height="13"/>'
        '<rect x="16" y="14" width="3" height="5"/>'
    ),
    "team": (
        '<rect x="9" y="3" width="6" height="5" rx="1"/>'
        '<rect x="3" y="16" width="6" height="5" rx="1"/>'
        '<rect x="15" y="16" width="6" height="5" rx="1"/>'
        '<path d="M12 8v4M6 16v-4h12v4"/>'
    ),
    "import": (
        '<path d="M12 3v11M7.5 9.5 12 14l4.5-4.5"/>'
        '<path d="M4 15v4a2 2 0 0 0 2 2h12a2 2 0 0 0 2-2v-4"/>'
    ),
    "settings": (
        '<circle cx="12" cy="12" r="3"/>'
        '<path d="M12 2.5v3M12 18.5v3M2.5 12h3M18.5 12h3'
        'M5.3 5.3l2.1 2.1M16.6 16.6l2.1 2.1M5.3 18.7l2.1-2.1M16.6 7.4l2.1-2.1"/>'
    ),
    "search": '<circle cx="10.5" cy="10.5" r="6"/><path d="M15 15l6 6"/>',
    # Action types
    "phone_call": (
        '<path d="M5 3h4l2 5-2.5 1.5a11 11 0 0 0 6 6L16 13l5 2v4'
        'a2 2 0 0 1-2 2A16 16 0 0 1 3 5a2 2 0 0 1 2-2z"/>'
    ),
    "email": (
        '<rect x="3" y="5" width="18" height="14" rx="2"/><path d="M3 7l9 6 9-6"/>'
    ),
    "letter": '<path d="M6 2h9l4 4v16H6z"/><path d="M15 2v4h4M9 11h7M9 15h7M9 19h4"/>',
    "registered_letter": (
        '<path d="M6 2h9l4 4v16H6z"/>'
        '<path d="M15 2v4h4M9 11h7"/>'
        '<circle cx="12.5" cy="17" r="2.5"/>'
    ),
    "sms": '<path d="M4 4h16v12H9l-5 4z"/><path d="M8 10h.01M12 10h.01M16 10h.01"/>',
    "internal_task": (
        '<circle cx="12" cy="12" r="3"/>'
        '<path d="M12 3v3M12 18v3M3 12h3M18 12h3M5.6 5.6l2.2 2.2'
        'M16.2 16.2l2.2 2.2M5.6 18.4l2.2-2.2M16.2 7.8l2.2-2.2"/>'
    ),
    "meeting": (
        '<circle cx="12" cy="8" r="4"/><path d="M4 21c.8-4.5 4-7 8-7s7.2 2.5 8 7"/>'
    ),
    "litigation_handover": (
        '<path d="M12 3v18M5 21h14M4 7h16M7 7l-3 7h6zM17 7l-3 7h6z"/>'
    ),
    "late": '<path d="M12 3 2 20h20z"/><path d="M12 10v4M12 17h.01"/>',
    "back": '<path d="M19 12H5M11 6l-6 6 6 6"/>',
    "next": '<path d="M5 12h14M13 6l6 6-6 6"/>',
    "add": '<path d="M12 5v14M5 12h14"/>',
    "refresh": '<path d="M20 11a8 8 0 1 0-2.3 5.7M20 4v7h-7"/>',
    "pdf": (
        '<path d="M6 2h9l4 4v16H6z"/><path d="M15 2v4h4"/>'
        '<path d="M9 17v-5h1.5a1.5 1.5 0 0 1 0 3H9M14 12v5M14 12h2.5M14 14.5h2"/>'
    ),
    "legend": ('<circle cx="12" cy="12" r="9"/><path d="M12 11v6M12 7.5h.01"/>'),
}


def _svg(name: str, color: str) -> bytes:
    body = _PATHS[name]
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 24 24" fill="none" '
        f'stroke="{color}" stroke-width="1.6" stroke-linecap="round" '
        f'stroke-linejoin="round">{body}</svg>'
    ).encode()


@cache
def icon(name: str, color: str = "#37474f") -> QIcon:
    """The icon called `name` (see `_PATHS`), drawn in `color`."""
    renderer = QSvgRenderer(QByteArray(_svg(name, color)))
    result = QIcon()
    for size in (16, 24, 32, 48):
        pixmap = QPixmap(size, size)
        pixmap.fill(Qt.GlobalColor.transparent)
        painter = QPainter(pixmap)
        renderer.render(painter, QRectF(0, 0, size, size))
        painter.end()
        result.addPixmap(pixmap)
    return result


def action_icon(action_type: ActionType) -> QIcon:
    """The icon of an action type (phone, email, letter...)."""
    return icon(str(action_type.value))


def alert_icon() -> QIcon:
    """The warning icon of agenda lines that need attention."""
    return icon("late", "#e65100")


def late_icon() -> QIcon:
    """The warning icon of late actions."""
    return icon("late", "#c62828")
