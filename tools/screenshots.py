#!/usr/bin/env python3
"""Screenshots of every page of the app on a demo book, for docs/ and review.

    python tools/screenshots.py [--out docs/screenshots] [--language fr]

Runs offscreen in a throw-away settings and data directory: builds the demo
book (`o2c_desktop.services.demo`) on a fixed day, opens the app on it as the
default collector, and saves one PNG per page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

ROOT = Path(__file__).resolve().parent.parent
TODAY = dt.date(2026, 3, 24)
SHOTS = {
    "agenda": "main-agenda.png",
    "customers": "customers.png",
    "scenarios": "scenarios.png",
    "dashboards": "dashboard.png",
    "settings": "settings.png",
}
MAX_BYTES = 300_000
# The dashboards, one shot per tab (issue #8), and the scenario editor.
DASHBOARDS = (
    "aging",
    "dso",
    "top",
    "revenue",
    "risk",
    "customer",
    "team",
    "disputes",
    "cash",
)

if TYPE_CHECKING:
    from PySide6.QtCore import SignalInstance

    from o2c_desktop.settings import Settings


def build_book(url: str, customers: int, items: int) -> tuple[str, str]:
    """Fill a new database at `url`; return the logins of a collector and a manager."""
    from o2c_desktop.models.db import open_database

    database = open_database(url)
    try:
        try:
            from o2c_desktop.services.demo import build_demo
        except ImportError:
            # Before the demo generator existed: the tests' small book.
            sys.path.insert(0, str(ROOT))
            from tests.services._view_book import build_view_book

            build_view_book(database)
            return "arossi", "egermain"
        summary = build_demo(database, customers=customers, items=items, today=TODAY)
        manager = next(
            (u[0] for u in summary.users if u[2] == "credit_manager"),
            summary.users[0][0],
        )
        return summary.users[0][0], manager
    finally:
        database.dispose()


def wait_for(signal: SignalInstance, timeout_ms: int = 60_000) -> None:
    """Run the event loop until `signal` fires (a tool, not a test)."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    signal.connect(loop.quit)
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()


def settle(runner: object, timeout_ms: int = 60_000) -> None:
    """Run the event loop until no background task is left."""
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    timer = QTimer()
    timer.setInterval(50)
    timer.timeout.connect(lambda: None if runner.busy else loop.quit())  # type: ignore[attr-defined]
    timer.start()
    QTimer.singleShot(timeout_ms, loop.quit)
    loop.exec()
    timer.stop()
    # Let the last results paint.
    QTimer.singleShot(200, loop.quit)
    loop.exec()


def main() -> int:
    """Build the book, open the app, save the PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", default="fr", choices=["fr", "en"])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--items", type=int, default=40000)
    args = parser.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="o2c-shots-"))
    os.environ.update(
        QT_QPA_PLATFORM="offscreen",
        O2C_CONFIG_DIR=str(tmp / "config"),
        O2C_DATA_DIR=str(tmp / "data"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        PYQTGRAPH_QT_LIB="PySide6",
    )
    os.environ.pop("O2C_DATABASE_URL", None)
    os.environ.pop("O2C_USER", None)
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage
    from PySide6.QtWidgets import QApplication

    from o2c_desktop.app import build_window, make_backend
    from o2c_desktop.settings import Settings

    url = f"sqlite:///{(tmp / 'data' / 'o2c.sqlite3').as_posix()}"
    login, manager = build_book(url, args.customers, args.items)
    app = QApplication(["o2c-desktop"])
    app.setFont(app.font().__class__("DejaVu Sans", 9))
    settings = Settings(database_url="", user_login=login, language=args.language)
    window = build_window(
        app, settings, backend=make_backend(lambda: TODAY), store_path=tmp / "w.ini"
    )
    window.resize(1440, 900)
    window.show()
    window.connect_database(settings)
    wait_for(window.workspace_changed)
    settle(window.runner)
    args.out.mkdir(parents=True, exist_ok=True)
    status = 0
    for page, name in SHOTS.items():
        window.show_page(page)
        settle(window.runner)
        path = args.out / name
        image = window.grab().toImage()
        # 256 colours are plenty for a UI and halve the file; no dithering.
        image = image.convertToFormat(
            QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
        )
        image.save(str(path), None, 0)  # 0: smallest file, still lossless
        size = path.stat().st_size
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"{shown}: {size:,} bytes")
        if size > MAX_BYTES:
            print(f"  larger than {MAX_BYTES:,} bytes")
            status = 1
    dashboards = window.pages()["dashboards"]
    window.show_page("dashboards")
    for key in DASHBOARDS:
        if key == "customer":
            dashboards.customer.setText("Denis")  # type: ignore[attr-defined]
        dashboards.show_dashboard(key)  # type: ignore[attr-defined]
        if key == "customer":
            dashboards.customer.returnPressed.emit()  # type: ignore[attr-defined]
        settle(window.runner)
        status |= save(window, args.out / f"dash-{key}.png")
        dashboards.customer.clear()  # type: ignore[attr-defined]
    scenarios = window.pages()["scenarios"]
    window.show_page("scenarios")
    settle(window.runner)
    scenarios.tabs.setCurrentIndex(1)  # type: ignore[attr-defined]
    settle(window.runner)
    status |= save(window, args.out / "scenario-editor.png")
    # Show a real change: the step after the due date becomes a phone call.
    steps = scenarios.step_model  # type: ignore[attr-defined]
    steps.setData(steps.index(2, 2), "phone_call", Qt.ItemDataRole.EditRole)
    steps.setData(steps.index(2, 4), "manual", Qt.ItemDataRole.EditRole)
    steps.setData(steps.index(2, 3), "", Qt.ItemDataRole.EditRole)
    settle(window.runner)
    scenarios.run_what_if()  # type: ignore[attr-defined]
    scenarios.tabs.setCurrentIndex(3)  # type: ignore[attr-defined]
    settle(window.runner, 120_000)
    status |= save(window, args.out / "scenario-what-if.png")
    scenarios.tabs.setCurrentIndex(4)  # type: ignore[attr-defined]
    scenarios.template_list.setCurrentRow(2)  # type: ignore[attr-defined]
    settle(window.runner)
    scenarios._preview_timer.timeout.emit()  # type: ignore[attr-defined]
    settle(window.runner)
    status |= save(window, args.out / "scenario-templates.png")
    status |= team_shot(window, settings, manager, login, args.out / "team.png")
    window.close()
    return status


def team_shot(
    window: Any, settings: Settings, manager: str, collector: str, path: Path
) -> int:
    """The team page as the credit manager sees it, a collector going on leave."""
    import dataclasses

    window.connect_database(dataclasses.replace(settings, user_login=manager))
    wait_for(window.workspace_changed)
    settle(window.runner)
    team = window.pages()["team"]
    window.show_page("team")
    team.select_user(collector)
    replacement = next(
        (
            m.login
            for m in team.team.members
            if m.active and m.login not in (collector, manager)
        ),
        manager,
    )
    team.set_absence_form(
        TODAY + dt.timedelta(days=7),
        TODAY + dt.timedelta(days=21),
        replacement_login=replacement,
        reassign=True,
    )
    settle(window.runner)
    return save(window, path)


def save(window: object, path: Path) -> int:
    """Save one PNG of the window; 1 when it is too large."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = window.grab().toImage()  # type: ignore[attr-defined]
    image = image.convertToFormat(
        QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
    )
    image.save(str(path), None, 0)
    size = path.stat().st_size
    shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
    print(f"{shown}: {size:,} bytes")
    if size > MAX_BYTES:
        print(f"  larger than {MAX_BYTES:,} bytes")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
