"""A live Tryton 8.2 server for the ERP sync tests (issue 18).

Tryton runs in its own virtual environment (`.tryton/venv`, git-ignored), never
in the app's. Creating a database with its modules takes about two minutes and
seeding it three, so a seeded SQLite template is built once and cached under
`.tryton/cache/<key>/`, the key naming the versions, the modules, the seed
script and the year (the fiscal year is built around the day it is seeded).
Each test session copies the template and starts `trytond` on a free port.

Only the standard library here: CI runs ``python3 tests/erp/tryton_server.py
build`` before the app's venv exists.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import hashlib
import json
import os
import shutil
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
PINS = (
    "trytond==8.2.1",
    "trytond-account==8.2.1",
    "trytond-account-invoice==8.2.0",
    "trytond-account-dunning==8.2.0",
    "trytond-account-payment==8.2.0",
    "proteus==8.2.0",
)
MODULES = ("account_invoice", "account_dunning", "account_payment")
DATABASE = "o2c"
LOGIN = "admin"
PASSWORD = "admin-o2c-tests"
SEED = ROOT / "tools" / "tryton_seed.py"


def home() -> Path:
    """Where the venv and the cache live (`O2C_TRYTON_DIR` overrides)."""
    return Path(os.environ.get("O2C_TRYTON_DIR") or ROOT / ".tryton")


def venv_bin(name: str) -> Path:
    """A program of the Tryton venv."""
    return home() / "venv" / "bin" / name


def cache_key(*, seeded: bool = True) -> str:
    """The template's key: versions, modules, and the seed script and year."""
    digest = hashlib.sha256()
    for part in (*PINS, *MODULES, PASSWORD):
        digest.update(part.encode() + b"\0")
    if seeded:
        digest.update(str(dt.datetime.now(dt.UTC).year).encode())
        digest.update(SEED.read_bytes())
    return digest.hexdigest()[:16]


def template_path() -> Path:
    """The seeded template database file (may not exist yet)."""
    return home() / "cache" / cache_key() / f"{DATABASE}.sqlite"


def unavailable_reason() -> str | None:
    """Why a live Tryton can't be started here, or None when it can."""
    build = "run python3 tests/erp/tryton_server.py build"
    if not venv_bin("trytond").exists():
        return f"no Tryton venv at {home() / 'venv'}: {build}"
    if not template_path().exists():
        return f"no seeded Tryton template at {template_path()}: {build}"
    return None


def install() -> float:
    """Create the Tryton venv with the pinned versions; seconds taken (0 if done)."""
    stamp = home() / "venv" / "o2c-pins.txt"
    wanted = "\n".join(PINS)
    if stamp.exists() and stamp.read_text() == wanted:
        return 0.0
    start = time.monotonic()
    home().mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(home() / "venv")], check=True
    )
    subprocess.run(
        [str(venv_bin("python")), "-m", "pip", "install", "-q", *PINS], check=True
    )
    stamp.write_text(wanted)
    return time.monotonic() - start


def write_config(folder: Path, port: int = 0) -> Path:
    """A trytond.conf serving the SQLite databases of `folder` on `port`."""
    conf = folder / "trytond.conf"
    conf.write_text(
        "[database]\nuri = sqlite://\n"
        f"path = {folder}\n"
        "language = en\n"
        "[web]\n"
        f"listen = 127.0.0.1:{port}\n"
        "[session]\n"
        "max_attempt = 5\n"
        "[request]\n"
        "timeout = 300\n"  # two shared cores: a big search_read may take a while
    )
    return conf


