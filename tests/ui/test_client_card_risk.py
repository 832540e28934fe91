"""The client card's risk block: an insolvent customer's banner with its countdown."""

from __future__ import annotations

import copy
import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from o2c_desktop.models import Customer
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.risk import RiskService
from o2c_desktop.services.workbench import WorkbenchService
from o2c_desktop.sync.risk.bodacc import BodaccConnector
from o2c_desktop.ui.client_card_view import ClientCardView
from tests.risk.fakes import FakeBodacc, contract
from tests.services._view_book import TODAY

if TYPE_CHECKING:
    from pytestqt.qtbot import QtBot

    from o2c_desktop.ui.agenda_view import AgendaView
    from o2c_desktop.ui.main_window import MainWindow
    from o2c_desktop.ui.workers import TaskRunner


def _notice() -> dict[str, object]:
    """The contract's receivership notice, published the day before TODAY."""
    record = copy.deepcopy(
        contract("bodacc_annonces_commerciales_records.json")["results"][1]
    )
    record["dateparution"] = (TODAY - dt.timedelta(days=1)).isoformat()
    return dict(record)


def test_the_card_shows_the_insolvency_banner_and_the_limit(
    book_url: str, runner: TaskRunner, qtbot: QtBot
) -> None:
    fake = FakeBodacc([_notice()])
    fake.start()
    db = open_database(book_url)
    try:
        with db.session() as s:
            denis = s.scalars(
                select(Customer).where(Customer.name == "Denis S.A.S.")
            ).one()
            denis.legal_id = "123456782"
            denis_id = denis.id
        ctx = AppContext(db=db, user_login="egermain")
        risk = RiskService(ctx, {"bodacc": BodaccConnector(base_url=fake.base)})
        risk.set_credit_limit(denis_id, Decimal("2000.00"))
        report = risk.sync("bodacc", today=TODAY)
        assert report.cases_opened == 1
        card = ClientCardView(runner, lambda: TODAY)
        qtbot.addWidget(card)
        card.set_workbench(WorkbenchService(ctx))
        card.set_risk(risk.card)
        with qtbot.waitSignal(card.loaded, timeout=10000):
            card.open_customer(denis_id)
        qtbot.waitUntil(lambda: card.risk_panel.card is not None, timeout=10000)
        panel = card.risk_panel
        assert panel.insolvency_banner.text() == (
            "Insolvency: redressement judiciaire. Dunning is stopped. Declare the "
            "claim by 23/05/2026 (60 days left)."
        )
        # Amounts as the card's language (French) writes them; then who set it.
        assert panel.limit_label.text().startswith(
            "2\u202f000,00\xa0€, exposure 2\u202f300,00\xa0€ (set by egermain on "
        )
        assert panel.limit_bar.text() == "115,0\xa0%"
        assert not panel.provider_button.isEnabled()  # no provider page yet
        qtbot.waitUntil(lambda: not runner.busy, timeout=10000)
    finally:
        db.dispose()
        fake.stop()


def test_the_apps_card_shows_the_risk_watch(
    book_url: str, window: MainWindow, qtbot: QtBot
) -> None:
    # The workspace the app opens carries the risk calls: the agenda's card
    # shows a limit set by the credit manager, in French.
    db = open_database(book_url)
    try:
        with db.session() as s:
            denis_id = s.scalars(
                select(Customer.id).where(Customer.name == "Denis S.A.S.")
            ).one()
        ctx = AppContext(db=db, user_login="egermain")
        RiskService(ctx, {}).set_credit_limit(denis_id, Decimal("2000.00"))
    finally:
        db.dispose()
    agenda: AgendaView = window.pages()["agenda"]  # type: ignore[assignment]
    with qtbot.waitSignal(agenda.card.loaded, timeout=10000):
        agenda.card.open_customer(denis_id)
    panel = agenda.card.risk_panel
    qtbot.waitUntil(lambda: panel.card is not None, timeout=10000)
    assert panel.limit_label.text().startswith("2\u202f000,00\xa0€")
    assert panel.limit_bar.text() == "115,0\xa0%"
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=10000)
