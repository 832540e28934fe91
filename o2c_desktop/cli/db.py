"""`o2c db`: create, upgrade and inspect the database; `o2c config`: point at one."""

from __future__ import annotations

import dataclasses
import getpass
import logging
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import keyring.errors

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.models import dburl
from o2c_desktop.models.db import (
    KEEP_BACKUPS,
    DatabaseError,
    check_revision,
    head_revision,
    make_engine,
    upgrade,
)
from o2c_desktop.services.context import database_password, load_settings

if TYPE_CHECKING:
    import argparse

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add `o2c db ...` and `o2c config ...`."""
    db = subparsers.add_parser("db", help="create, upgrade or inspect the database")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION", required=True)
    up = db_sub.add_parser("upgrade", help="create the tables or upgrade them")
    up.add_argument(
        "--no-backup", action="store_true", help="skip the SQLite backup copy"
    )
    add_json_flag(up)
    up.set_defaults(handler=_upgrade)
    info = db_sub.add_parser("info", help="which database, which schema version")
    add_json_flag(info)
    info.set_defaults(handler=_info)

    config = subparsers.add_parser("config", help="show or change settings")
    config_sub = config.add_subparsers(
        dest="config_command", metavar="ACTION", required=True
    )
    show = config_sub.add_parser("show", help="print the settings in use")
    add_json_flag(show)
    show.set_defaults(handler=_show)
    set_db = config_sub.add_parser(
        "set-database",
        help="use this database (the password goes to the OS keyring)",
    )
    set_db.add_argument("url", help="sqlite:///path or postgresql://user@host:port/db")
    set_db.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    set_db.set_defaults(handler=_set_database)
    set_user = config_sub.add_parser("set-user", help="work as this user (login)")
    set_user.add_argument("login")
    set_user.set_defaults(handler=_set_user)


def _engine() -> Any:
    url = load_settings().effective_database_url
    try:
        return make_engine(url, database_password(url))
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc


def _upgrade(args: argparse.Namespace) -> Result:
    engine = _engine()
    try:
        before = check_revision(engine)
        backup = upgrade(engine, backup=not args.no_backup)
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    after = head_revision()
    data = {
        "database": engine.url.render_as_string(hide_password=True),
        "from_revision": before,
        "to_revision": after,
        "backup": str(backup) if backup else None,
    }
    if before == after:
        text = f"Database already at schema {after}."
    elif before is None:
        text = f"New book {_where(engine)} created at schema {after}."
    else:
        text = f"Database upgraded from {before or 'empty'} to schema {after}."
        if backup:
            text += (
                f" Backup copy: {backup} (the last {KEEP_BACKUPS} copies are kept"
                f" in {backup.parent})"
            )
    return Result(data=data, text=text)


def _info(_args: argparse.Namespace) -> Result:
    engine = _engine()
    try:
        revision = check_revision(engine)
    except DatabaseError as exc:
        raise CommandError(str(exc)) from exc
    finally:
        engine.dispose()
    data = {
        "database": engine.url.render_as_string(hide_password=True),
        "backend": engine.url.get_backend_name(),
        "revision": revision,
        "head": head_revision(),
        "up_to_date": revision == head_revision(),
    }
    state = "up to date" if data["up_to_date"] else "needs `o2c db upgrade`"
    return Result(
        data=data, text=f"{_where(engine)}: schema {revision or 'none'} ({state})"
    )


def _where(engine: Any) -> str:
    """Where the book is: a SQLite file's full path, or the URL sans password."""
    url = engine.url
    if url.get_backend_name() == "sqlite" and url.database:
        return str(Path(url.database).absolute())
    return dburl.shown(url)


def _show(_args: argparse.Namespace) -> Result:
    current = load_settings()
    try:
        shown = dburl.shown(dburl.parse(current.effective_database_url))
    except dburl.UrlError as exc:
        raise CommandError(str(exc)) from exc
    data = {
        "settings_file": str(settings_mod.settings_path()),
        "database_url": shown,
        "user": current.effective_user,
        "language": current.language,
        "send_cap": current.send_cap,
    }
    return Result(data=data, text="\n".join(f"{k}: {v}" for k, v in data.items()))


def _set_database(args: argparse.Namespace) -> Result:
    try:
        url = dburl.parse(args.url)
    except dburl.UrlError as exc:
        raise CommandError(str(exc)) from exc
    password = url.password
    if password is not None and not args.password_stdin:
        log.warning(
            "A password on the command line is visible to other users (ps, "
            "shell history): prefer --password-stdin"
        )
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    elif (
        password is None
        and url.get_backend_name() == "postgresql"
        and sys.stdin.isatty()
    ):
        password = getpass.getpass(f"Password for {url.username}@{url.host}: ") or None
    bare = dburl.bare(url)
    current = load_settings()
    if password and url.get_backend_name() == "postgresql":
        try:
            secrets.set_password(secrets.database_key(bare), password)
        except keyring.errors.KeyringError as exc:
            # Nothing changed: the settings still name the previous database.
            raise CommandError(
                f"{exc}, or leave the password out and put it in a ~/.pgpass "
                "file (mode 0600)"
            ) from exc
    settings_mod.save(dataclasses.replace(current, database_url=bare))
    text = f"Database set to {bare}"
    if password:
        text += " (password in the keyring)"
    return Result(data={"database_url": bare}, text=text)


def _set_user(args: argparse.Namespace) -> Result:
    current = load_settings()
    settings_mod.save(dataclasses.replace(current, user_login=args.login))
    return Result(data={"user": args.login}, text=f"Working as {args.login}")
