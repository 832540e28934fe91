#!/usr/bin/env python3
"""Developer entry point: one command to run the app, one to run every check.

    python3 tools/dev.py app    # install, build the demo book once, open the app
    python3 tools/dev.py test   # install dev tools, then lint, types, layers, tests
    python3 tools/dev.py mutate [MODULE ...]   # mutation score of engine/ (slow)
    python3 tools/dev.py package  # build the bundle into dist/, then self-test it

Only the standard library here: this runs before anything is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
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
    # The app builds the demo book itself into an empty database: no second
    # process (and its second start-up) on every launch.
    return run(tool("o2c-desktop"), "--demo-if-empty", *args.rest, check=False)


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


ENGINE = ROOT / "o2c_desktop" / "engine"
# mutmut's exit codes per mutant (mutmut/stats.py): a failing test run, a
# pytest internal error, a timeout and a type-check rejection all catch it.
CAUGHT = {1, 3, 36, 37, -24, 24, 152, 255}
STATUS = {0: "survived", 5: "no tests", 33: "no tests", None: "not run yet"}


def _engine_module(name: str) -> str:
    """`calendar`, `engine/calendar.py`, `o2c_desktop.engine.calendar` -> `calendar`."""
    stem = name.replace("\\", "/").removesuffix(".py").replace("/", ".")
    stem = stem.rsplit(".", 1)[-1]
    if not (ENGINE / f"{stem}.py").is_file():
        sys.exit(f"dev.py: error: no module o2c_desktop/engine/{stem}.py")
    return stem


def _meta(module: str) -> Path:
    return ROOT / "mutants" / "o2c_desktop" / "engine" / f"{module}.py.meta"


def _retest_survivors(modules: list[str]) -> None:
    """Forget the survivors' verdicts so this run tries the tests added since.

    mutmut re-runs a mutant only when its function changed; a new test that
    kills a survivor would otherwise go unnoticed. Killed ones stay killed.
    """
    for module in modules:
        try:
            data = json.loads(_meta(module).read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        codes = data.get("exit_code_by_key", {})
        for key, code in codes.items():
            if code not in CAUGHT:
                codes[key] = None
        _meta(module).write_text(json.dumps(data), encoding="utf-8")


def cmd_mutate(args: argparse.Namespace) -> int:
    """Mutation-test engine/ modules with mutmut and print the score.

    Too slow for every commit (a full engine/ run takes the best part of an
    hour on two cores), so it is not part of `test` nor CI. mutmut keeps its
    results in mutants/ and re-tests only functions changed since last run.
    """
    ensure_venv("dev")
    modules = (
        [_engine_module(m) for m in args.modules]
        if args.modules
        else sorted(
            p.stem
            for p in ENGINE.glob("*.py")
            if p.stem not in {"__init__", "types"}  # no functions to mutate
        )
    )
    _retest_survivors(modules)
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen")
    names = [f"o2c_desktop.engine.{m}.*" for m in modules]
    children = os.environ.get("O2C_TEST_WORKERS", "2")
    run(tool("mutmut"), "run", "--max-children", children, *names, env=env, check=False)
    total_caught = total_all = 0
    survivors: list[str] = []
    print(f"\n{'module':<12} {'killed':>7} {'total':>6} {'score':>7}")
    for module in modules:
        try:
            meta = json.loads(_meta(module).read_text(encoding="utf-8"))
            codes = meta["exit_code_by_key"]
        except (OSError, ValueError, KeyError):
            print(f"{module:<12} no results (see the mutmut output above)")
            continue
        caught = sum(1 for c in codes.values() if c in CAUGHT)
        total = len(codes)
        total_caught += caught
        total_all += total
        survivors += sorted(
            f"{k}  ({STATUS.get(c, 'suspicious')})"
            for k, c in codes.items()
            if c not in CAUGHT
        )
        score = f"{100 * caught / total:.1f}%" if total else "-"
        print(f"{module:<12} {caught:>7} {total:>6} {score:>7}")
    if total_all:
        print(
            f"{'engine/':<12} {total_caught:>7} {total_all:>6} "
            f"{100 * total_caught / total_all:>6.1f}%"
        )
    if survivors:
        print(
            f"\nSurviving mutants ({len(survivors)}; `.venv/bin/mutmut show NAME`"
            " prints the change, docs/mutation.md lists the equivalent ones):"
        )
        for name in survivors:
            print(f"  {name}")
    if (
        args.fail_under is not None
        and total_all
        and 100 * total_caught / total_all < args.fail_under
    ):
        print(f"FAILED: score under {args.fail_under}%", flush=True)
        return 1
    return 0


INSTALLER = ROOT / "installer"
DIST = ROOT / "dist"


def _folder_size(folder: Path) -> int:
    # PyInstaller links libraries beside the programs: count each file once.
    files = [p for p in folder.rglob("*") if p.is_file() and not p.is_symlink()]
    return sum(p.stat().st_size for p in files)


def _bundle_env(tmp: Path) -> dict[str, str]:
    """The built programs' environment: no user settings, no Python of ours."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    env.pop("VIRTUAL_ENV", None)
    # Under Xvfb (CI) the real xcb platform plugin is tested; else offscreen.
    env.setdefault("QT_QPA_PLATFORM", "xcb" if env.get("DISPLAY") else "offscreen")
    env["O2C_CONFIG_DIR"] = str(tmp / "config")
    env["O2C_DATA_DIR"] = str(tmp / "data")
    env.pop("O2C_DATABASE_URL", None)
    return env


