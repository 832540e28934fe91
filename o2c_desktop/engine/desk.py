"""Values of the credit manager's desk: scenario drafts, what-ifs, team (issue #8).

Pure: the scenario editor edits a `ScenarioDraft` in memory, `check_draft`
says what is wrong with it as the user types, and the service saves it.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from o2c_desktop.engine.dunning import channel_of
from o2c_desktop.engine.types import ActionType, CatchUp, Role, StepMode
from o2c_desktop.i18n import _

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Collection, Mapping, Sequence

log = logging.getLogger(__name__)

# Keys of a scenario's scope that the engine reads (engine.dunning._scope_matches).
SCOPE_KEYS = ("entity_ids", "portfolio_ids", "categories", "risk_classes")


@dataclass(frozen=True)
class StepDraft:
    """One step as the editor holds it; `id` None for a new step."""

    name: str
    offset_days: int
    action_type: ActionType
    mode: StepMode = StepMode.AUTOMATIC
    template_code: str | None = None
    attach_statement: bool = False
    attach_interest: bool = False
    contact_role: str | None = None
    id: int | None = None
    used: bool = False  # a run already did it for some items: it can't be deleted

    def moved(self, offset_days: int) -> StepDraft:
        """The same step at another offset."""
        return dataclasses.replace(self, offset_days=offset_days)


@dataclass(frozen=True)
class ScenarioDraft:
    """A scenario's card, steps and scope as the editor holds them.

    Attributes:
        version: the version read (optimistic locking); 0 for a new scenario.
        customer_count: customers following it when it was read.
    """

    id: int | None
    name: str
    description: str = ""
    entity_id: int | None = None
    default_language: str = "fr"
    min_gap_days: int = 7
    tolerance: Decimal = Decimal("5.00")
    catch_up: CatchUp = CatchUp.ONE_STEP
    business_days: bool = True
    scope: Mapping[str, Any] = field(default_factory=dict)
    priority: int = 100
    active: bool = True
    steps: tuple[StepDraft, ...] = ()
    version: int = 0
    customer_count: int = 0

    def with_steps(self, steps: Sequence[StepDraft]) -> ScenarioDraft:
        """The draft with `steps`, ordered by offset."""
        return dataclasses.replace(
            self, steps=tuple(sorted(steps, key=lambda s: s.offset_days))
        )

    def replace(self, **changes: Any) -> ScenarioDraft:
        """The draft with some fields changed."""
        return dataclasses.replace(self, **changes)


@dataclass(frozen=True)
class TemplateInfo:
    """A stored template, as the template editor lists it."""

    id: int
    code: str
    channel: str
    language: str
    name: str
    subject: str | None
    body: str
    entity_id: int | None = None
    version: int = 1


@dataclass(frozen=True)
class ScenarioContext:
    """What checking a draft needs from the book.

    Attributes:
        templates: (code, language) pairs that exist.
        languages: the languages of the customers the scenario would chase.
        removed_used: names of removed steps that runs already used.
    """

    templates: frozenset[tuple[str, str]]
    languages: frozenset[str]
    entities: tuple[tuple[int, str], ...] = ()


def check_draft(
    draft: ScenarioDraft,
    ctx: ScenarioContext,
    removed: Collection[StepDraft] = (),
) -> list[str]:
    """Problems that forbid saving `draft`, in the user's language.

    Rules: a name; no two steps at the same offset; a template in every
    language in use for every step that sends one; gap and tolerance not
    negative; steps already used by a run can't be deleted.
    """
    problems: list[str] = []
    if not draft.name.strip():
        problems.append(_("The scenario needs a name."))
    if draft.min_gap_days < 0:
        problems.append(_("The minimum gap can't be negative."))
    if draft.tolerance < 0:
        problems.append(_("The tolerance can't be negative."))
    seen: dict[int, str] = {}
    for step in draft.steps:
        if step.offset_days in seen:
            problems.append(
                _("Steps {a} and {b} are both at {n} days.").format(
                    a=seen[step.offset_days], b=step.name, n=step.offset_days
                )
            )
        seen[step.offset_days] = step.name
        if not step.name.strip():
            problems.append(_("A step needs a name."))
    languages = sorted(ctx.languages | {draft.default_language})
    for step in draft.steps:
        if channel_of(step.action_type) is None:
            continue
        if not step.template_code:
            problems.append(
                _("Step {step} sends a document but has no template.").format(
                    step=step.name
                )
            )
            continue
        missing = [
            lang
            for lang in languages
            if (step.template_code, lang) not in ctx.templates
        ]
        if missing:
            problems.append(
                _("Template {code} of step {step} is missing in: {languages}.").format(
                    code=step.template_code,
                    step=step.name,
                    languages=", ".join(m.upper() for m in missing),
                )
            )
    for step in removed:
        if step.used:
            problems.append(
                _("Step {step} was already used by dunning runs: keep it.").format(
                    step=step.name
                )
            )
    return problems


@dataclass(frozen=True)
class WhatIfDay:
    """One day of a 30-day plan, counted."""

    day: dt.date
    actions: int
    items: int
    by_type: Mapping[str, int]
    by_channel: Mapping[str, int]
    by_mode: Mapping[str, int]
    amount: Decimal


@dataclass(frozen=True)
class WhatIfTotals:
    """A plan's totals: actions, items, amounts, automatic share."""

    actions: int
    items: int
    amount: Decimal
    automatic: int
    by_type: Mapping[str, int]
    by_channel: Mapping[str, int]

    @property
    def automatic_share(self) -> Decimal:
        """Automatic actions in percent of all actions."""
        if not self.actions:
            return Decimal("0.0")
        return (Decimal(self.automatic) / self.actions * 100).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class WhatIf:
    """The next days under the current scenarios and under the edited one."""

    start: dt.date
    current: tuple[WhatIfDay, ...]
    edited: tuple[WhatIfDay, ...]

    @staticmethod
    def totals(days: Sequence[WhatIfDay]) -> WhatIfTotals:
        """Sum a plan's days."""
        by_type: dict[str, int] = {}
        by_channel: dict[str, int] = {}
        automatic = 0
        for d in days:
            for k, v in d.by_type.items():
                by_type[k] = by_type.get(k, 0) + v
            for k, v in d.by_channel.items():
                by_channel[k] = by_channel.get(k, 0) + v
            automatic += d.by_mode.get(StepMode.AUTOMATIC.value, 0)
        return WhatIfTotals(
            actions=sum(d.actions for d in days),
            items=sum(d.items for d in days),
            amount=sum((d.amount for d in days), Decimal("0.00")),
            automatic=automatic,
            by_type=by_type,
            by_channel=by_channel,
        )


