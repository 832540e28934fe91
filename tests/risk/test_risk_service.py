"""The risk watch end to end, on SQLite and PostgreSQL, against the fake providers.

A customer with overdue invoices goes into receivership: the BODACC sweep
freezes its dunning, values the claim at the judgment date, gives the credit
manager a declaration task due two months after publication with its letter,
and alerts once. A Creditsafe rating drop B -> D alerts once, so does a limit
exceeded.
"""

from __future__ import annotations

import copy
import datetime as dt
import io
import shutil
import subprocess
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from pypdf import PdfReader
from sqlalchemy import func, select

from o2c_desktop.engine.types import ActionStatus, ActionType, Role
from o2c_desktop.models import (
    Action,
    Customer,
    Document,
    InsolvencyCase,
    Notification,
    RiskAlert,
    RiskEvent,
    User,
)
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.risk import RiskService
from o2c_desktop.sync.risk.bodacc import BodaccConnector
from o2c_desktop.sync.risk.creditsafe import CreditsafeConnector
from tests.services._book import standard_book

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database
    from tests.risk.fakes import FakeBodacc, FakeCreditsafe

D = dt.date
TYPO = "book [C00002]: invalid SIREN '123456789' (check digit) (skipped)"
RECEIVERSHIP = "A202601410002"  # published 2026-07-21, judgment 2026-07-09
CONVERSION = "A202601950003"  # published 2026-10-08, judgment 2026-09-30


@pytest.fixture
def book(db: Database) -> Database:
    ids = standard_book(
        db,
        {
            "EXEMPLE BATIMENT": [
                ("F1", "2026-05-01", "1000.00"),
                ("F2", "2026-06-15", "500.00"),
                ("F3", "2026-08-01", "300.00"),
            ],
            "EXEMPLE DISTRIBUTION": [("G1", "2026-06-30", "1500.00")],
            "Typo SARL": [("T1", "2026-06-30", "10.00")],
        },
    )
    with db.session("setup") as s:
        s.add(User(login="marc", full_name="Marc Durand", role=Role.CREDIT_MANAGER))
        for name, legal in (
            ("EXEMPLE BATIMENT", "123 456 782"),
            ("EXEMPLE DISTRIBUTION", "98765432400019"),  # a SIRET
            ("Typo SARL", "123456789"),  # not a valid SIREN: never matched
        ):
            s.get_one(Customer, ids.customers[name]).legal_id = legal
    return db


def _bodacc(db: Database, fake: FakeBodacc) -> RiskService:
    ctx = AppContext(db=db, user_login="marc")
    return RiskService(ctx, {"bodacc": BodaccConnector(base_url=fake.base)})


def _customer(s: object, name: str) -> Customer:
    return s.scalars(select(Customer).where(Customer.name == name)).one()  # type: ignore[attr-defined,no-any-return]


