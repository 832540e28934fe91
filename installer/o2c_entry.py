"""PyInstaller entry of the ``o2c`` command (a console program on Windows)."""

from __future__ import annotations

import sys

from o2c_desktop.cli import main

if __name__ == "__main__":
    sys.exit(main())