def build() -> dict[str, float]:
    """Install Tryton and build the seeded template if missing; seconds per step."""
    times = {"install": install(), "create": 0.0, "seed": 0.0}
    target = template_path()
    if target.exists():
        return times
    work = Path(tempfile.mkdtemp(prefix="tryton-build-", dir=home()))
    try:
        conf = write_config(work)
        passfile = work / "password"
        passfile.write_text(PASSWORD)
        env = {**os.environ, "TRYTONPASSFILE": str(passfile)}
        base = (
            home() / "cache" / f"base-{cache_key(seeded=False)}" / f"{DATABASE}.sqlite"
        )
        if not base.exists():
            # Modules activated, nothing seeded: rebuilt only when versions change.
            start = time.monotonic()
            (work / f"{DATABASE}.sqlite").touch()  # trytond opens, never creates
            subprocess.run(
                [
                    str(venv_bin("trytond-admin")),
                    "-c",
                    str(conf),
                    "-d",
                    DATABASE,
                    "--email",
                    "admin@example.com",
                    "--activate-dependencies",
                    "-u",
                    *MODULES,
                ],
                check=True,
                env=env,
            )
            times["create"] = time.monotonic() - start
            _checkpoint(work / f"{DATABASE}.sqlite")
            base.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(work / f"{DATABASE}.sqlite", base.with_suffix(".tmp"))
            base.with_suffix(".tmp").replace(base)
        else:
            shutil.copyfile(base, work / f"{DATABASE}.sqlite")
        start = time.monotonic()
        subprocess.run(
            [str(venv_bin("python")), str(SEED), str(conf), DATABASE],
            check=True,
            env=env,
        )
        times["seed"] = time.monotonic() - start
        _checkpoint(work / f"{DATABASE}.sqlite")
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".tmp")
        shutil.copyfile(work / f"{DATABASE}.sqlite", tmp)
        tmp.replace(target)  # a half-built template never looks built
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return times


def _checkpoint(path: Path) -> None:
    """Fold SQLite's write-ahead log into the file, so that a copy has it all."""
    with contextlib.closing(sqlite3.connect(path)) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")


def free_port() -> int:
    """A TCP port free on loopback now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class TrytonServer:
    """A trytond process serving a private copy of the seeded template.

    Attributes:
        folder: the copy's folder (its config, database and log).
        port: where it listens on loopback.
    """

    folder: Path
    port: int = 0
    _process: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        """The server's base URL (the database name goes after it)."""
        return f"http://127.0.0.1:{self.port}/"

    database: str = DATABASE
    login: str = LOGIN
    password: str = PASSWORD

    def start(self) -> float:
        """Copy the template and start serving it; seconds until it answers."""
        begin = time.monotonic()
        self.folder.mkdir(parents=True, exist_ok=True)
        for leftover in ("-wal", "-shm", "-journal"):
            # SQLite would replay the last run's log onto the fresh copy.
            (self.folder / f"{DATABASE}.sqlite{leftover}").unlink(missing_ok=True)
        shutil.copyfile(template_path(), self.folder / f"{DATABASE}.sqlite")
        self.port = free_port()
        conf = write_config(self.folder, self.port)
        log = (self.folder / "trytond.log").open("ab")
        self._process = subprocess.Popen(
            [str(venv_bin("trytond")), "-c", str(conf), "-d", self.database],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"trytond exited: see {self.folder / 'trytond.log'}")
            with contextlib.suppress(OSError):
                self.call("common.server.version", [], database="")
                return time.monotonic() - begin
            time.sleep(0.1)
        self.stop()
        raise RuntimeError("trytond did not answer within 60 s")

    def stop(self) -> None:
        """Stop the server (the copy stays until `reset` or the folder goes)."""
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(10)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def reset(self) -> float:
        """A fresh copy of the template, served again; seconds taken."""
        self.stop()
        return self.start()

    def call(self, method: str, params: list[Any], database: str | None = None) -> Any:
        """One raw JSON-RPC call without a session (server version, login)."""
        db = self.database if database is None else database
        body = json.dumps({"id": 1, "method": method, "params": params}).encode()
        request = urllib.request.Request(
            f"{self.url}{db}/rpc/" if db else f"{self.url}rpc/",
            data=body,
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as reply:
            return json.loads(reply.read())


def main(argv: list[str] | None = None) -> int:
    """``build`` (install + template, timed) or ``serve`` (for a manual look)."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["build", "serve", "path"])
    args = parser.parse_args(argv)
    if args.command == "path":
        print(template_path())  # noqa: T201 - a command-line tool
        return 0
    if args.command == "build":
        times = build()
        print(json.dumps({k: round(v, 1) for k, v in times.items()}))  # noqa: T201
        return 0
    server = TrytonServer(Path(tempfile.mkdtemp(prefix="tryton-serve-")))
    took = server.start()
    print(f"{server.url}{DATABASE}/ {LOGIN}/{PASSWORD} ready in {took:.1f} s")  # noqa: T201
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        server.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
