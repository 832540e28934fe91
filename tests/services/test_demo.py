"""The demo book: realistic, consistent and reproducible, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections import Counter
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from o2c_desktop import settings as settings_mod
from o2c_desktop.cli import main
from o2c_desktop.engine.cases import LitigationStage
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    ItemKind,
    ItemStatus,
    Role,
    StepMode,
)
from o2c_desktop.models import (
    Action,
    ActionItem,
    BalanceSnapshot,
    Case,
    CaseItem,
    Contact,
    Customer,
    Entity,
    Item,
    PlanInstalment,
    Portfolio,
    Scenario,
    SnapshotLine,
    Step,
    User,
)
from o2c_desktop.services.demo import DemoError, DemoSummary, build_demo
from tests.conftest import _build

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database

TODAY = dt.date(2026, 3, 16)
SMALL = {"customers": 50, "items": 1000, "seed": 7, "today": TODAY}


@pytest.fixture
def book(db: Database) -> DemoSummary:
    return build_demo(db, **SMALL)  # type: ignore[arg-type]


def test_counts_match_what_was_asked_and_what_is_stored(
    db: Database, book: DemoSummary
) -> None:
    assert book.counts["customer"] == 50
    assert book.counts["item"] == 1000
    with db.session() as s:
        for model in (Customer, Item, Contact, Case, Action, SnapshotLine):
            stored = s.scalar(select(func.count()).select_from(model))
            assert stored == book.counts[model.__tablename__], model
        roles = Counter(s.scalars(select(User.role)))
        labels = sorted(p.label for p in s.scalars(select(Portfolio)))
        entities = {e.code: (e.country, e.language) for e in s.scalars(select(Entity))}
    assert roles == {Role.COLLECTOR: 5, Role.CREDIT_MANAGER: 1, Role.ADMIN: 1}
    assert labels == ["20 - PME", "35 - Grand Compte", "40 - Export"]
    assert entities == {"FR01": ("FR", "fr"), "ES01": ("ES", "es")}
    assert 0 < book.open_items < 1000


def test_the_seed_customer_opens_the_book(db: Database, book: DemoSummary) -> None:
    with db.session() as s:
        monnier = s.scalars(select(Customer).where(Customer.reference == "18981")).one()
        assert monnier.name == "Monnier et Fils"
        assert monnier.portfolio is not None
        assert monnier.portfolio.label == "35 - Grand Compte"
        assert monnier.collector is not None
        assert monnier.collector.full_name == "Alex Rossi"
        names = {c.name for c in monnier.contacts}
    assert "Claire Courtois" in names


def test_every_customer_has_a_portfolio_a_collector_and_one_dunning_contact(
    db: Database, book: DemoSummary
) -> None:
    with db.session() as s:
        customers = s.scalars(select(Customer)).all()
        collectors = set(s.scalars(select(User.id).where(User.role == Role.COLLECTOR)))
        dunning = Counter(
            s.scalars(select(Contact.customer_id).where(Contact.is_dunning_contact))
        )
        for c in customers:
            assert c.portfolio_id is not None
            assert c.collector_id in collectors
            assert c.scenario_id is not None
            assert c.entity.currency == "EUR"
            assert dunning[c.id] == 1, c.reference
        langs = {c.language for c in customers}
        assert any(c.on_hold and c.hold_reason for c in customers)
    assert "fr" in langs


def test_one_collector_is_away_and_replaced_by_another(
    db: Database, book: DemoSummary
) -> None:
    with db.session() as s:
        away = [u for u in s.scalars(select(User)) if u.is_absent(TODAY)]
        assert len(away) == 1
        assert away[0].replacement is not None
        assert away[0].replacement.role == Role.COLLECTOR
        start, end = away[0].absent_from, away[0].absent_until
        assert start is not None
        assert end is not None
        agenda = s.scalars(
            select(Action).where(
                Action.status.in_([ActionStatus.PENDING, ActionStatus.TO_CONFIRM])
            )
        ).all()
    assert agenda
    during = [a for a in agenda if start <= a.planned_date <= end]
    assert during  # the absence covers days with work planned
    assert all(a.assigned_to_id != away[0].id for a in during)


def test_items_are_consistent_with_their_payment_history(
    db: Database, book: DemoSummary
) -> None:
    with db.session() as s:
        items = s.scalars(select(Item)).all()
    kinds = Counter(i.kind for i in items)
    assert set(kinds) == set(ItemKind)
    assert kinds[ItemKind.INVOICE] > 0.7 * len(items)
    oldest = TODAY - dt.timedelta(days=3 * 366)
    partial = 0
    for i in items:
        assert isinstance(i.amount, Decimal)
        assert i.amount == i.amount.quantize(Decimal("0.01"))
        assert oldest <= i.issue_date <= TODAY
        assert i.due_date >= i.issue_date
        if i.status == ItemStatus.CLOSED:
            assert i.closed_on is not None
            assert i.closed_on >= i.issue_date
            assert i.remaining == 0
        else:
            assert i.closed_on is None
            assert i.remaining != 0
        if i.kind == ItemKind.INVOICE:
            assert 0 <= i.remaining <= i.amount
            partial += 0 < i.remaining < i.amount
        if i.kind in (ItemKind.CREDIT_NOTE, ItemKind.PAYMENT, ItemKind.UNAPPLIED_CASH):
            assert i.amount < 0
            assert i.amount <= i.remaining <= 0
    assert partial > 0
    paid_late = [
        i
        for i in items
        if i.kind == ItemKind.INVOICE and i.closed_on and i.closed_on > i.due_date
    ]
    paid_on_time = [
        i
        for i in items
        if i.kind == ItemKind.INVOICE and i.closed_on and i.closed_on <= i.due_date
    ]
    assert paid_late
    assert paid_on_time


def test_cases_of_each_kind_and_state_with_consistent_item_flags(
    db: Database, book: DemoSummary
) -> None:
    with db.session() as s:
        cases = s.scalars(select(Case)).all()
        links = s.execute(select(CaseItem.case_id, CaseItem.item_id)).all()
        items = {i.id: i for i in s.scalars(select(Item))}
        plans = Counter(s.scalars(select(PlanInstalment.case_id)))
    states = {(c.kind, c.status) for c in cases}
    assert states >= {
        (CaseKind.PROMISE, CaseStatus.OPEN),
        (CaseKind.PROMISE, CaseStatus.KEPT),
        (CaseKind.PROMISE, CaseStatus.BROKEN),
        (CaseKind.PAYMENT_PLAN, CaseStatus.OPEN),
        (CaseKind.PAYMENT_PLAN, CaseStatus.KEPT),
        (CaseKind.PAYMENT_PLAN, CaseStatus.BROKEN),
        (CaseKind.DISPUTE, CaseStatus.OPEN),
        (CaseKind.DISPUTE, CaseStatus.RESOLVED),
        (CaseKind.LITIGATION, CaseStatus.OPEN),
        (CaseKind.LITIGATION, CaseStatus.CLOSED),
    }
    by_id = {c.id: c for c in cases}
    covered: dict[tuple[CaseKind, CaseStatus], set[int]] = {}
    for case_id, item_id in links:
        case = by_id[case_id]
        assert items[item_id].customer_id == case.customer_id
        covered.setdefault((case.kind, case.status), set()).add(item_id)
    for c in cases:
        assert c.closed_on is None if c.status == CaseStatus.OPEN else c.closed_on
        assert c.closed_on is None or c.closed_on >= c.opened_on
        if c.kind == CaseKind.DISPUTE:
            assert c.reason in {
                "price", "quantity", "quality", "delivery", "duplicate",
                "already_paid", "other",
            }  # fmt: skip
        if c.kind == CaseKind.PAYMENT_PLAN:
            assert plans[c.id] >= 2
        if c.kind == CaseKind.LITIGATION:
            assert c.stage in set(LitigationStage)

    def flagged(test: object) -> set[int]:
        return {i.id for i in items.values() if test(i)}  # type: ignore[operator]

    open_promise_or_plan = covered.get(
        (CaseKind.PROMISE, CaseStatus.OPEN), set()
    ) | covered.get((CaseKind.PAYMENT_PLAN, CaseStatus.OPEN), set())
    assert flagged(lambda i: i.disputed) == covered[(CaseKind.DISPUTE, CaseStatus.OPEN)]
    assert (
        flagged(lambda i: i.in_litigation)
        == covered[(CaseKind.LITIGATION, CaseStatus.OPEN)]
    )
    assert flagged(lambda i: i.suspended_until is not None) == open_promise_or_plan
    for item_id in open_promise_or_plan:
        until = items[item_id].suspended_until
        assert until is not None
        assert until >= TODAY
    open_case_items = set().union(
        *(ids for (_k, status), ids in covered.items() if status == CaseStatus.OPEN)
    )
    assert all(items[i].status == ItemStatus.OPEN for i in open_case_items)


def test_scenario_steps_are_the_seeds(db: Database, book: DemoSummary) -> None:
    with db.session() as s:
        standard = s.scalars(select(Scenario).where(Scenario.name == "Standard")).one()
        steps = [
            (
                st.offset_days,
                st.action_type,
                st.mode,
                st.template_code,
                st.attach_statement,
                st.attach_interest,
            )
            for st in standard.steps
        ]
        scenarios = s.scalar(select(func.count()).select_from(Scenario))
    auto, manual, confirm = StepMode.AUTOMATIC, StepMode.MANUAL, StepMode.CONFIRM
    email, call = ActionType.EMAIL, ActionType.PHONE_CALL
    letter, registered = ActionType.LETTER, ActionType.REGISTERED_LETTER
    assert steps == [
        (-15, email, auto, "PRE_REMINDER", False, False),
        (0, email, auto, "STATEMENT", True, False),
        (5, call, manual, None, False, False),
        (10, letter, auto, "REMINDER_1", True, False),
        (20, letter, confirm, "REMINDER_2", True, False),
        (30, call, manual, None, False, False),
        (45, registered, manual, "FORMAL_NOTICE", True, True),
        (75, registered, manual, "PAYMENT_ORDER_NOTICE", False, False),
    ]
    assert scenarios == 2


def test_dunning_history_matches_the_items_state(
    db: Database, book: DemoSummary
) -> None:
    yesterday = TODAY - dt.timedelta(days=1)
    with db.session() as s:
        offsets = dict(s.execute(select(Step.id, Step.offset_days)).all())
        items = s.scalars(
            select(Item).where(
                Item.status == ItemStatus.OPEN, Item.dunning_step_id.is_not(None)
            )
        ).all()
        pairs = s.execute(
            select(ActionItem.item_id, ActionItem.step_id).where(
                ActionItem.step_id.is_not(None)
            )
        ).all()
        action = s.scalars(
            select(Action).where(Action.status == ActionStatus.DONE).limit(1)
        ).one()
        assert isinstance(action.id, uuid.UUID)
        assert action.contact is not None
        assert action.contact.customer_id == action.customer_id
        assert action.performed_at is not None
        assert action.performed_at.tzinfo is not None
    assert items
    done = set(pairs)
    assert len(done) == len(pairs)  # a step happens once per item
    for i in items:
        assert i.dunning_step_id is not None
        assert i.dunning_date is not None
        assert i.due_date + dt.timedelta(days=offsets[i.dunning_step_id]) <= yesterday
        assert i.dunning_date <= yesterday
        assert (i.id, i.dunning_step_id) in done
    _assert_engine_rules(db)


def _assert_engine_rules(db: Database) -> None:
    """The history follows the dunning engine's rules (engine.dunning)."""
    with db.session() as s:
        rows = s.execute(
            select(
                Action.id,
                Action.customer_id,
                Action.planned_date,
                Action.status,
                Action.step_id,
                ActionItem.item_id,
                ActionItem.step_id,
            )
            .join(ActionItem, ActionItem.action_id == Action.id)
            .where(Action.step_id.is_not(None))
        ).all()
        last_steps = dict(
            s.execute(
                select(Item.id, Item.dunning_step_id).where(
                    Item.dunning_step_id.is_not(None)
                )
            ).all()
        )
        steps = s.execute(select(Step.id, Step.offset_days)).all()
    offsets: dict[int | None, int] = dict(steps)
    actions = {r[0]: (r[1], r[2], r[4]) for r in rows}
    # One action per customer and run, at the highest step of its items.
    assert len({(c, d) for c, d, _ in actions.values()}) == len(actions)
    top: dict[object, int] = {}
    for r in rows:
        top[r[0]] = max(top.get(r[0], -99), offsets[r[6]])
    assert all(offsets[step] == top[a] for a, (_c, _d, step) in actions.items())
    # An item waits behind a pending manual action; its last step is recorded.
    history: dict[int, list[tuple[dt.date, ActionStatus, int | None]]] = {}
    for r in rows:
        history.setdefault(r[5], []).append((r[2], r[3], r[6]))
    for item_id, events in history.items():
        events.sort()
        waiting = [d for d, st, _ in events if st != ActionStatus.DONE]
        if waiting:
            assert events[-1][0] == waiting[0]
        assert last_steps[item_id] == events[-1][2]


