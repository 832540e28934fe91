"""What the UI needs from the layers below, as typing Protocols.

The UI may not import the services (they pull in SQLAlchemy; import-linter
forbids even indirect imports), so `app.py` hands it objects that fit these
shapes. Values crossing the boundary are the frozen dataclasses of
`o2c_desktop.engine.book`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Mapping, Sequence

    from o2c_desktop.engine.analytics import (
        DashboardData,
        DashboardFilter,
        FilterChoices,
    )
    from o2c_desktop.engine.book import (
        Agenda,
        BookSummary,
        ConnectionReport,
        CustomerPage,
        ScenarioInfo,
        StepInfo,
        UserInfo,
    )
    from o2c_desktop.engine.cases import DisputeReason
    from o2c_desktop.engine.desk import (
        EntitySettings,
        ScenarioContext,
        ScenarioDraft,
        Team,
        TemplateInfo,
        UserDraft,
        WhatIf,
    )
    from o2c_desktop.engine.risk import RiskCard
    from o2c_desktop.engine.types import ActionType
    from o2c_desktop.engine.workbench import (
        ActionDetail,
        ActionEdit,
        ConfirmPreview,
        ConfirmResult,
        ContactDraft,
        ContactInfo,
        CustomerCard,
        CustomerHit,
        DocumentInfo,
        DunningSettings,
        ItemPage,
        ItemQuery,
        MessageDraft,
        MessageOutcome,
        NewAction,
        PerformRequest,
        PerformResult,
        SettingsDraft,
        TimelinePage,
        TimelineTab,
        WorkAgenda,
    )
    from o2c_desktop.settings import Settings
    from o2c_desktop.ui.import_ports import Importer

log = logging.getLogger(__name__)


class BookQueries(Protocol):
    """Read-only queries on the open book (`services.book.BookService`)."""

    @property
    def description(self) -> str:
        """Kind and location of the database."""
        ...

    @property
    def user_login(self) -> str:
        """Login of the configured user."""
        ...

    def close(self) -> None:
        """Release the database."""

    def users(self) -> tuple[UserInfo, ...]:
        """Active users."""
        ...

    def current_user(self) -> UserInfo | None:
        """The configured user if it exists."""
        ...

    def customers(
        self, search: str, offset: int, limit: int, today: dt.date
    ) -> CustomerPage:
        """One page of matching customers."""
        ...

    def agenda(self, today: dt.date, limit: int = ...) -> Agenda:
        """The current user's waiting actions."""
        ...

    def scenarios(self) -> tuple[ScenarioInfo, ...]:
        """Every scenario."""
        ...

    def scenario_steps(self, scenario_id: int) -> tuple[StepInfo, ...]:
        """Steps of one scenario."""
        ...

    def summary(self, today: dt.date) -> tuple[BookSummary, ...]:
        """The book per currency."""
        ...


