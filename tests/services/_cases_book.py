"""A small book for the case scenarios: one entity, a team, two customers.

The collector is Alice; Bob is her colleague and replacement; Carla is the
credit manager; Sam is a sales rep who answers disputes. Monnier et Fils
(18981) owes three invoices, Denis S.A.S. (118436) one. The entity works in
English unless a scenario asks for French (the actions' texts follow it).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import select

from o2c_desktop.engine.types import ActionStatus, ItemKind, ItemStatus, Role
from o2c_desktop.models import Action, Customer, Entity, Item, User
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal


@dataclass
class Book:
    """Ids of the book's records and helpers that play the ERP and the agenda."""

    db: Database
    monnier: int
    denis: int
    f1: int  # 23854826, 1,000.00 due 15 Jan 2026
    f2: int  # 47997206, 500.00 due 1 Feb 2026
    f3: int  # 45933709, 2,000.00 due 1 Apr 2026 (not yet due in March)
    g1: int  # Denis: 300.00 due 10 Jan 2026

    def service(self, login: str = "alice") -> CasesService:
        """The cases service as `login` works with it."""
        return CasesService(AppContext(db=self.db, user_login=login))

    def pay(self, item_id: int, amount: Decimal) -> None:
        """A payment the ERP applied to an item (what an import does)."""
        with self.db.session("erp-import") as s:
            item = s.get(Item, item_id)
            assert item is not None
            item.remaining -= amount
            if item.remaining <= 0:
                item.status = ItemStatus.CLOSED
                item.closed_on = dt.date(2026, 3, 1)

    def item(self, item_id: int) -> Item:
        """A detached copy of an item, to look at its dunning flags."""
        with self.db.session() as s:
            item = s.get(Item, item_id)
            assert item is not None
            s.expunge(item)
            return item

    def customer(self, customer_id: int) -> Customer:
        """A detached copy of a customer."""
        with self.db.session() as s:
            customer = s.get(Customer, customer_id)
            assert customer is not None
            s.expunge(customer)
            return customer

    def agenda(self, login: str) -> list[tuple[str | None, str | None]]:
        """(subject, comment) of the pending actions in `login`'s agenda."""
        with self.db.session() as s:
            rows = s.execute(
                select(Action.subject, Action.comment)
                .join(User, User.id == Action.assigned_to_id)
                .where(User.login == login, Action.status == ActionStatus.PENDING)
                .order_by(Action.created_at)
            ).all()
        return [(subject, comment) for subject, comment in rows]


def build_book(db: Database, language: str = "en") -> Book:
    """Create the team, the customers and their invoices."""
    with db.session("setup") as s:
        entity = Entity(
            code="FR01",
            name="Vallet SA",
            currency="EUR",
            country="FR",
            language=language,
        )
        s.add(entity)
        users = {
            login: User(login=login, full_name=name, role=role)
            for login, name, role in (
                ("alice", "Alice Rossi", Role.COLLECTOR),
                ("bob", "Bob Boucher", Role.COLLECTOR),
                ("carla", "Carla Gay", Role.CREDIT_MANAGER),
                ("sam", "Sam Dumas", Role.COLLECTOR),
            )
        }
        s.add_all(users.values())
        s.flush()
        users["alice"].replacement_id = users["bob"].id
        monnier = Customer(
            entity_id=entity.id,
            reference="18981",
            name="Monnier et Fils",
            legal_id="552100554",
            address1="impasse Michelle Lucas",
            postal_code="45349",
            city="Monnier",
            country="FR",
            email="compta@monnier.example",
            collector_id=users["alice"].id,
        )
        denis = Customer(
            entity_id=entity.id,
            reference="118436",
            name="Denis S.A.S.",
            collector_id=users["alice"].id,
        )
        s.add_all([monnier, denis])
        s.flush()

        def invoice(customer: Customer, number: str, amount: str, due: dt.date) -> int:
            item = Item(
                entity_id=entity.id,
                customer_id=customer.id,
                kind=ItemKind.INVOICE,
                number=number,
                issue_date=due - dt.timedelta(days=30),
                due_date=due,
                amount=D(amount),
                remaining=D(amount),
                currency="EUR",
            )
            s.add(item)
            s.flush()
            return item.id

        return Book(
            db=db,
            monnier=monnier.id,
            denis=denis.id,
            f1=invoice(monnier, "23854826", "1000.00", dt.date(2026, 1, 15)),
            f2=invoice(monnier, "47997206", "500.00", dt.date(2026, 2, 1)),
            f3=invoice(monnier, "45933709", "2000.00", dt.date(2026, 4, 1)),
            g1=invoice(denis, "48064383", "300.00", dt.date(2026, 1, 10)),
        )
