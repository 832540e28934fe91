"""Data files shipped with the app: translations, letter templates, icons.

Installed as the package `o2c_desktop.resources` (see pyproject.toml), so code
finds them with `o2c_desktop.resources.path()` in a checkout and an install alike.
"""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parent


def path(*parts: str) -> Path:
    """Return the path of a shipped resource."""
    return ROOT.joinpath(*parts)
