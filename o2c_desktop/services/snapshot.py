"""Snapshot apply: one use case writes what any feed says about the book (issue 13).

A feed (an aged-balance file, an ERP connector, any future source) turns what
it read into a normalized `Snapshot` and calls `apply_snapshot` (or
`SnapshotApplier.apply` for several entities in one transaction). Everything
happens in one transaction, all or nothing:

- customers the snapshot names are created or renamed;
- its items are compared with the entity's on columns (pandas): only new and
  changed items are written, in bulk (`models.bulk.BulkWriter`);
- a ``"full"`` snapshot closes the open items it no longer lists (paid on
  `as_of`), after the close check (a short file must not wipe the book), and
  records a balance snapshot; a ``"delta"`` one only adds and updates;
- `settled` items are closed as paid on their own date, `vanished` ones on
  `as_of` with their reason in the audit trail, in either scope;
- the import is recorded (`import_batch`, `import_change`) so it can be undone;
- the `watermark`, if any, is saved in `sync_cursor` with the rows: a crash
  never leaves the cursor ahead of the data.

The interface (kept stable: the ERP sync builds on it):

    Snapshot(source, entity, customers, items, as_of, scope="full",
             settled=None, vanished=None, watermark=None, rejected=None,
             default_terms_days=30)
    Watermark(cursor, value)
    apply_snapshot(db, snapshot, *, user_login=None, dry_run=False,
                   create_entity=False, confirm_close=False,
                   max_close_share=DEFAULT_MAX_CLOSE_SHARE,
                   report=None, cancelled=None) -> ImportOutcome
    read_cursor(db, cursor) -> str | None

Frames (item key: customer_ref, number, instalment):

- `customers`: customer_ref, customer_name.
- `items`: customer_ref, number, instalment (int), kind (`ItemKind` value),
  reference ("" for none), issue_date and due_date (datetime64[D]; a NaT due
  date comes from the customer's payment terms, else `default_terms_days`),
  amount and remaining (int64 cents), currency ("" = the entity's); optional
  external_id (the ERP's id, unique per entity; "" for none).
- `settled`: the key + paid_on (datetime64[D]).
- `vanished`: the key + reason (text).
- `rejected`: the key of rows the source lists but could not read: a full
  snapshot never closes them (counted as rows rejected).
"""

from __future__ import annotations

