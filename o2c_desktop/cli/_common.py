"""Helpers shared by the `o2c` sub-commands."""

from __future__ import annotations

import datetime as dt
import re
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import ArgumentValueError, CommandError
from o2c_desktop.composition import Services, build_services
from o2c_desktop.engine.templates import LANGUAGES
from o2c_desktop.models.db import DatabaseError

if TYPE_CHECKING:
    from collections.abc import Iterator

    from o2c_desktop.services.context import AppContext

_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@contextmanager
def services(*, migrate: bool = True) -> Iterator[Services]:
    """The services of one command, from the composition root (as the app's).

    Errors opening the database become one line.
    """
    try:
        built = build_services(settings_mod.load(), migrate=migrate)
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc
    try:
        yield built
    finally:
        built.close()


@contextmanager
def app_context(*, migrate: bool = True) -> Iterator[AppContext]:
    """The database and user of one command, for what no service covers."""
    with services(migrate=migrate) as built:
        yield built.ctx


def parse_date(text: str) -> dt.date:
    """An ISO date argument (YYYY-MM-DD), for argparse ``type=``.

    Raises:
        ArgumentValueError: not a date written YYYY-MM-DD.
    """
    try:
        # fromisoformat also takes 20261231 and week dates: a CLI wants one form.
        if not _ISO_DATE.fullmatch(text):
            raise ValueError(text)
        return dt.date.fromisoformat(text)
    except ValueError as exc:
        raise ArgumentValueError(f"invalid date {text!r}: use YYYY-MM-DD") from exc


def parse_language(text: str) -> str:
    """A document language argument (fr, en, es, de), for argparse ``type=``.

    Raises:
        ArgumentValueError: a language documents are not written in.
    """
    code = text.strip().lower()
    if code not in LANGUAGES:
        known = ", ".join(sorted(LANGUAGES))
        raise ArgumentValueError(f"unknown language {text!r} (available: {known})")
    return code


def sync_commands(subparsers: Any) -> Any:
    """The subcommands of `o2c sync`, shared by the ERP and the risk feeds."""
    existing = getattr(subparsers, "_o2c_sync", None)
    if existing is not None:
        return existing
    sync = subparsers.add_parser(
        "sync", help="pull from the ERP and the risk sources, push write-backs"
    )
    commands = sync.add_subparsers(dest="sync_command", metavar="COMMAND")
    commands.required = True
    subparsers._o2c_sync = commands
    return commands
