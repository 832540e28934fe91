"""The dry run predicts the real run, case review included (issue 15).

A real run first reviews due cases: a broken plan releases its invoices, a
broken promise puts a task in the agenda, an unanswered dispute escalates.
The dry run does the same review and decisions in a transaction it rolls
back, so its counts are the real run's and the database is left as it was.
On SQLite and PostgreSQL.
"""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import pytest
from sqlalchemy import func, select, update

from o2c_desktop.cli import main
from o2c_desktop.engine.types import Role
from o2c_desktop.models import Action, AuditEntry, Base, Item, User
from o2c_desktop.models.db import open_database
from o2c_desktop.services.cases import CasesService, FutureDateError
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.demo import build_demo
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.settings import Settings
from tests.services._book import standard_book

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    from o2c_desktop.models.db import Database
    from o2c_desktop.services.dunning import DunningRunResult

D = Decimal
# What only a real run has: its record, its attempts, what it sent.
_REAL_ONLY = {
    "dry_run",
    "run_id",
    "attempts",
    "sent",
    "failed",
    "to_confirm",
    "pending",
    "resumed",
    "interrupted",
}


def d(text_: str) -> dt.date:
    return dt.date.fromisoformat(text_)


def ctx(db: Database) -> AppContext:
    return AppContext(db=db, user_login="claire", settings=Settings(send_cap=10_000))


def predicted(result: DunningRunResult) -> dict[str, Any]:
    """What a dry run must predict of a run: counts, customers, amounts, review."""
    return {k: v for k, v in result.as_dict().items() if k not in _REAL_ONLY}


