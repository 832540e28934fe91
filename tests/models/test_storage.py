"""Money, timestamps, audit trail and optimistic locking, on both databases."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from o2c_desktop.models import AuditEntry, Customer, Entity, Item
from o2c_desktop.models.repo import ConflictError, guard_conflicts

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database


def _customer(db: Database) -> int:
    with db.session("alice") as s:
        entity = Entity(code="FR01", name="Acme France")
        s.add(entity)
        s.flush()
        customer = Customer(
            entity_id=entity.id, reference="18981", name="Monnier et Fils"
        )
        s.add(customer)
        s.flush()
        return customer.id


def _add_item(db: Database, customer_id: int, number: str, amount: Decimal) -> None:
    with db.session("alice") as s:
        customer = s.get(Customer, customer_id)
        assert customer is not None
        s.add(
            Item(
                entity_id=customer.entity_id,
                customer_id=customer_id,
                kind="invoice",
                number=number,
                issue_date=dt.date(2026, 1, 5),
                due_date=dt.date(2026, 2, 4),
                amount=amount,
                remaining=amount,
                currency="EUR",
            )
        )


def test_amounts_come_back_exact_and_sum_exactly(db: Database) -> None:
    customer_id = _customer(db)
    amounts = [
        Decimal("0.10"),
        Decimal("0.20"),
        Decimal("1234567890123.45"),
        Decimal("-12.50"),
    ]
    for n, amount in enumerate(amounts):
        _add_item(db, customer_id, f"F{n}", amount)
    with db.session() as s:
        stored = sorted(s.scalars(select(Item.remaining)))
        total = s.scalar(select(func.sum(Item.remaining)))
    assert stored == sorted(amounts)
    assert all(isinstance(a, Decimal) for a in stored)
    assert total == sum(amounts)


@settings(max_examples=25, deadline=None)
@given(st.decimals(min_value=-(10**12), max_value=10**12, places=2, allow_nan=False))
def test_any_two_place_amount_round_trips_on_sqlite(
    tmp_path_factory: pytest.TempPathFactory, amount: Decimal
) -> None:
    from tests.conftest import _build

    db = _build(f"sqlite:///{tmp_path_factory.mktemp('h') / 'x.sqlite3'}")
    try:
        customer_id = _customer(db)
        _add_item(db, customer_id, "F1", amount)
        with db.session() as s:
            assert s.scalar(select(Item.remaining)) == amount
    finally:
        db.dispose()


def test_timestamps_are_utc_aware(db: Database) -> None:
    customer_id = _customer(db)
    with db.session() as s:
        customer = s.get(Customer, customer_id)
        assert customer is not None
        assert customer.created_at.tzinfo is not None
        assert customer.created_at.utcoffset() == dt.timedelta(0)


def test_every_change_is_in_the_audit_trail_with_who_and_before_after(
    db: Database,
) -> None:
    customer_id = _customer(db)
    with db.session("bob") as s:
        customer = s.get(Customer, customer_id)
        assert customer is not None
        customer.name = "Monnier & Fils"
    with db.session() as s:
        entries = s.scalars(
            select(AuditEntry)
            .where(AuditEntry.table_name == "customer")
            .order_by(AuditEntry.id)
        ).all()
        updated = s.get(Customer, customer_id)
        assert updated is not None
        assert updated.updated_by == "bob"
    assert [(e.operation, e.user_login) for e in entries] == [
        ("insert", "alice"),
        ("update", "bob"),
    ]
    assert entries[1].changes == {"name": ["Monnier et Fils", "Monnier & Fils"]}
    assert entries[1].record_id == str(customer_id)


def test_a_stale_write_fails_with_who_changed_it_and_keeps_their_change(
    db: Database,
) -> None:
    customer_id = _customer(db)
    with db.session("alice") as s:
        mine = s.get(Customer, customer_id)
        assert mine is not None
    # Bob saves first.
    with db.session("bob") as s:
        theirs = s.get(Customer, customer_id)
        assert theirs is not None
        theirs.credit_limit = Decimal("50000.00")

    def reload() -> Customer | None:
        with db.session() as s2:
            return s2.get(Customer, customer_id)

    def save_mine() -> None:
        with guard_conflicts(reload, "Customer 18981"), db.session("alice") as s:
            stale = s.merge(mine)
            stale.credit_limit = Decimal("10000.00")

    with pytest.raises(ConflictError, match=r"changed by bob at \d{4}-\d\d-\d\d"):
        save_mine()
    with db.session() as s:
        kept = s.get(Customer, customer_id)
        assert kept is not None
        assert kept.credit_limit == Decimal("50000.00")


def test_late_interest_rates_are_exact_percentages(db: Database) -> None:
    with db.session() as s:
        s.add(Entity(code="FR02", name="Acme Sud", late_interest_rate=Decimal("12.15")))
        s.add(
            Entity(code="FR03", name="Acme Est", late_interest_rate=Decimal("3.2475"))
        )
    with db.session() as s:
        rates = dict(s.execute(select(Entity.code, Entity.late_interest_rate)).all())
    assert rates == {"FR02": Decimal("12.1500"), "FR03": Decimal("3.2475")}
