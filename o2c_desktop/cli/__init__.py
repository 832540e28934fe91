"""The `o2c` command: every capability of the app, headless.

Each feature adds a module here with ``register(subparsers)``; a handler gets
the parsed arguments and returns a `Result` (exit code and JSON-ready data).
Failures exit non-zero with one line on stderr: ``o2c: error: <reason>``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from o2c_desktop import __version__

log = logging.getLogger(__name__)

# Feature modules, each with register(subparsers). Keep alphabetical.
COMMANDS = (
    "o2c_desktop.cli.cases",
    "o2c_desktop.cli.db",
    "o2c_desktop.cli.demo",
    "o2c_desktop.cli.documents",
    "o2c_desktop.cli.dunning",
    "o2c_desktop.cli.importing",
    "o2c_desktop.cli.scenario",
)


class CommandError(Exception):
    """A failure to report on one line, with a non-zero exit code."""


@dataclass
class Result:
    """What a command produced: the text for people and the data for --json."""

    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    exit_code: int = 0


Handler = Callable[[argparse.Namespace], Result]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add the common ``--json`` flag."""
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable JSON on stdout"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every feature's sub-commands."""
    parser = argparse.ArgumentParser(
        prog="o2c",
        description="O2C Desktop, headless: database, demo data, imports, dunning, "
        "documents and sync. Settings come from the app's settings file; "
        "O2C_DATABASE_URL and O2C_USER override them.",
    )
    parser.add_argument("--version", action="version", version=f"o2c {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    for name in COMMANDS:
        importlib.import_module(name).register(subparsers)
    return parser


def _default(value: Any) -> Any:
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `o2c` and return its exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    handler: Handler = args.handler
    try:
        result = handler(args)
    except CommandError as exc:
        print(f"o2c: error: {exc}", file=sys.stderr)  # noqa: T201 - CLI output
        return 1
    except KeyboardInterrupt:
        print("o2c: error: interrupted", file=sys.stderr)  # noqa: T201 - CLI output
        return 130
    if getattr(args, "json", False):
        print(json.dumps(result.data, default=_default, ensure_ascii=False, indent=2))  # noqa: T201
    elif result.text:
        print(result.text)  # noqa: T201 - CLI output
    return result.exit_code
