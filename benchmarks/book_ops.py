"""Example operations on the book itself: what a dashboard and an agenda ask.

They show the convention (see README.md): each callable gets the database URL
of the benchmark book and runs one operation; `OPS` must not write.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import case, func, select, update

from benchmarks.book import BOOK_TODAY
from o2c_desktop.engine.types import ActionStatus, ItemKind, ItemStatus
from o2c_desktop.models import Action, Customer, Item, User
from o2c_desktop.models.db import open_database

if TYPE_CHECKING:
    from collections.abc import Callable


def aged_balance(url: str) -> list[Any]:
    """Open items by age bucket (by due date): count and amount."""
    days = [0, 30, 60, 90]
    edges = [BOOK_TODAY - dt.timedelta(days=d) for d in days]
    bucket = case(
        (Item.due_date >= edges[0], "not due"),
        (Item.due_date >= edges[1], "1-30"),
        (Item.due_date >= edges[2], "31-60"),
        (Item.due_date >= edges[3], "61-90"),
        else_="> 90",
    )
    db = open_database(url, migrate=False)
    try:
        with db.session() as s:
            return list(
                s.execute(
                    select(bucket, func.count(), func.sum(Item.remaining))
                    .where(Item.status == ItemStatus.OPEN)
                    .group_by(bucket)
                ).all()
            )
    finally:
        db.dispose()


def top_late_customers(url: str) -> list[Any]:
    """The 20 customers with the largest overdue amount."""
    overdue = func.sum(Item.remaining)
    db = open_database(url, migrate=False)
    try:
        with db.session() as s:
            return list(
                s.execute(
                    select(Customer.reference, Customer.name, overdue)
                    .join(Item, Item.customer_id == Customer.id)
                    .where(
                        Item.status == ItemStatus.OPEN,
                        Item.kind == ItemKind.INVOICE,
                        Item.due_date < BOOK_TODAY,
                    )
                    .group_by(Customer.id, Customer.reference, Customer.name)
                    .order_by(overdue.desc())
                    .limit(20)
                ).all()
            )
    finally:
        db.dispose()


def agenda_page(url: str) -> list[Any]:
    """The first page (50 rows) of one collector's agenda."""
    db = open_database(url, migrate=False)
    try:
        with db.session() as s:
            me = s.scalars(select(User.id).where(User.login == "arossi")).one()
            return list(
                s.execute(
                    select(Action.id, Action.planned_date, Customer.name)
                    .join(Customer, Customer.id == Action.customer_id)
                    .where(
                        Action.assigned_to_id == me,
                        Action.status.in_(
                            [ActionStatus.PENDING, ActionStatus.TO_CONFIRM]
                        ),
                    )
                    .order_by(Action.planned_date)
                    .limit(50)
                ).all()
            )
    finally:
        db.dispose()


def close_paid_items(url: str) -> int:
    """A payment run: close 10,000 open invoices (shows a write operation)."""
    db = open_database(url, migrate=False)
    try:
        with db.session() as s:
            ids = select(Item.id).where(
                Item.status == ItemStatus.OPEN, Item.kind == ItemKind.INVOICE
            )
            result = s.execute(
                update(Item)
                .where(
                    Item.id.in_(ids.order_by(Item.id).limit(10_000).scalar_subquery())
                )
                .values(status=ItemStatus.CLOSED, remaining=0, closed_on=BOOK_TODAY)
            )
            return int(result.rowcount)  # type: ignore[attr-defined]  # a CursorResult
    finally:
        db.dispose()


OPS: dict[str, Callable[[str], object]] = {
    "book: aged balance by bucket": aged_balance,
    "book: top 20 late customers": top_late_customers,
    "book: agenda first page": agenda_page,
}
WRITE_OPS: dict[str, Callable[[str], object]] = {
    "book: close 10,000 items": close_paid_items,
}
