"""`o2c db`: create, upgrade and inspect the database; `o2c config`: point at one."""

from __future__ import annotations

import getpass
import sys
from typing import TYPE_CHECKING, Any

from sqlalchemy import make_url

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.models.db import (
    KEEP_BACKUPS,
    DatabaseError,
    check_revision,
    head_revision,
    make_engine,
    upgrade,
)
from o2c_desktop.services.context import database_password

if TYPE_CHECKING:
    import argparse


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
    url = settings_mod.load().effective_database_url
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
        data=data, text=f"{data['database']}: schema {revision or 'none'} ({state})"
    )


def _show(_args: argparse.Namespace) -> Result:
    current = settings_mod.load()
    data = {
        "settings_file": str(settings_mod.settings_path()),
        "database_url": make_url(current.effective_database_url).render_as_string(
            hide_password=True
        ),
        "user": current.effective_user,
        "language": current.language,
        "send_cap": current.send_cap,
    }
    return Result(data=data, text="\n".join(f"{k}: {v}" for k, v in data.items()))


def _set_database(args: argparse.Namespace) -> Result:
    try:
        url = make_url(args.url)
    except Exception as exc:
        raise CommandError(f"invalid database URL {args.url!r}: {exc}") from exc
    password = url.password
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    elif (
        password is None
        and url.get_backend_name() == "postgresql"
        and sys.stdin.isatty()
    ):
        password = getpass.getpass(f"Password for {url.username}@{url.host}: ") or None
    bare = url.set(password=None).render_as_string(hide_password=False)
    if password:
        secrets.set_password(secrets.database_key(bare), password)
    current = settings_mod.load()
    settings_mod.save(
        settings_mod.Settings(**{**current.__dict__, "database_url": bare})
    )
    return Result(data={"database_url": bare}, text=f"Database set to {bare}")


def _set_user(args: argparse.Namespace) -> Result:
    current = settings_mod.load()
    settings_mod.save(
        settings_mod.Settings(**{**current.__dict__, "user_login": args.login})
    )
    return Result(data={"user": args.login}, text=f"Working as {args.login}")
