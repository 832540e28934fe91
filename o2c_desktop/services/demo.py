"""The demo book: a realistic French receivables ledger, built fast and reproducibly.

`build_demo()` fills an empty database with what a collection team works on:
two selling entities (France, Spain), seven users, three portfolios, the seed's
"Standard" scenario and a lighter "Grand Compte" one, customers with contacts,
three years of items with their payment history, cases in every state, the
dunning history of the open items (so the agenda and timelines are not empty)
and 24 monthly balance snapshots.

Speed matters because the same code builds the benchmark book (100,000
customers, 1,000,000 items): Faker only fills small pools of names, streets and
cities; everything per item is computed on numpy columns (dates as day numbers,
money as int64 cents); rows go in by chunks through the raw driver
(``executemany`` on SQLite, ``COPY`` on PostgreSQL), converted here to what
`o2c_desktop.models.base.Money` and `UTCDateTime` store. The whole build is one
transaction: a failure leaves the database as it was.

The same seed gives the same book (for one version of numpy and Faker).
Templates are not written here: `services.documents.seed_default_templates`
owns them.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
import unicodedata
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Final, TypeAlias

import numpy as np
from sqlalchemy import func, insert, select, text
from sqlalchemy.orm import Session

from o2c_desktop.engine.cases import (
    DEFAULT_GRACE_DAYS,
    CaseEvent,
    DisputeOutcome,
    LitigationStage,
)
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    CaseStatus,
    CatchUp,
    ItemKind,
    ItemStatus,
    Role,
    StepMode,
)
from o2c_desktop.models import (
    Base,
    Customer,
    Entity,
    Item,
    Portfolio,
    Scenario,
    Step,
    User,
)
from o2c_desktop.models.base import uuid4_hexes
from o2c_desktop.models.bulk import BulkWriter
from o2c_desktop.models.db import analyze
from o2c_desktop.services.documents import seed_default_templates

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Sequence

    import numpy.typing as npt
    from sqlalchemy import Connection

    from o2c_desktop.models.db import Database

    I64: TypeAlias = npt.NDArray[np.int64]
    F64: TypeAlias = npt.NDArray[np.float64]
    Bools: TypeAlias = npt.NDArray[np.bool_]
    ChunkFn: TypeAlias = Callable[[int, int], list[Any]]

log = logging.getLogger(__name__)

# Bump when the generator changes what it builds (benchmark caches key on it).
DEMO_VERSION: Final = 1
DEFAULT_CUSTOMERS: Final = 2_000
DEFAULT_ITEMS: Final = 40_000
DEFAULT_SEED: Final = 35
DEFAULT_LOGIN: Final = "arossi"
_DEMO_MARK: Final = "demo"  # who wrote the rows, and what is_demo_book() looks for

_EPOCH: Final = dt.date(1970, 1, 1).toordinal()
_NULL: Final = np.iinfo(np.int64).min  # a NULL day; viewed as datetime64 it is NaT
_YEARS: Final = 3
_HISTORY_DAYS: Final = 120  # dunning history kept for items already paid
_CHUNK: Final = 50_000

# Item kinds, by index into _KINDS, and their share of all items.
_KINDS: Final = (
    ItemKind.INVOICE,
    ItemKind.CREDIT_NOTE,
    ItemKind.PAYMENT,
    ItemKind.UNAPPLIED_CASH,
    ItemKind.ADJUSTMENT,
)
_KIND_SHARE: Final = (0.84, 0.06, 0.06, 0.025, 0.015)
_KIND_PREFIX: Final = ("FA", "AV", "RG", "NI", "OD")
_INV, _CN, _PAY, _UNAPPLIED, _ADJ = range(5)

# Payment behaviour classes: good, average, late, chronic late.
_CLASS_SHARE: Final = (0.5, 0.3, 0.15, 0.05)
_DELAY_MEAN: Final = ((-8.0, 6.0), (12.0, 6.0), (40.0, 12.0), (110.0, 40.0))
_DELAY_NOISE: Final = (4.0, 8.0, 15.0, 35.0)
_STUCK: Final = (0.001, 0.004, 0.02, 0.10)  # never paid
_PARTIAL: Final = (0.08, 0.10, 0.15, 0.25)  # overdue and partly paid
_SCORE: Final = ((7.5, 10.0), (5.0, 7.5), (3.0, 5.5), (0.5, 3.0))


class DemoError(Exception):
    """The demo book can't be built here; the message says why and what to do."""


class NotEmptyError(DemoError):
    """The database already holds data; nothing was written."""


class NotDemoError(DemoError):
    """--replace on a book the demo did not build: nothing was deleted."""


@dataclass(frozen=True)
class DemoSummary:
    """What `build_demo` wrote.

    Attributes:
        counts: rows written per table.
        open_items: items still open at `today`.
        seconds: wall time of the build.
        today: the date the book ends at.
        seed: the random seed used.
        users: (login, full name, role) of the users created, the default
            collector first.
        replaced: whether an existing book was deleted first.
    """

    counts: dict[str, int]
    open_items: int
    seconds: float
    today: dt.date
    seed: int
    users: tuple[tuple[str, str, str], ...]
    replaced: bool = False


# -- fixed organisation ----------------------------------------------------------


@dataclass(frozen=True)
class _UserDef:
    login: str
    first: str
    last: str
    role: Role
    language: str = "fr"


_USERS: Final = (
    _UserDef("arossi", "Alex", "Rossi", Role.COLLECTOR),
    _UserDef("eboucher", "Étienne", "Boucher", Role.COLLECTOR),
    _UserDef("tdumas", "Timothée", "Dumas", Role.COLLECTOR),
    _UserDef("egermain", "Emmanuel", "Germain", Role.COLLECTOR),
    _UserDef("nribeiro", "Nicolas", "Ribeiro", Role.COLLECTOR),
    _UserDef("fgay", "Frédérique", "Gay", Role.CREDIT_MANAGER),
    _UserDef("mdurand", "Marcel", "Durand", Role.ADMIN),
)
_ROSSI, _BOUCHER, _DUMAS, _GERMAIN, _RIBEIRO, _GAY, _DURAND = range(1, 8)  # user ids
_ABSENT, _REPLACEMENT = _DUMAS, _BOUCHER

# Portfolio ids and their share of customers.
_GC, _PME, _EXPORT = 1, 2, 3
_PORTFOLIOS: Final = (
    (_GC, "35", "Grand Compte", 1, _ROSSI),
    (_PME, "20", "PME", 1, _BOUCHER),
    (_EXPORT, "40", "Export", None, _RIBEIRO),
)
_PORTFOLIO_SHARE: Final = (0.08, 0.77, 0.15)
_PME_COLLECTORS: Final = (_BOUCHER, _DUMAS, _GERMAIN)

_FR_ENTITY, _ES_ENTITY = 1, 2
_STANDARD, _GRAND_COMPTE = 1, 2


@dataclass(frozen=True)
class _StepDef:
    offset: int
    name: str
    action: ActionType
    mode: StepMode
    template: str | None = None
    statement: bool = False
    interest: bool = False
    contact_role: str = "accounts_payable"


# The seed's "Scénario Standard", step for step.
_STANDARD_STEPS: Final = (
    _StepDef(-15, "Pré-relance J-15", ActionType.EMAIL, StepMode.AUTOMATIC,
             "PRE_REMINDER"),
    _StepDef(0, "Relevé de compte J", ActionType.EMAIL, StepMode.AUTOMATIC,
             "STATEMENT", statement=True),
    _StepDef(5, "Appel J+5", ActionType.PHONE_CALL, StepMode.MANUAL),
    _StepDef(10, "Relance 1 J+10", ActionType.LETTER, StepMode.AUTOMATIC,
             "REMINDER_1", statement=True),
    _StepDef(20, "Relance 2 J+20", ActionType.LETTER, StepMode.CONFIRM,
             "REMINDER_2", statement=True),
    _StepDef(30, "Appel J+30", ActionType.PHONE_CALL, StepMode.MANUAL),
    _StepDef(45, "Mise en demeure J+45", ActionType.REGISTERED_LETTER,
             StepMode.MANUAL, "FORMAL_NOTICE", statement=True, interest=True,
             contact_role="management"),
    _StepDef(75, "Contentieux - injonction de payer J+75",
             ActionType.REGISTERED_LETTER, StepMode.MANUAL,
             "PAYMENT_ORDER_NOTICE", contact_role="management"),
)  # fmt: skip
# Key accounts get fewer, later and more personal reminders.
_GRAND_COMPTE_STEPS: Final = (
    _StepDef(0, "Relevé de compte J", ActionType.EMAIL, StepMode.AUTOMATIC,
             "STATEMENT", statement=True),
    _StepDef(10, "Appel J+10", ActionType.PHONE_CALL, StepMode.MANUAL),
    _StepDef(20, "Relance 1 J+20", ActionType.LETTER, StepMode.CONFIRM,
             "REMINDER_1", statement=True),
    _StepDef(40, "Appel direction J+40", ActionType.PHONE_CALL, StepMode.MANUAL,
             contact_role="management"),
    _StepDef(60, "Mise en demeure J+60", ActionType.REGISTERED_LETTER,
             StepMode.MANUAL, "FORMAL_NOTICE", statement=True, interest=True,
             contact_role="management"),
)  # fmt: skip
# id, name, description, steps, scope, priority, min gap days, tolerance (EUR)
_ScenarioDef: TypeAlias = tuple[
    int, str, str, tuple[_StepDef, ...], dict[str, Any], int, int, int
]
_SCENARIOS: Final[tuple[_ScenarioDef, ...]] = (
    (_STANDARD, "Standard", "Scénario Standard : suivi de toutes les factures.",
     _STANDARD_STEPS, {}, 100, 5, 500),
    (_GRAND_COMPTE, "Grand Compte",
     "Suivi allégé et personnalisé des grands comptes.",
     _GRAND_COMPTE_STEPS, {"portfolio_ids": [_GC]}, 10, 10, 5000),
)  # fmt: skip


@dataclass(frozen=True)
class _Showcase:
    """A customer of the seed's screens, so the demo opens on familiar names."""

    reference: str
    name: str
    behaviour: int
    contact: tuple[str, str] | None = None
    other: tuple[str, str] | None = None
    address1: str | None = None
    address2: str | None = None
    postal_code: str | None = None
    city: str | None = None
    phone: str | None = None
    email: str | None = None


_SHOWCASE: Final = (
    _Showcase("18981", "Monnier et Fils", 2, ("Claire", "Courtois"),
              ("Aimé", "Le Goff"), "impasse Michelle Lucas", None, "45349",
              "Monnier", "+33 (0)6 45 34 97 00", "edouard84@example.org"),
    _Showcase("118436", "Denis S.A.S.", 3, ("Alexandria", "Lesage"),
              ("Michèle", "Hamel"), "place Schneider", "CS 40220", "15881",
              "Denis", "+33 (0)3 15 88 12 69", "alphonse15@example.com"),
    _Showcase("121409", "Torres", 1),
    _Showcase("34017", "Allain Mercier et Fils", 2),
    _Showcase("52260", "Guillet", 1),
    _Showcase("61873", "Rodrigues", 1),
    _Showcase("70394", "Clement", 0),
    _Showcase("88120", "Seguin", 0),
    _Showcase("90412", "Guillaume", 2),
    _Showcase("97735", "Traore", 2),
)  # fmt: skip

