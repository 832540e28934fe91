"""The risk connectors against fake servers that follow the documented contracts."""

from __future__ import annotations

import copy
import datetime as dt
import json
from decimal import Decimal

from o2c_desktop.engine.risk import NoticeKind, Procedure
from o2c_desktop.sync.risk import RiskError
from o2c_desktop.sync.risk.bodacc import BodaccConnector
from o2c_desktop.sync.risk.creditsafe import CreditsafeConnector, parse_report
from o2c_desktop.sync.risk.http import HttpClient
from o2c_desktop.sync.risk.sirene import SireneConnector
from tests.risk.fakes import FakeBodacc, FakeCreditsafe, FakeSirene, contract

D = dt.date


def _client(source: str, waits: list[float], **kw: float) -> HttpClient:
    return HttpClient(source, sleep=waits.append, **kw)  # type: ignore[arg-type]


def notice(
    n: int, day: str, registre: list[str], jugement: object
) -> dict[str, object]:
    base = copy.deepcopy(
        contract("bodacc_annonces_commerciales_records.json")["results"][1]
    )
    base["id"] = f"A2026{n:08d}"
    base["dateparution"] = day
    base["registre"] = registre
    base["jugement"] = jugement if isinstance(jugement, str) else json.dumps(jugement)
    return dict(base)


def test_the_bodacc_sweep_reads_the_documented_notices(bodacc: FakeBodacc) -> None:
    connector = BodaccConnector(base_url=bodacc.base)
    events, errors = connector.events(D(2018, 1, 1), D(2026, 12, 31))
    assert errors == []
    assert [
        (e.external_id, e.sirens, e.kind, e.procedure, e.published_on, e.effective_on)
        for e in events
    ] == [
        (
            "A201800870001",
            ("123456782",),  # "123 456 782" is the same SIREN
            NoticeKind.OPENING,
            Procedure.SAFEGUARD,
            D(2018, 5, 3),
            D(2018, 4, 24),  # "24 avril 2018"
        ),
        (
            "A202601410002",
            ("123456782",),
            NoticeKind.OPENING,
            Procedure.RECEIVERSHIP,
            D(2026, 7, 21),
            D(2026, 7, 9),
        ),
        (
            "A202601950003",
            ("123456782",),
            NoticeKind.CONVERSION,
            Procedure.LIQUIDATION,
            D(2026, 10, 8),
            D(2026, 9, 30),
        ),
    ]
    assert events[1].tribunal == "TRIBUNAL DE COMMERCE DE LYON"
    assert events[1].mandatary == "SELARL EXEMPLE MANDATAIRES"
    _method, _path, query = bodacc.calls[0]
    assert query == {
        "where": "familleavis=\"collective\" and dateparution>=date'2018-01-01' "
        "and dateparution<=date'2026-12-31'",
        "order_by": "dateparution, id",
        "limit": "100",
        "offset": "0",
    }


def test_a_day_of_250_notices_comes_in_three_pages(bodacc: FakeBodacc) -> None:
    bodacc.records = [
        notice(
            n,
            "2026-10-01",
            ["987654324"],
            {
                "famille": "Jugement d'ouverture",
                "nature": "Jugement d'ouverture de liquidation judiciaire",
                "date": "2026-09-28",
            },
        )
        for n in range(250)
    ]
    events, errors = BodaccConnector(base_url=bodacc.base).events(D(2026, 10, 1))
    assert errors == []
    assert len({e.external_id for e in events}) == 250
    assert [q["offset"] for _m, _p, q in bodacc.calls] == ["0", "100", "200"]


