"""Late-payment interest and fixed recovery indemnities; each country's law as data.

The rules are values, not code: a `LatePaymentLaw` holds the reference-rate
table (half-year periods), the margin in points, the indemnity bands and the
floor for contractual rates. A credit manager edits a law with
`with_reference_rate()` or loads one from JSON with `law_from_dict()`.

Interest is simple, day by day, on the remaining amount, from the day after
the due date to the payment date (or the statement date) included, each day at
the rate of the period it falls in. Each period's interest is rounded to the
cent, so the lines printed on the statement add up to the total printed.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, replace
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

log = logging.getLogger(__name__)

CENT = Decimal("0.01")
HUNDRED = Decimal(100)


@dataclass(frozen=True)
class RatePeriod:
    """An annual rate in percent, in force from `start` until the next period."""

    start: dt.date
    rate: Decimal


@dataclass(frozen=True)
class IndemnityBand:
    """A fixed recovery indemnity for debts below `below` (None: no upper bound)."""

    below: Decimal | None
    amount: Decimal


@dataclass(frozen=True)
class LatePaymentLaw:
    """One country's late-payment rules between businesses.

    Attributes:
        country: ISO 3166 code ("FR", "GB"), or "EU" for the directive default.
        name: the legal basis printed on the interest statement.
        currency: currency of the fixed indemnity amounts.
        reference_rates: the central-bank rate fixed for each half-year.
        margin: points added to the reference rate for the default rate.
        indemnities: bands by debt amount, first matching band wins.
        legal_interest_rates: the legal interest rate per half-year; a
            contractual rate may not be below `floor_multiple` times it.
        floor_multiple: None where the law sets no floor.
        day_basis: days in the year used to turn an annual rate into a daily one.
    """

    country: str
    name: str
    currency: str
    reference_rates: tuple[RatePeriod, ...]
    margin: Decimal
    indemnities: tuple[IndemnityBand, ...]
    legal_interest_rates: tuple[RatePeriod, ...] = ()
    floor_multiple: Decimal | None = None
    day_basis: int = 365

    def default_rate(self, day: dt.date) -> Decimal:
        """The statutory rate (reference + margin) in force on `day`."""
        return _rate_on(self.reference_rates, day) + self.margin

    def contractual_floor(self, day: dt.date) -> Decimal | None:
        """The lowest contractual rate the law allows on `day`, if it sets one."""
        if self.floor_multiple is None or not self.legal_interest_rates:
            return None
        return _rate_on(self.legal_interest_rates, day) * self.floor_multiple

    def indemnity(self, debt: Decimal) -> Decimal:
        """The fixed recovery indemnity due for one late invoice of `debt`."""
        for band in self.indemnities:
            if band.below is None or debt < band.below:
                return band.amount
        return Decimal(0)

    def with_reference_rate(self, start: dt.date, rate: Decimal) -> LatePaymentLaw:
        """A copy with the reference rate set from `start` (the table is editable)."""
        periods = {p.start: p for p in self.reference_rates}
        periods[start] = RatePeriod(start, rate)
        return replace(self, reference_rates=tuple(sorted(periods.values(), key=_key)))

    def periods(self, first: dt.date, last: dt.date) -> list[tuple[dt.date, dt.date]]:
        """Split [first, last] at each change of reference or legal rate."""
        starts = {p.start for p in self.reference_rates} | {
            p.start for p in self.legal_interest_rates
        }
        cuts = sorted(s for s in starts if first < s <= last)
        bounds: list[tuple[dt.date, dt.date]] = []
        begin = first
        for cut in cuts:
            bounds.append((begin, cut - dt.timedelta(days=1)))
            begin = cut
        bounds.append((begin, last))
        return bounds


def _key(period: RatePeriod) -> dt.date:
    return period.start


def _rate_on(table: Sequence[RatePeriod], day: dt.date) -> Decimal:
    """The rate of the last period starting on or before `day`."""
    rate: Decimal | None = None
    for period in table:
        if period.start > day:
            break
        rate = period.rate
    if rate is None:
        # Before the table starts: use its first rate rather than inventing one.
        return table[0].rate
    return rate


def _half_years(pairs: Iterable[tuple[str, str]]) -> tuple[RatePeriod, ...]:
    """Periods from ("2024-1", "4.50") pairs: half-year 1 starts 1 Jan, 2 on 1 Jul."""
    out = []
    for half, rate in pairs:
        year, part = half.split("-")
        start = dt.date(int(year), 1 if part == "1" else 7, 1)
        out.append(RatePeriod(start, Decimal(rate)))
    return tuple(sorted(out, key=_key))


# ECB main refinancing rate in force on 1 January / 1 July (L441-10, directive
# 2011/7). The last entry stays in force until a newer one is added.
ECB_RATES = _half_years(
    [
        ("2020-1", "0.00"),
        ("2020-2", "0.00"),
        ("2021-1", "0.00"),
        ("2021-2", "0.00"),
        ("2022-1", "0.00"),
        ("2022-2", "0.00"),
        ("2023-1", "2.50"),
        ("2023-2", "4.00"),
        ("2024-1", "4.50"),
        ("2024-2", "4.25"),
        ("2025-1", "3.15"),
        ("2025-2", "2.15"),
        ("2026-1", "2.15"),
    ]
)

# Taux de l'intérêt légal, "autres cas" (creditor is not a private person).
FR_LEGAL_INTEREST = _half_years(
    [
        ("2020-1", "0.87"),
        ("2020-2", "0.84"),
        ("2021-1", "0.79"),
        ("2021-2", "0.76"),
        ("2022-1", "0.76"),
        ("2022-2", "0.77"),
        ("2023-1", "2.06"),
        ("2023-2", "4.22"),
        ("2024-1", "5.07"),
        ("2024-2", "4.92"),
        ("2025-1", "3.71"),
        ("2025-2", "2.76"),
    ]
)

# Bank of England base rate on 31 December / 30 June, for the following half-year.
BOE_RATES = _half_years(
    [
        ("2020-1", "0.75"),
        ("2020-2", "0.10"),
        ("2021-1", "0.10"),
        ("2021-2", "0.10"),
        ("2022-1", "0.25"),
        ("2022-2", "1.25"),
        ("2023-1", "3.50"),
        ("2023-2", "5.00"),
        ("2024-1", "5.25"),
        ("2024-2", "5.25"),
        ("2025-1", "4.75"),
        ("2025-2", "4.25"),
    ]
)

FRANCE = LatePaymentLaw(
    country="FR",
    name="Code de commerce, art. L441-10 et D441-5",
    currency="EUR",
    reference_rates=ECB_RATES,
    margin=Decimal(10),
    indemnities=(IndemnityBand(None, Decimal("40.00")),),
    legal_interest_rates=FR_LEGAL_INTEREST,
    floor_multiple=Decimal(3),
)

UNITED_KINGDOM = LatePaymentLaw(
    country="GB",
    name="Late Payment of Commercial Debts (Interest) Act 1998",
    currency="GBP",
    reference_rates=BOE_RATES,
    margin=Decimal(8),
    indemnities=(
        IndemnityBand(Decimal(1000), Decimal("40.00")),
        IndemnityBand(Decimal(10000), Decimal("70.00")),
        IndemnityBand(None, Decimal("100.00")),
    ),
)

EU_DIRECTIVE = LatePaymentLaw(
    country="EU",
    name="Directive 2011/7/EU",
    currency="EUR",
    reference_rates=ECB_RATES,
    margin=Decimal(8),
    indemnities=(IndemnityBand(None, Decimal("40.00")),),
)

LAWS: Mapping[str, LatePaymentLaw] = {"FR": FRANCE, "GB": UNITED_KINGDOM}


def law_for(
    country: str | None, laws: Mapping[str, LatePaymentLaw] = LAWS
) -> LatePaymentLaw:
    """The law of the creditor's country, or the EU directive default."""
    return laws.get((country or "").upper(), EU_DIRECTIVE)


