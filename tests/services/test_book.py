"""The read views' queries, on SQLite and PostgreSQL, against hand-computed figures."""

from __future__ import annotations

from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import text

from o2c_desktop.engine.book import AGING_BUCKETS, bucket_index
from o2c_desktop.engine.types import ActionStatus, ActionType, Role
from o2c_desktop.models.db import (
    DatabaseError,
    head_revision,
    make_engine,
    open_database,
)
from o2c_desktop.services.book import BookService, check_connection
from o2c_desktop.services.context import AppContext
from tests.services._view_book import TODAY, build_view_book

if TYPE_CHECKING:
    from pathlib import Path

    from o2c_desktop.models.db import Database


@pytest.fixture
def book(db: Database) -> BookService:
    build_view_book(db)
    return BookService(AppContext(db=db, user_login="arossi"))


def test_customers_are_listed_by_name_with_their_amounts(book: BookService) -> None:
    page = book.customers("", 0, 50, TODAY)
    assert page.total == 4
    assert [r.name for r in page.rows] == [
        "Allain Mercier et Fils",
        "Denis S.A.S.",
        "Monnier et Fils",
        "Torres Ltd",
    ]
    allain, denis, monnier, torres = page.rows
    assert (monnier.outstanding, monnier.overdue, monnier.days_late) == (
        Decimal("1634.56"),
        Decimal("1134.56"),
        40,
    )
    assert (denis.outstanding, denis.overdue, denis.days_late) == (
        Decimal("2300.00"),
        Decimal("2300.00"),
        200,
    )
    assert (allain.outstanding, allain.overdue, allain.days_late) == (
        Decimal("0.00"),
        Decimal("0.00"),
        None,
    )
    assert (torres.currency, torres.overdue) == ("GBP", Decimal("50.00"))
    assert monnier.portfolio == "35 - Grand Compte"
    assert monnier.collector == "Alex Rossi"


def test_customers_come_a_page_at_a_time(book: BookService) -> None:
    first = book.customers("", 0, 3, TODAY)
    rest = book.customers("", 3, 3, TODAY)
    assert (first.total, len(first.rows), rest.offset, len(rest.rows)) == (4, 3, 3, 1)
    assert rest.rows[0].name == "Torres Ltd"


@pytest.mark.parametrize(
    ("search", "names"),
    [
        ("monnier", ["Monnier et Fils"]),
        ("MERCIER", ["Allain Mercier et Fils"]),
        ("et fils", ["Allain Mercier et Fils", "Monnier et Fils"]),
        ("18981", ["Monnier et Fils"]),
        ("123 456 789", ["Monnier et Fils"]),
        ("F-9", ["Denis S.A.S."]),
        ("%", []),
        ("x" * 10_000, []),
    ],
)
def test_customers_are_found_by_name_reference_siren_or_invoice(
    book: BookService, search: str, names: list[str]
) -> None:
    page = book.customers(search, 0, 50, TODAY)
    assert [r.name for r in page.rows] == names
    assert page.total == len(names)


def test_the_agenda_holds_the_users_waiting_actions_late_ones_on_top_of_today(
    book: BookService,
) -> None:
    agenda = book.agenda(TODAY)
    assert [d.day for d in agenda.days] == [TODAY, TODAY.replace(day=25)]
    today, tomorrow = agenda.days
    assert [(e.customer_name, e.action_type) for e in today.entries] == [
        ("Denis S.A.S.", ActionType.PHONE_CALL),
        ("Monnier et Fils", ActionType.EMAIL),
    ]
    call, email = today.entries
    assert call.is_late(TODAY)
    assert not email.is_late(TODAY)
    assert (call.days_late, call.amount, call.currency) == (
        200,
        Decimal("2300.00"),
        "EUR",
    )
    assert email.days_late == 40
    assert [(e.action_type, e.status) for e in tomorrow.entries] == [
        (ActionType.LETTER, ActionStatus.TO_CONFIRM)
    ]
    assert agenda.count == 3
    assert not agenda.truncated


def test_a_long_agenda_is_cut_oldest_first(book: BookService) -> None:
    agenda = book.agenda(TODAY, limit=1)
    assert agenda.count == 1
    assert agenda.truncated
    assert agenda.days[0].entries[0].customer_name == "Denis S.A.S."


