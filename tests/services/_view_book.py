"""A small book with figures computed by hand, for the read views' tests.

Today is Tuesday 24 March 2026. Expected figures (EUR):

- Monnier et Fils: 1000.00 due 40 days ago, 234.56 due 5 days ago, a credit
  note of -100.00 due 5 days ago, 500.00 not due, one closed invoice.
  Outstanding 1634.56, overdue 1134.56, 40 days late.
- Denis S.A.S.: 2000.00 due 200 days ago, 300.00 due 100 days ago.
  Outstanding 2300.00, overdue 2300.00, 200 days late.
- Allain Mercier et Fils: nothing open.
- Torres Ltd (GBP entity): 50.00 GBP due 70 days ago.

Alex Rossi's agenda: a call for Denis planned 2 days ago (late), an email for
Monnier today, a letter to confirm for Monnier tomorrow. A done action and
an action of another user are not in it.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    ItemKind,
    ItemStatus,
    Role,
    StepMode,
)
from o2c_desktop.models import (
    Action,
    Customer,
    Entity,
    Item,
    Portfolio,
    Scenario,
    Step,
    User,
)

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

TODAY = dt.date(2026, 3, 24)

STANDARD_STEPS = (
    ("Étape 1", -15, ActionType.EMAIL, StepMode.AUTOMATIC, "FR EMAIL PRE-RELANCE J-10"),
    ("Étape 2", 0, ActionType.EMAIL, StepMode.AUTOMATIC, "FR EMAIL RELEVE CPT J"),
    ("Étape 3", 5, ActionType.PHONE_CALL, StepMode.MANUAL, None),
    (
        "Étape 4",
        10,
        ActionType.LETTER,
        StepMode.AUTOMATIC,
        "FR Courrier de relance 1 J+10",
    ),
    (
        "Étape 5",
        20,
        ActionType.LETTER,
        StepMode.CONFIRM,
        "FR Courrier de relance 2 J+20",
    ),
    ("Étape 6", 30, ActionType.PHONE_CALL, StepMode.MANUAL, None),
    (
        "Étape 7",
        45,
        ActionType.REGISTERED_LETTER,
        StepMode.MANUAL,
        "FR Courrier AR de Mise en demeure J+45",
    ),
    (
        "Étape 8",
        75,
        ActionType.LITIGATION_HANDOVER,
        StepMode.MANUAL,
        "FR Courrier AR Contentieux - Injonction de payer J+75",
    ),
)


def _days(n: int) -> dt.date:
    return TODAY + dt.timedelta(days=n)


def build_view_book(db: Database) -> dict[str, int]:
    """Fill `db` with the book above; return ids by name."""
    with db.session("setup") as s:
        fr = Entity(code="FR01", name="Vallet SA", currency="EUR", country="FR")
        gb = Entity(
            code="GB01", name="Vallet Ltd", currency="GBP", country="GB", language="en"
        )
        rossi = User(login="arossi", full_name="Alex Rossi", role=Role.COLLECTOR)
        germain = User(
            login="egermain", full_name="Emmanuel Germain", role=Role.CREDIT_MANAGER
        )
        s.add_all([fr, gb, rossi, germain])
        s.flush()
        portfolio = Portfolio(
            code="35", name="Grand Compte", entity_id=fr.id, collector_id=rossi.id
        )
        scenario = Scenario(
            name="Standard",
            description="Scénario de relance standard",
            steps=[
                Step(
                    name=n,
                    offset_days=o,
                    action_type=t,
                    mode=m,
                    template_code=tpl,
                    attach_statement=o >= 10,
                    attach_interest=o >= 45,
                )
                for n, o, t, m, tpl in STANDARD_STEPS
            ],
        )
        s.add_all([portfolio, scenario])
        s.flush()
        monnier = Customer(
            entity_id=fr.id,
            reference="18981",
            name="Monnier et Fils",
            legal_id="123456789",
            portfolio_id=portfolio.id,
            collector_id=rossi.id,
            scenario_id=scenario.id,
        )
        denis = Customer(
            entity_id=fr.id,
            reference="118436",
            name="Denis S.A.S.",
            portfolio_id=portfolio.id,
            collector_id=rossi.id,
            scenario_id=scenario.id,
        )
        allain = Customer(
            entity_id=fr.id, reference="20001", name="Allain Mercier et Fils"
        )
        torres = Customer(entity_id=gb.id, reference="GB-7", name="Torres Ltd")
        s.add_all([monnier, denis, allain, torres])
        s.flush()

        def item(
            customer: Customer,
            number: str,
            due: int,
            remaining: str,
            *,
            kind: ItemKind = ItemKind.INVOICE,
            currency: str = "EUR",
            closed: bool = False,
        ) -> Item:
            return Item(
                entity_id=customer.entity_id,
                customer_id=customer.id,
                kind=kind,
                number=number,
                issue_date=_days(due - 30),
                due_date=_days(due),
                amount=Decimal(remaining) if not closed else Decimal("99.00"),
                remaining=Decimal(remaining),
                currency=currency,
                status=ItemStatus.CLOSED if closed else ItemStatus.OPEN,
            )

        s.add_all(
            [
                item(monnier, "F-1", -40, "1000.00"),
                item(monnier, "F-2", -5, "234.56"),
                item(monnier, "AV-1", -5, "-100.00", kind=ItemKind.CREDIT_NOTE),
                item(monnier, "F-3", 10, "500.00"),
                item(monnier, "F-0", -300, "0.00", closed=True),
                item(denis, "F-9", -200, "2000.00"),
                item(denis, "F-10", -100, "300.00"),
                item(torres, "INV-5", -70, "50.00", currency="GBP"),
            ]
        )

        def action(
            customer: Customer,
            kind: ActionType,
            planned: int,
            *,
            status: ActionStatus = ActionStatus.PENDING,
            user: User = rossi,
            amount: str | None = None,
        ) -> Action:
            return Action(
                customer_id=customer.id,
                action_type=kind,
                planned_date=_days(planned),
                status=status,
                assigned_to_id=user.id,
                amount=Decimal(amount) if amount else None,
                currency="EUR" if amount else None,
            )

        s.add_all(
            [
                action(denis, ActionType.PHONE_CALL, -2, amount="2300.00"),
                action(monnier, ActionType.EMAIL, 0, amount="1134.56"),
                action(monnier, ActionType.LETTER, 1, status=ActionStatus.TO_CONFIRM),
                action(denis, ActionType.EMAIL, -1, status=ActionStatus.DONE),
                action(denis, ActionType.PHONE_CALL, 0, user=germain),
            ]
        )
        s.flush()
        return {
            "monnier": monnier.id,
            "denis": denis.id,
            "allain": allain.id,
            "torres": torres.id,
            "scenario": scenario.id,
        }
