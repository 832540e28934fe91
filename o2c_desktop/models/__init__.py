"""The ORM: one module per aggregate; import this package to register them all."""

from __future__ import annotations

from o2c_desktop.models.actions import (
    Action,
    ActionInstalment,
    ActionItem,
    Document,
    DunningRun,
    Notification,
)
from o2c_desktop.models.audit import AuditEntry
from o2c_desktop.models.base import Base
from o2c_desktop.models.cases import Case, CaseItem, PlanInstalment
from o2c_desktop.models.change_seq import ChangeCounter
from o2c_desktop.models.customers import Contact, Customer
from o2c_desktop.models.imports import ImportBatch, ImportChange, SyncCursor
from o2c_desktop.models.items import BalanceSnapshot, Item, SnapshotLine
from o2c_desktop.models.org import Entity, Portfolio, User
from o2c_desktop.models.outbox import OutboxEntry
from o2c_desktop.models.scenarios import Scenario, Step, Template

__all__ = [
    "Action",
    "ActionInstalment",
    "ActionItem",
    "AuditEntry",
    "BalanceSnapshot",
    "Base",
    "Case",
    "CaseItem",
    "ChangeCounter",
    "Contact",
    "Customer",
    "Document",
    "DunningRun",
    "Entity",
    "ImportBatch",
    "ImportChange",
    "Item",
    "Notification",
    "OutboxEntry",
    "PlanInstalment",
    "Portfolio",
    "Scenario",
    "SnapshotLine",
    "Step",
    "SyncCursor",
    "Template",
    "User",
]