def test_snapshots_cover_two_years_and_add_up(db: Database, book: DemoSummary) -> None:
    with db.session() as s:
        snaps = s.scalars(select(BalanceSnapshot).order_by(BalanceSnapshot.as_of)).all()
        totals = dict(
            s.execute(
                select(
                    SnapshotLine.snapshot_id, func.sum(SnapshotLine.outstanding)
                ).group_by(SnapshotLine.snapshot_id)
            ).all()
        )
    assert len(snaps) == 48
    assert len({s.as_of for s in snaps}) == 24
    assert snaps[-1].as_of < TODAY
    for snap in snaps:
        assert snap.outstanding == totals.get(snap.id, Decimal(0))
    assert any(s.outstanding > 0 for s in snaps)


def test_a_non_empty_database_is_refused_unless_replaced(
    db: Database, book: DemoSummary
) -> None:
    with pytest.raises(DemoError, match="--replace"):
        build_demo(db, **SMALL)  # type: ignore[arg-type]
    again = build_demo(db, **{**SMALL, "replace": True})  # type: ignore[arg-type]
    assert again.replaced
    assert again.counts == book.counts
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Customer)) == 50


def test_progress_goes_up_to_100(db: Database) -> None:
    seen: list[float] = []
    build_demo(db, customers=5, items=40, today=TODAY, report=seen.append)
    assert seen[0] == 0
    assert seen[-1] == 100
    assert seen == sorted(seen)