def test_an_insolvency_notice_freezes_dunning_and_prepares_the_declaration(
    book: Database, bodacc: FakeBodacc, tmp_path: Path
) -> None:
    # Dunning ran before the notice: actions wait to be confirmed or performed.
    DunningService(AppContext(db=book, user_login="claire")).run(D(2026, 7, 20))
    with book.session() as s:
        batiment = _customer(s, "EXEMPLE BATIMENT")
        waiting = s.scalars(
            select(Action).where(
                Action.customer_id == batiment.id, Action.status != ActionStatus.DONE
            )
        ).all()
        assert waiting, "the run should have left actions for the customer"
    service = _bodacc(book, bodacc)
    report = service.sync("bodacc", today=D(2026, 7, 22), since=D(2026, 7, 20))
    assert (report.pulled, report.new_events, report.matched, report.cases_opened) == (
        1,
        1,
        1,
        1,
    )
    assert report.complete
    assert report.cursor == D(2026, 7, 22)
    with book.session() as s:
        batiment = _customer(s, "EXEMPLE BATIMENT")
        assert (batiment.on_hold, batiment.hold_until, batiment.insolvency) == (
            True,
            None,
            "redressement judiciaire",
        )
        assert batiment.insolvency_since == D(2026, 7, 9)
        cancelled = s.scalars(
            select(Action).where(
                Action.customer_id == batiment.id,
                Action.status == ActionStatus.CANCELLED,
            )
        ).all()
        assert len(cancelled) == len(waiting)
        assert {a.reason for a in cancelled} == {
            "Insolvency: redressement judiciaire (judgment of 2026-07-09), L622-21"
        }
        case = s.scalars(select(InsolvencyCase)).one()
        assert (case.deadline, case.published_on, case.judgment_date) == (
            D(2026, 9, 21),
            D(2026, 7, 21),
            D(2026, 7, 9),
        )
        # 12.15 % to 9 July: F1 22.97, F2 3.99; 40.00 each; F3 not due: principal.
        assert case.claim_amount == Decimal("1906.96")
        task = s.get_one(Action, case.task_id)
        assert (task.action_type, task.status, task.planned_date, task.amount) == (
            ActionType.INTERNAL_TASK,
            ActionStatus.PENDING,
            D(2026, 9, 21),
            Decimal("1906.96"),
        )
        manager = s.scalars(select(User).where(User.login == "marc")).one()
        assert task.assigned_to_id == manager.id
        assert task.subject == (
            "Declare the claim to the mandataire judiciaire: EXEMPLE BATIMENT"
        )
        reminder = s.get_one(Action, case.reminder_id)
        assert (reminder.planned_date, reminder.status) == (
            D(2026, 9, 6),
            ActionStatus.PENDING,
        )
        assert s.scalar(select(func.count()).select_from(Notification)) == 1
        pdf = s.get_one(Document, case.document_id).content
    text = " ".join((p.extract_text() or "") for p in PdfReader(io.BytesIO(pdf)).pages)
    flat = " ".join(text.split())
    for expected in (
        "SELARL EXEMPLE MANDATAIRES",
        "Déclaration de créance",
        "SIREN 123456782",
        "TRIBUNAL DE COMMERCE DE LYON",
        "9 juillet 2026",
        "F1",
        "22,97",
        "1 906,96",
    ):
        assert expected in flat, expected
    if shutil.which("pdftoppm"):  # the page as a reviewer sees it
        out = tmp_path / "declaration"
        (tmp_path / "declaration.pdf").write_bytes(pdf)
        subprocess.run(
            [
                "pdftoppm",
                "-png",
                "-r",
                "60",
                str(tmp_path / "declaration.pdf"),
                str(out),
            ],
            check=True,
        )
        assert list(tmp_path.glob("declaration*.png"))
    # Dunning stays frozen: the next run writes nothing for the customer.
    DunningService(AppContext(db=book, user_login="claire")).run(D(2026, 7, 27))
    with book.session() as s:
        batiment = _customer(s, "EXEMPLE BATIMENT")
        open_dunning = s.scalar(
            select(func.count())
            .select_from(Action)
            .where(
                Action.customer_id == batiment.id,
                Action.step_id.is_not(None),
                Action.status != ActionStatus.CANCELLED,
                Action.status != ActionStatus.DONE,
            )
        )
        assert open_dunning == 0
    # The insolvency alert is shown once, however often the sweep runs.
    again = service.sync("bodacc", today=D(2026, 7, 22), since=D(2026, 7, 20))
    assert (again.new_events, again.matched, again.alerts) == (0, 0, 0)
    alerts = [a for a in service.alerts() if a.kind == "insolvency"]
    assert [(a.customer_name, a.link) for a in alerts] == [
        (
            "EXEMPLE BATIMENT",
            "https://www.bodacc.fr/pages/annonces-commerciales-detail/"
            "?q.id=id:A202601410002",
        )
    ]
    assert alerts[0].message == (
        "EXEMPLE BATIMENT: Jugement d'ouverture d'une procédure de redressement "
        "judiciaire (TRIBUNAL DE COMMERCE DE LYON, judgment of 2026-07-09) "
        "Declare the claim by 2026-09-21."
    )
    card = service.card(_id(book, "EXEMPLE BATIMENT"), D(2026, 7, 22))
    assert (card.insolvency, card.declaration_deadline, card.days_to_deadline) == (
        "redressement judiciaire",
        D(2026, 9, 21),
        61,
    )


def _id(db: Database, name: str) -> int:
    with db.session() as s:
        return _customer(s, name).id


