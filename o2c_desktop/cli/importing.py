"""`o2c import FILE`: load an aged balance; `o2c export items FILE`: write one.

Entity rule: with no entity in the database, the first import creates one
(``--entity CODE``, default ``MAIN``). Once entities exist, an unknown code is
refused (a typo must not split the book) unless ``--create-entity`` is given;
without ``--entity`` the only entity is used, or the command asks for one.

A full import closes the open items the file no longer lists. When it would
close more than ``--max-close-share`` percent of the entity's open items or
outstanding (default 20, setting ``import_max_close_share``), or any item in
dispute, litigation, under a promise or a payment plan, it is refused unless
``--confirm-close`` is given; ``--dry-run`` shows the same figures.

``o2c import history`` lists the imports; ``o2c import undo IMPORT`` puts the
book back as it was before one (and reopens the cases the review closed
because of it), until a later import or dunning run has built on it.
``o2c import profiles`` lists the saved mapping profiles; a file whose headers
are those of a saved profile is read with it unless ``--profile`` says another.

The dry run prints, for each column, the field it is read as, the confidence
and why (header words, the values below it: dates, amounts with cents, an
index, an empty column...), with sample values; columns marked "please
confirm" are the ones the mapper was unsure of.
"""

from __future__ import annotations

import argparse
import datetime as dt
from dataclasses import replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import parse_date, services
from o2c_desktop.services.importing import (
    CloseCheck,
    CloseNotConfirmedError,
    ImportRefusedError,
    UndoRefusedError,
    detect_profile,
    list_profiles,
    load_profile,
)
from o2c_desktop.sync.importing.parse import ImportOptions

if TYPE_CHECKING:
    from o2c_desktop.sync.importing.detect import ColumnMapping
    from o2c_desktop.sync.importing.parse import ParsedImport


def register(subparsers: Any) -> None:
    """Add `o2c import` and `o2c export items`."""
    imp = subparsers.add_parser(
        "import",
        help="import an aged balance (xlsx, xlsm, xls, ods, csv); history; undo",
        description=__doc__,
        usage="%(prog)s [options] FILE\n       %(prog)s history [--entity CODE] "
        "[--json]\n       %(prog)s undo IMPORT [--json]\n       %(prog)s profiles "
        "[--json]",
    )
    # `history` and `undo IMPORT` ride on the FILE argument: argparse can't mix
    # a positional file with sub-commands, and `o2c import FILE` must stay.
    imp.add_argument(
        "file", type=Path, help="the file, or history, or undo, or profiles"
    )
    imp.add_argument("import_id", nargs="?", type=int, help=argparse.SUPPRESS)
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
        "--history",
        action="store_true",
        help="a file of paid invoices only: every row is a settled item (it needs "
        "a settlement date); never closes nor reopens open items. Without it, "
        "rows with a settlement date are read as paid history anyway",
    )
    imp.add_argument(
        "--confirm-close",
        action="store_true",
        help="let a full import close more than --max-close-share of the open "
        "items or outstanding, or items under a case",
    )
    imp.add_argument(
        "--max-close-share",
        type=_percent,
        metavar="PCT",
        help="percentage of the open items or outstanding a full import may close "
        "without --confirm-close (default: setting import_max_close_share, 20)",
    )
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


def _percent(text: str) -> Decimal:
    try:
        value = Decimal(text.strip().rstrip("%"))
    except InvalidOperation as exc:
        raise argparse.ArgumentTypeError(f"invalid percentage {text!r}") from exc
    if not value.is_finite() or not 0 <= value <= 100:
        raise argparse.ArgumentTypeError(f"{text!r} is not between 0 and 100")
    return value / 100


def _close_line(check: CloseCheck) -> str:
    """The one line that says what a full import would close."""
    money = f"{check.amount} {check.currency}".strip()
    total = f"{check.outstanding} {check.currency}".strip()
    return (
        f"this full import would close {check.items} of {check.open_items} open "
        f"items ({money} of {total} outstanding), {check.disputed} in dispute, "
        f"{check.litigation} in litigation, {check.promised} under a promise, "
        f"{check.planned} under a payment plan; nothing was imported (check the "
        "file, or add --confirm-close)"
    )


