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


def test_the_dry_run_explains_each_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.sync import import_corpus as corpus

    path = corpus.build(corpus.sap_like(), tmp_path).path
    assert main(["import", str(path), "--dry-run"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert (
        lines[1]
        == "    A '' -> ignore (1.00): values: counts rows (an index); e.g. 0, 1, 2"
    )
    assert lines[3] == (
        "    C 'customer_number' -> customer_ref (0.97): header is a known name of "
        "the field; values: whole numbers, 9 distinct; e.g. 4100023936, "
        "4100023000, 4100023234"
    )
    assert lines[12] == (
        "    L 'clearing_date' -> settled_date (0.95): header is a known name of the "
        "field; values: empty"
    )
    assert main(["import", str(path), "--dry-run", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["rows"], out["settled"], out["errors"]) == (60, 0, 0)
    posting = out["mapping"][6]
    assert posting == {
        "column": "G",
        "header": "posting_date",
        "field": "issue_date",
        "confidence": 0.8,
        "reason": "words",
        "why": "header words name the field; values: dates",
        "samples": ["2026-02-17", "2026-01-05", "2025-11-18"],
        "uncertain": False,
    }
    assert out["result"]["items_created"] == 60


def test_profiles_are_listed_and_found_again_by_their_headers(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["import", "profiles"]) == 0
    assert capsys.readouterr().out == "no mapping profiles yet (save one in the app)\n"
    path = b.guessed_columns(tmp_path / "guess.csv")
    save_profile("bidule", with_overrides(parse_file(path), {4: Field.IGNORE}))
    assert main(["import", "profiles", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"profiles": ["bidule"]}
    # The same source again, no --profile: the correction is remembered.
    again = b.guessed_columns(tmp_path / "next-month.csv")
    assert main(["import", str(again), "--dry-run"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    assert first == (
        f"{again}: profile 'bidule' (detected), header on row 1, 2 items, 0 with errors"
    )