def test_a_later_conversion_updates_the_case_and_a_second_notice_is_ignored(
    book: Database, bodacc: FakeBodacc
) -> None:
    service = _bodacc(book, bodacc)
    service.sync("bodacc", today=D(2026, 7, 22), since=D(2026, 7, 21))
    # The same judgment published again (a second notice): nothing new to do.
    twin = copy.deepcopy(next(r for r in bodacc.records if r["id"] == RECEIVERSHIP))
    twin["id"], twin["dateparution"] = "A202601420009", "2026-07-23"
    bodacc.records.append(twin)
    second = service.sync("bodacc", today=D(2026, 7, 24))
    assert (second.since, second.new_events, second.cases_opened, second.alerts) == (
        D(2026, 7, 22),
        1,
        0,
        0,
    )
    later = service.sync("bodacc", today=D(2026, 10, 9))
    assert (later.new_events, later.cases_opened, later.alerts) == (1, 0, 1)
    with book.session() as s:
        case = s.scalars(select(InsolvencyCase)).one()
        assert (case.procedure, case.status, case.deadline) == (
            "liquidation judiciaire",
            "open",
            D(2026, 9, 21),
        )
        assert _customer(s, "EXEMPLE BATIMENT").insolvency == "liquidation judiciaire"
        assert s.scalar(select(func.count()).select_from(RiskEvent)) == 3


def test_a_provider_down_keeps_the_cursor_and_the_next_sync_catches_up(
    book: Database, bodacc: FakeBodacc
) -> None:
    service = _bodacc(book, bodacc)
    service.sync("bodacc", today=D(2026, 7, 19))
    bodacc.fail_next = [(503, {"message": "maintenance"}, {})] * 2
    down = service.sync("bodacc", today=D(2026, 7, 22))
    assert (down.complete, down.cursor, down.matched) == (False, D(2026, 7, 19), 0)
    assert down.errors == (
        "bodacc [" + bodacc.calls[-1][2]["where"] + "]: the provider failed (HTTP 503)",
        TYPO,
    )
    back = service.sync("bodacc", today=D(2026, 7, 23))
    assert (back.since, back.matched, back.cases_opened, back.cursor) == (
        D(2026, 7, 19),
        1,
        1,
        D(2026, 7, 23),
    )


def test_a_mistaken_match_is_unlinked_and_dunning_resumes(
    book: Database, bodacc: FakeBodacc
) -> None:
    service = _bodacc(book, bodacc)
    service.sync("bodacc", today=D(2026, 7, 22), since=D(2026, 7, 21))
    with book.session() as s:
        event = s.scalars(select(RiskEvent)).one()
        customer = _customer(s, "EXEMPLE BATIMENT")
        event_id, customer_id = event.id, customer.id
    service.unlink(customer_id, event_id, reason="SIREN typo", today=D(2026, 7, 23))
    with book.session() as s:
        customer = s.get_one(Customer, customer_id)
        assert (customer.on_hold, customer.insolvency) == (False, None)
        case = s.scalars(select(InsolvencyCase)).one()
        assert (case.status, case.close_reason) == ("unlinked", "SIREN typo")
        task = s.get_one(Action, case.task_id)
        assert (task.status, task.reason) == (ActionStatus.CANCELLED, "SIREN typo")


def _creditsafe_service(db: Database, fake: FakeCreditsafe) -> RiskService:
    connector = CreditsafeConnector(
        fake.USER, fake.PASSWORD, portfolio_id="589960", base_url=fake.base
    )
    ctx = AppContext(db=db, user_login="marc")
    return RiskService(ctx, {"creditsafe": connector}, cache_days=0)


