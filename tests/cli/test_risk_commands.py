"""`o2c sync risk`, `o2c risk lookup`, `o2c risk alerts` against the fake providers."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.cli import main
from o2c_desktop.models import Customer
from o2c_desktop.models.db import open_database
from tests.risk.fixtures import bodacc, sirene
from tests.services._book import standard_book

if TYPE_CHECKING:
    from pathlib import Path

    from tests.risk.fakes import FakeBodacc, FakeSirene

__all__ = ["bodacc", "sirene"]  # fixtures


@pytest.fixture
def env(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    bodacc: FakeBodacc,
    sirene: FakeSirene,
) -> str:
    url = f"sqlite:///{tmp_path / 'book.sqlite3'}"
    db = open_database(url)  # at head: migration 0012 included
    try:
        ids = standard_book(db, {"EXEMPLE BATIMENT": [("F1", "2026-05-01", "1000.00")]})
        with db.session() as s:
            s.get_one(
                Customer, ids.customers["EXEMPLE BATIMENT"]
            ).legal_id = "123456782"
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "claire")
    monkeypatch.setenv("O2C_BODACC_URL", bodacc.base)
    monkeypatch.setenv("O2C_SIRENE_URL", sirene.url)
    return url


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


def test_sync_then_alerts_then_lookup(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["sync", "risk", "--date", "2026-07-22", "--since", "2026-07-20"]
    code, out, err = _run([*argv, "--json"], capsys)
    assert (code, err) == (0, "")
    by_source = {s["source"]: s for s in json.loads(out)["sources"]}
    assert (by_source["bodacc"]["matched"], by_source["bodacc"]["cases_opened"]) == (
        1,
        1,
    )
    # The registry says the company ceased on 2026-10-15 (the contract's unit).
    assert by_source["sirene"]["reports"] == 1
    code, out, _err = _run(["risk", "alerts", "--json"], capsys)
    kinds = sorted(a["kind"] for a in json.loads(out)["alerts"])
    assert (code, kinds) == (0, ["ceased", "insolvency"])
    # A re-run adds nothing.
    code, out, _err = _run([*argv, "--json"], capsys)
    assert [s["alerts"] for s in json.loads(out)["sources"]] == [0, 0]
    code, out, _err = _run(["risk", "lookup", "123 456 782"], capsys)
    assert code == 0
    assert out.splitlines()[:3] == [
        "SIREN 123456782",
        "  bodacc: EXEMPLE BATIMENT (active) 69001 Lyon",
        "  sirene: EXEMPLE BATIMENT (ceased 2026-10-15) 1 RUE DE L'EXEMPLE 69001 LYON",
    ]
    assert out.splitlines()[-1] == "  customers: C00000"


def test_a_provider_down_fails_in_one_line(
    env: str, bodacc: FakeBodacc, capsys: pytest.CaptureFixture[str]
) -> None:
    bodacc.fail_next = [(503, {"message": "maintenance"}, {})] * 2
    code, _out, err = _run(
        ["sync", "risk", "--source", "bodacc", "--date", "2026-07-22"], capsys
    )
    assert code == 1
    assert err.count("\n") == 1
    assert err.startswith("o2c: error: bodacc [")
    assert err.endswith(
        "the provider failed (HTTP 503) (cursor kept: the next sync resumes)\n"
    )


def test_wrong_sirens_and_an_unconfigured_source(
    env: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert _run(["risk", "lookup", "123456789"], capsys) == (
        1,
        "",
        "o2c: error: invalid SIREN '123456789': 9 digits with a Luhn check digit\n",
    )
    code, _out, err = _run(["sync", "risk", "--source", "creditsafe"], capsys)
    assert (code, err) == (
        1,
        "o2c: error: creditsafe is not configured (set O2C_CREDITSAFE_USER and its "
        "password in the keyring)\n",
    )
