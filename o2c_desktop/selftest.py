"""``o2c-desktop --self-test``: does this installation work, end to end?

Run on the built bundle by `tools/dev.py package` and CI, and from source by
tests/test_selftest.py, so a missing data file or hidden import fails there
rather than on a collector's desk. Every step uses a fresh embedded database
in a temporary folder (the user's own book is never opened) and prints its
time; the first failure stops the test with a one-line reason and exit 1.
"""

from __future__ import annotations

import gettext
import importlib
import os
import pkgutil
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from o2c_desktop import __version__, app, i18n
from o2c_desktop import settings as settings_mod
from o2c_desktop.engine import pdf
from o2c_desktop.models.db import current_revision, head_revision, open_database
from o2c_desktop.ui.main_window import install_qt_translations

if TYPE_CHECKING:
    from collections.abc import Iterator

    from PySide6.QtWidgets import QApplication

    from o2c_desktop.models.db import Database

# Big enough to give letters, statements and an agenda; built in well under 1 s.
DEMO_CUSTOMERS = 12
DEMO_ITEMS = 400
WINDOW_TIMEOUT_MS = 60_000


class SelfTestError(Exception):
    """A step found the installation broken; the message says what."""


@dataclass
class Steps:
    """Runs the named steps in order, printing each one's time."""

    out: TextIO
    times: dict[str, float] = field(default_factory=dict)

    @contextmanager
    def step(self, name: str) -> Iterator[None]:
        """Time the block as step `name`; print `ok` and the time, or the failure."""
        started = time.perf_counter()
        try:
            yield
        except Exception as exc:
            self.out.write(f"  {name:<44} FAILED\n")
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
            raise SelfTestError(
                f"{name}: {type(exc).__name__}{': ' + reason if reason else ''}"
            ) from exc
        seconds = time.perf_counter() - started
        self.times[name] = seconds
        self.out.write(f"  {name:<44} {seconds:6.2f} s\n")
        self.out.flush()


def import_everything() -> int:
    """Import every module of the app (a hidden import missing from a bundle)."""
    import o2c_desktop

    count = 0
    for info in pkgutil.walk_packages(o2c_desktop.__path__, "o2c_desktop."):
        # Alembic runs migrations/ itself; importing env.py outside it fails.
        if ".migrations" not in info.name:
            importlib.import_module(info.name)
            count += 1
    if count < 50:
        raise SelfTestError(f"only {count} modules of the app found")
    return count


def check_translations(qt_app: QApplication) -> list[str]:
    """Load every compiled catalogue, and Qt's own strings, and check they translate.

    Returns:
        The languages that have a catalogue.
    """
    found = sorted(
        p.parent.parent.name
        for p in i18n.LOCALE_DIR.glob(f"*/LC_MESSAGES/{i18n.DOMAIN}.mo")
    )
    if not found:
        raise SelfTestError(f"no compiled catalogue in {i18n.LOCALE_DIR}")
    for language in found:
        translator = gettext.translation(
            i18n.DOMAIN, localedir=i18n.LOCALE_DIR, languages=[language]
        )
        # Every language but the source one has its own word for this.
        if translator.gettext("Settings") == "Settings" and language != "en":
            raise SelfTestError(f"the {language} catalogue translates nothing")
        i18n.set_language(language)
        if language != "en" and not install_qt_translations(qt_app, language):
            raise SelfTestError(f"Qt's own {language} strings (qtbase_{language}.qm)")
    i18n.set_language("en")
    install_qt_translations(qt_app, "en")
    return found


def _first_letter_action(db: Database) -> str:
    from sqlalchemy import select

    from o2c_desktop.engine.types import ActionType
    from o2c_desktop.models.actions import Action

    with db.session() as s:
        found = s.scalar(
            select(Action.id)
            .where(
                Action.action_type.in_(
                    (ActionType.LETTER, ActionType.REGISTERED_LETTER)
                )
            )
            .order_by(Action.planned_date.desc())
            .limit(1)
        )
    if found is None:
        raise SelfTestError("the demo book has no letter to render")
    return str(found)


def _first_customer(db: Database) -> str:
    from sqlalchemy import select

    from o2c_desktop.models.customers import Customer

    with db.session() as s:
        reference = s.scalar(select(Customer.reference).order_by(Customer.id).limit(1))
    if reference is None:
        raise SelfTestError("the demo book has no customer")
    return reference


def _check_pdf(data: bytes, what: str) -> None:
    if not data.startswith(b"%PDF-") or len(data) < 1000:
        raise SelfTestError(f"the {what} is not a PDF ({len(data)} bytes)")


