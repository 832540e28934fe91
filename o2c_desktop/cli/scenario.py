"""`o2c scenario export|import`: dunning scenarios as JSON files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

from o2c_desktop.cli import CommandError, Result, add_json_flag
from o2c_desktop.cli._common import services
from o2c_desktop.services.scenarios import ScenarioError

if TYPE_CHECKING:
    import argparse


def register(subparsers: Any) -> None:
    """Add `o2c scenario export` and `o2c scenario import`."""
    scenario = subparsers.add_parser("scenario", help="export or import scenarios")
    sub = scenario.add_subparsers(
        dest="scenario_command", metavar="ACTION", required=True
    )
    export = sub.add_parser("export", help="write a scenario to a JSON file")
    export.add_argument("name", help="the scenario's name")
    export.add_argument("file", type=Path, help="JSON file to write")
    add_json_flag(export)
    export.set_defaults(handler=_export)
    imp = sub.add_parser("import", help="create or update a scenario from a JSON file")
    imp.add_argument("file", type=Path, help="JSON file to read")
    add_json_flag(imp)
    imp.set_defaults(handler=_import)


def _export(args: argparse.Namespace) -> Result:
    with services() as built:
        try:
            data = built.scenarios.export(args.name)
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc
    try:
        args.file.write_text(
            json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
        )
    except OSError as exc:
        raise CommandError(f"cannot write {args.file}: {exc.strerror}") from exc
    return Result(
        data={"name": args.name, "file": str(args.file), "steps": len(data["steps"])},
        text=f"Scenario {args.name!r} written to {args.file}",
    )


def _import(args: argparse.Namespace) -> Result:
    try:
        data = json.loads(args.file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CommandError(f"cannot read {args.file}: {exc.strerror}") from exc
    except ValueError as exc:
        raise CommandError(f"cannot read {args.file}: {exc}") from exc
    with services() as built:
        try:
            name, _ = built.scenarios.import_(data)
        except ScenarioError as exc:
            raise CommandError(str(exc)) from exc
    return Result(
        data={"name": name, "file": str(args.file)},
        text=f"Scenario {name!r} imported from {args.file}",
    )
