"""The collector's workbench (issue #7): the agenda and the client card.

Budget: opening the agenda or a client card takes at most 300 ms on the
1,000,000-item book, a customer with 10,000 items included. Each operation is
one service call, as the UI makes it on a worker thread, opening the database
included (the runner times the whole call):

- the agenda of the busiest collector (most waiting actions), as they see it;
- the client card (header, contacts, settings, amounts, attachments) of the
  customer with the most items, its invoices' first page and its timeline's
  first page, then all four as the card asks for them when it opens.

Who is busiest and which customer is biggest are looked up by the first
operation (its own row, "workbench: pick the collector and the customer"), so
the others time only what a user waits for.

The demo book's biggest customer has a few hundred items, not 10,000 (`o2c
demo` draws each customer's share of the items from a lognormal). Run this
module to time the same operations on a throwaway copy of the cached book
where that customer's items (and their actions) are copied until it has
10,000; it prints the median and the worst run::

    python -m benchmarks.workbench_ops [--pg URL] [--items 10000] [--repeat 10]
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import sys
import time
import uuid
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import func, insert, select

from benchmarks.book import BOOK_TODAY
from o2c_desktop.engine.types import ActionStatus, ItemKind
from o2c_desktop.engine.workbench import ItemQuery, TimelineTab
from o2c_desktop.models import Action, ActionItem, Item, User
from o2c_desktop.models.db import analyze, open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.workbench import WorkbenchService

if TYPE_CHECKING:
    from collections.abc import Callable

    from sqlalchemy import Table

# What the client card asks for when it opens (ui/client_card_view.py).
CARD_PAGE = 10
TIMELINE_PAGE = 100

_picked: dict[str, tuple[str, int]] = {}


def pick(url: str) -> tuple[str, int]:
    """The busiest collector's login and the customer with the most items."""
    db = open_database(url, migrate=False)
    try:
        with db.session() as s:
            waiting = (
                select(Action.assigned_to_id, func.count().label("n"))
                .where(
                    Action.status == ActionStatus.PENDING,
                    Action.assigned_to_id.is_not(None),
                )
                .group_by(Action.assigned_to_id)
                .subquery()
            )
            login = s.execute(
                select(User.login)
                .join(waiting, waiting.c.assigned_to_id == User.id)
                .order_by(waiting.c.n.desc(), User.id)
                .limit(1)
            ).scalar_one()
            customer_id = s.execute(
                select(Item.customer_id)
                .group_by(Item.customer_id)
                .order_by(func.count().desc(), Item.customer_id)
                .limit(1)
            ).scalar_one()
    finally:
        db.dispose()
    _picked[url] = (login, customer_id)
    return login, customer_id


def _timed(
    call: Callable[[WorkbenchService, int], object],
) -> Callable[[str], object]:
    def op(url: str) -> object:
        login, customer_id = _picked.get(url) or pick(url)
        db = open_database(url, migrate=False)
        try:
            service = WorkbenchService(AppContext(db=db, user_login=login))
            return call(service, customer_id)
        finally:
            db.dispose()

    return op


def _agenda(service: WorkbenchService, _customer_id: int) -> object:
    return service.agenda(BOOK_TODAY)


def _card(service: WorkbenchService, customer_id: int) -> object:
    return service.customer_card(customer_id, BOOK_TODAY)


def _invoices(service: WorkbenchService, customer_id: int) -> object:
    query = ItemQuery(limit=CARD_PAGE, kinds=(ItemKind.INVOICE,))
    return service.items(customer_id, query, BOOK_TODAY)


def _open_items(service: WorkbenchService, customer_id: int) -> object:
    query = ItemQuery(limit=CARD_PAGE, open_only=True)
    return service.items(customer_id, query, BOOK_TODAY)


def _timeline(service: WorkbenchService, customer_id: int) -> object:
    return service.timeline(customer_id, TimelineTab.DUNNING, limit=TIMELINE_PAGE)


def _whole_card(service: WorkbenchService, customer_id: int) -> object:
    return [f(service, customer_id) for f in (_card, _invoices, _open_items, _timeline)]


OPS: dict[str, Callable[[str], object]] = {
    "workbench: pick the collector and the customer": pick,
    "workbench: agenda, busiest collector": _timed(_agenda),
    "workbench: client card, biggest customer": _timed(_card),
    "workbench: invoices first page, biggest customer": _timed(_invoices),
    "workbench: timeline, biggest customer": _timed(_timeline),
    "workbench: card + tables + timeline, biggest customer": _timed(_whole_card),
}


