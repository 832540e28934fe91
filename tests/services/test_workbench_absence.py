"""A collector works the agenda of a colleague they replace while away (issue 7).

Emmanuel Germain (credit manager) records Marie Petit's leave with Alex Rossi
as her replacement, through the team service as in the Team page. Alex then
sees Marie's agenda besides his own, performs her call, and loses the view
when she is back. On SQLite and PostgreSQL; the book is `test_workbench`'s.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.types import ActionStatus, ActionType, Role
from o2c_desktop.engine.workbench import CallOutcome, PerformRequest
from o2c_desktop.models import Action, User
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.team import TeamService
from o2c_desktop.services.workbench import AccessError
from tests.services._view_book import TODAY
from tests.services.test_workbench import _book, _service

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

LAST_DAY_AWAY = TODAY + dt.timedelta(days=8)
BACK = LAST_DAY_AWAY + dt.timedelta(days=1)


@pytest.fixture
def petit(db: Database) -> int:
    """Marie Petit, a collector with a call to make today for Allain Mercier."""
    ids = _book(db)
    with db.session("setup") as s:
        marie = User(login="mpetit", full_name="Marie Petit", role=Role.COLLECTOR)
        s.add(marie)
        s.flush()
        s.add(
            Action(
                customer_id=ids["allain"],
                action_type=ActionType.PHONE_CALL,
                planned_date=TODAY,
                assigned_to_id=marie.id,
            )
        )
        return marie.id


def _leave(db: Database, user_id: int, replacement: str | None) -> None:
    team = TeamService(AppContext(db=db, user_login="egermain"))
    with db.session() as s:
        version = s.get(User, user_id).version  # type: ignore[union-attr]
        replacement_id = (
            s.scalars(select(User.id).where(User.login == replacement)).one()
            if replacement
            else None
        )
    team.set_absence(
        user_id, TODAY - dt.timedelta(days=1), LAST_DAY_AWAY, replacement_id, version
    )


def test_the_replacement_sees_and_works_the_absent_colleagues_agenda(
    db: Database, petit: int
) -> None:
    rossi = _service(db)
    assert "mpetit" not in [u.login for u in rossi.agenda_owners(TODAY)]
    with pytest.raises(AccessError):
        rossi.agenda(TODAY, owner_id=petit)

    _leave(db, petit, "arossi")
    owners = [u.login for u in rossi.agenda_owners(TODAY)]
    assert owners[0] == "arossi"  # his own first
    assert "mpetit" in owners
    own = rossi.agenda(TODAY)
    assert "Allain Mercier et Fils" not in [x.customer_name for x in own.lines]
    covered = rossi.agenda(TODAY, owner_id=petit)
    assert covered.owner is not None
    assert covered.owner.login == "mpetit"
    [line] = covered.lines
    assert line.customer_name == "Allain Mercier et Fils"
    assert line.assignee == "Marie Petit"

    # He performs her call: done by him, still in her agenda's completion.
    detail = rossi.action_detail(line.action_id, TODAY)
    result = rossi.perform_action(
        PerformRequest(detail.id, detail.version, CallOutcome.NOT_REACHED), TODAY
    )
    assert result.action.performer == "Alex Rossi"
    assert result.action.assignee == "Marie Petit"
    after = rossi.agenda(TODAY, owner_id=petit)
    assert after.lines == ()
    assert after.columns[0].done == 1
    with db.session() as s:
        action = s.scalars(select(Action).where(Action.assigned_to_id == petit)).one()
        assert action.status is ActionStatus.DONE

    # Still away on her last day; back the day after: hers again.
    assert "mpetit" in [u.login for u in rossi.agenda_owners(LAST_DAY_AWAY)]
    assert "mpetit" not in [u.login for u in rossi.agenda_owners(BACK)]
    with pytest.raises(AccessError, match="replacing them while they are away"):
        rossi.agenda(BACK, owner_id=petit)


def test_a_colleague_who_is_not_the_replacement_sees_only_their_own(
    db: Database, petit: int
) -> None:
    _leave(db, petit, "jboucher")
    rossi = _service(db)
    assert "mpetit" not in [u.login for u in rossi.agenda_owners(TODAY)]
    with pytest.raises(AccessError):
        rossi.agenda(TODAY, owner_id=petit)
    _leave(db, petit, None)  # away, nobody named: only managers see it
    assert "mpetit" not in [u.login for u in rossi.agenda_owners(TODAY)]
    manager = _service(db, "egermain")
    assert "mpetit" in [u.login for u in manager.agenda_owners(TODAY)]
    assert len(manager.agenda(TODAY, owner_id=petit).lines) == 1
