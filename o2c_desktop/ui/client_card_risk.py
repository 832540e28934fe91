"""The risk block of the client card: rating history, limit vs exposure, insolvency.

Filled from a `RiskCard` (engine values): the rating with its history, our
credit limit against the exposure with the share used, an insolvency banner
with the days left to declare the claim, and a button to the provider's page.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from PySide6.QtCore import QUrl, Slot
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QFormLayout,
    QGroupBox,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from o2c_desktop.i18n import (
    _,
    format_date,
    format_money,
    format_number,
    format_share,
    ngettext,
)

if TYPE_CHECKING:
    from o2c_desktop.engine.risk import RiskCard

log = logging.getLogger(__name__)

_BANNER = (
    "QLabel { background: #ffebee; color: #b71c1c; padding: 8px;"
    " border-radius: 4px; font-weight: bold; }"
)


class RiskPanel(QGroupBox):
    """Rating, credit limit and insolvency watch of one customer."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("card_risk")
        self.card: RiskCard | None = None
        self.currency = "EUR"
        self.language = "fr"
        layout = QVBoxLayout(self)
        self.insolvency_banner = QLabel(self)
        self.insolvency_banner.setObjectName("insolvency_banner")
        self.insolvency_banner.setWordWrap(True)
        self.insolvency_banner.setStyleSheet(_BANNER)
        self.insolvency_banner.hide()
        layout.addWidget(self.insolvency_banner)
        form = QFormLayout()
        self.rating_label = QLabel(self)
        self.history_label = QLabel(self)
        self.history_label.setWordWrap(True)
        self.limit_label = QLabel(self)
        self.limit_label.setWordWrap(True)
        self.limit_bar = QProgressBar(self)
        self.limit_bar.setRange(0, 100)
        self.limit_bar.setTextVisible(True)
        self._captions = [QLabel(self) for _n in range(4)]
        form.addRow(self._captions[0], self.rating_label)
        form.addRow(self._captions[1], self.history_label)
        form.addRow(self._captions[2], self.limit_label)
        form.addRow(self._captions[3], self.limit_bar)
        layout.addLayout(form)
        self.provider_button = QPushButton(self)
        self.provider_button.clicked.connect(self._on_provider_button_clicked)
        layout.addWidget(self.provider_button)
        self.retranslate_ui()
        self.hide()

    def retranslate_ui(self, language: str = "fr") -> None:
        """Show the captions in `language`."""
        self.language = language
        self.setTitle(_("Risk"))
        for caption, text in zip(
            self._captions,
            (_("Rating"), _("History"), _("Credit limit"), _("Limit used")),
            strict=True,
        ):
            caption.setText(text)
        self.provider_button.setText(_("Open at the provider"))
        self.set_card(self.card, self.currency)

    def set_card(self, card: RiskCard | None, currency: str = "EUR") -> None:
        """Show `card` (None hides the block)."""
        self.card, self.currency = card, currency
        if card is None:
            self.hide()
            return
        self.show()
        score = (
            f" ({format_number(card.score, self.language, 1)})"
            if card.score is not None
            else ""
        )
        self.rating_label.setText((card.rating or "-") + score)
        self.history_label.setText(
            "  ←  ".join(
                f"{h.rating or '?'} {format_date(h.rated_on, self.language)}"
                for h in card.history
            )
            or "-"
        )
        self.limit_label.setText(self._limit_text(card))
        share = card.limit_share
        self.limit_bar.setVisible(share is not None)
        if share is not None:
            self.limit_bar.setValue(min(100, int(share)))
            # A lone "%" is no QProgressBar placeholder (those are %p %v %m).
            self.limit_bar.setFormat(format_share(share, self.language))
        self.provider_button.setEnabled(bool(card.provider_url))
        self._show_insolvency(card)

    def _limit_text(self, card: RiskCard) -> str:
        cur = self.currency
        exposure = format_money(card.exposure, cur, self.language)
        if card.credit_limit is None:
            text = _("no limit; exposure {exposure}").format(exposure=exposure)
        else:
            text = _("{limit}, exposure {exposure}").format(
                limit=format_money(card.credit_limit, cur, self.language),
                exposure=exposure,
            )
        if card.limit_set_by and card.limit_set_at:
            text += " " + _("(set by {who} on {date})").format(
                who=card.limit_set_by,
                date=format_date(card.limit_set_at.date(), self.language),
            )
        if card.provider_limit is not None:
            text += "; " + _("provider suggests {limit}").format(
                limit=format_money(card.provider_limit, cur, self.language)
            )
        return text

    def _show_insolvency(self, card: RiskCard) -> None:
        if not card.insolvency:
            text = ""
            if card.ceased_on is not None:
                text = _("Company ceased on {date}").format(
                    date=format_date(card.ceased_on, self.language)
                )
            self.insolvency_banner.setText(text)
            self.insolvency_banner.setVisible(bool(text))
            return
        text = _("Insolvency: {procedure}. Dunning is stopped.").format(
            procedure=card.insolvency
        )
        if card.declaration_deadline is not None and card.days_to_deadline is not None:
            days = card.days_to_deadline
            if days >= 0:
                left = ngettext("{n} day left", "{n} days left", days).format(n=days)
            else:
                left = _("{n} days late").format(n=-days)
            text += " " + _("Declare the claim by {date} ({left}).").format(
                date=format_date(card.declaration_deadline, self.language), left=left
            )
        self.insolvency_banner.setText(text)
        self.insolvency_banner.show()

    @Slot()
    def _on_provider_button_clicked(self) -> None:
        if self.card is not None and self.card.provider_url:
            QDesktopServices.openUrl(QUrl(self.card.provider_url))