# -- a customer with 10,000 items (run this module) ------------------------------------


def grow_customer(url: str, customer_id: int, items: int) -> int:
    """Copy a customer's items and actions until it has `items` items.

    Copy k of item "FA1" is "FA1-k"; each action of the customer is copied with
    the copies of its items, so the timeline and the agenda grow in step.

    Returns:
        How many items the customer has now.
    """
    item_t, action_t, link_t = (
        cast("Table", m.__table__) for m in (Item, Action, ActionItem)
    )
    db = open_database(url, migrate=False)
    try:
        with db.engine.begin() as conn:
            source = [
                dict(r._mapping)
                for r in conn.execute(
                    select(item_t).where(item_t.c.customer_id == customer_id)
                )
            ]
            actions = [
                dict(r._mapping)
                for r in conn.execute(
                    select(action_t).where(action_t.c.customer_id == customer_id)
                )
            ]
            links = [
                dict(r._mapping)
                for r in conn.execute(
                    select(link_t).where(
                        link_t.c.action_id.in_([a["id"] for a in actions])
                    )
                )
            ]
            copies = max(0, -(-items // max(1, len(source))) - 1)
            number_of = {r["id"]: r["number"] for r in source}
            for k in range(1, copies + 1):
                rows = [
                    {
                        **{c: v for c, v in r.items() if c != "id"},
                        "number": f"{r['number']}-{k}",
                    }
                    for r in source
                ]
                conn.execute(insert(item_t), rows)
                new_ids = dict(
                    conn.execute(
                        select(item_t.c.number, item_t.c.id).where(
                            item_t.c.customer_id == customer_id,
                            item_t.c.number.like(f"%-{k}"),
                        )
                    ).all()
                )
                new_action = {a["id"]: uuid.uuid4() for a in actions}
                if actions:
                    conn.execute(
                        insert(action_t),
                        [{**a, "id": new_action[a["id"]]} for a in actions],
                    )
                moved = [
                    {
                        **x,
                        "action_id": new_action[x["action_id"]],
                        "item_id": new_ids[f"{number_of[x['item_id']]}-{k}"],
                    }
                    for x in links
                    if x["item_id"] in number_of
                ]
                if moved:
                    conn.execute(insert(link_t), moved)
            total = conn.execute(
                select(func.count()).where(item_t.c.customer_id == customer_id)
            ).scalar_one()
        analyze(db)  # as after an import (PostgreSQL; nothing on SQLite)
        return int(total)
    finally:
        db.dispose()


def _time(fn: Callable[[str], object], url: str, repeat: int) -> list[float]:
    runs = []
    for _ in range(repeat):
        started = time.perf_counter()
        fn(url)
        runs.append(time.perf_counter() - started)
    return runs


def main(argv: list[str] | None = None) -> int:
    """Time the workbench operations with a 10,000-item customer; print them."""
    from benchmarks import book, run

    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.workbench_ops",
        description="The workbench operations with a customer of 10,000 items.",
    )
    parser.add_argument("--pg", metavar="URL", help="also on this PostgreSQL server")
    parser.add_argument("--items", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args(argv)
    sizes = (book.CUSTOMERS, book.ITEMS, book.SEED)
    kinds = ["sqlite"] + (["postgresql"] if args.pg else [])
    print(f"{'operation':56} {'database':10} {'median':>8} {'worst':>8}  runs (ms)")
    for kind in kinds:
        print(f"[{kind}] preparing a copy of the book...", file=sys.stderr)
        made: Any = (
            run.sqlite_book(*sizes, False)
            if kind == "sqlite"
            else run.pg_book(args.pg, *sizes, False)
        )
        source = made[0]
        copy = (
            contextlib.contextmanager(run.sqlite_copy)(source)
            if kind == "sqlite"
            else contextlib.contextmanager(run.pg_copy)(source, args.pg)
        )
        with copy as url:
            login, customer_id = pick(url)
            count = grow_customer(url, customer_id, args.items)
            _picked[url] = (login, customer_id)
            print(
                f"[{kind}] customer {customer_id}: {count:,} items; agenda of {login}",
                file=sys.stderr,
            )
            for name, fn in OPS.items():
                if fn is pick:
                    continue
                runs = _time(fn, url, args.repeat)
                shown = " ".join(f"{x * 1000:.0f}" for x in runs)
                print(
                    f"{name.replace('biggest', f'{count:,}-item'):56} {kind:10} "
                    f"{statistics.median(runs) * 1000:6.0f}ms "
                    f"{max(runs) * 1000:6.0f}ms  {shown}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
