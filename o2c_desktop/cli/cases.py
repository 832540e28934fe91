"""`o2c cases|promise|dispute|litigation ...`: case work, headless.

The nightly job runs ``o2c cases review --date D`` before the dunning run, so
broken promises and plans are in the agenda and their items resume.
``o2c cases confirm --case N [--email]`` sends a promise's or a plan's
confirmation, by letter (the PDF is written with the action) or by email with
that letter attached.
"""

from __future__ import annotations

import datetime as dt
import logging
from contextlib import contextmanager
from dataclasses import asdict
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import ArgumentValueError, CommandError, Result, add_json_flag
from o2c_desktop.cli._common import parse_date, services
from o2c_desktop.engine.cases import DEFAULT_DISPUTE_REASONS, DEFAULT_GRACE_DAYS
from o2c_desktop.engine.types import CaseKind
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.cases import CasesService, FutureDateError

if TYPE_CHECKING:
    import argparse
    from collections.abc import Iterator

    from o2c_desktop.engine.cases import CaseInfo

log = logging.getLogger(__name__)


def register(subparsers: Any) -> None:
    """Add `o2c cases`, `o2c promise`, `o2c dispute` and `o2c litigation`."""
    cases = subparsers.add_parser("cases", help="promises, plans, disputes: review")
    cases_sub = cases.add_subparsers(
        dest="cases_command", metavar="ACTION", required=True
    )
    review = cases_sub.add_parser(
        "review",
        help="close kept or broken promises and plans, escalate disputes, lift holds",
        description=(
            "Settle what time did to open cases on a day: close kept promises and "
            "plans; close broken ones and put a task in the collector's agenda "
            "(their items resume their dunning); resolve paid disputes and "
            "close those whose credit notes arrived; escalate disputes "
            "unanswered past their due date to the credit managers (a "
            "notification); lift holds past their end. Writes those actions, "
            "notifications and changes, with their audit trail; twice on the "
            "same day changes nothing the second time. `o2c dunning run` does "
            "this review first."
        ),
    )
    review.add_argument(
        "--date",
        type=_date,
        default=None,
        help="the day reviewed (today); a later day needs --allow-future",
    )
    review.add_argument(
        "--dry-run",
        action="store_true",
        help="show what the review would do; write nothing",
    )
    review.add_argument(
        "--allow-future",
        action="store_true",
        help="allow a real review dated after today",
    )
    add_json_flag(review)
    review.set_defaults(handler=_review)
    confirm = cases_sub.add_parser(
        "confirm", help="send the confirmation of a promise or of a payment plan"
    )
    confirm.add_argument("--case", required=True, help="the promise or plan number")
    confirm.add_argument(
        "--email",
        action="store_true",
        help="send it by email, the letter attached as a PDF (default: a letter)",
    )
    confirm.add_argument(
        "--date", type=_date, default=None, help="the document date (today)"
    )
    add_json_flag(confirm)
    confirm.set_defaults(handler=_confirm)

    promise = subparsers.add_parser("promise", help="promises to pay")
    promise_sub = promise.add_subparsers(
        dest="promise_command", metavar="ACTION", required=True
    )
    add = promise_sub.add_parser("add", help="record a promise to pay")
    _customer_args(add)
    add.add_argument("--amount", type=_amount, help="amount promised (all by default)")
    add.add_argument("--date", type=_date, required=True, help="promised date")
    add.add_argument("--items", help="item numbers N1,N2 (every overdue item)")
    add.add_argument(
        "--grace",
        type=int,
        default=DEFAULT_GRACE_DAYS,
        help="grace days after the date",
    )
    add.add_argument("--source", default="call", help="call, email, letter")
    add.set_defaults(handler=_promise_add)

    dispute = subparsers.add_parser("dispute", help="disputes (litiges)")
    dispute_sub = dispute.add_subparsers(
        dest="dispute_command", metavar="ACTION", required=True
    )
    open_ = dispute_sub.add_parser("open", help="register a dispute on items")
    _customer_args(open_)
    open_.add_argument("--items", required=True, help="item numbers N1,N2")
    open_.add_argument(
        "--reason",
        required=True,
        help="one of: " + ", ".join(r.code for r in DEFAULT_DISPUTE_REASONS),
    )
    open_.add_argument(
        "--amount", type=_amount, help="disputed amount, for one item disputed in part"
    )
    open_.add_argument("--owner", help="login of who must answer (you)")
    open_.add_argument("--due", type=_date, help="answer due date (in 15 days)")
    open_.add_argument("--number", help="the dispute's number, if it has one already")
    open_.add_argument("--comment")
    open_.set_defaults(handler=_dispute_open)

    litigation = subparsers.add_parser(
        "litigation", help="legal recovery (contentieux)"
    )
    lit_sub = litigation.add_subparsers(
        dest="litigation_command", metavar="ACTION", required=True
    )
    export = lit_sub.add_parser("export", help="write the file a lawyer asks for (zip)")
    export.add_argument("--case", required=True, help="the litigation case number")
    export.add_argument("--out", type=Path, required=True, help="FILE.zip")
    export.add_argument(
        "--date", type=_date, default=None, help="interest up to this day (today)"
    )
    add_json_flag(export)
    export.set_defaults(handler=_litigation_export)


