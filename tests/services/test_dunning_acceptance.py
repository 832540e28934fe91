"""Letters a customer would receive wrongly (issue 16), as a collector's days.

Each test drives the nightly run through the service, as `o2c dunning run`
does, on SQLite and PostgreSQL, and reads what was sent for which item.
"""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal
from typing import TYPE_CHECKING

from pypdf import PdfReader
from sqlalchemy import select, update

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    DocumentKind,
    ItemKind,
    ItemStatus,
)
from o2c_desktop.i18n import translator
from o2c_desktop.models import (
    Action,
    ActionItem,
    Customer,
    Document,
    Item,
    Notification,
    Step,
    User,
)
from o2c_desktop.services.documents import DocumentService, seed_default_templates
from o2c_desktop.services.dunning import UNDER_TOLERANCE
from o2c_desktop.services.importing import ImportService
from o2c_desktop.services.workbench import WorkbenchService
from tests.services._book import Ids, standard_book
from tests.services.test_dunning_day import Mailer, ctx, dunned, nightly
from tests.sync.import_builders import write_csv

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database


def d(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def test_an_invoice_first_seen_40_days_late_skips_the_expired_statement(
    db: Database,
) -> None:
    # The ERP export brings an invoice due on 20 January; the first run is on
    # 1 March. Runs every day, a week between two reminders.
    ids = standard_book(
        db, {"Monnier": [("F1", "2026-01-20", "900.00")]}, min_gap_days=7
    )
    day = d("2026-03-01")
    for _ in range(15):
        nightly(db).run(day)
        day += dt.timedelta(days=1)
    # Not the due-date statement 40 days late: reminder 1, then a week later
    # letter 1, then letter 2 (waiting for a click), one step per week.
    assert dunned(db, ids.items["F1"]) == [
        ("reminder 1", "done", Decimal("900.00")),
        ("letter 1", "done", Decimal("900.00")),
        ("letter 2", "to_confirm", Decimal("900.00")),
    ]
    with db.session() as s:
        planned = sorted(s.scalars(select(Action.planned_date)))
    assert planned == [d("2026-03-01"), d("2026-03-08"), d("2026-03-15")]


def test_an_item_not_yet_due_is_never_claimed_in_an_overdue_reminder(
    db: Database,
) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F1", "2026-02-19", "1200.00"),  # 10 days late
                ("F2", "2026-03-11", "300.00"),  # due in 10 days
            ]
        },
    )
    result = nightly(db).run(d("2026-03-01"))
    assert (result.actions, result.items) == (1, 1)
    assert result.amounts == {"EUR": Decimal("1200.00")}
    assert [s for s, _, _ in dunned(db, ids.items["F1"])] == ["reminder 1"]
    assert dunned(db, ids.items["F2"]) == []  # only in the attached statement


def test_the_amount_claimed_is_the_lines_listed_net_of_credits(db: Database) -> None:
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F0", "2026-02-25", "400.00"),  # had its statement; +5 tomorrow
                ("F1", "2026-03-01", "250.00"),  # due today: the statement
                ("AV1", "2026-02-10", "-90.00"),  # unapplied cash
            ]
        },
    )
    with db.session() as s:
        s.execute(
            update(Item)
            .where(Item.id == ids.items["F0"])
            .values(dunning_step_id=ids.steps[0], dunning_date=d("2026-02-25"))
        )
    nightly(db).run(d("2026-03-01"))
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        # 250.00 listed, less the 90.00 of unapplied cash; F0 is not listed
        # (it is at its step already), so it is not claimed by this letter.
        assert (action.amount, action.currency) == (Decimal("160.00"), "EUR")
        assert sorted(i.item_id for i in action.items) == [ids.items["F1"]]


def confirm(db: Database, today: dt.date) -> int:
    """Claire clicks "send" on every reminder waiting for her confirmation."""
    with db.session() as s:
        waiting = s.scalars(
            select(Action.id).where(Action.status == ActionStatus.TO_CONFIRM)
        ).all()
    workbench = WorkbenchService(ctx(db), performer=Mailer())
    return workbench.confirm_actions([a.hex for a in waiting], today).confirmed


