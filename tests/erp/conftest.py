"""A live Tryton server for the ERP tests, started once per test session.

Tests that need it skip with the reason when the Tryton venv or the seeded
template is missing (``python3 tests/erp/tryton_server.py build``), except
under ``CI=true``, where they fail: CI builds it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
from o2c_desktop.sync.erp.tryton import TrytonConnector
from tests.erp import tryton_server

if TYPE_CHECKING:
    from collections.abc import Iterator


def require_tryton() -> None:
    """Skip (or fail under CI) when no live Tryton can be started."""
    reason = tryton_server.unavailable_reason()
    if reason is None:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"Tryton tests must run in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def tryton_session(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tryton_server.TrytonServer]:
    """One trytond serving a copy of the seeded template, for the whole session."""
    require_tryton()
    server = tryton_server.TrytonServer(tmp_path_factory.mktemp("tryton"))
    server.start()
    yield server
    server.stop()


@pytest.fixture
def tryton(tryton_session: tryton_server.TrytonServer) -> tryton_server.TrytonServer:
    """The live Tryton, read-only: a test that changes Tryton uses `tryton_fresh`."""
    return tryton_session


@pytest.fixture
def tryton_fresh(
    tryton_session: tryton_server.TrytonServer,
) -> Iterator[tryton_server.TrytonServer]:
    """The live Tryton, changed freely by the test, back to the seed after it."""
    yield tryton_session
    tryton_session.reset()


def rpc_for(
    server: tryton_server.TrytonServer, password: str | None = None
) -> TrytonRpc:
    """A JSON-RPC client logged in as the seed's administrator."""
    return TrytonRpc(
        server.url,
        server.database,
        server.login,
        server.password if password is None else password,
        sleep=lambda _s: None,
    )


@pytest.fixture
def rpc(tryton: tryton_server.TrytonServer) -> Iterator[TrytonRpc]:
    """A client of the live Tryton (its own session)."""
    client = rpc_for(tryton)
    yield client
    client.close()


@pytest.fixture
def connector(rpc: TrytonRpc) -> TrytonConnector:
    """The Tryton connector on the live server."""
    return TrytonConnector("tryton-test", rpc)
