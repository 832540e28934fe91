"""PyInstaller entry of the windowed app (``o2c-desktop``); see o2c-desktop.spec."""

from __future__ import annotations

import sys

from o2c_desktop.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
