"""`o2c dunning` and `o2c scenario` from the command line, on an SQLite file."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import update

from o2c_desktop.cli import main
from o2c_desktop.models import Customer
from o2c_desktop.models.db import open_database
from tests.services._book import many_customers
from tests.sync.smtp_server import Inbox, start

if TYPE_CHECKING:
    from pathlib import Path


@pytest.fixture
def book_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    db = open_database(url)
    try:
        many_customers(db, 3)
    finally:
        db.dispose()
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "night-job")
    return url


def test_dry_run_then_run_then_plan(
    book_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["dunning", "run", "--date", "2026-03-01", "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert (dry["actions"], dry["items"], dry["amounts"]) == (3, 6, {"EUR": "601.50"})
    assert main(["dunning", "run", "--date", "2026-03-01"]) == 0
    assert "created 3 actions" in capsys.readouterr().out
    assert main(["dunning", "run", "--date", "2026-02-28"]) == 1
    assert "go back in time" in capsys.readouterr().err
    assert (
        main(["dunning", "plan", "--from", "2026-03-02", "--days", "10", "--json"]) == 0
    )
    days = json.loads(capsys.readouterr().out)["days"]
    assert [(p["date"], p["actions"]) for p in days if p["actions"]] == [
        ("2026-03-06", 3),
        ("2026-03-11", 3),
    ]


def test_scenario_export_import_round_trip(
    book_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    target = tmp_path / "standard.json"
    assert main(["scenario", "export", "Standard", str(target)]) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    assert [s["offset_days"] for s in data["steps"]] == [-15, 0, 5, 10, 20, 30, 45, 75]
    data["name"] = "Standard copy"
    data["steps"] = data["steps"][1:]
    copy = tmp_path / "copy.json"
    copy.write_text(json.dumps(data), encoding="utf-8")
    assert main(["scenario", "import", str(copy)]) == 0
    assert main(["scenario", "export", "Standard copy", str(tmp_path / "b.json")]) == 0
    again = json.loads((tmp_path / "b.json").read_text(encoding="utf-8"))
    assert again == data
    capsys.readouterr()
    # Used steps can't be dropped: a run recorded them on items.
    assert main(["dunning", "run", "--date", "2026-03-01"]) == 0
    data = json.loads(target.read_text(encoding="utf-8"))
    data["steps"] = [s for s in data["steps"] if s["offset_days"] != 0]
    target.write_text(json.dumps(data), encoding="utf-8")
    assert main(["scenario", "import", str(target)]) == 1
    assert "already used" in capsys.readouterr().err
    assert main(["scenario", "export", "Nope", str(target)]) == 1


def test_the_nightly_command_sends_its_reminders_once_mail_is_configured(
    book_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    db = open_database(book_url)
    try:
        with db.session() as s:
            s.execute(update(Customer).values(email="ap@customer.example"))
    finally:
        db.dispose()
    box = Inbox()
    controller, port = start(box)
    try:
        configure = ["mail", "configure", "--host", "127.0.0.1", "--port", str(port)]
        configure += ["--security", "none", "--from", "relances@acme.example"]
        assert main(configure) == 0
        assert main(["dunning", "run", "--date", "2026-03-01", "--json"]) == 0
    finally:
        controller.stop()
    out = capsys.readouterr().out
    result = json.loads(out[out.index("{\n") :])
    assert (result["sent"], result["failed"], result["to_confirm"]) == (3, 0, 0)
    assert len(box.messages) == 3
    assert {m.recipients[0] for m in box.messages} == {"ap@customer.example"}