import logging
import time
import zlib
from dataclasses import dataclass, replace
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from sqlalchemy import (
    Integer,
    Table,
    cast,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError

from o2c_desktop.engine.imports import (
    DEFAULT_MAX_CLOSE_SHARE,
    CloseCheck,
    CloseNotConfirmedError,
)
from o2c_desktop.engine.types import CaseKind, CaseStatus, ItemStatus
from o2c_desktop.models import (
    AuditEntry,
    BalanceSnapshot,
    Case,
    CaseItem,
    Customer,
    Entity,
    ImportBatch,
    Item,
    SyncCursor,
)
from o2c_desktop.models.audit import audit_row
from o2c_desktop.models.base import utcnow
from o2c_desktop.services._snapshot_rows import (
    ItemWriter,
    existing_items,
    write_customers,
)
from o2c_desktop.sync.importing.outcome import (
    ImportCancelledError,
    ImportRefusedError,
    ImportResult,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Sequence

    import pandas as pd
    from sqlalchemy.engine import Connection

    from o2c_desktop.models.db import Database

__all__ = [
    "ImportOutcome",
    "Snapshot",
    "SnapshotApplier",
    "Watermark",
    "apply_snapshot",
    "lock_entity",
    "read_cursor",
]

log = logging.getLogger(__name__)

KEY = ["customer_ref", "number", "instalment"]
_ID_KEY = ["customer_id", "number", "instalment"]
# First key of the per-entity advisory locks of imports (issue 14); the
# second is derived from the entity's code, so a first import is locked too.
_LOCK_CLASS = 0x0D2C0014
# Attempts of an import that lost a race on a unique key to a concurrent one.
_ATTEMPTS = 3


@dataclass(frozen=True)
class Watermark:
    """How far a feed has read: saved with the rows it applied.

    Attributes:
        cursor: the feed's name (e.g. "tryton:FR01").
        value: its position (a timestamp, an id: the feed's own text).
    """

    cursor: str
    value: str


@dataclass(frozen=True)
class Snapshot:
    """What a feed says about one entity's book (see the module docstring).

    Attributes:
        source: where it comes from (a file path, "tryton:..."): the history.
        entity: the entity's code; None when the database holds one, or none.
        customers: customer_ref, customer_name.
        items: the items as the feed sees them (valid rows only).
        as_of: the balance date.
        scope: "full" closes the open items it no longer lists; "delta" not.
        settled: items known paid, with their paid date.
        vanished: items gone from the feed, with the reason.
        watermark: the feed's cursor, saved with the rows.
        rejected: keys of rows the feed lists but could not read.
        default_terms_days: payment terms for due dates the feed lacks.
    """

    source: str
    entity: str | None
    customers: pd.DataFrame
    items: pd.DataFrame
    as_of: dt.date
    scope: Literal["full", "delta"] = "full"
    settled: pd.DataFrame | None = None
    vanished: pd.DataFrame | None = None
    watermark: Watermark | None = None
    rejected: pd.DataFrame | None = None
    default_terms_days: int = 30

    @property
    def full(self) -> bool:
        """Whether the snapshot lists the entity's whole open book."""
        return self.scope == "full"


@dataclass(frozen=True)
class ImportOutcome(ImportResult):
    """An `ImportResult` with the import's id and what it closes.

    Attributes:
        import_id: the id `undo` takes (None for a dry run).
        close: what a full import closes against the book before it.
        items_settled: items closed as paid on their own date (in items_closed).
        items_vanished: items closed as gone from the feed (in items_closed).
    """

    import_id: int | None = None
    close: CloseCheck | None = None
    items_settled: int = 0
    items_vanished: int = 0

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        data = super().as_dict()
        data["close"] = self.close.as_dict() if self.close is not None else None
        return data


def apply_snapshot(
    db: Database,
    snapshot: Snapshot,
    *,
    user_login: str | None = None,
    max_close_share: Decimal = DEFAULT_MAX_CLOSE_SHARE,
    **options: Any,
) -> ImportOutcome:
    """Apply one snapshot, all or nothing (`SnapshotApplier.apply`'s options)."""
    applier = SnapshotApplier(db, user_login, max_close_share=max_close_share)
    return applier.apply([snapshot], **options)


def read_cursor(db: Database, cursor: str) -> str | None:
    """The value a feed's watermark was last saved with, if any."""
    with db.session() as s:
        value: str | None = s.scalar(
            select(SyncCursor.value).where(SyncCursor.name == cursor)
        )
    return value


class SnapshotApplier:
    """Applies snapshots to the book in one transaction.

    Args:
        db: the open database.
        user_login: who applies them (audit trail).
        max_close_share: the share of the open items or outstanding a full
            snapshot may close without confirmation.
    """

    def __init__(
        self,
        db: Database,
        user_login: str | None = None,
        *,
        max_close_share: Decimal = DEFAULT_MAX_CLOSE_SHARE,
    ) -> None:
        self._db = db
        self._user = user_login or None
        self._max_close_share = max_close_share

    def apply(
        self,
        snapshots: Sequence[Snapshot],
        *,
        dry_run: bool = False,
        create_entity: bool = False,
        confirm_close: bool = False,
        report: Callable[[int], None] | None = None,
        cancelled: Callable[[], bool] | None = None,
    ) -> ImportOutcome:
        """Write `snapshots` (one per entity, in code order), all or nothing.

        Imports into one entity run one after the other (a database lock per
        entity; delta snapshots share it among themselves). A full snapshot
        that would close more than `max_close_share` of the open items or of
        the outstanding, or any item under dispute, litigation, a promise or
        a payment plan, is refused unless `confirm_close` is set; a dry run
        reports the same figures in `close` instead.

        Args:
            snapshots: what to apply; one transaction for all.
            dry_run: do everything, count it, and roll back.
            create_entity: create a snapshot's entity if it does not exist.
            confirm_close: the user has seen what a full snapshot closes.
            report: progress in percent.
            cancelled: polled between steps; True rolls everything back.

        Returns:
            What was done (for several snapshots: the sums).

        Raises:
            ImportRefusedError: the snapshot can't be applied (with the reason).
            ImportCancelledError: cancelled; nothing was written.
            CloseNotConfirmedError: a full snapshot would close too much, or
                items under a case, without `confirm_close`; nothing written.
        """
        tick = report or (lambda _pct: None)
        stop = cancelled or (lambda: False)
        outcome: ImportOutcome | None = None
        attempt = 1
        while outcome is None:
            try:
                with self._db.session(self._user) as s:
                    conn = s.connection()
                    outcome = self._apply_all(
                        conn,
                        snapshots,
                        create_entity,
                        dry_run,
                        confirm_close,
                        tick,
                        stop,
                    )
                    if dry_run:
                        s.rollback()
            except IntegrityError as exc:
                # A concurrent delta import added the same item first: the
                # next attempt sees it and updates it instead (issue 14).
                if attempt >= _ATTEMPTS or "unique" not in str(exc).lower():
                    raise
                log.info("Snapshot apply lost a race (%s); retrying", exc)
                attempt += 1
        tick(100)
        return outcome

    def _apply_all(
        self,
        conn: Connection,
        snapshots: Sequence[Snapshot],
        create_entity: bool,
        dry_run: bool,
        confirm_close: bool,
        tick: Callable[[int], None],
        stop: Callable[[], bool],
    ) -> ImportOutcome:
        results = []
        fresh: bool | None = None
        for snapshot in snapshots:
            lock_entity(conn, snapshot.entity, shared=not snapshot.full)
            if fresh is None:  # after SQLite's write lock is taken
                # A first import creates the entities its snapshots name.
                fresh = conn.execute(select(Entity.id).limit(1)).first() is None
            entity_id, code, currency, created = self._entity(
                conn, snapshot.entity, create_entity or fresh, snapshot.items
            )
            tick(5)
            step = _Apply(
                self._user,
                self._max_close_share,
                conn,
                snapshot,
                entity_id,
                code,
                currency,
                tick,
                stop,
            )
            result = step.run(dry_run=dry_run, confirm_close=confirm_close)
            results.append(replace(result, entity_created=created))
        now = utcnow()
        for snapshot in snapshots:
            if snapshot.watermark is not None:
                _save_cursor(conn, snapshot.watermark, now, self._user)
        return _combined(results)

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


class _Apply:
    """One snapshot into one entity: the steps of the apply, on columns."""

    def __init__(
        self,
        user: str | None,
        max_close_share: Decimal,
        conn: Connection,
        snapshot: Snapshot,
        entity_id: int,
        entity_code: str,
        currency: str,
        tick: Callable[[int], None],
        stop: Callable[[], bool],
    ) -> None:
        self.conn = conn
        self.snap = snapshot
        self.user = user
        self.max_close_share = max_close_share
        self.entity_id = entity_id
        self.entity_code = entity_code
        self.currency = currency
        self.writer = ItemWriter(conn)
        self._tick = tick
        self._stop = stop
        self._started = time.perf_counter()

    def checkpoint(self, pct: int) -> None:
        log.debug("import step %s at %.3f s", pct, time.perf_counter() - self._started)
        if self._stop():
            raise ImportCancelledError
        self._tick(pct)

    def run(self, *, dry_run: bool, confirm_close: bool) -> ImportOutcome:
        import pandas as pd

        snap = self.snap
        created, renamed, ids = write_customers(
            self.conn, self.writer, self.entity_id, snap.customers, self.user
        )
        self.checkpoint(15)
        valid = self._frame(snap.items, ids)
        self.settled = self._keys(snap.settled, ids)
        self.vanished = self._keys(snap.vanished, ids)
        explicit = pd.concat(
            [self.settled[_ID_KEY], self.vanished[_ID_KEY]], ignore_index=True
        )
        if len(explicit):
            # The feed says these are paid or gone: not open rows to write.
            valid = valid[~_isin(valid, explicit, _ID_KEY)]
        # The diff is computed here, on columns: a re-import of an unchanged
        # file then writes nothing, and no table is scanned per row (#3).
        existing = existing_items(self.conn, self.entity_id)
        self.checkpoint(30)
        merged = valid.merge(
            existing,
            on=_ID_KEY,
            how="left",
            suffixes=("", "_db"),
            validate="one_to_one",
        )
        new = merged["id"].isna().to_numpy()
        changed = _changed(merged[~new])
        is_open = (existing["status"] == ItemStatus.OPEN.value).to_numpy()
        closing = np.zeros(len(existing), bool)
        check = None
        if snap.full:
            listed = _isin(existing, valid, _ID_KEY)
            rejected = self._keys(snap.rejected, ids)
            if len(rejected):
                listed |= _isin(existing, rejected, _ID_KEY)
            closing = is_open & ~listed & ~_isin(existing, explicit, _ID_KEY)
            check = _close_check(
                self.conn,
                self.entity_id,
                existing,
                is_open,
                closing,
                self.currency,
                self.max_close_share,
            )
            # Before any item is written: a short file must not wipe the book.
            if check.needs_confirmation and not confirm_close and not dry_run:
                raise CloseNotConfirmedError(check)
        closed_on = np.full(len(existing), np.datetime64(snap.as_of, "D"))
        settled, vanished = self._explicit_masks(existing, is_open, closed_on)
        closing |= settled | vanished
        now = utcnow()
        import_id = self._batch(now)
        self._write(import_id, merged[new], changed, existing, closing, closed_on, now)
        figures = self._after(valid, existing, is_open, closing, now)
        self.checkpoint(95)
        result = ImportOutcome(
            entity=self.entity_code,
            as_of=snap.as_of,
            full=snap.full,
            dry_run=dry_run,
            rows_imported=len(valid),
            rows_rejected=len(snap.rejected) if snap.rejected is not None else 0,
            customers_created=created,
            customers_updated=renamed,
            items_created=int(new.sum()),
            items_updated=len(changed),
            items_unchanged=len(valid) - int(new.sum()) - len(changed),
            items_closed=int(closing.sum()),
            currency=self.currency,
            import_id=None if dry_run else import_id,
            close=check,
            items_settled=int(settled.sum()),
            items_vanished=int(vanished.sum()),
            **figures,
        )
        self._finish(import_id, result, now, existing, vanished)
        return result

    def _frame(self, items: pd.DataFrame, ids: dict[str, int]) -> pd.DataFrame:
        """The items with their customer's id, currency and due date."""
        frame = items.assign(
            customer_id=items["customer_ref"].map(ids),
            currency=items["currency"].where(items["currency"] != "", self.currency),
        )
        frame = frame[frame["customer_id"].notna()]
        frame = frame.assign(customer_id=frame["customer_id"].astype(np.int64))
        return frame.assign(due_date=self._due_dates(frame))

    def _keys(self, keys: pd.DataFrame | None, ids: dict[str, int]) -> pd.DataFrame:
        """`keys` (customer_ref, number, instalment, ...) by customer id."""
        import pandas as pd

        if keys is None or keys.empty:
            return pd.DataFrame({c: pd.Series(dtype=object) for c in _ID_KEY})
        mapped = keys.assign(customer_id=keys["customer_ref"].map(ids))
        mapped = mapped[mapped["customer_id"].notna()]
        return mapped.assign(
            customer_id=mapped["customer_id"].astype(np.int64),
            instalment=mapped["instalment"].astype(np.int64),
        )

    def _explicit_masks(
        self,
        existing: pd.DataFrame,
        is_open: np.ndarray[Any, Any],
        closed_on: np.ndarray[Any, Any],
    ) -> tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]:
        """Open items settled (their paid date set in `closed_on`) and vanished."""
        settled = np.zeros(len(existing), bool)
        if len(self.settled):
            paid = self.settled[[*_ID_KEY, "paid_on"]].drop_duplicates(_ID_KEY)
            on = existing[_ID_KEY].merge(paid, on=_ID_KEY, how="left")["paid_on"]
            days = on.to_numpy(dtype="datetime64[D]")
            settled = is_open & ~np.isnat(days)
            closed_on[settled] = days[settled]
        vanished = is_open & ~settled & _isin(existing, self.vanished, _ID_KEY)
        return settled, vanished

    def _due_dates(self, frame: pd.DataFrame) -> Any:
        """Due dates the feed lacks: customer's payment terms, else the default."""
        due = frame["due_date"].to_numpy(dtype="datetime64[D]")
        missing = np.isnat(due)
        if not missing.any():
            return due
        cust = _table(Customer)
        terms = dict(
            self.conn.execute(
                select(cust.c.id, cust.c.payment_terms_days).where(
                    cust.c.entity_id == self.entity_id,
                    cust.c.payment_terms_days.is_not(None),
                )
            ).all()
        )
        days = (
            frame["customer_id"]
            .map(terms)
            .fillna(self.snap.default_terms_days)
            .to_numpy(dtype=np.int64)
        )
        issue = frame["issue_date"].to_numpy(dtype="datetime64[D]")
        return np.where(missing, issue + days.astype("timedelta64[D]"), due)

    def _batch(self, now: dt.datetime) -> int:
        """The `import_batch` row; its counts are set at the end."""
        import_id: int = self.conn.execute(
            insert(ImportBatch)
            .values(
                entity_id=self.entity_id,
                as_of=self.snap.as_of,
                taken_at=now,
                user_login=self.user,
                source=self.snap.source[:400],
                full=self.snap.full,
                counts={},
            )
            .returning(ImportBatch.id)
        ).scalar_one()
        return import_id

    def _write(
        self,
        import_id: int,
        new: pd.DataFrame,
        changed: pd.DataFrame,
        existing: pd.DataFrame,
        closing: np.ndarray[Any, Any],
        closed_on: np.ndarray[Any, Any],
        now: dt.datetime,
    ) -> None:
        """Insert the new items, update the changed, close the closing ones."""
        writer = self.writer
        # In key order, the unique index is appended to, not scattered.
        writer.insert_items(self.entity_id, new.sort_values(_ID_KEY), now)
        self.checkpoint(60)
        writer.record_changes(import_id, changed["id"].to_numpy(np.int64), "updated")
        writer.update_items(changed, now)
        self.checkpoint(75)
        closed_ids = existing["id"].to_numpy(np.int64)[closing]
        writer.record_changes(import_id, closed_ids, "closed")
        writer.close_items(closed_ids, closed_on[closing], now)
        self.checkpoint(85)

    def _after(
        self,
        valid: pd.DataFrame,
        existing: pd.DataFrame,
        is_open: np.ndarray[Any, Any],
        closing: np.ndarray[Any, Any],
        now: dt.datetime,
    ) -> dict[str, Any]:
        """The book's figures after the apply; a full one records its snapshot."""
        import pandas as pd

        # The book after the import: the valid rows, plus the open items the
        # feed does not touch (delta, rejected rows).
        kept = existing[is_open & ~closing & ~_isin(existing, valid, _ID_KEY)]
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
        as_of = np.datetime64(self.snap.as_of, "D")
        overdue_cents = np.where(due < as_of, remaining, 0)
        figures: dict[str, Any] = {
            "outstanding_before": _decimal(
                existing["remaining_db"].to_numpy(dtype=np.int64)[is_open].sum()
            ),
            "outstanding_after": _decimal(remaining.sum()),
            "overdue_after": _decimal(overdue_cents.sum()),
            "snapshot_id": None,
        }
        if not self.snap.full:
            return figures
        snapshot_id = self.conn.execute(
            insert(BalanceSnapshot)
            .values(
                entity_id=self.entity_id,
                as_of=self.snap.as_of,
                taken_at=now,
                source=self.snap.source[:400],
                item_count=len(after_rows),
                outstanding=figures["outstanding_after"],
                overdue=figures["overdue_after"],
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
        self.writer.insert_snapshot_lines(snapshot_id, lines)
        figures["snapshot_id"] = snapshot_id
        return figures

    def _finish(
        self,
        import_id: int,
        result: ImportOutcome,
        now: dt.datetime,
        existing: pd.DataFrame,
        vanished: np.ndarray[Any, Any],
    ) -> None:
        """The batch's counts and the import's audit row."""
        self.conn.execute(
            update(ImportBatch)
            .where(ImportBatch.id == import_id)
            .values(
                snapshot_id=result.snapshot_id,
                counts={
                    "created": result.items_created,
                    "updated": result.items_updated,
                    "closed": result.items_closed,
                    "customers_created": result.customers_created,
                },
            )
        )
        changes: dict[str, Any] = {"file": self.snap.source, **result.as_dict()}
        if vanished.any():
            # Why the feed dropped them, by item id (the item keeps no reason).
            gone = existing[vanished][_ID_KEY].merge(
                self.vanished.drop_duplicates(_ID_KEY), on=_ID_KEY, how="left"
            )
            ids = existing["id"].to_numpy(np.int64)[vanished].tolist()
            changes["vanished"] = dict(
                zip(map(str, ids), gone["reason"].astype(str).tolist(), strict=True)
            )
        self.conn.execute(
            insert(AuditEntry),
            audit_row(
                now,
                self.user,
                "item",
                f"import:{result.snapshot_id or ''}"[:40],
                "import",
                changes,
            ),
        )


def _changed(known: pd.DataFrame) -> pd.DataFrame:
    """The known items the feed gives other values (or reopens)."""
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
    if "external_id" in known:
        differs |= (known["external_id"] != known["external_id_db"]).to_numpy()
    return known[differs]


def _isin(frame: pd.DataFrame, keys: pd.DataFrame, on: list[str]) -> Any:
    """Which rows of `frame` have their `on` key among `keys`'."""
    if not len(keys) or not len(frame):
        return np.zeros(len(frame), bool)
    found = frame[on].merge(
        keys[on].drop_duplicates(), on=on, how="left", indicator=True
    )
    return found["_merge"].to_numpy() == "both"


def _save_cursor(
    conn: Connection, mark: Watermark, now: dt.datetime, user: str | None
) -> None:
    """Save a feed's watermark in the transaction of its rows."""
    cursor = _table(SyncCursor)
    values = {"value": mark.value, "updated_at": now, "updated_by": user}
    moved = conn.execute(
        update(cursor).where(cursor.c.name == mark.cursor).values(**values)
    )
    if not moved.rowcount:
        conn.execute(insert(cursor).values(name=mark.cursor, **values))


def lock_entity(conn: Connection, code: str | None, *, shared: bool) -> None:
    """Serialise the writes into one entity's items (issue 14).

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
    lock = func.pg_advisory_xact_lock_shared if shared else func.pg_advisory_xact_lock
    conn.execute(select(lock(cast(_LOCK_CLASS, Integer), cast(key, Integer))))


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


def _decimal(cents: Any) -> Decimal:
    """Exact money from a count of cents."""
    return Decimal(int(cents)).scaleb(-2)


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
        "items_settled",
        "items_vanished",
    )
    currencies = {r.currency for r in results}
    changes: dict[str, Any] = {
        name: sum(getattr(r, name) for r in results) for name in counts
    }
    # Several snapshots of one entity (a file's paid history) run one after
    # the other: its book before the first, after the last.
    first: dict[str, ImportOutcome] = {}
    last: dict[str, ImportOutcome] = {}
    for r in results:
        first.setdefault(r.entity, r)
        last[r.entity] = r
    changes["outstanding_before"] = sum(
        (r.outstanding_before for r in first.values()), Decimal(0)
    )
    for name in ("outstanding_after", "overdue_after"):
        changes[name] = sum((getattr(r, name) for r in last.values()), Decimal(0))
    return replace(
        results[0],
        entity=", ".join(first),
        entity_created=any(r.entity_created for r in results),
        snapshot_id=results[-1].snapshot_id,
        currency=currencies.pop() if len(currencies) == 1 else "",
        **changes,
    )


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class (typed for mypy)."""
    table: Table = model.__table__
    return table
