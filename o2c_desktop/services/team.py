"""Team and portfolios (issue #8): users, roles, absences, entity settings.

Only a credit manager or an administrator changes them. Every write checks
the version the user saw (optimistic locking): a stale write raises
`ConflictError` naming who changed the record and when.
"""

from __future__ import annotations

import dataclasses
import logging
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import func, select, update
from sqlalchemy.orm.exc import StaleDataError

from o2c_desktop.engine.desk import (
    EntitySettings,
    PortfolioInfo,
    Team,
    TeamMember,
    UserDraft,
    check_user,
)
from o2c_desktop.engine.types import ActionStatus, Role
from o2c_desktop.models import Action, AuditEntry, Customer, Entity, Portfolio, User
from o2c_desktop.models.audit import audit_row
from o2c_desktop.models.base import Versioned, utcnow
from o2c_desktop.models.repo import ConflictError, describe_change
from o2c_desktop.services.context import Changes

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator

    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

V = TypeVar("V", bound=Versioned)

MANAGERS = (Role.CREDIT_MANAGER, Role.ADMIN)
_WAITING = (ActionStatus.PENDING, ActionStatus.TO_CONFIRM)
_ENTITY_FIELDS = tuple(
    f.name
    for f in dataclasses.fields(EntitySettings)
    if f.name not in ("id", "version")
)


