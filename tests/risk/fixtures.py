"""Fake provider servers per test (used by the conftest and the CLI tests)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.risk.fakes import FakeBodacc, FakeCreditsafe, FakeSirene, contract

if TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def bodacc() -> Iterator[FakeBodacc]:
    fake = FakeBodacc(contract("bodacc_annonces_commerciales_records.json")["results"])
    yield fake.start()  # type: ignore[misc]
    fake.stop()


@pytest.fixture
def sirene() -> Iterator[FakeSirene]:
    fake = FakeSirene(contract("recherche_entreprises_search.json")["results"])
    yield fake.start()  # type: ignore[misc]
    fake.stop()


@pytest.fixture
def creditsafe() -> Iterator[FakeCreditsafe]:
    fake = FakeCreditsafe()
    calls = contract("creditsafe_connect.json")
    entry = calls["GET /companies?countries=FR&regNo=98765432400019 200"]["companies"][
        0
    ]
    fake.companies[entry["regNo"]] = entry
    fake.reports[entry["id"]] = calls[
        "GET /companies/FR-X-98765432400019?language=en&template=full 200"
    ]
    key = (
        "GET /monitoring/portfolios/589960/notificationEvents?startDate="
        "2026-09-01T00:00:00Z&page=0&pageSize=50 200"
    )
    fake.events["589960"] = calls[key]["data"]
    yield fake.start()  # type: ignore[misc]
    fake.stop()
