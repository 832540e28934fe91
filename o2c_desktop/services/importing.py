"""Applying an aged-balance import to the book, and exporting items back.

One transaction, all or nothing. Set-based: rows go to a temporary staging
table (executemany on SQLite, COPY on PostgreSQL), then a few INSERT/UPDATE
statements upsert customers and items, close the items a full import no
longer lists (paid on the balance date) and record the balance snapshot.
Unchanged items are not written, so re-importing a file costs little.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import time
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    Column,
    Date,
    Integer,
    MetaData,
    String,
    Table,
    and_,
    case,
    cast,
    exists,
    func,
    insert,
    literal,
    select,
    type_coerce,
    update,
)
from sqlalchemy.types import Numeric

from o2c_desktop import settings as settings_mod
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import (
    AuditEntry,
    BalanceSnapshot,
    Customer,
    Entity,
    Item,
    SnapshotLine,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.context import Changes
from o2c_desktop.sync.importing.export import ExportRow, write_items_xlsx
from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.sync.importing.parse import ImportOptions, ParsedImport, parse_file

if TYPE_CHECKING:
    from collections.abc import Callable

    import pandas as pd
    from sqlalchemy.engine import Connection
    from sqlalchemy.sql import ColumnElement

    from o2c_desktop.models.db import Database

log = logging.getLogger(__name__)

CHUNK = 20_000


class ImportRefusedError(Exception):
    """The import can't be applied; the message says why. Nothing was written."""


class ImportCancelledError(Exception):
    """The user cancelled; nothing was written."""


@dataclass(frozen=True)
class EntityChoice:
    """An entity the user can import into."""

    id: int
    code: str
    name: str
    currency: str


