"""The installer's files: loaded from installer/ and tools/, which are not packages."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parents[2]
INSTALLER = ROOT / "installer"
# A bundle `tools/dev.py package` built (CI builds it before the tests).
BUILT = ROOT / "dist" / "o2c-desktop"


def load(path: Path) -> ModuleType:
    """Import a standalone script as a module."""
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault(path.stem, module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def layout() -> ModuleType:
    """installer/layout.py: the names the spec, NSIS and dmgbuild share."""
    return load(INSTALLER / "layout.py")


@pytest.fixture(scope="session")
def dev() -> ModuleType:
    """tools/dev.py."""
    return load(ROOT / "tools" / "dev.py")
