"""The scenario editor's service: check, what-if, save with confirmation, JSON."""

from __future__ import annotations

import dataclasses
import re
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import select

from o2c_desktop.engine.desk import ScenarioContext, ScenarioDraft, check_draft
from o2c_desktop.engine.types import ActionType, Channel
from o2c_desktop.models import AuditEntry, Scenario, Template
from o2c_desktop.models.repo import ConflictError
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.scenario_editor import (
    DraftError,
    ScenarioEditorService,
    ScenarioInUseError,
)
from tests.services._view_book import TODAY, build_view_book

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

Editor = tuple[ScenarioEditorService, dict[str, int]]


@pytest.fixture
def editor(db: Database) -> tuple[ScenarioEditorService, dict[str, int]]:
    ids = build_view_book(db)
    return ScenarioEditorService(AppContext(db=db, user_login="egermain")), ids


def test_two_steps_at_one_offset_and_missing_templates_are_reported(
    editor: Editor,
) -> None:
    service, ids = editor
    draft = service.load(ids["scenario"])
    steps = list(draft.steps)
    steps[1] = steps[1].moved(steps[0].offset_days)
    ctx = ScenarioContext(
        templates=frozenset({("FR EMAIL PRE-RELANCE J-10", "fr")}),
        languages=frozenset({"fr", "en"}),
    )
    problems = check_draft(draft.with_steps(steps), ctx)
    assert any("both at -15 days" in p for p in problems)
    assert any("missing in: EN" in p for p in problems)


def test_what_if_changes_when_a_step_moves_and_save_needs_confirmation(
    editor: Editor, db: Database
) -> None:
    service, ids = editor
    draft = service.load(ids["scenario"])
    assert draft.customer_count == 2
    # Remove every step after the pre-reminder: the what-if loses those actions.
    lighter = draft.with_steps([draft.steps[0]])
    what_if = service.what_if(lighter, TODAY, 30)
    before = what_if.totals(what_if.current)
    after = what_if.totals(what_if.edited)
    # Over 30 days the eight steps make 10 actions on 22 item-steps for the two
    # customers (F-3's pre-reminder never rides along with Monnier's overdue
    # reminders); the pre-reminder alone reaches F-3 only, netted of AV-1.
    assert (before.actions, before.items, before.automatic) == (10, 22, 2)
    assert before.by_type == {"phone_call": 4, "letter": 4, "registered_letter": 2}
    assert (after.actions, after.items, after.by_type) == (1, 1, {"email": 1})
    assert after.amount == Decimal("400.00")  # F-3's 500.00 less AV-1's 100.00
    # nothing was saved by the what-if
    assert len(service.load(ids["scenario"]).steps) == len(draft.steps)

    call = draft.steps[2]
    edited = draft.with_steps([*draft.steps[:2], call.moved(7), *draft.steps[3:]])
    with db.session() as s:  # templates for every step, so the draft is valid
        for st in edited.steps:
            if st.template_code:
                s.add(
                    Template(
                        code=st.template_code,
                        channel="letter",
                        language="fr",
                        name=st.template_code,
                        body="Bonjour",
                    )
                )
    with pytest.raises(ScenarioInUseError):
        service.save(edited)
    service.save(edited, confirm=True)
    saved = service.load(ids["scenario"])
    assert [s.offset_days for s in saved.steps][2] == 7
    assert saved.steps[2].action_type == ActionType.PHONE_CALL
    with db.session() as s:
        entry = s.scalars(
            select(AuditEntry).where(AuditEntry.operation == "confirm")
        ).one()
        assert entry.user_login == "egermain"
        assert entry.changes["customers"] == 2
    with pytest.raises(ConflictError):
        service.save(edited, confirm=True)  # stale version


def test_scope_count_and_json_round_trip(editor: Editor, db: Database) -> None:
    service, ids = editor
    scenario = ids["scenario"]
    # Monnier and Denis name the scenario; Allain (entity 1, nothing owed) and
    # Torres (entity 2, 50.00 owed) are left to the scope rules.
    assert service.scope_count({}, scenario) == 2
    assert service.scope_count({"entity_ids": [1]}, None) == 1
    assert service.scope_count({"entity_ids": [2]}, scenario) == 3
    assert service.scope_count({"entity_ids": [1, 2]}, None) == 2
    assert (
        service.scope_count({"entity_ids": [1, 2], "min_outstanding": "50"}, None) == 1
    )
    assert (
        service.scope_count({"entity_ids": [1, 2], "min_outstanding": "50.01"}, None)
        == 0
    )
    text = service.export_json("Standard")
    name, _changes = service.import_json(text.replace('"Standard"', '"Copie"', 1))
    assert name == "Copie"
    with db.session() as s:
        copy_id = s.scalar(select(Scenario.id).where(Scenario.name == "Copie"))
    assert copy_id is not None
    original, copy = service.load(scenario), service.load(copy_id)

    def shape(draft: ScenarioDraft) -> list[tuple[object, ...]]:
        return [
            (
                st.name,
                st.offset_days,
                st.action_type,
                st.mode,
                st.template_code,
                st.attach_statement,
                st.attach_interest,
                st.contact_role,
            )
            for st in draft.steps
        ]

    assert len(copy.steps) == 8
    assert shape(copy) == shape(original)
    assert (copy.min_gap_days, copy.tolerance, copy.catch_up) == (
        original.min_gap_days,
        original.tolerance,
        original.catch_up,
    )


def test_template_preview_shows_errors_then_text(editor: Editor) -> None:
    service, ids = editor
    problems, text = service.preview(
        "Relance", "Bonjour {{ customer.nom }}", "fr", ids["monnier"], TODAY
    )
    assert problems
    assert "customer.nom" in problems[0]
    problems, text = service.preview(
        "Relance {{ customer.name }}", "Bonjour", "fr", ids["monnier"], TODAY
    )
    assert problems == ()
    assert "Monnier et Fils" in text


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("Bonjour {{ customer.name|safe }}", "line 1: the safe filter is not allowed"),
        (
            "{% autoescape false %}{{ customer.name }}{% endautoescape %}",
            "autoescape cannot be turned off",
        ),
        (
            "Bonjour\n{% for i in range(100000) %}{% for j in range(100000) %}x"
            "{% endfor %}{% endfor %}",
            "line 2: this loop runs 100000 times, more than the limit of 10000",
        ),
        ("{{ 9**(9**9) }}", "the power operator ** is not allowed"),
    ],
)
def test_a_template_that_could_hang_a_run_is_refused_at_save_with_the_reason(
    editor: Editor, db: Database, body: str, reason: str
) -> None:
    service, ids = editor
    with db.session("egermain") as s:
        s.add(
            Template(
                code="REMINDER_1",
                channel=Channel.EMAIL,
                language="fr",
                name="Relance 1",
                subject="Relance",
                body="Bonjour",
            )
        )
    (info,) = service.templates()
    with pytest.raises(DraftError, match=re.escape(reason)):
        service.save_template(dataclasses.replace(info, body=body))
    (stored,) = service.templates()
    assert stored.body == "Bonjour"
    # The editor's preview names the same reason while it is typed.
    problems, text = service.preview(None, body, "fr", ids["monnier"], TODAY)
    assert reason in "\n".join(problems)
    assert text == ""
