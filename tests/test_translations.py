"""Each language ships complete, and its compiled catalogue matches its source."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from o2c_desktop import i18n

if TYPE_CHECKING:
    from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent


def _tool() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "i18n_tool", ROOT / "tools" / "i18n.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("i18n_tool", module)
    spec.loader.exec_module(module)
    return module


def test_every_message_has_a_french_translation_and_the_mo_is_up_to_date() -> None:
    problems = _tool().problems()
    assert problems == [], (
        "Run `python tools/i18n.py update`, translate the new messages in "
        "resources/locale/fr/LC_MESSAGES/o2c_desktop.po, then "
        "`python tools/i18n.py compile`:\n" + "\n".join(problems)
    )


def test_the_installed_catalogue_is_the_one_in_resources() -> None:
    assert i18n.LOCALE_DIR.resolve() == (ROOT / "resources" / "locale").resolve()
    assert "fr" in _tool().languages()


@pytest.mark.parametrize(
    ("language", "expected"),
    [("fr", "Tableaux de bord"), ("en", "Dashboards")],
)
def test_the_ui_speaks_the_chosen_language(language: str, expected: str) -> None:
    try:
        i18n.set_language(language)
        assert i18n._("Dashboards") == expected
        assert i18n.ngettext("{n} day", "{n} days", 2).format(n=2) == (
            "2 jours" if language == "fr" else "2 days"
        )
    finally:
        i18n.set_language("en")
