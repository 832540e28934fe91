"""Writes of the scenario editor (issue #8): drafts, what-if, templates, JSON.

The what-if plans the next days twice with `DunningService.plan`: once on the
book as it is, once inside a transaction that holds the edited scenario
(flushed, never committed: `plan` rolls it back). Saving a scenario that
customers follow needs an explicit confirmation and leaves an audit entry
besides the audit trail of the changed rows.
"""

from __future__ import annotations

import json
import logging
from contextlib import contextmanager
from decimal import Decimal
from typing import TYPE_CHECKING, Any, cast

from sqlalchemy import exists, func, or_, select
from sqlalchemy.orm import selectinload
from sqlalchemy.orm.attributes import flag_modified

from o2c_desktop.engine import desk
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.desk import (
    ScenarioContext,
    ScenarioDraft,
    StepDraft,
    TemplateInfo,
    WhatIf,
    WhatIfDay,
)
from o2c_desktop.engine.interest import agreed_rate, law_for
from o2c_desktop.engine.letters import (
    Person,
    build_context,
    merge_fields,
)
from o2c_desktop.engine.types import ActionType, CatchUp, Channel, ItemStatus, StepMode
from o2c_desktop.models import (
    Action,
    ActionItem,
    AuditEntry,
    Customer,
    Entity,
    Item,
    Scenario,
    Step,
    Template,
)
from o2c_desktop.models.audit import audit_row
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.repo import ConflictError, describe_change
from o2c_desktop.services.context import AppContext, Changes
from o2c_desktop.services.documents import (
    account_item_of,
    letterhead_of,
    party_of,
)
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.scenarios import ScenarioService

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterator, Mapping, Sequence

    from sqlalchemy.orm import Session

    from o2c_desktop.models.db import Database

log = logging.getLogger(__name__)

WHAT_IF_DAYS = 30


class ScenarioInUseError(Exception):
    """Saving changes the dunning of customers: the user must confirm.

    Attributes:
        customers: how many customers follow the scenario.
    """

    def __init__(self, name: str, customers: int) -> None:
        super().__init__(
            f"{customers} customers follow scenario {name!r}; confirm to save"
        )
        self.customers = customers


class DraftError(ValueError):
    """The draft can't be saved; the message lists why."""


class _Borrowed:
    """A `Database` look-alike whose sessions are one open session.

    It lets `DunningService.plan` read inside the transaction that holds the
    unsaved draft; `plan` rolls that transaction back itself.
    """

    def __init__(self, db: Database, session: Session) -> None:
        self.engine = db.engine
        self._session = session

    @contextmanager
    def session(self, user_login: str | None = None) -> Iterator[Session]:
        yield self._session