def _customer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--customer", required=True, help="customer reference")
    parser.add_argument("--entity", help="entity code, when references repeat")
    parser.add_argument("--today", type=_date, default=None, help="the day (today)")
    add_json_flag(parser)


def _date(text: str) -> dt.date:
    return parse_date(text)


def _amount(text: str) -> Decimal:
    try:
        value = Decimal(text.replace(",", ".").replace(" ", ""))
    except InvalidOperation as exc:
        raise ArgumentValueError(f"invalid amount {text!r}") from exc
    if not value.is_finite() or value <= 0:
        raise ArgumentValueError(f"invalid amount {text!r}: a positive number")
    return value


def _today(value: dt.date | None) -> dt.date:
    # The user's local date: a nightly job runs after midnight local time.
    return value or dt.datetime.now(dt.UTC).astimezone().date()


@contextmanager
def _service(*, documents: bool = False) -> Iterator[CasesService]:
    """The cases service for one command; refusals become one-line errors.

    Args:
        documents: give it the document service, with the mail settings.
    """
    with services() as built:
        try:
            yield built.cases if documents else CasesService(built.ctx)
        except (LookupError, ValueError, ConflictError) as exc:
            raise CommandError(str(exc)) from exc


def _numbers(text: str) -> list[str]:
    return [n.strip() for n in text.split(",") if n.strip()]


def _case_data(case: CaseInfo) -> dict[str, Any]:
    data = asdict(case)
    data["label"] = case.label
    return data


def _review(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with _service() as service:
        try:
            report = service.review_due_cases(
                today, dry_run=args.dry_run, allow_future=args.allow_future
            ).report
        except FutureDateError as exc:
            raise CommandError(f"{exc} (--dry-run), or --allow-future") from exc
    data = {**asdict(report), "dry_run": args.dry_run}
    would = " (dry run: nothing written)" if args.dry_run else ""
    lines = [f"Case review for {today.isoformat()}{would}:"]
    for key, value in data.items():
        if key in ("today", "dry_run") or not value:
            continue
        shown = ", ".join(value) if isinstance(value, tuple) else str(value)
        lines.append(f"  {key.replace('_', ' ')}: {shown}")
    if len(lines) == 1:
        lines.append("  nothing to do")
    return Result(data=data, text="\n".join(lines))


def _confirm(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with _service(documents=True) as service:
        case = service.case_by_number(args.case)
        sent = service.send_confirmation(case.id, today=today, by_email=args.email)
    data = asdict(sent)
    del data["changes"]
    data["case"] = case.number
    files = ", ".join(sent.documents) or "-"
    if sent.sent:
        how = "emailed" if args.email else "letter ready to post"
        text = f"{case.label}: confirmation {how} ({files})"
        return Result(data=data, text=text)
    # Not sent: the action waits in the collector's agenda; scripts see exit 1.
    text = f"{case.label}: confirmation not sent, pending in the agenda: {sent.reason}"
    return Result(data=data, exit_code=1, error=text)


def _promise_add(args: argparse.Namespace) -> Result:
    today = _today(args.today)
    with _service() as service:
        customer = service.find_customer(args.customer, args.entity)
        items = (
            service.find_items(customer, _numbers(args.items)) if args.items else None
        )
        case = service.open_promise(
            customer,
            today=today,
            promised_date=args.date,
            amount=args.amount,
            item_ids=items,
            grace_days=args.grace,
            source=args.source,
        ).case
    return Result(
        data=_case_data(case),
        text=f"{case.label}: {case.amount} {case.currency or ''} on "
        f"{args.date.isoformat()} by {case.customer_reference} {case.customer_name} "
        f"({len(case.items)} item(s) suspended until "
        f"{(args.date + dt.timedelta(days=args.grace)).isoformat()})",
    )


def _dispute_open(args: argparse.Namespace) -> Result:
    today = _today(args.today)
    with _service() as service:
        customer = service.find_customer(args.customer, args.entity)
        ids = service.find_items(customer, _numbers(args.items))
        if args.amount is not None:
            if len(ids) != 1:
                raise CommandError("--amount disputes part of one item: name one item")
            items: Any = {ids[0]: args.amount}
        else:
            items = list(ids)
        case = service.open_dispute(
            customer,
            today=today,
            items=items,
            reason=args.reason,
            owner=args.owner,
            answer_due=args.due,
            number=args.number,
            comment=args.comment,
        ).case
    answer = case.answer_due.isoformat() if case.answer_due else "-"
    return Result(
        data=_case_data(case),
        text=f"{case.label} ({case.reason}): {case.amount} {case.currency or ''} "
        f"on {', '.join(i.number for i in case.items)}; answer from "
        f"{case.owner} due {answer}",
    )


def _litigation_export(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    with _service() as service:
        case = service.case_by_number(args.case, CaseKind.LITIGATION)
        data = service.export_litigation(case.id, today=today)
    try:
        args.out.write_bytes(data)
    except OSError as exc:
        raise CommandError(f"cannot write {args.out}: {exc.strerror}") from exc
    return Result(
        data={"case": case.number, "file": str(args.out), "bytes": len(data)},
        text=f"{case.label} written to {args.out} ({len(data)} bytes)",
    )
