"""Opening the database: engines, sessions, migrations and clear failures.

`open_database()` is the one door. It connects, refuses a database written
by a newer version of the app, upgrades an older one (after a backup copy on
SQLite) and returns a `Database` whose `session()` opens one unit of work.

An upgrade is all or nothing (issue 14): every migration runs in one
transaction on one connection, alone (`BEGIN IMMEDIATE` on SQLite, an advisory
lock on PostgreSQL), and is verified before it commits. A failure or a kill
rolls it back; on SQLite the backup copy is then restored as well.
"""

from __future__ import annotations

import logging
import sqlite3
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.exc import DatabaseError as SADatabaseError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import NullPool

from o2c_desktop import settings
from o2c_desktop.models import audit_trail, change_seq, dburl
from o2c_desktop.models.base import utcnow

if TYPE_CHECKING:
    from collections.abc import Iterator

    from alembic.runtime.migration import MigrationInfo
    from sqlalchemy import Connection
    from sqlalchemy.engine import URL

log = logging.getLogger(__name__)

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"
# Backup copies kept beside an SQLite book, of each kind: those of upgrades
# that went through, pruned after an upgrade that goes through, and those of
# failed ones (named "-failed"), pruned after a failure. A failed start never
# deletes a copy made before a good upgrade or by an older version of the app.
KEEP_BACKUPS: Final = 3
_FAILED: Final = "-failed"
# One fixed key for every O2C Desktop upgrading a PostgreSQL database (b"o2c-migr").
PG_MIGRATION_LOCK: Final = 0x6F32_632D_6D69_6772


class DatabaseError(Exception):
    """A database can't be used; the message says why and what to do."""


class NewerSchemaError(DatabaseError):
    """The database was written by a newer version of the app."""


class AuditedSession(Session):
    """A session that writes the audit trail of what it changes."""


audit_trail.install(AuditedSession)


