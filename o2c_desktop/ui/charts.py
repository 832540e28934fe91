"""pyqtgraph charts. pyqtgraph is imported when a chart is built, not at start-up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtWidgets import QVBoxLayout, QWidget

from o2c_desktop.i18n import current_language, format_number

if TYPE_CHECKING:
    from collections.abc import Sequence

    from PySide6.QtGui import QShowEvent

log = logging.getLogger(__name__)


PALETTE = (
    "#1565c0",
    "#90a4ae",
    "#ef6c00",
    "#2e7d32",
    "#6a1b9a",
    "#c62828",
    "#00838f",
    "#5d4037",
)
LINE_COLORS = ("#c62828", "#2e7d32", "#6a1b9a", "#ef6c00")


class DashboardChart(QWidget):
    """Stacked bars and lines on two axes; created once, then updated.

    Bars of all bar series stack per category; line series go on the left or
    the right axis. Hovering a bar shows its values; clicking it emits
    `bar_clicked` with the category index (the dashboard opens the list).

    Signals:
        bar_clicked(int): a bar of this category was clicked.
    """

    bar_clicked = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._layout = QVBoxLayout(self)
        self._layout.setContentsMargins(0, 0, 0, 0)
        self.plot: Any = None
        self._pending: tuple[Any, ...] | None = None

    def sizeHint(self) -> QSize:
        """As large as the plot it will hold, so a splitter sizes it alike."""
        return QSize(600, 240)

    def _build(self) -> None:
        """Create the plot on first use, not at start-up.

        Nine dashboards each hold a chart: importing pyqtgraph and building
        its widgets cost about 0.2 s before the agenda could show (#15).
        """
        if self.plot is not None:
            return
        import pyqtgraph as pg

        self._pg = pg
        layout = self._layout
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        # Top right, on white, in one row: it must not hide the bars (#8).
        self.legend = self.plot.addLegend(
            offset=(-10, 2),
            labelTextColor="#263238",
            brush=pg.mkBrush(255, 255, 255, 220),
            pen=pg.mkPen("#cfd8dc"),
        )
        item = self.plot.getPlotItem()
        item.showAxis("right")
        self.right = pg.ViewBox()
        item.scene().addItem(self.right)
        item.getAxis("right").linkToView(self.right)
        self.right.setXLink(item)
        item.getViewBox().sigResized.connect(self._sync_right)
        for side in ("left", "bottom", "right"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen("#607d8b"))
            axis.setTextPen(pg.mkPen("#37474f"))
            if side != "bottom":  # the bottom axis names the categories
                axis.tickStrings = _locale_ticks
        self._bars: list[Any] = []
        self._lines: list[Any] = []
        self._right_lines: list[Any] = []
        self._labels: list[str] = []
        self._tips: list[str] = []
        self.hover = pg.TextItem(color="#263238", fill=pg.mkBrush(255, 255, 255, 230))
        self.hover.setZValue(100)
        self.hover.hide()
        self.plot.addItem(self.hover, ignoreBounds=True)
        self.plot.scene().sigMouseMoved.connect(self._on_scene_mouse_moved)
        self.plot.scene().sigMouseClicked.connect(self._on_scene_mouse_clicked)
        layout.addWidget(self.plot)

    def set_data(
        self,
        categories: Sequence[str],
        bars: Sequence[tuple[str, Sequence[float | None]]],
        lines: Sequence[tuple[str, Sequence[float | None], bool]],
        left_unit: str,
        right_unit: str,
        tips: Sequence[str],
    ) -> None:
        """Show new figures (money already scaled by the caller for display).

        Args:
            categories: x labels.
            bars: (legend, values) stacked in order.
            lines: (legend, values, on the right axis).
            left_unit: the left axis label.
            right_unit: the right axis label.
            tips: the hover text of each category.
        """
        # A hidden dashboard (they all load at start-up) draws when shown:
        # building and filling the plot costs the GUI thread 0.25 s (#15).
        self._pending = (categories, bars, lines, left_unit, right_unit, tips)
        if self.isVisible():
            self._draw_pending()

    def showEvent(self, event: QShowEvent) -> None:
        """Draw what arrived while the chart was hidden."""
        super().showEvent(event)
        self._draw_pending()

    def _draw_pending(self) -> None:
        if self._pending is None:
            return
        args, self._pending = self._pending, None
        self._draw(*args)

    def _draw(
        self,
        categories: Sequence[str],
        bars: Sequence[tuple[str, Sequence[float | None]]],
        lines: Sequence[tuple[str, Sequence[float | None], bool]],
        left_unit: str,
        right_unit: str,
        tips: Sequence[str],
    ) -> None:
        self._build()
        self._labels = list(categories)
        self._tips = list(tips)
        xs = list(range(len(categories)))
        self._grow(len(bars), len(lines))
        self.legend.clear()
        base = [0.0] * len(xs)
        top = 0.0
        bottom = 0.0
        for n, (bar, (name, values)) in enumerate(
            zip(
                self._bars,
                [*bars, *[("", [])] * (len(self._bars) - len(bars))],
                strict=True,
            )
        ):
            if n >= len(bars):
                bar.setOpts(x=[], height=[], y0=[])
                bar.hide()
                continue
            heights = [float(v or 0.0) for v in values]
            bar.setOpts(x=xs, height=heights, y0=list(base), width=0.65)
            bar.show()
            self.legend.addItem(bar, name)
            base = [b + h for b, h in zip(base, heights, strict=True)]
            top = max([top, *base])
            bottom = min([bottom, *base, *heights])
        right_top = 0.0
        left_used = right_used = 0
        for name, values, on_right in lines:
            if on_right:
                curve = self._right_lines[right_used]
                right_used += 1
            else:
                curve = self._lines[left_used]
                left_used += 1
            pts = [
                (x, float(v)) for x, v in zip(xs, values, strict=True) if v is not None
            ]
            curve.setData([p[0] for p in pts], [p[1] for p in pts])
            curve.show()
            self.legend.addItem(curve, name)
            if on_right:
                right_top = max([right_top, *(p[1] for p in pts)])
            else:
                top = max([top, *(p[1] for p in pts)])
        for curve in self._lines[left_used:] + self._right_lines[right_used:]:
            curve.setData([], [])
            curve.hide()
        self.legend.setColumnCount(max(len(bars) + len(lines), 1))
        ticks = list(zip(xs, categories, strict=True))
        step = max(1, len(ticks) // 12)  # keep labels readable on 24 months
        self.plot.getAxis("bottom").setTicks([ticks[::step], ticks])
        self.plot.getAxis("left").setLabel(left_unit)
        self.plot.getAxis("right").setLabel(right_unit if right_used else "")
        self.plot.getAxis("right").setStyle(showValues=bool(right_used))
        self.plot.setXRange(-0.6, max(len(xs), 1) - 0.4, padding=0)
        # Head room for the legend above the tallest bar.
        self.plot.setYRange(bottom * 1.1, top * 1.25 if top else 1.0, padding=0)
        self.right.setYRange(0, right_top * 1.25 if right_top else 1.0, padding=0)
        self.hover.hide()
        self._sync_right()

    def _grow(self, bars: int, lines: int) -> None:
        pg = self._pg
        while len(self._bars) < bars:
            color = PALETTE[len(self._bars) % len(PALETTE)]
            bar = pg.BarGraphItem(x=[], height=[], width=0.65, brush=color, pen=None)
            self.plot.addItem(bar)
            self._bars.append(bar)
        while len(self._lines) < lines:
            color = LINE_COLORS[len(self._lines) % len(LINE_COLORS)]
            curve = pg.PlotDataItem(
                [],
                [],
                pen=pg.mkPen(color, width=2),
                symbol="o",
                symbolSize=5,
                symbolBrush=color,
                symbolPen=None,
            )
            self.plot.addItem(curve)
            self._lines.append(curve)
        while len(self._right_lines) < lines:
            color = LINE_COLORS[(len(self._right_lines) + 2) % len(LINE_COLORS)]
            curve = pg.PlotDataItem(
                [],
                [],
                pen=pg.mkPen(color, width=2, style=Qt.PenStyle.DashLine),
                symbol="s",
                symbolSize=5,
                symbolBrush=color,
                symbolPen=None,
            )
            self.right.addItem(curve)
            self._right_lines.append(curve)

    def _category_at(self, pos: Any) -> int | None:
        if not self.plot.sceneBoundingRect().contains(pos):
            return None
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        index = round(point.x())
        if 0 <= index < len(self._labels) and abs(point.x() - index) <= 0.4:
            return int(index)
        return None

    def _sync_right(self) -> None:
        item = self.plot.getPlotItem()
        self.right.setGeometry(item.getViewBox().sceneBoundingRect())
        self.right.linkedViewChanged(item.getViewBox(), self.right.XAxis)

    def _on_scene_mouse_moved(self, pos: Any) -> None:
        index = self._category_at(pos)
        if index is None or index >= len(self._tips):
            self.hover.hide()
            return
        point = self.plot.getPlotItem().vb.mapSceneToView(pos)
        self.hover.setText(self._tips[index])
        self.hover.setPos(point.x(), point.y())
        self.hover.show()

    def _on_scene_mouse_clicked(self, event: Any) -> None:
        index = self._category_at(event.scenePos())
        if index is not None:
            self.bar_clicked.emit(index)

    def click_category(self, index: int) -> None:
        """Act as if the user clicked a bar (tests, keyboard)."""
        self.bar_clicked.emit(index)

    def export_png(self, path: str) -> None:
        """Save the chart as a PNG image."""
        self._build()
        self._draw_pending()
        self.plot.grab().save(path, "PNG")


def _locale_ticks(values: list[float], _scale: float, spacing: float) -> list[str]:
    """Axis figures as the UI language writes them: 20 000 and 1,5 in French."""
    digits = 0 if spacing >= 1 else min(3, len(f"{spacing:.3f}".rstrip("0")) - 2)
    language = current_language()
    return [format_number(value, language, digits) for value in values]
