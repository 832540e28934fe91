"""Creditsafe Connect: company search, credit reports, monitoring events.

``POST /authenticate`` gives a bearer token for an hour; a call answered
401 re-authenticates once and is tried again (a second 401 is an ``auth``
error). Typing traps of the spec are kept: ``creditLimit.value`` and
``providerValue.value`` are strings that may read "Not Rated" or "Credit
Limit not applicable"; ``companies`` is ``{}`` when nothing matches;
monitoring pages start at 0. The report parser reads only what it needs and
accepts a full real report whatever optional blocks it carries.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from o2c_desktop.engine.identifiers import digits, siren_ok
from o2c_desktop.engine.risk import NoticeKind, provider_number
from o2c_desktop.sync.risk import (
    CREDITSAFE,
    CompanyIdentity,
    CompanyReport,
    RatingPoint,
    RiskError,
    RiskEvent,
)
from o2c_desktop.sync.risk.http import HttpClient, Reply, message_of

if TYPE_CHECKING:
    from collections.abc import Mapping

log = logging.getLogger(__name__)

BASE_URL = "https://connect.creditsafe.com/v1"
PAGE_SIZE = 50
COMPANY_URL = "https://app.creditsafe.com/companies/{id}"
# Rule codes of the spec's examples: 101 International Rating.
_RATING_RULES = {101}
_LIMIT_CODES = {"CL"}


class CreditsafeConnector:
    """Reports and monitoring events from Creditsafe Connect (paid, key in keyring).

    Args:
        username: the Connect user.
        password: from the keyring.
        portfolio_id: the monitoring portfolio the book's customers are in.
    """

    source = CREDITSAFE

    def __init__(
        self,
        username: str,
        password: str,
        *,
        portfolio_id: str = "",
        client: HttpClient | None = None,
        base_url: str = BASE_URL,
    ) -> None:
        self._http = client or HttpClient(CREDITSAFE)
        self._base = base_url.rstrip("/")
        self._username = username
        self._password = password
        self._portfolio = portfolio_id
        self._token: str | None = None
        self.authentications = 0

    # --- the interface ------------------------------------------------------

    def lookup(self, siren: str) -> tuple[CompanyIdentity | None, list[RiskError]]:
        """Search French companies by registration number (the SIREN)."""
        number = digits(siren)
        if not siren_ok(number):
            return None, [
                RiskError(CREDITSAFE, "invalid_siren", "invalid SIREN", siren)
            ]
        reply, error = self._get(
            "/companies", {"countries": "FR", "regNo": number}, number
        )
        if error is not None:
            return None, [error]
        assert reply is not None
        companies = (
            reply.body.get("companies") if isinstance(reply.body, dict) else None
        )
        # No result is {} (an object), not an empty list.
        if not isinstance(companies, list) or not companies:
            return None, [RiskError(CREDITSAFE, "not_found", "no such company", number)]
        best = next(
            (c for c in companies if c.get("officeType") == "headOffice"), companies[0]
        )
        vat = best.get("vatNo")
        vats = tuple(vat) if isinstance(vat, list) else ((vat,) if vat else ())
        address = best.get("address") if isinstance(best.get("address"), dict) else {}
        assert isinstance(address, dict)
        return (
            CompanyIdentity(
                source=CREDITSAFE,
                siren=number,
                name=str(best.get("name") or ""),
                active=str(best.get("status") or "Active").lower() == "active",
                address=str(address.get("simpleValue") or ""),
                naf=str((best.get("activity") or {}).get("code") or ""),
                vat_numbers=tuple(str(v) for v in vats),
                provider_id=str(best.get("id") or ""),
                url=COMPANY_URL.format(id=best.get("id")),
            ),
            [],
        )

    def report(self, remote_id: str) -> tuple[CompanyReport | None, list[RiskError]]:
        """The full credit report of a connectId."""
        params = {"language": "en", "template": "full"}
        reply, error = self._get(f"/companies/{remote_id}", params, remote_id)
        if error is not None:
            return None, [error]
        assert reply is not None
        body = reply.body if isinstance(reply.body, dict) else {}
        report = body.get("report")
        if not isinstance(report, dict):
            return None, [RiskError(CREDITSAFE, "payload", "no report", remote_id)]
        return parse_report(remote_id, report, body), []

    def events(
        self, since: dt.date, until: dt.date | None = None
    ) -> tuple[list[RiskEvent], list[RiskError]]:
        """The portfolio's notification events since `since`, every page."""
        if not self._portfolio:
            return [], []
        out: list[RiskEvent] = []
        page, last = 0, 0
        path = f"/monitoring/portfolios/{self._portfolio}/notificationEvents"
        while page <= last:
            params: dict[str, Any] = {
                "startDate": f"{since.isoformat()}T00:00:00Z",
                "page": page,
                "pageSize": PAGE_SIZE,
            }
            if until is not None:
                params["endDate"] = f"{until.isoformat()}T23:59:59Z"
            reply, error = self._get(path, params, self._portfolio)
            if error is not None:
                return out, [error]
            assert reply is not None
            body = reply.body if isinstance(reply.body, dict) else {}
            out.extend(_event(e) for e in body.get("data") or [] if isinstance(e, dict))
            paging = body.get("paging") if isinstance(body.get("paging"), dict) else {}
            assert isinstance(paging, dict)
            last = int(paging.get("last") or 0)
            page += 1
        return out, []

    # --- HTTP with one re-authentication -------------------------------------

    def _authenticate(self) -> RiskError | None:
        self.authentications += 1
        reply, error = self._http.post(
            f"{self._base}/authenticate",
            {"username": self._username, "password": self._password},
        )
        if error is not None:
            return error
        assert reply is not None
        token = reply.body.get("token") if isinstance(reply.body, dict) else None
        if reply.status != 200 or not token:
            text = message_of(reply.body, f"HTTP {reply.status}")
            return RiskError(CREDITSAFE, "auth", f"authentication refused: {text}")
        self._token = str(token)
        return None

    def _get(
        self, path: str, params: Mapping[str, Any], remote_id: str
    ) -> tuple[Reply | None, RiskError | None]:
        for attempt in range(2):
            if self._token is None:
                error = self._authenticate()
                if error is not None:
                    return None, error
            headers = {"Authorization": f"Bearer {self._token}"}
            reply, error = self._http.get(
                f"{self._base}{path}", params, headers, remote_id=remote_id
            )
            if error is not None:
                return None, error
            assert reply is not None
            if reply.status == 401:
                self._token = None  # expired: authenticate again, once
                if attempt == 0:
                    continue
                text = message_of(reply.body, "token refused")
                return None, RiskError(CREDITSAFE, "auth", text, remote_id)
            if reply.status == 404:
                text = message_of(reply.body, "not found")
                return None, RiskError(CREDITSAFE, "not_found", text, remote_id)
            if reply.status != 200:
                text = message_of(reply.body, f"HTTP {reply.status}")
                return None, RiskError(CREDITSAFE, "http", text, remote_id)
            return reply, None
        return None, RiskError(CREDITSAFE, "auth", "token refused", remote_id)


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10]) if value else None
    except ValueError:
        return None


