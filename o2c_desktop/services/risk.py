"""Risk watch: pull the providers, match the book, alert, automate insolvency.

`RiskService.sync(source)` pulls what a provider published since its cursor
(`risk_cursor`), keeps the events that name a SIREN of the book (matched
locally, one set of SIRENs for the whole book), and applies each new match:

- a BODACC judgment opens or updates the customer's insolvency case
  (`services._risk_insolvency`): dunning frozen, claim valued at the
  judgment date, declaration task with its deadline, letter;
- a Creditsafe report adds to the rating history and alerts on a drop of one
  class or more; Recherche d'entreprises alerts on a ceased company;
- every sync then compares each customer's exposure with its credit limit.

An alert is unique per (customer, kind, event key): a re-run, or a second
notice of the same judgment, never shows it twice. A pull that failed (the
provider down, quota exhausted) keeps the cursor, so the next one catches up.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import uuid
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from o2c_desktop import secrets
from o2c_desktop.engine import risk as rules
from o2c_desktop.engine.identifiers import (
    digits,
    legal_id_problem,
    siren_of,
    siren_ok,
    vat_problem,
)
from o2c_desktop.engine.risk import RatingInfo, RiskCard
from o2c_desktop.engine.types import ActionStatus, ActionType
from o2c_desktop.i18n import _
from o2c_desktop.models import (
    Action,
    CreditLimitChange,
    Customer,
    CustomerRisk,
    InsolvencyCase,
    RiskAlert,
    RiskCursor,
    RiskEvent,
    RiskEventCustomer,
    RiskRating,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.repo import get_one
from o2c_desktop.services import _risk_common as common
from o2c_desktop.services import _risk_insolvency as insolvency
from o2c_desktop.services.context import Changes
from o2c_desktop.sync import risk as feeds
from o2c_desktop.sync.risk.bodacc import BodaccConnector
from o2c_desktop.sync.risk.creditsafe import CreditsafeConnector
from o2c_desktop.sync.risk.http import HttpClient
from o2c_desktop.sync.risk.sirene import SireneConnector

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext

log = logging.getLogger(__name__)

CACHE_DAYS = 7  # a report or an identity younger than this is not asked again
MAX_LOOKUPS = 500  # per sync and provider: quotas and paid reports
_STOPPING = frozenset({"network", "http", "rate_limited", "auth"})
_JUDGMENTS = frozenset(
    {
        rules.NoticeKind.OPENING,
        rules.NoticeKind.CONVERSION,
        rules.NoticeKind.PLAN,
        rules.NoticeKind.CLOSURE,
        rules.NoticeKind.OTHER_JUDGMENT,
    }
)


@dataclass(frozen=True)
class SyncReport:
    """What one sync of one source did."""

    source: str
    since: dt.date
    until: dt.date
    pulled: int = 0
    new_events: int = 0
    matched: int = 0
    cases_opened: int = 0
    reports: int = 0
    alerts: int = 0
    requests: int = 0
    cursor: dt.date | None = None
    errors: tuple[str, ...] = ()
    complete: bool = True
    changes: Changes = field(default_factory=Changes)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready."""
        out = asdict(self)
        out.pop("changes")
        out["errors"] = list(self.errors)
        return out


@dataclass(frozen=True)
class AlertInfo:
    """One alert as the list shows it."""

    id: int
    customer_id: int
    customer_reference: str
    customer_name: str
    kind: str
    source: str
    message: str
    link: str
    created_at: dt.datetime
    acknowledged: bool


def default_connectors(ctx: AppContext) -> dict[str, feeds.RiskConnector]:
    """The providers, with the base URLs the environment may override.

    ``O2C_BODACC_URL``, ``O2C_SIRENE_URL``, ``O2C_CREDITSAFE_URL`` point at a
    sandbox or a test server; the Creditsafe user and portfolio come from
    ``O2C_CREDITSAFE_USER`` / ``O2C_CREDITSAFE_PORTFOLIO``, its password from
    the keyring (entry ``creditsafe:<user>``). Creditsafe is left out when
    no user is configured.
    """
    env = os.environ
    out: dict[str, feeds.RiskConnector] = {
        feeds.BODACC: BodaccConnector(
            base_url=env.get("O2C_BODACC_URL")
            or "https://bodacc-datadila.opendatasoft.com/api/explore/v2.1"
        ),
        feeds.SIRENE: SireneConnector(
            base_url=env.get("O2C_SIRENE_URL")
            or "https://recherche-entreprises.api.gouv.fr"
        ),
    }
    user = env.get("O2C_CREDITSAFE_USER", "")
    if user:
        out[feeds.CREDITSAFE] = CreditsafeConnector(
            user,
            secrets.get_password(f"creditsafe:{user}") or "",
            portfolio_id=env.get("O2C_CREDITSAFE_PORTFOLIO", ""),
            client=HttpClient(feeds.CREDITSAFE),
            base_url=env.get("O2C_CREDITSAFE_URL")
            or "https://connect.creditsafe.com/v1",
        )
    return out


