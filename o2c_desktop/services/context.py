"""What every service needs: the open database and who is working."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy import make_url

from o2c_desktop import secrets
from o2c_desktop.models.db import Database, open_database
from o2c_desktop.settings import Settings

log = logging.getLogger(__name__)


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
    """The password stored in the keyring for a PostgreSQL URL, if any."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql" or parsed.password:
        return None
    key = secrets.database_key(parsed.render_as_string(hide_password=False))
    return secrets.get_password(key)


def open_context(settings: Settings, *, migrate: bool = True) -> AppContext:
    """Open the configured database (upgrading it) for the configured user.

    Raises:
        o2c_desktop.models.db.DatabaseError: with a message for the user.
    """
    url = settings.effective_database_url
    db = open_database(url, password=database_password(url), migrate=migrate)
    return AppContext(db=db, user_login=settings.effective_user, settings=settings)
