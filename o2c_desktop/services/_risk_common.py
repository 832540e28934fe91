"""Helpers of the risk service: alerts once per event, the book's SIRENs, exposure."""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import TYPE_CHECKING

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from o2c_desktop.engine.identifiers import legal_id_problem, siren_of
from o2c_desktop.engine.types import ItemStatus
from o2c_desktop.models import (
    Customer,
    CustomerRisk,
    Entity,
    Item,
    RiskAlert,
    RiskEvent,
    RiskRating,
)
from o2c_desktop.models.base import utcnow

if TYPE_CHECKING:
    import datetime as dt

    from sqlalchemy.orm import Session

    from o2c_desktop.engine import risk as rules
    from o2c_desktop.sync import risk as feeds


def alert(
    s: Session,
    customer_id: int,
    kind: rules.AlertKind,
    key: str,
    source: str,
    message: str,
    link: str | None,
    event_id: int | None,
) -> int:
    """Add an alert unless the same one exists; 1 when added."""
    exists = s.scalar(
        select(func.count())
        .select_from(RiskAlert)
        .where(
            RiskAlert.customer_id == customer_id,
            RiskAlert.kind == kind.value,
            RiskAlert.event_key == key,
        )
    )
    if exists:
        return 0
    try:
        with s.begin_nested():
            s.add(
                RiskAlert(
                    customer_id=customer_id,
                    kind=kind.value,
                    event_key=key[:160],
                    event_id=event_id,
                    source=source,
                    link=(link or None) and link[:400],
                    message=message,
                )
            )
    except IntegrityError:  # another desktop added it meanwhile
        return 0
    return 1


def stale(risk: CustomerRisk | None, before: dt.datetime) -> bool:
    checked = risk.identity_at if risk else None
    return checked is None or checked < before


def invalid_legal_ids(s: Session) -> list[tuple[str, str]]:
    """(customer reference, problem) for French customers whose SIREN is wrong."""
    rows = s.execute(
        select(Customer.reference, Customer.legal_id, Customer.country).where(
            Customer.legal_id.is_not(None)
        )
    )
    out = []
    for ref, legal, country in rows:
        problem = legal_id_problem(legal, country)
        if problem:
            out.append((ref, problem))
    return out


def book_sirens(s: Session) -> dict[str, list[int]]:
    """SIREN -> customers, for the whole book in one query."""
    out: dict[str, list[int]] = defaultdict(list)
    rows = s.execute(
        select(Customer.id, Customer.legal_id).where(Customer.legal_id.is_not(None))
    )
    for cid, legal in rows:
        siren = siren_of(legal)
        if siren:
            out[siren].append(cid)
    return dict(out)


def provider_ids(s: Session) -> dict[str, list[int]]:
    out: dict[str, list[int]] = defaultdict(list)
    for cid, pid in s.execute(
        select(CustomerRisk.customer_id, CustomerRisk.provider_id).where(
            CustomerRisk.provider_id.is_not(None)
        )
    ):
        if pid:
            out[pid].append(cid)
    return dict(out)


def exposures(s: Session, customer_id: int | None = None) -> dict[int, Decimal]:
    """Open balance per customer (orders are not known without an ERP feed)."""
    query = (
        select(Item.customer_id, func.sum(Item.remaining))
        .where(Item.status == ItemStatus.OPEN)
        .group_by(Item.customer_id)
    )
    if customer_id is not None:
        query = query.where(Item.customer_id == customer_id)
    return {cid: Decimal(total or 0) for cid, total in s.execute(query)}


def currency(s: Session, customer: Customer) -> str:
    entity = s.get(Entity, customer.entity_id)
    return entity.currency if entity else "EUR"


def rating(
    customer_id: int,
    source: str,
    on: dt.date,
    rating: str | None,
    score: Decimal | None,
    limit: Decimal | None,
) -> RiskRating:
    return RiskRating(
        customer_id=customer_id,
        source=source,
        rated_on=on,
        rating=rating,
        score=score,
        provider_limit=limit,
        recorded_at=utcnow(),
    )


def event_row(event: feeds.RiskEvent) -> RiskEvent:
    return RiskEvent(
        source=event.source,
        external_id=event.external_id[:80],
        siren=event.sirens[0] if event.sirens else None,
        sirens=list(event.sirens),
        kind=event.kind.value,
        procedure=event.procedure.value if event.procedure else None,
        published_on=event.published_on,
        effective_on=event.effective_on,
        tribunal=event.tribunal[:200] or None,
        mandatary=event.mandatary[:200] or None,
        url=event.url[:400] or None,
        summary=event.summary[:400] or None,
        old_value=event.old_value[:200] or None,
        new_value=event.new_value[:200] or None,
        provider_id=event.provider_id[:80] or None,
        payload=event.raw,
    )


def requests(connector: feeds.RiskConnector) -> int:
    http = getattr(connector, "_http", None)
    return int(getattr(http, "requests", 0))
