"""`o2c sync erp|status|push` and `o2c connector add|test|list` (issue 18).

A connector's settings live in the app's settings file (``[connector:NAME]``),
its password in the operating system's keyring. The password is read from
standard input (``--password-stdin``) or the ``O2C_CONNECTOR_PASSWORD``
variable, never from the command line where other users could see it.
"""

from __future__ import annotations

import os
import sys
from typing import TYPE_CHECKING, Any

from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, sync_commands
from o2c_desktop.services.erp_sync import ErpSyncService, SyncError

if TYPE_CHECKING:
    import argparse

PASSWORD_ENV = "O2C_CONNECTOR_PASSWORD"


def register(subparsers: Any) -> None:
    """Add `o2c sync` and `o2c connector`."""
    sync_sub = sync_commands(subparsers)
    erp = sync_sub.add_parser(
        "erp",
        help="pull customers, open items and payments from an ERP connector",
        description="Pull what changed since the last sync (--full: everything; "
        "open items the ERP no longer has are closed), then push the "
        "write-backs waiting. --dry-run counts what would change.",
    )
    erp.add_argument(
        "--connector", help="the connector's name (the only one by default)"
    )
    erp.add_argument("--full", action="store_true", help="pull everything")
    erp.add_argument("--dry-run", action="store_true", help="count, change nothing")
    add_json_flag(erp)
    erp.set_defaults(handler=_sync_erp)
    status = sync_sub.add_parser("status", help="each connector's last sync and errors")
    add_json_flag(status)
    status.set_defaults(handler=_sync_status)
    push = sync_sub.add_parser("push", help="push the write-backs waiting to the ERP")
    push.add_argument("--connector", help="only this connector's")
    add_json_flag(push)
    push.set_defaults(handler=_sync_push)

    con = subparsers.add_parser("connector", help="set up and test ERP connectors")
    con_sub = con.add_subparsers(dest="connector_command", metavar="COMMAND")
    con_sub.required = True
    add = con_sub.add_parser(
        "add",
        help="add or replace an ERP connector (password to the keyring)",
        description=__doc__,
    )
    add.add_argument("name", help="how you will call it (letters, digits, - or _)")
    add.add_argument("--kind", required=True, choices=["tryton"], help="the ERP")
    add.add_argument("--url", required=True, help="the ERP server, http://host:8000/")
    add.add_argument("--database", required=True, help="the ERP database")
    add.add_argument("--login", required=True, help="the ERP user")
    add.add_argument("--entity", required=True, help="the entity its items go to")
    add.add_argument(
        "--write-back",
        help="what goes back to the ERP, comma-separated "
        f"(default all: {','.join(settings_mod.WRITE_BACK_KINDS)}; none: -)",
    )
    add.add_argument(
        "--interval", type=_minutes, default=60, help="minutes between pulls (0: off)"
    )
    add.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    add_json_flag(add)
    add.set_defaults(handler=_connector_add)
    test = con_sub.add_parser("test", help="log in to the ERP and check its modules")
    test.add_argument("--connector", help="the connector's name")
    add_json_flag(test)
    test.set_defaults(handler=_connector_test)
    lst = con_sub.add_parser("list", help="the connectors set up")
    add_json_flag(lst)
    lst.set_defaults(handler=_connector_list)


def _minutes(text: str) -> int:
    from o2c_desktop.cli import ArgumentValueError

    if not text.isdigit():
        raise ArgumentValueError(f"invalid interval {text!r}: a number of minutes")
    return int(text)


def _service(ctx: Any) -> ErpSyncService:
    return ErpSyncService(ctx)