def agreed_rate(
    customer_rate: Decimal | None, entity_rate: Decimal | None
) -> Decimal | None:
    """The rate agreed with a customer: its own, else its entity's general terms.

    Args:
        customer_rate: the rate of the customer's contract, in percent a year.
        entity_rate: the rate of the entity's general terms of sale.

    Returns:
        The contractual rate, or None when the law's default rate applies.
    """
    return customer_rate if customer_rate is not None else entity_rate


def law_from_dict(data: Mapping[str, Any]) -> LatePaymentLaw:
    """Build a law from JSON-ready data (how a credit manager's edits are stored).

    Args:
        data: keys as `LatePaymentLaw` attributes; rate tables are lists of
            ``{"start": "2024-07-01", "rate": "4.25"}``, indemnity bands lists
            of ``{"below": "1000" | null, "amount": "40"}``.

    Returns:
        The law.

    Raises:
        ValueError: a date or a number cannot be read.
    """

    def periods(key: str) -> tuple[RatePeriod, ...]:
        rows = data.get(key) or []
        table = [
            RatePeriod(dt.date.fromisoformat(r["start"]), Decimal(str(r["rate"])))
            for r in rows
        ]
        return tuple(sorted(table, key=_key))

    try:
        floor = data.get("floor_multiple")
        return LatePaymentLaw(
            country=str(data["country"]),
            name=str(data["name"]),
            currency=str(data["currency"]),
            reference_rates=periods("reference_rates"),
            margin=Decimal(str(data["margin"])),
            indemnities=tuple(
                IndemnityBand(
                    None if b.get("below") is None else Decimal(str(b["below"])),
                    Decimal(str(b["amount"])),
                )
                for b in data.get("indemnities") or []
            ),
            legal_interest_rates=periods("legal_interest_rates"),
            floor_multiple=None if floor is None else Decimal(str(floor)),
            day_basis=int(data.get("day_basis", 365)),
        )
    except (KeyError, ArithmeticError, TypeError) as exc:
        raise ValueError(f"invalid late-payment law: {exc!r}") from exc


