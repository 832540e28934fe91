"""Rules of the risk watch: BODACC judgments, legal deadlines, ratings, limits.

Pure functions over values (no clock: `today` is a parameter). The sync reads
the providers, these rules say what a notice or a report means, the risk
service writes the outcome.

French law (Code de commerce) behind the numbers:

- L622-21: the opening judgment stops the creditors' individual actions, so
  dunning stops at once for the customer.
- L622-28: late-payment interest stops running at the judgment date.
- R622-24: claims are declared to the mandataire judiciaire within two months
  of the BODACC publication, four for a creditor domiciled outside
  metropolitan France.
"""

from __future__ import annotations

import calendar
import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

HUNDRED = Decimal(100)
NEAR_LIMIT_SHARE = Decimal(90)  # % of the credit limit that raises an alert
REMINDER_DAYS = 15  # the declaration reminder comes this many days before


class Procedure(StrEnum):
    """A collective proceeding; the value is what `customer.insolvency` holds."""

    SAFEGUARD = "procédure de sauvegarde"
    RECEIVERSHIP = "redressement judiciaire"
    LIQUIDATION = "liquidation judiciaire"


class NoticeKind(StrEnum):
    """What a notice (or a provider event) says happened."""

    OPENING = "opening"  # a proceeding opens: dunning stops, the claim is declared
    CONVERSION = "conversion"  # e.g. receivership converted into liquidation
    PLAN = "plan"  # a safeguard or continuation plan adopted
    CLOSURE = "closure"  # closed, e.g. for insufficient assets
    OTHER_JUDGMENT = "other_judgment"  # any other judgment of a proceeding
    UNREADABLE = "unreadable"  # the jugement field could not be read
    CEASED = "ceased"  # the company is closed in the registry
    RATING = "rating"  # a provider's rating or score changed
    LIMIT = "limit"  # a provider's suggested limit changed
    PROVIDER_EVENT = "provider_event"  # any other monitoring event


class AlertKind(StrEnum):
    """Why the credit manager is alerted; one alert per customer and event."""

    INSOLVENCY = "insolvency"
    RATING_DROP = "rating_drop"
    LIMIT_EXCEEDED = "limit_exceeded"
    LIMIT_NEAR = "limit_near"
    CEASED = "ceased"
    PROVIDER_EVENT = "provider_event"


# Test liquidation before redressement before sauvegarde: a conversion notice
# names both, and the stronger proceeding is the one in force.
_PROCEDURE_WORDS = (
    ("liquidation", Procedure.LIQUIDATION),
    ("redressement", Procedure.RECEIVERSHIP),
    ("sauvegarde", Procedure.SAFEGUARD),
)

_MONTHS = {
    "janvier": 1,
    "fevrier": 2,
    "mars": 3,
    "avril": 4,
    "mai": 5,
    "juin": 6,
    "juillet": 7,
    "aout": 8,
    "septembre": 9,
    "octobre": 10,
    "novembre": 11,
    "decembre": 12,
}
_TEXT_DATE = re.compile(r"(\d{1,2})(?:er)?\s+([a-z]+)\s+(\d{4})")
_SLASH_DATE = re.compile(r"(\d{1,2})/(\d{1,2})/(\d{4})")
_MANDATARY = re.compile(
    r"(?:mandataire judiciaire|liquidateur(?: judiciaire)?|administrateur judiciaire)"
    r"\s*:?\s+(?:la |le |l'|les |maître |me )?(?P<name>[^,;.]+)",
    re.IGNORECASE,
)