# Countries of the "Export" portfolio billed by the French entity.
_EXPORT_COUNTRIES: Final = (
    ("BE", "nl_BE", "fr", "be"),
    ("CH", "fr_CH", "fr", "ch"),
    ("DE", "de_DE", "en", "de"),
    ("IT", "it_IT", "en", "it"),
    ("GB", "en_GB", "en", "co.uk"),
)
_NAME_PATTERNS: Final = {
    "fr_FR": (
        ("{a}", 3), ("{a} et Fils", 2), ("{a} S.A.S.", 3), ("{a} SARL", 2),
        ("{a} SA", 2), ("{a} {b} S.A.R.L.", 2), ("{a} & {b}", 1),
        ("Établissements {a}", 1), ("Groupe {a}", 1), ("{a} Distribution", 1),
        ("Transports {a}", 1), ("{a} {b} et Associés", 1), ("{a} Industrie", 1),
    ),
    "es_ES": (
        ("{a} {b} S.L.", 3), ("{a} y {b} S.A.", 2), ("Hermanos {a} S.L.", 1),
        ("Comercial {a} S.A.", 1), ("Distribuciones {a} S.L.", 2),
        ("Construcciones {a} S.A.", 1), ("{a} S.L.", 2),
    ),
    "nl_BE": (("{a} BV", 2), ("{a} & {b} NV", 1), ("{a} SRL", 1)),
    "fr_CH": (("{a} SA", 2), ("{a} Sàrl", 2), ("{a} & {b} AG", 1)),
    "de_DE": (("{a} GmbH", 3), ("{a} & {b} GmbH", 1), ("{a} AG", 1)),
    "it_IT": (("{a} S.r.l.", 3), ("{a} & {b} S.p.A.", 1)),
    "en_GB": (("{a} Ltd", 3), ("{a} & {b} Ltd", 1), ("{a} plc", 1)),
}  # fmt: skip
_CATEGORIES: Final = ("Industrie", "Distribution", "BTP", "Services", "Santé", "Public")
_HOLD_REASONS: Final = (
    "Négociation commerciale en cours",
    "Accord du directeur commercial",
    "Facturation en cours de correction",
    "Client stratégique : relance suspendue",
)
_INSOLVENCIES: Final = (
    "procédure de sauvegarde",
    "redressement judiciaire",
    "liquidation judiciaire",
)
_DISPUTE_REASONS: Final = (
    ("price", "Contestation sur le prix"),
    ("quantity", "Contestation sur la quantité"),
    ("quality", "Contestation sur la qualité"),
    ("delivery", "Litige de livraison"),
    ("duplicate", "Facture en double"),
    ("already_paid", "Facture déjà réglée"),
    ("other", "Autre contestation"),
)
_MAIL_DOMAIN: Final = "vallet-distribution.fr"
_LAWYERS: Final = ("Lefebvre", "Garnier", "Moulin")
_RESOLUTIONS: Final = tuple(o.value for o in DisputeOutcome)
_LITIGATION_STAGES: Final = (
    LitigationStage.FORMAL_NOTICE,
    LitigationStage.PAYMENT_ORDER,
    LitigationStage.LAWYER,
    LitigationStage.COLLECTION_AGENCY,
)
_CALL_NOTES: Final = (
    ("reached", "Client joint : règlement prévu en fin de semaine."),
    ("voicemail", "Messagerie, message laissé à la comptabilité fournisseurs."),
    ("reached", "Facture non reçue par le client, renvoyée par e-mail."),
    ("reached", "Le client attend la validation du bon de commande par les achats."),
    ("reached", "Paiement parti par virement d'après le client, preuve demandée."),
    ("no_answer", "Interlocuteur absent, rappeler lundi."),
    ("reached", "Accord pour régler la moitié ce mois-ci, le solde le mois prochain."),
    ("reached", "Le service comptable bloque le règlement : relancer l'acheteur."),
)
_LETTER_NOTES: Final = (
    ("sent", "Courrier envoyé."),
    ("sent", "Courrier envoyé avec le relevé de compte."),
    ("sent", "Envoyé en recommandé avec accusé de réception."),
)
_UNAPPLIED_REFS: Final = (
    "Virement reçu sans référence",
    "Chèque reçu sans bordereau",
    "Virement SEPA non identifié",
)
_ADJUSTMENT_REFS: Final = (
    "Écart de règlement",
    "Frais bancaires",
    "Arrondi",
    "Escompte",
)
_CREDIT_REFS: Final = (
    "Avoir commercial",
    "Retour marchandise",
    "Remise de fin d'année",
)


# -- public API ----------------------------------------------------------------


def build_demo(
    db: Database,
    *,
    customers: int = DEFAULT_CUSTOMERS,
    items: int = DEFAULT_ITEMS,
    seed: int = DEFAULT_SEED,
    today: dt.date | None = None,
    replace: bool = False,
    report: Callable[[float], None] | None = None,
) -> DemoSummary:
    """Fill `db` with a demo book ending at `today`.

    Args:
        db: an open database at the current schema.
        customers: number of customers (at least 1).
        items: number of items of all kinds over three years.
        seed: the same seed gives the same book.
        today: the last day of the book (default: the local date).
        replace: delete everything in the database first (irreversible).
        report: called with the progress in percent (0-100).

    Returns:
        What was written.

    Raises:
        NotEmptyError: the database already holds data and `replace` is false.
        ValueError: a negative size.
    """
    if customers < 1 or items < 0:
        raise ValueError("customers must be at least 1 and items at least 0")
    day = today or dt.datetime.now(dt.UTC).astimezone().date()
    progress = report or (lambda _pct: None)
    started = time.perf_counter()
    progress(0.0)
    book = _Book(customers, items, seed, day, progress)
    with db.engine.begin() as conn:
        existing = _existing_rows(conn)
        if existing and not replace:
            found = ", ".join(f"{n:,} {_PLURALS[t]}" for t, n in existing.items())
            raise NotEmptyError(
                f"{db.description} already holds data ({found}). The demo is built "
                "only into an empty database: use --replace to delete everything "
                "in it first, or point O2C_DATABASE_URL at another database."
            )
        if existing and not is_demo_book(conn):
            found = ", ".join(f"{n:,} {_PLURALS[t]}" for t, n in existing.items())
            raise NotDemoError(
                f"{db.description} holds a book the demo did not build ({found}): "
                "replace deletes only a demo book. Nothing was deleted; point "
                "O2C_DATABASE_URL at another database for the demo."
            )
        if existing:
            _wipe(conn)
        sink = _Sink(conn, book.stamp)
        with sink.bulk(BULK_TABLES):
            book.write(sink)
        sink.fix_sequences()
        # The shipped letters and emails, so the scenario's steps have their texts.
        with Session(bind=conn) as session:
            sink.counts["template"] = seed_default_templates(session)
    analyze(db)
    progress(100.0)
    seconds = time.perf_counter() - started
    log.info("Demo book built in %.1f s: %s", seconds, sink.counts)
    return DemoSummary(
        counts=dict(sink.counts),
        open_items=book.open_items,
        seconds=seconds,
        today=day,
        seed=seed,
        users=tuple((u.login, f"{u.first} {u.last}", u.role.value) for u in _USERS),
        replaced=bool(existing),
    )


# Tables loaded by the hundred thousand (see `bulk_loading`).
BULK_TABLES: Final = (
    "contact", "item", "case_file", "case_item", "plan_instalment", "action",
    "action_item", "snapshot_line",
)  # fmt: skip
_PLURALS: Final = {
    "entity": "entities",
    "app_user": "users",
    "scenario": "scenarios",
    "customer": "customers",
    "item": "items",
}


def _existing_rows(conn: Connection) -> dict[str, int]:
    found = {}
    for model in (Entity, User, Scenario, Customer, Item):
        table = Base.metadata.tables[model.__tablename__]
        count = conn.scalar(select(func.count()).select_from(table)) or 0
        if count:
            found[table.name] = count
    return found


def is_demo_book(conn: Connection) -> bool:
    """Whether the demo built this book: its customers and snapshots say "demo".

    Customers keep ``updated_by = "demo"`` until someone edits them, and the
    monthly balance snapshots keep their "demo: ..." source, so a demo book
    in use is still recognised; an imported book has neither.
    """
    customer = Base.metadata.tables[Customer.__tablename__]
    snapshot = Base.metadata.tables["balance_snapshot"]
    by_customer = select(customer.c.id).where(customer.c.updated_by == _DEMO_MARK)
    by_snapshot = select(snapshot.c.id).where(snapshot.c.source.like(f"{_DEMO_MARK}:%"))
    return (
        conn.execute(by_customer.limit(1)).first() is not None
        or conn.execute(by_snapshot.limit(1)).first() is not None
    )


def _wipe(conn: Connection) -> None:
    tables = [t.name for t in reversed(Base.metadata.sorted_tables)]
    if conn.dialect.name == "postgresql":
        conn.execute(text(f"TRUNCATE TABLE {', '.join(tables)} RESTART IDENTITY"))
        return
    conn.exec_driver_sql("PRAGMA defer_foreign_keys=ON")
    for name in tables:
        conn.exec_driver_sql(f"DELETE FROM {name}")


# -- conversions -----------------------------------------------------------------


def _day(d: dt.date) -> int:
    return d.toordinal() - _EPOCH


def _date(n: int) -> dt.date:
    return dt.date.fromordinal(int(n) + _EPOCH)


def _end_of_month(days: I64) -> I64:
    months = days.astype("datetime64[D]").astype("datetime64[M]")
    return ((months + 1).astype("datetime64[D]") - 1).astype(np.int64)


def _next_business_day(days: I64) -> I64:
    weekday = (days + 3) % 7  # day 0 (1970-01-01) was a Thursday
    return days + np.where(weekday == 5, 2, np.where(weekday == 6, 1, 0))


def _previous_business_day(day: int) -> int:
    weekday = (day + 3) % 7
    return day - (1 if weekday == 5 else 2 if weekday == 6 else 0)


def _ascii(text_: str) -> str:
    folded = unicodedata.normalize("NFKD", text_).encode("ascii", "ignore").decode()
    return "".join(c for c in folded.lower() if c.isalnum())


def _uuid_hex(rng: np.random.Generator, n: int) -> list[str]:
    """Random version-4 UUIDs as 32 hex digits, reproducible from the seed."""
    return uuid4_hexes(rng.integers(0, 256, size=(n, 16), dtype=np.uint8))


def _pick(rng: np.random.Generator, options: Sequence[Any], n: int) -> list[Any]:
    return [options[i] for i in rng.integers(0, len(options), n).tolist()]


# -- Faker pools -------------------------------------------------------------------


@dataclass
class _Pool:
    """Names and places of one locale, drawn once from Faker."""

    last: list[str]
    first: list[str]
    streets: list[str]
    places: list[tuple[str, str]]
    last_ascii: list[str] = field(default_factory=list)
    first_ascii: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.last_ascii = [_ascii(s) for s in self.last]
        self.first_ascii = [_ascii(s) for s in self.first]


def _pools(seed: int) -> dict[str, _Pool]:
    from faker import Faker  # slow to import; only the demo needs it

    sizes = {"fr_FR": 1500, "es_ES": 600}
    pools = {}
    for n, locale in enumerate(("fr_FR", "es_ES", *(c[1] for c in _EXPORT_COUNTRIES))):
        fake = Faker(locale)
        fake.seed_instance(seed * 31 + n)
        size = sizes.get(locale, 150)
        pools[locale] = _Pool(
            last=[fake.last_name() for _ in range(size)],
            first=[fake.first_name() for _ in range(size)],
            streets=[fake.street_name() for _ in range(size)],
            places=[(fake.postcode(), fake.city()) for _ in range(size)],
        )
    return pools