def linux_tarball(
    bundle: Path,
    version: str,
    dist: Path = DIST,
    icons: Path = ROOT / "build" / "package",
) -> Path:
    """dist/o2c-desktop-VERSION-linux-ARCH.tar.gz: bundle, install.sh, menu entry.

    `icons` holds the PNG the spec rendered (installer/make_icons.py).
    """
    arch = os.uname().machine
    name = f"o2c-desktop-{version}-linux-{arch}"
    target = dist / f"{name}.tar.gz"
    extra = {
        "install.sh": INSTALLER / "linux" / "install.sh",
        "share/applications/o2c-desktop.desktop": INSTALLER
        / "linux"
        / "o2c-desktop.desktop",
        "share/icons/hicolor/256x256/apps/o2c-desktop.png": icons / "o2c-desktop.png",
        "share/icons/hicolor/scalable/apps/o2c-desktop.svg": ROOT
        / "resources"
        / "icons"
        / "o2c-desktop.svg",
    }
    with tarfile.open(target, "w:gz", compresslevel=6) as tar:
        tar.add(bundle, arcname=f"{name}/o2c-desktop")
        for arcname, path in extra.items():
            tar.add(path, arcname=f"{name}/{arcname}")
    return target


def _sign_windows(files: list[Path]) -> None:
    """Sign with O2C_WINDOWS_SIGN_CMD (e.g. a signtool command line), if set."""
    command = os.environ.get("O2C_WINDOWS_SIGN_CMD")
    if not command:
        print("O2C_WINDOWS_SIGN_CMD not set: left unsigned", flush=True)
        return
    for path in files:
        # The signer's own command line, as the release workflow sets it.
        subprocess.run(f'{command} "{path}"', shell=True, check=True)


def _windows_installer(bundle: Path, version: str) -> Path | None:
    makensis = shutil.which("makensis")
    if makensis is None:
        print("makensis not found: no Windows installer", flush=True)
        return None
    _sign_windows([bundle / "o2c-desktop.exe", bundle / "o2c.exe"])
    out = DIST / f"O2C-Desktop-{version}-setup.exe"
    sign = os.environ.get("O2C_WINDOWS_SIGN_CMD")
    run(
        makensis, "-V2", f"-DVERSION={version}", f"-DDIST_DIR={bundle}",
        f"-DOUT_FILE={out}", *([f"-DSIGN_CMD={sign}"] if sign else []),
        INSTALLER / "windows" / "o2c-desktop.nsi",
    )  # fmt: skip
    return out


def _macos_disk_image(version: str) -> Path:
    """Sign the .app (O2C_MACOS_SIGN_IDENTITY), make the .dmg, notarise it."""
    app = DIST / "O2C Desktop.app"
    out = DIST / f"O2C-Desktop-{version}.dmg"
    identity = os.environ.get("O2C_MACOS_SIGN_IDENTITY")
    entitlements = INSTALLER / "macos" / "entitlements.plist"
    if identity:
        run("codesign", "--force", "--deep", "--options", "runtime", "--timestamp",
            "--entitlements", entitlements, "--sign", identity, app)  # fmt: skip
    else:
        print("O2C_MACOS_SIGN_IDENTITY not set: left unsigned", flush=True)
    settings = INSTALLER / "macos" / "dmgbuild_settings.py"
    run(PYTHON, "-m", "dmgbuild", "-s", settings, "-D", f"app={app}",
        "O2C Desktop", out)  # fmt: skip
    profile = os.environ.get("O2C_MACOS_NOTARY_PROFILE")
    if identity:
        run("codesign", "--force", "--timestamp", "--sign", identity, out)
    if identity and profile:
        run("xcrun", "notarytool", "submit", out, "--keychain-profile", profile,
            "--wait")  # fmt: skip
        run("xcrun", "stapler", "staple", out)
    elif identity:
        print("O2C_MACOS_NOTARY_PROFILE not set: not notarised", flush=True)
    return out