def test_bad_notices_are_reported_by_id_and_the_rest_kept(bodacc: FakeBodacc) -> None:
    bodacc.records = [
        notice(
            1,
            "2026-10-01",
            ["123456782", "987 654 324"],
            {
                "famille": "Jugement d'ouverture",
                "nature": "Jugement d'ouverture d'une procédure de sauvegarde",
                "date": "2026-09-25",
            },
        ),
        notice(
            2,
            "2026-10-01",
            ["123456789"],
            {
                "famille": "Jugement d'ouverture",
                "nature": "Jugement d'ouverture de liquidation judiciaire",
                "date": "2026-09-25",
            },
        ),
        notice(3, "2026-10-01", ["111222337"], '{"famille": "Jugement d\'ouv'),
    ]
    events, errors = BodaccConnector(base_url=bodacc.base).events(D(2026, 10, 1))
    assert [(e.external_id, e.sirens, e.kind) for e in events] == [
        ("A202600000001", ("123456782", "987654324"), NoticeKind.OPENING),
        ("A202600000002", (), NoticeKind.OPENING),
        ("A202600000003", ("111222337",), NoticeKind.UNREADABLE),
    ]
    assert [(e.code, e.remote_id) for e in errors] == [
        ("invalid_siren", "A202600000002"),
        ("payload", "A202600000003"),
    ]
    assert "invalid SIREN '123456789'" in errors[0].message


def test_bodacc_429_waits_as_told_and_5xx_is_tried_again(bodacc: FakeBodacc) -> None:
    waits: list[float] = []
    bodacc.fail_next = [
        (
            429,
            {"error_code": "TooManyRequests", "message": "Too many requests"},
            {"Retry-After": "2"},
        ),
        (503, {"error_code": "ServiceUnavailable", "message": "down"}, {}),
    ]
    connector = BodaccConnector(_client("bodacc", waits), base_url=bodacc.base)
    events, errors = connector.events(D(2026, 7, 21))
    assert (len(events), errors, waits) == (1, [], [2.0])


def test_bodacc_down_is_an_error_value(bodacc: FakeBodacc) -> None:
    bodacc.fail_next = [(500, {"message": "boom"}, {})] * 2
    events, errors = BodaccConnector(base_url=bodacc.base).events(D(2026, 7, 21))
    assert events == []
    assert [(e.code, e.message) for e in errors] == [
        ("http", "the provider failed (HTTP 500)")
    ]
    unreachable = BodaccConnector(base_url="http://127.0.0.1:9/api")
    _events, errors = unreachable.events(D(2026, 7, 21))
    assert errors[0].code == "network"


def test_sirene_lookup_of_a_ceased_company(sirene: FakeSirene) -> None:
    found, errors = SireneConnector(base_url=sirene.url).lookup("123 456 782")
    assert errors == []
    assert found is not None
    assert (found.name, found.active, found.ceased_on, found.naf, found.address) == (
        "EXEMPLE BATIMENT",
        False,
        D(2026, 10, 15),
        "43.99C",
        "1 RUE DE L'EXEMPLE 69001 LYON",
    )
    assert found.vat_numbers == ("FR11123456782",)
    assert sirene.calls[0][2] == {"q": "123456782", "page": "1", "per_page": "1"}


def test_sirene_quota_waits_then_gives_up_past_the_longest_wait(
    sirene: FakeSirene,
) -> None:
    waits: list[float] = []
    limited = (429, {"erreur": "Too Many Requests"}, {"Retry-After": "1"})
    sirene.fail_next = [limited]
    connector = SireneConnector(
        _client("sirene", waits, max_wait=5), base_url=sirene.url
    )
    found, errors = connector.lookup("123456782")
    assert found is not None
    assert errors == []
    assert waits == [1.0]
    sirene.fail_next = [(429, {"erreur": "Too Many Requests"}, {"Retry-After": "60"})]
    found, errors = connector.lookup("123456782")
    assert found is None
    assert errors == [
        RiskError(
            "sirene",
            "rate_limited",
            "quota reached: retry after 60 s",
            "123456782",
            60.0,
        )
    ]


