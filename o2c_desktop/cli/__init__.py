"""The `o2c` command: every capability of the app, headless.

Each feature adds a module here with ``register(subparsers)``; a handler gets
the parsed arguments and returns a `Result` (exit code and JSON-ready data).
Failures exit non-zero with one line on stderr: ``o2c: error: <reason>``,
wrong arguments included (exit 2); a traceback shows only with ``-v``.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, NoReturn

from o2c_desktop import __version__

log = logging.getLogger(__name__)


class CommandError(Exception):
    """A failure to report on one line, with a non-zero exit code."""


class ArgumentValueError(CommandError, argparse.ArgumentTypeError):
    """A wrong argument value, raised by an argparse ``type=`` function.

    argparse reports it with the argument's name; raised in a handler it is
    an ordinary `CommandError`.
    """


class Parser(argparse.ArgumentParser):
    """An argument parser whose errors are one line: ``o2c: error: ...``."""

    def error(self, message: str) -> NoReturn:
        """Print the one-line error, pointing at the command's help; exit 2."""
        hint = f"see '{self.prog} --help'"
        self.exit(2, f"o2c: error: {one_line(message)} ({hint})\n")


def one_line(text: object) -> str:
    """`text` on a single line: messages from libraries may span several."""
    return " ".join(part.strip() for part in str(text).splitlines() if part.strip())


@dataclass
class Result:
    """What a command produced: the text for people and the data for --json."""

    data: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    exit_code: int = 0
    error: str = ""  # with a non-zero exit: the one line for stderr after the text


Handler = Callable[[argparse.Namespace], Result]


def add_json_flag(parser: argparse.ArgumentParser) -> None:
    """Add the common ``--json`` flag."""
    parser.add_argument(
        "--json", action="store_true", help="print machine-readable JSON on stdout"
    )


def build_parser() -> argparse.ArgumentParser:
    """The full parser, with every feature's sub-commands."""
    parser = Parser(
        prog="o2c",
        description="O2C Desktop, headless: database, demo data, imports, dunning, "
        "documents and sync. Settings come from the app's settings file; "
        "O2C_DATABASE_URL and O2C_USER override them.",
    )
    parser.add_argument("--version", action="version", version=f"o2c {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    subparsers.required = True
    # Plain imports (a frozen build must see every module); here, not at the
    # top, because each feature module imports this package's helpers.
    from o2c_desktop.cli import (
        cases,
        customers,
        db,
        demo,
        documents,
        dunning,
        erp,
        forecast,
        importing,
        risk,
        scenario,
        score,
    )

    # Feature modules, each with register(subparsers): those imported above.
    modules = (cases, customers, db, demo, documents, dunning, erp, forecast)
    for module in (*modules, importing, risk, scenario, score):
        module.register(subparsers)
    return parser


def _default(value: Any) -> Any:
    return str(value)


def main(argv: Sequence[str] | None = None) -> int:
    """Run `o2c` and return its exit code."""
    try:
        return _run(argv)
    except BrokenPipeError:
        # The reader went away (`o2c config show | head -1`): as the Python
        # docs advise, send what is left to /dev/null so the exit is quiet.
        _silence_stdout()
        return 1


def _keep_holidays() -> None:
    # Imported here: `o2c --help` needs neither numpy nor the settings.
    from o2c_desktop import settings as settings_mod
    from o2c_desktop.engine import calendar

    calendar.keep_holidays_in(settings_mod.cache_dir())


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except CommandError as exc:  # raised by a type= function: same one line
        return _fail(one_line(exc), 2)
    except SystemExit as exc:  # --help, --version, or the one-line usage error
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    _keep_holidays()
    handler: Handler = args.handler
    try:
        result = handler(args)
    except CommandError as exc:
        return _fail(one_line(exc))
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except BrokenPipeError:
        raise
    except Exception as exc:  # a user sees one line, never a traceback
        log.debug("%s failed", args.command, exc_info=True)
        if args.verbose:
            traceback.print_exc(file=sys.stderr)
            hint = ""
        else:
            hint = " (run with -v for the details)"
        return _fail(f"{type(exc).__name__}: {one_line(exc)}{hint}")
    if getattr(args, "json", False):
        print(json.dumps(result.data, default=_default, ensure_ascii=False, indent=2))  # noqa: T201
    elif result.text:
        print(result.text)  # noqa: T201 - CLI output
    sys.stdout.flush()  # a closed pipe fails here, inside main's guard
    if result.exit_code and result.error:
        return _fail(one_line(result.error), result.exit_code)
    return result.exit_code


def _fail(message: str, code: int = 1) -> int:
    print(f"o2c: error: {message}", file=sys.stderr)  # noqa: T201 - CLI output
    return code


def _silence_stdout() -> None:
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # no real file descriptor (tests capture stdout)
        pass
