"""Risk connectors: BODACC notices, company identity (Sirene), Creditsafe reports.

Every connector is database-free and answers the same small interface,
`RiskConnector`: `lookup(siren)`, `events(since)`, `report(id)`. Each call
returns its value and a list of `RiskError` values (errors as values): one
bad notice is reported, not fatal; a provider that is down says so and the
caller keeps its cursor, so the next sync catches up.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import datetime as dt
    from decimal import Decimal

    from o2c_desktop.engine.risk import NoticeKind, Procedure

BODACC = "bodacc"
SIRENE = "sirene"
CREDITSAFE = "creditsafe"
SOURCES = (BODACC, SIRENE, CREDITSAFE)


@dataclass(frozen=True)
class RiskError:
    """One thing a provider could not give, with the remote id when known.

    Attributes:
        source: the provider.
        code: ``network``, ``http``, ``rate_limited``, ``auth``, ``not_found``,
            ``payload`` or ``invalid_siren``.
        message: one line for the user.
        remote_id: the notice, company or SIREN concerned.
        retry_after: seconds the provider asked to wait (429).
    """

    source: str
    code: str
    message: str
    remote_id: str | None = None
    retry_after: float | None = None

    def __str__(self) -> str:
        where = f" [{self.remote_id}]" if self.remote_id else ""
        return f"{self.source}{where}: {self.message}"


@dataclass(frozen=True)
class RiskEvent:
    """A notice or a provider event, as stored in `risk_event`.

    Attributes:
        source: the provider.
        external_id: the provider's id, unique per source.
        sirens: every valid SIREN the event names (a notice may name several).
        kind: what happened.
        procedure: the proceeding, for BODACC judgments.
        published_on: publication (BODACC) or event date.
        effective_on: the judgment's date, when readable.
        tribunal: the court.
        mandatary: the mandataire judiciaire or liquidator named.
        url: where a person reads it.
        summary: one line for the alert list.
        old_value: the value before, for provider events.
        new_value: the value after.
        provider_id: the provider's company id (Creditsafe connectId).
        raw: the payload as received.
    """

    source: str
    external_id: str
    sirens: tuple[str, ...]
    kind: NoticeKind
    published_on: dt.date
    procedure: Procedure | None = None
    effective_on: dt.date | None = None
    tribunal: str = ""
    mandatary: str = ""
    url: str = ""
    summary: str = ""
    old_value: str = ""
    new_value: str = ""
    provider_id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


@dataclass(frozen=True)
class CompanyIdentity:
    """Who a SIREN is, by a provider."""

    source: str
    siren: str
    name: str
    active: bool
    ceased_on: dt.date | None = None
    address: str = ""
    naf: str = ""
    vat_numbers: tuple[str, ...] = ()
    provider_id: str = ""
    url: str = ""


@dataclass(frozen=True)
class RatingPoint:
    """A rating at a date (a report's history)."""

    on: dt.date
    rating: str | None
    score: Decimal | None = None
    limit: Decimal | None = None


@dataclass(frozen=True)
class CompanyReport:
    """A provider's report on one company.

    Attributes:
        rating: the common rating A-E, None when absent.
        score: the provider's score; None when "Not Rated".
        score_text: the score as the provider wrote it.
        provider_limit: the suggested credit limit; None when "not applicable".
        previous_rating: the rating before the last change.
        rating_changed_on: when it changed.
        history: earlier ratings, newest first.
        events: notices the report carries (BODACC's report is one notice).
    """

    source: str
    provider_id: str
    siren: str
    name: str
    rating: str | None = None
    rating_description: str = ""
    score: Decimal | None = None
    score_text: str = ""
    provider_limit: Decimal | None = None
    currency: str = "EUR"
    contract_limit: Decimal | None = None
    previous_rating: str | None = None
    rating_changed_on: dt.date | None = None
    status: str = ""
    history: tuple[RatingPoint, ...] = ()
    events: tuple[RiskEvent, ...] = ()
    url: str = ""
    raw: dict[str, Any] = field(default_factory=dict, compare=False)


class RiskConnector(Protocol):
    """What every risk provider answers (see the module docstring)."""

    source: str

    def lookup(self, siren: str) -> tuple[CompanyIdentity | None, list[RiskError]]:
        """Who `siren` is; None with a ``not_found`` error when unknown."""
        ...

    def events(
        self, since: dt.date, until: dt.date | None = None
    ) -> tuple[list[RiskEvent], list[RiskError]]:
        """Events published from `since` to `until` (inclusive), every page."""
        ...

    def report(self, remote_id: str) -> tuple[CompanyReport | None, list[RiskError]]:
        """The provider's report on one company (or one notice)."""
        ...
