"""The timeline's entries as the seed shows them, readable without scrolling.

Each entry takes two or three short lines (date · by · created on; type -
subject; status, contact, items, documents) drawn as rich text by
`TimelineDelegate` in a `QListView` over `TimelineTableModel`, so the column
tables' horizontal scroll bar is gone at 1440 px.
"""

from __future__ import annotations

import html
import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QAbstractTextDocumentLayout, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QAbstractItemView,
    QApplication,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QWidget,
)

from o2c_desktop.engine.types import ActionStatus
from o2c_desktop.i18n import _, format_date
from o2c_desktop.ui import icons
from o2c_desktop.ui.itemmodels import ROW_ROLE, TimelineTableModel, timeline_status
from o2c_desktop.ui.labels import action_type_label

if TYPE_CHECKING:
    from PySide6.QtGui import QPainter

    from o2c_desktop.engine.workbench import TimelineEntry

log = logging.getLogger(__name__)

_ICON = 20
_PAD = 6
Index = QModelIndex | QPersistentModelIndex


def entry_html(r: TimelineEntry, language: str, muted: str) -> str:
    """The entry as three short lines of rich text."""
    esc = html.escape
    who = r.by or _("automatic")
    head = " · ".join(
        (
            format_date(r.day, language),
            esc(who),
            esc(_("created on {day}").format(day=format_date(r.created_on, language))),
        )
    )
    title = esc(action_type_label(r.action_type))
    if r.subject:
        title += " \u2013 " + esc(r.subject)
    details = [esc(timeline_status(r, language))]
    if r.contact:
        details.append(esc(_("contact: {name}").format(name=r.contact)))
    if r.items:
        numbers = ", ".join(r.items)
        if r.item_count > len(r.items):
            numbers += f" (+{r.item_count - len(r.items)})"
        details.append(esc(_("items: {numbers}").format(numbers=numbers)))
    if r.documents:
        details.append("📎 " + esc(", ".join(d.filename for d in r.documents)))
    status_color = "#b26a00" if r.status is not ActionStatus.DONE else muted
    return (
        f'<div style="color:{muted}">{head}</div>'
        f"<div><b>{title}</b></div>"
        f'<div style="color:{status_color}">{" · ".join(details)}</div>'
    )


class TimelineDelegate(QStyledItemDelegate):
    """Draws a timeline entry: the type icon, then its lines of rich text."""

    def __init__(self, language: str = "fr", parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.language = language

    def _document(self, option: QStyleOptionViewItem, index: Index) -> QTextDocument:
        entry = index.data(ROW_ROLE)
        muted = option.palette.color(QPalette.ColorRole.PlaceholderText).name()
        doc = QTextDocument()
        doc.setDefaultFont(option.font)
        doc.setDocumentMargin(0)
        doc.setHtml(entry_html(entry, self.language, muted) if entry else "")
        width = option.rect.width() or 400
        doc.setTextWidth(max(120, width - _ICON - 3 * _PAD))
        return doc

    def paint(
        self, painter: QPainter, option: QStyleOptionViewItem, index: Index
    ) -> None:
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        widget = opt.widget
        style = QApplication.style()
        opt.text = ""
        opt.icon = icons.action_icon(index.data(ROW_ROLE).action_type)
        style.drawPrimitive(
            QStyle.PrimitiveElement.PE_PanelItemViewItem, opt, painter, widget
        )
        rect = option.rect
        opt.icon.paint(painter, rect.x() + _PAD, rect.y() + _PAD, _ICON, _ICON)
        doc = self._document(option, index)
        ctx = QAbstractTextDocumentLayout.PaintContext()
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = (
            QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        )
        ctx.palette.setColor(QPalette.ColorRole.Text, option.palette.color(role))
        painter.save()
        painter.translate(rect.x() + _ICON + 2 * _PAD, rect.y() + _PAD)
        painter.setClipRect(QRectF(0, 0, doc.textWidth(), rect.height()))
        doc.documentLayout().draw(painter, ctx)
        painter.restore()
        # a hairline between entries
        painter.save()
        painter.setPen(option.palette.color(QPalette.ColorRole.Mid))
        painter.drawLine(rect.bottomLeft(), rect.bottomRight())
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        if index.data(ROW_ROLE) is None:
            return super().sizeHint(option, index)
        doc = self._document(option, index)
        height = int(doc.size().height()) + 2 * _PAD + 1
        return QSize(int(doc.textWidth()) + _ICON + 3 * _PAD, max(height, _ICON + 12))


def timeline_list(
    model: TimelineTableModel, language: str, parent: QWidget | None = None
) -> QListView:
    """A list of entries over one timeline tab's item model."""
    view = QListView(parent)
    view.setObjectName("timeline_list")
    view.setModel(model)
    view.setItemDelegate(TimelineDelegate(language, view))
    view.setWordWrap(True)
    view.setUniformItemSizes(False)
    view.setResizeMode(QListView.ResizeMode.Adjust)
    view.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    view.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setMouseTracking(True)
    return view