def _import(args: argparse.Namespace) -> Result:
    if str(args.file) == "history" and args.import_id is None:
        return _history(args)
    if str(args.file) == "profiles" and args.import_id is None:
        return _profiles()
    if str(args.file) == "undo":
        if args.import_id is None:
            raise CommandError("which import? o2c import undo IMPORT (see history)")
        return _undo(args)
    if args.import_id is not None:
        raise CommandError(f"unexpected argument {args.import_id} after the file")
    options = ImportOptions(default_terms_days=args.terms_days)
    profile = args.profile
    if profile:
        options = _profile_options(profile)
    options = replace(
        options,
        sheet=args.sheet,
        as_of=args.as_of,
        default_terms_days=args.terms_days,
        history=args.history,
    )
    with services() as built:
        service = built.importer
        parsed = service.preview(args.file, options)
        if not profile and (found := detect_profile(_headers(parsed))):
            # The user's corrections for this source, saved in the app.
            profile = found
            detected = _profile_options(found)
            options = replace(
                options, profile=detected.profile, day_first=detected.day_first
            )
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
            "profile": profile,
            "header_row": parsed.header_row,
            "rows": parsed.row_count,
            "settled": parsed.settled_count,
            "errors": parsed.error_count,
            "as_of": as_of.isoformat(),
            "mapping": [
                {
                    "column": c.letter,
                    "header": c.header,
                    "field": c.field.value,
                    "confidence": c.confidence,
                    "reason": c.reason,
                    "why": c.why,
                    "samples": list(c.samples),
                    "uncertain": c.uncertain,
                }
                for c in parsed.columns
            ],
            "problems": [p.__dict__ for p in parsed.problems],
        }
        how = parsed.layout_label or "mapped by headers and values"
        if profile:
            how = f"profile {profile!r}" + (" (detected)" if not args.profile else "")
        settled = (
            f", {parsed.settled_count} settled" if parsed.settled is not None else ""
        )
        lines = [
            f"{args.file}: {how}"
            f"{f', sheet {parsed.sheet!r}' if parsed.sheet else ''}, header on row "
            f"{parsed.header_row}, {parsed.row_count} items{settled}, "
            f"{parsed.error_count} with errors",
            *(_column_line(c) for c in parsed.columns),
            *(f"  {p.severity}: {p}" for p in parsed.problems[:50]),
        ]
        if len(parsed.problems) > 50:
            lines.append(f"  ... {len(parsed.problems) - 50} more problems (--json)")
        # None: the settings' share, which the root gave the service.
        share = args.max_close_share
        try:
            result = service.apply(
                parsed,
                entity_code=args.entity,
                as_of=as_of,
                partial=args.partial,
                valid_only=args.valid_only,
                dry_run=args.dry_run,
                create_entity=args.create_entity,
                confirm_close=args.confirm_close,
                max_close_share=share,
            )
        except CloseNotConfirmedError as exc:
            raise CommandError(_close_line(exc.check)) from exc
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
        f"updated, {result.items_unchanged} unchanged, {result.items_closed} closed"
        + (f" ({result.items_settled} as paid)" if result.items_settled else "")
        + "; "
        f"outstanding {result.outstanding_before} -> {result.outstanding_after}"
        + (f" (import {result.import_id})" if result.import_id is not None else "")
    )
    check = result.close
    refused = check is not None and check.needs_confirmation and not args.confirm_close
    if args.dry_run and refused:
        # The dry run foretells the real one: refused, with the same figures.
        assert check is not None
        lines.append(f"Would be refused: {_close_line(check)}")
        data["imported"] = False
        return Result(data=data, text="\n".join(lines), exit_code=1)
    return Result(data=data, text="\n".join(lines))


def _column_line(c: ColumnMapping) -> str:
    """One column of the proposal: field, confidence, why, sample values."""
    line = f"  {c.letter:>3} {c.header!r} -> {c.field.value} ({c.confidence:.2f})"
    if c.uncertain:
        line += "  (please confirm)"
    if c.why:
        line += f": {c.why}"
    if c.samples:
        line += f"; e.g. {', '.join(c.samples)}"
    return line


def _profile_options(name: str) -> ImportOptions:
    try:
        return load_profile(name)
    except LookupError as exc:
        raise CommandError(str(exc)) from exc


def _headers(parsed: ParsedImport) -> list[str]:
    return [c.header for c in parsed.columns]


def _profiles() -> Result:
    names = list_profiles()
    return Result(
        data={"profiles": names},
        text="\n".join(names) or "no mapping profiles yet (save one in the app)",
    )


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


def _history(args: argparse.Namespace) -> Result:
    with services() as built:
        records = built.importer.history(args.entity)
    lines = [
        f"{r.id:>6} {r.entity} {r.taken_at:%Y-%m-%d %H:%M} UTC as of {r.as_of} "
        f"{'full' if r.full else 'partial'}"
        f"{f' snapshot {r.snapshot_id}' if r.snapshot_id is not None else ''}: "
        f"{r.created} created, {r.updated} updated, {r.closed} closed; {r.source}"
        f"{f'  (undone {r.undone_at:%Y-%m-%d %H:%M})' if r.undone_at else ''}"
        for r in records
    ]
    return Result(
        data={"imports": [r.as_dict() for r in records]},
        text="\n".join(lines) or "no imports yet",
    )


def _undo(args: argparse.Namespace) -> Result:
    with services() as built:
        try:
            result = built.importer.undo(args.import_id)
        except UndoRefusedError as exc:
            raise CommandError(f"import {args.import_id} not undone: {exc}") from exc
    cases = ", ".join(result.cases_reopened)
    return Result(
        data=result.as_dict(),
        text=f"Import {result.import_id} undone: {result.items_restored} items "
        f"restored, {result.items_deleted} removed"
        + (f"; cases reopened: {cases}" if cases else ""),
    )


def _export_items(args: argparse.Namespace) -> Result:
    folder = args.file.parent
    if not folder.is_dir():
        raise CommandError(f"cannot write {args.file}: no folder {folder}")
    with services() as built:
        try:
            count = built.importer.export_items(
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