class WorkbenchCalls(Protocol):
    """The collector's workbench (`services.workbench.WorkbenchService`)."""

    def users(self) -> tuple[UserInfo, ...]:
        """Active users by name."""
        ...

    def agenda_owners(self, today: dt.date) -> tuple[UserInfo, ...]:
        """Whose agenda the current user may open, themselves first."""
        ...

    def dispute_reasons(self) -> tuple[DisputeReason, ...]:
        """The reasons a dispute may be opened with."""
        ...

    def agenda(
        self,
        today: dt.date,
        *,
        owner_id: int | None = ...,
        action_type: ActionType | None = ...,
        limit: int = ...,
    ) -> WorkAgenda:
        """A collector's waiting actions by day."""
        ...

    def preview_confirm(
        self, action_ids: Sequence[str], today: dt.date
    ) -> ConfirmPreview:
        """What confirming automatic actions would send."""
        ...

    def confirm_actions(
        self, action_ids: Sequence[str], today: dt.date
    ) -> ConfirmResult:
        """Send automatic actions waiting for a click."""
        ...

    def customer_card(self, customer_id: int, today: dt.date) -> CustomerCard:
        """The client card."""
        ...

    def items(self, customer_id: int, query: ItemQuery, today: dt.date) -> ItemPage:
        """A page of a customer's items."""
        ...

    def item_pdf(self, item_id: int) -> str:
        """The path (or address) of an item's PDF; LookupError when missing."""
        ...

    def timeline(
        self, customer_id: int, tab: TimelineTab, *, offset: int = ..., limit: int = ...
    ) -> TimelinePage:
        """One tab of a customer's timeline."""
        ...

    def action_detail(self, action_id: str, today: dt.date) -> ActionDetail:
        """The summary of an action."""
        ...

    def perform_action(self, request: PerformRequest, today: dt.date) -> PerformResult:
        """Perform an action, record its outcome, notify colleagues."""
        ...

    def create_action(self, new: NewAction, today: dt.date) -> ActionDetail:
        """Create a manual action."""
        ...

    def edit_action(self, edit: ActionEdit, today: dt.date) -> ActionDetail:
        """Change a waiting action."""
        ...

    def close_case(
        self,
        case_id: str,
        *,
        version: int,
        today: dt.date,
        comment: str | None = ...,
    ) -> None:
        """Close an action's case."""

    def edit_schedule(
        self,
        case_id: str,
        *,
        version: int,
        today: dt.date,
        count: int,
        first_due: dt.date,
        comment: str | None = ...,
    ) -> None:
        """Spread what is left of a payment plan over new instalments."""

    def update_dunning_settings(self, draft: SettingsDraft) -> DunningSettings:
        """Change how a customer is dunned."""
        ...

    def save_contact(self, customer_id: int, draft: ContactDraft) -> ContactInfo:
        """Add or change a contact."""
        ...

    def delete_contact(self, contact_id: str, version: int) -> None:
        """Remove a contact."""

    def search_customers(self, term: str, limit: int = ...) -> tuple[CustomerHit, ...]:
        """Customers by name, reference, SIREN or invoice number (Ctrl+K)."""
        ...

    def prepare_message(
        self,
        action_id: str,
        today: dt.date,
        *,
        subject: str | None = ...,
        body: str | None = ...,
    ) -> MessageDraft:
        """A letter or email action rendered for the message editor."""
        ...

    def attach_statement(self, action_id: str, today: dt.date) -> DocumentInfo:
        """The customer's statement of account, kept with the action."""
        ...

    def document_file(self, document_id: str, folder: str) -> str:
        """Write a stored document into a folder; returns its path."""
        ...

    def send_message(
        self,
        action_id: str,
        subject: str,
        body: str,
        attachment_ids: Sequence[str],
        today: dt.date,
        *,
        as_eml_path: str | None = ...,
    ) -> MessageOutcome:
        """Send a letter or email as edited, or save the email as .eml."""
        ...

    def mark_eml_sent(
        self,
        action_id: str,
        eml_path: str,
        today: dt.date,
        *,
        version: int | None = ...,
    ) -> MessageOutcome:
        """Record an email saved as .eml as sent from the user's mail client."""
        ...


class DashboardQueries(Protocol):
    """The dashboards (`services.dashboards.DashboardService`)."""

    def choices(self, today: dt.date) -> FilterChoices:
        """What the filter bar offers."""
        ...

    def dashboard(self, key: str, f: DashboardFilter, today: dt.date) -> DashboardData:
        """One dashboard's figures."""
        ...

    def drill(
        self, key: str, f: DashboardFilter, today: dt.date, category: int
    ) -> DashboardData:
        """The items behind one bar."""
        ...


