"""Applying an aged-balance import to the book, and exporting items back.

One transaction, all or nothing. The entity's items are read once as columns
and compared with the file in pandas; only new, changed and closed items are
written, in bulk through the driver (executemany on SQLite, COPY on
PostgreSQL). Items a full import no longer lists are closed (paid on the
balance date) and the balance snapshot is computed from the same columns, so
re-importing an unchanged file writes almost nothing.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import time
import zlib
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import numpy as np
from sqlalchemy import (
    BigInteger,
    Integer,
    String,
    Table,
    bindparam,
    cast,
    delete,
    func,
    insert,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.exc import IntegrityError

from o2c_desktop import settings as settings_mod
from o2c_desktop.engine.imports import (
    DEFAULT_MAX_CLOSE_SHARE,
    CloseCheck,
    CloseNotConfirmedError,
    ImportRecord,
    UndoRefusedError,
    UndoResult,
)
from o2c_desktop.engine.types import CaseKind, CaseStatus, ItemStatus
from o2c_desktop.models import (
    ActionItem,
    AuditEntry,
    BalanceSnapshot,
    Case,
    CaseItem,
    Customer,
    DunningRun,
    Entity,
    ImportBatch,
    ImportChange,
    Item,
    SnapshotLine,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.services.import_undo import CaseUndo
from o2c_desktop.sync.importing.export import ExportRow, check_suffix, write_items
from o2c_desktop.sync.importing.fields import Field, normalize
from o2c_desktop.sync.importing.outcome import (
    EntityChoice,
    ImportCancelledError,
    ImportRefusedError,
    ImportResult,
)
from o2c_desktop.sync.importing.parse import ImportOptions, ParsedImport, parse_file

__all__ = [
    "DEFAULT_MAX_CLOSE_SHARE",
    "CloseCheck",
    "CloseNotConfirmedError",
    "EntityChoice",
    "ImportCancelledError",
    "ImportOutcome",
    "ImportRecord",
    "ImportRefusedError",
    "ImportResult",
    "ImportService",
    "UndoRefusedError",
    "UndoResult",
    "detect_profile",
    "list_profiles",
    "load_profile",
    "save_profile",
]

if TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import pandas as pd
    from sqlalchemy.engine import Connection
    from sqlalchemy.orm import Session
    from sqlalchemy.sql import ColumnElement

    from o2c_desktop.models.db import Database

log = logging.getLogger(__name__)

# A first import this large rebuilds item look-up indexes at the end.
BULK_INDEX_ROWS = 20_000
CHUNK = 20_000
# First key of the per-entity advisory locks of imports (issue 14); the
# second is derived from the entity's code, so a first import is locked too.
_LOCK_CLASS = 0x0D2C0014
# Attempts of an import that lost a race on a unique key to a concurrent one.
_ATTEMPTS = 3


@dataclass(frozen=True)
class ImportOutcome(ImportResult):
    """An `ImportResult` with the import's id and what it closes.

    Attributes:
        import_id: the id `undo` takes (None for a dry run).
        close: what a full import closes against the book before it.
    """

    import_id: int | None = None
    close: CloseCheck | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        data = super().as_dict()
        data["close"] = self.close.as_dict() if self.close is not None else None
        return data


class ImportService:
    """Preview, apply and export aged balances; keep mapping profiles.

    Args:
        db: the open database.
        user_login: who imports (audit trail).
        max_close_share: the share of the open items or outstanding a full
            import may close without confirmation, unless `apply` says.
    """

    def __init__(
        self,
        db: Database,
        user_login: str = "",
        *,
        max_close_share: Decimal = DEFAULT_MAX_CLOSE_SHARE,
    ) -> None:
        self._db = db
        self._user = user_login or None
        self._max_close_share = max_close_share

    # -- reading ---------------------------------------------------------------
    def preview(
        self,
        path: Path | str,
        options: ImportOptions | None = None,
        *,
        limit: int | None = None,
        report: Callable[[int], None] | None = None,
    ) -> ParsedImport:
        """Read and check a file without touching the database.

        Args:
            path: the file.
            options: sheet, profile, the user's mapping choices.
            limit: check only the first rows (the quick preview).
            report: progress in percent.
        """
        return parse_file(path, options, limit=limit, report=report)

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
        confirm_close: bool = False,
        max_close_share: Decimal | None = None,
        report: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportOutcome:
        """Write the parsed rows into the book, all or nothing.

        Imports into one entity run one after the other (a database lock per
        entity; partial imports share it among themselves). A full import
        that would close more than `max_close_share` of the open items or of
        the outstanding, or any item under dispute, litigation, a promise or
        a payment plan, is refused unless `confirm_close` is set; a dry run
        reports the same figures in `close` instead.

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
            confirm_close: the user has seen what a full import closes.
            max_close_share: the share (0.20 = 20 %) above which closing
                needs `confirm_close`; default: the service's.
            report: progress in percent.
            cancelled: polled between steps; True rolls everything back.

        Raises:
            ImportRefusedError: the file can't be imported (with the reason).
            ImportCancelledError: the user cancelled; nothing was written.
            CloseNotConfirmedError: the import would close too much, or items
                under a case, without `confirm_close`; nothing was written.
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
        outcome: ImportOutcome | None = None
        attempt = 1
        while outcome is None:
            try:
                with self._db.session(self._user) as s:
                    conn = s.connection()
                    results = []
                    fresh: bool | None = None
                    # Our own export names each row's entity: each part goes
                    # into its entity, in this one transaction (parts come in
                    # code order, so two imports lock entities alike).
                    for wanted, part in _entity_parts(rows, entity_code):
                        self._lock(conn, wanted, shared=partial)
                        if fresh is None:  # after SQLite's write lock is taken
                            # A first import creates the entities its file names.
                            fresh = (
                                conn.execute(select(Entity.id).limit(1)).first() is None
                            )
                        entity_id, code, currency, created = self._entity(
                            conn, wanted, create_entity or fresh, part
                        )
                        tick(5)
                        result = self._apply(
                            conn,
                            _with(parsed, rows=part),
                            entity_id,
                            code,
                            currency,
                            as_of,
                            partial,
                            dry_run,
                            tick,
                            stop,
                            confirm_close=confirm_close,
                            max_close_share=(
                                self._max_close_share
                                if max_close_share is None
                                else max_close_share
                            ),
                        )
                        results.append(_with(result, entity_created=created))
                    outcome = _combined(results)
                    if dry_run:
                        s.rollback()
            except ImportCancelledError:
                log.info("Import of %s cancelled; nothing written", parsed.path)
                raise
            except IntegrityError as exc:
                # A concurrent partial import added the same item first: the
                # next attempt sees it and updates it instead (issue 14).
                if attempt >= _ATTEMPTS or "unique" not in str(exc).lower():
                    raise
                log.info("Import of %s lost a race (%s); retrying", parsed.path, exc)
                attempt += 1
        tick(100)
        return outcome

    def _lock(self, conn: Connection, code: str | None, *, shared: bool) -> None:
        """Serialise the imports into one entity (issue 14).

        PostgreSQL: a transaction-scoped advisory lock keyed on the entity's
        code; partial imports take it shared, so they run side by side but
        never beside a full import or an undo. SQLite: the write transaction
        is taken now (BEGIN IMMEDIATE), before the book is read.
        """
        if conn.dialect.name != "postgresql":
            import sqlite3

            raw: Any = conn.connection.driver_connection
            try:
                if not raw.in_transaction:
                    raw.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                # Waited the busy timeout for another writer (a long import).
                raise ImportRefusedError(
                    f"the database is busy ({exc}); nothing was imported: try "
                    "again when the other import or run is done"
                ) from exc
            return
        if code is None:
            codes = conn.execute(select(Entity.code)).scalars().all()
            code = codes[0] if len(codes) == 1 else "MAIN"
        key = zlib.crc32(code.encode("utf-8")) - 2**31  # a signed 32-bit key
        lock = (
            func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
        )
        conn.execute(select(lock(cast(_LOCK_CLASS, Integer), cast(key, Integer))))

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
        *,
        confirm_close: bool,
        max_close_share: Decimal,
    ) -> ImportOutcome:
        import pandas as pd

        started = time.perf_counter()

        def checkpoint(pct: int) -> None:
            log.debug("import step %s at %.3f s", pct, time.perf_counter() - started)
            if stop():
                raise ImportCancelledError
            tick(pct)

        rows = parsed.rows
        assert rows is not None
        writer = _Writer(conn)
        created_customers, updated_customers, ids = self._customers(
            conn, writer, entity_id, rows
        )
        checkpoint(15)
        frame = rows.assign(
            customer_id=rows["customer_ref"].map(ids),
            currency=rows["currency"].where(rows["currency"] != "", currency),
        )
        frame = frame[frame["customer_id"].notna()]
        frame = frame.assign(
            customer_id=frame["customer_id"].astype(np.int64),
            due_date=self._due_dates(conn, entity_id, frame, parsed.options),
        )
        # The diff is computed here, on columns: a re-import of an unchanged
        # file then writes nothing, and no table is scanned per row (#3).
        existing = _existing_items(conn, entity_id)
        checkpoint(30)
        key = ["customer_id", "number", "instalment"]
        valid = frame[(frame["error"] == "").to_numpy()]
        merged = valid.merge(
            existing, on=key, how="left", suffixes=("", "_db"), validate="one_to_one"
        )
        new = merged["id"].isna().to_numpy()
        known = merged[~new]
        differs = (
            (known["status"] != ItemStatus.OPEN.value).to_numpy()
            | (known["kind"] != known["kind_db"]).to_numpy()
            | (known["reference"] != known["reference_db"]).to_numpy()
            | (known["issue_date"] != known["issue_date_db"]).to_numpy()
            | (known["due_date"] != known["due_date_db"]).to_numpy()
            | (known["amount"] != known["amount_db"]).to_numpy()
            | (known["remaining"] != known["remaining_db"]).to_numpy()
            | (known["currency"] != known["currency_db"]).to_numpy()
        )
        changed = known[differs]
        is_open = (existing["status"] == ItemStatus.OPEN.value).to_numpy()
        listed = (
            existing.merge(frame[key], on=key, how="left", indicator=True)[
                "_merge"
            ].to_numpy()
            == "both"
        )
        closing = is_open & ~listed if not partial else np.zeros(len(existing), bool)
        check = None
        if not partial:
            check = _close_check(
                conn, entity_id, existing, is_open, closing, currency, max_close_share
            )
            # Before any item is written: a short file must not wipe the book.
            if check.needs_confirmation and not confirm_close and not dry_run:
                raise CloseNotConfirmedError(check)
        now = utcnow()
        import_id = conn.execute(
            insert(ImportBatch)
            .values(
                entity_id=entity_id,
                as_of=as_of,
                taken_at=now,
                user_login=self._user,
                source=str(parsed.path)[:400],
                full=not partial,
                counts={},
            )
            .returning(ImportBatch.id)
        ).scalar_one()
        # In key order, the unique index is appended to, not scattered.
        writer.insert_items(entity_id, merged[new].sort_values(key), now)
        checkpoint(60)
        writer.record_changes(import_id, changed["id"].to_numpy(np.int64), "updated")
        writer.update_items(changed, now)
        checkpoint(75)
        closed_ids = existing["id"].to_numpy(np.int64)[closing]
        writer.record_changes(import_id, closed_ids, "closed")
        writer.close_items(closed_ids, as_of, now)
        checkpoint(85)
        # The book after the import: the file's valid rows, plus the open
        # items the file does not touch (partial import, rejected rows).
        in_valid = (
            existing.merge(valid[key], on=key, how="left", indicator=True)[
                "_merge"
            ].to_numpy()
            == "both"
        )
        kept = existing[is_open & ~closing & ~in_valid]
        after_rows = pd.concat(
            [
                valid[["customer_id", "due_date", "remaining"]],
                kept[["customer_id", "due_date_db", "remaining_db"]].rename(
                    columns={"due_date_db": "due_date", "remaining_db": "remaining"}
                ),
            ],
            ignore_index=True,
        )
        due = after_rows["due_date"].to_numpy(dtype="datetime64[D]")
        remaining = after_rows["remaining"].to_numpy(dtype=np.int64)
        overdue_cents = np.where(due < np.datetime64(as_of, "D"), remaining, 0)
        before = _decimal(
            existing["remaining_db"].to_numpy(dtype=np.int64)[is_open].sum()
        )
        after = _decimal(remaining.sum())
        overdue = _decimal(overdue_cents.sum())
        snapshot_id = None
        if not partial:
            snapshot_id = conn.execute(
                insert(BalanceSnapshot)
                .values(
                    entity_id=entity_id,
                    as_of=as_of,
                    taken_at=now,
                    source=str(parsed.path)[:400],
                    item_count=len(after_rows),
                    outstanding=after,
                    overdue=overdue,
                )
                .returning(BalanceSnapshot.id)
            ).scalar_one()
            lines = (
                pd.DataFrame(
                    {
                        "customer_id": after_rows["customer_id"].to_numpy(np.int64),
                        "outstanding": remaining,
                        "overdue": overdue_cents,
                    }
                )
                .groupby("customer_id", sort=True)
                .sum()
                .reset_index()
            )
            writer.insert_snapshot_lines(snapshot_id, lines)
        checkpoint(95)
        inserted, updated = int(new.sum()), len(changed)
        conn.execute(
            update(ImportBatch)
            .where(ImportBatch.id == import_id)
            .values(
                snapshot_id=snapshot_id,
                counts={
                    "created": inserted,
                    "updated": updated,
                    "closed": int(closing.sum()),
                    "customers_created": created_customers,
                },
            )
        )
        result = ImportOutcome(
            entity=entity_code,
            as_of=as_of,
            full=not partial,
            dry_run=dry_run,
            rows_imported=len(valid),
            rows_rejected=len(rows) - len(valid),
            customers_created=created_customers,
            customers_updated=updated_customers,
            items_created=inserted,
            items_updated=updated,
            items_unchanged=len(valid) - inserted - updated,
            items_closed=int(closing.sum()),
            outstanding_before=before,
            outstanding_after=after,
            overdue_after=overdue,
            snapshot_id=snapshot_id,
            currency=currency,
            import_id=None if dry_run else import_id,
            close=check,
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
        return result

    def _customers(
        self, conn: Connection, writer: _Writer, entity_id: int, rows: pd.DataFrame
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
            (str(ref), str(name or ref))
            for ref, name in names.items()
            if ref not in existing
        ]
        inserted = writer.insert_customers(entity_id, new, self._user, now)
        renamed = [
            {"cid": existing[ref][0], "new_name": name}
            for ref, name in names.items()
            if ref in existing and name and name != existing[ref][1]
        ]
        if renamed:
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
        ids = {ref: cid for ref, (cid, _name) in existing.items()}
        if new:
            last = max(ids.values(), default=0)
            query = select(cust.c.reference, cust.c.id).where(
                cust.c.entity_id == entity_id, cust.c.id > last
            )
            ids.update((ref, cid) for ref, cid in conn.execute(query))
            # Those a concurrent import created first may have lower ids.
            missing = [ref for ref, _name in new if ref not in ids]
            for start in range(0, len(missing), 1000):
                query = select(cust.c.reference, cust.c.id).where(
                    cust.c.entity_id == entity_id,
                    cust.c.reference.in_(missing[start : start + 1000]),
                )
                ids.update((ref, cid) for ref, cid in conn.execute(query))
        return inserted, len(renamed), ids

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

    # -- history and undo ----------------------------------------------------------
    def history(
        self, entity_code: str | None = None, *, limit: int = 200
    ) -> list[ImportRecord]:
        """The imports, newest first, with what each did and whether it was undone."""
        query = (
            select(ImportBatch, Entity.code)
            .join(Entity, Entity.id == ImportBatch.entity_id)
            .order_by(ImportBatch.taken_at.desc(), ImportBatch.id.desc())
            .limit(limit)
        )
        if entity_code:
            query = query.where(Entity.code == entity_code)
        with self._db.session(self._user) as s:
            return [_record(b, code) for b, code in s.execute(query)]

    def undo(self, import_id: int) -> UndoResult:
        """Put the book back as it was before an import, all or nothing.

        Items it created are removed, items it updated or closed get their
        values back, its balance snapshot goes, and what the case review did
        because it closed items (promises and plans kept, disputes resolved
        as paid, their tasks cancelled) is reversed. Refused once a later
        import into the entity, or a dunning run, has built on it.

        Raises:
            UndoRefusedError: with the reason; nothing was changed.
        """
        with self._db.session(self._user) as s:
            conn = s.connection()
            batch = s.get(ImportBatch, import_id)
            if batch is None:
                raise UndoRefusedError(f"no import {import_id}")
            code = s.scalar(select(Entity.code).where(Entity.id == batch.entity_id))
            try:
                self._lock(conn, code, shared=False)
            except ImportRefusedError as exc:
                raise UndoRefusedError(str(exc)) from exc
            s.refresh(batch)
            if batch.undone_at is not None:
                raise UndoRefusedError(
                    f"import {import_id} was already undone on "
                    f"{batch.undone_at:%Y-%m-%d %H:%M} UTC"
                )
            self._check_undo(s, batch)
            now = utcnow()
            cases, removed, tasks = CaseUndo(s, batch, self._user, now).run()
            restored, deleted = self._restore_items(s, batch, now)
            if batch.snapshot_id is not None:
                conn.execute(
                    delete(SnapshotLine).where(
                        SnapshotLine.snapshot_id == batch.snapshot_id
                    )
                )
                conn.execute(
                    delete(BalanceSnapshot).where(
                        BalanceSnapshot.id == batch.snapshot_id
                    )
                )
            batch.undone_at = now
            batch.undone_by = self._user
            result = UndoResult(
                import_id=import_id,
                items_restored=restored,
                items_deleted=deleted,
                cases_reopened=tuple(cases),
                actions_removed=removed,
                tasks_restored=tasks,
            )
            conn.execute(
                insert(AuditEntry).values(
                    at=now,
                    user_login=self._user,
                    table_name="item",
                    record_id=f"undo:{import_id}",
                    operation="update",
                    changes={"undo_import": import_id, **result.as_dict()},
                )
            )
        log.info("Import %s undone: %s", import_id, result)
        return result

    def _check_undo(self, s: Session, batch: ImportBatch) -> None:
        """Refuse when a later import or a dunning run built on the import."""
        later = s.execute(
            select(ImportBatch.id, ImportBatch.taken_at)
            .where(
                ImportBatch.entity_id == batch.entity_id,
                ImportBatch.id != batch.id,
                ImportBatch.taken_at >= batch.taken_at,
                ImportBatch.undone_at.is_(None),
            )
            .order_by(ImportBatch.taken_at.desc())
            .limit(1)
        ).first()
        if later is not None:
            raise UndoRefusedError(
                f"import {later.id} of {later.taken_at:%Y-%m-%d %H:%M} UTC came "
                f"after import {batch.id}: undo it first"
            )
        run = s.execute(
            select(DunningRun.id, DunningRun.run_date, DunningRun.started_at)
            .where(DunningRun.started_at >= batch.taken_at)
            .order_by(DunningRun.started_at)
            .limit(1)
        ).first()
        if run is not None:
            raise UndoRefusedError(
                f"dunning run {run.id} for {run.run_date} (started "
                f"{run.started_at:%Y-%m-%d %H:%M} UTC) ran on import {batch.id}; "
                "it can no longer be undone"
            )

    def _restore_items(
        self, s: Session, batch: ImportBatch, now: dt.datetime
    ) -> tuple[int, int]:
        """Items updated or closed get their values back; created ones go."""
        conn = s.connection()
        item, change = _table(Item), _table(ImportChange)
        restored = conn.execute(
            update(item)
            .where(item.c.id == change.c.item_id, change.c.import_id == batch.id)
            .values(
                kind=change.c.kind,
                reference=change.c.reference,
                issue_date=change.c.issue_date,
                due_date=change.c.due_date,
                amount=change.c.amount,
                remaining=change.c.remaining,
                currency=change.c.currency,
                status=change.c.status,
                closed_on=change.c.closed_on,
                updated_at=now,
            )
        ).rowcount
        created = (
            select(item.c.id)
            .where(
                item.c.entity_id == batch.entity_id,
                item.c.created_at == batch.taken_at,
            )
            .scalar_subquery()
        )
        for table, label in (
            (ActionItem, "actions"),
            (CaseItem, "cases"),
        ):
            used = s.scalar(
                select(func.count())
                .select_from(table)
                .where(table.item_id.in_(created))
            )
            if used:
                raise UndoRefusedError(
                    f"{used} items import {batch.id} created are now used by "
                    f"{label}; it can no longer be undone"
                )
        conn.execute(delete(ImportChange).where(ImportChange.item_id.in_(created)))
        deleted = conn.execute(
            delete(item).where(
                item.c.entity_id == batch.entity_id,
                item.c.created_at == batch.taken_at,
            )
        ).rowcount
        return int(restored or 0), int(deleted or 0)

    # -- export ------------------------------------------------------------------
    def export_items(
        self,
        path: Path | str,
        *,
        entity_code: str | None = None,
        customer_ref: str | None = None,
        open_only: bool = True,
    ) -> int:
        """Write items to .xlsx or .csv in our own layout; return how many.

        Raises:
            LookupError: no such entity, or no such customer (in it).
            ValueError: `path` is neither .xlsx nor .csv.
        """
        path = Path(path)
        check_suffix(path)
        item, cust, ent = _table(Item), _table(Customer), _table(Entity)
        self._check_export_filter(entity_code, customer_ref)
        query = (
            select(
                ent.c.code,
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
                    r[1],
                    r[2],
                    r[3],
                    r[4],
                    str(r[5].value if hasattr(r[5], "value") else r[5]),
                    r[6],
                    r[7],
                    r[8],
                    r[9],
                    r[10],
                    r[11],
                    entity=r[0],
                )
                for r in s.execute(query)
            ]
        return write_items(path, rows)

    def _check_export_filter(
        self, entity_code: str | None, customer_ref: str | None
    ) -> None:
        """Refuse an unknown entity or customer: an empty file would hide the typo."""
        with self._db.session(self._user) as s:
            if entity_code:
                known = s.scalars(select(Entity.code).order_by(Entity.code)).all()
                if entity_code not in known:
                    raise LookupError(
                        f"unknown entity {entity_code!r} (known: "
                        f"{', '.join(known) or 'none'})"
                    )
            if customer_ref:
                query = select(Customer.id).where(Customer.reference == customer_ref)
                if entity_code:
                    query = query.join(Entity, Entity.id == Customer.entity_id).where(
                        Entity.code == entity_code
                    )
                if s.scalars(query.limit(1)).first() is None:
                    where = f" in {entity_code}" if entity_code else ""
                    raise LookupError(f"unknown customer {customer_ref}{where}")


class _Writer:
    """Bulk writes through the driver: executemany on SQLite, COPY on PostgreSQL.

    SQLAlchemy's per-row bind processing costs more than the database itself
    at 100,000 rows, so values are prepared on columns: integer cents and
    ISO dates on SQLite, decimal text for PostgreSQL's NUMERIC.
    """

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._dialect = conn.dialect
        self._pg = conn.dialect.name == "postgresql"
        self._raw: Any = conn.connection.driver_connection

    def insert_customers(
        self,
        entity_id: int,
        new: list[tuple[str, str]],
        user: str | None,
        now: dt.datetime,
    ) -> int:
        """Insert the customers no one has inserted yet; return how many.

        ON CONFLICT DO NOTHING: a concurrent import creating the same new
        customer must not fail with a unique violation (issue 14).
        """
        if not new:
            return 0
        stamp = self._stamp(now)
        refs, names = zip(*new, strict=True)
        if self._pg:
            with self._raw.cursor() as cur:
                cur.execute(
                    "INSERT INTO customer (reference, name, entity_id, version, "
                    "on_hold, created_at, updated_at, updated_by) SELECT r, n, %s, 1, "
                    "false, %s, %s, %s FROM unnest(%s::text[], %s::text[]) AS u(r, n) "
                    "ON CONFLICT (entity_id, reference) DO NOTHING",
                    (entity_id, stamp, stamp, user, list(refs), list(names)),
                )
                count: int = cur.rowcount
            return count
        fixed = ", ".join(
            _sql_literal(v) for v in (entity_id, 1, False, stamp, stamp, user)
        )
        cur = self._raw.cursor()
        try:
            cur.executemany(
                "INSERT INTO customer (reference, name, entity_id, version, on_hold, "
                f"created_at, updated_at, updated_by) VALUES (?, ?, {fixed}) "
                "ON CONFLICT (entity_id, reference) DO NOTHING",
                zip(refs, names, strict=True),
            )
            count = cur.rowcount
        finally:
            cur.close()
        return count

    def insert_items(
        self, entity_id: int, rows: pd.DataFrame, now: dt.datetime
    ) -> None:
        if rows.empty:
            return
        stamp = self._stamp(now)
        with self._without_item_indexes(len(rows)):
            # By slices: a million rows as Python lists at once would cost 1 GB.
            for start in range(0, len(rows), CHUNK * 5):
                chunk = rows.iloc[start : start + CHUNK * 5]
                self._insert_items(chunk, entity_id, stamp)

    @contextmanager
    def _without_item_indexes(self, new_rows: int) -> Iterator[None]:
        """Rebuild the look-up indexes once instead of row by row.

        Only on SQLite (one writer; the drop is part of the transaction) and
        when the import at least doubles the table, as a first import does.
        The unique key stays: it is what refuses a duplicate item.
        """
        if self._pg or new_rows < BULK_INDEX_ROWS:
            yield
            return
        existing = self._conn.scalar(select(func.count()).select_from(_table(Item)))
        if (existing or 0) > new_rows:
            yield
            return
        indexes = [ix for ix in _table(Item).indexes if not ix.unique]
        for index in indexes:
            index.drop(self._conn)
        yield
        for index in indexes:
            index.create(self._conn)

    def _insert_items(self, rows: pd.DataFrame, entity_id: int, stamp: Any) -> None:
        self._insert(
            "item",
            {
                "customer_id": rows["customer_id"].to_numpy(np.int64).tolist(),
                "kind": rows["kind"].to_numpy(dtype=object).tolist(),
                "number": rows["number"].to_numpy(dtype=object).tolist(),
                "instalment": rows["instalment"].to_numpy(np.int64).tolist(),
                "reference": _none_if_empty(rows["reference"]),
                "issue_date": _days(rows["issue_date"]),
                "due_date": _days(rows["due_date"]),
                "amount": self._money(rows["amount"]),
                "remaining": self._money(rows["remaining"]),
                "currency": rows["currency"].to_numpy(dtype=object).tolist(),
            },
            {
                "entity_id": entity_id,
                "status": ItemStatus.OPEN.value,
                "disputed": False,
                "in_litigation": False,
                "created_at": stamp,
                "updated_at": stamp,
            },
        )

    def update_items(self, rows: pd.DataFrame, now: dt.datetime) -> None:
        if rows.empty:
            return
        columns = {
            "id": rows["id"].to_numpy(np.int64).tolist(),
            "kind": rows["kind"].to_numpy(dtype=object).tolist(),
            "reference": _none_if_empty(rows["reference"]),
            "issue_date": _days(rows["issue_date"]),
            "due_date": _days(rows["due_date"]),
            "amount": self._money(rows["amount"]),
            "remaining": self._money(rows["remaining"]),
            "currency": rows["currency"].to_numpy(dtype=object).tolist(),
        }
        fields = [c for c in columns if c != "id"]
        stamp = self._stamp(now)
        if self._pg:
            self._conn.exec_driver_sql(
                "CREATE TEMPORARY TABLE o2c_import_update (id bigint, kind "
                "varchar(24), reference varchar(100), issue_date date, due_date "
                "date, amount numeric(18, 2), remaining numeric(18, 2), currency "
                "varchar(3)) ON COMMIT DROP"
            )
            self._insert("o2c_import_update", columns)
            sets = ", ".join(f"{c} = u.{c}" for c in fields)
            self._conn.exec_driver_sql(
                f"UPDATE item SET {sets}, status = %(open)s, closed_on = NULL, "
                "updated_at = %(now)s FROM o2c_import_update u WHERE item.id = u.id",
                {"open": ItemStatus.OPEN.value, "now": stamp},
            )
            self._conn.exec_driver_sql("DROP TABLE o2c_import_update")
            return
        sets = ", ".join(f"{c} = ?" for c in fields)
        sql = (
            f"UPDATE item SET {sets}, status = ?, closed_on = NULL, updated_at = ? "
            "WHERE id = ?"
        )
        values = zip(
            *(columns[c] for c in fields),
            *(
                [ItemStatus.OPEN.value] * len(rows),
                [stamp] * len(rows),
                columns["id"],
            ),
            strict=True,
        )
        self._executemany(sql, values)

    def record_changes(
        self, import_id: int, ids: np.ndarray[Any, Any], change: str
    ) -> None:
        """Keep the items' values before the import changes them (its undo)."""
        if not len(ids):
            return
        columns = (
            "kind, reference, issue_date, due_date, amount, remaining, currency, "
            "status, closed_on"
        )
        if self._pg:
            with self._raw.cursor() as cur:
                cur.execute(
                    f"INSERT INTO import_change (import_id, item_id, change, {columns})"
                    f" SELECT %s, id, %s, {columns} FROM item WHERE id = ANY(%s)",
                    (import_id, change, ids.astype(np.int64).tolist()),
                )
            return
        self._executemany(
            f"INSERT INTO import_change (import_id, item_id, change, {columns}) "
            f"SELECT ?, id, ?, {columns} FROM item WHERE id = ?",
            ((import_id, change, int(i)) for i in ids),
        )

    def close_items(
        self, ids: np.ndarray[Any, Any], as_of: dt.date, now: dt.datetime
    ) -> None:
        if not len(ids):
            return
        status, stamp = ItemStatus.CLOSED.value, self._stamp(now)
        if self._pg:
            with self._raw.cursor() as cur:
                cur.execute(
                    "UPDATE item SET status = %s, closed_on = %s, remaining = 0, "
                    "updated_at = %s WHERE id = ANY(%s)",
                    (status, as_of, stamp, ids.astype(np.int64).tolist()),
                )
            return
        self._executemany(
            "UPDATE item SET status = ?, closed_on = ?, remaining = 0, "
            "updated_at = ? WHERE id = ?",
            ((status, as_of.isoformat(), stamp, int(i)) for i in ids),
        )

    def insert_snapshot_lines(self, snapshot_id: int, lines: pd.DataFrame) -> None:
        if lines.empty:
            return
        self._insert(
            "snapshot_line",
            {
                "snapshot_id": [snapshot_id] * len(lines),
                "customer_id": lines["customer_id"].to_numpy(np.int64).tolist(),
                "outstanding": self._money(lines["outstanding"]),
                "overdue": self._money(lines["overdue"]),
            },
        )

    def _stamp(self, now: dt.datetime) -> Any:
        """`now` as the driver stores a UTC timestamp column."""
        process = _table(Item).c.updated_at.type.bind_processor(self._dialect)
        value = process(now) if process is not None else now
        if not self._pg and isinstance(value, dt.datetime):
            # SQLAlchemy's SQLite text format, once, not sqlite3's adapter per row.
            return value.isoformat(sep=" ", timespec="microseconds")
        return value

    def _money(self, cents: pd.Series[Any]) -> list[Any]:
        values = cents.to_numpy(dtype=np.int64)
        if not self._pg:
            cents_list: list[Any] = values.tolist()  # SQLite: Money is integer cents
            return cents_list
        text: list[Any] = _cents_text(values).tolist()
        return text

    def _insert(
        self,
        table: str,
        columns: dict[str, list[Any]],
        constants: dict[str, Any] | None = None,
    ) -> None:
        """Insert rows given by column; `constants` are the same on every row."""
        fixed = constants or {}
        names = ", ".join([*columns, *fixed])
        if self._pg:
            import pandas as pd

            count = len(next(iter(columns.values()), []))
            # Timestamps as text once: pandas would format them row by row.
            text = {
                k: v.isoformat() if isinstance(v, dt.datetime) else v
                for k, v in fixed.items()
            }
            frame = pd.DataFrame(
                {**columns, **{k: [v] * count for k, v in text.items()}}
            )
            sql = f"COPY {table} ({names}) FROM STDIN WITH (FORMAT csv)"
            with self._raw.cursor() as cur, cur.copy(sql) as copy:
                for start in range(0, len(frame), CHUNK * 5):
                    buffer = io.StringIO()
                    frame.iloc[start : start + CHUNK * 5].to_csv(
                        buffer, header=False, index=False
                    )
                    copy.write(buffer.getvalue())
            return
        # Constants are written into the statement: fewer values to bind per row.
        values = ["?"] * len(columns) + [_sql_literal(v) for v in fixed.values()]
        sql = f"INSERT INTO {table} ({names}) VALUES ({', '.join(values)})"
        self._executemany(sql, zip(*columns.values(), strict=True))

    def _executemany(self, sql: str, rows: Any) -> None:
        cur = self._raw.cursor()
        try:
            cur.executemany(sql, rows)
        finally:
            cur.close()


def _existing_items(conn: Connection, entity_id: int) -> pd.DataFrame:
    """The entity's items as columns: integer cents, ISO dates, raw enum text."""
    import pandas as pd

    item = _table(Item)
    pg = conn.dialect.name == "postgresql"

    def cents(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column * 100, BigInteger) if pg else type_coerce(column, BigInteger)

    def day(column: ColumnElement[Any]) -> ColumnElement[Any]:
        return cast(column, String) if pg else type_coerce(column, String)

    query = select(
        item.c.id,
        item.c.customer_id,
        item.c.number,
        item.c.instalment,
        type_coerce(item.c.status, String).label("status"),
        type_coerce(item.c.kind, String).label("kind_db"),
        func.coalesce(item.c.reference, "").label("reference_db"),
        day(item.c.issue_date).label("issue_date_db"),
        day(item.c.due_date).label("due_date_db"),
        cents(item.c.amount).label("amount_db"),
        cents(item.c.remaining).label("remaining_db"),
        item.c.currency.label("currency_db"),
    ).where(item.c.entity_id == entity_id)
    names = [c.name for c in query.selected_columns]
    # Through the driver: SQLAlchemy's Row objects cost more than the query.
    compiled = query.compile(dialect=conn.dialect)
    params = compiled.construct_params()
    raw: Any = conn.connection.driver_connection
    cur = raw.cursor()
    try:
        if compiled.positiontup is not None:
            cur.execute(str(compiled), [params[k] for k in compiled.positiontup])
        else:
            cur.execute(str(compiled), params)
        records = cur.fetchall()
    finally:
        cur.close()
    frame = pd.DataFrame.from_records(records, columns=names, coerce_float=False)
    data = {name: frame[name].to_numpy(dtype=object) for name in names}
    for name in ("id", "customer_id", "instalment", "amount_db", "remaining_db"):
        data[name] = data[name].astype(np.int64)
    for name in ("issue_date_db", "due_date_db"):
        data[name] = data[name].astype("datetime64[D]")
    return pd.DataFrame(data)


def _record(batch: ImportBatch, code: str) -> ImportRecord:
    counts = batch.counts or {}
    return ImportRecord(
        id=batch.id,
        entity=code,
        snapshot_id=batch.snapshot_id,
        as_of=batch.as_of,
        taken_at=batch.taken_at,
        user_login=batch.user_login,
        source=batch.source,
        full=batch.full,
        created=int(counts.get("created", 0)),
        updated=int(counts.get("updated", 0)),
        closed=int(counts.get("closed", 0)),
        undone_at=batch.undone_at,
    )


def _close_check(
    conn: Connection,
    entity_id: int,
    existing: pd.DataFrame,
    is_open: np.ndarray[Any, Any],
    closing: np.ndarray[Any, Any],
    currency: str,
    max_share: Decimal,
) -> CloseCheck:
    """What a full import closes, and how much of it is under a case."""
    remaining = existing["remaining_db"].to_numpy(dtype=np.int64)
    ids = existing["id"].to_numpy(dtype=np.int64)[closing]
    figures: dict[str, int] = {}
    if len(ids):
        # Few items are under a case: read those, not the closing ones.
        item = _table(Item)
        flagged = conn.execute(
            select(item.c.id, item.c.disputed, item.c.in_litigation).where(
                item.c.entity_id == entity_id,
                item.c.status == ItemStatus.OPEN,
                or_(item.c.disputed.is_(True), item.c.in_litigation.is_(True)),
            )
        ).all()
        for name, column in (("disputed", 1), ("litigation", 2)):
            marked = np.array([r[0] for r in flagged if r[column]], dtype=np.int64)
            figures[name] = int(np.isin(marked, ids).sum())
        cased = conn.execute(
            select(CaseItem.item_id, Case.kind)
            .distinct()
            .join(Case, Case.id == CaseItem.case_id)
            .join(Item, Item.id == CaseItem.item_id)
            .where(
                Item.entity_id == entity_id,
                Case.status == CaseStatus.OPEN,
                Case.kind.in_((CaseKind.PROMISE, CaseKind.PAYMENT_PLAN)),
            )
        ).all()
        for name, kind in (
            ("promised", CaseKind.PROMISE),
            ("planned", CaseKind.PAYMENT_PLAN),
        ):
            held = np.unique(np.array([r[0] for r in cased if r[1] == kind], np.int64))
            figures[name] = int(np.isin(held, ids).sum())
    return CloseCheck(
        items=len(ids),
        amount=_decimal(remaining[closing].sum()),
        open_items=int(is_open.sum()),
        outstanding=_decimal(remaining[is_open].sum()),
        max_share=max_share,
        currency=currency,
        **figures,
    )


def _sql_literal(value: Any) -> str:
    """A constant of ours (number, flag, code, timestamp) as SQLite text."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, int):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def _none_if_empty(values: pd.Series[Any]) -> list[str | None]:
    """Text for the database, NULL where the file had nothing."""
    return [v or None for v in values.to_numpy(dtype=object).tolist()]


def _days(values: pd.Series[Any]) -> list[str | None]:
    days = values.to_numpy(dtype="datetime64[D]")
    text = np.datetime_as_string(days, unit="D").astype(object)
    text[np.isnat(days)] = None
    result: list[str | None] = text.tolist()
    return result


def _cents_text(cents: np.ndarray[Any, Any]) -> np.ndarray[Any, Any]:
    """Integer cents as exact decimal text: -1234 -> "-12.34"."""
    units, rest = np.divmod(np.abs(cents), 100)
    sign = np.where(cents < 0, "-", "")
    text = np.char.add(
        np.char.add(sign, units.astype(str)),
        np.char.add(".", np.char.zfill(rest.astype(str), 2)),
    )
    return text.astype(object)


def _decimal(cents: Any) -> Decimal:
    """Exact money from a count of cents."""
    return Decimal(int(cents)).scaleb(-2)


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class (typed for mypy)."""
    table: Table = model.__table__
    return table


def _money(value: Decimal | None) -> Decimal:
    """A Money aggregate; SUM over no rows is NULL."""
    return value if value is not None else Decimal("0.00")


_T = TypeVar("_T", ParsedImport, ImportOutcome)


def _with(result: _T, **changes: Any) -> _T:
    from dataclasses import replace

    return replace(result, **changes)


def _entity_parts(
    rows: pd.DataFrame, entity_code: str | None
) -> list[tuple[str | None, pd.DataFrame]]:
    """The file's rows by entity: (code or None to resolve, rows).

    Files without an entity column (every ERP's) are one part. With one, and
    no entity chosen, each entity named gets its rows; a chosen entity gets
    its own rows and those naming none.

    Raises:
        ImportRefusedError: the chosen entity has no rows in the file.
    """
    named = rows["entity"].to_numpy(dtype=object) if "entity" in rows else None
    if named is None or not (named != "").any():
        return [(entity_code, rows)]
    codes = sorted({str(c) for c in named if c})
    if entity_code is not None:
        mine = (named == entity_code) | (named == "")
        if not mine.any():
            raise ImportRefusedError(
                f"the file holds items of {', '.join(codes)}, none of "
                f"{entity_code!r}: import it without choosing an entity"
            )
        return [(entity_code, rows[mine])]
    parts: list[tuple[str | None, pd.DataFrame]] = [
        (code, rows[named == code]) for code in codes
    ]
    if (named == "").any():
        parts.append((None, rows[named == ""]))
    return parts


def _combined(results: list[ImportOutcome]) -> ImportOutcome:
    """One result for an import that went into several entities.

    Each entity's part is an import of its own in the history (undone on its
    own); the combined result names the first part's import and close check.
    """
    from dataclasses import replace

    if len(results) == 1:
        return results[0]
    counts = (
        "rows_imported",
        "rows_rejected",
        "customers_created",
        "customers_updated",
        "items_created",
        "items_updated",
        "items_unchanged",
        "items_closed",
    )
    amounts = ("outstanding_before", "outstanding_after", "overdue_after")
    currencies = {r.currency for r in results}
    changes: dict[str, Any] = {
        name: sum(getattr(r, name) for r in results) for name in counts
    }
    changes.update(
        {name: sum((getattr(r, name) for r in results), Decimal(0)) for name in amounts}
    )
    return replace(
        results[0],
        entity=", ".join(r.entity for r in results),
        entity_created=any(r.entity_created for r in results),
        snapshot_id=results[-1].snapshot_id,
        currency=currencies.pop() if len(currencies) == 1 else "",
        **changes,
    )


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


def detect_profile(headers: list[str]) -> str | None:
    """The saved profile made for a file with these headers, if one was (#17).

    A profile is recognised by its header signature: the same headers,
    folded as the mapper folds them, in any order.
    """
    signature = {normalize(h) for h in headers} - {""}
    if not signature or not profiles_dir().exists():
        return None
    for path in sorted(profiles_dir().glob("*.json")):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            saved = {normalize(h) for h in data.get("columns", {})} - {""}
            if saved == signature:
                return str(data["name"])
        except (ValueError, KeyError, OSError, AttributeError):
            log.warning("Ignoring unreadable import profile %s", path)
    return None
