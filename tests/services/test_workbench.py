"""The collector's workbench service, on SQLite and PostgreSQL.

The book is `_view_book` (Tuesday 24 March 2026) plus contacts, a colleague
away whom Alex Rossi replaces, and a recently broken promise for Denis.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemKind,
    Role,
)
from o2c_desktop.engine.workbench import (
    ActionEdit,
    AlertKind,
    CallOutcome,
    ContactDraft,
    ItemQuery,
    ItemSort,
    NewAction,
    PerformRequest,
    SettingsDraft,
    TimelineTab,
)
from o2c_desktop.models import (
    Action,
    ActionItem,
    AuditEntry,
    Case,
    Contact,
    Customer,
    Item,
    Notification,
    User,
)
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.outbox import AutomaticAction, Outcome
from o2c_desktop.services.workbench import AccessError, WorkbenchService
from tests.services._view_book import TODAY, build_view_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database
    from o2c_desktop.services.outbox import Entry

TOMORROW = TODAY + dt.timedelta(days=1)


def _book(db: Database) -> dict[str, int]:
    ids = build_view_book(db)
    with db.session("setup") as s:
        rossi = s.scalars(select(User).where(User.login == "arossi")).one()
        away = User(
            login="jboucher",
            full_name="Julien Boucher",
            role=Role.COLLECTOR,
            absent_from=TODAY - dt.timedelta(days=3),
            absent_until=TODAY + dt.timedelta(days=10),
            replacement_id=rossi.id,
        )
        s.add(away)
        s.flush()
        s.add_all(
            [
                Contact(
                    customer_id=ids["denis"],
                    name="Alexandria Lesage",
                    phone="0206428900",
                    email="alphonse15@example.com",
                    is_dunning_contact=True,
                ),
                Contact(customer_id=ids["denis"], name="Michèle Hamel"),
                Action(
                    customer_id=ids["monnier"],
                    action_type=ActionType.PHONE_CALL,
                    planned_date=TODAY,
                    assigned_to_id=away.id,
                ),
                Case(
                    number="P-1",
                    customer_id=ids["denis"],
                    kind=CaseKind.PROMISE,
                    status=CaseStatus.BROKEN,
                    opened_on=TODAY - dt.timedelta(days=40),
                    closed_on=TODAY - dt.timedelta(days=3),
                ),
            ]
        )
        call = s.scalars(
            select(Action).where(
                Action.customer_id == ids["denis"],
                Action.action_type == ActionType.PHONE_CALL,
                Action.assigned_to_id == rossi.id,
            )
        ).one()
        for item in s.scalars(select(Item).where(Item.customer_id == ids["denis"])):
            s.add(
                ActionItem(
                    action_id=call.id,
                    item_id=item.id,
                    amount=item.remaining,
                    days_late=item.days_late(TODAY),
                )
            )
        ids["away"] = away.id
    return ids


def _service(db: Database, login: str = "arossi", **kw: object) -> WorkbenchService:
    return WorkbenchService(AppContext(db=db, user_login=login), **kw)  # type: ignore[arg-type]


@pytest.fixture
def book(db: Database) -> dict[str, int]:
    return _book(db)


def test_the_agenda_has_a_column_per_working_day_late_actions_on_top(
    db: Database, book: dict[str, int]
) -> None:
    agenda = _service(db).agenda(TODAY)
    assert [c.day for c in agenda.columns] == [TODAY, TOMORROW]
    today, tomorrow = agenda.columns
    assert [line.customer_name for line in today.lines] == [
        "Denis S.A.S.",
        "Monnier et Fils",
    ]
    late = today.lines[0]
    assert late.is_late(TODAY)
    assert late.action_type == ActionType.PHONE_CALL
    assert late.days_late == 200
    # Countback: 120 days without sales, 300.00 in period 4 (150 days), then
    # the 2,000.00 invoice of period 7 is still wholly unpaid: 240 days.
    assert late.dso == 240
    assert late.amount == Decimal("2300.00")
    assert [a.kind for a in late.alerts] == [AlertKind.BROKEN_PROMISE]
    assert (today.waiting, today.done, today.completion) == (2, 0, 0)
    assert (tomorrow.lines, tomorrow.completion) == ((), 100)
    assert [line.action_type for line in agenda.to_confirm] == [ActionType.LETTER]
    assert agenda.owner is not None
    assert agenda.owner.login == "arossi"


def test_a_friday_agenda_skips_the_weekend(db: Database, book: dict[str, int]) -> None:
    friday = dt.date(2026, 3, 27)
    agenda = _service(db).agenda(friday)
    assert [c.day for c in agenda.columns] == [friday, dt.date(2026, 3, 30)]


def test_filter_by_action_type(db: Database, book: dict[str, int]) -> None:
    agenda = _service(db).agenda(TODAY, action_type=ActionType.EMAIL)
    assert [line.action_type for line in agenda.lines] == [ActionType.EMAIL]
    assert agenda.columns[0].waiting == 1


def test_who_may_open_whose_agenda(db: Database, book: dict[str, int]) -> None:
    rossi = _service(db)
    owners = rossi.agenda_owners(TODAY)
    assert [u.login for u in owners] == ["arossi", "jboucher"]
    covered = rossi.agenda(TODAY, owner_id=book["away"])
    assert [line.customer_name for line in covered.lines] == ["Monnier et Fils"]
    manager = _service(db, "egermain")
    germain_id = manager.agenda_owners(TODAY)[0].id
    with pytest.raises(AccessError):
        rossi.agenda(TODAY, owner_id=germain_id)
    assert {u.login for u in manager.agenda_owners(TODAY)} == {
        "arossi",
        "egermain",
        "jboucher",
    }
    assert manager.agenda(TODAY, owner_id=owners[0].id).columns[0].waiting == 2
    # Back from leave: no longer covered.
    assert [u.login for u in rossi.agenda_owners(TODAY + dt.timedelta(days=30))] == [
        "arossi"
    ]


def test_performing_a_call_with_a_promise_and_a_notification(
    db: Database, book: dict[str, int]
) -> None:
    service = _service(db)
    line = service.agenda(TODAY).columns[0].lines[0]
    detail = service.action_detail(line.action_id, TODAY)
    assert detail.contact is not None
    assert detail.contact.name == "Alexandria Lesage"
    assert [i.number for i in detail.items] == ["F-9", "F-10"]
    result = service.perform_action(
        PerformRequest(
            action_id=detail.id,
            version=detail.version,
            outcome=CallOutcome.PROMISE,
            comment="Virement promis",
            contact_id=detail.contact.id,
            promise_amount=Decimal("1000.00"),
            promise_date=TODAY + dt.timedelta(days=7),
            notify=("egermain",),
        ),
        TODAY,
    )
    assert result.action.status == ActionStatus.DONE
    assert result.action.performer == "Alex Rossi"
    assert result.notified == 1
    assert result.case_number
    with db.session() as s:
        promise = s.scalars(select(Case).where(Case.kind == CaseKind.PROMISE)).all()
        assert [(c.number, c.status) for c in promise if c.number != "P-1"] == [
            (result.case_number, CaseStatus.OPEN)
        ]
        note = s.scalars(select(Notification)).one()
        assert note.action_id == uuid.UUID(detail.id)
        assert "Alex Rossi" in note.message
        suspended = s.scalars(
            select(Item.suspended_until).where(Item.customer_id == book["denis"])
        ).all()
        assert all(d is not None and d > TODAY for d in suspended)
    agenda = service.agenda(TODAY)
    today = agenda.columns[0]
    assert (today.waiting, today.done, today.completion) == (1, 1, 50)
    assert agenda.next_after(detail.id) == today.lines[0]


def test_a_stale_version_is_refused_and_nothing_is_written(
    db: Database, book: dict[str, int]
) -> None:
    service = _service(db)
    line = service.agenda(TODAY).columns[0].lines[0]
    detail = service.action_detail(line.action_id, TODAY)
    _service(db, "egermain").perform_action(
        PerformRequest(detail.id, detail.version, CallOutcome.NOT_REACHED), TODAY
    )
    with pytest.raises(ConflictError, match="changed by egermain"):
        service.perform_action(
            PerformRequest(
                detail.id,
                detail.version,
                CallOutcome.PROMISE,
                promise_date=TODAY + dt.timedelta(days=3),
            ),
            TODAY,
        )
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Case)) == 1  # P-1 only


def test_a_failing_outcome_rolls_the_whole_perform_back(
    db: Database, book: dict[str, int]
) -> None:
    service = _service(db)
    line = service.agenda(TODAY).columns[0].lines[1]  # Monnier's email
    detail = service.action_detail(line.action_id, TODAY)
    with pytest.raises(ValueError, match="unknown dispute reason"):
        service.perform_action(
            PerformRequest(
                detail.id, detail.version, CallOutcome.DISPUTE, dispute_reason="nope"
            ),
            TODAY,
        )
    assert service.action_detail(detail.id, TODAY).status == ActionStatus.PENDING
    with pytest.raises(ValueError, match="date"):
        service.perform_action(
            PerformRequest(detail.id, detail.version, CallOutcome.PROMISE), TODAY
        )


def test_dispute_and_call_back_outcomes(db: Database, book: dict[str, int]) -> None:
    service = _service(db)
    late_call, email = service.agenda(TODAY).columns[0].lines
    call = service.action_detail(late_call.action_id, TODAY)
    result = service.perform_action(
        PerformRequest(
            call.id,
            call.version,
            CallOutcome.DISPUTE,
            dispute_reason="price",
            dispute_item_ids=(call.items[0].id,),
        ),
        TODAY,
    )
    with db.session() as s:
        dispute = s.scalars(select(Case).where(Case.kind == CaseKind.DISPUTE)).one()
        assert dispute.number == result.case_number
        assert s.get(Item, call.items[0].id).disputed  # type: ignore[union-attr]
        assert not s.get(Item, call.items[1].id).disputed  # type: ignore[union-attr]
    detail = service.action_detail(email.action_id, TODAY)
    later = service.perform_action(
        PerformRequest(
            detail.id,
            detail.version,
            CallOutcome.CALL_BACK,
            call_back_on=TOMORROW,
        ),
        TODAY,
    )
    assert later.call_back_id is not None
    callback = service.action_detail(later.call_back_id, TODAY)
    assert (callback.action_type, callback.planned_date) == (
        ActionType.PHONE_CALL,
        TOMORROW,
    )
    tomorrow = service.agenda(TODAY).columns[1]
    assert [line.action_id for line in tomorrow.lines] == [later.call_back_id]


def test_the_client_card_amounts(db: Database, book: dict[str, int]) -> None:
    card = _service(db).customer_card(book["monnier"], TODAY)
    assert (card.reference, card.name, card.portfolio) == (
        "18981",
        "Monnier et Fils",
        "35 - Grand Compte",
    )
    amounts = card.amounts
    assert amounts.total == Decimal("1734.56")
    assert amounts.partial_payments == Decimal("0.00")
    assert amounts.unapplied == Decimal("100.00")
    assert amounts.outstanding == Decimal("1634.56")
    assert amounts.outstanding == (
        amounts.total - amounts.partial_payments - amounts.unapplied
    )
    assert amounts.overdue == Decimal("1234.56")
    assert amounts.days_late == 40
    assert amounts.open_items == 4
    assert card.settings.scenario is not None
    assert card.settings.scenario.name == "Standard"
    assert not card.settings.editable
    assert card.reliability.made == 0
    denis = _service(db).customer_card(book["denis"], TODAY)
    assert denis.dunning_contact is not None
    assert denis.dunning_contact.name == "Alexandria Lesage"
    assert denis.reliability.made == 1
    assert denis.amounts.dso == 240


def test_the_items_table_sorts_filters_and_pages(
    db: Database, book: dict[str, int]
) -> None:
    service = _service(db)
    page = service.items(
        book["monnier"],
        ItemQuery(limit=2, sort=ItemSort.REMAINING, descending=True),
        TODAY,
    )
    assert page.total == 5
    assert [r.number for r in page.rows] == ["F-1", "F-3"]
    second = service.items(
        book["monnier"],
        ItemQuery(offset=2, limit=2, sort=ItemSort.REMAINING, descending=True),
        TODAY,
    )
    assert [r.number for r in second.rows] == ["F-2", "F-0"]
    late = service.items(
        book["monnier"],
        ItemQuery(sort=ItemSort.DAYS_LATE, descending=True, open_only=True),
        TODAY,
    )
    assert late.total == 4  # the closed F-0 is left out
    assert [r.number for r in late.rows][:2] == ["F-1", "F-2"]
    assert late.rows[0].days_late == 40
    invoices = service.items(
        book["monnier"],
        ItemQuery(kinds=(ItemKind.INVOICE,), open_only=True, search="f-"),
        TODAY,
    )
    assert sorted(r.number for r in invoices.rows) == ["F-1", "F-2", "F-3"]
    credit = service.items(book["monnier"], ItemQuery(search="av"), TODAY)
    assert [r.number for r in credit.rows] == ["AV-1"]
    overdue = service.items(book["monnier"], ItemQuery(overdue_only=True), TODAY)
    assert {r.number for r in overdue.rows} == {"F-1", "F-2"}


def test_the_timeline_is_newest_first_in_three_tabs(
    db: Database, book: dict[str, int]
) -> None:
    service = _service(db)
    call, _email = service.agenda(TODAY).columns[0].lines
    detail = service.action_detail(call.action_id, TODAY)
    service.perform_action(
        PerformRequest(
            detail.id,
            detail.version,
            CallOutcome.DISPUTE,
            dispute_reason="price",
            contact_id=detail.contact.id if detail.contact else None,
        ),
        TODAY,
    )
    dunning = service.timeline(book["denis"], TimelineTab.DUNNING)
    assert dunning.counts[TimelineTab.DISPUTES] == 1
    days = [e.day for e in dunning.entries]
    assert days == sorted(days, reverse=True)
    performed = next(e for e in dunning.entries if e.action_id == detail.id)
    assert performed.by == "Alex Rossi"
    assert performed.status == ActionStatus.DONE
    assert performed.items == ("F-10", "F-9")
    assert performed.item_count == 2
    assert performed.contact == "Alexandria Lesage"
    disputes = service.timeline(book["denis"], TimelineTab.DISPUTES)
    assert disputes.total == 1
    assert disputes.entries[0].case_number
    # The entity works in French: "Enregistrement du litige" (#6).
    assert "Enregistrement du litige" in (disputes.entries[0].subject or "")
    assert service.timeline(book["denis"], TimelineTab.LITIGATION).entries == ()


def test_dunning_settings_are_for_credit_managers_and_audited(
    db: Database, book: dict[str, int]
) -> None:
    collector = _service(db)
    card = collector.customer_card(book["monnier"], TODAY)
    draft = SettingsDraft(
        customer_id=book["monnier"],
        version=card.settings.version,
        start=dt.date(2017, 4, 26),
        dunning_type="Suivi standard",
        scenario_id=None,
        collector_id=book["away"],
    )
    with pytest.raises(AccessError):
        collector.update_dunning_settings(draft)
    manager = _service(db, "egermain")
    assert manager.customer_card(book["monnier"], TODAY).settings.editable
    saved = manager.update_dunning_settings(draft)
    assert saved.collector is not None
    assert saved.collector.name == "Julien Boucher"
    assert saved.start == dt.date(2017, 4, 26)
    with pytest.raises(ConflictError, match="changed by egermain"):
        manager.update_dunning_settings(draft)  # the version seen is stale now
    with db.session() as s:
        audit = s.scalars(
            select(AuditEntry).where(
                AuditEntry.table_name == "customer",
                AuditEntry.record_id == str(book["monnier"]),
                AuditEntry.operation == "update",
            )
        ).all()
        assert audit[-1].user_login == "egermain"
        assert audit[-1].changes["dunning_type"] == [None, "Suivi standard"]
        assert s.get(Customer, book["monnier"]).scenario_id is None  # type: ignore[union-attr]


def test_contacts_add_edit_mark_and_delete(db: Database, book: dict[str, int]) -> None:
    service = _service(db)
    added = service.save_contact(
        book["denis"],
        ContactDraft(
            name="Luc Carpentier",
            phone="04 98 89 41 96",
            language="fr",
            is_dunning_contact=True,
        ),
    )
    card = service.customer_card(book["denis"], TODAY)
    marked = [c.name for c in card.contacts if c.is_dunning_contact]
    assert marked == ["Luc Carpentier"]
    edited = service.save_contact(
        book["denis"],
        ContactDraft(
            id=added.id, version=added.version, name="Luc Carpentier", role="AP"
        ),
    )
    assert edited.role == "AP"
    with pytest.raises(ConflictError):
        service.save_contact(
            book["denis"],
            ContactDraft(id=added.id, version=added.version, name="Old"),
        )
    service.delete_contact(edited.id, edited.version)
    names = [c.name for c in service.customer_card(book["denis"], TODAY).contacts]
    assert "Luc Carpentier" not in names
    with pytest.raises(ValueError, match="name"):
        service.save_contact(book["denis"], ContactDraft(name=" "))


def test_new_and_edited_actions(db: Database, book: dict[str, int]) -> None:
    service = _service(db)
    created = service.create_action(
        NewAction(
            customer_id=book["allain"],
            action_type=ActionType.MEETING,
            planned_date=TOMORROW,
            subject="Rendez-vous comptable",
        ),
        TODAY,
    )
    assert created.assignee == "Alex Rossi"  # no collector: the creator
    assert created.status == ActionStatus.PENDING
    moved = service.edit_action(
        _edit(created.id, created.version, TODAY + dt.timedelta(days=6)), TODAY
    )
    assert moved.planned_date == TODAY + dt.timedelta(days=6)
    with pytest.raises(ConflictError):
        service.edit_action(_edit(created.id, created.version, TOMORROW), TODAY)


def _edit(action_id: str, version: int, day: dt.date) -> ActionEdit:
    return ActionEdit(action_id, version, day, None, None, "Rendez-vous")


class _Performer:
    """Sends the first action it gets and fails the others."""

    def __init__(self) -> None:
        self.got: list[AutomaticAction] = []

    def perform(self, entry: Entry) -> Outcome:
        self.got.append(AutomaticAction.of(entry))
        first = len(self.got) == 1
        return Outcome(first, "sent" if first else "no address")


def test_confirming_automatic_actions(db: Database, book: dict[str, int]) -> None:
    with db.session("setup") as s:
        letter = s.scalars(
            select(Action).where(Action.status == ActionStatus.TO_CONFIRM)
        ).one()
        s.add(
            Action(
                customer_id=book["denis"],
                action_type=ActionType.EMAIL,
                planned_date=TODAY,
                status=ActionStatus.TO_CONFIRM,
                automatic=True,
                assigned_to_id=letter.assigned_to_id,
                amount=Decimal("10.00"),
                currency="EUR",
            )
        )
    assert _service(db).confirm_actions(["0" * 32], TODAY).confirmed == 0
    performer = _Performer()
    service = _service(db, performer=performer)
    waiting = service.agenda(TODAY).to_confirm
    assert len(waiting) == 2
    preview = service.preview_confirm([w.action_id for w in waiting], TODAY)
    assert preview.count == 2
    # the letter of the book carries no amount; the email added above does
    assert preview.totals == {"EUR": Decimal("10.00")}
    result = service.confirm_actions([w.action_id for w in waiting], TODAY)
    assert result.confirmed == 1
    assert [why for _n, why in result.failed] == ["no address"]
    after = service.agenda(TODAY)
    assert after.to_confirm == ()
    failed = [
        line
        for line in after.lines
        if AlertKind.FAILED_SEND in {a.kind for a in line.alerts}
    ]
    assert len(failed) == 1
    assert failed[0].alerts[0].detail == "no address"
