"""Recherche d'entreprises (api.gouv.fr): who a SIREN is, and whether it ceased.

Free, no key; 7 requests a second per address, then HTTP 429 with
``Retry-After``: the client paces itself under that and waits as told.
A query of exactly nine digits is a SIREN search (other filters ignored).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from o2c_desktop.engine.identifiers import digits, siren_ok
from o2c_desktop.sync.risk import (
    SIRENE,
    CompanyIdentity,
    CompanyReport,
    RiskError,
    RiskEvent,
)
from o2c_desktop.sync.risk.http import HttpClient, message_of

BASE_URL = "https://recherche-entreprises.api.gouv.fr"
PER_SECOND = 6.5  # under the documented 7 requests a second
COMPANY_URL = "https://annuaire-entreprises.data.gouv.fr/entreprise/{siren}"


class SireneConnector:
    """Identity, status and head office of French companies by SIREN."""

    source = SIRENE

    def __init__(self, client: HttpClient | None = None, base_url: str = BASE_URL):
        self._http = client or HttpClient(SIRENE, per_second=PER_SECOND)
        self._url = f"{base_url.rstrip('/')}/search"

    def lookup(self, siren: str) -> tuple[CompanyIdentity | None, list[RiskError]]:
        """The unit legal `siren` names; ``not_found`` when the registry has none."""
        number = digits(siren)
        if not siren_ok(number):
            return None, [RiskError(SIRENE, "invalid_siren", "invalid SIREN", siren)]
        params = {"q": number, "page": 1, "per_page": 1}
        reply, error = self._http.get(self._url, params, remote_id=number)
        if error is not None:
            return None, [error]
        assert reply is not None
        if reply.status != 200 or not isinstance(reply.body, dict):
            text = message_of(reply.body, f"HTTP {reply.status}")
            return None, [RiskError(SIRENE, "http", text, number)]
        for unit in reply.body.get("results") or []:
            if isinstance(unit, dict) and unit.get("siren") == number:
                return identity(unit), []
        return None, [RiskError(SIRENE, "not_found", "unknown to the registry", number)]

    def events(
        self, since: dt.date, until: dt.date | None = None
    ) -> tuple[list[RiskEvent], list[RiskError]]:
        """No feed of changes here: the service looks companies up instead."""
        return [], []

    def report(self, remote_id: str) -> tuple[CompanyReport | None, list[RiskError]]:
        """The identity as a report (no rating at this provider)."""
        found, errors = self.lookup(remote_id)
        if found is None:
            return None, errors
        return (
            CompanyReport(
                source=SIRENE,
                provider_id=found.siren,
                siren=found.siren,
                name=found.name,
                status="active" if found.active else "ceased",
                url=found.url,
            ),
            [],
        )


def identity(unit: dict[str, Any]) -> CompanyIdentity:
    """A search result as an identity; optional blocks may be missing."""
    siege = unit.get("siege") if isinstance(unit.get("siege"), dict) else {}
    assert isinstance(siege, dict)
    siren = str(unit.get("siren") or "")
    ceased = _date(unit.get("date_fermeture"))
    tva = unit.get("tva")
    vat = tuple(str(v) for v in tva) if isinstance(tva, list) else ()
    return CompanyIdentity(
        source=SIRENE,
        siren=siren,
        name=str(unit.get("nom_raison_sociale") or unit.get("nom_complet") or ""),
        active=unit.get("etat_administratif") != "C",
        ceased_on=ceased if unit.get("etat_administratif") == "C" else None,
        address=str(siege.get("adresse") or ""),
        naf=str(unit.get("activite_principale") or ""),
        vat_numbers=vat,
        provider_id=siren,
        url=COMPANY_URL.format(siren=siren),
    )


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None