class ScenarioEditorService:
    """Load, check, simulate and save scenarios and templates."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def scenario_ids(self) -> tuple[int, ...]:
        """Every scenario's id, by priority."""
        with self._ctx.db.session() as s:
            return tuple(
                s.scalars(select(Scenario.id).order_by(Scenario.priority, Scenario.id))
            )

    def load(self, scenario_id: int) -> ScenarioDraft:
        """A scenario as a draft to edit.

        Raises:
            LookupError: no such scenario.
        """
        with self._ctx.db.session() as s:
            sc = s.scalars(
                select(Scenario)
                .where(Scenario.id == scenario_id)
                .options(selectinload(Scenario.steps))
            ).one_or_none()
            if sc is None:
                raise LookupError(f"scenario {scenario_id} not found")
            followers = s.scalar(
                select(func.count(Customer.id)).where(Customer.scenario_id == sc.id)
            )
            return ScenarioDraft(
                id=sc.id,
                name=sc.name,
                description=sc.description or "",
                entity_id=sc.entity_id,
                default_language=sc.default_language,
                min_gap_days=sc.min_gap_days,
                tolerance=sc.tolerance,
                catch_up=CatchUp(sc.catch_up),
                business_days=sc.business_days,
                scope=dict(sc.scope or {}),
                priority=sc.priority,
                active=sc.active,
                steps=tuple(
                    StepDraft(
                        id=st.id,
                        name=st.name,
                        offset_days=st.offset_days,
                        action_type=ActionType(st.action_type),
                        mode=StepMode(st.mode),
                        template_code=st.template_code,
                        attach_statement=st.attach_statement,
                        attach_interest=st.attach_interest,
                        contact_role=st.contact_role,
                        used=_step_used(s, st.id),
                    )
                    for st in sorted(sc.steps, key=lambda st: st.offset_days)
                ),
                version=sc.version,
                customer_count=followers or 0,
            )

    def context(self, scenario_id: int | None) -> ScenarioContext:
        """Templates that exist and the languages of the scenario's customers."""
        with self._ctx.db.session() as s:
            # Built-in templates stand in for codes the book has not stored.
            pairs = frozenset(
                [(t.code, t.language) for t in tpl.default_templates()]
                + [
                    (str(c), str(lang))
                    for c, lang in s.execute(
                        select(Template.code, Template.language).distinct()
                    ).all()
                ]
            )
            languages: set[str] = set()
            if scenario_id is not None:
                languages = {
                    str(lang)
                    for lang in s.scalars(
                        select(func.coalesce(Customer.language, Entity.language))
                        .join(Entity, Entity.id == Customer.entity_id)
                        .where(Customer.scenario_id == scenario_id)
                        .distinct()
                    )
                    if lang
                }
            entities = tuple(
                (r.id, f"{r.code} - {r.name}")
                for r in s.execute(select(Entity.id, Entity.code, Entity.name)).all()
            )
        return ScenarioContext(
            templates=pairs, languages=frozenset(languages), entities=entities
        )

    def scope_count(self, scope: Mapping[str, Any], scenario_id: int | None) -> int:
        """Customers the scope rules pick, plus those naming the scenario.

        Follows the engine's rules: scope picks customers that name no
        scenario; every given key must match.
        """
        with self._ctx.db.session() as s:
            rules: list[Any] = []
            for key, column in (
                ("entity_ids", Customer.entity_id),
                ("portfolio_ids", Customer.portfolio_id),
                ("categories", Customer.category),
                ("risk_classes", Customer.risk_class),
            ):
                if key in scope:
                    rules.append(column.in_(list(scope[key])))
            if scope.get("min_outstanding"):
                floor = Decimal(str(scope["min_outstanding"]))
                rich = (
                    select(Item.customer_id)
                    .where(Item.status == ItemStatus.OPEN)
                    .group_by(Item.customer_id)
                    .having(func.sum(Item.remaining) >= floor)
                )
                rules.append(Customer.id.in_(rich))
            picked = Customer.scenario_id.is_(None) & _and(rules) if scope else None
            named = (
                Customer.scenario_id == scenario_id if scenario_id is not None else None
            )
            where = [w for w in (picked, named) if w is not None]
            if not where:
                return 0
            return int(
                s.scalar(select(func.count(Customer.id)).where(or_(*where))) or 0
            )

    def what_if(
        self, draft: ScenarioDraft, start: dt.date, days: int = WHAT_IF_DAYS
    ) -> WhatIf:
        """The next `days` days under the current scenarios and under `draft`.

        Raises:
            DraftError: the draft can't be applied (e.g. two steps at one offset).
        """
        current = DunningService(self._ctx).plan(start, days)
        with self._ctx.db.factory() as s:
            s.info["user_login"] = self._ctx.user_login
            try:
                _apply(s, draft)
                s.flush()
                borrowed = AppContext(
                    db=cast("Database", _Borrowed(self._ctx.db, s)),
                    user_login=self._ctx.user_login,
                    settings=self._ctx.settings,
                )
                edited = DunningService(borrowed).plan(start, days)
            finally:
                s.rollback()
        return WhatIf(start=start, current=_days(current), edited=_days(edited))

    def save(self, draft: ScenarioDraft, *, confirm: bool = False) -> Changes:
        """Save the draft (create it when `id` is None).

        Raises:
            ScenarioInUseError: customers follow it and `confirm` is False.
            ConflictError: someone saved it since it was read.
            DraftError: the draft breaks a rule (see `desk.check_draft`).
        """
        ctx = self.context(draft.id)
        removed: list[StepDraft] = []
        if draft.id is not None:
            kept = {st.id for st in draft.steps}
            removed = [st for st in self.load(draft.id).steps if st.id not in kept]
        problems = desk.check_draft(draft, ctx, removed)
        if problems:
            raise DraftError("\n".join(problems))
        with self._ctx.db.session(self._ctx.user_login) as s:
            if draft.id is not None:
                sc = s.get(Scenario, draft.id)
                if sc is None:
                    raise ConflictError(f"Scenario {draft.name} was deleted.")
                if sc.version != draft.version:
                    raise ConflictError(
                        f"Scenario {sc.name} was {describe_change(sc)}. Your change "
                        "was not saved: reload and try again."
                    )
                followers = (
                    s.scalar(
                        select(func.count(Customer.id)).where(
                            Customer.scenario_id == sc.id
                        )
                    )
                    or 0
                )
                if followers and not confirm:
                    raise ScenarioInUseError(sc.name, followers)
            else:
                followers = 0
            scenario = _apply(s, draft)
            # Step-only edits must still bump the scenario's version (locking).
            flag_modified(scenario, "scope")
            s.flush()
            if followers:
                s.add(
                    AuditEntry(
                        **audit_row(
                            utcnow(),
                            self._ctx.user_login,
                            "scenario",
                            str(scenario.id),
                            "confirm",
                            {"customers": followers, "confirmed": True},
                        )
                    )
                )
        return Changes(scenarios=True)

    def export_json(self, name: str) -> str:
        """The scenario called `name` as a JSON document."""
        data = ScenarioService(self._ctx).export(name)
        return json.dumps(data, ensure_ascii=False, indent=2)

    def import_json(self, text: str) -> tuple[str, Changes]:
        """Create or update a scenario from a JSON document.

        Raises:
            o2c_desktop.services.scenarios.ScenarioError: not a valid scenario.
        """
        return ScenarioService(self._ctx).import_(json.loads(text))

    # -- templates ------------------------------------------------------------

    def templates(self) -> tuple[TemplateInfo, ...]:
        """Every stored template, by code, channel and language."""
        with self._ctx.db.session() as s:
            rows = s.scalars(
                select(Template).order_by(
                    Template.code, Template.channel, Template.language
                )
            ).all()
            return tuple(
                TemplateInfo(
                    id=t.id,
                    code=t.code,
                    channel=str(t.channel),
                    language=t.language,
                    name=t.name,
                    subject=t.subject,
                    body=t.body,
                    entity_id=t.entity_id,
                    version=t.version,
                )
                for t in rows
            )

    def sample_customers(self, limit: int = 50) -> tuple[tuple[int, str], ...]:
        """Customers with overdue items, for the preview (largest first)."""
        with self._ctx.db.session() as s:
            rows = s.execute(
                select(Customer.id, Customer.reference, Customer.name)
                .join(Item, Item.customer_id == Customer.id)
                .where(Item.status == ItemStatus.OPEN)
                .group_by(Customer.id, Customer.reference, Customer.name)
                .order_by(func.sum(Item.remaining).desc())
                .limit(limit)
            ).all()
        return tuple((r.id, f"{r.reference} - {r.name}") for r in rows)

    def preview(
        self,
        subject: str | None,
        body: str,
        language: str,
        customer_id: int,
        today: dt.date,
    ) -> tuple[tuple[str, ...], str]:
        """Problems of a template being typed and its text for a real customer.

        Returns:
            The problems ("line 3: unknown field...") and the rendered plain
            text (empty when the template has problems).
        """
        problems = tpl.validate(subject, body)
        if problems:
            return tuple(str(p) for p in problems), ""
        with self._ctx.db.session() as s:
            c = s.get(Customer, customer_id)
            if c is None:
                raise LookupError(f"customer {customer_id} not found")
            items = s.scalars(
                select(Item).where(
                    Item.customer_id == c.id, Item.status == ItemStatus.OPEN
                )
            ).all()
            e = c.entity
            ctx = build_context(
                party_of(c),
                letterhead_of(e),
                [account_item_of(i) for i in items],
                today,
                law_for(e.country),
                contractual_rate=agreed_rate(
                    c.late_interest_rate, e.late_interest_rate
                ),
                collector=Person(name=c.collector.full_name) if c.collector else None,
            )
        fields = merge_fields(ctx, language)
        text = tpl.TemplateText(
            code="PREVIEW",
            channel=Channel.EMAIL,
            language=language,
            name="preview",
            subject=subject,
            body=body,
        )
        try:
            rendered = tpl.render(text, fields)
        except tpl.TemplateError as exc:
            return tuple(str(p) for p in exc.problems), ""
        body_text = rendered.text.replace(tpl.TABLE_MARK, "[…]")
        return (), f"{rendered.subject}\n\n{body_text}".strip()

    def save_template(self, info: TemplateInfo) -> Changes:
        """Save a template's subject and body (checked first).

        Raises:
            DraftError: the template has problems.
            ConflictError: someone saved it since it was read.
        """
        problems = tpl.validate(info.subject, info.body)
        if problems:
            raise DraftError("\n".join(str(p) for p in problems))
        with self._ctx.db.session(self._ctx.user_login) as s:
            row = s.get(Template, info.id)
            if row is None or row.version != info.version:
                raise ConflictError(
                    f"Template {info.code} was "
                    f"{describe_change(row) if row else 'deleted'}. Your change was "
                    "not saved: reload and try again."
                )
            row.subject = info.subject
            row.body = info.body
            row.name = info.name
        return Changes(templates=True)