def test_an_unknown_user_has_an_empty_agenda(db: Database) -> None:
    build_view_book(db)
    stranger = BookService(AppContext(db=db, user_login="nobody"))
    assert stranger.agenda(TODAY).days == ()
    assert stranger.current_user() is None


def test_users_and_the_current_user(book: BookService) -> None:
    assert [(u.login, u.role) for u in book.users()] == [
        ("arossi", Role.COLLECTOR),
        ("egermain", Role.CREDIT_MANAGER),
    ]
    current = book.current_user()
    assert current is not None
    assert current.full_name == "Alex Rossi"


def test_scenarios_and_their_steps(book: BookService) -> None:
    (standard,) = book.scenarios()
    assert (standard.name, standard.step_count, standard.customer_count) == (
        "Standard",
        8,
        2,
    )
    steps = book.scenario_steps(standard.id)
    assert [s.offset_days for s in steps] == [-15, 0, 5, 10, 20, 30, 45, 75]
    assert steps[0].template_code == "FR EMAIL PRE-RELANCE J-10"
    assert [s.attach_statement for s in steps].count(True) == 5


def test_the_summary_gives_the_aged_balance_per_currency(book: BookService) -> None:
    eur, gbp = book.summary(TODAY)
    assert eur.currency == "EUR"
    assert (eur.outstanding, eur.overdue, eur.open_items, eur.customers) == (
        Decimal("3934.56"),
        Decimal("3434.56"),
        6,
        2,
    )
    assert [(a.amount, a.count) for a in eur.aging] == [
        (Decimal("500.00"), 1),
        (Decimal("134.56"), 2),
        (Decimal("1000.00"), 1),
        (Decimal("0.00"), 0),
        (Decimal("300.00"), 1),
        (Decimal("2000.00"), 1),
    ]
    assert (gbp.currency, gbp.outstanding, gbp.customers) == (
        "GBP",
        Decimal("50.00"),
        1,
    )
    assert gbp.aging[3].amount == Decimal("50.00")


def test_an_empty_book_has_no_summary(db: Database) -> None:
    book = BookService(AppContext(db=db, user_login=""))
    assert book.summary(TODAY) == ()
    assert book.customers("", 0, 10, TODAY).total == 0
    assert book.current_user() is None


@pytest.mark.parametrize(
    ("days_late", "label"),
    [
        (-3, "Not due"),
        (0, "Not due"),
        (1, "1-30 days"),
        (30, "1-30 days"),
        (31, "31-60 days"),
        (180, "91-180 days"),
        (181, "> 180 days"),
    ],
)
def test_bucket_of_an_item(days_late: int, label: str) -> None:
    assert AGING_BUCKETS[bucket_index(days_late)].label == label


def test_check_connection_reads_users_and_writes_nothing(db: Database) -> None:
    build_view_book(db)
    url = db.engine.url.render_as_string(hide_password=False)
    # Mark the schema current, as open_database would.
    with db.engine.begin() as conn:
        conn.execute(
            text("CREATE TABLE IF NOT EXISTS alembic_version (version_num VARCHAR(32))")
        )
        conn.execute(text("DELETE FROM alembic_version"))
        conn.execute(
            text("INSERT INTO alembic_version VALUES (:v)"), {"v": head_revision()}
        )
    report = check_connection(url, None)
    assert report.state == "ready"
    assert [u.login for u in report.users] == ["arossi", "egermain"]


def test_check_connection_does_not_create_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "new.sqlite3"
    report = check_connection(f"sqlite:///{path}", None)
    assert report.state == "new"
    assert not path.exists()
    assert not path.parent.exists()


def test_check_connection_refuses_a_newer_database_untouched(tmp_path: Path) -> None:
    path = tmp_path / "newer.sqlite3"
    open_database(f"sqlite:///{path}").dispose()
    engine = make_engine(f"sqlite:///{path}")
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = 'f00dcafe9999'"))
    engine.dispose()
    before = path.read_bytes()
    with pytest.raises(DatabaseError, match="newer version of O2C Desktop"):
        check_connection(f"sqlite:///{path}", None)
    assert path.read_bytes() == before


def test_check_connection_reports_an_empty_database(tmp_path: Path) -> None:
    path = tmp_path / "empty.sqlite3"
    make_engine(f"sqlite:///{path}").dispose()
    path.touch()
    assert check_connection(f"sqlite:///{path}", None).state == "empty"
