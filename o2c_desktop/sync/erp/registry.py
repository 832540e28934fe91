"""Build a connector from its settings and its password."""

from __future__ import annotations

from typing import TYPE_CHECKING

from o2c_desktop.sync.erp.jsonrpc import TrytonRpc
from o2c_desktop.sync.erp.tryton import TrytonConnector

if TYPE_CHECKING:
    from o2c_desktop.settings import ConnectorSettings
    from o2c_desktop.sync.erp.base import Connector

KINDS = ("tryton",)


def connect(settings: ConnectorSettings, password: str) -> Connector:
    """The connector `settings` describe (it logs in on first use).

    Raises:
        ValueError: an ERP kind this version does not know.
    """
    if settings.kind == "tryton":
        rpc = TrytonRpc(settings.url, settings.database, settings.login, password)
        return TrytonConnector(settings.name, rpc)
    raise ValueError(
        f"unknown ERP kind {settings.kind!r} for connector {settings.name!r} "
        f"(known: {', '.join(KINDS)})"
    )
