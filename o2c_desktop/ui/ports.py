"""What the UI needs from the layers below, as typing Protocols.

The UI may not import the services (they pull in SQLAlchemy; import-linter
forbids even indirect imports), so `app.py` hands it objects that fit these
shapes. Values crossing the boundary are the frozen dataclasses of
`o2c_desktop.engine.book`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable

    from o2c_desktop.engine.book import (
        Agenda,
        BookSummary,
        ConnectionReport,
        CustomerPage,
        ScenarioInfo,
        StepInfo,
        UserInfo,
    )
    from o2c_desktop.settings import Settings

log = logging.getLogger(__name__)


class BookQueries(Protocol):
    """Read-only queries on the open book (`services.book.BookService`)."""

    @property
    def description(self) -> str:
        """Kind and location of the database."""
        ...

    @property
    def user_login(self) -> str:
        """Login of the configured user."""
        ...

    def close(self) -> None:
        """Release the database."""

    def users(self) -> tuple[UserInfo, ...]:
        """Active users."""
        ...

    def current_user(self) -> UserInfo | None:
        """The configured user if it exists."""
        ...

    def customers(
        self, search: str, offset: int, limit: int, today: dt.date
    ) -> CustomerPage:
        """One page of matching customers."""
        ...

    def agenda(self, today: dt.date, limit: int = ...) -> Agenda:
        """The current user's waiting actions."""
        ...

    def scenarios(self) -> tuple[ScenarioInfo, ...]:
        """Every scenario."""
        ...

    def scenario_steps(self, scenario_id: int) -> tuple[StepInfo, ...]:
        """Steps of one scenario."""
        ...

    def summary(self, today: dt.date) -> tuple[BookSummary, ...]:
        """The book per currency."""
        ...


@dataclass(frozen=True)
class Workspace:
    """An open database with the person working on it.

    Attributes:
        book: the read queries.
        user: the current user, None when not set or unknown in this database.
    """

    book: BookQueries
    user: UserInfo | None

    @property
    def description(self) -> str:
        """Kind and location of the database."""
        return self.book.description


@dataclass(frozen=True)
class Backend:
    """The calls that reach below the UI, wired by `app.py`.

    Attributes:
        open_workspace: opens (and upgrades) the database at a URL, for the
            user of some settings.
        check_connection: tests a URL and password, writing nothing.
        today: the current day (a parameter, so tests and screenshots fix it).
    """

    open_workspace: Callable[[Settings, str], Workspace]
    check_connection: Callable[[str, str | None], ConnectionReport]
    today: Callable[[], dt.date]