@dataclass(frozen=True)
class LateDebt:
    """A late invoice as the interest calculation sees it.

    Attributes:
        number: the invoice number printed on the statement.
        due_date: the payment due date; interest runs from the next day.
        amount: what was due at the due date.
        currency: the invoice currency.
        payments: (date, amount) paid after the due date, which reduce the base
            from the day after each payment.
    """

    number: str
    due_date: dt.date
    amount: Decimal
    currency: str
    payments: tuple[tuple[dt.date, Decimal], ...] = ()


@dataclass(frozen=True)
class InterestLine:
    """Interest on one base amount over days of one rate."""

    start: dt.date
    end: dt.date
    days: int
    base: Decimal
    rate: Decimal
    interest: Decimal


@dataclass(frozen=True)
class DebtClaim:
    """What one late invoice adds to the claim."""

    number: str
    due_date: dt.date
    until: dt.date
    days_late: int
    remaining: Decimal
    currency: str
    lines: tuple[InterestLine, ...]
    interest: Decimal
    indemnity: Decimal
    floored: bool = False

    @property
    def rates(self) -> tuple[Decimal, ...]:
        """The distinct rates applied, in order."""
        seen: list[Decimal] = []
        for line in self.lines:
            if line.rate not in seen:
                seen.append(line.rate)
        return tuple(seen)


@dataclass(frozen=True)
class LatePaymentClaim:
    """Interest and indemnities claimable from one customer at a date."""

    law: LatePaymentLaw
    until: dt.date
    debts: tuple[DebtClaim, ...] = ()
    excluded_reason: str | None = None
    contractual_rate: Decimal | None = None

    def totals(self) -> dict[str, tuple[Decimal, Decimal]]:
        """(interest, indemnities) per currency."""
        out: dict[str, tuple[Decimal, Decimal]] = {}
        for d in self.debts:
            interest, indemnity = out.get(d.currency, (Decimal(0), Decimal(0)))
            out[d.currency] = (interest + d.interest, indemnity + d.indemnity)
        return out

    @property
    def interest(self) -> Decimal:
        """Total interest, all currencies (use `totals` when they differ)."""
        return sum((d.interest for d in self.debts), Decimal(0))

    @property
    def indemnities(self) -> Decimal:
        """Total fixed recovery indemnities."""
        return sum((d.indemnity for d in self.debts), Decimal(0))

    @property
    def total(self) -> Decimal:
        """Interest plus indemnities."""
        return self.interest + self.indemnities


def _round(value: Decimal) -> Decimal:
    return value.quantize(CENT, ROUND_HALF_UP)


def _rate_for(
    law: LatePaymentLaw, day: dt.date, contractual_rate: Decimal | None
) -> tuple[Decimal, bool]:
    """The rate applied on `day` and whether the legal floor replaced the contract's."""
    if contractual_rate is None:
        return law.default_rate(day), False
    floor = law.contractual_floor(day)
    if floor is not None and contractual_rate < floor:
        return floor, True
    return contractual_rate, False


