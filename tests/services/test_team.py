"""Team and portfolios: managers only, stale writes refused, bulk reassignment."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.types import ActionStatus, Role
from o2c_desktop.models import Action, Customer, User
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.team import TeamService
from tests.services._view_book import build_view_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database


def test_collector_cannot_change_the_team(db: Database) -> None:
    build_view_book(db)
    service = TeamService(AppContext(db=db, user_login="arossi"))
    team = service.team()
    assert not team.can_edit
    rossi = next(m for m in team.members if m.login == "arossi")
    with pytest.raises(PermissionError):
        service.set_role(rossi.id, Role.ADMIN, rossi.version)


def test_absence_with_replacement_moves_waiting_actions(db: Database) -> None:
    build_view_book(db)
    service = TeamService(AppContext(db=db, user_login="egermain"))
    team = service.team()
    assert team.can_edit
    rossi = next(m for m in team.members if m.login == "arossi")
    boss = next(m for m in team.members if m.login == "egermain")
    assert rossi.pending_actions == 3
    moved = service.set_absence(
        rossi.id, dt.date(2026, 4, 1), None, boss.id, rossi.version, reassign=True
    )
    assert moved == 3
    with db.session() as s:
        waiting = s.scalars(
            select(Action.assigned_to_id).where(
                Action.status.in_([ActionStatus.PENDING, ActionStatus.TO_CONFIRM])
            )
        ).all()
        assert set(waiting) == {boss.id}
        user = s.get(User, rossi.id)
        assert user is not None
        assert user.replacement_id == boss.id
    with pytest.raises(ConflictError, match="changed by"):
        service.set_role(rossi.id, Role.ADMIN, rossi.version)


def test_portfolio_to_another_collector_and_entity_settings(db: Database) -> None:
    build_view_book(db)
    service = TeamService(AppContext(db=db, user_login="egermain"))
    team = service.team()
    portfolio = team.portfolios[0]
    boss = next(m for m in team.members if m.login == "egermain")
    service.set_portfolio_collector(portfolio.id, boss.id, portfolio.version)
    with db.session() as s:
        collectors = set(
            s.scalars(
                select(Customer.collector_id).where(
                    Customer.portfolio_id == portfolio.id
                )
            )
        )
    assert collectors == {boss.id}
    entity = team.entities[0]
    service.save_entity(entity.__class__(**{**entity.__dict__, "iban": "FR76 1234"}))
    assert service.team().entities[0].iban == "FR76 1234"
