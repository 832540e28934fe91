"""pyqtgraph charts. pyqtgraph is imported when a chart is built, not at start-up."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtWidgets import QVBoxLayout, QWidget

if TYPE_CHECKING:
    from collections.abc import Sequence
    from decimal import Decimal

log = logging.getLogger(__name__)

BAR_COLOR = "#1565c0"
NOT_DUE_COLOR = "#90a4ae"


class AgingChart(QWidget):
    """Bars of the aged balance, one per bucket; created once, then updated."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        import pyqtgraph as pg

        self._pg = pg
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(self, background="w")
        self.plot.setMenuEnabled(False)
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.hideButtons()
        self.plot.showGrid(x=False, y=True, alpha=0.25)
        for side in ("left", "bottom"):
            axis = self.plot.getAxis(side)
            axis.setPen(pg.mkPen("#607d8b"))
            axis.setTextPen(pg.mkPen("#37474f"))
        self.bars = pg.BarGraphItem(
            x=[], height=[], width=0.6, brush=BAR_COLOR, pen=None
        )
        self.plot.addItem(self.bars)
        layout.addWidget(self.plot)

    def set_buckets(
        self,
        labels: Sequence[str],
        amounts: Sequence[Decimal],
        unit: str,
        axis: str,
    ) -> None:
        """Show one bar per bucket; amounts are drawn in thousands of `unit`."""
        pg = self._pg
        xs = list(range(len(labels)))
        heights = [
            float(a) / 1000 for a in amounts
        ]  # display only; money stays Decimal
        brushes = [pg.mkBrush(NOT_DUE_COLOR if i == 0 else BAR_COLOR) for i in xs]
        self.bars.setOpts(x=xs, height=heights, brushes=brushes)
        self.plot.getAxis("bottom").setTicks([list(zip(xs, labels, strict=True))])
        self.plot.getAxis("left").setLabel(unit)
        self.plot.getAxis("bottom").setLabel(axis)
        top = max([*heights, 0.0])
        bottom = min([*heights, 0.0])
        self.plot.setXRange(-0.6, len(labels) - 0.4, padding=0)
        self.plot.setYRange(bottom, top * 1.1 if top else 1.0, padding=0)