def _show_window(
    qt_app: QApplication, settings: settings_mod.Settings, tmp: Path
) -> None:
    """Start the window the way the app does and wait for its agenda."""
    from PySide6.QtCore import QEventLoop, QTimer

    window = app.build_window(qt_app, settings, store_path=tmp / "window.ini")
    loop = QEventLoop()
    failures: list[str] = []

    def fail(message: str) -> None:
        failures.append(message)
        loop.quit()

    agenda = window.pages()["agenda"]
    agenda.loaded.connect(loop.quit)  # type: ignore[attr-defined]  # AgendaView.loaded
    window.database_failed.connect(fail)
    timer = QTimer()
    timer.setSingleShot(True)
    timer.timeout.connect(lambda: fail("no agenda after 60 s"))
    timer.start(WINDOW_TIMEOUT_MS)
    window.show()
    window.connect_database(settings)
    loop.exec()
    timer.stop()
    window.close()
    if failures:
        raise SelfTestError(failures[0])


def run(out: TextIO) -> dict[str, float]:
    """Run every step; return each one's time in seconds.

    Raises:
        SelfTestError: a step failed; the message names it and why.
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    steps = Steps(out)
    with steps.step("import every module"):
        import_everything()
    from PySide6.QtWidgets import QApplication

    qt_app = QApplication.instance() or QApplication(["o2c-desktop", "--self-test"])
    assert isinstance(qt_app, QApplication)
    # Windows may still hold the book's file a moment after the last close.
    with tempfile.TemporaryDirectory(
        prefix="o2c-self-test-", ignore_cleanup_errors=True
    ) as folder:
        tmp = Path(folder)
        url = f"sqlite:///{(tmp / 'self-test.sqlite3').as_posix()}"
        with steps.step("create and upgrade a new database"):
            db = open_database(url)
            if current_revision(db.engine) != head_revision():
                raise SelfTestError("the new database is not at the head revision")
        try:
            _book_steps(steps, db, tmp)
        finally:
            db.dispose()
        with steps.step("load every translation"):
            check_translations(qt_app)
        settings = settings_mod.Settings(database_url=url, user_login="fgay")
        with steps.step("open the main window on the book"):
            _show_window(qt_app, settings, tmp)
    return steps.times


def _book_steps(steps: Steps, db: Database, tmp: Path) -> None:
    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.demo import build_demo
    from o2c_desktop.services.documents import DocumentService
    from o2c_desktop.services.dunning import DunningService

    today = app.local_today()
    with steps.step(f"build a demo book ({DEMO_CUSTOMERS} customers)"):
        build_demo(db, customers=DEMO_CUSTOMERS, items=DEMO_ITEMS, today=today)
    ctx = AppContext(db=db, user_login="fgay", settings=settings_mod.Settings())
    with steps.step("dunning run, dry run"):
        result = DunningService(ctx).run(today, dry_run=True)
        if not result.dry_run:
            raise SelfTestError("the dry run was not a dry run")
    documents = DocumentService(ctx)
    with steps.step("render a letter (PDF)"):
        rendered = documents.render_action(_first_letter_action(db), store=False)
        if not rendered.documents:
            raise SelfTestError("the letter action rendered no document")
        _check_pdf(rendered.documents[0].content, "letter")
        if not pdf.fonts().embedded:
            raise SelfTestError("no TrueType font for the documents")
    with steps.step("render a statement (PDF)"):
        statement = documents.statement(_first_customer(db), today=today)
        _check_pdf(statement.content, "statement")
        (tmp / statement.filename).write_bytes(statement.content)


def main(out: TextIO | None = None) -> int:
    """Run the self-test, print the steps and the verdict; return the exit code.

    A windowed program on Windows has no standard output: the report then
    goes to the file named by O2C_SELF_TEST_OUT (tools/dev.py sets it).
    """
    if out is None and sys.stdout is None:
        target = os.environ.get("O2C_SELF_TEST_OUT", os.devnull)
        with open(target, "w", encoding="utf-8") as report:
            return main(report)
    stream = out or sys.stdout
    started = time.perf_counter()
    stream.write(f"o2c-desktop {__version__} self-test\n")
    try:
        run(stream)
    except SelfTestError as exc:
        stream.write(f"o2c-desktop: self-test failed: {exc}\n")
        stream.flush()
        return 1
    stream.write(
        f"o2c-desktop {__version__} self-test passed in "
        f"{time.perf_counter() - started:.2f} s\n"
    )
    stream.flush()
    return 0