def test_the_gap_counts_from_the_day_a_letter_reached_the_customer(
    db: Database,
) -> None:
    # F1 fell due on 1 January; letter 1 went out on the 11th. A week
    # between two reminders.
    ids = standard_book(
        db, {"Monnier": [("F1", "2026-01-01", "700.00")]}, min_gap_days=7
    )
    with db.session() as s:
        s.execute(
            update(Item).values(
                dunning_step_id=ids.steps[10], dunning_date=d("2026-01-11")
            )
        )
    # Letter 2 (+20) waits for Claire's click; she confirms it only on +44.
    nightly(db).run(d("2026-01-21"))
    for day in ("2026-01-28", "2026-02-10"):
        assert nightly(db).run(d(day)).actions == 0  # held by the waiting letter
    assert confirm(db, d("2026-02-14")) == 1
    # The call (+30) is due, but the letter reached Monnier on 14 February:
    # nothing before the 21st.
    for day in ("2026-02-15", "2026-02-20"):
        assert nightly(db).run(d(day)).actions == 0
        assert nightly(db).run(d(day), dry_run=True).left_out["min_gap"] == 1
    assert nightly(db).run(d("2026-02-21")).actions == 1
    assert dunned(db, ids.items["F1"]) == [
        ("letter 2", "done", Decimal("700.00")),
        ("call", "pending", Decimal("700.00")),
    ]
    with db.session() as s:
        letter = s.scalars(select(Action).order_by(Action.planned_date)).first()
        assert letter is not None
        # Planned on the 21st, performed on the business day of the click.
        assert (letter.planned_date, letter.performed_on) == (
            d("2026-01-21"),
            d("2026-02-14"),
        )


def test_a_reminder_cancelled_unsent_is_sent_again_when_the_payment_bounces(
    db: Database,
) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    nightly(db).run(d("2026-03-01"))  # "due today" sent by email
    nightly(db, mail=False).run(d("2026-03-06"))  # reminder 1 waits for a click
    with db.session() as s:  # Monnier pays; the import closes F1
        s.execute(
            update(Item).values(
                remaining=0, status=ItemStatus.CLOSED, closed_on=d("2026-03-07")
            )
        )
    assert nightly(db).run(d("2026-03-07")).cancelled_paid == 1
    with db.session() as s:  # the cheque bounced: the next import reopens F1
        s.execute(
            update(Item).values(
                remaining=Decimal("500.00"), status=ItemStatus.OPEN, closed_on=None
            )
        )
    # Reminder 1 never left: it is sent now, then letter 1 at +10 as planned.
    assert nightly(db).run(d("2026-03-09")).actions == 1
    assert nightly(db).run(d("2026-03-11")).actions == 1
    assert dunned(db, ids.items["F1"]) == [
        ("due today", "done", Decimal("500.00")),
        ("reminder 1", "cancelled", Decimal("500.00")),
        ("reminder 1", "done", Decimal("500.00")),
        ("letter 1", "done", Decimal("500.00")),
    ]


def letter_text(db: Database, action_id: object) -> str:
    """The text of the letter PDF stored with an action."""
    with db.session() as s:
        pdf = s.scalars(
            select(Document.content).where(
                Document.action_id == action_id, Document.kind == DocumentKind.LETTER
            )
        ).one()
    reader = PdfReader(io.BytesIO(pdf))
    text = " ".join(p.extract_text() or "" for p in reader.pages)
    return " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())


