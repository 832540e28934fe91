"""A wrong database password gives a clear message (real server, password auth).

The shared test server trusts every connection, so this starts a throw-away
PostgreSQL cluster that checks passwords (scram-sha-256) on a free port.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.models.db import DatabaseError, open_database

if TYPE_CHECKING:
    from collections.abc import Iterator


def _pg_bin(name: str) -> str | None:
    found = shutil.which(name)
    if found:
        return found
    candidates = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return candidates[-1] if candidates else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def password_server() -> Iterator[int]:
    """A PostgreSQL server where user o2c has password 'right-password'."""
    initdb, pg_ctl = _pg_bin("initdb"), _pg_bin("pg_ctl")
    if not initdb or not pg_ctl:
        reason = "PostgreSQL server binaries (initdb) are not installed"
        if os.environ.get("CI") == "true":  # .ci/run installs them
            pytest.fail(f"the password tests must run in CI: {reason}")
        pytest.skip(reason)
    # Not under pytest's tmp dir: the postgres user can't traverse root's 0700 one.
    base = Path(tempfile.mkdtemp(prefix="o2c-pgauth-"))
    base.chmod(0o755)
    data, pwfile = base / "data", base / "pw"
    pwfile.write_text("right-password\n")
    prefix: list[str] = []
    if os.geteuid() == 0:  # initdb refuses to run as root
        shutil.chown(base, "postgres")
        shutil.chown(pwfile, "postgres")
        prefix = ["runuser", "-u", "postgres", "--"]
    subprocess.run(
        [
            *prefix,
            initdb,
            "-D",
            str(data),
            "-U",
            "o2c",
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
        ],
        check=True,
        capture_output=True,
    )
    port = _free_port()
    subprocess.run(
        [
            *prefix,
            pg_ctl,
            "-D",
            str(data),
            "-w",
            "-l",
            str(base / "log"),
            "-o",
            f"-p {port} -k {base} -c listen_addresses=127.0.0.1",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield port
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(base, ignore_errors=True)


def test_a_wrong_password_is_named_as_such_and_nothing_is_written(
    password_server: int,
) -> None:
    url = f"postgresql://o2c@127.0.0.1:{password_server}/postgres"
    with pytest.raises(DatabaseError, match="refused user 'o2c': wrong password"):
        open_database(url, password="wrong-password")


def test_the_right_password_from_the_keyring_opens_and_upgrades(
    password_server: int,
) -> None:
    url = f"postgresql://o2c@127.0.0.1:{password_server}/postgres"
    database = open_database(url, password="right-password")
    try:
        assert "PostgreSQL" in database.description
        assert "right-password" not in database.description
    finally:
        database.dispose()