class TeamService:
    """Users, portfolios and entities, changed by managers only."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def team(self) -> Team:
        """Users (with their waiting actions), portfolios and entities."""
        with self._ctx.db.session() as s:
            pending = dict(
                s.execute(
                    select(Action.assigned_to_id, func.count())
                    .where(Action.status.in_(_WAITING))
                    .group_by(Action.assigned_to_id)
                ).all()
            )
            customers = dict(
                s.execute(
                    select(Customer.portfolio_id, func.count())
                    .where(Customer.portfolio_id.is_not(None))
                    .group_by(Customer.portfolio_id)
                ).all()
            )
            members = tuple(
                TeamMember(
                    id=u.id,
                    login=u.login,
                    full_name=u.full_name,
                    email=u.email,
                    role=Role(u.role),
                    active=u.active,
                    absent_from=u.absent_from,
                    absent_until=u.absent_until,
                    replacement_id=u.replacement_id,
                    pending_actions=int(pending.get(u.id, 0)),
                    version=u.version,
                )
                for u in s.scalars(select(User).order_by(User.full_name))
            )
            portfolios = tuple(
                PortfolioInfo(
                    id=p.id,
                    code=p.code,
                    name=p.name,
                    entity_id=p.entity_id,
                    collector_id=p.collector_id,
                    customers=int(customers.get(p.id, 0)),
                    version=p.version,
                )
                for p in s.scalars(select(Portfolio).order_by(Portfolio.code))
            )
            entities = tuple(
                EntitySettings(
                    id=e.id,
                    version=e.version,
                    **{name: getattr(e, name) for name in _ENTITY_FIELDS},
                )
                for e in s.scalars(select(Entity).order_by(Entity.code))
            )
            can_edit = self._role(s) in MANAGERS
        return Team(members, portfolios, entities, can_edit)

    def set_role(self, user_id: int, role: Role, version: int) -> Changes:
        """Give a user another role.

        Raises:
            PermissionError: the current user is not a manager.
            ConflictError: the user was changed since it was read.
        """
        with self._ctx.db.session(self._ctx.user_login) as s:
            self._require_manager(s)
            user = _fresh(s, User, user_id, version, "User")
            user.role = role
        return Changes(users=True)

    def pending_count(self, user_id: int) -> int:
        """How many actions wait for a user (what a reassignment would move)."""
        with self._ctx.db.session() as s:
            return int(
                s.scalar(
                    select(func.count())
                    .select_from(Action)
                    .where(Action.assigned_to_id == user_id)
                    .where(Action.status.in_(_WAITING))
                )
                or 0
            )

    def save_user(self, draft: UserDraft) -> Changes:
        """Add a user (`draft.id` None) or change their name, email, role, state.

        Raises:
            PermissionError: the current user is not a manager.
            ConflictError: the user was changed since it was read.
            ValueError: the draft is not valid (the message says why), or a
                manager tried to deactivate or demote themselves.
        """
        with (
            _conflicts(),
            self._ctx.db.session(self._ctx.user_login) as s,
        ):
            self._require_manager(s)
            taken = set(s.scalars(select(User.login)))
            problems = check_user(draft, taken)
            if problems:
                raise ValueError(" ".join(problems))
            if draft.id is None:
                s.add(
                    User(
                        login=draft.login.strip(),
                        full_name=draft.full_name.strip(),
                        email=draft.email or None,
                        role=draft.role,
                        active=draft.active,
                    )
                )
                log.info("User %s added as %s", draft.login, draft.role)
                return Changes(users=True)
            user = _fresh(s, User, draft.id, draft.version, "User")
            if user.login == self._ctx.user_login and (
                not draft.active or draft.role not in MANAGERS
            ):
                raise ValueError(
                    "You can't deactivate yourself or give up your own manager "
                    "role: ask another manager."
                )
            if user.active and not draft.active:
                self._check_can_leave(s, user)
            user.full_name = draft.full_name.strip()
            user.email = draft.email or None
            user.role = draft.role
            user.active = draft.active
        return Changes(users=True)

    def set_absence(
        self,
        user_id: int,
        absent_from: dt.date | None,
        absent_until: dt.date | None,
        replacement_id: int | None,
        version: int,
        *,
        reassign: bool = False,
    ) -> int:
        """Record (or clear) an absence and its replacement.

        Args:
            user_id: the absent user.
            absent_from: first day away; None clears the absence.
            absent_until: last day away; None while open-ended.
            replacement_id: who takes over their actions.
            version: the user's version as read (optimistic locking).
            reassign: also hand the user's waiting actions to the replacement
                (a collector who leaves).

        Returns:
            How many actions were reassigned.

        Raises:
            PermissionError: the current user is not a manager.
            ConflictError: the user was changed since it was read.
            ValueError: a user can't replace themselves.
        """
        if replacement_id is not None and replacement_id == user_id:
            raise ValueError("A user can't replace themselves.")
        if (
            absent_from is not None
            and absent_until is not None
            and absent_until < absent_from
        ):
            raise ValueError("The absence ends before it starts.")
        with _conflicts(), self._ctx.db.session(self._ctx.user_login) as s:
            self._require_manager(s)
            user = _fresh(s, User, user_id, version, "User")
            if replacement_id is not None:
                self._check_replacement(s, replacement_id)
            user.absent_from = absent_from
            user.absent_until = absent_until
            user.replacement_id = replacement_id
            moved = 0
            if reassign and replacement_id is not None:
                moved = self._reassign(s, user_id, replacement_id)
        return moved

    def reassign_pending(self, from_user_id: int, to_user_id: int) -> int:
        """Hand every waiting action of one user to another (bulk).

        Raises:
            PermissionError: the current user is not a manager.
        """
        if from_user_id == to_user_id:
            raise ValueError("A user can't replace themselves.")
        with self._ctx.db.session(self._ctx.user_login) as s:
            self._require_manager(s)
            self._check_replacement(s, to_user_id)
            return self._reassign(s, from_user_id, to_user_id)

    def set_portfolio_collector(
        self, portfolio_id: int, collector_id: int | None, version: int
    ) -> Changes:
        """Give a portfolio (and its customers) to another collector.

        Raises:
            PermissionError: the current user is not a manager.
            ConflictError: the portfolio was changed since it was read.
        """
        with _conflicts(), self._ctx.db.session(self._ctx.user_login) as s:
            self._require_manager(s)
            portfolio = _fresh(s, Portfolio, portfolio_id, version, "Portfolio")
            if collector_id is not None:
                self._check_replacement(s, collector_id)
            portfolio.collector_id = collector_id
            s.execute(
                update(Customer)
                .where(Customer.portfolio_id == portfolio_id)
                .values(collector_id=collector_id)
                .execution_options(synchronize_session=False)
            )
        return Changes(users=True, customers=True)

    def save_entity(self, settings: EntitySettings) -> Changes:
        """Save an entity's letterhead, legal ids and bank details.

        Raises:
            PermissionError: the current user is not a manager.
            ConflictError: the entity was changed since it was read.
        """
        if not settings.name.strip():
            raise ValueError("The entity needs a name.")
        with _conflicts(), self._ctx.db.session(self._ctx.user_login) as s:
            self._require_manager(s)
            entity = _fresh(s, Entity, settings.id, settings.version, "Entity")
            for name in _ENTITY_FIELDS:
                setattr(entity, name, getattr(settings, name))
        return Changes(customers=True)

    def _role(self, s: Session) -> Role | None:
        role = s.scalar(select(User.role).where(User.login == self._ctx.user_login))
        return Role(role) if role is not None else None

    def _require_manager(self, s: Session) -> None:
        if self._role(s) not in MANAGERS:
            raise PermissionError(
                "Only a credit manager or an administrator can change the team."
            )

    def _check_replacement(self, s: Session, user_id: int) -> None:
        user = s.get(User, user_id)
        if user is None or not user.active:
            raise ValueError("The replacement must be an active user.")

    def _check_can_leave(self, s: Session, user: User) -> None:
        """Refuse to deactivate a user who still has work (it would be orphaned)."""
        waiting = s.scalar(
            select(func.count())
            .select_from(Action)
            .where(Action.assigned_to_id == user.id, Action.status.in_(_WAITING))
        )
        owned = s.scalars(
            select(Portfolio.code).where(Portfolio.collector_id == user.id)
        ).all()
        if waiting:
            raise ValueError(
                f"{user.full_name} still has {waiting} waiting actions: hand them "
                "to a colleague (absence with replacement) before deactivating."
            )
        if owned:
            raise ValueError(
                f"{user.full_name} still collects portfolio {', '.join(owned)}: "
                "give it to a colleague before deactivating."
            )

    def _reassign(self, s: Session, from_id: int, to_id: int) -> int:
        result: Any = s.execute(
            update(Action)
            .where(Action.assigned_to_id == from_id, Action.status.in_(_WAITING))
            .values(assigned_to_id=to_id, version=Action.version + 1)
            .execution_options(synchronize_session=False)
        )
        moved = int(result.rowcount)
        # A bulk UPDATE bypasses the ORM audit hooks: record it as one entry.
        s.add(
            AuditEntry(
                **audit_row(
                    utcnow(),
                    self._ctx.user_login,
                    "action",
                    f"assigned_to:{from_id}",
                    "reassign",
                    {"from": from_id, "to": to_id, "actions": moved},
                )
            )
        )
        log.info("Reassigned %d actions from user %d to %d", moved, from_id, to_id)
        return moved


def _fresh(s: Session, model: type[V], key: int, version: int, what: str) -> V:
    row = s.get(model, key)
    if row is None:
        raise ConflictError(f"{what} {key} was deleted.")
    if row.version != version:
        raise ConflictError(
            f"{what} {_label(row) or key} was {describe_change(row)}. Your change "
            "was not saved: reload and try again."
        )
    return row


def _label(row: Versioned) -> str:
    """How users name a record: a user's name, a portfolio's or entity's code."""
    for attr in ("full_name", "code"):
        value = getattr(row, attr, None)
        if value:
            return str(value)
    return ""


@contextmanager
def _conflicts() -> Iterator[None]:
    """A colleague's write between our read and our commit is a conflict too."""
    try:
        yield
    except StaleDataError as exc:
        raise ConflictError(
            "Somebody changed this record while you were saving. Your change was "
            "not saved: reload and try again."
        ) from exc