def channel_counts(by_type: Mapping[str, int]) -> dict[str, int]:
    """Actions per channel (email, letter, sms, or "none" for calls and tasks)."""
    out: dict[str, int] = {}
    for kind, n in by_type.items():
        channel = channel_of(ActionType(kind))
        key = channel.value if channel is not None else "none"
        out[key] = out.get(key, 0) + n
    return out


@dataclass(frozen=True)
class TeamMember:
    """A user as the team page shows them."""

    id: int
    login: str
    full_name: str
    email: str | None
    role: Role
    active: bool
    absent_from: dt.date | None
    absent_until: dt.date | None
    replacement_id: int | None
    pending_actions: int
    version: int


@dataclass(frozen=True)
class UserDraft:
    """A user as the team page edits them; `id` None for a new user.

    Attributes:
        version: the version read (optimistic locking); 0 for a new user.
    """

    login: str
    full_name: str
    email: str | None = None
    role: Role = Role.COLLECTOR
    active: bool = True
    id: int | None = None
    version: int = 0


def check_user(draft: UserDraft, logins: Collection[str] = ()) -> list[str]:
    """Problems that forbid saving a user, in the user's language.

    Args:
        draft: the user as edited.
        logins: logins already taken by other users.
    """
    problems: list[str] = []
    login = draft.login.strip()
    if not login:
        problems.append(_("The user needs a login."))
    elif draft.id is None and login in logins:
        problems.append(_("Login {login} is already taken.").format(login=login))
    if not draft.full_name.strip():
        problems.append(_("The user needs a name."))
    if draft.email and "@" not in draft.email:
        problems.append(_("The email address is not valid."))
    return problems


@dataclass(frozen=True)
class PortfolioInfo:
    """A portfolio and its collector."""

    id: int
    code: str
    name: str
    entity_id: int | None
    collector_id: int | None
    customers: int
    version: int


@dataclass(frozen=True)
class EntitySettings:
    """A selling entity's letterhead, legal ids, bank details (editable)."""

    id: int
    code: str
    name: str
    legal_form: str | None = None
    currency: str = "EUR"
    country: str = "FR"
    language: str = "fr"
    legal_id: str | None = None
    vat_number: str | None = None
    share_capital: str | None = None
    trade_registry: str | None = None
    address1: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None
    iban: str | None = None
    bic: str | None = None
    letterhead_note: str | None = None
    # Terms-of-sale late-payment rate, % a year; None = the statutory rate.
    late_interest_rate: Decimal | None = None
    version: int = 1


@dataclass(frozen=True)
class Team:
    """Everything the team page shows."""

    members: tuple[TeamMember, ...]
    portfolios: tuple[PortfolioInfo, ...]
    entities: tuple[EntitySettings, ...]
    can_edit: bool