def _and(rules: Sequence[Any]) -> Any:
    from sqlalchemy import and_, true

    return and_(true(), *rules)


def _step_used(s: Session, step_id: int) -> bool:
    return bool(
        s.scalar(
            select(
                or_(
                    exists().where(Item.dunning_step_id == step_id),
                    exists().where(ActionItem.step_id == step_id),
                    exists().where(Action.step_id == step_id),
                )
            )
        )
    )


def _apply(s: Session, draft: ScenarioDraft) -> Scenario:
    """Write `draft` onto the session's rows (flushed by the caller)."""
    if draft.id is None:
        sc = Scenario(name=draft.name)
        s.add(sc)
    else:
        found = s.scalars(
            select(Scenario)
            .where(Scenario.id == draft.id)
            .options(selectinload(Scenario.steps))
        ).one()
        sc = found
    sc.name = draft.name.strip()
    sc.description = draft.description or None
    sc.entity_id = draft.entity_id
    sc.default_language = draft.default_language
    sc.min_gap_days = draft.min_gap_days
    sc.tolerance = draft.tolerance
    sc.catch_up = draft.catch_up
    sc.business_days = draft.business_days
    sc.scope = dict(draft.scope)
    sc.priority = draft.priority
    sc.active = draft.active
    current = {st.id: st for st in sc.steps}
    wanted = {st.id for st in draft.steps if st.id is not None}
    for step_id, old in current.items():
        if step_id not in wanted:
            sc.steps.remove(old)
    # Offsets are unique per scenario: park the moved steps first.
    moved = [
        current[d.id]
        for d in draft.steps
        if d.id is not None
        and d.id in current
        and current[d.id].offset_days != d.offset_days
    ]
    for n, parked in enumerate(moved, start=1):
        parked.offset_days = -(10**6) - n
    if moved:
        s.flush()
    for st in draft.steps:
        row = current.get(st.id) if st.id is not None else None
        if row is None:
            row = Step(
                name=st.name, offset_days=st.offset_days, action_type=st.action_type
            )
            sc.steps.append(row)
        row.name = st.name
        row.offset_days = st.offset_days
        row.action_type = st.action_type
        row.mode = st.mode
        row.template_code = st.template_code or None
        row.attach_statement = st.attach_statement
        row.attach_interest = st.attach_interest
        row.contact_role = st.contact_role
    return sc


def _days(plan: Sequence[Any]) -> tuple[WhatIfDay, ...]:
    return tuple(
        WhatIfDay(
            day=p.day,
            actions=p.actions,
            items=p.items,
            by_type=dict(p.by_type),
            by_channel=desk.channel_counts(p.by_type),
            by_mode=dict(p.by_mode),
            amount=sum(p.amounts.values(), Decimal("0.00")),
        )
        for p in plan
    )