def _installer(bundle: Path, version: str) -> Path | None:
    """The Windows installer (makensis) or macOS disk image (dmgbuild)."""
    if sys.platform == "win32":
        return _windows_installer(bundle, version)
    if sys.platform == "darwin":
        return _macos_disk_image(version)
    return None


def _time_start(program: Path, label: str, env: dict[str, str]) -> int:
    """Print how long `program` takes from exec to its agenda shown."""
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [str(program), "--quit-when-ready"], env=env, stderr=subprocess.PIPE, text=True
    )
    assert proc.stderr is not None
    lines = []
    for line in proc.stderr:  # "ready in X s" once the agenda is shown
        lines.append(line)
        if line.startswith("ready in"):
            shown = time.perf_counter() - t0
            print(f"{label}: agenda shown {shown:.2f} s after exec ({line.strip()})")
    code = proc.wait()
    if code != 0 or not any(line.startswith("ready in") for line in lines):
        print("".join(lines), f"FAILED: the bundle's {label}", sep="\n", flush=True)
        return code or 1
    return 0


def cmd_package(args: argparse.Namespace) -> int:
    """Build the one-folder bundle with PyInstaller, then run its self-test."""
    ensure_venv("package")
    version = subprocess.run(
        [str(PYTHON), "-c", "import o2c_desktop; print(o2c_desktop.__version__)"],
        capture_output=True, text=True, check=True, cwd=ROOT,
    ).stdout.strip()  # fmt: skip
    started = time.perf_counter()
    run(
        PYTHON, "-m", "PyInstaller", "--noconfirm", "--log-level", "WARN",
        "--distpath", DIST, "--workpath", ROOT / "build" / "pyinstaller",
        INSTALLER / "o2c-desktop.spec",
    )  # fmt: skip
    built = time.perf_counter() - started
    bundle = DIST / "o2c-desktop"
    exe = ".exe" if os.name == "nt" else ""
    size = _folder_size(bundle)
    print(f"Built {bundle} in {built:.0f} s: {size / 1e6:.0f} MB", flush=True)
    with tempfile.TemporaryDirectory(prefix="o2c-package-") as folder:
        env = _bundle_env(Path(folder))
        run(bundle / f"o2c{exe}", "--version", env=env)
        report = Path(folder) / "self-test.txt"  # the windowed .exe's output
        env["O2C_SELF_TEST_OUT"] = str(report)
        code = run(bundle / f"o2c-desktop{exe}", "--self-test", check=False, env=env)
        if report.exists():
            print(report.read_text(encoding="utf-8"), flush=True)
        if code != 0:
            print("FAILED: the bundle's self-test", flush=True)
            return code
        # Start to a usable window (the agenda shown): the first start makes
        # the book, the second opens it as on any morning.
        for label in ("first start (creates the book)", "second start"):
            code = _time_start(bundle / f"o2c-desktop{exe}", label, env)
            if code != 0:
                return code
    made = [linux_tarball(bundle, version)] if sys.platform == "linux" else []
    other = None if args.no_installer else _installer(bundle, version)
    made += [other] if other else []
    for path in made:
        print(f"Made {path.relative_to(ROOT)}: {path.stat().st_size / 1e6:.0f} MB")
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
    mutate = sub.add_parser(
        "mutate", help="mutation score of engine/ with mutmut (slow, not in CI)"
    )
    mutate.add_argument(
        "modules", nargs="*", metavar="MODULE", help="engine modules (default: all)"
    )
    mutate.add_argument(
        "--fail-under", type=float, metavar="PCT", help="exit 1 below this score"
    )
    mutate.set_defaults(func=cmd_mutate)
    package = sub.add_parser(
        "package", help="build the bundle (PyInstaller) into dist/ and self-test it"
    )
    package.add_argument(
        "--no-installer",
        action="store_true",
        help="stop at the bundle and tarball (no NSIS installer, no .dmg)",
    )
    package.set_defaults(func=cmd_package)
    # Options meant for the app or pytest (`app --quit-when-ready`, `test -x`)
    # pass through rather than being refused as ours.
    args, extra = parser.parse_known_args()
    args.rest = [*extra, *getattr(args, "rest", [])]
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
