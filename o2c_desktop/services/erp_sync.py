"""ERP sync: set up connectors, pull into the book, push write-backs (#18).

A pull goes through the same snapshot apply as the file import
(`services.snapshot`), so "what the book now says" has one code path: upserts
by the ERP's ids, items reconciled in the ERP closed as paid on their date,
vanished ones closed with the reason, the cursor saved in the transaction of
the rows. Every pull, applied or failed, leaves a `sync_run` row.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import func, select

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.engine.types import OutboxChannel, OutboxStatus
from o2c_desktop.models import OutboxEntry, SyncRun
from o2c_desktop.models.base import utcnow
from o2c_desktop.services import erp_apply
from o2c_desktop.services.erp_writeback import SEPARATOR
from o2c_desktop.services.outbox import Outbox, Outcome
from o2c_desktop.sync.erp import registry
from o2c_desktop.sync.erp.base import WriteBack
from o2c_desktop.sync.importing.outcome import ImportRefusedError

if TYPE_CHECKING:
    from collections.abc import Callable, Collection, Mapping
    from pathlib import Path

    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.outbox import Entry, SendReport
    from o2c_desktop.settings import ConnectorSettings
    from o2c_desktop.sync.erp.base import Connector, ConnectorInfo, Pull

log = logging.getLogger(__name__)


class SyncError(Exception):
    """A sync can't start (unknown connector, no password); one line."""


def cursor_name(connector: str) -> str:
    """The `sync_cursor` row of a connector."""
    return f"erp:{connector}"


