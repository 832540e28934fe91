"""The fake providers' fixtures for the risk tests."""

from __future__ import annotations

from tests.risk.fixtures import bodacc, creditsafe, sirene

__all__ = ["bodacc", "creditsafe", "sirene"]
