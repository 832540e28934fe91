"""Applying an aged-balance import to the book, and exporting items back.

One transaction, all or nothing. The entity's items are read once as columns
and compared with the file in pandas; only new, changed and closed items are
written, in bulk through the driver (executemany on SQLite, COPY on
PostgreSQL). Items a full import no longer lists are closed (paid on the
balance date) and the balance snapshot is computed from the same columns, so
re-importing an unchanged file writes almost nothing.
"""

from __future__ import annotations

import json
import logging
import re
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Table,
    delete,
    func,
    insert,
    select,
    update,
)

from o2c_desktop import settings as settings_mod
from o2c_desktop.engine.imports import (
    DEFAULT_MAX_CLOSE_SHARE,
    CloseCheck,
    CloseNotConfirmedError,
    ImportRecord,
    UndoRefusedError,
    UndoResult,
)
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import (
    ActionItem,
    AuditEntry,
    BalanceSnapshot,
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
from o2c_desktop.services.import_history import history_snapshots, known_items
from o2c_desktop.services.import_undo import CaseUndo
from o2c_desktop.services.snapshot import (
    KEY,
    ImportOutcome,
    Snapshot,
    SnapshotApplier,
    lock_entity,
)
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
    import datetime as dt
    from collections.abc import Callable

    import pandas as pd
    from sqlalchemy.orm import Session

    from o2c_desktop.models.db import Database

log = logging.getLogger(__name__)


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
    @staticmethod
    def preview(
        path: Path | str,
        options: ImportOptions | None = None,
        *,
        limit: int | None = None,
        report: Callable[[int], None] | None = None,
    ) -> ParsedImport:
        """Read and check a file without touching the database.

        The import screen and `o2c import` both preview through here.

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

        Each entity's rows become a `services.snapshot.Snapshot` ("delta" when
        `partial`), applied in one transaction: see `SnapshotApplier.apply`
        for the locks and the close check.

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
        if parsed.fatal:
            first = parsed.problems[0] if parsed.problems else None
            raise ImportRefusedError(str(first) if first else "nothing to import")
        rows = parsed.rows
        assert rows is not None
        errors = int((rows["error"].to_numpy() != "").sum())
        if parsed.settled is not None:
            errors += int((parsed.settled["error"].to_numpy() != "").sum())
        if errors and not valid_only:
            raise ImportRefusedError(
                f"{errors} rows have errors; nothing was imported. Fix "
                "the file, or import the valid rows only."
            )
        paid: pd.DataFrame | None = None
        history: list[Snapshot] = []
        if parsed.settled is not None:
            known = known_items(self._db, entity_code)
            paid, history = history_snapshots(parsed, entity_code, as_of, known)
        # Our own export names each row's entity: each part goes into its
        # entity, in this one transaction (parts come in code order, so two
        # imports lock entities alike). A file of paid invoices only
        # (--history) never closes nor reopens the book's open items.
        snapshots = [
            _snapshot(parsed, wanted, part, as_of, partial, paid)
            for wanted, part in _entity_parts(rows, entity_code)
            if not parsed.options.history
        ] + history
        if not snapshots:
            raise ImportRefusedError(
                "the paid history holds no item the book does not have already; "
                "nothing to import"
            )
        applier = SnapshotApplier(
            self._db,
            self._user,
            max_close_share=(
                self._max_close_share if max_close_share is None else max_close_share
            ),
        )
        try:
            return applier.apply(
                snapshots,
                dry_run=dry_run,
                create_entity=create_entity,
                confirm_close=confirm_close,
                report=report,
                cancelled=cancelled,
            )
        except ImportCancelledError:
            log.info("Import of %s cancelled; nothing written", parsed.path)
            raise

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
                lock_entity(conn, code, shared=False)
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


def _table(model: type[Any]) -> Table:
    """The Core table of a mapped class (typed for mypy)."""
    table: Table = model.__table__
    return table


def _money(value: Decimal | None) -> Decimal:
    """A Money aggregate; SUM over no rows is NULL."""
    return value if value is not None else Decimal("0.00")


def _snapshot(
    parsed: ParsedImport,
    entity: str | None,
    rows: pd.DataFrame,
    as_of: dt.date,
    partial: bool,
    settled: pd.DataFrame | None = None,
) -> Snapshot:
    """One entity's part of a parsed file, as the snapshot apply takes it."""
    ok = (rows["error"] == "").to_numpy()
    valid = rows[ok]
    return Snapshot(
        source=str(parsed.path),
        entity=entity,
        customers=valid[["customer_ref", "customer_name"]],
        items=valid.drop(columns=["row", "entity", "error"], errors="ignore"),
        as_of=as_of,
        scope="delta" if partial else "full",
        # A row the file lists but could not read never closes its item.
        rejected=rows[~ok][KEY],
        settled=settled,
        default_terms_days=parsed.options.default_terms_days,
    )


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
