"""Two collectors edit the same case: the second is told, nothing is lost (both DBs)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest

from o2c_desktop.engine.cases import DisputeOutcome, LitigationStage
from o2c_desktop.engine.types import CaseStatus
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.cases import CasesService
from tests.services._cases_book import Book, build_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

D = Decimal
DAY = dt.date(2026, 3, 9)


@pytest.fixture
def book(db: Database) -> Book:
    return build_book(db)


def test_two_collectors_reschedule_the_same_plan(book: Book) -> None:
    alice, bob = book.service("alice"), book.service("bob")
    plan = alice.open_payment_plan(
        book.monnier, today=DAY, count=3, first_due=dt.date(2026, 4, 1)
    ).case
    # Both open the plan on their screen (same version).
    seen_by_alice = alice.case(plan.id)
    seen_by_bob = bob.case(plan.id)
    alice.edit_schedule(
        plan.id,
        today=DAY,
        version=seen_by_alice.version,
        count=2,
        first_due=dt.date(2026, 4, 15),
    )
    with pytest.raises(
        ConflictError,
        match=rf"Payment plan N°{plan.number} was changed by alice at \d{{4}}-",
    ):
        bob.edit_schedule(
            plan.id,
            today=DAY,
            version=seen_by_bob.version,
            count=6,
            first_due=dt.date(2026, 4, 1),
        )
    # Alice's schedule is there, Bob's is not.
    kept = bob.case(plan.id)
    assert kept.plan_version == 2
    assert [i.amount for i in kept.instalments] == [D("750.00"), D("750.00")]
    # Bob reloads and tries again: it works.
    again = bob.edit_schedule(
        plan.id, today=DAY, version=kept.version, count=6, first_due=dt.date(2026, 4, 1)
    ).case
    assert again.plan_version == 3
    assert again.updated_by == "bob"


def test_two_collectors_resolve_the_same_dispute(book: Book) -> None:
    alice, bob = book.service("alice"), book.service("bob")
    dispute = alice.open_dispute(
        book.denis, today=DAY, items=[book.g1], reason="price"
    ).case
    alice.resolve_dispute(
        dispute.id,
        today=DAY,
        outcome=DisputeOutcome.JUSTIFIED,
        version=dispute.version,
    )
    with pytest.raises(ConflictError, match="changed by alice"):
        bob.resolve_dispute(
            dispute.id,
            today=DAY,
            outcome=DisputeOutcome.UNJUSTIFIED,
            version=dispute.version,
        )
    after = alice.case(dispute.id)
    assert (after.status, after.resolution) == (CaseStatus.RESOLVED, "justified")
    assert book.item(book.g1).disputed


def test_a_colleague_saving_during_the_write_is_caught_by_the_database(
    book: Book, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice, bob = book.service("alice"), book.service("bob")
    case = alice.open_litigation(
        book.denis, today=DAY, stage=LitigationStage.FORMAL_NOTICE
    ).case
    load = CasesService._load
    raced: list[bool] = []

    def load_then_bob_saves(self: CasesService, *args: Any, **kwargs: Any) -> Any:
        row = load(self, *args, **kwargs)
        if self is alice and not raced:
            # Bob saves between Alice's read and her write (no version quoted).
            raced.append(True)
            bob.update_litigation(case.id, today=DAY, partner="Cabinet Morel")
        return row

    monkeypatch.setattr(CasesService, "_load", load_then_bob_saves)
    with pytest.raises(ConflictError, match=r"Litigation N°\d+ was changed by bob"):
        alice.update_litigation(case.id, today=DAY, partner="Agence Recouvre")
    monkeypatch.undo()
    after = alice.case(case.id)
    assert after.partner == "Cabinet Morel"
    assert after.updated_by == "bob"
    # Alice's timeline entry was rolled back with her change.
    partners = [a.comment for a in alice.case_actions(case.id)]
    assert not any("Agence Recouvre" in (c or "") for c in partners)
