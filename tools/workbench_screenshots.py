#!/usr/bin/env python3
"""Screenshots of the collector's workbench on the demo book (issue 7).

    python tools/workbench_screenshots.py [--out docs/screenshots] [--language fr]

Saves agenda.png, client-card.png, timeline.png, perform-action.png and
message-editor.png. Uses
the helpers of `tools/screenshots.py` (demo book on a fixed day, offscreen,
throw-away settings). Until the lead merges them into the catalogue, the
workbench's French texts are read from ``/tmp/fr_workbench.json`` when it
exists (``--messages`` names another file).
"""

from __future__ import annotations

import argparse
import gettext
import importlib.util
import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
MAX_BYTES = 300_000


class _Extra(gettext.NullTranslations):
    """Messages not yet in the catalogue (a fallback of the French one)."""

    def __init__(self, messages: dict[str, str]) -> None:
        super().__init__()
        self.messages = messages

    def gettext(self, message: str) -> str:
        return self.messages.get(message, message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.gettext(singular if n == 1 else plural)


def _shots_module() -> Any:
    spec = importlib.util.spec_from_file_location(
        "screenshots", ROOT / "tools" / "screenshots.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def save(widget: Any, path: Path) -> int:
    """Grab `widget` into an indexed PNG; return its size in bytes."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QImage

    image = widget.grab().toImage()
    image = image.convertToFormat(
        QImage.Format.Format_Indexed8, Qt.ImageConversionFlag.ThresholdDither
    )
    image.save(str(path), "PNG", 0)
    size = path.stat().st_size
    print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: {size:,}")
    return size


def main() -> int:
    """Build the book, open the workbench, save the PNGs."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--language", default="fr", choices=["fr", "en"])
    parser.add_argument("--customers", type=int, default=2000)
    parser.add_argument("--items", type=int, default=40000)
    parser.add_argument("--messages", type=Path, default=Path("/tmp/fr_workbench.json"))
    args = parser.parse_args()
    shots = _shots_module()

    tmp = Path(tempfile.mkdtemp(prefix="o2c-wb-shots-"))
    os.environ.update(
        QT_QPA_PLATFORM="offscreen",
        O2C_CONFIG_DIR=str(tmp / "config"),
        O2C_DATA_DIR=str(tmp / "data"),
        PYTHON_KEYRING_BACKEND="keyrings.alt.file.PlaintextKeyring",
        PYQTGRAPH_QT_LIB="PySide6",
    )
    os.environ.pop("O2C_DATABASE_URL", None)
    os.environ.pop("O2C_USER", None)
    from PySide6.QtWidgets import QApplication

    from o2c_desktop import i18n
    from o2c_desktop.app import build_window, make_backend
    from o2c_desktop.engine.workbench import CallOutcome
    from o2c_desktop.settings import Settings

    if args.language == "fr":
        extra: dict[str, str] = {}
        for path in (args.messages, Path("/tmp/fr_workbench2.json")):
            if path.exists():
                extra.update(json.loads(path.read_text(encoding="utf-8")))
        i18n.translator("fr").add_fallback(_Extra(extra))
    url = f"sqlite:///{(tmp / 'data' / 'o2c.sqlite3').as_posix()}"
    login, _manager = shots.build_book(url, args.customers, args.items)
    app = QApplication(["o2c-desktop"])
    app.setFont(app.font().__class__("DejaVu Sans", 9))
    settings = Settings(database_url="", user_login=login, language=args.language)
    window = build_window(
        app, settings, backend=make_backend(lambda: shots.TODAY), store_path=tmp / "w"
    )
    window.resize(1440, 900)
    window.show()
    window.connect_database(settings)
    shots.wait_for(window.workspace_changed)
    shots.settle(window.runner)
    args.out.mkdir(parents=True, exist_ok=True)
    sizes = []
    agenda: Any = window.pages()["agenda"]
    window.show_page("agenda")
    shots.settle(window.runner)
    sizes.append(save(window, args.out / "agenda.png"))

    lines = agenda.agenda.lines if agenda.agenda else ()
    if not lines:
        print("The agenda is empty: no card to show")
        return 1
    # The seed's card: a customer with contacts, a dispute and payments.
    line = next((x for x in lines if x.customer_reference == "118436"), lines[0])
    agenda.open_customer(line.customer_id)
    shots.settle(window.runner)
    sizes.append(save(window, args.out / "client-card.png"))
    card = agenda.card
    card.timeline_tabs.setCurrentIndex(0)
    shots.settle(window.runner)
    sizes.append(save(card.timeline_box, args.out / "timeline.png"))

    call = next((x for x in lines if x.action_type.value == "phone_call"), lines[0])
    agenda.open_line(call)
    shots.settle(window.runner)
    dialog = card.action_dialog
    if dialog is None:
        print("The action dialog did not open")
        return 1
    dialog.show_page(1)
    dialog.comment_edit.setPlainText("Le client s'engage à régler par virement.")
    dialog.set_outcome(CallOutcome.PROMISE)
    dialog.resize(720, 560)
    shots.settle(window.runner)
    sizes.append(save(dialog, args.out / "perform-action.png"))
    dialog.show_page(2)
    dialog.user_search.setText("a")
    shots.settle(window.runner)
    sizes.append(save(dialog, args.out / "notify.png"))
    dialog.reject()
    shots.settle(window.runner)

    # The message editor of a letter or email action (issue 7).
    letter = next(
        (
            x
            for x in lines
            if x.action_type.value in ("registered_letter", "letter", "email")
        ),
        None,
    )
    if letter is not None:
        agenda.open_line(letter)
        shots.settle(window.runner)
        dialog = card.action_dialog
        if dialog is None:
            print("The action dialog did not open")
            return 1
        dialog.resize(1000, 760)
        dialog.open_message_editor()
        shots.settle(window.runner)
        shots.settle(window.runner)
        sizes.append(save(dialog, args.out / "message-editor.png"))
        dialog.reject()
    window.close()
    return 1 if any(s > MAX_BYTES for s in sizes) else 0


if __name__ == "__main__":
    sys.exit(main())
