"""`o2c sync risk`, `o2c risk lookup SIREN`, `o2c risk alerts`: the risk watch.

`sync risk` pulls BODACC notices, registry identities (Recherche
d'entreprises) and Creditsafe reports since each source's cursor and applies
them (insolvency automation, rating history, alerts). A provider that is
down or over quota fails the command in one line and keeps its cursor: the
next run catches up.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import app_context, parse_date, sync_commands
from o2c_desktop.engine.identifiers import digits, siren_ok
from o2c_desktop.services.risk import RiskService, default_connectors
from o2c_desktop.sync.risk import SOURCES

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any) -> None:
    """Add `o2c sync risk` and `o2c risk lookup|alerts`."""
    sync_sub = sync_commands(subparsers)
    risk = sync_sub.add_parser(
        "risk", help="BODACC notices, registry identities, Creditsafe reports"
    )
    risk.add_argument(
        "--source", choices=SOURCES, help="one source only (all configured ones)"
    )
    risk.add_argument(
        "--since", type=parse_date, help="from this day (the source's cursor)"
    )
    risk.add_argument("--date", type=parse_date, help="sync as of this day (today)")
    add_json_flag(risk)
    risk.set_defaults(handler=_sync)

    watch = subparsers.add_parser("risk", help="company lookups and risk alerts")
    sub = watch.add_subparsers(dest="risk_command", metavar="ACTION", required=True)
    lookup = sub.add_parser("lookup", help="who a SIREN is, by every provider")
    lookup.add_argument("siren", help="the 9-digit SIREN")
    add_json_flag(lookup)
    lookup.set_defaults(handler=_lookup)
    alerts = sub.add_parser("alerts", help="the credit manager's alert list")
    alerts.add_argument("--all", action="store_true", help="acknowledged alerts too")
    add_json_flag(alerts)
    alerts.set_defaults(handler=_alerts)


def _today(value: dt.date | None) -> dt.date:
    return value or dt.datetime.now(dt.UTC).astimezone().date()


def _sync(args: argparse.Namespace) -> Result:
    today = _today(args.date)
    if args.since and args.since > today:
        raise CommandError(f"--since {args.since} is after {today}")
    with app_context() as ctx:
        service = RiskService(ctx, default_connectors(ctx))
        if args.source and args.source not in service.sources:
            raise CommandError(
                f"{args.source} is not configured (set O2C_CREDITSAFE_USER and its "
                "password in the keyring)"
            )
        sources = [args.source] if args.source else list(service.sources)
        try:
            reports = [service.sync(x, today=today, since=args.since) for x in sources]
        except (ValueError, LookupError) as exc:
            raise CommandError(str(exc)) from exc
    lines = [
        f"{r.source}: {r.pulled} pulled from {r.since} to {r.until}, "
        f"{r.new_events} new for the book, {r.matched} matched, "
        f"{r.cases_opened} insolvency cases opened, {r.reports} reports, "
        f"{r.alerts} alerts; cursor {r.cursor or '-'}"
        for r in reports
    ]
    failed = [e for r in reports if not r.complete for e in r.errors]
    for r in reports:
        lines += [f"  {e}" for e in r.errors[:20]]
    return Result(
        data={"sources": [r.as_dict() for r in reports]},
        text="\n".join(lines),
        exit_code=1 if failed else 0,
        error=failed[0] + " (cursor kept: the next sync resumes)" if failed else "",
    )


def _lookup(args: argparse.Namespace) -> Result:
    if not siren_ok(args.siren):
        raise CommandError(
            f"invalid SIREN {args.siren!r}: 9 digits with a Luhn check digit"
        )
    with app_context() as ctx:
        found = RiskService(ctx, default_connectors(ctx)).lookup(digits(args.siren))
    lines = [f"SIREN {found['siren']}"]
    for source, who in found["sources"].items():
        if who is None:
            lines.append(f"  {source}: not found")
            continue
        state = "active" if who["active"] else f"ceased {who['ceased_on'] or ''}"
        lines.append(f"  {source}: {who['name']} ({state}) {who['address']}".rstrip())
    lines.append("  customers: " + (", ".join(found["customers"]) or "none"))
    lines += [f"  {e}" for e in found["errors"]]
    return Result(data=found, text="\n".join(lines))


def _alerts(args: argparse.Namespace) -> Result:
    with app_context() as ctx:
        rows = RiskService(ctx, {}).alerts(include_acknowledged=args.all)
    data = {
        "alerts": [
            {
                "id": a.id,
                "customer": a.customer_reference,
                "name": a.customer_name,
                "kind": a.kind,
                "source": a.source,
                "message": a.message,
                "link": a.link,
                "created_at": a.created_at,
                "acknowledged": a.acknowledged,
            }
            for a in rows
        ]
    }
    if not rows:
        return Result(data=data, text="No alert.")
    lines = [
        f"{a.id:>5}  {a.created_at:%Y-%m-%d}  {a.kind:<15} {a.customer_reference:<10} "
        f"{a.message}" + (f"  <{a.link}>" if a.link else "")
        for a in rows
    ]
    return Result(data=data, text="\n".join(lines))