def letter_book(db: Database, language: str) -> Ids:
    """Monnier owes 250.00 and 600.00 of 1,000.00; 90.00 of his cash is unapplied.

    Both invoices had reminder 1; letter 1 (+10) is the next step.
    """
    ids = standard_book(
        db,
        {
            "Monnier": [
                ("F1", "2026-02-15", "250.00"),
                ("F2", "2026-02-17", "1000.00"),
                ("RG1", "2026-02-20", "-90.00"),
            ]
        },
    )
    with db.session() as s:
        seed_default_templates(s)
        s.execute(update(Item).where(Item.id == ids.items["F2"]).values(remaining=600))
        s.execute(
            update(Item)
            .where(Item.id == ids.items["RG1"])
            .values(kind=ItemKind.UNAPPLIED_CASH)
        )
        s.execute(
            update(Item)
            .where(Item.amount > 0)
            .values(dunning_step_id=ids.steps[5], dunning_date=d("2026-02-22"))
        )
        s.execute(update(Customer).values(language=language))
        # Claire's stored signature is in French, the entity's language.
        s.execute(
            update(User).values(signature="Claire Martin\nResponsable recouvrement")
        )
    return ids


def test_a_letter_lists_what_was_paid_nets_the_credits_and_claims_the_action_amount(
    db: Database,
) -> None:
    letter_book(db, "fr")
    nightly(db, DocumentService(ctx(db))).run(d("2026-02-27"))
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.action_type, action.status) == (
            ActionType.LETTER,
            ActionStatus.DONE,
        )
        assert action.amount == Decimal("760.00")  # 250 + 600 - 90
    text = letter_text(db, action.id)
    # Each invoice: its amount, what was paid so far, what remains.
    assert "27 février 2026" in text  # the run's business day, not the clock
    assert "F1 16/01/2026 15/02/2026 12 250,00 € 250,00 €" in text
    assert "F2 18/01/2026 17/02/2026 10 1 000,00 € 400,00 € 600,00 €" in text
    assert "Déjà réglé" in text
    # Then the unapplied cash, then the net claimed: the engine's figure.
    assert (
        "Total 850,00 € Règlements non imputés -90,00 € Montant net réclamé 760,00 €"
        in text
    )
    assert "règlement de la somme de 760,00 €" in text
    assert "850,00 € dans" not in text
    assert "Responsable recouvrement" in text  # French letter, stored signature


def test_a_spanish_letter_is_signed_and_worded_in_spanish(db: Database) -> None:
    letter_book(db, "es")
    nightly(db, DocumentService(ctx(db))).run(d("2026-02-27"))
    with db.session() as s:
        action = s.scalars(select(Action)).one()
    text = letter_text(db, action.id)
    assert "Les agradeceríamos que abonaran el importe de 760,00 €" in text
    assert "Pagos no aplicados -90,00 € Importe neto reclamado 760,00 €" in text
    assert "1.000,00 € 400,00 € 600,00 €" in text  # paid: 400.00
    # Signed in Spanish, not with Claire's French signature.
    assert "Claire Martin Departamento de cobros \u2013 Acme France" in text
    for french in ("Responsable recouvrement", "Service recouvrement", "Madame"):
        assert french not in text


def test_a_formal_notice_for_interest_only_never_claims_zero_principal(
    db: Database,
) -> None:
    # F1 is covered by a credit note; Claire still sends the formal notice
    # by hand for the late-payment interest and the fixed indemnity.
    ids = standard_book(
        db,
        {"Monnier": [("F1", "2026-01-01", "250.00"), ("AV1", "2026-01-20", "-250.00")]},
    )
    with db.session() as s:
        seed_default_templates(s)
        notice = Action(
            customer_id=ids.customers["Monnier"],
            step_id=ids.steps[45],
            action_type=ActionType.REGISTERED_LETTER,
            planned_date=d("2026-03-01"),
            assigned_to_id=ids.collector,
        )
        s.add(notice)
        s.flush()
        s.add(
            ActionItem(
                action_id=notice.id,
                item_id=ids.items["F1"],
                step_id=ids.steps[45],
                amount=Decimal("250.00"),
                days_late=59,
            )
        )
    DocumentService(ctx(db)).render_action(notice.id, today=d("2026-03-01"))
    text = letter_text(db, notice.id)
    assert "Avoirs -250,00 € Montant net réclamé 0,00 €" in text
    assert "principal restant dû" not in text
    assert "indemnités forfaitaires pour frais de recouvrement : 40,00 €" in text


