"""Rules of the risk watch: identifiers, judgments, deadlines, ratings, the claim."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from o2c_desktop.engine import insolvency, interest
from o2c_desktop.engine import risk as rules
from o2c_desktop.engine.identifiers import (
    fr_vat_number,
    legal_id_problem,
    siren_of,
    siren_ok,
    vat_problem,
)

D = dt.date


@pytest.mark.parametrize(
    ("text", "ok"),
    [
        ("123456782", True),
        ("123 456 782", True),
        ("987654324", True),
        ("111222337", True),
        ("123456789", False),  # check digit wrong
        ("12345678", False),
        ("12345678A", False),
        ("356000000", True),  # La Poste: not Luhn, valid all the same
        ("", False),
        (None, False),
    ],
)
def test_siren_check_digit(text: str | None, ok: bool) -> None:
    assert siren_ok(text) is ok


def test_siren_of_a_siret_and_the_fr_vat_key() -> None:
    assert siren_of("987 654 324 00019") == "987654324"
    assert siren_of("98765432400018") is None  # SIRET key wrong
    assert fr_vat_number("123456782") == "FR11123456782"
    assert fr_vat_number("987654324") == "FR14987654324"


@pytest.mark.parametrize(
    ("vat", "siren", "problem"),
    [
        ("FR11123456782", None, None),
        ("FR 11 123 456 782", "123456782", None),
        ("FR12123456782", None, "expected FR11123456782"),
        ("FR11123456789", None, "SIREN in VAT number"),
        ("FR14987654324", "123456782", "is not the SIREN 123456782's"),
        ("DE123456789", None, None),
        ("hello", None, "not a VAT number"),
    ],
)
def test_vat_number_problems(vat: str, siren: str | None, problem: str | None) -> None:
    found = vat_problem(vat, siren)
    if problem is None:
        assert found is None
    else:
        assert found is not None
        assert problem in found


def test_legal_id_problems_only_for_french_customers() -> None:
    assert (
        legal_id_problem("123456789", "FR") == "invalid SIREN '123456789' (check digit)"
    )
    assert legal_id_problem("123456789", "DE") is None
    assert legal_id_problem("1234", None) == "a SIREN has 9 digits, a SIRET 14: '1234'"
    assert legal_id_problem("98765432400019", "FR") is None


@pytest.mark.parametrize(
    ("text", "day"),
    [
        ("2026-09-30", D(2026, 9, 30)),
        ("24 avril 2018", D(2018, 4, 24)),
        ("1er mai 2011", D(2011, 5, 1)),
        ("10 décembre 2009", D(2009, 12, 10)),
        ("10 decembre 2009", D(2009, 12, 10)),
        ("6 Mai 2011", D(2011, 5, 6)),
        ("30/06/2026", D(2026, 6, 30)),
        ("31 avril 2018", None),
        ("demain", None),
        ("", None),
    ],
)
def test_judgment_dates_iso_or_french_words(text: str, day: dt.date | None) -> None:
    assert rules.parse_french_date(text) == day


@pytest.mark.parametrize(
    ("family", "nature", "kind", "procedure"),
    [
        (
            "Jugement d'ouverture",
            "Jugement d'ouverture d'une procédure de sauvegarde",
            rules.NoticeKind.OPENING,
            rules.Procedure.SAFEGUARD,
        ),
        (
            "Jugement d'ouverture",
            "Jugement d'ouverture d'une procédure de redressement judiciaire",
            rules.NoticeKind.OPENING,
            rules.Procedure.RECEIVERSHIP,
        ),
        (
            "Jugement d'ouverture",
            "Jugement d'ouverture de liquidation judiciaire",
            rules.NoticeKind.OPENING,
            rules.Procedure.LIQUIDATION,
        ),
        (
            "Jugement prononçant",
            "Jugement de conversion en liquidation judiciaire",
            rules.NoticeKind.CONVERSION,
            rules.Procedure.LIQUIDATION,
        ),
        (
            "Jugement prononçant",
            "Jugement prononçant la liquidation judiciaire",
            rules.NoticeKind.OPENING,
            rules.Procedure.LIQUIDATION,
        ),
        (
            "Jugement arrêtant le plan",
            "Jugement arrêtant le plan de redressement",
            rules.NoticeKind.PLAN,
            rules.Procedure.RECEIVERSHIP,
        ),
        (
            "Jugement de clôture",
            "Jugement de clôture pour insuffisance d'actif",
            rules.NoticeKind.CLOSURE,
            None,
        ),
        (
            "Avis de dépôt",
            "Dépôt de l'état des créances",
            rules.NoticeKind.OTHER_JUDGMENT,
            None,
        ),
    ],
)
def test_classification_liquidation_before_redressement_before_sauvegarde(
    family: str,
    nature: str,
    kind: rules.NoticeKind,
    procedure: rules.Procedure | None,
) -> None:
    judgment = rules.Judgment(family, nature, None, "", "", "")
    assert rules.classify(judgment) == (kind, procedure)


def test_a_jugement_that_is_not_json_is_reported_not_raised() -> None:
    assert rules.parse_judgment('{"famille": "Jugement') == (
        None,
        "jugement is not valid JSON (Unterminated string starting at at 12)",
    )
    assert rules.parse_judgment(None) == (None, "no jugement in the notice")
    assert rules.parse_judgment("[1]") == (None, "jugement is not an object")


@pytest.mark.parametrize(
    ("published", "outside", "deadline"),
    [
        (D(2026, 7, 21), False, D(2026, 9, 21)),
        (D(2026, 7, 21), True, D(2026, 11, 21)),
        (D(2026, 12, 31), False, D(2027, 2, 28)),  # a shorter month
        (D(2027, 10, 31), True, D(2028, 2, 29)),  # leap year
    ],
)
def test_declaration_deadline_two_months_four_outside_metropolitan_france(
    published: dt.date, outside: bool, deadline: dt.date
) -> None:
    assert (
        rules.declaration_deadline(published, outside_metropolitan=outside) == deadline
    )


def test_who_is_outside_metropolitan_france() -> None:
    assert not rules.outside_metropolitan_france("FR", "69001")
    assert rules.outside_metropolitan_france("FR", "97400")  # La Réunion
    assert rules.outside_metropolitan_france("BE", "1000")
    assert rules.reminder_date(D(2026, 9, 21), D(2026, 7, 22)) == D(2026, 9, 6)
    assert rules.reminder_date(D(2026, 9, 21), D(2026, 9, 15)) == D(2026, 9, 15)


@pytest.mark.parametrize(
    ("old", "new", "drop"),
    [("B", "D", 2), ("A", "B", 1), ("C", "C", 0), ("D", "B", 0), (None, "E", 0)],
)
def test_rating_drop_in_classes(old: str | None, new: str, drop: int) -> None:
    assert rules.rating_drop(old, new) == drop


@pytest.mark.parametrize(
    ("exposure", "limit", "alert"),
    [
        ("1000.01", "1000", rules.AlertKind.LIMIT_EXCEEDED),
        ("1000.00", "1000", rules.AlertKind.LIMIT_NEAR),
        ("900.00", "1000", rules.AlertKind.LIMIT_NEAR),
        ("899.00", "1000", None),
        ("5000", None, None),
        ("5000", "0", None),
    ],
)
def test_limit_alerts(exposure: str, limit: str | None, alert: object) -> None:
    cap = Decimal(limit) if limit is not None else None
    assert rules.limit_alert(Decimal(exposure), cap) == alert


def test_provider_numbers_that_are_strings() -> None:
    assert rules.provider_number("25000") == Decimal(25000)
    assert rules.provider_number("Not Rated") is None
    assert rules.provider_number("Credit Limit not applicable") is None
    assert rules.provider_number(25000) == Decimal(25000)


def test_the_claim_stops_interest_at_the_judgment_date() -> None:
    owed = [
        insolvency.InvoiceOwed(
            "F1", D(2026, 4, 1), D(2026, 5, 1), Decimal("1000.00"), "EUR"
        ),
        insolvency.InvoiceOwed(
            "F2", D(2026, 5, 16), D(2026, 6, 15), Decimal("500.00"), "EUR"
        ),
        # not due yet on the judgment day: principal only
        insolvency.InvoiceOwed(
            "F3", D(2026, 7, 1), D(2026, 8, 1), Decimal("300.00"), "EUR"
        ),
    ]
    claim = insolvency.declaration(owed, D(2026, 7, 9), interest.FRANCE, "EUR")
    # 12.15 % (ECB 2.15 + 10): 1000 x 69 days, 500 x 24 days, to 9 July included.
    assert [(x.number, x.principal, x.interest, x.indemnity) for x in claim.lines] == [
        ("F1", Decimal("1000.00"), Decimal("22.97"), Decimal("40.00")),
        ("F2", Decimal("500.00"), Decimal("3.99"), Decimal("40.00")),
        ("F3", Decimal("300.00"), Decimal("0.00"), Decimal("0.00")),
    ]
    assert claim.total == Decimal("1906.96")