def _dump(db: Database) -> list[tuple[object, ...]]:
    with db.session() as s:
        rows: list[tuple[object, ...]] = []
        for model, order in (
            (Customer, Customer.id),
            (Contact, Contact.id),
            (Item, Item.id),
            (Case, Case.id),
            (Action, Action.id),
        ):
            for obj in s.scalars(select(model).order_by(order)):
                rows.append(
                    tuple(getattr(obj, c.key) for c in model.__mapper__.column_attrs)
                )
    return rows


def test_the_same_seed_gives_the_same_book(tmp_path: Path) -> None:
    books = []
    for name, seed in (("a", 7), ("b", 7), ("c", 8)):
        db = _build(f"sqlite:///{tmp_path / name}.sqlite3")
        try:
            build_demo(db, customers=30, items=400, seed=seed, today=TODAY)
            books.append(_dump(db))
        finally:
            db.dispose()
    assert books[0] == books[1]
    assert books[0] != books[2]


def test_the_command_builds_reports_and_sets_the_current_user(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("O2C_DATABASE_URL", f"sqlite:///{tmp_path / 'cli.sqlite3'}")
    args = ["demo", "--customers", "20", "--items", "300", "--today", "2026-03-16"]
    assert main([*args, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["counts"]["customer"] == 20
    assert data["counts"]["item"] == 300
    assert data["current_user"] == "arossi"
    assert settings_mod.load().user_login == "arossi"

    assert main(args) == 1
    assert "--replace" in capsys.readouterr().err
    assert main([*args, "--if-empty"]) == 0
    assert "no demo book built" in capsys.readouterr().out

    assert main([*args, "--replace"]) == 0
    out = capsys.readouterr().out
    assert "20 customers" in out
    assert "Current user: arossi." in out

    assert main([*args, "--today", "16/03/2026"]) == 2
    assert "YYYY-MM-DD" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("customers", "items", "seed"),
    [(1, 0, 1), (3, 25, 2), (40, 200, 3), (120, 4000, 4)],
)
def test_any_size_and_seed_gives_a_consistent_book(
    tmp_path: Path, customers: int, items: int, seed: int
) -> None:
    db = _build(f"sqlite:///{tmp_path / 'any.sqlite3'}")
    try:
        summary = build_demo(
            db, customers=customers, items=items, seed=seed, today=TODAY
        )
        assert summary.counts["customer"] == customers
        assert summary.counts["item"] == items
        _assert_engine_rules(db)
        with db.session() as s:
            for i in s.scalars(select(Item)):
                assert (i.status == ItemStatus.CLOSED) == (i.closed_on is not None)
                assert i.closed_on is None or i.closed_on >= i.issue_date
                assert abs(i.remaining) <= abs(i.amount)
                assert i.suspended_until is None or i.suspended_until >= TODAY
                assert i.disputed == (i.disputed_amount is not None)
            for c in s.scalars(select(Case)):
                assert c.closed_on is None or c.closed_on >= c.opened_on
                assert c.opened_on <= TODAY
    finally:
        db.dispose()


def test_every_step_of_the_demo_scenarios_has_its_texts_in_four_languages(
    db: Database, book: DemoSummary
) -> None:
    from o2c_desktop.models import Step, Template

    with db.session() as s:
        codes = set(
            s.scalars(select(Step.template_code).where(Step.template_code.isnot(None)))
        )
        texts = {
            (c, lang) for c, lang in s.execute(select(Template.code, Template.language))
        }
    assert codes
    for code in codes:
        for language in ("fr", "en", "es", "de"):
            assert (code, language) in texts, f"{code} has no {language} template"
    with db.session() as s:
        assert book.counts["template"] == s.scalar(select(func.count(Template.id)))