def parse_report(
    remote_id: str, report: dict[str, Any], envelope: dict[str, Any] | None = None
) -> CompanyReport:
    """A Creditsafe report as a `CompanyReport`; absent blocks leave fields empty."""
    summary = _dict(report.get("companySummary"))
    score = _dict(report.get("creditScore"))
    current = _dict(score.get("currentCreditRating")) or _dict(
        summary.get("creditRating")
    )
    previous = _dict(score.get("previousCreditRating"))
    provider = _dict(current.get("providerValue"))
    limit = _dict(current.get("creditLimit"))
    basic = _dict(_dict(report.get("companyIdentification")).get("basicInformation"))
    reg_no = digits(
        str(
            summary.get("companyRegistrationNumber")
            or basic.get("companyRegistrationNumber")
            or _dict(_dict(report.get("additionalInformation")).get("misc")).get(
                "courtRegistryNumber"
            )
            or ""
        )
    )
    history: list[RatingPoint] = []
    info = _dict(report.get("additionalInformation"))
    for row in info.get("ratingHistory") or []:
        if not isinstance(row, dict) or _date(row.get("date")) is None:
            continue
        on = _date(row.get("date"))
        assert on is not None
        history.append(
            RatingPoint(
                on=on,
                rating=_dict(row.get("commonRating")).get("commonValue"),
                score=provider_number(row.get("localRating")),
                limit=provider_number(row.get("limit")),
            )
        )
    status = _dict(summary.get("companyStatus")) or _dict(basic.get("companyStatus"))
    return CompanyReport(
        source=CREDITSAFE,
        provider_id=remote_id,
        siren=reg_no[:9],
        name=str(summary.get("businessName") or basic.get("businessName") or ""),
        rating=_rating(current.get("commonValue")),
        rating_description=str(
            current.get("commonDescription") or current.get("providerDescription") or ""
        ),
        score=provider_number(provider.get("value")),
        score_text=str(provider.get("value") or ""),
        provider_limit=provider_number(limit.get("value")),
        currency=str(limit.get("currency") or "EUR"),
        contract_limit=provider_number(
            _dict(score.get("currentContractLimit")).get("value")
        ),
        previous_rating=_rating(previous.get("commonValue")),
        rating_changed_on=_date(score.get("latestRatingChangeDate")),
        status=str(status.get("status") or ""),
        history=tuple(sorted(history, key=lambda p: p.on, reverse=True)),
        url=COMPANY_URL.format(id=remote_id),
        raw=envelope or report,
    )


def _rating(value: Any) -> str | None:
    text = str(value or "").strip().upper()
    return text if text in {"A", "B", "C", "D", "E"} else None


def _event(data: dict[str, Any]) -> RiskEvent:
    company = _dict(data.get("company"))
    code = data.get("ruleCode")
    local = str(data.get("localEventCode") or data.get("globalEventCode") or "")
    if code in _RATING_RULES or local == "RAT":
        kind = NoticeKind.RATING
    elif local in _LIMIT_CODES:
        kind = NoticeKind.LIMIT
    else:
        kind = NoticeKind.PROVIDER_EVENT
    provider_id = str(company.get("id") or data.get("companyId") or "")
    event_id = data.get("notificationEventId") or data.get("eventId")
    day = _date(data.get("eventDate")) or _date(data.get("createdDate"))
    # SIRET-based connectIds carry the SIREN ("FR-X-98765432400019").
    tail = digits(provider_id.rsplit("-", 1)[-1])
    sirens = (tail[:9],) if len(tail) >= 9 and siren_ok(tail[:9]) else ()
    return RiskEvent(
        source=CREDITSAFE,
        external_id=str(event_id),
        sirens=sirens,
        kind=kind,
        published_on=day or dt.date(1970, 1, 1),
        summary=str(data.get("summary") or data.get("ruleName") or ""),
        old_value=str(data.get("oldValue") or ""),
        new_value=str(data.get("newValue") or ""),
        provider_id=provider_id,
        url=COMPANY_URL.format(id=provider_id),
        raw=data,
    )