@contextmanager
def bulk_loading(conn: Connection, tables: Sequence[str]) -> Iterator[None]:
    """Within `conn`'s transaction, load `tables` without their secondary indexes.

    On PostgreSQL their foreign keys go too: checking them row by row costs more
    than the COPY itself; added back afterwards it is one join. Definitions are
    read from the database, and all of it happens in the caller's transaction:
    a failure restores them.
    """
    if conn.dialect.name != "postgresql":
        # SQLite: indexes only (its foreign keys are fixed for the transaction).
        marks = ", ".join("?" * len(tables))
        found = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' "
            f"AND sql IS NOT NULL AND tbl_name IN ({marks})",
            tuple(tables),
        ).all()
        for name, _sql in found:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        yield
        for _name, sql in found:
            conn.exec_driver_sql(sql)
        return
    names = {"tables": list(tables)}
    keys = conn.execute(
        text(
            "SELECT c.conrelid::regclass::text, c.conname, "
            "pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "JOIN pg_class t ON t.oid = c.conrelid "
            "WHERE c.contype = 'f' AND t.relname = ANY(:tables) "
            "AND t.relnamespace = current_schema()::regnamespace"
        ),
        names,
    ).all()
    indexes = conn.execute(
        text(
            "SELECT i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.schemaname = current_schema() AND i.tablename = ANY(:tables) "
            "AND NOT EXISTS (SELECT 1 FROM pg_constraint c "
            "WHERE c.conname = i.indexname)"
        ),
        names,
    ).all()
    for table, name, _definition in keys:
        conn.exec_driver_sql(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"')
    for name, _definition in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    started = time.perf_counter()
    for _name, definition in indexes:
        conn.exec_driver_sql(definition)
    for table, name, definition in keys:
        conn.exec_driver_sql(
            f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        )
    log.info("keys and indexes restored in %.1f s", time.perf_counter() - started)


# -- the writer ---------------------------------------------------------------------


class _Sink:
    """Writes rows fast through the raw driver, in the shapes the ORM types store.

    SQLite gets ``executemany`` with integer cents and naive UTC timestamps;
    PostgreSQL gets ``COPY`` with decimal text and UTC-suffixed timestamps.
    """

    def __init__(self, conn: Connection, stamp: dt.datetime) -> None:
        self.conn = conn
        self.writer = BulkWriter(conn)
        self.pg = self.writer.pg
        self.counts: dict[str, int] = {}
        self.stamp = self.ts(stamp)
        if not self.pg:
            # A bigger page cache keeps index inserts off the disk (~64 MB).
            conn.exec_driver_sql("PRAGMA cache_size=-65536")

    # scalar conversions
    def money(self, cents: int) -> Any:
        """Cents as the Money column stores them."""
        if not self.pg:
            return cents
        sign = "-" if cents < 0 else ""
        whole, part = divmod(abs(cents), 100)
        return f"{sign}{whole}.{part:02d}"

    def ts(self, moment: dt.datetime) -> str:
        """An aware timestamp as UTCDateTime stores it."""
        return self.writer.ts(moment)

    # column converters (numpy column -> list for rows [start, stop))
    def c_money(self, cents: I64, null: int | None = None) -> ChunkFn:
        """Money from an int64 cents column; `null` marks NULL."""
        if null is not None:
            return lambda a, b: [
                None if c == null else self.money(c) for c in cents[a:b].tolist()
            ]
        if not self.pg:
            return lambda a, b: cents[a:b].tolist()
        return lambda a, b: [self.money(c) for c in cents[a:b].tolist()]

    @staticmethod
    def c_days(days: I64) -> ChunkFn:
        """Dates from a day-number column (`_NULL` is NULL)."""

        def convert(a: int, b: int) -> list[Any]:
            out = np.datetime_as_string(days[a:b].astype("datetime64[D]")).tolist()
            return [None if s == "NaT" else s for s in out]

        return convert

    def c_seconds(self, seconds: I64) -> ChunkFn:
        """Timestamps from an epoch-seconds column (`_NULL` is NULL)."""
        pg = self.pg

        def convert(a: int, b: int) -> list[Any]:
            values = seconds[a:b].astype("datetime64[s]")
            out = np.datetime_as_string(values, unit="us").tolist()
            if pg:
                return [None if s == "NaT" else s + "+00:00" for s in out]
            return [None if s == "NaT" else s.replace("T", " ") for s in out]

        return convert

    @staticmethod
    def c_ints(values: I64, null: int | None = None) -> ChunkFn:
        """Integers; `null` marks NULL."""
        if null is None:
            return lambda a, b: values[a:b].tolist()
        return lambda a, b: [None if v == null else v for v in values[a:b].tolist()]

    @staticmethod
    def c_bools(values: Bools) -> ChunkFn:
        """Booleans."""
        return lambda a, b: values[a:b].tolist()

    @staticmethod
    def c_list(values: Sequence[Any]) -> ChunkFn:
        """Values already converted."""
        return lambda a, b: list(values[a:b])

    @staticmethod
    def c_const(value: Any) -> ChunkFn:
        """The same value on every row."""
        return lambda a, b: [value] * (b - a)

    def columns(self, table: str, n: int, spec: dict[str, ChunkFn]) -> None:
        """Insert `n` rows whose columns are produced chunk by chunk."""
        names = list(spec)
        converters = list(spec.values())

        def rows() -> Iterator[list[tuple[Any, ...]]]:
            for start in range(0, n, _CHUNK):
                stop = min(n, start + _CHUNK)
                yield list(zip(*(f(start, stop) for f in converters), strict=True))

        self._insert(table, names, rows())

    def rows(
        self, table: str, names: Sequence[str], rows: list[tuple[Any, ...]]
    ) -> None:
        """Insert rows already converted."""
        self._insert(table, names, iter([rows]))

    def _insert(
        self, table: str, names: Sequence[str], chunks: Iterable[list[tuple[Any, ...]]]
    ) -> None:
        started = time.perf_counter()
        count = self.writer.insert_rows(table, names, chunks)
        self.counts[table] = self.counts.get(table, 0) + count
        level = logging.INFO if count >= 10_000 else logging.DEBUG
        log.log(
            level, "%s: %d rows in %.1f s", table, count, time.perf_counter() - started
        )

    def core(self, model: type[Base], rows: list[dict[str, Any]]) -> None:
        """Insert a few rows through SQLAlchemy Core (types applied by it)."""
        name = model.__tablename__
        if rows:
            self.conn.execute(insert(Base.metadata.tables[name]), rows)
        self.counts[name] = self.counts.get(name, 0) + len(rows)

    def bulk(self, tables: Sequence[str]) -> AbstractContextManager[None]:
        """Load `tables` without their secondary indexes (see `bulk_loading`)."""
        return bulk_loading(self.conn, tables)

    def fix_sequences(self) -> None:
        """Move PostgreSQL id sequences past the explicit ids written."""
        if not self.pg:
            return
        for table in Base.metadata.sorted_tables:
            column = table.autoincrement_column
            if column is None:
                continue
            self.conn.exec_driver_sql(
                f"SELECT setval(pg_get_serial_sequence('{table.name}', "
                f"'{column.name}'), COALESCE(MAX({column.name}), 1), "
                f"MAX({column.name}) IS NOT NULL) FROM {table.name}"
            )


# -- the book -----------------------------------------------------------------------


class _Book:
    """Generates the demo book as columns, then writes it table by table."""

    def __init__(
        self,
        customers: int,
        items: int,
        seed: int,
        today: dt.date,
        progress: Callable[[float], None],
    ) -> None:
        self.n_cust = customers
        self.n_items = items
        self.seed = seed
        self.today = _day(today)
        self.progress = progress
        self.rng = np.random.default_rng(seed)
        # Deterministic "now" for created_at: the build day, early morning.
        self.stamp = dt.datetime.combine(today, dt.time(5, 0), tzinfo=dt.UTC)
        self.open_items = 0
        steps = [(sid, s) for sid, *_ in _SCENARIOS for s in _scenario_steps(sid)]
        self.step_offsets = np.array([s.offset for _, s in steps], dtype=np.int64)
        self.step_auto = np.array([s.mode == StepMode.AUTOMATIC for _, s in steps])
        self.step_defs = [s for _, s in steps]
        self.step_base = {
            sid: sum(len(_scenario_steps(o)) for o, *_ in _SCENARIOS if o < sid)
            for sid, *_ in _SCENARIOS
        }

    # orchestration
    def write(self, sink: _Sink) -> None:
        """Generate everything and write it through `sink`, in foreign-key order."""
        self._write_organisation(sink)
        self.progress(3.0)
        self._customers(_pools(self.seed))
        self.progress(8.0)
        self._items()
        self.progress(20.0)
        self._cases()
        self._dunning()
        self.progress(30.0)
        self._customer_finance()
        self._write_customers(sink)
        self._write_contacts(sink)
        self.progress(40.0)
        self._write_items(sink)
        self.progress(70.0)
        self._write_cases(sink)
        self._write_actions(sink)
        self.progress(88.0)
        self._write_notifications(sink)
        self._write_snapshots(sink)

    # -- organisation
    def _write_organisation(self, sink: _Sink) -> None:
        stamp = self.stamp
        base = {"version": 1, "created_at": stamp, "updated_at": stamp}
        sink.core(Entity, [{**base, **e} for e in _entities()])
        today = _date(self.today)
        users = []
        # The replacement goes in before the user it replaces (foreign key).
        for uid, u in sorted(enumerate(_USERS, 1), key=lambda p: p[0] != _REPLACEMENT):
            absent = uid == _ABSENT
            users.append(
                {
                    **base,
                    "id": uid,
                    "login": u.login,
                    "full_name": f"{u.first} {u.last}",
                    "email": f"{_ascii(u.first)}.{_ascii(u.last)}@{_MAIL_DOMAIN}",
                    "phone": f"+33 (0)4 72 00 12 {40 + uid:02d}",
                    "role": u.role,
                    "language": u.language,
                    "signature": f"{u.first} {u.last}\n{_role_title(u.role)}\n"
                    "Vallet Distribution - +33 (0)4 72 00 12 34",
                    "active": True,
                    "absent_from": today - dt.timedelta(days=5) if absent else None,
                    "absent_until": today + dt.timedelta(days=9) if absent else None,
                    "replacement_id": _REPLACEMENT if absent else None,
                }
            )
        sink.core(User, users)
        sink.core(
            Portfolio,
            [
                {**base, "id": pid, "code": code, "name": name, "entity_id": ent,
                 "collector_id": owner}
                for pid, code, name, ent, owner in _PORTFOLIOS
            ],
        )  # fmt: skip
        sink.core(
            Scenario,
            [
                {**base, "id": sid, "name": name, "description": desc,
                 "entity_id": None, "default_language": "fr", "min_gap_days": gap,
                 "tolerance": Decimal(tol), "catch_up": CatchUp.ONE_STEP,
                 "business_days": True, "scope": scope, "priority": prio,
                 "active": True}
                for sid, name, desc, _steps, scope, prio, gap, tol in _SCENARIOS
            ],
        )  # fmt: skip
        sink.core(
            Step,
            [
                {"id": n + 1, "scenario_id": sid, "name": s.name,
                 "offset_days": s.offset, "action_type": s.action, "mode": s.mode,
                 "template_code": s.template, "attach_statement": s.statement,
                 "attach_interest": s.interest, "contact_role": s.contact_role}
                for n, (sid, s) in enumerate(
                    (sid, s) for sid, *_ in _SCENARIOS for s in _scenario_steps(sid)
                )
            ],
        )  # fmt: skip

    # -- customers
    def _customers(self, pools: dict[str, _Pool]) -> None:
        rng, n = self.rng, self.n_cust
        show = min(n, len(_SHOWCASE))
        portfolio = rng.choice(3, size=n, p=_PORTFOLIO_SHARE) + 1
        portfolio[:show] = _GC
        export = portfolio == _EXPORT
        spanish = export & (rng.random(n) < 0.67)
        foreign = export & ~spanish
        country_idx = rng.integers(0, len(_EXPORT_COUNTRIES), n)
        self.entity = np.where(spanish, _ES_ENTITY, _FR_ENTITY).astype(np.int64)
        self.portfolio = portfolio.astype(np.int64)
        collector = np.select(
            [portfolio == _GC, portfolio == _EXPORT],
            [_ROSSI, _RIBEIRO],
            default=np.array(_PME_COLLECTORS)[rng.integers(0, 3, n)],
        )
        self.collector = collector.astype(np.int64)
        self.scenario = np.where(portfolio == _GC, _GRAND_COMPTE, _STANDARD).astype(
            np.int64
        )
        behaviour = rng.choice(4, size=n, p=_CLASS_SHARE)
        behaviour[:show] = [s.behaviour for s in _SHOWCASE[:show]]
        self.behaviour = behaviour.astype(np.int64)
        self.terms = rng.choice([30, 45, 60], size=n, p=[0.45, 0.35, 0.2]).astype(
            np.int64
        )
        # Key accounts buy more and bigger; export in between.
        size_mu = np.select(
            [portfolio == _GC, portfolio == _EXPORT], [np.log(6000), np.log(2500)],
            default=np.log(900),
        )  # fmt: skip
        self.amount_mu = size_mu + rng.normal(0, 0.6, n)
        activity = rng.lognormal(0, 1.0, n) * np.where(portfolio == _GC, 3.0, 1.0)
        self.activity = activity / activity.sum()
        # Most customers are old; the others started during the three years.
        span = _YEARS * 365
        self.span = np.where(
            rng.random(n) < 0.7, span, rng.integers(60, span, n)
        ).astype(np.int64)
        means = np.array([m for m, _ in _DELAY_MEAN])[behaviour]
        spreads = np.array([s for _, s in _DELAY_MEAN])[behaviour]
        self.delay_mean = rng.normal(means, spreads)
        self.delay_noise = np.array(_DELAY_NOISE)[behaviour]

        refs = _references(rng, n, [s.reference for s in _SHOWCASE[:show]])
        locale = [
            "es_ES" if spanish[i] else
            _EXPORT_COUNTRIES[country_idx[i]][1] if foreign[i] else "fr_FR"
            for i in range(n)
        ]  # fmt: skip
        self.locale = locale
        countries = {c[1]: c for c in _EXPORT_COUNTRIES}
        self.country = [
            "FR" if loc == "fr_FR" else "ES" if loc == "es_ES" else countries[loc][0]
            for loc in locale
        ]
        self.language = [
            "fr" if loc == "fr_FR" else "es" if loc == "es_ES" else countries[loc][2]
            for loc in locale
        ]
        a_idx = rng.integers(0, 1 << 30, n).tolist()
        b_idx = rng.integers(0, 1 << 30, n).tolist()
        pattern_draw = rng.random(n).tolist()
        numbers = rng.integers(1, 180, n).tolist()
        place_idx = rng.integers(0, 1 << 30, n).tolist()
        street_idx = rng.integers(0, 1 << 30, n).tolist()
        digits = rng.integers(0, 100, (n, 5)).tolist()
        box = rng.random(n).tolist()
        self.names, self.domains, self.address1 = [], [], []
        self.address2, self.postal, self.city, self.phone = [], [], [], []
        self.references = refs
        weights = {
            loc: np.cumsum([w for _, w in pats]) / sum(w for _, w in pats)
            for loc, pats in _NAME_PATTERNS.items()
        }
        for i in range(n):
            loc = locale[i]
            pool = pools[loc]
            a = a_idx[i] % len(pool.last)
            b = b_idx[i] % len(pool.last)
            pats = _NAME_PATTERNS[loc]
            at = int(np.searchsorted(weights[loc], pattern_draw[i], "right"))
            pattern = pats[min(at, len(pats) - 1)][0]
            self.names.append(pattern.format(a=pool.last[a], b=pool.last[b]))
            dom_tail = "." + _tld(self.country[i])
            dom = pool.last_ascii[a] + (
                "-" + pool.last_ascii[b] if "{b}" in pattern else ""
            )
            self.domains.append(dom + dom_tail)
            street = pool.streets[street_idx[i] % len(pool.streets)]
            num = numbers[i]
            if loc == "es_ES":
                self.address1.append(f"{street}, {num}")
            elif loc in ("de_DE", "it_IT", "nl_BE"):
                self.address1.append(f"{street} {num}")
            else:
                self.address1.append(f"{num} {street}")
            self.address2.append(
                f"CS {40000 + digits[i][0] * 10}" if box[i] < 0.08 else
                f"BP {digits[i][1] + 10}" if box[i] < 0.12 else None
            )  # fmt: skip
            postal, city = pool.places[place_idx[i] % len(pool.places)]
            self.postal.append(postal)
            self.city.append(city)
            self.phone.append(_phone(self.country[i], digits[i]))
        for i, s in enumerate(_SHOWCASE[:show]):
            self.names[i] = s.name
            for attr, value in (
                ("address1", s.address1), ("address2", s.address2),
                ("postal", s.postal_code), ("city", s.city), ("phone", s.phone),
            ):  # fmt: skip
                if value is not None:
                    getattr(self, attr)[i] = value
        self.legal_id, self.vat = _legal_ids(rng, self.country)
        self.category = _pick(rng, _CATEGORIES, n)
        self._contacts(pools)
        self._holds()

    def _contacts(self, pools: dict[str, _Pool]) -> None:
        rng, n = self.rng, self.n_cust
        per = rng.choice([1, 2, 3], size=n, p=[0.3, 0.5, 0.2])
        per[: min(n, len(_SHOWCASE))] = 2
        owner = np.repeat(np.arange(n), per)
        rank = np.arange(owner.size) - np.repeat(np.cumsum(per) - per, per)
        m = owner.size
        self.contact_id = _uuid_hex(rng, m)
        self.contact_owner = owner
        # The dunning contact is the first one: index of each customer's first.
        self.first_contact = (np.cumsum(per) - per).astype(np.int64)
        first_draw = rng.integers(0, 1 << 30, m).tolist()
        last_draw = rng.integers(0, 1 << 30, m).tolist()
        digits = rng.integers(0, 100, (m, 5)).tolist()
        english = (rng.random(m) < 0.05).tolist()
        names, emails, phones, mobiles, languages = [], [], [], [], []
        roles, functions = [], []
        role_defs = (
            ("accounts_payable", "Comptable fournisseurs"),
            ("management", "Directeur administratif et financier"),
            ("purchasing", "Responsable achats"),
        )
        for j in range(m):
            c = int(owner[j])
            pool = pools[self.locale[c]]
            fi = first_draw[j] % len(pool.first)
            la = last_draw[j] % len(pool.last)
            names.append(f"{pool.first[fi]} {pool.last[la]}")
            emails.append(
                f"{pool.first_ascii[fi]}.{pool.last_ascii[la]}@{self.domains[c]}"
            )
            phones.append(_phone(self.country[c], digits[j]))
            mobiles.append(_phone(self.country[c], digits[j][::-1], mobile=True))
            languages.append("en" if english[j] else self.language[c])
            role, function = role_defs[int(rank[j])]
            roles.append(role)
            functions.append(function)
        for i, s in enumerate(_SHOWCASE[: min(n, len(_SHOWCASE))]):
            j = int(self.first_contact[i])
            for k, person in ((j, s.contact), (j + 1, s.other)):
                if person is not None:
                    names[k] = f"{person[0]} {person[1]}"
            if s.email:
                emails[j] = s.email
        self.contact_cols = {
            "name": names,
            "role": roles,
            "function": functions,
            "language": languages,
            "phone": phones,
            "mobile": mobiles,
            "email": emails,
        }
        self.contact_dunning = rank == 0
        self.customer_email = [
            f"{p}@{d}"
            for p, d in zip(
                _pick(rng, ("compta", "comptabilite", "facturation"), n),
                self.domains,
                strict=True,
            )
        ]
        for i, s in enumerate(_SHOWCASE[: min(n, len(_SHOWCASE))]):
            if s.email:
                self.customer_email[i] = s.email

    def _holds(self) -> None:
        rng, n, today = self.rng, self.n_cust, self.today
        bad = self.behaviour >= 2
        insolvent = bad & (rng.random(n) < 0.03)
        insolvent[: min(n, len(_SHOWCASE))] = False
        if n >= 20 and not insolvent.any():
            insolvent[int(np.flatnonzero(bad)[-1]) if bad.any() else n - 1] = True
        held = ~insolvent & (rng.random(n) < 0.015)
        if n >= 20 and not held.any():
            held[n - 2] = not insolvent[n - 2]
        self.insolvent = insolvent
        self.on_hold = held | insolvent
        kind = rng.random(n)
        until = np.where(
            kind < 0.6,
            today + rng.integers(7, 60, n),
            np.where(kind < 0.85, _NULL, today - rng.integers(1, 30, n)),
        )
        self.hold_until = np.where(held, until, _NULL).astype(np.int64)
        self.hold_reason = [
            "Procédure collective : déclaration de créance" if insolvent[i] else
            _HOLD_REASONS[i % len(_HOLD_REASONS)] if held[i] else None
            for i in range(n)
        ]  # fmt: skip
        self.insolvency = [
            _INSOLVENCIES[i % 3] if insolvent[i] else None for i in range(n)
        ]
        since = today - rng.integers(10, 300, n)
        self.insolvency_since = np.where(insolvent, since, _NULL).astype(np.int64)
        # When the hold began: dunning stopped then.
        self.hold_start = np.where(
            insolvent, since, today - rng.integers(5, 90, n)
        ).astype(np.int64)

    # -- items
    def _items(self) -> None:
        rng, today, m = self.rng, self.today, self.n_items
        counts = rng.multinomial(m, self.activity)
        cust = np.repeat(np.arange(self.n_cust, dtype=np.int64), counts)
        issue = today - (rng.random(m) * self.span[cust]).astype(np.int64)
        weekday = (issue + 3) % 7
        issue = np.minimum(issue - (weekday == 5) + (weekday == 6), today)
        order = np.lexsort((issue, cust))
        cust, issue = cust[order], issue[order]
        kind = rng.choice(5, size=m, p=_KIND_SHARE).astype(np.int64)
        z = rng.standard_normal(m)
        mu = self.amount_mu[cust]
        euros = np.select(
            [kind == _INV, kind == _CN, kind == _PAY, kind == _UNAPPLIED],
            [
                np.clip(np.exp(mu + 1.0 * z), 12, 2_500_000),
                -np.clip(np.exp(mu + np.log(0.25) + 0.8 * z), 5, 500_000),
                -np.clip(np.exp(mu + np.log(2.5) + 0.6 * z), 20, 5_000_000),
                -np.clip(np.exp(mu + np.log(0.4) + 1.2 * z), 1, 500_000),
            ],
            default=np.clip(np.exp(np.log(15) + z), 0.01, 500)
            * np.where(rng.random(m) < 0.5, -1, 1),
        )
        amount = np.rint(euros * 100).astype(np.int64)
        amount[amount == 0] = 1
        invoice = kind == _INV
        due = np.where(invoice, _end_of_month(issue + self.terms[cust]), issue).astype(
            np.int64
        )
        instalment = np.zeros(m, dtype=np.int64)
        new_number = np.ones(m, dtype=bool)
        # Some invoices are due in two instalments: two rows, one number.
        if m > 1:
            pair = (
                invoice[:-1] & invoice[1:] & (cust[:-1] == cust[1:])
                & (rng.random(m - 1) < 0.04) & (np.arange(m - 1) % 2 == 0)
            )  # fmt: skip
            first = np.flatnonzero(pair)
            second = first + 1
            instalment[first], instalment[second] = 1, 2
            issue[second] = issue[first]
            due[second] = _end_of_month(due[first] + 30)
            new_number[second] = False
        seq = np.zeros(m, dtype=np.int64)
        for k in range(5):
            mask = (kind == k) & new_number
            seq[mask] = np.arange(1, int(mask.sum()) + 1) + 10_000_000 * (k + 1)
        if m > 1:
            seq[1:][~new_number[1:]] = seq[:-1][~new_number[1:]]

        # Payment history: when each item was paid, applied or matched.
        b = self.behaviour[cust]
        scale = self.delay_noise[cust]
        delay = self.delay_mean[cust] + rng.gamma(2.0, scale) - 2.0 * scale
        closed_on = np.select(
            [invoice, kind == _CN, kind == _PAY, kind == _UNAPPLIED],
            [
                np.maximum(due + np.rint(delay).astype(np.int64), issue + 1),
                issue + rng.integers(0, 60, m),
                issue + rng.integers(0, 4, m),
                issue + rng.integers(10, 150, m),
            ],
            default=issue + rng.integers(0, 30, m),
        ).astype(np.int64)
        never = np.select(
            [invoice, kind == _CN, kind == _ADJ],
            [rng.random(m) < np.array(_STUCK)[b], rng.random(m) < 0.03,
             rng.random(m) < 0.35],
            default=False,
        )  # fmt: skip
        is_open = never | (closed_on > today)
        remaining = np.where(is_open, amount, 0)
        # Partly paid overdue invoices: often a 10 % hold-back, else any share.
        partial = (
            invoice & is_open & (due < today) & (rng.random(m) < np.array(_PARTIAL)[b])
        ) | (invoice & is_open & (due >= today) & (rng.random(m) < 0.02))
        share = np.where(rng.random(m) < 0.5, 0.10, rng.uniform(0.15, 0.85, m))
        partial_left = np.clip(np.rint(amount * share), 1, np.maximum(amount - 1, 1))
        remaining = np.where(partial, partial_left.astype(np.int64), remaining)
        partial_on = np.where(
            partial,
            np.minimum(np.maximum(due, issue) + rng.integers(0, 30, m), today),
            _NULL,
        )
        self.cust, self.kind, self.issue, self.due = cust, kind, issue, due
        self.amount, self.remaining, self.seq = amount, remaining, seq
        self.instalment = instalment
        self.closed_on = np.where(is_open, _NULL, closed_on).astype(np.int64)
        self.partial_on = partial_on.astype(np.int64)
        self.item_ref = rng.integers(0, 1_000_000, m)
        self.disputed = np.zeros(m, dtype=bool)
        self.in_litigation = np.zeros(m, dtype=bool)
        self.suspended_until = np.full(m, _NULL, dtype=np.int64)
        last_run = _previous_business_day(today - 1)
        self.stop_day = np.full(m, last_run, dtype=np.int64)
        self.starts = np.concatenate(([0], np.cumsum(counts)[:-1])).astype(np.int64)
        self.counts = counts.astype(np.int64)

    # -- cases
    def _cases(self) -> None:
        rng, today, n = self.rng, self.today, self.n_cust
        is_open = self.closed_on == _NULL
        invoice = self.kind == _INV
        days_late = today - self.due
        self.cases: list[dict[str, Any]] = []
        self.case_items: list[tuple[int, int, int]] = []  # case, item, cents
        self.instalments: list[tuple[int, int, int, int, int, int]] = []
        self.case_actions: list[dict[str, Any]] = []
        used = np.zeros(self.n_items, dtype=bool)
        late_paid = invoice & ~is_open & (self.closed_on - self.due > 5)

        def groups(
            eligible: Bools,
            count: int,
            size: int,
            weights: F64 | None = None,
            relaxed: Bools | None = None,
        ) -> list[list[int]]:
            positions = np.flatnonzero(eligible & ~used)
            if positions.size == 0 and relaxed is not None:
                # A small book may lack ideal items: every kind still shows up.
                positions = np.flatnonzero(relaxed & ~used)
            if positions.size == 0 or count == 0:
                return []
            p = None
            if weights is not None:
                w = weights[positions]
                p = w / w.sum()
            anchors = rng.choice(
                positions.size, size=min(count, positions.size), replace=False, p=p
            )
            result = []
            for k in sorted(anchors.tolist()):
                first = int(positions[k])
                if used[first]:
                    continue
                group = [first]
                want = int(rng.integers(1, size + 1))
                j = k + 1
                while (
                    len(group) < want and j < positions.size
                    and self.cust[positions[j]] == self.cust[first]
                ):  # fmt: skip
                    if not used[positions[j]]:
                        group.append(int(positions[j]))
                    j += 1
                used[group] = True
                result.append(group)
            return result

        def count(rate: float) -> int:
            return max(2, round(rate * n))

        chronic = np.where(self.behaviour[self.cust] >= 2, 5.0, 1.0)
        overdue = invoice & is_open & (days_late > 0)
        old = overdue & (self.issue < today - 110)
        # Open cases first: their items get the flags and stop being dunned.
        # Scarce ones (far overdue) go first so small books have them all.
        for g in groups(overdue & (days_late > 75), count(0.01), 3, chronic, overdue):
            self._litigation(g, CaseStatus.OPEN)
        # Broken ones leave their items open and dunned.
        for g in groups(old, count(0.005), 3):
            self._plan(g, CaseStatus.BROKEN)
        for g in groups(invoice & is_open, count(0.03), 2):
            self._dispute(g, CaseStatus.OPEN)
        for g in groups(overdue & (days_late < 120), count(0.03), 3, None, overdue):
            self._promise(g, CaseStatus.OPEN)
        for g in groups(overdue & (days_late > 20), count(0.01), 5, None, overdue):
            self._plan(g, CaseStatus.OPEN)
        recent_enough = overdue & (self.issue < today - 45)
        for g in groups(
            overdue & (days_late > 40), count(0.02), 2, None, recent_enough
        ):
            self._promise(g, CaseStatus.BROKEN)
        # Closed history, on items paid late.
        for g in groups(late_paid, count(0.04), 2):
            self._promise(g, CaseStatus.KEPT)
        long_paid = late_paid & (self.closed_on - self.due > 30)
        for g in groups(long_paid, count(0.007), 3, None, late_paid):
            self._plan(g, CaseStatus.KEPT)
        slow = late_paid & (self.closed_on - self.issue > 25)
        for g in groups(slow, count(0.04), 2, None, late_paid):
            self._dispute(g, CaseStatus.RESOLVED)
        very_late = late_paid & (self.closed_on - self.due > 80)
        for g in groups(very_late, count(0.005), 3, None, late_paid):
            self._litigation(g, CaseStatus.CLOSED)

    def _new_case(
        self, kind: CaseKind, status: CaseStatus, group: list[int], opened: int,
        closed: int | None, amount: int | None = None, **extra: Any,
    ) -> int:  # fmt: skip
        c = int(self.cust[group[0]])
        number = len(self.cases)
        open_ = self.closed_on[group] == _NULL
        # What each item weighed in the case: its remaining, or its amount if paid.
        cents = np.where(open_, self.remaining[group], self.amount[group])
        self.cases.append(
            {
                "number": str(1000 + number),
                "customer": c,
                "kind": kind,
                "status": status,
                "opened_on": opened,
                "closed_on": closed,
                "owner": int(self.collector[c]),
                "amount": int(cents.sum()) if amount is None else amount,
                **extra,
            }
        )
        for i, part in zip(group, cents.tolist(), strict=True):
            self.case_items.append((number, i, part))
        return number

    def _opened(self, group: list[int], low: int, high: int, latest: int) -> int:
        """A day in [due + low, due + high], after the issue dates, not after latest."""
        due = int(self.due[group].max())
        start = min(max(due + low, int(self.issue[group].max()) + 1), latest)
        stop = max(start + 1, min(due + high, latest) + 1)
        return int(self.rng.integers(start, stop))

    def _dispute(self, group: list[int], status: CaseStatus) -> None:
        rng = self.rng
        code, label = _DISPUTE_REASONS[int(rng.integers(0, len(_DISPUTE_REASONS)))]
        if status == CaseStatus.OPEN:
            opened = self._opened(group, -20, 60, self.today)
            closed, resolution = None, None
            self.disputed[group] = True
            self._stop_dunning(group, opened)
        else:
            paid = int(self.closed_on[group].max())
            opened = self._opened(group, -20, 20, paid - 1)
            closed = max(paid, opened)
            resolution = _RESOLUTIONS[int(rng.integers(0, len(_RESOLUTIONS)))]
        case = self._new_case(
            CaseKind.DISPUTE, status, group, opened, closed,
            reason=code, answer_due=opened + 15, resolution=resolution,
        )  # fmt: skip
        subject = f"{label} - Dossier N°{1000 + case}"
        follow = opened + 15
        steps = [
            (opened, ActionType.INTERNAL_TASK, "Enregistrement du litige",
             CaseEvent.OPENED, True),
            (follow, ActionType.PHONE_CALL, "Suivi du litige - Retour commercial",
             CaseEvent.FOLLOW_UP, closed is not None or follow < self.today - 3),
        ]  # fmt: skip
        if closed is not None:
            steps.append((closed, ActionType.INTERNAL_TASK, "Litige résolu",
                          CaseEvent.RESOLVED, True))  # fmt: skip
        self._case_actions(case, group, subject, steps)

    def _promise(self, group: list[int], status: CaseStatus) -> None:
        rng, today = self.rng, self.today
        grace = DEFAULT_GRACE_DAYS
        if status == CaseStatus.OPEN:
            opened = self._opened(group, 5, 90, today)
            promised = max(today + int(rng.integers(-2, 30)), opened + 1)
            closed = None
            self.suspended_until[group] = promised + grace
            self._stop_dunning(group, opened)
        elif status == CaseStatus.BROKEN:
            opened = self._opened(group, 10, 60, today - 30)
            promised = opened + int(rng.integers(5, 20))
            closed = promised + grace + 1
        else:
            paid = int(self.closed_on[group].max())
            opened = self._opened(group, 2, 30, paid - 2)
            promised = max(paid - int(rng.integers(0, 3)), opened + 1)
            closed = max(paid, opened)
        case = self._new_case(
            CaseKind.PROMISE, status, group, opened, closed,
            promised_date=promised, grace_days=grace,
            source=("call", "email", "letter")[int(rng.integers(0, 3))],
        )  # fmt: skip
        end = {
            CaseStatus.KEPT: ("Promesse tenue", CaseEvent.KEPT),
            CaseStatus.BROKEN: ("Promesse non tenue", CaseEvent.BROKEN),
            CaseStatus.OPEN: ("Vérifier le règlement", CaseEvent.FOLLOW_UP),
        }
        text_, event = end[status]
        self._case_actions(case, group, f"Promesse de paiement N°{1000 + case}", [
            (opened, ActionType.PHONE_CALL, "Promesse obtenue", CaseEvent.OPENED, True),
            (closed or promised + grace, ActionType.INTERNAL_TASK, text_, event,
             status != CaseStatus.OPEN),
        ])  # fmt: skip

    def _plan(self, group: list[int], status: CaseStatus) -> None:
        rng, today = self.rng, self.today
        parts = int(rng.integers(3, 7))
        total = int(self.amount[group].sum())
        latest_issue = int(self.issue[group].max())
        kept = parts
        if status == CaseStatus.KEPT:
            last = int(self.closed_on[group].max())
            parts = kept = max(2, min(parts, (last - latest_issue - 20) // 30 + 1))
            first_due = last - 30 * (parts - 1)
            opened = max(first_due - int(rng.integers(10, 20)), latest_issue + 1)
        elif status == CaseStatus.OPEN:
            # A running plan: agreed lately enough that instalments remain.
            earliest = today - 30 * (parts - 2) - 14
            opened = max(self._opened(group, 20, 120, today), earliest)
            first_due = opened + 15
        else:
            opened = self._opened(group, 20, 60, today - 100)
            first_due = opened + 15
            due_by_now = (today - 10 - first_due) // 30 + 1
            kept = int(rng.integers(1, max(2, due_by_now)))
            parts = max(parts, kept + 1)
        dues = [first_due + 30 * k for k in range(parts)]
        each = total // parts
        amounts = [each] * (parts - 1) + [total - each * (parts - 1)]
        closed: int | None
        if status == CaseStatus.KEPT:
            paid = amounts
            closed = max(dues[-1], opened)
        elif status == CaseStatus.OPEN:
            paid = [a if d < today else 0 for a, d in zip(amounts, dues, strict=True)]
            closed = None
            self.suspended_until[group] = dues[-1]
            self._stop_dunning(group, opened)
        else:
            paid = amounts[:kept] + [0] * (parts - kept)
            closed = min(dues[kept] + DEFAULT_GRACE_DAYS + 7, today - 1)
        if status != CaseStatus.KEPT:
            # What was paid under the plan reduces the items, pro rata.
            left = total - sum(paid)
            share = self.amount[group] * left // total
            share[-1] += left - int(share.sum())
            self.remaining[group] = np.maximum(share, 1)
            if sum(paid):
                self.partial_on[group] = first_due
        case = self._new_case(
            CaseKind.PAYMENT_PLAN, status, group, opened, closed, amount=total,
            grace_days=DEFAULT_GRACE_DAYS, source="call",
        )  # fmt: skip
        for seq, (d, a, p) in enumerate(zip(dues, amounts, paid, strict=True), 1):
            self.instalments.append((case, 1, seq, d, a, p))
        nxt = next((d for d in dues if d >= today), dues[-1])
        end = {
            CaseStatus.KEPT: ("Échéancier soldé", CaseEvent.KEPT),
            CaseStatus.BROKEN: ("Échéance impayée", CaseEvent.BROKEN),
            CaseStatus.OPEN: ("Suivi de l'échéance", CaseEvent.FOLLOW_UP),
        }
        text_, event = end[status]
        self._case_actions(case, group, f"Échéancier N°{1000 + case}", [
            (opened, ActionType.PHONE_CALL, "Mise en place de l'échéancier",
             CaseEvent.OPENED, True),
            (closed or nxt, ActionType.INTERNAL_TASK, text_, event,
             status != CaseStatus.OPEN),
        ])  # fmt: skip

    def _litigation(self, group: list[int], status: CaseStatus) -> None:
        rng = self.rng
        stage = _LITIGATION_STAGES[int(rng.integers(0, len(_LITIGATION_STAGES)))]
        comment = None
        if status == CaseStatus.OPEN:
            opened = self._opened(group, 76, 400, self.today)
            closed = None
            self.in_litigation[group] = True
            self._stop_dunning(group, opened)
            if self.insolvent[self.cust[group[0]]]:
                stage = LitigationStage.INSOLVENCY_CLAIM
        else:
            paid = int(self.closed_on[group].max())
            opened = self._opened(group, 76, 200, paid - 5)
            closed = max(paid, opened)
            stage = LitigationStage.PAYMENT_ORDER
            comment = "Recouvré après injonction de payer."
        partner = {
            LitigationStage.LAWYER: f"Cabinet Maître {_pick(rng, _LAWYERS, 1)[0]}",
            LitigationStage.COLLECTION_AGENCY: "Agence Recouvrement Rhône-Alpes",
            LitigationStage.INSOLVENCY_CLAIM: "Mandataire judiciaire",
        }.get(stage)
        case = self._new_case(
            CaseKind.LITIGATION, status, group, opened, closed, stage=stage.value,
            partner=partner, fees=15_000 if partner else None, comment=comment,
        )  # fmt: skip
        steps = [(opened, ActionType.LITIGATION_HANDOVER, "Transmission au contentieux",
                  CaseEvent.OPENED, True)]  # fmt: skip
        if closed is None:
            steps.append((self.today + int(rng.integers(0, 10)),
                          ActionType.INTERNAL_TASK, "Point avec le partenaire",
                          CaseEvent.FOLLOW_UP, False))  # fmt: skip
        else:
            steps.append((closed, ActionType.INTERNAL_TASK, "Dossier clôturé",
                          CaseEvent.CLOSED, True))  # fmt: skip
        self._case_actions(case, group, f"Contentieux N°{1000 + case}", steps)

    def _stop_dunning(self, group: list[int], opened: int) -> None:
        """Dunning of these items stopped the day their case opened."""
        self.stop_day[group] = np.minimum(self.stop_day[group], opened - 1)

    def _case_actions(
        self, case: int, group: list[int], prefix: str,
        steps: list[tuple[int, ActionType, str, CaseEvent, bool]],
    ) -> None:  # fmt: skip
        for day, action, text_, event, done in steps:
            self.case_actions.append(
                {"case": case, "items": group, "day": day, "type": action,
                 "subject": f"{prefix} - {text_}", "event": event, "done": done}
            )  # fmt: skip

    # -- dunning history
    def _dunning(self) -> None:
        """The dunning history, as if the engine had run every business day.

        The rules are the engine's (`engine.dunning`): a step is reached when
        its date, moved off weekends, has come; each run makes one action per
        customer at the highest step reached; a pending manual action holds its
        items; disputes, litigation, promises and holds stop dunning. Open items
        stop at the last run before today (today's run is left to the engine),
        paid items the day before payment. Only the last `_HISTORY_DAYS` of
        paid items get actions; every item gets its last step.
        """
        today = self.today
        invoice = self.kind == _INV
        is_open = self.closed_on == _NULL
        held = self.on_hold[self.cust] & (
            (self.hold_until[self.cust] == _NULL)
            | (self.hold_until[self.cust] >= today)
        )
        stop = np.where(is_open, self.stop_day, self.closed_on - 1)
        stop = np.where(held, np.minimum(stop, self.hold_start[self.cust] - 1), stop)
        scen = self.scenario[self.cust]
        bases = np.zeros(max(self.step_base) + 1, dtype=np.int64)
        for sid, base in self.step_base.items():
            bases[sid] = base
        first_step = bases[scen]
        steps_done = np.zeros(self.n_items, dtype=np.int64)
        for sid, *_ in _SCENARIOS:
            mine = invoice & (scen == sid)
            base = self.step_base[sid]
            for offset in self.step_offsets[base : base + len(_scenario_steps(sid))]:
                day = _next_business_day(self.due + offset)
                steps_done += mine & (day <= stop)
        keep = is_open | (self.due >= today - _HISTORY_DAYS)
        # Events: one per item and step done, item by item, steps in order.
        counts = np.where(keep, steps_done, 0)
        with_events = np.flatnonzero(counts)
        per_item = counts[with_events]
        total = int(per_item.sum())
        seg = np.cumsum(per_item) - per_item
        ev_item = np.repeat(with_events, per_item)
        ev_step = first_step[ev_item] + np.arange(total) - np.repeat(seg, per_item)
        ev_day = _next_business_day(self.due[ev_item] + self.step_offsets[ev_step])
        ev_cust = self.cust[ev_item]
        active = np.ones(total, dtype=bool)
        while True:
            grouping = self._group_runs(ev_item, ev_step, ev_day, ev_cust, active)
            order, act_of, heads, pending = grouping
            ev_pending = np.zeros(total, dtype=bool)
            ev_pending[order] = pending[act_of]
            # An item waits behind its first pending manual action.
            first_held = np.where(ev_pending, ev_day, np.iinfo(np.int64).max)
            cut = active & (
                ev_day
                > np.repeat(
                    np.minimum.reduceat(first_held, seg) if total else first_held,
                    per_item,
                )
            )
            if not cut.any():
                break
            active &= ~cut
        # Each item's last step: its last active event, else the steps it reached.
        last_step = np.where(steps_done > 0, first_step + steps_done - 1, -1)
        last_day = np.where(
            last_step >= 0,
            _next_business_day(self.due + self.step_offsets[np.maximum(last_step, 0)]),
            _NULL,
        )
        if total:
            done = np.add.reduceat(active.astype(np.int64), seg)
            last = seg + done - 1
            last_step[with_events] = ev_step[last]
            last_day[with_events] = ev_day[last]
        self.dunning_step = np.where(last_step >= 0, last_step + 1, _NULL)  # step ids
        self.dunning_date = last_day.astype(np.int64)
        e = order
        self.ev_item, self.ev_step, self.ev_action = ev_item[e], ev_step[e], act_of
        self.ev_cents = np.where(
            is_open[self.ev_item],
            self.remaining[self.ev_item],
            self.amount[self.ev_item],
        )
        self.ev_late = ev_day[e] - self.due[self.ev_item]
        self.act_cust, self.act_day = ev_cust[e][heads], ev_day[e][heads]
        self.act_step = (
            np.maximum.reduceat(self.ev_step, heads) if heads.size else heads
        )
        self.act_cents = np.add.reduceat(self.ev_cents, heads) if heads.size else heads
        self.act_pending = pending

    def _group_runs(
        self, item: I64, step: I64, day: I64, cust: I64, active: Bools
    ) -> tuple[I64, I64, I64, Bools]:
        """One action per customer and run day, at the highest step of its items.

        Returns:
            The active events in action order, each one's action, the first
            event of each action, and which actions still wait for a human.
        """
        idx = np.flatnonzero(active)
        order = idx[np.lexsort((step[idx], day[idx], cust[idx]))]
        c, d = cust[order], day[order]
        new = np.ones(order.size, dtype=bool)
        new[1:] = (c[1:] != c[:-1]) | (d[1:] != d[:-1])
        act_of = np.cumsum(new) - 1
        heads = np.flatnonzero(new)
        if heads.size == 0:
            return order, act_of, heads, np.zeros(0, dtype=bool)
        top = np.maximum.reduceat(step[order], heads)
        has_open = (
            np.maximum.reduceat((self.closed_on[item[order]] == _NULL).astype(np.int64),
                                heads) > 0
        )  # fmt: skip
        # Collectors have a backlog: the last days' actions and, for some
        # customers, the previous five weeks' (due dates cluster at month ends).
        age = self.today - d[heads]
        mix = (c[heads] * 2_654_435_761 + d[heads] * 97_003 + self.seed) % 1_000_003
        recent = (age <= 3) | ((age <= 35) & (mix < 250_000))
        pending = ~self.step_auto[top] & recent & has_open
        return order, act_of, heads, pending

    def _customer_finance(self) -> None:
        """Credit limit from recent sales; risk score from payment behaviour."""
        rng, n = self.rng, self.n_cust
        recent = (self.kind == _INV) & (self.issue >= self.today - 365)
        sales = np.bincount(
            self.cust, weights=np.where(recent, self.amount, 0), minlength=n
        )
        limit = np.maximum(np.ceil(sales / 4 / 100_000) * 100_000, 500_000)
        self.credit_limit = limit.astype(np.int64)
        low = np.array([lo for lo, _ in _SCORE])[self.behaviour]
        high = np.array([hi for _, hi in _SCORE])[self.behaviour]
        self.risk_score = np.round(rng.uniform(low, high), 2)
        self.risk_class = np.array(list("EDCBA"))[
            np.clip((self.risk_score // 2).astype(np.int64), 0, 4)
        ].tolist()
        first = np.full(n, _NULL, dtype=np.int64)
        has = self.counts > 0
        first[has] = self.issue[self.starts[has]]
        self.dunning_start = first

    # -- writing
    def _versioned(self, sink: _Sink) -> dict[str, ChunkFn]:
        return {
            "version": sink.c_const(1),
            "updated_by": sink.c_const(_DEMO_MARK),
            "created_at": sink.c_const(sink.stamp),
            "updated_at": sink.c_const(sink.stamp),
        }

    def _write_customers(self, sink: _Sink) -> None:
        n = self.n_cust
        gc = self.portfolio == _GC
        sink.columns(
            "customer",
            n,
            {
                "id": sink.c_ints(np.arange(1, n + 1, dtype=np.int64)),
                "entity_id": sink.c_ints(self.entity),
                "reference": sink.c_list(self.references),
                "name": sink.c_list(self.names),
                "legal_id": sink.c_list(self.legal_id),
                "vat_number": sink.c_list(self.vat),
                "address1": sink.c_list(self.address1),
                "address2": sink.c_list(self.address2),
                "postal_code": sink.c_list(self.postal),
                "city": sink.c_list(self.city),
                "country": sink.c_list(self.country),
                "phone": sink.c_list(self.phone),
                "email": sink.c_list(self.customer_email),
                "language": sink.c_list(self.language),
                "category": sink.c_list(self.category),
                "payment_terms_days": sink.c_ints(self.terms),
                "credit_limit": sink.c_money(self.credit_limit),
                "portfolio_id": sink.c_ints(self.portfolio),
                "collector_id": sink.c_ints(self.collector),
                "scenario_id": sink.c_ints(self.scenario),
                "dunning_type": sink.c_list(
                    np.where(gc, "Suivi grand compte", "Suivi standard").tolist()
                ),
                "dunning_start": sink.c_days(self.dunning_start),
                "hold_reason": sink.c_list(self.hold_reason),
                "hold_until": sink.c_days(self.hold_until),
                "on_hold": sink.c_bools(self.on_hold),
                "insolvency": sink.c_list(self.insolvency),
                "insolvency_since": sink.c_days(self.insolvency_since),
                "risk_score": sink.c_list(self.risk_score.tolist()),
                "risk_class": sink.c_list(self.risk_class),
                **self._versioned(sink),
            },
        )

    def _write_contacts(self, sink: _Sink) -> None:
        m = len(self.contact_id)
        sink.columns(
            "contact",
            m,
            {
                "id": sink.c_list(self.contact_id),
                "customer_id": sink.c_ints(self.contact_owner + 1),
                **{k: sink.c_list(v) for k, v in self.contact_cols.items()},
                "is_dunning_contact": sink.c_bools(self.contact_dunning),
                **self._versioned(sink),
            },
        )

    def _write_items(self, sink: _Sink) -> None:
        m = self.n_items
        kind_values = [k.value for k in _KINDS]
        kind, seq, ref = self.kind, self.seq, self.item_ref
        is_open = self.closed_on == _NULL
        self.open_items = int(is_open.sum())

        def numbers(a: int, b: int) -> list[Any]:
            return [
                f"{_KIND_PREFIX[k]}{s % 10_000_000:08d}"
                for k, s in zip(kind[a:b].tolist(), seq[a:b].tolist(), strict=True)
            ]

        def references(a: int, b: int) -> list[Any]:
            out: list[Any] = []
            for k, r in zip(kind[a:b].tolist(), ref[a:b].tolist(), strict=True):
                if k == _INV:
                    out.append(f"CMD-{r:06d}" if r % 2 else None)
                elif k == _CN:
                    out.append(_CREDIT_REFS[r % len(_CREDIT_REFS)])
                elif k == _PAY:
                    out.append(f"Virement {r:06d}")
                elif k == _UNAPPLIED:
                    out.append(_UNAPPLIED_REFS[r % len(_UNAPPLIED_REFS)])
                else:
                    out.append(_ADJUSTMENT_REFS[r % len(_ADJUSTMENT_REFS)])
            return out

        status = np.where(is_open, ItemStatus.OPEN.value, ItemStatus.CLOSED.value)
        sink.columns(
            "item",
            m,
            {
                "id": sink.c_ints(np.arange(1, m + 1, dtype=np.int64)),
                "entity_id": sink.c_ints(self.entity[self.cust]),
                "customer_id": sink.c_ints(self.cust + 1),
                "kind": lambda a, b: [kind_values[k] for k in kind[a:b].tolist()],
                "number": numbers,
                "instalment": sink.c_ints(self.instalment),
                "reference": references,
                "issue_date": sink.c_days(self.issue),
                "due_date": sink.c_days(self.due),
                "amount": sink.c_money(self.amount),
                "remaining": sink.c_money(np.where(is_open, self.remaining, 0)),
                "currency": sink.c_const("EUR"),
                "status": lambda a, b: status[a:b].tolist(),
                "closed_on": sink.c_days(self.closed_on),
                "disputed": sink.c_bools(self.disputed),
                "disputed_amount": sink.c_money(
                    np.where(self.disputed, self.remaining, _NULL), _NULL
                ),
                "in_litigation": sink.c_bools(self.in_litigation),
                "suspended_until": sink.c_days(self.suspended_until),
                "dunning_step_id": sink.c_ints(self.dunning_step, _NULL),
                "dunning_date": sink.c_days(self.dunning_date),
                "created_at": sink.c_const(sink.stamp),
                "updated_at": sink.c_const(sink.stamp),
            },
        )

    def _write_cases(self, sink: _Sink) -> None:
        ids = _uuid_hex(self.rng, len(self.cases))
        self.case_uuid = ids
        names = (
            "id", "version", "updated_by", "created_at", "updated_at", "number",
            "customer_id", "kind", "status", "opened_on", "closed_on", "owner_id",
            "contact_id", "amount", "currency", "promised_date", "grace_days",
            "source", "reason", "answer_due", "resolution", "stage", "partner",
            "fees", "comment",
        )  # fmt: skip

        def d(value: int | None) -> str | None:
            return None if value is None else _date(value).isoformat()

        rows = []
        for uid, c in zip(ids, self.cases, strict=True):
            fees = c.get("fees")
            rows.append(
                (
                    uid, 1, "demo", sink.stamp, sink.stamp, c["number"],
                    c["customer"] + 1, c["kind"].value, c["status"].value,
                    d(c["opened_on"]), d(c["closed_on"]), c["owner"],
                    self.contact_id[self.first_contact[c["customer"]]],
                    sink.money(c["amount"]), "EUR", d(c.get("promised_date")),
                    c.get("grace_days"), c.get("source"), c.get("reason"),
                    d(c.get("answer_due")), c.get("resolution"), c.get("stage"),
                    c.get("partner"), None if fees is None else sink.money(fees),
                    c.get("comment"),
                )
            )  # fmt: skip
        sink.rows("case_file", names, rows)
        sink.rows(
            "case_item",
            ("case_id", "item_id", "amount"),
            [(ids[c], i + 1, sink.money(a)) for c, i, a in self.case_items],
        )
        inst_ids = _uuid_hex(self.rng, len(self.instalments))
        sink.rows(
            "plan_instalment",
            ("id", "case_id", "plan_version", "seq", "due_date", "amount", "paid"),
            [
                (u, ids[c], v, s, d(due), sink.money(a), sink.money(p))
                for u, (c, v, s, due, a, p) in zip(
                    inst_ids, self.instalments, strict=True
                )
            ],
        )

    def _assignee(self, cust: I64, day: I64) -> I64:
        """The collector, or the replacement while the collector is away."""
        collector = self.collector[cust]
        away = (
            (collector == _ABSENT) & (day >= self.today - 5) & (day <= self.today + 9)
        )
        return np.where(away, _REPLACEMENT, collector)

    def _write_actions(self, sink: _Sink) -> None:
        rng, today = self.rng, self.today
        n_act = self.act_cust.size
        ids = _uuid_hex(rng, n_act)
        auto = self.step_auto[self.act_step]
        confirm = np.array([s.mode == StepMode.CONFIRM for s in self.step_defs])[
            self.act_step
        ]
        pending = self.act_pending
        status = np.where(
            auto | ~pending,
            ActionStatus.DONE.value,
            np.where(
                confirm, ActionStatus.TO_CONFIRM.value, ActionStatus.PENDING.value
            ),
        )
        assignee = self._assignee(self.act_cust, self.act_day)
        done_day = np.minimum(self.act_day + rng.integers(0, 3, n_act), today - 1)
        done_day = np.maximum(done_day, self.act_day)
        performed_at = np.where(
            auto,
            self.act_day * 86_400 + 5 * 3600 + rng.integers(0, 1800, n_act),
            done_day * 86_400 + rng.integers(8 * 3600, 17 * 3600, n_act),
        )
        performed_at = np.where(pending, _NULL, performed_at).astype(np.int64)
        performed_by = np.where(auto | pending, _NULL, assignee).astype(np.int64)
        action_type = np.array([s.action.value for s in self.step_defs])[self.act_step]
        subject = np.array([s.name for s in self.step_defs])[self.act_step]
        phone = action_type == ActionType.PHONE_CALL.value
        note = rng.integers(0, 1 << 20, n_act)
        contact = [
            self.contact_id[k] for k in self.first_contact[self.act_cust].tolist()
        ]

        def notes(a: int, b: int, which: int) -> list[Any]:
            out: list[Any] = []
            for p, is_auto, is_pending, r in zip(
                phone[a:b].tolist(), auto[a:b].tolist(), pending[a:b].tolist(),
                note[a:b].tolist(), strict=True,
            ):  # fmt: skip
                if is_pending:
                    out.append(None)
                elif is_auto:
                    out.append("sent" if which == 0 else None)
                else:
                    pool = _CALL_NOTES if p else _LETTER_NOTES
                    out.append(pool[r % len(pool)][which])
            return out

        created = self.act_day * 86_400 + 4 * 3600
        sink.columns(
            "action",
            n_act,
            {
                "id": sink.c_list(ids),
                "version": sink.c_const(1),
                "updated_by": sink.c_const("demo"),
                "created_at": sink.c_seconds(created),
                "updated_at": sink.c_seconds(np.where(pending, created, performed_at)),
                "customer_id": sink.c_ints(self.act_cust + 1),
                "step_id": sink.c_ints(self.act_step + 1),
                "action_type": sink.c_list(action_type.tolist()),
                "subject": sink.c_list(subject.tolist()),
                "planned_date": sink.c_days(self.act_day),
                "status": sink.c_list(status.tolist()),
                "automatic": sink.c_bools(auto),
                "amount": sink.c_money(self.act_cents),
                "currency": sink.c_const("EUR"),
                "assigned_to_id": sink.c_ints(
                    np.where(auto, _NULL, assignee).astype(np.int64), _NULL
                ),
                "performed_by_id": sink.c_ints(performed_by, _NULL),
                "performed_at": sink.c_seconds(performed_at),
                "contact_id": sink.c_list(contact),
                "outcome": lambda a, b: notes(a, b, 0),
                "comment": lambda a, b: notes(a, b, 1),
            },
        )
        self.progress(80.0)
        sink.columns(
            "action_item",
            self.ev_item.size,
            {
                "action_id": lambda a, b: [
                    ids[k] for k in self.ev_action[a:b].tolist()
                ],
                "item_id": sink.c_ints(self.ev_item + 1),
                "step_id": sink.c_ints(self.ev_step + 1),
                "amount": sink.c_money(self.ev_cents),
                "days_late": sink.c_ints(self.ev_late),
            },
        )
        self._write_case_actions(sink)

    def _write_case_actions(self, sink: _Sink) -> None:
        rng, today = self.rng, self.today
        acts = self.case_actions
        ids = _uuid_hex(rng, len(acts))
        names = (
            "id", "version", "updated_by", "created_at", "updated_at",
            "customer_id", "case_id", "action_type", "subject", "planned_date",
            "status", "automatic", "amount", "currency", "assigned_to_id",
            "created_by_id", "performed_by_id", "performed_at", "contact_id",
            "outcome", "case_event", "comment",
        )  # fmt: skip
        rows, links = [], []
        for uid, a in zip(ids, acts, strict=True):
            case = self.cases[a["case"]]
            c = case["customer"]
            day = int(min(a["day"], today - 1) if a["done"] else a["day"])
            who = int(self._assignee(np.array([c]), np.array([day]))[0])
            moment = dt.datetime.combine(
                _date(day), dt.time(int(rng.integers(8, 17)), int(rng.integers(0, 60))),
                tzinfo=dt.UTC,
            )  # fmt: skip
            stamp = sink.ts(moment)
            rows.append(
                (
                    uid, 1, "demo", stamp, stamp, c + 1, self.case_uuid[a["case"]],
                    a["type"].value, a["subject"], _date(day).isoformat(),
                    (ActionStatus.DONE if a["done"] else ActionStatus.PENDING).value,
                    False, sink.money(case["amount"]), "EUR", who, who,
                    who if a["done"] else None, stamp if a["done"] else None,
                    self.contact_id[self.first_contact[c]],
                    a["event"].value,
                    a["event"].value,
                    _case_comment(a["event"]) if a["done"] else None,
                )
            )  # fmt: skip
            for i in a["items"]:
                cents = (
                    self.remaining[i] if self.closed_on[i] == _NULL else self.amount[i]
                )
                links.append((uid, i + 1, None, sink.money(int(cents)),
                              day - int(self.due[i])))  # fmt: skip
        sink.rows("action", names, rows)
        sink.rows("action_item", ("action_id", "item_id", "step_id", "amount",
                                  "days_late"), links)  # fmt: skip

    def _write_notifications(self, sink: _Sink) -> None:
        rows = []
        ids = _uuid_hex(self.rng, 4 * (_GAY - 1))
        k = 0
        for user in range(_ROSSI, _GAY):
            mine = np.flatnonzero(self.collector == user)[:4]
            for c in mine.tolist():
                rows.append(
                    (ids[k], user, _GAY, c + 1,
                     f"Frédérique Gay : merci de faire un point sur {self.names[c]} "
                     "avant la revue du portefeuille.",
                     None, sink.stamp, sink.stamp)
                )  # fmt: skip
                k += 1
        sink.rows(
            "notification",
            ("id", "user_id", "sender_id", "customer_id", "message", "read_at",
             "created_at", "updated_at"),
            rows,
        )  # fmt: skip

    def _write_snapshots(self, sink: _Sink) -> None:
        """Month-end aged balances for two years, rebuilt from the item history."""
        today_date = _date(self.today)
        month = dt.date(today_date.year, today_date.month, 1)
        ends = []
        for _ in range(24):
            month = (month - dt.timedelta(days=1)).replace(day=1)
            nxt = (month + dt.timedelta(days=32)).replace(day=1)
            ends.append(_day(nxt) - 1)
        ends.reverse()
        close = np.where(
            self.closed_on == _NULL, np.iinfo(np.int64).max, self.closed_on
        )
        partial = np.where(
            self.partial_on == _NULL, np.iinfo(np.int64).max, self.partial_on
        )
        positive = self.amount > 0
        entity = self.entity[self.cust]
        starts, counts = self.starts, self.counts
        nonempty = counts > 0
        heads = starts[nonempty]
        cust_ids = np.flatnonzero(nonempty)
        snap_id = 0
        for end in ends:
            alive = (self.issue <= end) & (close > end)
            out = np.where(
                alive, np.where(partial <= end, self.remaining, self.amount), 0
            )
            late = np.where(positive & (self.due < end), out, 0)
            if heads.size == 0:
                continue
            per_out = np.add.reduceat(out, heads)
            per_late = np.add.reduceat(late, heads)
            for ent in (_FR_ENTITY, _ES_ENTITY):
                snap_id += 1
                mine = entity == ent
                moment = dt.datetime.combine(_date(end), dt.time(23, 0), tzinfo=dt.UTC)
                sink.rows(
                    "balance_snapshot",
                    ("id", "entity_id", "as_of", "taken_at", "source", "item_count",
                     "outstanding", "overdue"),
                    [(snap_id, ent, _date(end).isoformat(), sink.ts(moment),
                      f"{_DEMO_MARK}: balance âgée au {_date(end):%d/%m/%Y}",
                      int((alive & mine & (out != 0)).sum()),
                      sink.money(int(out[mine].sum())),
                      sink.money(int(late[mine].sum())))],
                )  # fmt: skip
                lines = (self.entity[cust_ids] == ent) & (per_out != 0)
                rows_ = np.flatnonzero(lines)
                sink.columns(
                    "snapshot_line",
                    rows_.size,
                    {
                        "snapshot_id": sink.c_const(snap_id),
                        "customer_id": sink.c_ints(cust_ids[rows_] + 1),
                        "outstanding": sink.c_money(per_out[rows_]),
                        "overdue": sink.c_money(per_late[rows_]),
                    },
                )
            self.progress(88.0 + 12.0 * snap_id / (2 * len(ends)))


# -- small helpers ------------------------------------------------------------------


def _scenario_steps(scenario_id: int) -> tuple[_StepDef, ...]:
    return _STANDARD_STEPS if scenario_id == _STANDARD else _GRAND_COMPTE_STEPS


def _case_comment(event: CaseEvent) -> str | None:
    return {
        CaseEvent.OPENED: "Dossier ouvert après échange avec le client.",
        CaseEvent.FOLLOW_UP: "Point fait avec le client.",
        CaseEvent.RESOLVED: "Réponse du commercial reçue, litige traité.",
    }.get(event)


def _role_title(role: Role) -> str:
    return {
        Role.COLLECTOR: "Chargé(e) de recouvrement",
        Role.CREDIT_MANAGER: "Credit manager",
        Role.ADMIN: "Administrateur",
    }[role]


def _entities() -> list[dict[str, Any]]:
    return [
        {
            "id": _FR_ENTITY, "code": "FR01", "name": "Vallet Distribution",
            "legal_form": "SAS", "currency": "EUR", "country": "FR",
            "language": "fr", "legal_id": "512345675",
            "vat_number": _fr_vat(512345675),
            "share_capital": "1 250 000 €", "trade_registry": "RCS Lyon 512 345 675",
            "address1": "12 rue de la République", "postal_code": "69002",
            "city": "Lyon", "phone": "+33 (0)4 72 00 12 34",
            "email": "recouvrement@vallet-distribution.fr",
            "iban": "FR7630006000011234567890189", "bic": "AGRIFRPPXXX",
            "letterhead_note": "Vallet Distribution - SAS au capital de 1 250 000 € "
            "- RCS Lyon 512 345 675",
        },
        {
            "id": _ES_ENTITY, "code": "ES01", "name": "Vallet Ibérica",
            "legal_form": "S.L.", "currency": "EUR", "country": "ES",
            "language": "es", "legal_id": "B86123457", "vat_number": "ESB86123457",
            "share_capital": "300 000 €",
            "trade_registry": "Registro Mercantil de Madrid, Tomo 31245",
            "address1": "Calle de Alcalá, 120", "postal_code": "28009",
            "city": "Madrid", "phone": "+34 915 00 12 34",
            "email": "cobros@vallet-iberica.es",
            "iban": "ES9121000418450200051332", "bic": "CAIXESBBXXX",
            "letterhead_note": "Vallet Ibérica S.L. - CIF B86123457",
        },
    ]  # fmt: skip


def _fr_vat(siren: int) -> str:
    return f"FR{(12 + 3 * (siren % 97)) % 97:02d}{siren:09d}"


def _tld(country: str) -> str:
    return {"FR": "fr", "ES": "es", "GB": "co.uk"}.get(country, country.lower())


def _phone(country: str, digits: list[int], *, mobile: bool = False) -> str:
    d = [f"{x:02d}" for x in digits]
    if country == "FR":
        lead = "6" if mobile else str(1 + digits[0] % 5)
        return f"+33 (0){lead} {d[1]} {d[2]} {d[3]} {d[4]}"
    if country == "ES":
        return f"+34 {'6' if mobile else '9'}{d[0]} {d[1]} {d[2]} {d[3]}"
    code = {"BE": "32", "CH": "41", "DE": "49", "IT": "39", "GB": "44"}[country]
    return f"+{code} {d[0]} {d[1]}{d[2]} {d[3]}{d[4]}"


def _references(rng: np.random.Generator, n: int, fixed: list[str]) -> list[str]:
    """Unique numeric customer references, the seed's ones first."""
    space = max(990_000, 10 * n)
    draw = rng.choice(space, size=n + len(fixed), replace=False) + 10_000
    taken = np.array([int(f) for f in fixed], dtype=np.int64)
    draw = draw[~np.isin(draw, taken)][: n - len(fixed)]
    return fixed + [str(v) for v in draw.tolist()]


def _legal_ids(
    rng: np.random.Generator, countries: list[str]
) -> tuple[list[str | None], list[str | None]]:
    """SIREN (Luhn-valid) and VAT numbers for French customers, CIF for Spanish."""
    n = len(countries)
    body = rng.integers(10_000_000, 99_999_999, n)  # 8 digits + Luhn check digit
    digits = (body[:, None] // 10 ** np.arange(7, -1, -1)) % 10
    doubled = digits.copy()
    doubled[:, 1::2] *= 2  # from the right, every second digit of the 9 is doubled
    doubled = np.where(doubled > 9, doubled - 9, doubled)
    check = (10 - doubled.sum(axis=1) % 10) % 10
    siren = (body * 10 + check).tolist()
    legal: list[str | None] = []
    vat: list[str | None] = []
    for i, country in enumerate(countries):
        if country == "FR":
            legal.append(f"{siren[i]:09d}")
            vat.append(_fr_vat(siren[i]))
        elif country == "ES":
            cif = f"B{body[i]:08d}"
            legal.append(cif)
            vat.append(f"ES{cif}")
        else:
            legal.append(None)
            vat.append(f"{country}{body[i]:09d}" if country != "GB" else None)
    return legal, vat
