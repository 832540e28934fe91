"""BODACC open data: notices of collective proceedings, swept by date window.

Opendatasoft explore API v2.1, dataset ``annonces-commerciales``. The sweep
asks for every ``familleavis = "collective"`` notice published in a window,
page by page (``limit`` 100, ``offset``), and the service matches them
against the book's SIRENs locally: never one query per customer. A window
holding more than the API's 10,000-record reach is split in two.

Traps kept from the contract: ``registre`` lists each SIREN twice (with and
without spaces) and was a comma string in API v1; ``jugement`` is a JSON
*string*, sometimes invalid, whose ``date`` may be French text.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from o2c_desktop.engine import risk as rules
from o2c_desktop.engine.identifiers import digits, siren_ok
from o2c_desktop.sync.risk import (
    BODACC,
    CompanyIdentity,
    CompanyReport,
    RiskError,
    RiskEvent,
)
from o2c_desktop.sync.risk.http import HttpClient, message_of

if TYPE_CHECKING:
    from collections.abc import Iterable

log = logging.getLogger(__name__)

BASE_URL = "https://bodacc-datadila.opendatasoft.com/api/explore/v2.1"
DATASET = "annonces-commerciales"
PAGE = 100  # the API's largest page
REACH = 10_000  # offset + limit may not go past this
NOTICE_URL = "https://www.bodacc.fr/pages/annonces-commerciales-detail/?q.id=id:{id}"


class BodaccConnector:
    """Collective-proceeding notices from BODACC (free, no key)."""

    source = BODACC

    def __init__(self, client: HttpClient | None = None, base_url: str = BASE_URL):
        self._http = client or HttpClient(BODACC)
        self._url = f"{base_url.rstrip('/')}/catalog/datasets/{DATASET}/records"
        self.pages = 0

    def events(
        self, since: dt.date, until: dt.date | None = None
    ) -> tuple[list[RiskEvent], list[RiskError]]:
        """Every collective notice published from `since` to `until` included."""
        last = until or since
        where = (
            'familleavis="collective" and '
            f"dateparution>=date'{since.isoformat()}' and "
            f"dateparution<=date'{last.isoformat()}'"
        )
        records, errors, total = self._pages(where)
        if total is not None and total > REACH and since < last:
            # Too many for one window: halve it (a catch-up after a long outage).
            middle = since + (last - since) // 2
            first, e1 = self.events(since, middle)
            second, e2 = self.events(middle + dt.timedelta(days=1), last)
            return first + second, e1 + e2
        out, problems = parse_records(records)
        return out, errors + problems

    def lookup(self, siren: str) -> tuple[CompanyIdentity | None, list[RiskError]]:
        """The company as its latest collective notice names it."""
        if not siren_ok(siren):
            return None, [RiskError(BODACC, "invalid_siren", "invalid SIREN", siren)]
        where = f'registre like "{digits(siren)}" and familleavis="collective"'
        records, errors, _total = self._pages(where, limit=PAGE, single=True)
        if errors:
            return None, errors
        if not records:
            return None, [RiskError(BODACC, "not_found", "no notice", siren)]
        latest = records[0]
        return (
            CompanyIdentity(
                source=BODACC,
                siren=digits(siren),
                name=str(latest.get("commercant") or ""),
                active=True,
                address=" ".join(
                    str(latest.get(k) or "") for k in ("cp", "ville")
                ).strip(),
                url=str(latest.get("url_complete") or ""),
            ),
            [],
        )

    def report(self, remote_id: str) -> tuple[CompanyReport | None, list[RiskError]]:
        """One notice by its id, as a report carrying that event."""
        where = f'id="{remote_id}"'
        records, errors, _total = self._pages(where, single=True)
        if errors:
            return None, errors
        events, problems = parse_records(records)
        if not events:
            return None, problems or [
                RiskError(BODACC, "not_found", "no such notice", remote_id)
            ]
        first = events[0]
        return (
            CompanyReport(
                source=BODACC,
                provider_id=remote_id,
                siren=first.sirens[0] if first.sirens else "",
                name=str(first.raw.get("commercant") or ""),
                events=tuple(events),
                url=first.url,
                raw=first.raw,
            ),
            problems,
        )

    def _pages(
        self, where: str, *, limit: int = PAGE, single: bool = False
    ) -> tuple[list[dict[str, Any]], list[RiskError], int | None]:
        records: list[dict[str, Any]] = []
        offset, total = 0, None
        while True:
            params = {
                "where": where,
                "order_by": "dateparution desc, id" if single else "dateparution, id",
                "limit": limit,
                "offset": offset,
            }
            reply, error = self._http.get(self._url, params, remote_id=where)
            self.pages += 1
            if error is not None:
                return records, [error], total
            assert reply is not None
            body = reply.body
            if reply.status != 200 or not isinstance(body, dict):
                text = message_of(body, f"HTTP {reply.status}")
                return records, [RiskError(BODACC, "http", text, where)], total
            page = body.get("results") or []
            total = int(body.get("total_count") or 0)
            records.extend(r for r in page if isinstance(r, dict))
            offset += limit
            if single or not page or offset >= total or offset + limit > REACH:
                return records, [], total


def registre_sirens(value: Any) -> tuple[list[str], list[str]]:
    """(valid SIRENs, invalid entries) of a notice's ``registre``."""
    entries: Iterable[Any]
    if isinstance(value, str):
        entries = value.split(",")  # API v1 wrote one comma string
    elif isinstance(value, list):
        entries = value
    else:
        entries = []
    valid: list[str] = []
    invalid: list[str] = []
    for entry in entries:
        number = digits(str(entry))
        if not number:
            continue
        if siren_ok(number):
            if number not in valid:
                valid.append(number)
        elif number not in invalid:
            invalid.append(str(entry).strip())
    return valid, invalid


