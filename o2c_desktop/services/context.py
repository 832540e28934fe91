"""What every service needs: the open database and who is working."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import keyring.errors

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.models import dburl
from o2c_desktop.models.db import AuditedSession, Database, DatabaseError, open_database
from o2c_desktop.services import erp_writeback
from o2c_desktop.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

log = logging.getLogger(__name__)

# Every service's session queues the ERP write-backs of the actions it performs.
erp_writeback.install(AuditedSession)


@dataclass(frozen=True)
class Changes:
    """What a write changed, so views refresh only what it names."""

    customers: bool = False
    items: bool = False
    actions: bool = False
    cases: bool = False
    scenarios: bool = False
    templates: bool = False
    users: bool = False
    notifications: bool = False

    def __or__(self, other: Changes) -> Changes:
        return Changes(
            **{
                name: getattr(self, name) or getattr(other, name)
                for name in self.__dataclass_fields__
            }
        )


@dataclass(frozen=True)
class AppContext:
    """The database and the current user, handed to every service."""

    db: Database
    user_login: str
    settings: Settings = field(default_factory=Settings)

    def close(self) -> None:
        """Release the database connections."""
        self.db.dispose()


def database_password(url: str) -> str | None:
    """The password stored in the keyring for a PostgreSQL URL, if any.

    Raises:
        DatabaseError: `url` is not a database URL (the message hides any
            password in it).
    """
    try:
        parsed = dburl.parse(url)
    except dburl.UrlError as exc:
        raise DatabaseError(str(exc)) from exc
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return None
    return secrets.get_password(secrets.database_key(dburl.bare(parsed)))


def load_settings(path: Path | None = None) -> Settings:
    """The settings, after moving a database password out of the file.

    Versions before issue 14 wrote ``postgresql://user:password@...`` into the
    settings file: the password goes to the keyring and the file is rewritten
    without it. With no keyring the file stays, readable by the user only.
    """
    path = path or settings_mod.settings_path()
    current = settings_mod.load(path)
    try:
        url = dburl.parse(current.database_url) if current.database_url else None
    except dburl.UrlError:
        return current  # opening it will say what is wrong
    if url is None or url.password is None:
        return current
    bare = dburl.bare(url)
    try:
        secrets.set_password(secrets.database_key(bare), url.password)
    except keyring.errors.KeyringError as exc:
        log.warning(
            "%s holds the database password, now readable by you only (%s)",
            path,
            exc,
        )
        with contextlib.suppress(OSError):
            path.chmod(0o600)
        return current
    # Those versions also named the keyring entry after the full URL.
    secrets.delete_password(
        secrets.database_key(url.render_as_string(hide_password=False))
    )
    secured = dataclasses.replace(current, database_url=bare)
    settings_mod.save(secured, path)
    log.warning("The database password was moved from %s to the keyring", path)
    return secured


def open_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    """Open the configured database (upgrading it) for the configured user.

    Raises:
        o2c_desktop.models.db.DatabaseError: with a message for the user.
    """
    url = settings.effective_database_url
    db = open_database(url, password=database_password(url), migrate=migrate)
    return AppContext(db=db, user_login=settings.effective_user, settings=settings)