def _plain(text: str) -> str:
    """Lower case without accents: BODACC spells months both ways."""
    decomposed = unicodedata.normalize("NFKD", text.lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def parse_french_date(text: str | None) -> dt.date | None:
    """A date written ISO, dd/mm/yyyy or in French words ("1er mai 2011")."""
    if not text:
        return None
    raw = text.strip()
    try:
        return dt.date.fromisoformat(raw[:10])
    except ValueError:
        pass
    plain = _plain(raw)
    match = _TEXT_DATE.search(plain)
    try:
        if match and match.group(2) in _MONTHS:
            return dt.date(
                int(match.group(3)), _MONTHS[match.group(2)], int(match.group(1))
            )
        match = _SLASH_DATE.search(plain)
        if match:
            return dt.date(
                int(match.group(3)), int(match.group(2)), int(match.group(1))
            )
    except ValueError:  # "31 avril 2018"
        return None
    return None


@dataclass(frozen=True)
class Judgment:
    """The `jugement` of a BODACC notice, read defensively.

    Attributes:
        family: e.g. "Jugement d'ouverture".
        nature: e.g. "Jugement d'ouverture d'une procédure de sauvegarde".
        date: the judgment date; None when absent or unreadable.
        date_text: the date as written, kept when it could not be read.
        complement: the free text (mandataire, date of cessation of payments).
        mandatary: the mandataire judiciaire or liquidator it names.
    """

    family: str
    nature: str
    date: dt.date | None
    date_text: str
    complement: str
    mandatary: str


def parse_judgment(raw: Any) -> tuple[Judgment | None, str | None]:
    """Read a notice's `jugement`, a JSON string (or already an object).

    Returns:
        (the judgment, None), or (None, why it cannot be read).
    """
    if raw is None or raw == "":
        return None, "no jugement in the notice"
    data: Any = raw
    if isinstance(raw, str):
        try:
            data = json.loads(raw)
        except json.JSONDecodeError as exc:
            return None, f"jugement is not valid JSON ({exc.msg} at {exc.pos})"
    if not isinstance(data, dict):
        return None, "jugement is not an object"
    date_text = str(data.get("date") or "")
    complement = str(data.get("complementJugement") or "")
    match = _MANDATARY.search(complement)
    return (
        Judgment(
            family=str(data.get("famille") or ""),
            nature=str(data.get("nature") or ""),
            date=parse_french_date(date_text),
            date_text=date_text,
            complement=complement,
            mandatary=match.group("name").strip() if match else "",
        ),
        None,
    )


def procedure_of(text: str) -> Procedure | None:
    """The proceeding a judgment's nature names, strongest first."""
    plain = _plain(text)
    for word, procedure in _PROCEDURE_WORDS:
        if word in plain:
            return procedure
    return None


def classify(judgment: Judgment) -> tuple[NoticeKind, Procedure | None]:
    """What a judgment does, and to which proceeding."""
    words = _plain(f"{judgment.family} {judgment.nature}")
    procedure = procedure_of(judgment.nature) or procedure_of(judgment.family)
    if "cloture" in words:
        return NoticeKind.CLOSURE, procedure
    if "conversion" in words:
        return NoticeKind.CONVERSION, procedure
    if "plan" in words and ("arretant" in words or "adoptant" in words):
        return NoticeKind.PLAN, procedure
    opening = "ouverture" in words or (
        "prononcant" in words and procedure is Procedure.LIQUIDATION
    )
    if opening and procedure is not None:
        return NoticeKind.OPENING, procedure
    return NoticeKind.OTHER_JUDGMENT, procedure


def add_months(day: dt.date, months: int) -> dt.date:
    """`day` plus calendar months, on the last day when the month is shorter."""
    month0 = day.month - 1 + months
    year, month = day.year + month0 // 12, month0 % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def outside_metropolitan_france(country: str | None, postal_code: str | None) -> bool:
    """Whether a creditor is domiciled outside metropolitan France (R622-24).

    Overseas departments and territories have postal codes from 97 and 98.
    """
    if (country or "FR").upper() != "FR":
        return True
    return (postal_code or "").strip()[:2] in {"97", "98"}


def declaration_deadline(
    published_on: dt.date, *, outside_metropolitan: bool
) -> dt.date:
    """Last day to declare a claim: publication + 2 months (4 from abroad)."""
    return add_months(published_on, 4 if outside_metropolitan else 2)


def reminder_date(deadline: dt.date, today: dt.date) -> dt.date:
    """When to remind the declaration: `REMINDER_DAYS` before, not in the past."""
    return max(today, deadline - dt.timedelta(days=REMINDER_DAYS))


# Creditsafe's international score, best first; E is "not scored" (failure).
RATING_ORDER = ("A", "B", "C", "D", "E")


def rating_rank(rating: str | None) -> int | None:
    """Position of a common rating (A = 0 ... E = 4); None when unknown."""
    value = (rating or "").strip().upper()
    return RATING_ORDER.index(value) if value in RATING_ORDER else None


def rating_drop(old: str | None, new: str | None) -> int:
    """How many classes a rating fell (0 when it rose, held or is unknown)."""
    before, after = rating_rank(old), rating_rank(new)
    if before is None or after is None:
        return 0
    return max(0, after - before)


def limit_share(exposure: Decimal, limit: Decimal | None) -> Decimal | None:
    """Exposure as a percentage of the credit limit (None without a limit)."""
    if limit is None or limit <= 0:
        return None
    return (exposure * HUNDRED / limit).quantize(Decimal("0.1"))


def limit_alert(exposure: Decimal, limit: Decimal | None) -> AlertKind | None:
    """LIMIT_EXCEEDED above the limit, LIMIT_NEAR from 90 %, else None."""
    if limit is None or limit <= 0:
        return None
    if exposure > limit:
        return AlertKind.LIMIT_EXCEEDED
    if exposure * HUNDRED >= limit * NEAR_LIMIT_SHARE:
        return AlertKind.LIMIT_NEAR
    return None


def provider_number(value: Any) -> Decimal | None:
    """A provider's number that may be a string ("25000", "Not Rated")."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, int | Decimal):
        return Decimal(value)
    if isinstance(value, float):
        return Decimal(repr(value))
    text = str(value).strip().replace(" ", "").replace(",", ".")
    if not re.fullmatch(r"-?\d+(\.\d+)?", text):
        return None
    return Decimal(text)


@dataclass(frozen=True)
class RatingInfo:
    """One point of the rating history (the client card shows them)."""

    rated_on: dt.date
    source: str
    rating: str | None
    score: Decimal | None
    provider_limit: Decimal | None


@dataclass(frozen=True)
class RiskCard:
    """The risk part of the client card: rating, limit, insolvency deadline."""

    customer_id: int
    siren: str | None
    rating: str | None
    score: Decimal | None
    history: tuple[RatingInfo, ...]
    credit_limit: Decimal | None
    limit_source: str | None
    limit_set_by: str | None
    limit_set_at: dt.datetime | None
    provider_limit: Decimal | None
    exposure: Decimal
    limit_share: Decimal | None
    provider_url: str | None
    insolvency: str | None
    insolvency_status: str | None
    declaration_deadline: dt.date | None
    days_to_deadline: int | None
    claim_amount: Decimal | None
    ceased_on: dt.date | None
