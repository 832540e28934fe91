"""Risk sweep benchmark (issue 19): run `python -m benchmarks.risk_sweep [--pg URL]`.

Budget: a book of 4,000 customers with SIRENs, a day's BODACC sweep of 600
collective notices served in pages of 100 (100 ms a page, a fake server that
follows the documented contract) and the local matching <= 30 s; a re-run of
the same day adds nothing. 25 notices name customers of the book, each with
overdue invoices: each opens an insolvency case (dunning frozen, claim valued,
task, reminder, letter PDF) inside the measured time.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import tempfile
import time
import uuid
from decimal import Decimal
from pathlib import Path

from sqlalchemy import create_engine, func, insert, make_url, select, text

from o2c_desktop.engine.identifiers import luhn_ok
from o2c_desktop.engine.types import ItemKind, Role
from o2c_desktop.models import Customer, Entity, InsolvencyCase, Item, RiskAlert, User
from o2c_desktop.models.db import open_database
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.risk import RiskService
from o2c_desktop.sync.risk.bodacc import BodaccConnector
from tests.risk.fakes import FakeBodacc, contract

CUSTOMERS = 4000
NOTICES = 600
OURS = 25
DAY = dt.date(2026, 10, 1)
PAGE_DELAY = 0.1


def siren(n: int) -> str:
    """The n-th Luhn-valid SIREN from 300000000 (fictitious)."""
    base = f"{300_000_00 + n:08d}"
    return next(base + d for d in "0123456789" if luhn_ok(base + d))


def build(url: str) -> None:
    """4,000 customers with SIRENs, two overdue invoices each."""
    db = open_database(url)
    try:
        with db.session("bench") as s:
            entity = Entity(code="FR01", name="Acme France", country="FR", city="Lyon")
            s.add_all(
                [entity, User(login="marc", full_name="Marc", role=Role.CREDIT_MANAGER)]
            )
            s.flush()
            s.execute(
                insert(Customer),
                [
                    {
                        "entity_id": entity.id,
                        "reference": f"C{n:05d}",
                        "name": f"Client {n}",
                        "legal_id": siren(n),
                        "version": 1,
                        "on_hold": False,
                    }
                    for n in range(CUSTOMERS)
                ],
            )
            ids = s.scalars(select(Customer.id).order_by(Customer.id)).all()
            s.execute(
                insert(Item),
                [
                    {
                        "entity_id": entity.id,
                        "customer_id": cid,
                        "kind": ItemKind.INVOICE,
                        "number": f"F{cid}-{k}",
                        "issue_date": dt.date(2026, 6, 1),
                        "due_date": dt.date(2026, 7, 1 + k),
                        "amount": Decimal("1200.00"),
                        "remaining": Decimal("1200.00"),
                        "currency": "EUR",
                    }
                    for cid in ids
                    for k in range(2)
                ],
            )
    finally:
        db.dispose()


def notices() -> list[dict[str, object]]:
    """A day of notices: 25 name the book's SIRENs, the rest other companies."""
    base = contract("bodacc_annonces_commerciales_records.json")["results"][1]
    out = []
    for n in range(NOTICES):
        record = json.loads(json.dumps(base))
        record["id"] = f"A2026{n:08d}"
        record["dateparution"] = DAY.isoformat()
        number = siren(n * (CUSTOMERS // OURS)) if n < OURS else siren(10**6 + n)
        record["registre"] = [number, f"{number[:3]} {number[3:6]} {number[6:]}"]
        out.append(record)
    return out


def run(url: str) -> list[tuple[str, float, str]]:
    fake = FakeBodacc(notices())
    fake.delay = PAGE_DELAY
    fake.start()
    try:
        db = open_database(url)
        service = RiskService(
            AppContext(db=db, user_login="marc"),
            {"bodacc": BodaccConnector(base_url=fake.base)},
        )
        rows = []
        for label in ("first sweep", "re-run"):
            start = time.perf_counter()
            report = service.sync("bodacc", today=DAY, since=DAY)
            took = time.perf_counter() - start
            rows.append(
                (
                    label,
                    took,
                    f"{report.pulled} pulled in {report.requests} pages, "
                    f"{report.matched} matched, {report.cases_opened} cases, "
                    f"{report.alerts} alerts",
                )
            )
        with db.session() as s:
            cases = s.scalar(select(func.count()).select_from(InsolvencyCase))
            alerts = s.scalar(select(func.count()).select_from(RiskAlert))
        assert (cases, alerts) == (OURS, OURS), (cases, alerts)
        db.dispose()
        return rows
    finally:
        fake.stop()


def _pg_schema(url: str) -> tuple[str, str]:
    schema = f"bench_risk_{uuid.uuid4().hex[:8]}"
    admin = create_engine(make_url(url).set(drivername="postgresql+psycopg"))
    with admin.begin() as conn:
        conn.execute(text(f'CREATE SCHEMA "{schema}"'))
    admin.dispose()
    target = make_url(url).set(drivername="postgresql+psycopg")
    target = target.update_query_dict({"options": f"-csearch_path={schema}"})
    return schema, target.render_as_string(hide_password=False)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--pg", help="also on this PostgreSQL server")
    args = parser.parse_args()
    targets: list[tuple[str, str]] = []
    folder = Path(tempfile.mkdtemp(prefix="o2c-risk-"))
    targets.append(("sqlite", f"sqlite:///{folder / 'book.sqlite3'}"))
    schema = None
    if args.pg:
        schema, pg_url = _pg_schema(args.pg)
        targets.append(("postgresql", pg_url))
    try:
        for name, url in targets:
            build(url)
            for label, took, what in run(url):
                print(f"{name:<10}  {label:<12} {took:6.2f} s  {what}")
    finally:
        if schema and args.pg:
            admin = create_engine(
                make_url(args.pg).set(drivername="postgresql+psycopg")
            )
            with admin.begin() as conn:
                conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
            admin.dispose()
    return 0


if __name__ == "__main__":
    sys.exit(main())
