"""`o2c promise|dispute|cases|litigation`: the headless case work of a collector."""

from __future__ import annotations

import json
import zipfile
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.cli import main
from o2c_desktop.models.db import open_database
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path


@pytest.fixture
def book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Book]:
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "alice")
    db = open_database(url)
    try:
        yield build_book(db)
    finally:
        db.dispose()


def test_a_promise_then_the_nightly_review_from_the_command_line(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["promise", "add", "--customer", "18981", "--amount", "1500,00"]
    argv += ["--date", "2026-03-20", "--items", "23854826,47997206"]
    assert main([*argv, "--today", "2026-03-09", "--json"]) == 0
    promise = json.loads(capsys.readouterr().out)
    assert promise["kind"] == "promise"
    assert promise["amount"] == "1500.00"
    assert [i["number"] for i in promise["items"]] == ["23854826", "47997206"]

    assert main(["cases", "review", "--date", "2026-03-24", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["promises_broken"] == [promise["number"]]
    assert main(["cases", "review", "--date", "2026-03-24"]) == 0
    assert "nothing to do" in capsys.readouterr().out


def test_a_dispute_from_the_command_line_and_its_one_line_errors(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["dispute", "open", "--customer", "18981", "--items", "23854826"]
    assert (
        main([*argv, "--reason", "price", "--owner", "sam", "--today", "2026-03-16"])
        == 0
    )
    out = capsys.readouterr().out
    assert "(price): 1000.00 EUR on 23854826; answer from sam due 2026-03-31" in out
    assert book.item(book.f1).disputed

    assert main([*argv[:-1], "99999", "--reason", "price"]) == 1
    assert capsys.readouterr().err.strip() == (
        "o2c: error: no open item 99999 for this customer"
    )
    assert main([*argv, "--reason", "colour"]) == 1
    assert "unknown dispute reason 'colour'" in capsys.readouterr().err


def test_the_litigation_file_is_written_where_asked(
    book: Book, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import datetime as dt

    from o2c_desktop.engine.cases import LitigationStage

    case = (
        book.service("alice")
        .open_litigation(
            book.monnier, today=dt.date(2026, 3, 9), stage=LitigationStage.LAWYER
        )
        .case
    )
    out = tmp_path / "dossier.zip"
    argv = ["litigation", "export", "--case", case.number, "--out", str(out)]
    assert main([*argv, "--date", "2026-04-15", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["file"] == str(out)
    with zipfile.ZipFile(out) as zf:
        assert f"litigation_{case.number}.xlsx" in zf.namelist()
    assert main(["litigation", "export", "--case", "777", "--out", str(out)]) == 1
    assert "Litigation N°777 not found" in capsys.readouterr().err


def test_a_promise_confirmed_by_letter_then_by_email_from_the_command_line(
    book: Book, capsys: pytest.CaptureFixture[str]
) -> None:
    import dataclasses

    from o2c_desktop import settings
    from tests.sync.smtp_server import Inbox, attachments, start

    argv = ["promise", "add", "--customer", "18981", "--date", "2026-03-20"]
    assert main([*argv, "--today", "2026-03-09", "--json"]) == 0
    number = json.loads(capsys.readouterr().out)["number"]

    confirm = ["cases", "confirm", "--case", number, "--date", "2026-03-09"]
    assert main([*confirm, "--json"]) == 0
    letter = json.loads(capsys.readouterr().out)
    assert (letter["channel"], letter["sent"], letter["case"]) == (
        "letter",
        True,
        number,
    )
    [pdf] = letter["documents"]
    assert pdf.startswith("letter_18981_")

    # Mail is not set up yet: the email waits in the agenda, exit code 1.
    assert main([*confirm, "--email"]) == 1
    assert (
        "not sent, pending in the agenda: Email not sent: mail server not configured"
        in (capsys.readouterr().err)
    )

    box = Inbox()
    controller, port = start(box)
    try:
        current = settings.load()
        settings.save(
            dataclasses.replace(
                current,
                smtp_host="127.0.0.1",
                smtp_port=port,
                smtp_security="none",
                mail_from="relances@vallet.example",
            )
        )
        assert main([*confirm, "--email"]) == 0
        assert "confirmation emailed (letter_18981_" in capsys.readouterr().out
    finally:
        controller.stop()
    [got] = box.messages
    assert got.recipients == ["compta@monnier.example"]
    [(name, content)] = list(attachments(got.message))
    assert name.startswith("letter_18981_")
    assert content.startswith(b"%PDF")

    assert main(["cases", "confirm", "--case", "999"]) == 1
    assert "N°999 not found" in capsys.readouterr().err
