"""`o2c import FILE`: load an aged balance; `o2c export items FILE`: write one.

Entity rule: with no entity in the database, the first import creates one
(``--entity CODE``, default ``MAIN``). Once entities exist, an unknown code is
refused (a typo must not split the book) unless ``--create-entity`` is given;
without ``--entity`` the only entity is used, or the command asks for one.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, parse_date
from o2c_desktop.services.importing import (
    ImportRefusedError,
    ImportService,
    load_profile,
)
from o2c_desktop.sync.importing.parse import ImportOptions

if TYPE_CHECKING:
    import argparse

    from o2c_desktop.sync.importing.parse import ParsedImport


def register(subparsers: Any) -> None:
    """Add `o2c import` and `o2c export items`."""
    imp = subparsers.add_parser(
        "import",
        help="import an aged balance (xlsx, xlsm, xls, ods, csv)",
        description=__doc__,
    )
    imp.add_argument("file", type=Path)
    imp.add_argument("--profile", help="saved mapping profile to use")
    imp.add_argument(
        "--accept-mapping",
        action="store_true",
        help="import even when some columns are mapped by a guess (the ones "
        "marked 'please confirm'); else save a profile in the app and use --profile",
    )
    imp.add_argument("--entity", help="entity code (see the rule above)")
    imp.add_argument(
        "--create-entity", action="store_true", help="create --entity if unknown"
    )
    imp.add_argument(
        "--as-of",
        type=parse_date,
        help="balance date YYYY-MM-DD (default: the date in the file's title, "
        "else today)",
    )
    imp.add_argument("--sheet", help="read this sheet instead of the best one")
    imp.add_argument(
        "--terms-days",
        type=int,
        default=30,
        help="due date = issue date + N days when the file has none and the "
        "customer has no payment terms (FEC); default 30",
    )
    imp.add_argument(
        "--partial", action="store_true", help="only add and update; close nothing"
    )
    imp.add_argument("--dry-run", action="store_true", help="check, write nothing")
    imp.add_argument(
        "--valid-only", action="store_true", help="import valid rows despite errors"
    )
    add_json_flag(imp)
    imp.set_defaults(handler=_import)

    exp = subparsers.add_parser("export", help="export data to files")
    exp_sub = exp.add_subparsers(dest="export_command", metavar="WHAT", required=True)
    items = exp_sub.add_parser(
        "items", help="open items to .xlsx or .csv, with their entity (re-importable)"
    )
    items.add_argument("file", type=Path)
    items.add_argument("--customer", help="only this customer reference")
    items.add_argument("--entity", help="only this entity code")
    add_json_flag(items)
    items.set_defaults(handler=_export_items)


def _import(args: argparse.Namespace) -> Result:
    options = ImportOptions(default_terms_days=args.terms_days)
    if args.profile:
        try:
            options = load_profile(args.profile)
        except LookupError as exc:
            raise CommandError(str(exc)) from exc
    options = replace(
        options, sheet=args.sheet, as_of=args.as_of, default_terms_days=args.terms_days
    )
    with app_context() as ctx:
        service = ImportService(ctx.db, ctx.user_login)
        parsed = service.preview(args.file, options)
        if parsed.fatal:  # the file itself can't be read: the reason, alone
            raise CommandError(str(parsed.problems[0]) if parsed.problems else "")
        _check_mapping(args, parsed)
        # The balance date: given, else read in the title rows, else today.
        as_of = args.as_of or parsed.as_of_hint or dt.datetime.now().astimezone().date()
        data: dict[str, Any] = {
            "file": str(args.file),
            "sheet": parsed.sheet,
            "layout": parsed.layout,
            "header_row": parsed.header_row,
            "rows": parsed.row_count,
            "errors": parsed.error_count,
            "as_of": as_of.isoformat(),
            "mapping": [
                {
                    "column": c.letter,
                    "header": c.header,
                    "field": c.field.value,
                    "confidence": c.confidence,
                    "reason": c.reason,
                }
                for c in parsed.columns
            ],
            "problems": [p.__dict__ for p in parsed.problems],
        }
        lines = [
            f"{args.file}: {parsed.layout_label or 'mapped by headers'}"
            f"{f', sheet {parsed.sheet!r}' if parsed.sheet else ''}, header on row "
            f"{parsed.header_row}, {parsed.row_count} items, {parsed.error_count} "
            "with errors",
            *(
                f"  {c.letter:>3} {c.header!r} -> {c.field.value}"
                f"{'  (please confirm)' if c.uncertain else ''}"
                for c in parsed.columns
            ),
            *(f"  {p.severity}: {p}" for p in parsed.problems[:50]),
        ]
        if len(parsed.problems) > 50:
            lines.append(f"  ... {len(parsed.problems) - 50} more problems (--json)")
        try:
            result = service.apply(
                parsed,
                entity_code=args.entity,
                as_of=as_of,
                partial=args.partial,
                valid_only=args.valid_only,
                dry_run=args.dry_run,
                create_entity=args.create_entity,
            )
        except ImportRefusedError as exc:
            data["imported"] = False
            data["reason"] = str(exc)
            return Result(
                data=data,
                text="\n".join(lines),
                exit_code=1,
                error=f"nothing imported: {exc}",
            )
    data["imported"] = not args.dry_run
    data["result"] = result.as_dict()
    verb = "Would import" if args.dry_run else "Imported"
    lines.append(
        f"{verb} into {result.entity} at {result.as_of}: "
        f"{result.customers_created} customers created, {result.customers_updated} "
        f"renamed; items {result.items_created} created, {result.items_updated} "
        f"updated, {result.items_unchanged} unchanged, {result.items_closed} closed; "
        f"outstanding {result.outstanding_before} -> {result.outstanding_after}"
    )
    return Result(data=data, text="\n".join(lines))


def _check_mapping(args: argparse.Namespace, parsed: ParsedImport) -> None:
    """Refuse to import columns mapped by a guess unless told to (#14).

    A profile maps its headers for sure; what it does not know is asked. The
    dry run refuses too, so that it predicts the real run.

    Raises:
        CommandError: listing the uncertain columns.
    """
    if not parsed.questions or args.accept_mapping:
        return
    columns = "; ".join(
        f"{c.letter} {c.header!r} -> {c.field.value} ({c.reason})"
        for c in parsed.questions
    )
    raise CommandError(
        f"{parsed.path.name}: not imported, these columns are mapped by a guess: "
        f"{columns}. Check them, then pass --accept-mapping, or save a mapping "
        "profile in the app and use --profile NAME."
    )


def _export_items(args: argparse.Namespace) -> Result:
    folder = args.file.parent
    if not folder.is_dir():
        raise CommandError(f"cannot write {args.file}: no folder {folder}")
    with app_context() as ctx:
        try:
            count = ImportService(ctx.db, ctx.user_login).export_items(
                args.file, entity_code=args.entity, customer_ref=args.customer
            )
        except (LookupError, ValueError) as exc:
            raise CommandError(str(exc).strip("'\"")) from exc
        except OSError as exc:
            raise CommandError(f"cannot write {args.file}: {exc.strerror}") from exc
    return Result(
        data={"file": str(args.file), "items": count},
        text=f"{count} items written to {args.file}",
    )