def test_sirene_unknown_and_invalid_sirens(sirene: FakeSirene) -> None:
    connector = SireneConnector(base_url=sirene.url)
    assert connector.lookup("987654324")[1][0].code == "not_found"
    assert connector.lookup("123456789")[1][0].code == "invalid_siren"
    assert len(sirene.calls) == 1  # an invalid SIREN is never asked


def _creditsafe(fake: FakeCreditsafe, password: str = "secret") -> CreditsafeConnector:
    return CreditsafeConnector(
        fake.USER, password, portfolio_id="589960", base_url=fake.base
    )


def test_creditsafe_search_report_and_the_string_traps(
    creditsafe: FakeCreditsafe,
) -> None:
    connector = _creditsafe(creditsafe)
    found, errors = connector.lookup("987654324")
    assert errors == []
    assert found is not None
    assert (found.provider_id, found.name, found.vat_numbers) == (
        "FR-X-98765432400019",
        "EXEMPLE DISTRIBUTION",
        ("FR14987654324",),
    )
    report, errors = connector.report(found.provider_id)
    assert errors == []
    assert report is not None
    assert (
        report.siren,
        report.rating,
        report.score,
        report.provider_limit,
        report.contract_limit,
        report.previous_rating,
        report.rating_changed_on,
    ) == (
        "987654324",
        "C",
        Decimal(38),
        Decimal(25000),
        Decimal(25000),
        "B",
        D(2026, 9, 2),
    )
    assert [(p.on, p.rating, p.limit) for p in report.history] == [
        (D(2026, 9, 2), "C", Decimal(25000)),
        (D(2025, 11, 10), "B", Decimal(60000)),
    ]
    assert connector.authentications == 1  # the token is reused


def test_creditsafe_failed_company_not_rated_and_no_limit() -> None:
    score = contract("creditsafe_connect.json")[
        "creditScore variant for a failed company (from a real FR report, anonymised)"
    ]
    report = parse_report("FR-X-1", {"creditScore": score})
    assert (report.rating, report.score, report.score_text, report.provider_limit) == (
        "E",
        None,
        "Not Rated",
        None,
    )
    assert parse_report("FR-X-2", {}).rating is None  # no block at all


def test_creditsafe_no_result_is_an_empty_object(creditsafe: FakeCreditsafe) -> None:
    found, errors = _creditsafe(creditsafe).lookup("123456782")
    assert found is None
    assert [(e.code, e.remote_id) for e in errors] == [("not_found", "123456782")]


def test_creditsafe_expired_token_reauthenticates_once(
    creditsafe: FakeCreditsafe,
) -> None:
    connector = _creditsafe(creditsafe)
    assert connector.lookup("987654324")[0] is not None
    creditsafe.expire_tokens()
    report, errors = connector.report("FR-X-98765432400019")
    assert report is not None
    assert errors == []
    assert connector.authentications == 2
    assert _creditsafe(creditsafe, "wrong").lookup("987654324")[1] == [
        RiskError(
            "creditsafe", "auth", "authentication refused: Invalid username or password"
        )
    ]


def test_creditsafe_unknown_report_and_monitoring_pages(
    creditsafe: FakeCreditsafe,
) -> None:
    connector = _creditsafe(creditsafe)
    assert connector.report("FR-X-0")[1][0].code == "not_found"
    events, errors = connector.events(D(2026, 9, 1))
    assert errors == []
    assert [
        (e.external_id, e.kind, e.sirens, e.old_value, e.new_value) for e in events
    ] == [
        ("51861887", NoticeKind.RATING, ("987654324",), "55", "38"),
        (
            "51861888",
            NoticeKind.PROVIDER_EVENT,
            ("987654324",),
            "10 AVENUE DE L'EXEMPLE 75008 PARIS",
            "12 RUE DE L'EXEMPLE 75009 PARIS",
        ),
    ]
    pages = [q["page"] for m, p, q in creditsafe.calls if "notificationEvents" in p]
    assert pages == ["0"]
