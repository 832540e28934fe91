"""Scenarios to and from JSON files, so they can be versioned and shared."""

from __future__ import annotations

import logging
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from sqlalchemy import exists, or_, select
from sqlalchemy.orm import selectinload

from o2c_desktop.engine.cases import DEFAULT_PLAN_GRACE_DAYS
from o2c_desktop.engine.types import ActionType, CatchUp, StepMode
from o2c_desktop.models import Action, ActionItem, Item, Scenario, Step
from o2c_desktop.services.context import Changes

if TYPE_CHECKING:
    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

FORMAT = "o2c-scenario/1"


class ScenarioError(Exception):
    """A scenario file or name that can't be used; the message says why."""


class ScenarioService:
    """Export and import dunning scenarios."""

    def __init__(self, ctx: AppContext) -> None:
        self._ctx = ctx

    def export(self, name: str) -> dict[str, Any]:
        """The scenario called `name` as JSON-ready data.

        Raises:
            ScenarioError: no scenario has that name.
        """
        with self._ctx.db.session(self._ctx.user_login) as s:
            scenario = s.scalars(
                select(Scenario)
                .where(Scenario.name == name)
                .options(selectinload(Scenario.steps))
            ).one_or_none()
            if scenario is None:
                raise ScenarioError(f"no scenario named {name!r}")
            return {
                "format": FORMAT,
                "name": scenario.name,
                "description": scenario.description,
                "default_language": scenario.default_language,
                "min_gap_days": scenario.min_gap_days,
                "plan_grace_days": scenario.plan_grace_days,
                "tolerance": str(scenario.tolerance),
                "tolerances": dict(scenario.tolerances or {}),
                "catch_up": scenario.catch_up.value,
                "business_days": scenario.business_days,
                "scope": scenario.scope or {},
                "priority": scenario.priority,
                "active": scenario.active,
                "steps": [
                    {
                        "name": st.name,
                        "offset_days": st.offset_days,
                        "action_type": st.action_type.value,
                        "mode": st.mode.value,
                        "template_code": st.template_code,
                        "attach_statement": st.attach_statement,
                        "attach_interest": st.attach_interest,
                        "contact_role": st.contact_role,
                    }
                    for st in sorted(scenario.steps, key=lambda st: st.offset_days)
                ],
            }

    def import_(self, data: dict[str, Any]) -> tuple[str, Changes]:
        """Create the scenario, or update the one of the same name.

        Steps are matched by offset. A step that was used by a run can't be
        removed (items remember it), so such an import is refused whole.

        Returns:
            The scenario's name and what changed.

        Raises:
            ScenarioError: invalid data, or a used step would be removed.
        """
        values, steps = _validate(data)
        with self._ctx.db.session(self._ctx.user_login) as s:
            scenario = s.scalars(
                select(Scenario)
                .where(Scenario.name == values["name"])
                .options(selectinload(Scenario.steps))
            ).one_or_none()
            if scenario is None:
                scenario = Scenario(**values)
                s.add(scenario)
            else:
                for key, value in values.items():
                    setattr(scenario, key, value)
            current = {st.offset_days: st for st in scenario.steps}
            removed = [st for off, st in current.items() if off not in steps]
            used = [st.name for st in removed if _step_used(s, st.id)]
            if used:
                raise ScenarioError(
                    f"steps {', '.join(used)} of {values['name']!r} were already "
                    "used by dunning runs and can't be removed; keep them in the file"
                )
            for st in removed:
                scenario.steps.remove(st)
            for offset, fields in steps.items():
                if offset in current:
                    for key, value in fields.items():
                        setattr(current[offset], key, value)
                else:
                    scenario.steps.append(Step(**fields))
        return values["name"], Changes(scenarios=True)


def _step_used(s: Any, step_id: int) -> bool:
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


def _validate(data: Any) -> tuple[dict[str, Any], dict[int, dict[str, Any]]]:
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ScenarioError(f"not a scenario file (expected format {FORMAT!r})")
    try:
        name = str(data["name"]).strip()
        if not name:
            raise ScenarioError("the scenario has no name")
        values: dict[str, Any] = {
            "name": name,
            "description": data.get("description"),
            "default_language": str(data.get("default_language", "fr")),
            "min_gap_days": int(data.get("min_gap_days", 7)),
            "plan_grace_days": int(
                data.get("plan_grace_days", DEFAULT_PLAN_GRACE_DAYS)
            ),
            "tolerance": Decimal(str(data.get("tolerance", "5.00"))),
            "tolerances": _tolerances(data.get("tolerances") or {}),
            "catch_up": CatchUp(data.get("catch_up", CatchUp.ONE_STEP.value)),
            "business_days": bool(data.get("business_days", True)),
            "scope": dict(data.get("scope") or {}),
            "priority": int(data.get("priority", 100)),
            "active": bool(data.get("active", True)),
        }
        steps: dict[int, dict[str, Any]] = {}
        for raw in data.get("steps", []):
            offset = int(raw["offset_days"])
            if offset in steps:
                raise ScenarioError(f"two steps at {offset} days")
            steps[offset] = {
                "name": str(raw["name"]),
                "offset_days": offset,
                "action_type": ActionType(raw["action_type"]),
                "mode": StepMode(raw.get("mode", StepMode.AUTOMATIC.value)),
                "template_code": raw.get("template_code"),
                "attach_statement": bool(raw.get("attach_statement", False)),
                "attach_interest": bool(raw.get("attach_interest", False)),
                "contact_role": raw.get("contact_role"),
            }
    except (KeyError, TypeError, ValueError, InvalidOperation) as exc:
        raise ScenarioError(f"invalid scenario file: {exc!r}") from exc
    negative = any(Decimal(v) < 0 for v in values["tolerances"].values())
    if values["plan_grace_days"] < 0:
        raise ScenarioError("plan_grace_days can't be negative")
    if values["min_gap_days"] < 0 or values["tolerance"] < 0 or negative:
        raise ScenarioError("min_gap_days and tolerance can't be negative")
    return values, steps


def _tolerances(raw: Any) -> dict[str, str]:
    """Per-currency minimum amounts, {"GBP": "5.00"}, as the column stores them."""
    if not isinstance(raw, dict):
        raise ScenarioError("tolerances must map currency codes to amounts")
    out = {}
    for code, amount in raw.items():
        currency = str(code).strip().upper()
        if len(currency) != 3 or not currency.isalpha():
            raise ScenarioError(f"not a currency code: {code!r}")
        out[currency] = str(Decimal(str(amount)).quantize(Decimal("0.01")))
    return out