class ScenarioEditing(Protocol):
    """The scenario editor (`services.scenario_editor.ScenarioEditorService`)."""

    def load(self, scenario_id: int) -> ScenarioDraft:
        """A scenario as a draft."""
        ...

    def context(self, scenario_id: int | None) -> ScenarioContext:
        """Templates and languages to check a draft against."""
        ...

    def scope_count(self, scope: Mapping[str, Any], scenario_id: int | None) -> int:
        """Customers the scope picks."""
        ...

    def what_if(self, draft: ScenarioDraft, start: dt.date, days: int = ...) -> WhatIf:
        """The next days under the current and the edited scenario."""
        ...

    def save(self, draft: ScenarioDraft, *, confirm: bool = ...) -> object:
        """Save a draft (confirm when customers follow it)."""
        ...

    def export_json(self, name: str) -> str:
        """A scenario as JSON."""
        ...

    def import_json(self, text: str) -> tuple[str, object]:
        """Create or update a scenario from JSON."""
        ...

    def templates(self) -> tuple[TemplateInfo, ...]:
        """Every template."""
        ...

    def sample_customers(self, limit: int = ...) -> tuple[tuple[int, str], ...]:
        """Customers to preview templates on."""
        ...

    def preview(
        self,
        subject: str | None,
        body: str,
        language: str,
        customer_id: int,
        today: dt.date,
    ) -> tuple[tuple[str, ...], str]:
        """Problems and rendered text of a template being typed."""
        ...

    def save_template(self, info: TemplateInfo) -> object:
        """Save a template."""
        ...


class RiskCalls(Protocol):
    """The risk watch's view of a customer (issue 19)."""

    def card(self, customer_id: int, today: dt.date) -> RiskCard:
        """Rating with its history, limit vs exposure, insolvency deadline."""
        ...


class TeamCalls(Protocol):
    """Team and portfolios (`services.team.TeamService`); managers change them."""

    def team(self) -> Team:
        """Users, portfolios, entities, and whether the current user may edit."""
        ...

    def pending_count(self, user_id: int) -> int:
        """Actions waiting for a user (what a reassignment would move)."""
        ...

    def save_user(self, draft: UserDraft) -> object:
        """Add a user or change one."""
        ...

    def set_absence(
        self,
        user_id: int,
        absent_from: dt.date | None,
        absent_until: dt.date | None,
        replacement_id: int | None,
        version: int,
        *,
        reassign: bool = ...,
    ) -> int:
        """Record an absence; returns how many actions went to the replacement."""
        ...

    def set_portfolio_collector(
        self, portfolio_id: int, collector_id: int | None, version: int
    ) -> object:
        """Give a portfolio and its customers to another collector."""
        ...

    def save_entity(self, settings: EntitySettings) -> object:
        """Save an entity's letterhead, legal ids and bank details."""
        ...


@dataclass(frozen=True)
class Workspace:
    """An open database with the person working on it.

    Attributes:
        book: the read queries.
        user: the current user, None when not set or unknown in this database.
        workbench: the agenda, client card and action processing calls.
        dashboards: the credit manager's dashboards.
        editor: the scenario and template editor.
        team: users, absences, portfolios and entity settings.
        importer: aged-balance imports into this database.
        risk: the customer's rating, limit and insolvency watch.
        settings: set when opening changed the settings (the demo book made
            its collector the current user); the window adopts them.
    """

    book: BookQueries
    user: UserInfo | None
    dashboards: DashboardQueries | None = None
    editor: ScenarioEditing | None = None
    workbench: WorkbenchCalls | None = None
    team: TeamCalls | None = None
    importer: Importer | None = None
    risk: RiskCalls | None = None
    settings: Settings | None = None

    @property
    def description(self) -> str:
        """Kind and location of the database."""
        return self.book.description


@dataclass(frozen=True)
class Backend:
    """The calls that reach below the UI, wired by `app.py`.

    Attributes:
        open_workspace: opens (and upgrades) the database at a URL, for the
            user of some settings.
        check_connection: tests a URL and password, writing nothing.
        today: the current day (a parameter, so tests and screenshots fix it).
        newer_schema_errors: what `open_workspace` raises for a database a
            newer version of the app upgraded: the window says to install it.
    """

    open_workspace: Callable[[Settings, str], Workspace]
    check_connection: Callable[[str, str | None], ConnectionReport]
    today: Callable[[], dt.date]
    newer_schema_errors: tuple[type[BaseException], ...] = ()
