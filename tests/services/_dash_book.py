"""A small book whose dashboard figures are computed by hand (issue #8).

Today is Tuesday 24 March 2026. Entity FR01 (EUR). Customer A ("Alpha",
portfolio 35 of Alex Rossi), customer B ("Bravo", no portfolio).

Open items:            issued      due         remaining  days late
  A1 invoice  (A)      2026-03-01  2026-03-31   1500.00    -7  not due
  A2 invoice  (A)      2026-01-10  2026-02-09   1000.00    43  31-60
  A3 credit   (A)      2026-03-10  2026-03-10   -200.00    14  1-30
  B1 invoice  (B)      2026-02-15  2026-03-17    700.00     7  1-30
  B2 invoice  (B)      2025-08-01  2025-08-31    400.00   205  > 180
Closed invoices of A: D 1000.00 (issued 2025-12-01, due 12-31, paid 2026-01-05),
C1 2100.00 (01-05, due 02-04, paid 02-10), C2 2100.00 (02-02, due 03-04, paid
03-02), C3 1500.00 (03-02, due 04-01, paid 03-20).

Revenue: Aug 2025 400, Dec 1000, Jan 3100, Feb 2800, Mar 3000.
Snapshots: 2026-01-31 outstanding 4000 (overdue 1000); 2026-02-28 4200 (1200).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemKind,
    ItemStatus,
    Role,
)
from o2c_desktop.models import (
    Action,
    ActionItem,
    BalanceSnapshot,
    Case,
    Customer,
    Entity,
    Item,
    Portfolio,
    SnapshotLine,
    User,
)
from o2c_desktop.models.base import utcnow

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

TODAY = dt.date(2026, 3, 24)
D = dt.date


def build_dash_book(db: Database) -> dict[str, int]:
    """Fill `db` with the book above; return ids by name."""
    with db.session("setup") as s:
        fr = Entity(code="FR01", name="Vallet SA", currency="EUR", country="FR")
        rossi = User(login="arossi", full_name="Alex Rossi", role=Role.COLLECTOR)
        boss = User(
            login="emanager", full_name="Emma Manager", role=Role.CREDIT_MANAGER
        )
        s.add_all([fr, rossi, boss])
        s.flush()
        p35 = Portfolio(
            code="35", name="Grand Compte", entity_id=fr.id, collector_id=rossi.id
        )
        s.add(p35)
        s.flush()
        a = Customer(
            entity_id=fr.id,
            reference="A",
            name="Alpha",
            portfolio_id=p35.id,
            collector_id=rossi.id,
            city="Lyon",
            country="FR",
        )
        b = Customer(entity_id=fr.id, reference="B", name="Bravo", collector_id=boss.id)
        s.add_all([a, b])
        s.flush()

        def item(
            c: Customer,
            number: str,
            issued: dt.date,
            due: dt.date,
            amount: str,
            *,
            kind: ItemKind = ItemKind.INVOICE,
            closed: dt.date | None = None,
        ) -> Item:
            return Item(
                entity_id=fr.id,
                customer_id=c.id,
                kind=kind,
                number=number,
                issue_date=issued,
                due_date=due,
                amount=Decimal(amount),
                remaining=Decimal(0) if closed else Decimal(amount),
                currency="EUR",
                status=ItemStatus.CLOSED if closed else ItemStatus.OPEN,
                closed_on=closed,
            )

        c3 = item(
            a, "C3", D(2026, 3, 2), D(2026, 4, 1), "1500.00", closed=D(2026, 3, 20)
        )
        b1 = item(b, "B1", D(2026, 2, 15), D(2026, 3, 17), "700.00")
        s.add_all(
            [
                item(a, "A1", D(2026, 3, 1), D(2026, 3, 31), "1500.00"),
                item(a, "A2", D(2026, 1, 10), D(2026, 2, 9), "1000.00"),
                item(
                    a,
                    "A3",
                    D(2026, 3, 10),
                    D(2026, 3, 10),
                    "-200.00",
                    kind=ItemKind.CREDIT_NOTE,
                ),
                b1,
                item(b, "B2", D(2025, 8, 1), D(2025, 8, 31), "400.00"),
                item(
                    a,
                    "D",
                    D(2025, 12, 1),
                    D(2025, 12, 31),
                    "1000.00",
                    closed=D(2026, 1, 5),
                ),
                item(
                    a,
                    "C1",
                    D(2026, 1, 5),
                    D(2026, 2, 4),
                    "2100.00",
                    closed=D(2026, 2, 10),
                ),
                item(
                    a,
                    "C2",
                    D(2026, 2, 2),
                    D(2026, 3, 4),
                    "2100.00",
                    closed=D(2026, 3, 2),
                ),
                c3,
            ]
        )
        for as_of, lines in (
            (D(2026, 1, 31), ((a, "3000.00", "600.00"), (b, "1000.00", "400.00"))),
            (D(2026, 2, 28), ((a, "3000.00", "1000.00"), (b, "1200.00", "200.00"))),
        ):
            snap = BalanceSnapshot(
                entity_id=fr.id,
                as_of=as_of,
                taken_at=utcnow(),
                source="test",
                item_count=4,
                outstanding=sum((Decimal(x[1]) for x in lines), Decimal(0)),
                overdue=sum((Decimal(x[2]) for x in lines), Decimal(0)),
            )
            s.add(snap)
            s.flush()
            s.add_all(
                SnapshotLine(
                    snapshot_id=snap.id,
                    customer_id=c.id,
                    outstanding=Decimal(o),
                    overdue=Decimal(v),
                )
                for c, o, v in lines
            )

        def action(
            c: Customer,
            kind: ActionType,
            day: dt.date,
            user: User,
            *,
            automatic: bool = False,
            status: ActionStatus = ActionStatus.DONE,
        ) -> Action:
            return Action(
                customer_id=c.id,
                action_type=kind,
                planned_date=day,
                status=status,
                automatic=automatic,
                assigned_to_id=user.id,
                performed_by_id=user.id if status == ActionStatus.DONE else None,
            )

        email = action(a, ActionType.EMAIL, D(2026, 3, 2), rossi, automatic=True)
        call = action(b, ActionType.PHONE_CALL, D(2026, 3, 10), rossi)
        s.add_all(
            [
                email,
                action(b, ActionType.LETTER, D(2026, 3, 2), rossi, automatic=True),
                call,
                action(a, ActionType.PHONE_CALL, D(2026, 3, 12), boss),
                action(a, ActionType.EMAIL, D(2026, 2, 20), rossi, automatic=True),
                action(
                    b,
                    ActionType.PHONE_CALL,
                    D(2026, 3, 15),
                    rossi,
                    status=ActionStatus.PENDING,
                ),
            ]
        )
        s.flush()
        s.add_all(
            [
                ActionItem(
                    action_id=email.id,
                    item_id=c3.id,
                    amount=Decimal("1500.00"),
                    days_late=0,
                ),
                ActionItem(
                    action_id=call.id,
                    item_id=b1.id,
                    amount=Decimal("700.00"),
                    days_late=0,
                ),
            ]
        )

        def case(
            number: str,
            c: Customer,
            kind: CaseKind,
            opened: dt.date,
            owner: User,
            *,
            status: CaseStatus = CaseStatus.OPEN,
            closed: dt.date | None = None,
            amount: str = "0.00",
            **extra: object,
        ) -> Case:
            return Case(
                number=number,
                customer_id=c.id,
                kind=kind,
                status=status,
                opened_on=opened,
                closed_on=closed,
                owner_id=owner.id,
                amount=Decimal(amount),
                currency="EUR",
                **extra,
            )

        s.add_all(
            [
                case(
                    "P1",
                    b,
                    CaseKind.PROMISE,
                    D(2026, 3, 13),
                    rossi,
                    amount="400.00",
                    promised_date=D(2026, 3, 27),
                ),
                case(
                    "P2",
                    a,
                    CaseKind.PROMISE,
                    D(2026, 3, 5),
                    rossi,
                    amount="100.00",
                    status=CaseStatus.KEPT,
                    promised_date=D(2026, 3, 6),
                ),
                case(
                    "L1",
                    a,
                    CaseKind.DISPUTE,
                    D(2026, 3, 4),
                    rossi,
                    amount="400.00",
                    reason="price",
                ),
                case(
                    "L2",
                    b,
                    CaseKind.DISPUTE,
                    D(2025, 12, 24),
                    boss,
                    amount="250.00",
                    reason="quality",
                ),
                case(
                    "L3",
                    b,
                    CaseKind.DISPUTE,
                    D(2026, 1, 1),
                    boss,
                    amount="10.00",
                    reason="quality",
                    status=CaseStatus.RESOLVED,
                    closed=D(2026, 1, 21),
                ),
                case(
                    "L4",
                    a,
                    CaseKind.DISPUTE,
                    D(2026, 2, 1),
                    rossi,
                    amount="10.00",
                    reason="price",
                    status=CaseStatus.RESOLVED,
                    closed=D(2026, 3, 3),
                ),
            ]
        )
        s.flush()
        return {
            "a": a.id,
            "b": b.id,
            "p35": p35.id,
            "rossi": rossi.id,
            "boss": boss.id,
            "fr": fr.id,
        }
