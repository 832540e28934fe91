"""Entry point of the desktop app: ``o2c-desktop`` or ``python -m o2c_desktop``."""

from __future__ import annotations

import os
import sys
import time

# Before any heavy import: start-up is measured from here, not from app.py.
STARTED = time.perf_counter()


def main() -> int:
    """Start the desktop app and return its exit code."""
    # pyqtgraph would pick PyQt6 if installed; we ship PySide6 (STYLE.md §3).
    os.environ.setdefault("PYQTGRAPH_QT_LIB", "PySide6")
    if "--self-test" in sys.argv[1:]:
        from o2c_desktop import selftest

        return selftest.main()
    from o2c_desktop import app

    return app.main(sys.argv, started=STARTED)


if __name__ == "__main__":
    sys.exit(main())