@dataclass(frozen=True)
class ImportResult:
    """What an import changed (or would change, for a dry run)."""

    entity: str
    as_of: dt.date
    full: bool
    dry_run: bool
    rows_imported: int
    rows_rejected: int
    customers_created: int
    customers_updated: int
    items_created: int
    items_updated: int
    items_unchanged: int
    items_closed: int
    outstanding_before: Decimal
    outstanding_after: Decimal
    overdue_after: Decimal
    entity_created: bool = False
    snapshot_id: int | None = None
    changes: Changes = field(default_factory=Changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        data = {k: v for k, v in self.__dict__.items() if k != "changes"}
        return {
            k: str(v) if isinstance(v, Decimal | dt.date) else v
            for k, v in data.items()
        }


def _cents(column: ColumnElement[Any], dialect: str) -> ColumnElement[Any]:
    """Staged integer cents as the Money column stores them.

    SQLite stores Money as integer cents already; PostgreSQL as NUMERIC(18,2),
    so the division stays exact there.
    """
    if dialect == "sqlite":
        return column
    return cast(column, Numeric(18, 2)) / 100


def _stage_table(dialect: str) -> Table:
    options: dict[str, Any] = {"prefixes": ["TEMPORARY"]}
    if dialect == "postgresql":
        options["postgresql_on_commit"] = "DROP"
    return Table(
        "o2c_import_stage",
        MetaData(),
        Column("customer_id", Integer, nullable=False),
        Column("number", String(40), nullable=False),
        Column("instalment", Integer, nullable=False),
        Column("kind", String(24)),
        Column("reference", String(100)),
        Column("issue_date", Date),
        Column("due_date", Date),
        Column("amount", BigInteger),
        Column("remaining", BigInteger),
        Column("currency", String(3)),
        Column("valid", Integer, nullable=False),
        **options,
    )


class ImportService:
    """Preview, apply and export aged balances; keep mapping profiles.

    Args:
        db: the open database.
        user_login: who imports (audit trail).
    """

    def __init__(self, db: Database, user_login: str = "") -> None:
        self._db = db
        self._user = user_login or None

    # -- reading ---------------------------------------------------------------
    def preview(
        self, path: Path | str, options: ImportOptions | None = None
    ) -> ParsedImport:
        """Read and check a file without touching the database."""
        return parse_file(path, options)

    def entities(self) -> list[EntityChoice]:
        """The entities one can import into, by code."""
        with self._db.session(self._user) as s:
            rows = s.execute(
                select(Entity.id, Entity.code, Entity.name, Entity.currency).order_by(
                    Entity.code
                )
            ).all()
        return [EntityChoice(r.id, r.code, r.name, r.currency) for r in rows]

    # -- writing ---------------------------------------------------------------
    def apply(
        self,
        parsed: ParsedImport,
        *,
        entity_code: str | None = None,
        as_of: dt.date,
        partial: bool = False,
        valid_only: bool = False,
        dry_run: bool = False,
        create_entity: bool = False,
        report: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportResult:
        """Write the parsed rows into the book, all or nothing.

        Args:
            parsed: the result of `preview`.
            entity_code: which entity the file belongs to; may be omitted when
                the database holds exactly one entity, or none (first import).
            as_of: balance date: items a full import no longer lists are
                closed as paid on that date.
            partial: only add and update; close nothing, no snapshot.
            valid_only: import the valid rows when some have errors.
            dry_run: do everything, count it, and roll back.
            create_entity: create `entity_code` if it does not exist.
            report: progress in percent.
            cancelled: polled between steps; True rolls everything back.

        Raises:
            ImportRefusedError: the file can't be imported (with the reason).
            ImportCancelledError: the user cancelled; nothing was written.
        """
        tick = report or (lambda _pct: None)
        stop = cancelled or (lambda: False)
        if parsed.fatal:
            first = parsed.problems[0] if parsed.problems else None
            raise ImportRefusedError(str(first) if first else "nothing to import")
        rows = parsed.rows
        assert rows is not None
        errors = rows["error"].to_numpy() != ""
        if errors.any() and not valid_only:
            raise ImportRefusedError(
                f"{int(errors.sum())} rows have errors; nothing was imported. Fix "
                "the file, or import the valid rows only."
            )
        outcome: ImportResult | None = None
        try:
            with self._db.session(self._user) as s:
                conn = s.connection()
                entity_id, code, currency, created = self._entity(
                    conn, entity_code, create_entity, rows
                )
                tick(5)
                outcome = self._apply(
                    conn,
                    parsed,
                    entity_id,
                    code,
                    currency,
                    as_of,
                    partial,
                    dry_run,
                    tick,
                    stop,
                )
                outcome = _with(outcome, entity_created=created)
                if dry_run:
                    s.rollback()
        except ImportCancelledError:
            log.info("Import of %s cancelled; nothing written", parsed.path)
            raise
        tick(100)
        return outcome

    def _entity(
        self, conn: Connection, code: str | None, create: bool, rows: pd.DataFrame
    ) -> tuple[int, str, str, bool]:
        """Resolve the entity; create it on the very first import or if asked.

        A typo must not split the book in two, so an unknown code is refused
        while other entities exist, unless `create` is set.
        """
        known = conn.execute(select(Entity.id, Entity.code, Entity.currency)).all()
        if code is None:
            if len(known) == 1:
                return known[0].id, known[0].code, known[0].currency, False
            if known:
                codes = ", ".join(sorted(r.code for r in known))
                msg = f"several entities exist: choose one ({codes})"
                raise ImportRefusedError(msg)
            code = "MAIN"
        for r in known:
            if r.code == code:
                return r.id, r.code, r.currency, False
        if known and not create:
            codes = ", ".join(sorted(r.code for r in known))
            raise ImportRefusedError(
                f"no entity {code!r} (known: {codes}); create it explicitly to import "
                "into a new entity"
            )
        currencies = rows.loc[rows["currency"] != "", "currency"]
        currency = str(currencies.mode().iloc[0]) if len(currencies) else "EUR"
        now = utcnow()
        new_id = conn.execute(
            insert(Entity)
            .values(
                code=code,
                name=code,
                currency=currency,
                country="FR",
                language="fr",
                version=1,
                created_at=now,
                updated_at=now,
                updated_by=self._user,
            )
            .returning(Entity.id)
        ).scalar_one()
        return new_id, code, currency, True

    def _apply(
        self,
        conn: Connection,
        parsed: ParsedImport,
        entity_id: int,
        entity_code: str,
        currency: str,
        as_of: dt.date,
        partial: bool,
        dry_run: bool,
        tick: Callable[[int], None],
        stop: Callable[[], bool],
    ) -> ImportResult:
        started = time.perf_counter()

        def checkpoint(pct: int) -> None:
            log.debug("import step %s at %.3f s", pct, time.perf_counter() - started)
            if stop():
                raise ImportCancelledError
            tick(pct)

        dialect = conn.dialect.name
        rows = parsed.rows
        assert rows is not None
        item = _table(Item)
        open_items = and_(
            item.c.entity_id == entity_id, item.c.status == ItemStatus.OPEN
        )
        money = item.c.remaining.type
        before = conn.execute(
            select(type_coerce(func.sum(item.c.remaining), money)).where(open_items)
        ).scalar_one()
        # Customers: create the new ones, rename the renamed ones.
        customers = self._customers(conn, entity_id, rows)
        created_customers, updated_customers, ids = customers
        checkpoint(15)
        frame = rows.assign(
            customer_id=rows["customer_ref"].map(ids),
            valid=(rows["error"] == "").astype(np.int64),
            currency=rows["currency"].where(rows["currency"] != "", currency),
        )
        frame = frame[frame["customer_id"].notna()]
        frame = frame.assign(
            due_date=self._due_dates(conn, entity_id, frame, parsed.options)
        )
        stage = _stage_table(dialect)
        stage.drop(conn, checkfirst=True)
        stage.create(conn)
        self._load(conn, stage, frame, checkpoint)
        conn.exec_driver_sql(
            "CREATE INDEX ix_o2c_import_stage ON o2c_import_stage "
            "(customer_id, number, instalment)"
        )
        checkpoint(55)
        st = stage.c
        same_key = and_(
            item.c.entity_id == entity_id,
            item.c.customer_id == st.customer_id,
            item.c.number == st.number,
            item.c.instalment == st.instalment,
        )
        valid_rows = st.valid == 1
        now = utcnow()
        differs = (
            (item.c.status != ItemStatus.OPEN)
            | item.c.kind.is_distinct_from(st.kind)
            | item.c.reference.is_distinct_from(st.reference)
            | (item.c.issue_date != st.issue_date)
            | (item.c.due_date != st.due_date)
            | (item.c.amount != _cents(st.amount, dialect))
            | (item.c.remaining != _cents(st.remaining, dialect))
            | (item.c.currency != st.currency)
        )
        updated = conn.execute(
            update(item)
            .where(same_key, valid_rows, differs)
            .values(
                kind=st.kind,
                reference=st.reference,
                issue_date=st.issue_date,
                due_date=st.due_date,
                amount=_cents(st.amount, dialect),
                remaining=_cents(st.remaining, dialect),
                currency=st.currency,
                status=ItemStatus.OPEN,
                closed_on=None,
                updated_at=now,
            )
        ).rowcount
        checkpoint(70)
        # rowcount of INSERT ... SELECT is -1 with psycopg: count around it.
        count_items = select(func.count()).where(item.c.entity_id == entity_id)
        count_before = conn.execute(count_items).scalar_one()
        conn.execute(
            insert(item).from_select(
                [
                    "entity_id",
                    "customer_id",
                    "kind",
                    "number",
                    "instalment",
                    "reference",
                    "issue_date",
                    "due_date",
                    "amount",
                    "remaining",
                    "currency",
                    "status",
                    "disputed",
                    "in_litigation",
                    "created_at",
                    "updated_at",
                ],
                select(
                    literal(entity_id),
                    st.customer_id,
                    st.kind,
                    st.number,
                    st.instalment,
                    st.reference,
                    st.issue_date,
                    st.due_date,
                    _cents(st.amount, dialect),
                    _cents(st.remaining, dialect),
                    st.currency,
                    literal(ItemStatus.OPEN.value),
                    literal(False),
                    literal(False),
                    literal(now, item.c.created_at.type),
                    literal(now, item.c.updated_at.type),
                ).where(valid_rows, ~exists().where(same_key)),
            )
        )
        inserted = conn.execute(count_items).scalar_one() - count_before
        checkpoint(85)
        closed = 0
        if not partial:
            # Items the snapshot no longer lists were paid by the balance date.
            in_file = exists().where(
                st.customer_id == item.c.customer_id,
                st.number == item.c.number,
                st.instalment == item.c.instalment,
            )
            closed = conn.execute(
                update(item)
                .where(open_items, ~in_file)
                .values(
                    status=ItemStatus.CLOSED,
                    closed_on=as_of,
                    remaining=0,
                    updated_at=now,
                )
            ).rowcount
        checkpoint(92)
        overdue_expr = type_coerce(
            func.sum(case((item.c.due_date < as_of, item.c.remaining), else_=0)),
            money,
        )
        totals = conn.execute(
            select(
                func.count(),
                type_coerce(func.sum(item.c.remaining), money),
                overdue_expr,
            ).where(open_items)
        ).one()
        after = _money(totals[1])
        overdue = _money(totals[2])
        snapshot_id = None
        if not partial:
            snapshot_id = conn.execute(
                insert(BalanceSnapshot)
                .values(
                    entity_id=entity_id,
                    as_of=as_of,
                    taken_at=now,
                    source=str(parsed.path)[:400],
                    item_count=totals[0],
                    outstanding=after,
                    overdue=overdue,
                )
                .returning(BalanceSnapshot.id)
            ).scalar_one()
            conn.execute(
                insert(SnapshotLine).from_select(
                    ["snapshot_id", "customer_id", "outstanding", "overdue"],
                    select(
                        literal(snapshot_id),
                        item.c.customer_id,
                        func.sum(item.c.remaining),
                        overdue_expr,
                    )
                    .where(open_items)
                    .group_by(item.c.customer_id),
                )
            )
        valid = int(frame["valid"].sum())
        result = ImportResult(
            entity=entity_code,
            as_of=as_of,
            full=not partial,
            dry_run=dry_run,
            rows_imported=valid,
            rows_rejected=len(rows) - valid,
            customers_created=created_customers,
            customers_updated=updated_customers,
            items_created=inserted,
            items_updated=updated,
            items_unchanged=valid - inserted - updated,
            items_closed=closed,
            outstanding_before=_money(before),
            outstanding_after=after,
            overdue_after=overdue,
            snapshot_id=snapshot_id,
            changes=Changes(
                customers=bool(created_customers or updated_customers),
                items=bool(inserted or updated or closed),
            ),
        )
        conn.execute(
            insert(AuditEntry).values(
                at=now,
                user_login=self._user,
                table_name="item",
                record_id=f"import:{snapshot_id or ''}"[:40],
                operation="import",
                changes={"file": str(parsed.path), **result.as_dict()},
            )
        )
        stage.drop(conn, checkfirst=True)
        return result

    def _customers(
        self, conn: Connection, entity_id: int, rows: pd.DataFrame
    ) -> tuple[int, int, dict[str, int]]:
        """Insert new customers, rename changed ones; return counts and ref -> id."""
        cust = _table(Customer)
        existing = {
            r.reference: (r.id, r.name)
            for r in conn.execute(
                select(cust.c.id, cust.c.reference, cust.c.name).where(
                    cust.c.entity_id == entity_id
                )
            )
        }
        valid = rows[rows["error"] == ""]
        names = valid.drop_duplicates("customer_ref").set_index("customer_ref")[
            "customer_name"
        ]
        now = utcnow()
        new = [
            {
                "entity_id": entity_id,
                "reference": ref,
                "name": name or ref,
                "version": 1,
                "on_hold": False,
                "created_at": now,
                "updated_at": now,
                "updated_by": self._user,
            }
            for ref, name in names.items()
            if ref not in existing
        ]
        for start in range(0, len(new), CHUNK):
            conn.execute(insert(cust), new[start : start + CHUNK])
        renamed = [
            {"cid": existing[ref][0], "new_name": name}
            for ref, name in names.items()
            if ref in existing and name and name != existing[ref][1]
        ]
        if renamed:
            from sqlalchemy import bindparam

            conn.execute(
                update(cust)
                .where(cust.c.id == bindparam("cid"))
                .values(
                    name=bindparam("new_name"),
                    version=cust.c.version + 1,
                    updated_at=now,
                    updated_by=self._user,
                ),
                renamed,
            )
        ids = {
            r.reference: r.id
            for r in conn.execute(
                select(cust.c.id, cust.c.reference).where(cust.c.entity_id == entity_id)
            )
        }
        return len(new), len(renamed), ids

    def _due_dates(
        self,
        conn: Connection,
        entity_id: int,
        frame: pd.DataFrame,
        options: ImportOptions,
    ) -> Any:
        """Due dates the file lacks: customer's payment terms, else the default."""
        due = frame["due_date"].to_numpy(dtype="datetime64[D]")
        missing = np.isnat(due)
        if not missing.any():
            return due
        cust = _table(Customer)
        terms = dict(
            conn.execute(
                select(cust.c.id, cust.c.payment_terms_days).where(
                    cust.c.entity_id == entity_id,
                    cust.c.payment_terms_days.is_not(None),
                )
            ).all()
        )
        days = (
            frame["customer_id"]
            .map(terms)
            .fillna(options.default_terms_days)
            .to_numpy(dtype=np.int64)
        )
        issue = frame["issue_date"].to_numpy(dtype="datetime64[D]")
        return np.where(missing, issue + days.astype("timedelta64[D]"), due)

    def _load(
        self,
        conn: Connection,
        stage: Table,
        frame: pd.DataFrame,
        checkpoint: Callable[[int], None],
    ) -> None:
        """Fill the staging table: executemany on SQLite, COPY on PostgreSQL."""
        import pandas as pd

        cols = [c.name for c in stage.columns]

        def day(values: Any) -> np.ndarray[Any, Any]:
            days = np.asarray(values, dtype="datetime64[D]")
            text = np.datetime_as_string(days, unit="D").astype(object)
            text[np.isnat(days)] = None
            return text

        out = pd.DataFrame(
            {
                "customer_id": frame["customer_id"].to_numpy(dtype=np.int64),
                "number": frame["number"].to_numpy(dtype=object),
                "instalment": frame["instalment"].to_numpy(dtype=np.int64),
                "kind": frame["kind"].to_numpy(dtype=object),
                "reference": frame["reference"]
                .where(frame["reference"] != "", None)
                .to_numpy(dtype=object),
                "issue_date": day(frame["issue_date"]),
                "due_date": day(frame["due_date"]),
                "amount": frame["amount"].to_numpy(dtype=np.int64),
                "remaining": frame["remaining"].to_numpy(dtype=np.int64),
                "currency": frame["currency"].to_numpy(dtype=object),
                "valid": frame["valid"].to_numpy(dtype=np.int64),
            }
        )[cols]
        total = max(len(out), 1)
        raw = conn.connection.driver_connection
        if conn.dialect.name == "postgresql":
            with raw.cursor() as cur:  # type: ignore[union-attr]  # psycopg connection
                copy_sql = (
                    f"COPY o2c_import_stage ({', '.join(cols)}) "
                    "FROM STDIN WITH (FORMAT csv)"
                )
                with cur.copy(copy_sql) as copy:
                    for start in range(0, len(out), CHUNK * 5):
                        buffer = io.StringIO()
                        out.iloc[start : start + CHUNK * 5].to_csv(
                            buffer, header=False, index=False
                        )
                        copy.write(buffer.getvalue())
                        checkpoint(20 + 35 * min(start + CHUNK * 5, total) // total)
            return
        sql = (
            f"INSERT INTO o2c_import_stage ({', '.join(cols)}) "
            f"VALUES ({', '.join('?' for _ in cols)})"
        )
        cur = raw.cursor()  # type: ignore[union-attr]  # sqlite3 connection
        try:
            records = list(zip(*(out[c].tolist() for c in cols), strict=True))
            for start in range(0, len(records), CHUNK * 5):
                cur.executemany(sql, records[start : start + CHUNK * 5])
                checkpoint(20 + 35 * min(start + CHUNK * 5, total) // total)
        finally:
            cur.close()

    # -- export ------------------------------------------------------------------
    def export_items(
        self,
        path: Path | str,
        *,
        entity_code: str | None = None,
        customer_ref: str | None = None,
        open_only: bool = True,
    ) -> int:
        """Write items to .xlsx in our own layout; return how many."""
        item, cust, ent = _table(Item), _table(Customer), _table(Entity)
        query = (
            select(
                cust.c.reference,
                cust.c.name,
                item.c.number,
                item.c.instalment,
                item.c.kind,
                item.c.reference.label("item_reference"),
                item.c.issue_date,
                item.c.due_date,
                item.c.amount,
                item.c.remaining,
                item.c.currency,
            )
            .join(cust, cust.c.id == item.c.customer_id)
            .join(ent, ent.c.id == item.c.entity_id)
            .order_by(cust.c.reference, item.c.number, item.c.instalment)
        )
        if entity_code:
            query = query.where(ent.c.code == entity_code)
        if customer_ref:
            query = query.where(cust.c.reference == customer_ref)
        if open_only:
            query = query.where(item.c.status == ItemStatus.OPEN)
        with self._db.session(self._user) as s:
            rows = [
                ExportRow(
                    r[0],
                    r[1],
                    r[2],
                    r[3],
                    str(r[4].value if hasattr(r[4], "value") else r[4]),
                    r[5],
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                )
                for r in s.execute(query)
            ]
        return write_items_xlsx(Path(path), rows)


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class (typed for mypy)."""
    table: Table = model.__table__
    return table


def _money(value: Decimal | None) -> Decimal:
    """A Money aggregate; SUM over no rows is NULL."""
    return value if value is not None else Decimal("0.00")


def _with(result: ImportResult, **changes: Any) -> ImportResult:
    from dataclasses import replace

    return replace(result, **changes)


# -- mapping profiles (JSON files, no schema change) -----------------------------
_SAFE = re.compile(r"[^\w.-]+")


def profiles_dir() -> Path:
    """Folder of saved mapping profiles."""
    return settings_mod.config_dir() / "import-profiles"


def _profile_path(name: str) -> Path:
    safe = _SAFE.sub("_", name.strip()).strip("._")
    if not safe:
        raise ValueError(f"invalid profile name {name!r}")
    return profiles_dir() / f"{safe}.json"


def save_profile(name: str, parsed: ParsedImport) -> Path:
    """Save the mapping of `parsed` (header -> field) under `name`."""
    path = _profile_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    data = {
        "name": name,
        "layout": parsed.layout,
        "columns": {c.header: c.field.value for c in parsed.columns if c.header},
        "day_first": parsed.options.day_first,
        "default_terms_days": parsed.options.default_terms_days,
    }
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2), encoding="utf-8")
    tmp.replace(path)
    return path


def load_profile(name: str) -> ImportOptions:
    """Options from a saved profile.

    Raises:
        LookupError: no profile by that name.
    """
    path = _profile_path(name)
    if not path.exists():
        raise LookupError(f"no import profile named {name!r}")
    data = json.loads(path.read_text(encoding="utf-8"))
    return ImportOptions(
        profile={h: Field(f) for h, f in data.get("columns", {}).items()},
        day_first=data.get("day_first"),
        default_terms_days=int(data.get("default_terms_days", 30)),
    )


def list_profiles() -> list[str]:
    """Names of the saved profiles."""
    if not profiles_dir().exists():
        return []
    names = []
    for path in sorted(profiles_dir().glob("*.json")):
        try:
            names.append(str(json.loads(path.read_text(encoding="utf-8"))["name"]))
        except (ValueError, KeyError, OSError):
            log.warning("Ignoring unreadable import profile %s", path)
    return names
