#!/usr/bin/env python3
"""Developer entry point: one command to run the app, one to run every check.

    python3 tools/dev.py app    # install, build the demo book once, open the app
    python3 tools/dev.py test   # install dev tools, then lint, types, layers, tests

Only the standard library here: this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV = Path(os.environ.get("O2C_VENV", ROOT / ".venv"))
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
PYTHON = BIN / ("python.exe" if os.name == "nt" else "python")


def run(*cmd: str | Path, check: bool = True, env: dict[str, str] | None = None) -> int:
    """Run a command from the repository root, echoing it."""
    print("+", " ".join(str(c) for c in cmd), flush=True)
    code = subprocess.call([str(c) for c in cmd], cwd=ROOT, env=env)
    if check and code != 0:
        sys.exit(code)
    return code


STAMP = VENV / "o2c-installed.json"


def _installed() -> dict[str, str]:
    """What the last install recorded: the pyproject hash and its extras."""
    try:
        data = json.loads(STAMP.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def ensure_venv(extras: str) -> None:
    """Create .venv and install the project (editable) with `extras`.

    The install is editable, so code changes need no reinstall: it is skipped
    when pyproject.toml is unchanged and the extras were installed already.
    """
    if sys.version_info < (3, 11):  # noqa: UP036 - runs before any check of ours
        sys.exit("O2C Desktop needs Python 3.11 or newer.")
    if not PYTHON.exists():
        print(f"Creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
        run(PYTHON, "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    stamp = _installed()
    wanted = {e for e in extras.split(",") if e}
    have = {e for e in stamp.get("extras", "").split(",") if e}
    if stamp.get("pyproject") == digest and wanted <= have:
        return
    spec = f".[{extras}]" if extras else "."
    run(
        PYTHON,
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "-e",
        spec,
    )
    extras_now = (
        ",".join(sorted(wanted | have)) if stamp.get("pyproject") == digest else extras
    )
    STAMP.write_text(
        json.dumps({"pyproject": digest, "extras": extras_now}), encoding="utf-8"
    )


def tool(name: str) -> Path:
    """Path of a console script installed in the venv."""
    return BIN / (f"{name}.exe" if os.name == "nt" else name)


def cmd_app(args: argparse.Namespace) -> int:
    """Install, build the demo book on first run, open the app."""
    ensure_venv("")
    info = subprocess.run(
        [str(tool("o2c")), "demo", "--if-empty"], cwd=ROOT, check=False
    )
    if info.returncode != 0:
        return info.returncode
    return run(tool("o2c-desktop"), *args.rest, check=False)


def cmd_test(args: argparse.Namespace) -> int:
    """Lint, type-check, check layer contracts, then run the test suite."""
    ensure_venv("dev")
    failures = []
    checks: list[tuple[str, list[str | Path]]] = [
        ("ruff", [tool("ruff"), "check", "."]),
        ("ruff format", [tool("ruff"), "format", "--check", "."]),
        ("mypy", [tool("mypy")]),
        ("import contracts", [tool("lint-imports")]),
    ]
    for name, cmd in checks:  # each is a list[str | Path]
        if run(*cmd, check=False) != 0:
            failures.append(name)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    workers = ["-n", os.environ.get("O2C_TEST_WORKERS", "2")]
    code = run(PYTHON, "-m", "pytest", *workers, *args.rest, check=False, env=env)
    if code != 0:
        failures.append("tests")
    if failures:
        print(f"FAILED: {', '.join(failures)}", flush=True)
        return 1
    print("All checks passed.", flush=True)
    return 0


def main() -> int:
    """Parse the sub-command and run it."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    app = sub.add_parser(
        "app", help="install and open the desktop app on the demo book"
    )
    app.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for o2c-desktop")
    app.set_defaults(func=cmd_app)
    test = sub.add_parser("test", help="lint, types, layer contracts and all tests")
    test.add_argument("rest", nargs=argparse.REMAINDER, help="arguments for pytest")
    test.set_defaults(func=cmd_test)
    # Options meant for the app or pytest (`app --quit-when-ready`, `test -x`)
    # pass through rather than being refused as ours.
    args, extra = parser.parse_known_args()
    args.rest = [*extra, *args.rest]
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