def snapshot(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, sorted: what 'nothing written' compares."""
    out = {}
    with db.session() as s:
        for table in Base.metadata.sorted_tables:
            rows = s.execute(select(table)).all()
            out[table.name] = sorted((tuple(r) for r in rows), key=repr)
    return out


def cases_due_book(db: Database) -> None:
    """Cases that the review of 25 March 2026 settles, and plain overdue items.

    - Monnier: F1 on a plan whose first instalment (20 March) is unpaid: the
      plan breaks and F1 resumes its dunning.
    - Denis: G1 promised for 10 March (grace 2), unpaid: the promise breaks,
      its task goes to the agenda.
    - Petit: H1 disputed on 1 March, unanswered after 15 days: it escalates
      to the credit manager.
    - Roux: K1 due 1 March, no case: reminded as usual.
    """
    ids = standard_book(
        db,
        {
            "Monnier": [("F1", "2026-01-15", "1000.00")],
            "Denis": [("G1", "2026-02-01", "500.00")],
            "Petit": [("H1", "2026-01-20", "300.00")],
            "Roux": [("K1", "2026-03-01", "200.00")],
        },
    )
    with db.session("setup") as s:
        s.add(User(login="carla", full_name="Carla Gay", role=Role.CREDIT_MANAGER))
        # F1 and G1 already had their +10 letter, H1 its +30 call.
        s.execute(
            update(Item)
            .where(Item.id.in_([ids.items["F1"], ids.items["G1"]]))
            .values(dunning_step_id=ids.steps[10])
        )
    cases = CasesService(ctx(db))
    cases.open_payment_plan(
        ids.customers["Monnier"],
        today=d("2026-03-01"),
        item_ids=[ids.items["F1"]],
        schedule=[(d("2026-03-20"), D("400.00")), (d("2026-04-20"), D("600.00"))],
        grace_days=3,
    )
    cases.open_promise(
        ids.customers["Denis"],
        today=d("2026-03-01"),
        promised_date=d("2026-03-10"),
        item_ids=[ids.items["G1"]],
        grace_days=2,
    )
    cases.open_dispute(
        ids.customers["Petit"],
        today=d("2026-03-01"),
        items=[ids.items["H1"]],
        reason="price",
    )


def test_the_dry_run_shows_what_the_real_run_does_review_included(
    db: Database,
) -> None:
    cases_due_book(db)
    before = snapshot(db)
    dry = DunningService(ctx(db)).run(d("2026-03-25"), dry_run=True)
    assert snapshot(db) == before  # nothing written, audit trail included
    real = DunningService(ctx(db)).run(d("2026-03-25"))
    assert dry.dry_run
    assert not real.dry_run
    assert predicted(dry) == predicted(real)
    assert dry.review == {
        "plans_broken": 1,
        "promises_broken": 1,
        "disputes_escalated": 1,
        "actions_created": 3,
        "notifications_sent": 1,
    }
    # The broken plan's F1 waits for Claire's decision (issue 16); G1 of the
    # broken promise resumes at its next step; Roux, 24 days late and never
    # reminded, gets her first late reminder (not the expired statement).
    assert dry.by_step == {"Standard / reminder 1": 1, "Standard / letter 2": 1}
    with db.session() as s:
        created = s.scalar(
            select(func.count()).select_from(Action).where(Action.step_id.is_not(None))
        )
    assert created == real.actions == 2


def test_a_dry_run_of_the_review_alone_writes_nothing(db: Database) -> None:
    cases_due_book(db)
    before = snapshot(db)
    audit_rows = len(before[AuditEntry.__tablename__])
    service = CasesService(ctx(db))
    dry = service.review_due_cases(d("2026-03-25"), dry_run=True)
    assert snapshot(db) == before
    assert not dry.changes.cases
    real = service.review_due_cases(d("2026-03-25"))
    assert dry.report == real.report
    assert (real.report.actions_created, real.report.notifications_sent) == (3, 1)
    with db.session() as s:
        audited = s.scalar(select(func.count()).select_from(AuditEntry))
    assert audited is not None
    assert audited > audit_rows


def test_real_runs_and_reviews_dated_after_today_are_refused(db: Database) -> None:
    cases_due_book(db)
    tomorrow = dt.datetime.now(dt.UTC).astimezone().date() + dt.timedelta(days=1)
    before = snapshot(db)
    with pytest.raises(FutureDateError, match="in the future"):
        DunningService(ctx(db)).run(tomorrow)
    with pytest.raises(FutureDateError, match="in the future"):
        CasesService(ctx(db)).review_due_cases(tomorrow)
    assert snapshot(db) == before
    # What-ifs stay allowed, and so does a run its user insists on.
    assert DunningService(ctx(db)).run(tomorrow, dry_run=True).actions > 0
    CasesService(ctx(db)).review_due_cases(tomorrow, dry_run=True)
    assert snapshot(db) == before
    assert DunningService(ctx(db)).run(tomorrow, allow_future=True).run_id


@pytest.mark.parametrize("day", ["2026-03-16", "2026-04-15"])
def test_on_a_demo_book_the_dry_run_equals_the_real_run(db: Database, day: str) -> None:
    build_demo(db, customers=120, items=2400, seed=7, today=d("2026-03-16"))
    before = snapshot(db)
    dry = DunningService(ctx(db)).run(d(day), dry_run=True)
    assert snapshot(db) == before
    real = DunningService(ctx(db)).run(d(day))
    assert predicted(dry) == predicted(real)
    assert dry.review
    assert dry.actions
    assert snapshot(db)[AuditEntry.__tablename__] != before[AuditEntry.__tablename__]


@pytest.fixture
def cli_book(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Database]:
    """The cases-due book in an SQLite file, as `o2c` finds it."""
    url = f"sqlite:///{tmp_path / 'o2c.sqlite3'}"
    db = open_database(url)
    cases_due_book(db)
    monkeypatch.setenv("O2C_DATABASE_URL", url)
    monkeypatch.setenv("O2C_USER", "claire")
    try:
        yield db
    finally:
        db.dispose()


def test_o2c_dunning_run_dry_run_prints_what_the_run_then_does(
    cli_book: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(cli_book)
    argv = ["dunning", "run", "--date", "2026-03-25"]
    assert main([*argv, "--dry-run"]) == 0
    text_ = capsys.readouterr().out
    assert "would create 2 actions for 2 customers" in text_
    assert "Case review first (would): promises_broken 1, plans_broken 1" in text_
    assert main([*argv, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert snapshot(cli_book) == before
    assert main([*argv, "--json"]) == 0
    real = json.loads(capsys.readouterr().out)
    assert {k: v for k, v in dry.items() if k not in _REAL_ONLY} == {
        k: v for k, v in real.items() if k not in _REAL_ONLY
    }


def test_o2c_refuses_real_runs_and_reviews_dated_after_today(
    cli_book: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    later = (
        dt.datetime.now(dt.UTC).astimezone().date() + dt.timedelta(days=40)
    ).isoformat()
    before = snapshot(cli_book)
    for command in (["dunning", "run"], ["cases", "review"]):
        assert main([*command, "--date", later]) == 1
        err = capsys.readouterr().err
        assert err.startswith("o2c: error: a ")
        assert "is in the future" in err
        assert "--allow-future" in err
        assert len(err.strip().splitlines()) == 1
        assert main([*command, "--date", later, "--dry-run"]) == 0
        capsys.readouterr()
    assert snapshot(cli_book) == before
    assert main(["cases", "review", "--date", later, "--allow-future"]) == 0
    assert main(["dunning", "run", "--date", later, "--allow-future"]) == 0
    assert "created" in capsys.readouterr().out


def test_o2c_cases_review_dry_run_says_what_it_would_do(
    cli_book: Database, capsys: pytest.CaptureFixture[str]
) -> None:
    before = snapshot(cli_book)
    argv = ["cases", "review", "--date", "2026-03-25"]
    assert main([*argv, "--dry-run"]) == 0
    out = capsys.readouterr().out
    assert "Case review for 2026-03-25 (dry run: nothing written):" in out
    assert "promises broken:" in out
    assert main([*argv, "--dry-run", "--json"]) == 0
    dry = json.loads(capsys.readouterr().out)
    assert snapshot(cli_book) == before
    assert main([*argv, "--json"]) == 0
    real = json.loads(capsys.readouterr().out)
    assert (dry.pop("dry_run"), real.pop("dry_run")) == (True, False)
    assert dry == real
    assert main(["cases", "review", "--help"]) == 0
    assert "escalate disputes unanswered" in " ".join(capsys.readouterr().out.split())
