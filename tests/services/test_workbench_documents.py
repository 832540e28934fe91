"""Files of the workbench, on SQLite and PostgreSQL: an invoice's own PDF, and
an email saved as .eml then recorded as sent from the collector's mail client.

The book is the one of `test_workbench` (Tuesday 24 March 2026).
"""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.types import ActionStatus, ActionType, DocumentKind, ItemKind
from o2c_desktop.engine.workbench import ItemQuery
from o2c_desktop.models import Action, AuditEntry, Contact, Document, Item
from o2c_desktop.models.audit import record_key
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.sync.mail import MailConfig
from tests.services._view_book import TODAY
from tests.services.test_workbench import _book, _service

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database
    from o2c_desktop.services.workbench import WorkbenchService

MAIL = MailConfig(mail_from="relances@vallet.example")


def small_pdf(path: Path, text: str = "Facture F-1") -> Path:
    """A real one-page PDF at `path`."""
    from reportlab.pdfgen.canvas import Canvas

    canvas = Canvas(str(path))
    canvas.drawString(72, 720, text)
    canvas.save()
    return path


@pytest.fixture
def book(db: Database) -> dict[str, int]:
    return _book(db)


def _set_pdf(db: Database, number: str, pdf_path: str | None) -> int:
    with db.session("setup") as s:
        item = s.scalars(select(Item).where(Item.number == number)).one()
        item.pdf_path = pdf_path
        return item.id


def test_an_items_pdf_is_found_and_a_missing_one_is_named(
    db: Database, book: dict[str, int], tmp_path: Path
) -> None:
    pdf = small_pdf(tmp_path / "F-1.pdf")
    with_pdf = _set_pdf(db, "F-1", str(pdf))
    missing = _set_pdf(db, "F-2", str(tmp_path / "gone" / "F-2.pdf"))
    online = _set_pdf(db, "F-3", "https://erp.example/invoices/F-3.pdf")
    without = _set_pdf(db, "F-9", None)
    service = _service(db)
    page = service.items(book["monnier"], _invoices(), TODAY)
    assert {r.number: r.has_pdf for r in page.rows} == {
        "F-0": False,
        "F-1": True,
        "F-2": True,
        "F-3": True,
    }
    assert service.item_pdf(with_pdf) == str(pdf)
    assert service.item_pdf(online) == "https://erp.example/invoices/F-3.pdf"
    with pytest.raises(LookupError, match=r"PDF of item F-2 is missing: .*F-2\.pdf"):
        service.item_pdf(missing)
    with pytest.raises(LookupError, match="Item F-9 has no PDF"):
        service.item_pdf(without)
    with pytest.raises(LookupError):
        service.item_pdf(987654)


def _invoices() -> ItemQuery:
    return ItemQuery(kinds=(ItemKind.INVOICE,))


def _email_service(db: Database) -> tuple[WorkbenchService, str]:
    """Alex Rossi's service with mail settings, and Monnier's email action."""
    with db.session("setup") as s:
        action = s.scalars(
            select(Action).where(Action.action_type == ActionType.EMAIL)
        ).first()
        assert action is not None
        s.add(
            Contact(
                customer_id=action.customer_id,
                name="Paul Monnier",
                email="compta@monnier.example",
                is_dunning_contact=True,
            )
        )
        pending = s.scalars(
            select(Action).where(
                Action.action_type == ActionType.EMAIL,
                Action.status == ActionStatus.PENDING,
            )
        ).one()
        action_id = str(pending.id)
    ctx = AppContext(db=db, user_login="arossi")
    service = _service(db, documents=DocumentService(ctx, MAIL), mail=MAIL)
    return service, action_id


def test_an_email_saved_as_eml_is_recorded_as_sent_from_the_mail_client(
    db: Database, book: dict[str, int], tmp_path: Path
) -> None:
    service, action_id = _email_service(db)
    draft = service.prepare_message(action_id, TODAY)
    target = tmp_path / "relance.eml"
    saved = service.send_message(
        action_id, draft.subject, draft.body, [], TODAY, as_eml_path=str(target)
    )
    # Saved: a draft the mail client opens, and the action still waits.
    assert (saved.sent, saved.eml_path) == (False, str(target))
    assert b"X-Unsent: 1" in target.read_bytes()
    assert saved.action is not None
    assert saved.action.status is ActionStatus.PENDING
    stale = saved.action.version - 1
    with pytest.raises(ConflictError):
        service.mark_eml_sent(action_id, str(target), TODAY, version=stale)

    done = service.mark_eml_sent(
        action_id, str(target), TODAY, version=saved.action.version
    )
    assert done.sent
    assert done.action is not None
    assert done.action.status is ActionStatus.DONE
    assert done.action.performer == "Alex Rossi"
    with db.session() as s:
        action = s.get(Action, uuid.UUID(action_id))
        assert action is not None
        assert action.status is ActionStatus.DONE
        assert action.reason is None
        log = json.loads(action.send_log or "{}")
        assert log["saved_as_eml"] == str(target)
        assert f"saved as .eml to {target}" in log["server_answer"]
        assert log["recipients"] == ["compta@monnier.example"]
        assert log["message_id"].startswith("<")
        kept = s.scalars(
            select(Document).where(
                Document.action_id == action.id,
                Document.kind == DocumentKind.EMAIL,
            )
        ).one()
        assert kept.mime_type == "message/rfc822"
        assert kept.content == target.read_bytes()
        audit = s.scalars(
            select(AuditEntry).where(
                AuditEntry.table_name == "action",
                AuditEntry.record_id == record_key(action.id),
                AuditEntry.operation == "update",
            )
        ).all()
        assert {a.user_login for a in audit} == {"arossi"}
        changed = {k: v for a in audit for k, v in a.changes.items()}
        assert changed["status"] == ["pending", "done"]
        assert "saved as .eml" in changed["send_log"][1]
    # Done once: a second click (or a colleague's) is refused.
    with pytest.raises(ValueError, match="already done"):
        service.mark_eml_sent(action_id, str(target), TODAY)


def test_a_moved_eml_is_still_recorded_as_sent_without_the_file(
    db: Database, book: dict[str, int], tmp_path: Path
) -> None:
    service, action_id = _email_service(db)
    done = service.mark_eml_sent(action_id, str(tmp_path / "moved.eml"), TODAY)
    assert done.action is not None
    assert done.action.status is ActionStatus.DONE
    with db.session() as s:
        action = s.get(Action, uuid.UUID(action_id))
        assert action is not None
        assert json.loads(action.send_log or "{}")["saved_as_eml"].endswith("moved.eml")
        assert not [d for d in action.documents if d.kind is DocumentKind.EMAIL]


def test_only_an_email_can_be_recorded_as_sent_from_the_mail_client(
    db: Database, book: dict[str, int], tmp_path: Path
) -> None:
    service, _email = _email_service(db)
    call = service.agenda(TODAY).columns[0].lines[0]
    assert call.action_type is ActionType.PHONE_CALL
    with pytest.raises(ValueError, match="not an email"):
        service.mark_eml_sent(call.action_id, str(tmp_path / "x.eml"), TODAY)


def test_an_eml_that_cannot_be_written_says_where(
    db: Database, book: dict[str, int], tmp_path: Path
) -> None:
    service, action_id = _email_service(db)
    draft = service.prepare_message(action_id, TODAY)
    folder = tmp_path / "no" / "such" / "folder" / "x.eml"
    with pytest.raises(ValueError, match=r"could not be saved to .*x\.eml"):
        service.send_message(
            action_id, draft.subject, draft.body, [], TODAY, as_eml_path=str(folder)
        )