def parse_records(
    records: Iterable[dict[str, Any]],
) -> tuple[list[RiskEvent], list[RiskError]]:
    """Notices as risk events; what cannot be read is reported by notice id."""
    events: list[RiskEvent] = []
    errors: list[RiskError] = []
    for record in records:
        notice_id = str(record.get("id") or "")
        published = _date(record.get("dateparution"))
        if not notice_id or published is None:
            errors.append(
                RiskError(
                    BODACC,
                    "payload",
                    "notice without id or dateparution",
                    notice_id or None,
                )
            )
            continue
        sirens, invalid = registre_sirens(record.get("registre"))
        for bad in invalid:
            errors.append(
                RiskError(
                    BODACC,
                    "invalid_siren",
                    f"invalid SIREN {bad!r} in registre (skipped)",
                    notice_id,
                )
            )
        judgment, why = rules.parse_judgment(record.get("jugement"))
        kind, procedure = (
            rules.classify(judgment)
            if judgment
            else (rules.NoticeKind.UNREADABLE, None)
        )
        if why:
            errors.append(RiskError(BODACC, "payload", why, notice_id))
        effective = judgment.date if judgment else None
        if judgment and judgment.date is None and judgment.date_text:
            errors.append(
                RiskError(
                    BODACC,
                    "payload",
                    f"judgment date {judgment.date_text!r} cannot be read",
                    notice_id,
                )
            )
        events.append(
            RiskEvent(
                source=BODACC,
                external_id=notice_id,
                sirens=tuple(sirens),
                kind=kind,
                procedure=procedure,
                published_on=published,
                effective_on=effective,
                tribunal=str(record.get("tribunal") or ""),
                mandatary=judgment.mandatary if judgment else "",
                url=str(record.get("url_complete") or NOTICE_URL.format(id=notice_id)),
                summary=judgment.nature if judgment else "unreadable judgment",
                raw=record,
            )
        )
    return events, errors


def _date(value: Any) -> dt.date | None:
    try:
        return dt.date.fromisoformat(str(value)[:10])
    except ValueError:
        return None
