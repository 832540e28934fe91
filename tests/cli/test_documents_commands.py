"""`o2c documents` and `o2c mail`: headless documents and mail set-up."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from o2c_desktop import secrets, settings
from o2c_desktop.cli import main
from o2c_desktop.models.db import open_database
from o2c_desktop.sync import mail
from tests.services.test_documents_service import _book
from tests.sync.smtp_server import Inbox, certificates, free_port, start

if TYPE_CHECKING:
    from pathlib import Path

    import pytest


def _database(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, object]:
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "alex")
    db = open_database(url)
    try:
        return dict(_book(db, language="fr"))
    finally:
        db.dispose()


def test_statement_and_render_write_pdfs(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    ids = _database(tmp_path, monkeypatch)
    out = tmp_path / "out"
    args = ["documents", "statement", "--customer", "18981", "--lang", "fr"]
    assert main([*args, "--out", str(out), "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["kind"] == "statement"
    assert (out / data["file"].rsplit("/", 1)[-1]).read_bytes().startswith(b"%PDF")

    assert (
        main(
            [
                "documents",
                "render",
                "--action",
                str(ids["notice"]),
                "--out",
                str(out),
                "--date",
                "2024-09-30",
                "--json",
            ]
        )
        == 0
    )
    data = json.loads(capsys.readouterr().out)
    names = sorted(p.rsplit("/", 1)[-1].split("_2")[0] for p in data["files"])
    assert names == [
        "letter_18981",
        "releve_compte_18981",
        "releve_interet_penalite_18981",
    ]

    # An email action also gets its .eml, ready to open in Outlook.
    assert (
        main(
            [
                "documents",
                "render",
                "--action",
                str(ids["email"]),
                "--out",
                str(out),
                "--json",
            ]
        )
        == 0
    )
    files = json.loads(capsys.readouterr().out)["files"]
    assert any(f.endswith(".eml") for f in files)

    assert main(["documents", "statement", "--customer", "nope"]) == 1
    assert capsys.readouterr().err.strip() == "o2c: error: Customer nope not found"


def test_statement_file_names_follow_the_language(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    _database(tmp_path, monkeypatch)
    names = {}
    for lang in ("fr", "en", "de", "es"):
        for extra in ([], ["--interest"]):
            args = ["documents", "statement", "--customer", "18981", "--lang", lang]
            out = tmp_path / "out"
            assert main([*args, *extra, "--out", str(out), "--json"]) == 0
            file = json.loads(capsys.readouterr().out)["file"].rsplit("/", 1)[-1]
            assert (out / file).read_bytes().startswith(b"%PDF")
            names[lang, bool(extra)] = file.split("_2")[0]
    assert names == {
        ("fr", False): "releve_compte_18981",
        ("fr", True): "releve_interet_penalite_18981",
        ("en", False): "statement_18981",
        ("en", True): "interest_statement_18981",
        ("de", False): "Kontoauszug_18981",
        ("de", True): "Zinsabrechnung_18981",
        ("es", False): "extracto_cuenta_18981",
        ("es", True): "liquidacion_intereses_18981",
    }


def test_mail_configure_and_test_against_a_local_server(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    box = Inbox()
    controller, port = start(box, user="relances", password="s3cret")
    try:
        monkeypatch.setattr("sys.stdin", __import__("io").StringIO("s3cret\n"))
        assert (
            main(
                [
                    "mail",
                    "configure",
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(port),
                    "--security",
                    "none",
                    "--user",
                    "relances",
                    "--from",
                    "relances@acme.example",
                    "--password-stdin",
                ]
            )
            == 0
        )
        capsys.readouterr()
        assert "s3cret" not in settings.settings_path().read_text(encoding="utf-8")
        assert secrets.get_password(mail.smtp_key("127.0.0.1", "relances")) == "s3cret"
        assert main(["mail", "test", "--to", "me@acme.example", "--json"]) == 0
        data = json.loads(capsys.readouterr().out)
        assert "answers 250" in data["server"]
        assert box.messages[0].recipients == ["me@acme.example"]
    finally:
        controller.stop()
    current = settings.load()
    settings.save(current.__class__(**{**current.__dict__, "smtp_port": free_port()}))
    assert main(["mail", "test"]) == 1
    assert "cannot reach the mail server" in capsys.readouterr().err


def test_mail_configure_with_the_company_ca_for_starttls(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    certs = certificates(tmp_path)
    box = Inbox()
    controller, port = start(box, tls=certs.server)
    configure = ["mail", "configure", "--host", "127.0.0.1", "--port", str(port)]
    configure += ["--from", "relances@acme.example"]
    try:
        assert main(configure) == 0
        assert main(["mail", "test"]) == 1
        assert "is not trusted" in capsys.readouterr().err
        assert main([*configure, "--ca-file", str(certs.ca_file)]) == 0
        capsys.readouterr()
        assert settings.load().smtp_ca_file == str(certs.ca_file.resolve())
        assert main(["mail", "test", "--to", "me@acme.example", "--json"]) == 0
        assert "(starttls) answers 250" in json.loads(capsys.readouterr().out)["server"]
    finally:
        controller.stop()
    assert box.messages[0].tls is not None
    assert main([*configure, "--ca-file", str(tmp_path / "nope.pem")]) == 1
    assert "cannot use the CA file" in capsys.readouterr().err
    assert settings.load().smtp_ca_file == str(certs.ca_file.resolve())


def test_a_stored_template_that_could_hang_is_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # Issue 14 §5: written into the database, not through the editor's check.
    from sqlalchemy import update

    from o2c_desktop.models import Template

    ids = _database(tmp_path, monkeypatch)
    db = open_database(f"sqlite:///{tmp_path / 'o2c.sqlite3'}")
    try:
        with db.session("alex") as s:
            s.execute(
                update(Template)
                .where(Template.code == "FORMAL_NOTICE")
                .values(body="Madame,\n{{ 9**(9**9) }}")
            )
    finally:
        db.dispose()
    args = ["documents", "render", "--action", str(ids["notice"])]
    assert main([*args, "--out", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err
    assert err == "o2c: error: body, line 2: the power operator ** is not allowed\n"
    assert not (tmp_path / "out").exists()