class ErpPerformer:
    """Pushes the ERP channel's outbox entries through their connector.

    Args:
        connectors: the connectors this machine can reach, by name.
        write_back: per connector, the action categories that go back
            (`ConnectorSettings.write_back`); all when a connector is absent.
    """

    def __init__(
        self,
        connectors: Mapping[str, Connector],
        write_back: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self._connectors = dict(connectors)
        self._write_back = dict(write_back or {})

    def perform(self, entry: Entry) -> Outcome:
        """Push one write-back; the ERP's refusal is a final failure with its text."""
        name = str(entry.payload.get("connector", ""))
        connector = self._connectors.get(name)
        if connector is None:
            return Outcome(
                False, f"no ERP connector named {name!r} is set up here", retry=True
            )
        switch = str(entry.payload.get("category", "other"))
        enabled = self._write_back.get(name)
        if enabled is not None and switch not in enabled:
            return Outcome(True, f"not written back: {switch} is off for {name}")
        try:
            wb = WriteBack.of(entry.payload)
        except ValueError as exc:
            return Outcome(False, str(exc))
        pushed = connector.push(wb)
        if pushed.done and pushed.replayed:
            return Outcome(True, f"already in the ERP: {pushed.message}")
        return Outcome(pushed.done, pushed.message, retry=pushed.retry)


@dataclass(frozen=True)
class ConnectorStatus:
    """What `o2c sync status` shows for one connector."""

    name: str
    kind: str
    entity: str
    last_run_at: dt.datetime | None = None
    last_ok_at: dt.datetime | None = None
    last_error: str | None = None
    last_counts: dict[str, Any] = field(default_factory=dict)
    cursor: str | None = None
    queued: int = 0
    failed: int = 0
    failures: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {
            k: v.isoformat() if isinstance(v, dt.datetime) else v
            for k, v in self.__dict__.items()
        } | {"failures": list(self.failures)}


@dataclass(frozen=True)
class SyncReport:
    """What one `o2c sync erp` did (or would do, for a dry run)."""

    connector: str
    full: bool
    dry_run: bool
    ok: bool
    error: str | None = None
    counts: dict[str, int] = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    run_id: int | None = None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready values."""
        return {**self.__dict__, "problems": list(self.problems)}


class ErpSyncService:
    """Connectors: set up, tested, pulled; their write-backs pushed.

    Args:
        ctx: the database and the current user.
        connect: builds a connector from its settings and password (tests
            point it at a live Tryton).
        settings_path: the settings file holding the connectors.
    """

    def __init__(
        self,
        ctx: AppContext,
        *,
        connect: Callable[[ConnectorSettings, str], Connector] = registry.connect,
        settings_path: Path | None = None,
    ) -> None:
        self._ctx = ctx
        self._connect = connect
        self._path = settings_path

    # -- set-up -------------------------------------------------------------

    def connectors(self) -> dict[str, ConnectorSettings]:
        """The connectors set up on this machine, by name."""
        return settings_mod.load_connectors(self._path)

    def add(self, connector: ConnectorSettings, password: str) -> None:
        """Save a connector's settings, and its password in the keyring.

        Raises:
            SyncError: a bad name or kind, or no keyring to keep the password.
        """
        if not connector.name or SEPARATOR in connector.name or " " in connector.name:
            raise SyncError(
                f"invalid connector name {connector.name!r}: "
                "use letters, digits, - or _"
            )
        if connector.kind not in registry.KINDS:
            raise SyncError(
                f"unknown ERP kind {connector.kind!r} "
                f"(known: {', '.join(registry.KINDS)})"
            )
        unknown = set(connector.write_back) - set(settings_mod.WRITE_BACK_KINDS)
        if unknown:
            raise SyncError(
                f"unknown write-back {', '.join(sorted(unknown))} "
                f"(known: {', '.join(settings_mod.WRITE_BACK_KINDS)})"
            )
        try:
            secrets.set_password(secrets.connector_key(connector.name), password)
        except secrets.NoKeyringError as exc:
            raise SyncError(str(exc)) from exc
        settings_mod.save_connector(connector, self._path)

    def open(self, name: str | None) -> tuple[ConnectorSettings, Connector]:
        """A connector by name (the only one when `name` is None).

        Raises:
            SyncError: none, several and no name, an unknown name, or no password.
        """
        known = self.connectors()
        if name is None:
            if len(known) != 1:
                raise SyncError(
                    "no ERP connector is set up: add one with o2c connector add"
                    if not known
                    else f"several connectors ({', '.join(sorted(known))}): "
                    "choose one with --connector"
                )
            name = next(iter(known))
        if name not in known:
            raise SyncError(
                f"unknown connector {name!r}"
                + (f" (set up: {', '.join(sorted(known))})" if known else "")
            )
        cs = known[name]
        password = secrets.get_password(secrets.connector_key(name))
        if password is None:
            raise SyncError(
                f"no password for connector {name!r} in the keyring: "
                "add it again with o2c connector add"
            )
        try:
            return cs, self._connect(cs, password)
        except ValueError as exc:
            raise SyncError(str(exc)) from exc

    def test(self, name: str | None) -> ConnectorInfo:
        """Log in to the ERP and check it has what the sync needs."""
        _cs, connector = self.open(name)
        return connector.test()

    # -- pulling ------------------------------------------------------------

    def pull(
        self, name: str | None, *, full: bool = False
    ) -> tuple[ConnectorSettings, Pull]:
        """Pull from a connector without applying (a dry run's first half)."""
        cs, connector = self.open(name)
        cursor = None if full else self._cursor(cs.name)
        known = [] if full or cursor is None else self._known(cs)
        return cs, connector.pull(cursor, full=full, known=known)

    def sync(
        self, name: str | None, *, full: bool = False, dry_run: bool = False
    ) -> SyncReport:
        """Pull from a connector and apply it (count only, for a dry run).

        An incremental pull starts at the saved cursor; with none (the first
        sync) or `full`, everything is pulled and the items the ERP no longer
        has open are closed. After applying, the write-backs waiting are pushed.

        Raises:
            SyncError: the connector can't be opened (unknown, no password).
        """
        started = utcnow()
        cs, pull = self.pull(name, full=full)
        problems = tuple(str(p) for p in pull.problems)
        if pull.failure is not None:
            run = self.record_run(
                cs.name,
                started,
                full=pull.full,
                dry_run=dry_run,
                error=pull.failure.message,
                counts={},
                problems=problems,
            )
            return SyncReport(
                cs.name,
                pull.full,
                dry_run,
                False,
                pull.failure.message,
                {},
                problems,
                run,
            )
        counts = {
            "customers": len(pull.customers),
            "items": len(pull.items),
            "paid": sum(1 for x in pull.settled if x.on is not None),
            "vanished": len(pull.vanished),
            "left_out": len(problems),
        }
        try:
            counts |= self._apply(cs, pull, dry_run=dry_run)
        except ImportRefusedError as exc:
            run = self.record_run(
                cs.name,
                started,
                full=pull.full,
                dry_run=dry_run,
                error=str(exc),
                counts=counts,
                problems=problems,
            )
            return SyncReport(
                cs.name, pull.full, dry_run, False, str(exc), counts, problems, run
            )
        run = self.record_run(
            cs.name,
            started,
            full=pull.full,
            dry_run=dry_run,
            error=None,
            counts=counts,
            problems=problems,
        )
        if not dry_run:
            pushed = self.push(cs.name)
            counts["written_back"] = pushed.sent
            counts["write_backs_failed"] = len(pushed.failed)
        return SyncReport(
            cs.name, pull.full, dry_run, True, None, counts, problems, run
        )

    def _apply(
        self, cs: ConnectorSettings, pull: Pull, *, dry_run: bool
    ) -> dict[str, int]:
        """Apply a pull through the snapshot apply (`services.snapshot`)."""
        return erp_apply.apply_pull(
            self._ctx, cs, pull, cursor_name(cs.name), dry_run=dry_run
        )

    def record_run(
        self,
        name: str,
        started: dt.datetime,
        *,
        full: bool,
        dry_run: bool,
        error: str | None,
        counts: Mapping[str, int],
        problems: Collection[str],
    ) -> int:
        """Write the `sync_run` row of a pull; its id."""
        with self._ctx.db.session(self._ctx.user_login) as s:
            run = SyncRun(
                connector=name,
                started_at=started,
                finished_at=utcnow(),
                full=full,
                dry_run=dry_run,
                ok=error is None,
                error=error,
                counts=dict(counts),
                problems=list(problems)[:200],
                user_login=self._ctx.user_login or None,
            )
            s.add(run)
            s.flush()
            return run.id

    def _cursor(self, name: str) -> str | None:
        from o2c_desktop.models import SyncCursor

        with self._ctx.db.session(self._ctx.user_login) as s:
            return s.scalar(
                select(SyncCursor.value).where(SyncCursor.name == cursor_name(name))
            )

    def _known(self, cs: ConnectorSettings) -> list[str]:
        """The ERP ids of the items the book holds open from this connector."""
        from o2c_desktop.engine.types import ItemStatus
        from o2c_desktop.models import Item

        prefix = f"{cs.name}{SEPARATOR}"
        with self._ctx.db.session(self._ctx.user_login) as s:
            return [
                (ext or "")[len(prefix) :]
                for ext in s.scalars(
                    select(Item.external_id).where(
                        Item.status == ItemStatus.OPEN,
                        Item.external_id.like(f"{prefix}%"),
                    )
                )
            ]

    # -- write-back ---------------------------------------------------------

    def push(self, name: str | None = None) -> SendReport:
        """Drain the ERP channel of the outbox through the connectors set up."""
        known = self.connectors()
        names = [name] if name else sorted(known)
        opened = {n: self.open(n)[1] for n in names}
        write_back = {n: known[n].write_back for n in names}
        outbox = Outbox(
            self._ctx,
            {OutboxChannel.ERP_WRITE_BACK: ErpPerformer(opened, write_back)},
        )
        outbox.hand_over_stale()
        return outbox.drain()

    # -- status -------------------------------------------------------------

    def status(self) -> list[ConnectorStatus]:
        """Each connector's last pull, cursor and write-backs waiting or failed."""
        from o2c_desktop.models import SyncCursor

        out = []
        with self._ctx.db.session(self._ctx.user_login) as s:
            for name, cs in sorted(self.connectors().items()):
                last = s.scalars(
                    select(SyncRun)
                    .where(SyncRun.connector == name, SyncRun.dry_run.is_(False))
                    .order_by(SyncRun.started_at.desc(), SyncRun.id.desc())
                    .limit(1)
                ).first()
                last_ok = s.scalar(
                    select(func.max(SyncRun.finished_at)).where(
                        SyncRun.connector == name,
                        SyncRun.ok.is_(True),
                        SyncRun.dry_run.is_(False),
                    )
                )
                entries = select(OutboxEntry.status, OutboxEntry.last_error).where(
                    OutboxEntry.channel == OutboxChannel.ERP_WRITE_BACK,
                    OutboxEntry.payload["connector"].as_string() == name,
                )
                rows = s.execute(entries).all()
                out.append(
                    ConnectorStatus(
                        name=name,
                        kind=cs.kind,
                        entity=cs.entity,
                        last_run_at=last.started_at if last else None,
                        last_ok_at=last_ok,
                        last_error=last.error if last else None,
                        last_counts=dict(last.counts) if last else {},
                        cursor=s.scalar(
                            select(SyncCursor.value).where(
                                SyncCursor.name == cursor_name(name)
                            )
                        ),
                        queued=sum(
                            1
                            for st, _e in rows
                            if st in (OutboxStatus.QUEUED, OutboxStatus.TO_RETRY)
                        ),
                        failed=sum(1 for st, _e in rows if st is OutboxStatus.FAILED),
                        failures=tuple(
                            e or "" for st, e in rows if st is OutboxStatus.FAILED
                        )[:20],
                    )
                )
        return out
