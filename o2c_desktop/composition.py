"""The one composition root: the app and every `o2c` command start here (issue 13).

`build_services` opens the configured database (upgrading it), reads the
secrets it needs from the keyring, builds the mail settings once, the outbox
and its performers, and every service with its collaborators handed in
through the constructor. `app.open_workspace` shows them to the UI;
`cli._common.services` hands them to a command. A new connector is built
here too, and given to the services that use it.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING

from o2c_desktop.models.db import open_database
from o2c_desktop.services.book import BookService
from o2c_desktop.services.cases import CasesService
from o2c_desktop.services.context import AppContext, database_password
from o2c_desktop.services.dashboards import DashboardService
from o2c_desktop.services.documents import DocumentService
from o2c_desktop.services.dunning import DunningService
from o2c_desktop.services.importing import ImportService
from o2c_desktop.services.outbox import NO_RETRY, Outbox, action_outbox
from o2c_desktop.services.scenario_editor import ScenarioEditorService
from o2c_desktop.services.scenarios import ScenarioService
from o2c_desktop.services.team import TeamService
from o2c_desktop.services.workbench import WorkbenchService
from o2c_desktop.sync import mail as mailer

if TYPE_CHECKING:
    from o2c_desktop.services.risk import RiskService
    from o2c_desktop.settings import Settings

log = logging.getLogger(__name__)


def mail_config(settings: Settings) -> mailer.MailConfig:
    """The mail server of `settings`, its password from the keyring."""
    return mailer.config_from_settings(settings)


@dataclass
class Services:
    """Everything a front end calls, wired once.

    Attributes:
        ctx: the database, the user and the settings.
        mail: the mail server (its host empty when not configured).
    """

    ctx: AppContext
    mail: mailer.MailConfig
    _closed: bool = field(default=False, repr=False)

    @property
    def settings(self) -> Settings:
        """The settings the services were built with."""
        return self.ctx.settings

    @cached_property
    def documents(self) -> DocumentService:
        """Letters, statements and emails; the performer of the outbox."""
        return DocumentService(self.ctx, self.mail)

    @cached_property
    def outbox(self) -> Outbox:
        """The outbox of automatic actions (email, letter), retrying later."""
        return action_outbox(self.ctx, self.documents)

    @cached_property
    def cases(self) -> CasesService:
        """Promises, plans, disputes and litigation."""
        return CasesService(self.ctx, documents=self.documents)

    @cached_property
    def dunning(self) -> DunningService:
        """Dunning runs; with a mail server, sending through the outbox.

        Without one, automatic actions wait "to confirm" with the reason.
        """
        outbox = self.outbox if self.settings.smtp_host else None
        return DunningService(self.ctx, outbox=outbox)

    @cached_property
    def book(self) -> BookService:
        """The read queries of the book."""
        return BookService(self.ctx)

    @cached_property
    def workbench(self) -> WorkbenchService:
        """Agenda, client card, action processing."""
        # A human waits on the click: a failure goes back to the agenda at once.
        return WorkbenchService(
            self.ctx,
            documents=self.documents,
            mail=self.mail,
            outbox=action_outbox(self.ctx, self.documents, retry=NO_RETRY),
            cases=CasesService(self.ctx),
        )

    @cached_property
    def importer(self) -> ImportService:
        """Aged-balance imports, undo and export."""
        share = Decimal(self.settings.import_max_close_share) / 100
        return ImportService(self.ctx.db, self.ctx.user_login, max_close_share=share)

    @cached_property
    def dashboards(self) -> DashboardService:
        """The credit manager's dashboards."""
        return DashboardService(self.ctx)

    @cached_property
    def editor(self) -> ScenarioEditorService:
        """The scenario and template editor."""
        return ScenarioEditorService(self.ctx)

    @cached_property
    def scenarios(self) -> ScenarioService:
        """Scenario export and import."""
        return ScenarioService(self.ctx)

    @cached_property
    def team(self) -> TeamService:
        """Users, absences, portfolios and entity settings."""
        return TeamService(self.ctx)

    @cached_property
    def risk(self) -> RiskService:
        """Ratings, limits, alerts and the insolvency watch, with its providers."""
        # Loaded on first use: not on the way to the agenda.
        from o2c_desktop.services.risk import RiskService, default_connectors

        return RiskService(self.ctx, default_connectors(self.ctx))

    def close(self) -> None:
        """Release the database connections."""
        if not self._closed:
            self._closed = True
            self.ctx.close()


def build_services(
    settings: Settings, *, url: str | None = None, migrate: bool = True
) -> Services:
    """Open the database (`url`, else the settings') and wire the services.

    Raises:
        o2c_desktop.models.db.DatabaseError: with a message for the user.
    """
    url = url or settings.effective_database_url
    db = open_database(url, password=database_password(url), migrate=migrate)
    ctx = AppContext(db=db, user_login=settings.effective_user, settings=settings)
    return Services(ctx=ctx, mail=mail_config(settings))