def test_a_reminder_is_cancelled_when_a_payment_leaves_less_than_the_tolerance(
    db: Database,
) -> None:
    # Tolerance 5.00 (the scenario's default).
    ids = standard_book(
        db,
        {
            "Monnier": [("F1", "2026-03-01", "500.00")],
            "Durand": [("G1", "2026-03-01", "500.00")],
        },
    )
    nightly(db, mail=False).run(d("2026-03-01"))  # both wait for a click
    with db.session() as s:  # the import: Monnier paid 499.95, Durand 400.00
        s.execute(
            update(Item).where(Item.id == ids.items["F1"]).values(remaining="0.05")
        )
        s.execute(
            update(Item).where(Item.id == ids.items["G1"]).values(remaining="100.00")
        )
    result = nightly(db, mail=False).run(d("2026-03-02"))
    assert result.cancelled_paid == 1
    assert dunned(db, ids.items["F1"]) == [
        ("due today", "cancelled", Decimal("500.00"))
    ]
    assert dunned(db, ids.items["G1"]) == [
        ("due today", "to_confirm", Decimal("500.00"))
    ]
    with db.session() as s:
        reasons = s.scalars(
            select(Action.reason).where(Action.customer_id == ids.customers["Monnier"])
        ).all()
    assert reasons == [UNDER_TOLERANCE]
    # Nothing more is chased for the 0.05.
    assert nightly(db, mail=False).run(d("2026-03-06")).left_out["under_tolerance"] == 1


IMPORT_HEAD = ["Code client", "Nom client", "N° facture", "Type", "Date facture"]
IMPORT_HEAD += ["Date d'échéance", "Montant TTC", "Reste dû"]


def test_interest_runs_on_what_was_late_each_day_between_payments(
    db: Database, tmp_path: Path
) -> None:
    # The ERP export of 10 January brings F1, 1,000.00 due on 1 January; that
    # of 10 February shows 400.00 paid. Claire sends the formal notice on
    # 2 March: interest on 1,000.00 until the payment, on 600.00 after it.
    imports = ImportService(db, "night-job")
    row = ["C1", "Monnier", "F1", "Facture", "01/12/2025", "01/01/2026", "1000,00"]
    for as_of, remaining in ((d("2026-01-10"), "1000,00"), (d("2026-02-10"), "600,00")):
        path = write_csv(tmp_path / f"{as_of}.csv", [IMPORT_HEAD, [*row, remaining]])
        imports.apply(imports.preview(path), as_of=as_of, create_entity=True)
    with db.session() as s:
        seed_default_templates(s)
        item = s.scalars(select(Item)).one()
        notice = Action(
            customer_id=item.customer_id,
            action_type=ActionType.REGISTERED_LETTER,
            planned_date=d("2026-03-02"),
        )
        s.add(notice)
        s.flush()
        s.add(
            ActionItem(
                action_id=notice.id,
                item_id=item.id,
                amount=item.remaining,
                days_late=60,
            )
        )
    result = DocumentService(ctx(db)).render_action(notice.id, today=d("2026-03-02"))
    interest = PdfReader(io.BytesIO(result.documents[-1].content))
    text = " ".join(p.extract_text() or "" for p in interest.pages)
    text = " ".join(text.replace("\u202f", " ").replace("\xa0", " ").split())
    # French legal rate for the first half of 2026 (ECB rate + 10 points),
    # interest running on the day paid:
    # 1,000.00 x 12.15 % x 40 / 365 = 13.32 from 2 January to 10 February,
    # 600.00 x 12.15 % x 20 / 365 = 3.99 from 11 February to 2 March.
    dash = "\u2013"
    assert f"1 000,00 € 02/01/2026 {dash} 10/02/2026 40 12,15 % 13,32 €" in text
    assert f"600,00 € 11/02/2026 {dash} 02/03/2026 20 12,15 % 3,99 €" in text
    assert "Total des intérêts de retard 17,31 €" in text


