"""`o2c import` refuses columns mapped by a guess unless told (#14 §6)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from o2c_desktop.cli import main
from o2c_desktop.services.importing import save_profile
from o2c_desktop.sync.importing.fields import Field
from o2c_desktop.sync.importing.parse import parse_file, with_overrides
from tests.sync import import_builders as b

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def test_guessed_columns_are_refused_with_one_line_naming_them(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = b.guessed_columns(tmp_path / "guess.csv")
    for extra in ([], ["--dry-run"]):  # the dry run predicts the refusal
        assert main(["import", str(path), *extra]) == 1
        err = capsys.readouterr().err
        assert err == (
            "o2c: error: guess.csv: not imported, these columns are mapped by a "
            "guess: 5 'Bidule' -> issue_date (values). Check them, then pass "
            "--accept-mapping, or save a mapping profile in the app and use "
            "--profile NAME.\n"
        )
    assert main(["import", str(path), "--json"]) == 1
    capsys.readouterr()
    assert main(["import", str(path), "--dry-run", "--json"]) == 1


def test_accept_mapping_imports_the_guess(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = b.guessed_columns(tmp_path / "guess.csv")
    assert main(["import", str(path), "--accept-mapping", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] is True
    assert out["result"]["items_created"] == 2


def test_a_saved_profile_answers_the_question(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = b.guessed_columns(tmp_path / "guess.csv")
    # What the user does in the app: "Bidule" is not the issue date; save.
    checked = with_overrides(parse_file(path), {4: Field.IGNORE})
    save_profile("bidule", checked)
    assert main(["import", str(path), "--profile", "bidule", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["result"]["customers_created"] == 2