class RiskService:
    """Risk sync, alerts, credit limits and the insolvency watch.

    Args:
        ctx: the database and the current user.
        connectors: the providers by source name (`default_connectors`).
        cache_days: reports and identities younger than this are reused.
    """

    def __init__(
        self,
        ctx: AppContext,
        connectors: Mapping[str, feeds.RiskConnector],
        *,
        cache_days: int = CACHE_DAYS,
        max_lookups: int = MAX_LOOKUPS,
    ) -> None:
        self._db = ctx.db
        self._login = ctx.user_login
        self._connectors = dict(connectors)
        self._cache = dt.timedelta(days=cache_days)
        self._max_lookups = max_lookups

    @property
    def sources(self) -> tuple[str, ...]:
        """The providers configured here."""
        return tuple(self._connectors)

    def _connector(self, source: str) -> feeds.RiskConnector:
        try:
            return self._connectors[source]
        except KeyError:
            known = ", ".join(self._connectors) or "none"
            raise ValueError(
                f"risk source {source!r} is not configured (configured: {known})"
            ) from None

    # --- sync --------------------------------------------------------------

    def sync(
        self, source: str, *, today: dt.date, since: dt.date | None = None
    ) -> SyncReport:
        """Pull one source from its cursor (or `since`) to `today`, and apply it."""
        connector = self._connector(source)
        with self._db.session(self._login) as s:
            cursor = s.get(RiskCursor, source)
            start = since or (cursor.cursor if cursor and cursor.cursor else None)
        start = start or today - dt.timedelta(days=1)
        if start > today:
            raise ValueError(f"--since {start} is after today ({today})")
        asked = common.requests(connector)
        events, errors = connector.events(start, today)
        with self._db.session(self._login) as s:
            book = common.book_sirens(s)
            # Reported, skipped: a wrong SIREN would match another company.
            errors = errors + [
                feeds.RiskError("book", "invalid_siren", f"{why} (skipped)", ref)
                for ref, why in common.invalid_legal_ids(s)
            ]
            stored, matched, opened, alerts = self._store(s, events, book, today)
            reports = 0
            if source == feeds.CREDITSAFE:
                r, a, errs = self._refresh_reports(s, connector, events, book, today)
                reports, alerts, errors = reports + r, alerts + a, errors + errs
            elif source == feeds.SIRENE:
                r, a, errs = self._refresh_identities(s, connector, book, today)
                reports, alerts, errors = reports + r, alerts + a, errors + errs
            alerts += self._check_limits(s, today)
            complete = not any(e.code in _STOPPING for e in errors)
            row = s.get(RiskCursor, source) or RiskCursor(source=source, requests=0)
            if complete:
                row.cursor = today
            row.last_run_at = utcnow()
            row.last_error = "; ".join(map(str, errors[:5])) or None
            row.requests = (row.requests or 0) + common.requests(connector) - asked
            s.merge(row)
            cursor_day = row.cursor
        return SyncReport(
            source=source,
            since=start,
            until=today,
            pulled=len(events),
            new_events=stored,
            matched=matched,
            cases_opened=opened,
            reports=reports,
            alerts=alerts,
            requests=common.requests(connector) - asked,
            cursor=cursor_day,
            errors=tuple(str(e) for e in errors),
            complete=complete,
            changes=Changes(customers=True, actions=True, notifications=True),
        )

    def _store(
        self,
        s: Session,
        events: Iterable[feeds.RiskEvent],
        book: Mapping[str, list[int]],
        today: dt.date,
    ) -> tuple[int, int, int, int]:
        """Keep the events naming the book's SIRENs; apply each new match."""
        stored = matched = opened = alerts = 0
        by_provider = common.provider_ids(s)
        for event in events:
            customers = sorted(
                {c for siren in event.sirens for c in book.get(siren, ())}
                | set(by_provider.get(event.provider_id, ()))
            )
            if not customers:
                continue  # not one of ours: not kept
            row = s.scalars(
                select(RiskEvent).where(
                    RiskEvent.source == event.source,
                    RiskEvent.external_id == event.external_id,
                )
            ).first()
            if row is None:
                row = common.event_row(event)
                s.add(row)
                s.flush()
                stored += 1
            linked = set(
                s.scalars(
                    select(RiskEventCustomer.customer_id).where(
                        RiskEventCustomer.event_id == row.id
                    )
                )
            )
            for customer_id in customers:
                if customer_id in linked:
                    continue
                s.add(
                    RiskEventCustomer(
                        event_id=row.id, customer_id=customer_id, matched_at=utcnow()
                    )
                )
                s.flush()
                matched += 1
                o, a = self._apply(s, get_one(s, Customer, customer_id), row, today)
                opened, alerts = opened + o, alerts + a
        return stored, matched, opened, alerts

    def _apply(
        self, s: Session, customer: Customer, event: RiskEvent, today: dt.date
    ) -> tuple[int, int]:
        kind = rules.NoticeKind(event.kind)
        if kind in _JUDGMENTS:
            case, opened = insolvency.apply_notice(
                s, customer, event, today, self._login
            )
            if case is None or kind is rules.NoticeKind.OTHER_JUDGMENT:
                return int(opened), 0
            judged = event.effective_on or event.published_on
            message = _("{name}: {nature} ({tribunal}, judgment of {date})").format(
                name=customer.name,
                nature=event.summary or event.procedure,
                tribunal=event.tribunal or "-",
                date=judged.isoformat(),
            )
            if case.status == "open":
                message += " " + _("Declare the claim by {date}.").format(
                    date=case.deadline.isoformat()
                )
            key = f"{kind.value}:{event.procedure}:{judged.isoformat()}"
            return int(opened), common.alert(
                s,
                customer.id,
                rules.AlertKind.INSOLVENCY,
                key,
                event.source,
                message,
                event.url,
                event.id,
            )
        if kind in (rules.NoticeKind.RATING, rules.NoticeKind.LIMIT):
            return 0, 0  # the report refresh that follows says what changed
        message = _("{name}: {summary} ({old} -> {new})").format(
            name=customer.name,
            summary=event.summary,
            old=event.old_value or "-",
            new=event.new_value or "-",
        )
        return 0, common.alert(
            s,
            customer.id,
            rules.AlertKind.PROVIDER_EVENT,
            f"{event.source}:{event.external_id}",
            event.source,
            message,
            event.url,
            event.id,
        )

    def _refresh_reports(
        self,
        s: Session,
        connector: feeds.RiskConnector,
        events: Iterable[feeds.RiskEvent],
        book: Mapping[str, list[int]],
        today: dt.date,
    ) -> tuple[int, int, list[feeds.RiskError]]:
        """Reports of customers never rated, stale, or named by a new event."""
        risks = {r.customer_id: r for r in s.scalars(select(CustomerRisk))}
        named = {e.provider_id for e in events if e.provider_id}
        stale = utcnow() - self._cache
        due: list[tuple[int, str]] = []
        for siren, ids in book.items():
            for cid in ids:
                r = risks.get(cid)
                if (
                    r is None
                    or r.report_at is None
                    or r.report_at < stale
                    or (r.provider_id in named)
                ):
                    due.append((cid, siren))
        errors: list[feeds.RiskError] = []
        reports = alerts = 0
        for cid, siren in due[: self._max_lookups]:
            risk = risks.get(cid) or CustomerRisk(customer_id=cid)
            if not risk.provider_id:
                found, errs = connector.lookup(siren)
                errors += errs
                if found is None:
                    if any(e.code in _STOPPING for e in errs):
                        break
                    # Absent at the provider: asked again after `cache_days`.
                    risk.report_at = utcnow()
                    s.merge(risk)
                    continue
                risk.provider, risk.provider_id = connector.source, found.provider_id
                risk.provider_url = found.url
            report, errs = connector.report(risk.provider_id or "")
            errors += errs
            if report is None:
                if any(e.code in _STOPPING for e in errs):
                    break
                continue
            reports += 1
            alerts += self._apply_report(s, cid, risk, report, today)
        return reports, alerts, errors

    def _apply_report(
        self,
        s: Session,
        customer_id: int,
        risk: CustomerRisk,
        report: feeds.CompanyReport,
        today: dt.date,
    ) -> int:
        """Rating history, the customer's rating and limit; alert on a drop."""
        customer = get_one(s, Customer, customer_id)
        last = s.scalars(
            select(RiskRating)
            .where(
                RiskRating.customer_id == customer_id,
                RiskRating.source == report.source,
            )
            .order_by(RiskRating.rated_on.desc())
            .limit(1)
        ).first()
        rated_on = report.rating_changed_on or today
        before = last.rating if last else report.previous_rating
        known = set(
            s.scalars(
                select(RiskRating.rated_on).where(
                    RiskRating.customer_id == customer_id,
                    RiskRating.source == report.source,
                )
            )
        )
        points = [p for p in report.history if p.on not in known and p.on != rated_on]
        for p in points:
            s.add(
                common.rating(
                    customer_id, report.source, p.on, p.rating, p.score, p.limit
                )
            )
            known.add(p.on)
        if rated_on not in known:
            s.add(
                common.rating(
                    customer_id,
                    report.source,
                    rated_on,
                    report.rating,
                    report.score,
                    report.provider_limit,
                )
            )
        risk.provider = report.source
        risk.provider_url = report.url or risk.provider_url
        risk.rating = report.rating
        risk.rating_description = report.rating_description[:120] or None
        risk.score = report.score
        risk.rated_on = rated_on
        risk.provider_limit = report.provider_limit
        risk.provider_currency = report.currency
        risk.report_at = utcnow()
        s.merge(risk)
        customer.risk_class = report.rating
        if risk.limit_source == "provider" and report.provider_limit is not None:
            self._set_limit(s, customer, report.provider_limit, "provider", None)
        drop = rules.rating_drop(before, report.rating)
        if not drop:
            return 0
        message = _("{name}: rating fell from {old} to {new} ({source})").format(
            name=customer.name, old=before, new=report.rating, source=report.source
        )
        return common.alert(
            s,
            customer_id,
            rules.AlertKind.RATING_DROP,
            f"{before}>{report.rating}:{rated_on.isoformat()}",
            report.source,
            message,
            report.url,
            None,
        )

    def _refresh_identities(
        self,
        s: Session,
        connector: feeds.RiskConnector,
        book: Mapping[str, list[int]],
        today: dt.date,
    ) -> tuple[int, int, list[feeds.RiskError]]:
        """Registry identity of customers not checked lately; alert on a ceased one."""
        risks = {r.customer_id: r for r in s.scalars(select(CustomerRisk))}
        stale = utcnow() - self._cache
        due = [
            (cid, siren)
            for siren, ids in sorted(book.items())
            for cid in ids
            if common.stale(risks.get(cid), stale)
        ]
        errors: list[feeds.RiskError] = []
        done = alerts = 0
        for cid, siren in due[: self._max_lookups]:
            found, errs = connector.lookup(siren)
            errors += errs
            if found is None:
                if any(e.code in _STOPPING for e in errs):
                    break  # quota or outage: the rest waits for the next sync
                continue
            done += 1
            risk = risks.get(cid) or CustomerRisk(customer_id=cid)
            risk.registry_name = found.name[:200]
            risk.registry_address = found.address[:300]
            risk.naf = found.naf[:10] or None
            risk.active = found.active
            risk.ceased_on = found.ceased_on
            risk.identity_at = utcnow()
            s.merge(risk)
            if found.active:
                continue
            customer = get_one(s, Customer, cid)
            day = found.ceased_on.isoformat() if found.ceased_on else "?"
            alerts += common.alert(
                s,
                cid,
                rules.AlertKind.CEASED,
                f"ceased:{day}",
                connector.source,
                _("{name}: company ceased on {date} (registry)").format(
                    name=customer.name, date=day
                ),
                found.url,
                None,
            )
        return done, alerts, errors

    def set_identifiers(
        self, customer_id: int, *, legal_id: str | None, vat_number: str | None
    ) -> Changes:
        """Edit a customer's SIREN/SIRET and VAT number, checked first.

        Raises:
            ValueError: one message naming the field and what is wrong.
        """
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            legal = (legal_id or "").strip() or None
            vat = (vat_number or "").strip().upper() or None
            problem = legal_id_problem(legal, customer.country)
            if problem:
                raise ValueError(f"{customer.reference}: SIREN: {problem}")
            problem = vat_problem(vat, siren_of(legal))
            if problem:
                raise ValueError(f"{customer.reference}: VAT number: {problem}")
            # Kept compact: the search and the matching compare digits.
            customer.legal_id = digits(legal) if legal else None
            customer.vat_number = digits(vat).upper() if vat else None
        return Changes(customers=True)

    # --- limits ------------------------------------------------------------

    def check_limits(self, today: dt.date) -> int:
        """Alert on customers over their credit limit or above 90 % of it."""
        with self._db.session(self._login) as s:
            return self._check_limits(s, today)

    def _check_limits(self, s: Session, today: dt.date) -> int:
        exposure = common.exposures(s)
        rows = s.execute(
            select(Customer.id, Customer.name, Customer.credit_limit).where(
                Customer.credit_limit.is_not(None)
            )
        ).all()
        added = 0
        for cid, name, limit in rows:
            owed = exposure.get(cid, Decimal(0))
            kind = rules.limit_alert(owed, limit)
            if kind is None:
                continue
            share = rules.limit_share(owed, limit)
            message = _("{name}: exposure {owed} is {share} % of the limit {limit}")
            added += common.alert(
                s,
                cid,
                kind,
                f"{limit}",
                "book",
                message.format(name=name, owed=owed, share=share, limit=limit),
                None,
                None,
            )
        return added

    def set_credit_limit(
        self,
        customer_id: int,
        amount: Decimal | None,
        *,
        source: str = "manual",
        note: str | None = None,
    ) -> Changes:
        """Set our credit limit (manual, or the provider's or insurer's)."""
        if source not in {"manual", "provider", "insurer"}:
            raise ValueError(f"unknown credit-limit source {source!r}")
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            if source == "provider" and amount is None:
                risk = s.get(CustomerRisk, customer_id)
                amount = risk.provider_limit if risk else None
                if amount is None:
                    raise ValueError(f"{customer.reference}: no provider limit yet")
            if amount is not None and amount < 0:
                raise ValueError("a credit limit cannot be negative")
            self._set_limit(s, customer, amount, source, note)
        return Changes(customers=True)

    def _set_limit(
        self,
        s: Session,
        customer: Customer,
        amount: Decimal | None,
        source: str,
        note: str | None,
    ) -> None:
        if customer.credit_limit == amount and source != "manual":
            return
        customer.credit_limit = amount
        now = utcnow()
        s.add(
            CreditLimitChange(
                customer_id=customer.id,
                amount=amount,
                currency=common.currency(s, customer),
                source=source,
                set_by=self._login if source == "manual" else source,
                set_at=now,
                note=note,
            )
        )
        risk = s.get(CustomerRisk, customer.id) or CustomerRisk(customer_id=customer.id)
        risk.limit_source = source
        risk.limit_set_by = self._login
        risk.limit_set_at = now
        s.merge(risk)

    # --- alerts and the card -----------------------------------------------

    def alerts(self, *, include_acknowledged: bool = False) -> list[AlertInfo]:
        """The alert list, newest first."""
        query = (
            select(RiskAlert, Customer.reference, Customer.name)
            .join(Customer, Customer.id == RiskAlert.customer_id)
            .order_by(RiskAlert.created_at.desc(), RiskAlert.id.desc())
        )
        if not include_acknowledged:
            query = query.where(RiskAlert.acknowledged_at.is_(None))
        with self._db.session(self._login) as s:
            return [
                AlertInfo(
                    id=a.id,
                    customer_id=a.customer_id,
                    customer_reference=ref,
                    customer_name=name,
                    kind=a.kind,
                    source=a.source,
                    message=a.message,
                    link=a.link or "",
                    created_at=a.created_at,
                    acknowledged=a.acknowledged_at is not None,
                )
                for a, ref, name in s.execute(query).all()
            ]

    def acknowledge(self, alert_id: int) -> Changes:
        """Mark an alert as seen by the current user."""
        with self._db.session(self._login) as s:
            alert = get_one(s, RiskAlert, alert_id)
            alert.acknowledged_at = utcnow()
            alert.acknowledged_by = self._login
        return Changes(notifications=True)

    def assign(self, alert_id: int, login: str, *, today: dt.date) -> Changes:
        """Make an alert a task in `login`'s agenda (acknowledged by the assigner)."""
        with self._db.session(self._login) as s:
            alert = get_one(s, RiskAlert, alert_id)
            user = s.scalars(select(User).where(User.login == login)).first()
            if user is None:
                raise LookupError(f"unknown user {login!r}")
            task = Action(
                id=uuid.uuid4(),
                customer_id=alert.customer_id,
                action_type=ActionType.INTERNAL_TASK,
                subject=alert.message[:300],
                planned_date=today,
                status=ActionStatus.PENDING,
                assigned_to_id=user.id,
                comment=alert.link,
            )
            s.add(task)
            s.flush()
            alert.action_id = task.id
            alert.acknowledged_at = utcnow()
            alert.acknowledged_by = self._login
        return Changes(actions=True, notifications=True)

    def unlink(
        self, customer_id: int, event_id: int, *, reason: str, today: dt.date
    ) -> Changes:
        """Undo a match made by mistake (a SIREN typo): dunning resumes.

        The match stays with who, when and why; the insolvency case it opened
        is marked unlinked and its open tasks cancelled.
        """
        if not reason.strip():
            raise ValueError("say why the notice is not this customer's")
        with self._db.session(self._login) as s:
            link = get_one(s, RiskEventCustomer, (event_id, customer_id))
            link.unlinked_at = utcnow()
            link.unlinked_by = self._login
            link.unlink_reason = reason[:300]
            insolvency.unlink_case(
                s, get_one(s, Customer, customer_id), event_id, reason, today
            )
        return Changes(customers=True, actions=True)

    def card(self, customer_id: int, today: dt.date) -> RiskCard:
        """Rating with its history, limit vs exposure, insolvency deadline."""
        with self._db.session(self._login) as s:
            customer = get_one(s, Customer, customer_id)
            risk = s.get(CustomerRisk, customer_id)
            history = s.scalars(
                select(RiskRating)
                .where(RiskRating.customer_id == customer_id)
                .order_by(RiskRating.rated_on.desc())
            ).all()
            case = insolvency.open_case(s, customer_id)
            owed = common.exposures(s, customer_id).get(customer_id, Decimal(0))
            return RiskCard(
                customer_id=customer_id,
                siren=siren_of(customer.legal_id),
                rating=risk.rating if risk else customer.risk_class,
                score=risk.score if risk else None,
                history=tuple(
                    RatingInfo(
                        h.rated_on, h.source, h.rating, h.score, h.provider_limit
                    )
                    for h in history
                ),
                credit_limit=customer.credit_limit,
                limit_source=risk.limit_source if risk else None,
                limit_set_by=risk.limit_set_by if risk else None,
                limit_set_at=risk.limit_set_at if risk else None,
                provider_limit=risk.provider_limit if risk else None,
                exposure=owed,
                limit_share=rules.limit_share(owed, customer.credit_limit),
                provider_url=risk.provider_url if risk else None,
                insolvency=customer.insolvency,
                insolvency_status=case.status if case else None,
                declaration_deadline=case.deadline if case else None,
                days_to_deadline=(case.deadline - today).days if case else None,
                claim_amount=case.claim_amount if case else None,
                ceased_on=risk.ceased_on if risk else None,
            )

    def lookup(self, siren: str) -> dict[str, Any]:
        """Ask every configured provider who `siren` is (nothing is stored)."""
        number = digits(siren)
        if not siren_ok(number):
            raise ValueError(f"invalid SIREN {siren!r} (9 digits with a Luhn key)")
        out: dict[str, Any] = {"siren": number, "sources": {}, "errors": []}
        for source, connector in self._connectors.items():
            found, errors = connector.lookup(number)
            out["sources"][source] = asdict(found) if found else None
            out["errors"] += [str(e) for e in errors if e.code != "not_found"]
        with self._db.session(self._login) as s:
            out["customers"] = [
                ref
                for ref, legal in s.execute(
                    select(Customer.reference, Customer.legal_id).where(
                        Customer.legal_id.is_not(None)
                    )
                )
                if siren_of(legal) == number
            ]
        return out

    def write_off_closed(self, case_id: int, *, reason: str) -> Changes:
        """Record that a closed proceeding's items are written off."""
        with self._db.session(self._login) as s:
            case = get_one(s, InsolvencyCase, case_id)
            if case.status != "closed":
                raise ValueError("only a closed proceeding's items are written off")
            case.written_off_at = utcnow()
            case.written_off_by = self._login
            case.close_reason = f"{case.close_reason or ''}; written off: {reason}"[
                :300
            ]
        return Changes(items=True)