def test_an_invoice_cancelled_in_the_erp_cancels_its_reminder_and_tells_claire(
    db: Database,
) -> None:
    ids = standard_book(db, {"Monnier": [("F1", "2026-03-01", "500.00")]})
    nightly(db, mail=False).run(d("2026-03-01"))  # waits for Claire's click
    with db.session() as s:  # the ERP sync: F1 was cancelled, not paid
        s.execute(
            update(Item).values(
                remaining=0,
                status=ItemStatus.CLOSED,
                closed_on=d("2026-03-02"),
                closed_reason="cancelled",
            )
        )
    assert nightly(db, mail=False).run(d("2026-03-02")).cancelled_paid == 1
    with db.session() as s:
        action = s.scalars(select(Action)).one()
        assert (action.status, action.reason) == (
            ActionStatus.CANCELLED,
            "cancelled in the ERP: F1",
        )
        note = s.scalars(select(Notification)).one()
        assert (note.user_id, note.customer_id, note.action_id) == (
            ids.collector,
            ids.customers["Monnier"],
            action.id,
        )
    # In the entity's language (Acme France: French, once translated).
    french = translator("fr").gettext(
        "{numbers} was cancelled in the ERP after a reminder was prepared: "
        "the reminder is cancelled. Check what the customer was told."
    )
    assert note.message == french.format(numbers="F1")


def test_step_fees_are_charged_once_per_item_and_shown_on_the_notice(
    db: Database,
) -> None:
    # Letter 1 charges a fixed 15.00, the formal notice 2 % of the invoice.
    ids = standard_book(db, {"Monnier": [("F1", "2026-01-01", "1000.00")]})
    with db.session() as s:
        seed_default_templates(s)
        s.execute(update(Step).where(Step.offset_days == 10).values(fee_amount="15.00"))
        s.execute(
            update(Step)
            .where(Step.offset_days == 45)
            .values(fee_percent="2", template_code="FORMAL_NOTICE")
        )
        s.execute(
            update(Item).values(
                dunning_step_id=ids.steps[5], dunning_date=d("2026-01-06")
            )
        )
    documents = DocumentService(ctx(db))
    nightly(db, documents).run(d("2026-01-11"))  # letter 1, with its fee
    with db.session() as s:
        letter = s.scalars(select(Action)).one()
    documents.render_action(letter.id, today=d("2026-01-11"))  # printed again
    text = letter_text(db, letter.id)
    assert "Frais de relance 15,00 € Total à régler 1 015,00 €" in text
    assert "règlement de la somme de 1 015,00 €" in text
    with db.session() as s:  # the call was made; F1 stands at the call
        s.execute(
            update(Item).values(
                dunning_step_id=ids.steps[30], dunning_date=d("2026-02-01")
            )
        )
    nightly(db).run(d("2026-02-15"))  # the formal notice, for Claire to send
    with db.session() as s:
        notice = s.scalars(select(Action).where(Action.step_id == ids.steps[45])).one()
    result = documents.render_action(notice.id, today=d("2026-02-15"))
    text = letter_text(db, notice.id)
    # Fees: 15.00 once for letter 1, 20.00 (2 % of 1,000.00) for the notice.
    assert "\u2013 frais de relance : 35,00 € ;" in text
    interest = " ".join(
        (
            PdfReader(io.BytesIO(result.documents[-1].content)).pages[0].extract_text()
            or ""
        )
        .replace("\u202f", " ")
        .split()
    )
    assert "Frais de relance 35,00 €" in interest
    # Under insolvency, and for a customer whose indemnity is waived: none.
    with db.session() as s:
        s.execute(update(Customer).values(waive_indemnity=True))
    documents.render_action(notice.id, today=d("2026-02-15"))
    text = letter_text(db, notice.id)
    assert "frais de recouvrement : 0,00 €" in text
    with db.session() as s:
        s.execute(update(Customer).values(insolvency="redressement judiciaire"))
    documents.render_action(notice.id, today=d("2026-02-15"))
    assert "frais de relance" not in letter_text(db, notice.id)