def applied_rate(
    law: LatePaymentLaw, day: dt.date, contractual_rate: Decimal | None = None
) -> Decimal:
    """The annual rate applied on `day`: the contract's (floored) or the default."""
    return _rate_for(law, day, contractual_rate)[0]


def debt_claim(
    debt: LateDebt,
    until: dt.date,
    law: LatePaymentLaw,
    contractual_rate: Decimal | None = None,
) -> DebtClaim | None:
    """Interest and indemnity on one invoice, from the day after due to `until`.

    Args:
        debt: the invoice, with the payments received after its due date.
        until: the payment date, or the statement date for an unpaid invoice.
        law: the rules to apply.
        contractual_rate: the rate of the general terms of sale, if any; raised
            to the legal floor where the law sets one.

    Returns:
        The claim, or None when the invoice was not late on `until`.
    """
    if until <= debt.due_date:
        return None
    first = debt.due_date + dt.timedelta(days=1)
    # Base changes the day after each payment (interest runs on the day paid).
    changes = sorted(
        (max(day, debt.due_date) + dt.timedelta(days=1), paid)
        for day, paid in debt.payments
    )
    cuts = {day for day, _paid in changes if first < day <= until}
    segments: list[tuple[dt.date, dt.date, Decimal, Decimal]] = []
    floored = False
    for start, end in law.periods(first, until):
        for seg_start, seg_end in _split(start, end, cuts):
            base = debt.amount - sum(
                (paid for day, paid in changes if day <= seg_start), Decimal(0)
            )
            if base <= 0:
                continue
            rate, was_floored = _rate_for(law, seg_start, contractual_rate)
            floored = floored or was_floored
            prev = segments[-1] if segments else None
            if prev and prev[2] == base and prev[3] == rate:
                # One line per rate and base: 2020-2022 at 10 % is one line.
                segments[-1] = (prev[0], seg_end, base, rate)
            else:
                segments.append((seg_start, seg_end, base, rate))
    lines = []
    for start, end, base, rate in segments:
        days = (end - start).days + 1
        raw = base * rate / HUNDRED * days / law.day_basis
        lines.append(InterestLine(start, end, days, base, rate, _round(raw)))
    last_day = lines[-1].end if lines else until
    remaining = debt.amount - sum((paid for _day, paid in changes), Decimal(0))
    return DebtClaim(
        number=debt.number,
        due_date=debt.due_date,
        until=until,
        days_late=(last_day - debt.due_date).days,
        remaining=remaining,
        currency=debt.currency,
        lines=tuple(lines),
        interest=sum((line.interest for line in lines), Decimal(0)),
        indemnity=law.indemnity(debt.amount),
        floored=floored,
    )


def _split(
    start: dt.date, end: dt.date, cuts: set[dt.date]
) -> list[tuple[dt.date, dt.date]]:
    inner = sorted(c for c in cuts if start < c <= end)
    out: list[tuple[dt.date, dt.date]] = []
    begin = start
    for cut in inner:
        out.append((begin, cut - dt.timedelta(days=1)))
        begin = cut
    out.append((begin, end))
    return out


def late_payment_claim(
    debts: Iterable[LateDebt],
    until: dt.date,
    law: LatePaymentLaw,
    *,
    contractual_rate: Decimal | None = None,
    insolvency: str | None = None,
) -> LatePaymentClaim:
    """Interest and indemnities claimable at `until` for a customer's late invoices.

    Args:
        debts: the customer's invoices past due (paid late or still open).
        until: the statement date.
        law: the creditor's late-payment law.
        contractual_rate: the contract's annual rate in percent, if any.
        insolvency: the customer's insolvency proceeding, if any. Payment of
            earlier debts is then forbidden, so nothing is claimed.

    Returns:
        The claim; empty with `excluded_reason` set under insolvency.
    """
    if insolvency:
        return LatePaymentClaim(
            law=law,
            until=until,
            excluded_reason=f"insolvency: {insolvency}",
            contractual_rate=contractual_rate,
        )
    claims = [debt_claim(d, until, law, contractual_rate) for d in debts]
    return LatePaymentClaim(
        law=law,
        until=until,
        debts=tuple(c for c in claims if c is not None),
        contractual_rate=contractual_rate,
    )