def test_a_creditsafe_rating_drop_b_to_d_alerts_once(
    book: Database, creditsafe: FakeCreditsafe
) -> None:
    response = creditsafe.reports["FR-X-98765432400019"]
    rating = response["report"]["creditScore"]["currentCreditRating"]
    rating["commonValue"], rating["commonDescription"] = "D", "High Risk"
    service = _creditsafe_service(book, creditsafe)
    first = service.sync("creditsafe", today=D(2026, 9, 3), since=D(2026, 9, 1))
    # EXEMPLE BATIMENT is absent from the provider: reported, the rest goes on.
    assert (first.reports, first.errors) == (
        1,
        (
            "book [C00002]: invalid SIREN '123456789' (check digit) (skipped)",
            "creditsafe [123456782]: no such company",
        ),
    )
    drops = [a for a in service.alerts() if a.kind == "rating_drop"]
    assert [a.message for a in drops] == [
        "EXEMPLE DISTRIBUTION: rating fell from B to D (creditsafe)"
    ]
    assert drops[0].link == "https://app.creditsafe.com/companies/FR-X-98765432400019"
    searches = sum(1 for _m, p, _q in creditsafe.calls if p == "/v1/companies")
    service.sync("creditsafe", today=D(2026, 9, 4))
    assert len([a for a in service.alerts() if a.kind == "rating_drop"]) == 1
    # cache_days=0: both asked again (the absent company too, its search only).
    again = sum(1 for _m, p, _q in creditsafe.calls if p == "/v1/companies")
    assert (searches, again) == (2, 3)
    cached = RiskService(
        AppContext(db=book, user_login="marc"),
        {
            "creditsafe": CreditsafeConnector(
                creditsafe.USER, creditsafe.PASSWORD, base_url=creditsafe.base
            )
        },
    )
    calls = len(creditsafe.calls)
    assert cached.sync("creditsafe", today=D(2026, 9, 5)).reports == 0
    assert len(creditsafe.calls) == calls  # within 7 days: nothing asked
    card = service.card(_id(book, "EXEMPLE DISTRIBUTION"), D(2026, 9, 4))
    assert [(h.rated_on, h.rating) for h in card.history] == [
        (D(2026, 9, 2), "D"),
        (D(2025, 11, 10), "B"),
    ]
    assert (card.rating, card.provider_limit) == ("D", Decimal(25000))


def test_a_limit_exceeded_alerts_once(book: Database, bodacc: FakeBodacc) -> None:
    service = _bodacc(book, bodacc)
    distribution = _id(book, "EXEMPLE DISTRIBUTION")
    service.set_credit_limit(distribution, Decimal("1000.00"), note="insurer said")
    assert service.check_limits(D(2026, 7, 22)) == 1
    service.sync("bodacc", today=D(2026, 7, 22))
    limits = [a for a in service.alerts() if a.kind.startswith("limit")]
    assert [(a.kind, a.message) for a in limits] == [
        (
            "limit_exceeded",
            "EXEMPLE DISTRIBUTION: exposure 1500.00 is 150.0 % of the limit 1000.00",
        )
    ]
    card = service.card(distribution, D(2026, 7, 22))
    assert (card.credit_limit, card.exposure, card.limit_share, card.limit_set_by) == (
        Decimal("1000.00"),
        Decimal("1500.00"),
        Decimal("150.0"),
        "marc",
    )
    service.assign(limits[0].id, "claire", today=D(2026, 7, 22))
    assert [a.kind for a in service.alerts()] == ["insolvency"]  # the limit is handled
    with book.session() as s:
        alert = s.get_one(RiskAlert, limits[0].id)
        task = s.get_one(Action, alert.action_id)
        assert (task.subject, task.status, alert.acknowledged_by) == (
            limits[0].message,
            ActionStatus.PENDING,
            "marc",
        )
        kinds = s.scalars(select(RiskAlert.kind).order_by(RiskAlert.id)).all()
        assert kinds == ["limit_exceeded", "insolvency"]  # the sweep found a notice


def test_identifiers_are_checked_on_edit(book: Database, bodacc: FakeBodacc) -> None:
    service = _bodacc(book, bodacc)
    typo = _id(book, "Typo SARL")
    with pytest.raises(ValueError, match=r"^C00002: SIREN: invalid SIREN '123456788'"):
        service.set_identifiers(typo, legal_id="123456788", vat_number=None)
    with pytest.raises(
        ValueError,
        match=r"^C00002: VAT number: wrong key in VAT number 'FR12111222337': "
        "expected FR21111222337",
    ):
        service.set_identifiers(typo, legal_id="111222337", vat_number="FR12111222337")
    service.set_identifiers(typo, legal_id="111 222 337", vat_number="fr 21 111222337")
    with book.session() as s:
        customer = s.get_one(Customer, typo)
        assert (customer.legal_id, customer.vat_number) == (
            "111222337",
            "FR21111222337",
        )
