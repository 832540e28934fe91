"""`o2c-desktop --self-test` from source: what the bundle's check runs, in the suite."""

from __future__ import annotations

import io
import os
import re
import subprocess
import sys
from typing import TYPE_CHECKING

from o2c_desktop import __version__, i18n, selftest

if TYPE_CHECKING:
    from pathlib import Path

    import pytest

STEPS = [
    "import every module",
    "create and upgrade a new database",
    f"build a demo book ({selftest.DEMO_CUSTOMERS} customers)",
    "dunning run, dry run",
    "render a letter (PDF)",
    "render a statement (PDF)",
    "load every translation",
    "open the main window on the book",
]


def test_the_self_test_passes_every_step_and_leaves_the_user_s_files_alone(
    tmp_path: Path,
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("O2C_")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        O2C_CONFIG_DIR=str(tmp_path / "config"),
        O2C_DATA_DIR=str(tmp_path / "data"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "o2c_desktop", "--self-test"],
        capture_output=True, text=True, env=env, timeout=240, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == f"o2c-desktop {__version__} self-test"
    for line, step in zip(lines[1:-1], STEPS, strict=True):
        assert re.fullmatch(rf"  {re.escape(step)} +\d+\.\d\d s", line), line
    assert re.fullmatch(
        rf"o2c-desktop {re.escape(__version__)} self-test passed in \d+\.\d\d s",
        lines[-1],
    )
    # A temporary book: neither the user's data folder nor settings appear.
    assert not (tmp_path / "data").exists()
    assert not (tmp_path / "config").exists()


def test_a_broken_step_stops_the_self_test_with_its_name_and_reason(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)  # a bundle without catalogues
    out = io.StringIO()
    assert selftest.main(out) == 1
    lines = out.getvalue().splitlines()
    assert lines[-2] == f"  {'load every translation':<44} FAILED"
    assert lines[-1] == (
        "o2c-desktop: self-test failed: load every translation: SelfTestError: "
        f"no compiled catalogue in {tmp_path}"
    )
    assert [line.split("  ")[1] for line in lines[1:-2]] == STEPS[:6]