@dataclass(frozen=True)
class Database:
    """An open database: the engine and a factory of units of work."""

    engine: Engine
    factory: sessionmaker[AuditedSession]

    @property
    def url(self) -> URL:
        """The URL, password hidden when printed."""
        return self.engine.url

    @property
    def description(self) -> str:
        """What the status bar shows: kind and location, never the password."""
        url = self.engine.url
        if url.get_backend_name() == "sqlite":
            return f"SQLite — {url.database}"
        where = f"{url.host}:{url.port or 5432}/{url.database}"
        return f"PostgreSQL — {url.username or ''}@{where}"

    @contextmanager
    def session(self, user_login: str | None = None) -> Iterator[AuditedSession]:
        """One unit of work: commits on success, rolls back on any error."""
        with self.factory.begin() as s:
            s.info["user_login"] = user_login
            yield s

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def make_engine(url: str | URL, password: str | None = None) -> Engine:
    """Create an engine for `url`, adding `password` (from the keyring) if given.

    Raises:
        DatabaseError: the URL is not one the app can use.
    """
    try:
        parsed = dburl.parse(url)
    except dburl.UrlError as exc:
        raise DatabaseError(str(exc)) from exc
    backend = parsed.get_backend_name()
    if backend == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
        if password and not parsed.password:
            parsed = parsed.set(password=password)
        engine = create_engine(
            parsed,
            pool_pre_ping=True,
            connect_args={"connect_timeout": 10, "application_name": "o2c-desktop"},
        )
        change_seq.install(engine)
        return engine
    if backend == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            _sqlite_folder(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        change_seq.install(engine)
        return engine
    raise DatabaseError(
        f"Unsupported database {backend!r}: use SQLite (embedded) or PostgreSQL."
    )


def _sqlite_folder(path: Path) -> None:
    """Make sure the book's folder exists, creating only the app's own one.

    A typo in a URL must not leave a tree of new folders behind (issue 15).

    Raises:
        DatabaseError: the folder is missing; the message says where the
            book would have been.
    """
    book = path.absolute()
    if book.parent.is_dir():
        if not book.exists():
            log.info("Creating the book %s", book)
        return
    if book.parent == settings.data_dir().absolute():
        book.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        log.info("Creating the book %s", book)
        return
    raise DatabaseError(
        f"The folder {book.parent} does not exist, so the book {book} cannot be "
        "created there: create the folder or correct the database URL."
    )


def alembic_config(engine: Engine | None = None) -> Config:
    """Alembic configuration pointing at the packaged migrations."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def head_revision() -> str:
    """The schema revision this version of the app writes."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The schema revision of the database, None when it has no tables yet."""
    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def _explain(exc: Exception, engine: Engine) -> DatabaseError:
    message = str(getattr(exc, "orig", exc)).strip().splitlines()[0] if str(exc) else ""
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if "not a database" in message or "malformed" in message:
            return DatabaseError(
                f"{url.database} is not an O2C Desktop database (or it is damaged). "
                "Choose another file in Settings; this one was left untouched."
            )
        return DatabaseError(f"Cannot open {url.database}: {message}")
    where = f"{url.host}:{url.port or 5432}/{url.database}"
    if "password authentication failed" in message or "no password supplied" in message:
        return DatabaseError(
            f"The database server at {where} refused user {url.username!r}: wrong "
            "password. Enter the password again in Settings."
        )
    if "does not exist" in message:
        return DatabaseError(f"The database server at {where} says: {message}")
    return DatabaseError(
        f"Cannot reach the database server at {where} ({message}). Check the "
        "address in Settings and that the server is running."
    )


def check_revision(engine: Engine) -> str | None:
    """Return the database's revision, refusing one from a newer app version.

    Raises:
        DatabaseError: unreachable, not a database, or too new.
    """
    try:
        revision = current_revision(engine)
    except (OperationalError, SADatabaseError) as exc:
        raise _explain(exc, engine) from exc
    _refuse_unknown(revision)
    return revision


def _refuse_unknown(revision: str | None) -> None:
    if revision is None:
        return
    try:
        ScriptDirectory.from_config(alembic_config()).get_revision(revision)
    except Exception as exc:
        raise NewerSchemaError(
            f"This database was written by a newer version of O2C Desktop "
            f"(schema {revision}). Install the newer version to open it; "
            "nothing was changed."
        ) from exc


def _sqlite_migration_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite neither BEGINs before DDL nor keeps it in the transaction: turn
    # its transaction handling off and BEGIN ourselves (the "begin" listener).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # A batch migration rebuilds a table (DROP, then RENAME of a copy): with
    # foreign keys on, the DROP of a referenced table fails or cascades. The
    # pragma is ignored inside a transaction, so it is set here, before BEGIN;
    # `PRAGMA foreign_key_check` runs before COMMIT instead.
    cur.execute("PRAGMA foreign_keys=OFF")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock now: a second app waits here, then sees
    # the schema the first one committed.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def _sqlite_file(engine: Engine) -> Path | None:
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        return None
    return Path(database)


@contextmanager
def migration_connection(engine: Engine) -> Iterator[Connection]:
    """A connection in one transaction that no other migration runs beside.

    SQLite: a connection of its own with foreign keys off and a real
    `BEGIN IMMEDIATE`; `PRAGMA foreign_key_check` must come back empty before
    the COMMIT. PostgreSQL: a session-level advisory lock (`PG_MIGRATION_LOCK`)
    held around the transaction, so four apps starting on an empty database
    create the schema once. Read the revision again inside: another app may
    have upgraded the database while this one waited.

    Yields:
        The connection; the transaction commits when the block ends without
        an exception and rolls back otherwise.

    Raises:
        DatabaseError: rows point to rows that do not exist (nothing committed).
    """
    if _sqlite_file(engine) is not None:  # (an in-memory one lives in its connection)
        own = create_engine(engine.url, poolclass=NullPool)
        event.listen(own, "connect", _sqlite_migration_pragmas)
        event.listen(own, "begin", _sqlite_begin)
        try:
            with own.begin() as conn:
                yield conn
                _check_foreign_keys(conn)
        finally:
            own.dispose()
        return
    with engine.connect() as conn:
        if engine.dialect.name == "postgresql":
            got = conn.scalar(
                text("SELECT pg_try_advisory_lock(:k)"), {"k": PG_MIGRATION_LOCK}
            )
            if not got:
                log.info(
                    "Waiting for another O2C Desktop to finish upgrading %s", engine.url
                )
                conn.execute(
                    text("SELECT pg_advisory_lock(:k)"), {"k": PG_MIGRATION_LOCK}
                )
            conn.commit()  # the lock is the session's: it outlives this transaction
        try:
            with conn.begin():
                yield conn
        finally:
            # A connection that broke took the lock with it.
            if engine.dialect.name == "postgresql" and not conn.invalidated:
                with suppress(SADatabaseError):
                    conn.execute(
                        text("SELECT pg_advisory_unlock(:k)"), {"k": PG_MIGRATION_LOCK}
                    )
                    conn.commit()


def _check_foreign_keys(conn: Connection) -> None:
    rows = conn.exec_driver_sql("PRAGMA foreign_key_check").all()
    if rows:
        table, _rowid, parent, _fk = rows[0]
        raise DatabaseError(
            f"{len(rows)} row(s) point to rows that do not exist "
            f"(first: a {table} row to {parent})"
        )


def _check_integrity(conn: Connection, head: str) -> None:
    revision = MigrationContext.configure(conn).get_current_revision()
    if revision != head:
        raise DatabaseError(f"the schema is at {revision}, not {head}")
    if conn.dialect.name == "sqlite":
        found = [row[0] for row in conn.exec_driver_sql("PRAGMA integrity_check")]
        if found != ["ok"]:
            raise DatabaseError(f"integrity check: {found[0]}")


def _backup_path(source: Path) -> Path:
    stamp = utcnow().strftime("%Y%m%dT%H%M%SZ")
    target = source.with_name(f"{source.stem}.backup-{stamp}{source.suffix}")
    n = 1
    # Two upgrades within a second; a failed one's copy is renamed "-failed"
    # afterwards, and must not replace the previous failed start's copy.
    while target.exists() or target.with_stem(target.stem + _FAILED).exists():
        n += 1
        target = source.with_name(f"{source.stem}.backup-{stamp}-{n}{source.suffix}")
    return target


def backups_of(source: Path, *, failed: bool | None = None) -> list[Path]:
    """The backup copies of an SQLite book, oldest first.

    Args:
        source: the book.
        failed: only the copies of failed upgrades (True), only the others
            (False) or all (None).
    """
    found = source.parent.glob(f"{source.stem}.backup-*{source.suffix}")
    copies = sorted(found, key=lambda p: (p.stat().st_mtime_ns, p.name))
    if failed is None:
        return copies
    return [p for p in copies if p.stem.endswith(_FAILED) == failed]


def _prune(source: Path, *, failed: bool) -> None:
    for old in backups_of(source, failed=failed)[:-KEEP_BACKUPS]:
        old.unlink(missing_ok=True)


def _sqlite_copy(source: Path, target: Path) -> None:
    """Copy one SQLite file over another with the online backup API.

    Consistent even with WAL pages pending; both sides wait for a writer.
    """
    src = sqlite3.connect(source, timeout=30)
    try:
        dest = sqlite3.connect(target, timeout=30)
        try:
            src.backup(dest)
        finally:
            dest.close()
    finally:
        src.close()


def _copy_sqlite(source: Path) -> Path:
    target = _backup_path(source)
    # A connection of its own: the upgrade's connection holds the write lock
    # (SQLite's backup refuses a source that is writing), so this one reads
    # the last committed state, which nobody can change meanwhile.
    _sqlite_copy(source, target)
    log.info("Backed up %s to %s before upgrading", source, target)
    return target


def backup_sqlite(engine: Engine) -> Path | None:
    """Copy an SQLite file beside itself before an upgrade; return the copy."""
    source = _sqlite_file(engine)
    if source is None or not source.exists():
        return None
    return _copy_sqlite(source)


def _restore_sqlite(copy: Path, database: Path) -> None:
    _sqlite_copy(copy, database)


def _reason(exc: BaseException) -> str:
    text_ = str(getattr(exc, "orig", None) or exc).strip()
    # Batch mode's copy of a table is the table the user knows.
    text_ = text_.replace("_alembic_tmp_", "")
    return text_.splitlines()[0] if text_ else type(exc).__name__


def upgrade(engine: Engine, *, backup: bool = True) -> Path | None:
    """Bring the schema to the head revision; return the backup copy if made.

    The whole upgrade is one transaction, verified (revision, integrity,
    foreign keys) before it commits. On failure it is rolled back and on
    SQLite the backup copy is restored over the book.

    Raises:
        DatabaseError: the database can't be used (see `check_revision`), or
            the upgrade failed: the message names the revision and says what
            the database was left as.
    """
    revision = check_revision(engine)
    head = head_revision()
    if revision == head:
        return None
    script = ScriptDirectory.from_config(alembic_config())
    applied: list[str] = []
    book = _sqlite_file(engine)
    copy: Path | None = None

    def stamped(*, step: MigrationInfo, **_kw: Any) -> None:
        applied.extend(step.up_revision_ids)

    try:
        with migration_connection(engine) as conn:
            revision = MigrationContext.configure(conn).get_current_revision()
            if revision == head:
                return None  # another app upgraded it while this one waited
            _refuse_unknown(revision)
            if backup and revision is not None and book is not None:
                copy = _copy_sqlite(book)
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            cfg.attributes["on_version_apply"] = stamped
            command.upgrade(cfg, "head")
            _check_integrity(conn, head)
    except NewerSchemaError:
        raise
    except Exception as exc:
        raise _upgrade_failed(engine, script, revision, applied, copy, exc) from exc
    if copy is not None and book is not None:
        _prune(book, failed=False)
        log.info("The last %d copies are kept in %s", KEEP_BACKUPS, copy.parent)
    return copy


def _upgrade_failed(
    engine: Engine,
    script: ScriptDirectory,
    start: str | None,
    applied: list[str],
    copy: Path | None,
    exc: BaseException,
) -> DatabaseError:
    pending = [r.revision for r in script.iterate_revisions("head", start)][::-1]
    failed = pending[len(applied)] if len(applied) < len(pending) else pending[-1]
    what = f"Upgrading the database to schema {failed} failed ({_reason(exc)})"
    log.info("%s", what, exc_info=exc)  # the caller shows `what`; --verbose the cause
    database = _sqlite_file(engine)
    if copy is None or database is None:
        return DatabaseError(
            f"{what}; it was rolled back: the database is unchanged "
            f"(schema {start or 'empty'})."
        )
    engine.dispose()  # no pooled connection reads the book while it is replaced
    try:
        _restore_sqlite(copy, database)
    except Exception as again:  # noqa: BLE001 - say what to do instead
        return DatabaseError(
            f"{what}, and restoring the backup failed too ({_reason(again)}): "
            f"close O2C Desktop and copy {copy} over {database}."
        )
    # The book is this copy again: each failed start would otherwise add one.
    failed_copy = copy.rename(copy.with_stem(copy.stem + _FAILED))
    _prune(database, failed=True)
    return DatabaseError(
        f"{what}; the book was restored from {failed_copy}: nothing was lost."
    )


def open_database(
    url: str | URL, *, password: str | None = None, migrate: bool = True
) -> Database:
    """Open (and by default upgrade) the database at `url`.

    Raises:
        DatabaseError: with a message for the user; nothing was written.
    """
    engine = make_engine(url, password)
    try:
        if migrate:
            upgrade(engine)
        else:
            revision = check_revision(engine)
            if revision != head_revision():
                raise DatabaseError(
                    "The database schema is not up to date: run `o2c db upgrade`."
                )
    except Exception:
        engine.dispose()
        raise
    factory = sessionmaker(engine, class_=AuditedSession, expire_on_commit=False)
    return Database(engine=engine, factory=factory)


def analyze(db: Database) -> None:
    """Refresh the planner's statistics after a bulk load.

    Without them PostgreSQL plans a portfolio's monthly revenue as a scan of
    the whole item table (170 s instead of 0.2 s on the 1M-item book).
    """
    if db.engine.dialect.name != "postgresql":
        return  # SQLite's planner is tuned by the queries themselves for now
    with db.engine.begin() as conn:
        # Only the book's own tables: a bare ANALYZE locks every table of the
        # database, and deadlocked against an upgrade in another schema.
        quote = conn.dialect.identifier_preparer.quote
        names = [quote(n) for n in sorted(inspect(conn).get_table_names())]
        if names:
            conn.execute(text(f"ANALYZE {', '.join(names)}"))


def ping(engine: Engine) -> None:
    """Run a trivial query, raising DatabaseError with a clear message."""
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
    except (OperationalError, SADatabaseError) as exc:
        raise _explain(exc, engine) from exc
