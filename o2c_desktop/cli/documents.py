"""`o2c documents`: render letters and statements; `o2c mail`: set up and test mail."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o2c_desktop import secrets
from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import ArgumentValueError, CommandError, Result, add_json_flag
from o2c_desktop.cli._common import (
    app_context,
    parse_date,
    parse_language,
    services,
)
from o2c_desktop.composition import mail_config
from o2c_desktop.engine.templates import TemplateError
from o2c_desktop.services.documents import (
    DocumentError,
    seed_default_templates,
)
from o2c_desktop.sync import mail as mailer

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any) -> None:
    """Add `o2c documents ...` and `o2c mail ...`."""
    docs = subparsers.add_parser("documents", help="render letters and statements")
    sub = docs.add_subparsers(dest="documents_command", metavar="ACTION", required=True)

    render = sub.add_parser("render", help="write the PDFs of an action")
    render.add_argument("--action", required=True, help="action id (UUID)")
    render.add_argument("--out", type=Path, default=Path(), help="folder to write to")
    render.add_argument("--date", type=parse_date, help="document date (YYYY-MM-DD)")
    render.add_argument("--template", help="template code instead of the step's")
    add_json_flag(render)
    render.set_defaults(handler=_render)

    statement = sub.add_parser("statement", help="write a customer's statement")
    statement.add_argument("--customer", required=True, help="customer reference")
    statement.add_argument(
        "--entity", help="entity code, if the reference is ambiguous"
    )
    statement.add_argument(
        "--lang",
        type=parse_language,
        help="language: fr, en, es or de (default: the customer's)",
    )
    statement.add_argument(
        "--out", type=Path, default=Path(), help="folder to write to"
    )
    statement.add_argument("--date", type=parse_date, help="statement date")
    statement.add_argument(
        "--interest", action="store_true", help="the interest and penalty statement"
    )
    add_json_flag(statement)
    statement.set_defaults(handler=_statement)

    seed = sub.add_parser("seed-templates", help="insert the default template set")
    add_json_flag(seed)
    seed.set_defaults(handler=_seed)

    mail = subparsers.add_parser("mail", help="set up and test the mail server")
    mail_sub = mail.add_subparsers(dest="mail_command", metavar="ACTION", required=True)
    test = mail_sub.add_parser("test", help="connect and log in with the mail settings")
    test.add_argument("--to", help="also send a test message to this address")
    add_json_flag(test)
    test.set_defaults(handler=_mail_test)
    configure = mail_sub.add_parser(
        "configure", help="set the mail server (the password goes to the OS keyring)"
    )
    configure.add_argument("--host", required=True)
    configure.add_argument("--port", type=_port, default=587)
    configure.add_argument(
        "--security", choices=mailer.SECURITY_MODES, default="starttls"
    )
    configure.add_argument("--user", default="")
    configure.add_argument(
        "--from", dest="mail_from", default="", help="sending mailbox"
    )
    configure.add_argument(
        "--ca-file",
        type=Path,
        default=None,
        help="PEM file of the authority that signed the server's certificate",
    )
    configure.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    configure.set_defaults(handler=_mail_configure)


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise ArgumentValueError(f"invalid port {text!r}: a number from 1 to 65535")
    return port


def _write(folder: Path, name: str, content: bytes) -> Path:
    path = folder / name
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
    except OSError as exc:
        raise CommandError(f"cannot write {path}: {exc.strerror}") from exc
    return path


def _render(args: argparse.Namespace) -> Result:
    with services() as built:
        service = built.documents
        try:
            result = service.render_action(
                args.action, today=args.date, template_code=args.template
            )
            paths = [_write(args.out, d.filename, d.content) for d in result.documents]
            if result.email is not None and result.recipients:
                paths.append(
                    service.save_action_eml(args.action, args.out, today=args.date)
                )
        except (LookupError, DocumentError, TemplateError, mailer.MailError) as exc:
            raise CommandError(str(exc)) from exc
    data = {
        "action": str(result.action_id),
        "customer": result.customer_reference,
        "language": result.language,
        "template": result.template_code,
        "files": [str(p) for p in paths],
        "note": result.note,
    }
    lines = [str(p) for p in paths]
    if result.note:
        lines.append(f"note: {result.note}")
    return Result(data=data, text="\n".join(lines) or "no document for this action")


def _statement(args: argparse.Namespace) -> Result:
    with services() as built:
        try:
            doc = built.documents.statement(
                args.customer,
                language=args.lang,
                today=args.date,
                entity_code=args.entity,
                interest=args.interest,
            )
        except LookupError as exc:
            raise CommandError(str(exc).strip("'\"")) from exc
    path = _write(args.out, doc.filename, doc.content)
    return Result(data={"file": str(path), "kind": doc.kind.value}, text=str(path))


def _seed(_args: argparse.Namespace) -> Result:
    with app_context() as ctx, ctx.db.session(ctx.user_login) as s:
        added = seed_default_templates(s)
    return Result(data={"inserted": added}, text=f"{added} templates inserted")


def _mail_test(args: argparse.Namespace) -> Result:
    config = mail_config(settings_mod.load())
    try:
        answer = mailer.check(config)
        data: dict[str, Any] = {"server": answer}
        if args.to:
            sent = mailer.send(
                mailer.OutgoingMail(
                    to=(args.to,),
                    subject="O2C Desktop - test message",
                    text="This message was sent by `o2c mail test`.\n",
                    reply_to=config.mail_from or config.user,
                ),
                config,
            )
            data["message_id"] = sent.message_id
            data["answer"] = sent.server_answer
    except mailer.MailError as exc:
        raise CommandError(str(exc)) from exc
    text = answer + (
        f"\nsent {data['message_id']}: {data['answer']}" if args.to else ""
    )
    return Result(data=data, text=text)


def _mail_configure(args: argparse.Namespace) -> Result:
    current = settings_mod.load()
    updated = dataclasses.replace(
        current,
        smtp_host=args.host,
        smtp_port=args.port,
        smtp_security=args.security,
        smtp_user=args.user,
        mail_from=args.mail_from,
        smtp_ca_file=str(args.ca_file.resolve()) if args.ca_file else "",
    )
    if args.ca_file:
        # Refuse a wrong file now rather than at the first reminder.
        try:
            mailer.tls_context(mailer.MailConfig(ca_file=updated.smtp_ca_file))
        except mailer.MailError as exc:
            raise CommandError(str(exc)) from exc
    if args.password_stdin:
        if not args.user:
            raise CommandError("--password-stdin needs --user")
        password = sys.stdin.readline().rstrip("\n")
        try:
            secrets.set_password(mailer.smtp_key(args.host, args.user), password)
        except secrets.NoKeyringError as exc:
            raise CommandError(str(exc)) from exc
    settings_mod.save(updated)
    where = f"{args.host}:{args.port} ({args.security})"
    return Result(
        data={"server": where, "user": args.user}, text=f"Mail server set to {where}"
    )