def _sync_erp(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        try:
            report = _service(ctx).sync(
                args.connector, full=args.full, dry_run=args.dry_run
            )
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
    data = report.as_dict()
    counts = ", ".join(f"{k} {v}" for k, v in report.counts.items())
    verb = "would change" if report.dry_run else "applied"
    text = f"{report.connector}: {verb}: {counts or 'nothing'}"
    lines = [text, *(f"  left out: {p}" for p in report.problems)]
    if not report.ok:
        return Result(data, "\n".join(lines[1:]), 1, report.error or "sync failed")
    return Result(data, "\n".join(lines))


def _sync_status(_args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        rows = _service(ctx).status()
    if not rows:
        return Result({"connectors": []}, "no ERP connector is set up")
    lines = []
    for st in rows:
        when = st.last_ok_at.isoformat(timespec="minutes") if st.last_ok_at else "never"
        line = f"{st.name} ({st.kind}, entity {st.entity}): last sync {when}"
        if st.last_error:
            line += f"; last error: {st.last_error}"
        line += f"; write-backs waiting {st.queued}, failed {st.failed}"
        lines.append(line)
        lines.extend(f"  failed: {f}" for f in st.failures)
    return Result({"connectors": [st.as_dict() for st in rows]}, "\n".join(lines))


def _sync_push(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        try:
            report = _service(ctx).push(args.connector)
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "sent": report.sent,
        "failed": [[str(i), why] for i, why in report.failed],
        "skipped": report.skipped,
        "to_retry": report.to_retry,
    }
    text = (
        f"write-backs pushed {report.sent}, failed {len(report.failed)}, "
        f"to retry {report.to_retry}"
    )
    lines = [text, *(f"  failed: {why}" for _i, why in report.failed)]
    return Result(data, "\n".join(lines))


def _password(args: argparse.Namespace) -> str:
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
    else:
        password = os.environ.get(PASSWORD_ENV, "")
    if not password:
        raise CommandError(
            f"no password: give it on standard input with --password-stdin "
            f"or in {PASSWORD_ENV}"
        )
    return password


def _connector_add(args: argparse.Namespace) -> Result:
    write_back: tuple[str, ...]
    if args.write_back is None:
        write_back = settings_mod.WRITE_BACK_KINDS
    elif args.write_back.strip() == "-":
        write_back = ()
    else:
        write_back = tuple(k.strip() for k in args.write_back.split(",") if k.strip())
    cs = settings_mod.ConnectorSettings(
        name=args.name,
        kind=args.kind,
        url=args.url,
        database=args.database,
        login=args.login,
        entity=args.entity,
        write_back=write_back,
        interval_minutes=args.interval,
    )
    with app_context() as ctx:
        service = _service(ctx)
        _check_entity(ctx, cs.entity)
        try:
            service.add(cs, _password(args))
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
    data = {k: list(v) if isinstance(v, tuple) else v for k, v in cs.__dict__.items()}
    return Result(data, f"connector {cs.name} saved (password in the keyring)")


def _check_entity(ctx: Any, code: str) -> None:
    from sqlalchemy import select

    from o2c_desktop.models import Entity

    with ctx.db.session(ctx.user_login) as s:
        codes = list(s.scalars(select(Entity.code).order_by(Entity.code)))
    if code not in codes:
        raise CommandError(
            f"unknown entity {code!r}"
            + (f" (known: {', '.join(codes)})" if codes else ": import a book first")
        )


def _connector_test(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        try:
            info = _service(ctx).test(args.connector)
        except SyncError as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "server": info.server,
        "company": info.company,
        "ok": info.failure is None,
        "error": info.failure.message if info.failure else None,
    }
    if info.failure is not None:
        return Result(data, "", 1, info.failure.message)
    return Result(data, f"{info.server}, company {info.company}: ready to sync")


def _connector_list(_args: argparse.Namespace) -> Result:
    rows = settings_mod.load_connectors()
    data = {
        "connectors": [
            {k: list(v) if isinstance(v, tuple) else v for k, v in cs.__dict__.items()}
            for cs in rows.values()
        ]
    }
    if not rows:
        return Result(data, "no ERP connector is set up")
    text = "\n".join(
        f"{cs.name}: {cs.kind} {cs.url} database {cs.database} as {cs.login}, "
        f"entity {cs.entity}, every {cs.interval_minutes} min"
        for cs in rows.values()
    )
    return Result(data, text)
