"""What a letter, a statement or an email says, before any rendering.

Letters are built in two steps (STYLE §2.10): `build_context()` gathers one
customer's account at a date (amounts, items concerned, late-payment claim,
promise or plan), netting unapplied cash and credit notes from what is claimed;
then `merge_fields()` formats it in the template's language and the renderers
(`engine.pdf`, `compose_email`) lay it out. Everything here is pure: the
service reads the database and hands these values in.

Document wording (column headers, titles) comes from `LABELS` in the
customer's language, never from the UI translation.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import html
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from babel.dates import format_date as babel_format_date

from o2c_desktop import i18n
from o2c_desktop.engine.interest import (
    LateDebt,
    LatePaymentClaim,
    LatePaymentLaw,
    applied_rate,
    late_payment_claim,
)
from o2c_desktop.engine.templates import TABLE_MARK
from o2c_desktop.engine.types import ItemKind
from o2c_desktop.i18n import locale_for

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from o2c_desktop.engine.templates import RenderedText

log = logging.getLogger(__name__)

ZERO = Decimal(0)
CENT = Decimal("0.01")
DASH = "\u2013"  # en dash, as French typography separates parts

# Babel formatting costs ~0.1 ms a call; a run repeats the same amounts and
# dates thousands of times (the 1,000-letter budget of issue 5).
format_money = lru_cache(maxsize=16384)(i18n.format_money)
format_date = lru_cache(maxsize=4096)(i18n.format_date)
format_amount = lru_cache(maxsize=1024)(i18n.format_amount)
_DEBITS = frozenset({ItemKind.INVOICE, ItemKind.ADJUSTMENT})


@dataclass(frozen=True)
class Party:
    """The customer as printed on documents."""

    reference: str
    name: str
    address1: str = ""
    address2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = ""
    legal_id: str = ""
    vat_number: str = ""
    email: str = ""
    phone: str = ""
    language: str = ""
    insolvency: str = ""


@dataclass(frozen=True)
class Letterhead:
    """The selling entity: name, address, legal ids and bank details."""

    name: str
    legal_form: str = ""
    address1: str = ""
    address2: str = ""
    postal_code: str = ""
    city: str = ""
    country: str = "FR"
    phone: str = ""
    email: str = ""
    legal_id: str = ""
    vat_number: str = ""
    share_capital: str = ""
    trade_registry: str = ""
    iban: str = ""
    bic: str = ""
    note: str = ""
    logo_path: str = ""
    language: str = "fr"
    currency: str = "EUR"


@dataclass(frozen=True)
class Person:
    """A collector or a customer contact."""

    name: str = ""
    function: str = ""
    phone: str = ""
    email: str = ""
    signature: str = ""


@dataclass(frozen=True)
class AccountItem:
    """One open item of the customer's account."""

    number: str
    kind: ItemKind
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    remaining: Decimal
    currency: str
    reference: str = ""
    disputed: bool = False
    in_litigation: bool = False
    # The part under dispute; zero while disputed means the whole item.
    disputed_amount: Decimal = ZERO
    # (day, amount) of the payments seen on it, oldest first: interest runs
    # on what was actually late each day (issue 16).
    payments: tuple[tuple[dt.date, Decimal], ...] = ()

    def days_late(self, today: dt.date) -> int:
        """Days past due on `today` (negative before the due date)."""
        return (today - self.due_date).days

    @property
    def paid(self) -> Decimal:
        """What was paid (or credited) on a debit item so far."""
        return self.amount - self.remaining if self.kind in _DEBITS else ZERO

    @property
    def claimed(self) -> Decimal:
        """What a reminder claims of it: the remaining less the disputed part.

        The engine's rule (`engine.dunning`, rule 6): a partial dispute keeps
        the rest dunned; a whole one claims nothing.
        """
        if not self.disputed:
            return self.remaining
        part = self.disputed_amount
        return self.remaining - part if ZERO < part < self.remaining else ZERO


@dataclass(frozen=True)
class Promise:
    """A promise to pay."""

    number: str
    date: dt.date
    amount: Decimal


@dataclass(frozen=True)
class Instalment:
    """One instalment of a payment plan."""

    seq: int
    due_date: dt.date
    amount: Decimal
    paid: Decimal = ZERO
    reminded: bool = False  # what an instalment reminder is about


@dataclass(frozen=True)
class Plan:
    """A payment plan (its current version)."""

    number: str
    instalments: tuple[Instalment, ...]


@dataclass(frozen=True)
class Fee:
    """A dunning fee a step charged on an item (once per item and step)."""

    number: str
    step: str
    amount: Decimal


@dataclass(frozen=True)
class Amounts:
    """A customer's account summed up, in one currency.

    `principal_claimed` is the remaining of the items concerned, less the
    customer's unapplied cash and open credit notes (never below zero).
    """

    currency: str
    total: Decimal
    outstanding: Decimal
    overdue: Decimal
    disputed: Decimal
    litigation: Decimal
    unapplied: Decimal
    credit_notes: Decimal
    items_total: Decimal
    principal_claimed: Decimal
    interest: Decimal
    indemnities: Decimal
    fees: Decimal = ZERO  # dunning fees of the steps done (issue 16)

    @property
    def amount_due(self) -> Decimal:
        """What a reminder asks for: the principal claimed and the fees."""
        return self.principal_claimed + self.fees

    @property
    def total_claimed(self) -> Decimal:
        """Principal, interest, indemnities and fees."""
        return self.principal_claimed + self.interest + self.indemnities + self.fees


@dataclass(frozen=True)
class LetterContext:
    """Everything a document says about one customer at one date."""

    today: dt.date
    customer: Party
    entity: Letterhead
    collector: Person
    contact: Person
    items: tuple[AccountItem, ...]
    concerned: tuple[AccountItem, ...]
    amounts: Amounts
    claim: LatePaymentClaim
    deadline: dt.date
    action_reference: str = ""
    fees: tuple[Fee, ...] = ()
    promise: Promise | None = None
    plan: Plan | None = None
    notes: tuple[str, ...] = field(default=())


def _sum(values: Iterable[Decimal]) -> Decimal:
    return sum(values, ZERO)


def build_context(
    customer: Party,
    entity: Letterhead,
    items: Sequence[AccountItem],
    today: dt.date,
    law: LatePaymentLaw,
    *,
    concerned: Iterable[str] | None = None,
    collector: Person | None = None,
    contact: Person | None = None,
    promise: Promise | None = None,
    plan: Plan | None = None,
    contractual_rate: Decimal | None = None,
    payment_days: int = 8,
    action_reference: str = "",
    fees: Sequence[Fee] = (),
    waive_indemnity: bool = False,
) -> LetterContext:
    """Gather a customer's account for a document.

    Args:
        customer: who receives it.
        entity: who sends it.
        items: every open item of the customer.
        today: the document date.
        law: the late-payment law of the entity's country.
        concerned: numbers of the items the action is about; default: the
            overdue, undisputed debit items.
        collector: who signs.
        contact: to whose attention.
        promise: the promise to pay the document refers to.
        plan: the payment plan the document refers to.
        contractual_rate: the contract's late-payment rate, if any.
        payment_days: days given to pay (the deadline of reminders).
        action_reference: the action's number, printed as "our reference".
        fees: the dunning fees the steps done charged on the items
            concerned; none is claimed under insolvency.
        waive_indemnity: the company waives the fixed recovery indemnity
            for this customer.

    Returns:
        The context, with amounts in the entity's currency.
    """
    currency = entity.currency
    notes: list[str] = []
    foreign = {i.currency for i in items} - {currency}
    if foreign:
        # Amounts in several currencies can't be added; sums keep only the entity's.
        notes.append(f"items in {', '.join(sorted(foreign))} left out of the totals")
    same = [i for i in items if i.currency == currency]
    debits = [i for i in same if i.kind in _DEBITS and i.remaining > 0]
    overdue = [i for i in debits if i.due_date < today]
    if concerned is None:
        chosen = tuple(i for i in overdue if not i.disputed)
    else:
        wanted = set(concerned)
        chosen = tuple(i for i in items if i.number in wanted)
    # Netted as the engine nets them: every undisputed credit of the currency,
    # so that the letter claims the action's amount (issue 16).
    unapplied = -_sum(
        i.remaining
        for i in same
        if i.kind in (ItemKind.UNAPPLIED_CASH, ItemKind.PAYMENT)
        and i.remaining < 0
        and not i.disputed
    )
    credit_notes = -_sum(
        i.remaining
        for i in same
        if i.kind is ItemKind.CREDIT_NOTE and i.remaining < 0 and not i.disputed
    )
    items_total = _sum(
        i.claimed for i in chosen if i.currency == currency and i.remaining > 0
    )
    # Interest is claimed on what the letter claims: the overdue, undisputed
    # debits among the items concerned (all of them for a plain statement).
    claimed = {i.number for i in chosen}
    claim = late_payment_claim(
        [
            LateDebt(
                i.number,
                i.due_date,
                i.claimed + _sum(paid for _day, paid in i.payments),
                i.currency,
                payments=i.payments,
            )
            for i in overdue
            if i.claimed > 0 and i.number in claimed
        ],
        today,
        law,
        contractual_rate=contractual_rate,
        insolvency=customer.insolvency or None,
    )
    if waive_indemnity:
        claim = dataclasses.replace(
            claim,
            debts=tuple(dataclasses.replace(x, indemnity=ZERO) for x in claim.debts),
        )
    # Like interest, no fee is claimed from a customer under insolvency.
    charged = (
        ()
        if customer.insolvency
        else tuple(f for f in fees if f.amount > 0 and f.number in claimed)
    )
    amounts = Amounts(
        currency=currency,
        total=_sum(i.remaining for i in debits),
        outstanding=_sum(i.remaining for i in same),
        overdue=_sum(i.remaining for i in overdue),
        disputed=_sum(i.remaining for i in same if i.disputed),
        litigation=_sum(i.remaining for i in same if i.in_litigation),
        unapplied=unapplied,
        credit_notes=credit_notes,
        items_total=items_total,
        principal_claimed=max(ZERO, items_total - unapplied - credit_notes),
        interest=claim.interest,
        indemnities=claim.indemnities,
        fees=_sum(f.amount for f in charged),
    )
    return LetterContext(
        today=today,
        customer=customer,
        entity=entity,
        collector=collector or Person(),
        contact=contact or Person(),
        items=tuple(sorted(items, key=lambda i: (i.due_date, i.number))),
        concerned=tuple(sorted(chosen, key=lambda i: (i.due_date, i.number))),
        amounts=amounts,
        claim=claim,
        deadline=today + dt.timedelta(days=payment_days),
        action_reference=action_reference,
        fees=charged,
        promise=promise,
        plan=plan,
        notes=tuple(notes),
    )


# Document wording per language. Keys are the same in every language.
LABELS: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "place_date": "{city}, le {date}",
        "subject": "Objet :",
        "your_ref": "Réf. client :",
        "our_ref": "Notre réf. :",
        "attention": "À l'attention de {name}",
        "registered": "Lettre recommandée avec accusé de réception",
        "page": "Page {page} / {pages}",
        "number": "N° pièce",
        "kind": "Type",
        "issue_date": "Date",
        "due_date": "Échéance",
        "days_late": "Jours de retard",
        "late_short": "Retard (j)",
        "amount": "Montant TTC",
        "remaining": "Reste dû",
        "paid": "Déjà réglé",
        "net_claimed": "Montant net réclamé",
        "fees": "Frais de relance",
        "amount_due": "Total à régler",
        "status": "Statut",
        "total": "Total",
        "disputed": "En litige",
        "litigation": "Contentieux",
        "invoice": "Facture",
        "credit_note": "Avoir",
        "payment": "Règlement",
        "unapplied_cash": "Règlement non imputé",
        "adjustment": "Écriture diverse",
        "statement_title": "Relevé de compte",
        "statement_as_of": "Pièces ouvertes au {date}",
        "customer": "Client",
        "sum_debits": "Total factures",
        "sum_credits": "Avoirs",
        "sum_unapplied": "Règlements non imputés",
        "sum_outstanding": "Solde dû (encours)",
        "sum_overdue": "dont échu",
        "sum_disputed": "dont en litige",
        "interest_title": "Relevé d'intérêts et pénalités de retard",
        "interest_as_of": "Calculé au {date}",
        "period": "Période",
        "days": "Jours",
        "rate": "Taux",
        "base": "Base",
        "interest": "Intérêts",
        "indemnity": "Indemnité forfaitaire",
        "sum_interest": "Total des intérêts de retard",
        "sum_indemnities": "Total des indemnités forfaitaires",
        "sum_claimed": "Total réclamé",
        "interest_note": (
            "Pénalités de retard exigibles de plein droit, sans rappel, dès le "
            "lendemain de la date d'échéance, calculées jour par jour sur le "
            "montant restant dû (année de {basis} jours), au taux en vigueur pour "
            "chaque semestre. Une indemnité forfaitaire pour frais de recouvrement "
            "est due pour chaque facture payée en retard. Base légale : {law}."
        ),
        "floor_note": (
            "Le taux contractuel étant inférieur à trois fois le taux d'intérêt "
            "légal, ce plancher a été appliqué."
        ),
        "contract_note": (
            "Taux contractuel (conditions générales de vente) : {rate} l'an."
        ),
        "insolvency_note": (
            "Aucun intérêt ni indemnité n'est réclamé : une procédure collective "
            "est en cours ({reason})."
        ),
        "nothing_late": "Aucune facture en retard à cette date.",
        "collection_dept": "Service recouvrement",
        "phone": "Tél.",
        "legal_id": "SIREN",
        "vat": "N° TVA",
        "capital": "au capital de",
        "bank": "IBAN",
    },
    "en": {
        "place_date": "{city}, {date}",
        "subject": "Subject:",
        "your_ref": "Customer ref.:",
        "our_ref": "Our ref.:",
        "attention": "For the attention of {name}",
        "registered": "Registered letter with acknowledgement of receipt",
        "page": "Page {page} of {pages}",
        "number": "Document no.",
        "kind": "Type",
        "issue_date": "Date",
        "due_date": "Due date",
        "days_late": "Days overdue",
        "late_short": "Days late",
        "amount": "Amount",
        "remaining": "Balance due",
        "paid": "Paid",
        "net_claimed": "Net amount claimed",
        "fees": "Dunning fees",
        "amount_due": "Total to pay",
        "status": "Status",
        "total": "Total",
        "disputed": "Disputed",
        "litigation": "In litigation",
        "invoice": "Invoice",
        "credit_note": "Credit note",
        "payment": "Payment",
        "unapplied_cash": "Unapplied payment",
        "adjustment": "Adjustment",
        "statement_title": "Statement of account",
        "statement_as_of": "Open items at {date}",
        "customer": "Customer",
        "sum_debits": "Total invoices",
        "sum_credits": "Credit notes",
        "sum_unapplied": "Unapplied payments",
        "sum_outstanding": "Balance due",
        "sum_overdue": "of which overdue",
        "sum_disputed": "of which disputed",
        "interest_title": "Statement of late-payment interest and compensation",
        "interest_as_of": "Calculated at {date}",
        "period": "Period",
        "days": "Days",
        "rate": "Rate",
        "base": "Base",
        "interest": "Interest",
        "indemnity": "Fixed compensation",
        "sum_interest": "Total late-payment interest",
        "sum_indemnities": "Total fixed compensation",
        "sum_claimed": "Total claimed",
        "interest_note": (
            "Late-payment interest runs without notice from the day after the due "
            "date, calculated day by day on the amount remaining due ({basis}-day "
            "year) at the rate in force for each half-year. A fixed sum for "
            "recovery costs is due for each invoice paid late. Legal basis: {law}."
        ),
        "floor_note": (
            "The contractual rate being below three times the legal interest rate, "
            "that floor has been applied."
        ),
        "contract_note": "Contractual rate (general terms of sale): {rate} a year.",
        "insolvency_note": (
            "No interest or compensation is claimed: insolvency proceedings are "
            "in progress ({reason})."
        ),
        "nothing_late": "No invoice is overdue at this date.",
        "collection_dept": "Credit control",
        "phone": "Tel.",
        "legal_id": "Company no.",
        "vat": "VAT no.",
        "capital": "share capital",
        "bank": "IBAN",
    },
    "es": {
        "place_date": "{city}, {date}",
        "subject": "Asunto:",
        "your_ref": "Ref. cliente:",
        "our_ref": "Nuestra ref.:",
        "attention": "A la atención de {name}",
        "registered": "Carta certificada con acuse de recibo",
        "page": "Página {page} de {pages}",
        "number": "N.º documento",
        "kind": "Tipo",
        "issue_date": "Fecha",
        "due_date": "Vencimiento",
        "days_late": "Días de retraso",
        "late_short": "Días retraso",
        "amount": "Importe",
        "remaining": "Pendiente",
        "paid": "Pagado",
        "net_claimed": "Importe neto reclamado",
        "fees": "Gastos de reclamación",
        "amount_due": "Total a pagar",
        "status": "Estado",
        "total": "Total",
        "disputed": "En disputa",
        "litigation": "Contencioso",
        "invoice": "Factura",
        "credit_note": "Abono",
        "payment": "Pago",
        "unapplied_cash": "Pago no aplicado",
        "adjustment": "Ajuste",
        "statement_title": "Extracto de cuenta",
        "statement_as_of": "Partidas abiertas a {date}",
        "customer": "Cliente",
        "sum_debits": "Total facturas",
        "sum_credits": "Abonos",
        "sum_unapplied": "Pagos no aplicados",
        "sum_outstanding": "Saldo pendiente",
        "sum_overdue": "del cual vencido",
        "sum_disputed": "del cual en disputa",
        "interest_title": "Liquidación de intereses de demora e indemnizaciones",
        "interest_as_of": "Calculado a {date}",
        "period": "Periodo",
        "days": "Días",
        "rate": "Tipo",
        "base": "Base",
        "interest": "Intereses",
        "indemnity": "Indemnización fija",
        "sum_interest": "Total intereses de demora",
        "sum_indemnities": "Total indemnizaciones fijas",
        "sum_claimed": "Total reclamado",
        "interest_note": (
            "Los intereses de demora se devengan automáticamente desde el día "
            "siguiente al vencimiento, calculados día a día sobre el importe "
            "pendiente (año de {basis} días), al tipo vigente en cada semestre. Se "
            "adeuda una indemnización fija por costes de cobro por cada factura "
            "pagada con retraso. Base legal: {law}."
        ),
        "floor_note": (
            "Al ser el tipo contractual inferior a tres veces el interés legal, se "
            "ha aplicado dicho mínimo."
        ),
        "contract_note": (
            "Tipo contractual (condiciones generales de venta): {rate} anual."
        ),
        "insolvency_note": (
            "No se reclaman intereses ni indemnizaciones: existe un procedimiento "
            "concursal en curso ({reason})."
        ),
        "nothing_late": "Ninguna factura vencida en esta fecha.",
        "collection_dept": "Departamento de cobros",
        "phone": "Tel.",
        "legal_id": "NIF",
        "vat": "NIF-IVA",
        "capital": "capital social",
        "bank": "IBAN",
    },
    "de": {
        "place_date": "{city}, den {date}",
        "subject": "Betreff:",
        "your_ref": "Kundennr.:",
        "our_ref": "Unser Zeichen:",
        "attention": "z. Hd. {name}",
        "registered": "Einschreiben mit Rückschein",
        "page": "Seite {page} von {pages}",
        "number": "Beleg-Nr.",
        "kind": "Art",
        "issue_date": "Datum",
        "due_date": "Fällig am",
        "days_late": "Tage überfällig",
        "late_short": "Verzug (Tage)",
        "amount": "Betrag",
        "remaining": "Offen",
        "paid": "Bezahlt",
        "net_claimed": "Geforderter Nettobetrag",
        "fees": "Mahngebühren",
        "amount_due": "Zu zahlender Betrag",
        "status": "Status",
        "total": "Summe",
        "disputed": "Strittig",
        "litigation": "Rechtsverfolgung",
        "invoice": "Rechnung",
        "credit_note": "Gutschrift",
        "payment": "Zahlung",
        "unapplied_cash": "Nicht zugeordnete Zahlung",
        "adjustment": "Korrektur",
        "statement_title": "Kontoauszug",
        "statement_as_of": "Offene Posten zum {date}",
        "customer": "Kunde",
        "sum_debits": "Summe Rechnungen",
        "sum_credits": "Gutschriften",
        "sum_unapplied": "Nicht zugeordnete Zahlungen",
        "sum_outstanding": "Offener Saldo",
        "sum_overdue": "davon überfällig",
        "sum_disputed": "davon strittig",
        "interest_title": "Aufstellung der Verzugszinsen und Pauschalen",
        "interest_as_of": "Berechnet zum {date}",
        "period": "Zeitraum",
        "days": "Tage",
        "rate": "Zinssatz",
        "base": "Basis",
        "interest": "Zinsen",
        "indemnity": "Pauschale",
        "sum_interest": "Summe Verzugszinsen",
        "sum_indemnities": "Summe Pauschalen",
        "sum_claimed": "Gesamtforderung",
        "interest_note": (
            "Verzugszinsen fallen ohne Mahnung ab dem Tag nach Fälligkeit an und "
            "werden taggenau auf den offenen Betrag berechnet ({basis} Tage pro "
            "Jahr), zum jeweils für das Halbjahr geltenden Zinssatz. Für jede "
            "verspätet bezahlte Rechnung ist eine Pauschale für Beitreibungskosten "
            "geschuldet. Rechtsgrundlage: {law}."
        ),
        "floor_note": (
            "Da der vertragliche Zinssatz unter dem Dreifachen des gesetzlichen "
            "Zinssatzes liegt, wurde diese Untergrenze angewandt."
        ),
        "contract_note": (
            "Vertraglicher Zinssatz (Allgemeine Geschäftsbedingungen): {rate} pro Jahr."
        ),
        "insolvency_note": (
            "Es werden weder Zinsen noch Pauschalen gefordert: ein "
            "Insolvenzverfahren ist eröffnet ({reason})."
        ),
        "nothing_late": "Zu diesem Datum ist keine Rechnung überfällig.",
        "collection_dept": "Forderungsmanagement",
        "phone": "Tel.",
        "legal_id": "HRB",
        "vat": "USt-IdNr.",
        "capital": "Stammkapital",
        "bank": "IBAN",
    },
}


def labels(language: str) -> Mapping[str, str]:
    """Document wording in `language` (French when not shipped)."""
    return LABELS.get(language, LABELS["fr"])


def long_date(day: dt.date, language: str) -> str:
    """The date as written in a letter: ``24 mars 2020``, ``24 March 2020``."""
    return babel_format_date(day, format="long", locale=locale_for(language))


def format_rate(rate: Decimal, language: str) -> str:
    """An annual rate in percent: ``14,50 %`` in French, ``14.50%`` in English."""
    number = format_amount(rate, language)
    return f"{number}%" if language == "en" else f"{number}\u00a0%"


def address_lines(party: Party | Letterhead) -> list[str]:
    """Street lines, then postal code and city, then the country if foreign."""
    lines = [x for x in (party.address1, party.address2) if x]
    town = " ".join(x for x in (party.postal_code, party.city.upper()) if x)
    if town:
        lines.append(town)
    return lines


# A company's national identifier keeps its own name in every language.
LEGAL_ID_NAMES: Mapping[str, str] = {"FR": "SIREN", "ES": "NIF"}


def _compact(text: str) -> str:
    """Letters and digits only, upper case: "512 345 675" matches "512345675"."""
    return "".join(ch for ch in text.upper() if ch.isalnum())


def legal_mentions(entity: Letterhead, language: str) -> str:
    """The footer line: form, capital, registry, ids, VAT, IBAN."""
    lab = labels(language)
    head = entity.name
    if entity.legal_form:
        head += f" {entity.legal_form}"
    if entity.share_capital:
        head += f" {lab['capital']} {entity.share_capital}"
    parts = [head]
    if entity.trade_registry:
        parts.append(entity.trade_registry)
    legal_id = entity.legal_id.strip()
    # "RCS Lyon 512 345 675" already carries the SIREN: print it once (issue 15).
    if legal_id and _compact(legal_id) not in _compact(entity.trade_registry):
        if any(word.isalpha() for word in legal_id.split()):
            parts.append(legal_id)  # labelled already ("HRB 12345")
        else:
            label = LEGAL_ID_NAMES.get(entity.country.upper(), lab["legal_id"])
            parts.append(f"{label} {legal_id}")
    if entity.vat_number:
        parts.append(f"{lab['vat']} {entity.vat_number}")
    if entity.iban:
        bank = f"{lab['bank']} {entity.iban}"
        if entity.bic:
            bank += f" {DASH} BIC {entity.bic}"
        parts.append(bank)
    return f" {DASH} ".join(parts)


def signature_text(ctx: LetterContext, language: str) -> str:
    """The collector's signature, or one made from their name and phone.

    A stored signature is written in the entity's language; a letter in
    another language is signed with one made in its own (issue 16).
    """
    if ctx.collector.signature and language == ctx.entity.language:
        return ctx.collector.signature
    lab = labels(language)
    lines = [ctx.collector.name, f"{lab['collection_dept']} {DASH} {ctx.entity.name}"]
    if ctx.collector.phone:
        lines.append(f"{lab['phone']} {ctx.collector.phone}")
    if ctx.collector.email:
        lines.append(ctx.collector.email)
    return "\n".join(x for x in lines if x)


def merge_fields(ctx: LetterContext, language: str) -> dict[str, Any]:
    """The merge fields of `templates.FIELDS`, formatted for `language`."""
    cur = ctx.amounts.currency

    def money(value: Decimal) -> str:
        return format_money(value, cur, language)

    def day(value: dt.date) -> str:
        return format_date(value, language)

    def item_row(i: AccountItem) -> dict[str, Any]:
        return {
            "number": i.number,
            "kind": labels(language)[i.kind.value],
            "reference": i.reference,
            "issue_date": day(i.issue_date),
            "due_date": day(i.due_date),
            "amount": format_money(i.amount, i.currency, language),
            "paid": format_money(i.paid, i.currency, language),
            "remaining": format_money(i.remaining, i.currency, language),
            "days_late": max(0, i.days_late(ctx.today)),
            "disputed": i.disputed,
            "currency": i.currency,
        }

    c, e, a = ctx.customer, ctx.entity, ctx.amounts
    plan_rows = ctx.plan.instalments if ctx.plan else ()

    def instalment_row(x: Instalment) -> dict[str, Any]:
        return {
            "seq": x.seq,
            "due_date": day(x.due_date),
            "amount": money(x.amount),
            "paid": money(x.paid),
            "remaining": money(max(x.amount - x.paid, ZERO)),
            "days_late": max(0, (ctx.today - x.due_date).days),
        }

    due_rows = [x for x in plan_rows if x.reminded]
    rates: list[Decimal] = []  # in the order periods come, not sorted
    for line in sorted(
        (x for d in ctx.claim.debts for x in d.lines), key=lambda x: x.start
    ):
        if line.rate not in rates:
            rates.append(line.rate)
    return {
        "customer": {
            "name": c.name,
            "reference": c.reference,
            "legal_id": c.legal_id,
            "vat_number": c.vat_number,
            "address": ", ".join(address_lines(c)),
            "postal_code": c.postal_code,
            "city": c.city,
            "country": c.country,
            "email": c.email,
            "phone": c.phone,
        },
        "contact": {
            "name": ctx.contact.name,
            "function": ctx.contact.function,
            "email": ctx.contact.email,
            "phone": ctx.contact.phone,
        },
        "entity": {
            "name": e.name,
            "legal_form": e.legal_form,
            "address": ", ".join(address_lines(e)),
            "city": e.city,
            "phone": e.phone,
            "email": e.email,
            "legal_id": e.legal_id,
            "vat_number": e.vat_number,
            "share_capital": e.share_capital,
            "trade_registry": e.trade_registry,
            "iban": e.iban,
            "bic": e.bic,
            "legal_mentions": legal_mentions(e, language),
        },
        "collector": {
            "name": ctx.collector.name,
            "phone": ctx.collector.phone,
            "email": ctx.collector.email,
            "signature": signature_text(ctx, language),
        },
        "amounts": {
            "total": money(a.total),
            "outstanding": money(a.outstanding),
            "overdue": money(a.overdue),
            "disputed": money(a.disputed),
            "litigation": money(a.litigation),
            "unapplied": money(a.unapplied),
            "credit_notes": money(a.credit_notes),
            "items_total": money(a.items_total),
            "principal_claimed": money(a.principal_claimed),
            "interest": money(a.interest),
            "indemnities": money(a.indemnities),
            "fees": money(a.fees),
            "amount_due": money(a.amount_due),
            "total_claimed": money(a.total_claimed),
        },
        "law": {
            "name": ctx.claim.law.name,
            "country": ctx.claim.law.country,
            "rate": " / ".join(format_rate(r, language) for r in rates)
            or format_rate(
                applied_rate(ctx.claim.law, ctx.today, ctx.claim.contractual_rate),
                language,
            ),
        },
        "promise": {
            "number": ctx.promise.number if ctx.promise else "",
            "date": day(ctx.promise.date) if ctx.promise else "",
            "amount": money(ctx.promise.amount) if ctx.promise else "",
        },
        "plan": {
            "number": ctx.plan.number if ctx.plan else "",
            "total": money(_sum(x.amount for x in plan_rows)),
            "count": len(plan_rows),
            "first_date": day(plan_rows[0].due_date) if plan_rows else "",
            "last_date": day(plan_rows[-1].due_date) if plan_rows else "",
            "due_total": money(_sum(max(x.amount - x.paid, ZERO) for x in due_rows)),
        },
        "action": {"reference": ctx.action_reference, "date": day(ctx.today)},
        "items": [item_row(i) for i in ctx.concerned],
        "instalments": [instalment_row(x) for x in plan_rows],
        "instalments_due": [instalment_row(x) for x in due_rows],
        "item_count": len(ctx.concerned),
        # Whether there is principal to claim (a notice never says "0.00").
        "claims_principal": a.principal_claimed > 0,
        "claims_fees": a.fees > 0,
        "today": day(ctx.today),
        "deadline": day(ctx.deadline),
    }


@dataclass(frozen=True)
class PrintedTable:
    """A table as printed: plain-text cells (never interpreted as markup).

    Attributes:
        headers: column titles, repeated on each page.
        rows: body rows.
        widths: relative column widths.
        align: "L" or "R" per column.
        marked: indexes of rows to highlight (disputed items).
        minor: indexes of rows printed as details of the row above.
        footer: total rows, printed bold after the body.
    """

    headers: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    widths: tuple[float, ...]
    align: tuple[str, ...]
    marked: frozenset[int] = frozenset()
    minor: frozenset[int] = frozenset()
    footer: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Sheet:
    """What every printed document shares: letterhead, addressee, footer."""

    language: str
    entity: Letterhead
    recipient: tuple[str, ...]
    place_date: str
    references: tuple[str, ...]
    footer: str
    page_label: str  # "Page {page} / {pages}"
    title: str


@dataclass(frozen=True)
class PrintedLetter:
    """A letter ready to lay out; `paragraphs` are safe markup."""

    sheet: Sheet
    subject: str
    paragraphs: tuple[str, ...]
    table: PrintedTable | None
    signature: tuple[str, ...]
    registered: bool = False


@dataclass(frozen=True)
class PrintedReport:
    """A statement: a title, a table, a summary and notes, all plain text."""

    sheet: Sheet
    heading: str
    subheading: str
    table: PrintedTable
    summary: tuple[tuple[str, str], ...]
    notes: tuple[str, ...] = ()
    empty_text: str = ""


def _sheet(ctx: LetterContext, language: str, title: str) -> Sheet:
    lab = labels(language)
    recipient = [ctx.customer.name]
    if ctx.contact.name:
        recipient.append(lab["attention"].format(name=ctx.contact.name))
    recipient.extend(address_lines(ctx.customer))
    if ctx.customer.country and ctx.customer.country != ctx.entity.country:
        recipient.append(_country_name(ctx.customer.country, language))
    refs = [f"{lab['your_ref']} {ctx.customer.reference}"]
    if ctx.action_reference:
        refs.append(f"{lab['our_ref']} {ctx.action_reference}")
    place = lab["place_date"].format(
        city=ctx.entity.city, date=long_date(ctx.today, language)
    )
    return Sheet(
        language=language,
        entity=ctx.entity,
        recipient=tuple(recipient),
        place_date=place if ctx.entity.city else long_date(ctx.today, language),
        references=tuple(refs),
        footer=legal_mentions(ctx.entity, language),
        page_label=lab["page"],
        title=title,
    )


def _country_name(code: str, language: str) -> str:
    from babel import Locale

    # Postal rule: the destination country, in capitals, on the last line.
    name = Locale.parse(locale_for(language)).territories.get(code.upper(), code)
    return str(name).upper()


def items_table(
    ctx: LetterContext, language: str, items: Sequence[AccountItem] | None = None
) -> PrintedTable:
    """The table of items concerned (or `items`), with their total.

    Each item shows its amount, what was paid so far and what remains; the
    items concerned are followed by the unapplied payments and credit notes
    netted, then the net amount claimed: the action's amount (issue 16).
    """
    lab = labels(language)
    rows = tuple(items if items is not None else ctx.concerned)
    cur = ctx.amounts.currency

    def line(i: AccountItem) -> tuple[str, ...]:
        late = i.days_late(ctx.today)
        return (
            i.number,
            format_date(i.issue_date, language),
            format_date(i.due_date, language),
            str(late) if late > 0 else "",
            format_money(i.amount, i.currency, language),
            format_money(i.paid, i.currency, language) if i.paid else "",
            format_money(i.remaining, i.currency, language),
        )

    def total_row(label: str, value: Decimal) -> tuple[str, ...]:
        return (label, "", "", "", "", "", format_money(value, cur, language))

    total = _sum(i.remaining for i in rows if i.currency == cur)
    footer = [total_row(lab["total"], total)]
    a = ctx.amounts
    if items is None:
        netted = [
            (lab["sum_unapplied"], a.unapplied),
            (lab["sum_credits"], a.credit_notes),
        ]
        shown = [(label, value) for label, value in netted if value > 0]
        if shown or a.principal_claimed != total:
            footer.extend(total_row(label, -value) for label, value in shown)
            footer.append(total_row(lab["net_claimed"], a.principal_claimed))
        if a.fees:
            footer.append(total_row(lab["fees"], a.fees))
            footer.append(total_row(lab["amount_due"], a.amount_due))
    return PrintedTable(
        headers=(
            lab["number"],
            lab["issue_date"],
            lab["due_date"],
            lab["days_late"],
            lab["amount"],
            lab["paid"],
            lab["remaining"],
        ),
        rows=tuple(line(i) for i in rows),
        widths=(30, 20, 20, 16, 26, 24, 26),
        align=("L", "L", "L", "R", "R", "R", "R"),
        marked=frozenset(n for n, i in enumerate(rows) if i.disputed),
        footer=tuple(footer),
    )


def printed_letter(
    ctx: LetterContext,
    rendered: RenderedText,
    language: str,
    *,
    registered: bool = False,
) -> PrintedLetter:
    """Lay out a rendered letter template for `engine.pdf.letter_pdf`."""
    has_table = TABLE_MARK in rendered.markup
    return PrintedLetter(
        sheet=_sheet(ctx, language, rendered.subject),
        subject=rendered.subject,
        paragraphs=tuple(p.replace("\n", "<br/>") for p in rendered.paragraphs),
        table=items_table(ctx, language) if has_table else None,
        signature=tuple(signature_text(ctx, language).splitlines()),
        registered=registered,
    )


def printed_statement(ctx: LetterContext, language: str) -> PrintedReport:
    """The statement of account: every open item, disputed ones marked, totals."""
    lab = labels(language)
    cur = ctx.amounts.currency
    rows: list[tuple[str, ...]] = []
    marked: set[int] = set()
    for n, i in enumerate(ctx.items):
        late = i.days_late(ctx.today)
        status = ""
        if i.disputed:
            status = lab["disputed"]
            marked.add(n)
        elif i.in_litigation:
            status = lab["litigation"]
        rows.append(
            (
                lab[i.kind.value],
                i.number,
                format_date(i.issue_date, language),
                format_date(i.due_date, language),
                str(late) if late > 0 and i.kind in _DEBITS else "",
                format_money(i.amount, i.currency, language),
                format_money(i.remaining, i.currency, language),
                status,
            )
        )
    a = ctx.amounts

    def money(value: Decimal) -> str:
        return format_money(value, cur, language)

    table = PrintedTable(
        headers=(
            lab["kind"],
            lab["number"],
            lab["issue_date"],
            lab["due_date"],
            lab["late_short"],
            lab["amount"],
            lab["remaining"],
            lab["status"],
        ),
        rows=tuple(rows),
        widths=(32, 26, 17.5, 17.5, 13, 23, 23, 18),
        align=("L", "L", "L", "L", "R", "R", "R", "L"),
        marked=frozenset(marked),
        footer=((lab["total"], "", "", "", "", "", money(a.outstanding), ""),),
    )
    summary = (
        (lab["sum_debits"], money(a.total)),
        (lab["sum_credits"], money(-a.credit_notes)),
        (lab["sum_unapplied"], money(-a.unapplied)),
        (lab["sum_outstanding"], money(a.outstanding)),
        (lab["sum_overdue"], money(a.overdue)),
        (lab["sum_disputed"], money(a.disputed)),
    )
    return PrintedReport(
        sheet=_sheet(ctx, language, lab["statement_title"]),
        heading=lab["statement_title"],
        subheading=lab["statement_as_of"].format(date=format_date(ctx.today, language)),
        table=table,
        summary=summary,
    )


def printed_interest_statement(ctx: LetterContext, language: str) -> PrintedReport:
    """Per late invoice: days late, rate per period, interest, indemnity, totals."""
    lab = labels(language)
    claim = ctx.claim
    rows: list[tuple[str, ...]] = []
    minor: set[int] = set()
    for debt in claim.debts:

        def money(value: Decimal, cur: str = debt.currency) -> str:
            return format_money(value, cur, language)

        for k, line in enumerate(debt.lines):
            start = format_date(line.start, language)
            period = f"{start} {DASH} {format_date(line.end, language)}"
            if k:
                minor.add(len(rows))
            rows.append(
                (
                    debt.number if k == 0 else "",
                    format_date(debt.due_date, language) if k == 0 else "",
                    str(debt.days_late) if k == 0 else "",
                    money(line.base),
                    period,
                    str(line.days),
                    format_rate(line.rate, language),
                    money(line.interest),
                    money(debt.indemnity) if k == 0 else "",
                )
            )
    cur = claim.law.currency if not claim.debts else claim.debts[0].currency
    totals = claim.totals().get(cur, (ZERO, ZERO))
    table = PrintedTable(
        headers=(
            lab["number"],
            lab["due_date"],
            lab["late_short"],
            lab["base"],
            lab["period"],
            lab["days"],
            lab["rate"],
            lab["interest"],
            lab["indemnity"],
        ),
        rows=tuple(rows),
        widths=(24, 17.5, 13, 21, 36, 9, 14, 19, 19),
        align=("L", "L", "R", "R", "L", "R", "R", "R", "R"),
        minor=frozenset(minor),
        footer=(
            (
                lab["total"],
                "",
                "",
                "",
                "",
                "",
                "",
                format_money(totals[0], cur, language),
                format_money(totals[1], cur, language),
            ),
        ),
    )
    notes = [lab["interest_note"].format(basis=claim.law.day_basis, law=claim.law.name)]
    if claim.contractual_rate is not None and not claim.excluded_reason:
        rate = format_rate(claim.contractual_rate, language)
        notes.append(lab["contract_note"].format(rate=rate))
    if any(d.floored for d in claim.debts):
        notes.append(lab["floor_note"])
    if claim.excluded_reason:
        notes.insert(0, lab["insolvency_note"].format(reason=ctx.customer.insolvency))
    return PrintedReport(
        sheet=_sheet(ctx, language, lab["interest_title"]),
        heading=lab["interest_title"],
        subheading=lab["interest_as_of"].format(date=format_date(ctx.today, language)),
        table=table,
        summary=(
            (lab["sum_interest"], format_money(totals[0], cur, language)),
            (lab["sum_indemnities"], format_money(totals[1], cur, language)),
            *(
                [(lab["fees"], format_money(ctx.amounts.fees, cur, language))]
                if ctx.amounts.fees
                else []
            ),
            (
                lab["sum_claimed"],
                format_money(totals[0] + totals[1] + ctx.amounts.fees, cur, language),
            ),
        ),
        notes=tuple(notes),
        empty_text="" if claim.excluded_reason else lab["nothing_late"],
    )


@dataclass(frozen=True)
class EmailContent:
    """An email's texts in the customer's language."""

    subject: str
    html: str
    text: str


def compose_email(
    ctx: LetterContext, rendered: RenderedText, language: str
) -> EmailContent:
    """Turn a rendered email template into HTML and plain-text bodies."""
    table = items_table(ctx, language)
    html_parts: list[str] = []
    text_parts: list[str] = []
    for para in rendered.paragraphs:
        if para == TABLE_MARK:
            html_parts.append(_html_table(table))
            text_parts.append(_text_table(table))
        else:
            html_parts.append(f"<p>{para.replace(chr(10), '<br>')}</p>")
            text_parts.append(_plain(para))
    body = "\n".join(html_parts)
    page = (
        f'<!DOCTYPE html><html lang="{language}"><head><meta charset="utf-8">'
        f"<title>{html.escape(rendered.subject)}</title></head>"
        '<body style="font-family:Arial,Helvetica,sans-serif;font-size:14px;'
        f'color:#222">{body}</body></html>'
    )
    return EmailContent(
        subject=rendered.subject, html=page, text="\n\n".join(text_parts) + "\n"
    )


def _plain(markup: str) -> str:
    from o2c_desktop.engine.templates import to_plain

    return to_plain(markup)


def _html_table(table: PrintedTable) -> str:
    def cells(row: Sequence[str], tag: str, style: str = "") -> str:
        out = []
        for value, align in zip(row, table.align, strict=True):
            side = "right" if align == "R" else "left"
            out.append(
                f'<{tag} style="text-align:{side};padding:3px 8px;'
                f'border-bottom:1px solid #ccc;{style}">{html.escape(value)}</{tag}>'
            )
        return "<tr>" + "".join(out) + "</tr>"

    rows = [cells(table.headers, "th", "background:#e8edf3")]
    for n, row in enumerate(table.rows):
        rows.append(cells(row, "td", "background:#fdf2d0" if n in table.marked else ""))
    rows.extend(cells(row, "td", "font-weight:bold") for row in table.footer)
    return (
        '<table style="border-collapse:collapse;font-size:13px;margin:8px 0">'
        + "".join(rows)
        + "</table>"
    )


def _text_table(table: PrintedTable) -> str:
    every = [table.headers, *table.rows, *table.footer]
    widths = [max(len(r[c]) for r in every) for c in range(len(table.headers))]

    def fmt(row: Sequence[str]) -> str:
        cells = [
            v.rjust(w) if a == "R" else v.ljust(w)
            for v, w, a in zip(row, widths, table.align, strict=True)
        ]
        return "  ".join(cells).rstrip()

    rule = "  ".join("-" * w for w in widths)
    lines = [fmt(table.headers), rule, *(fmt(r) for r in table.rows)]
    if table.footer:
        lines.append(rule)
        lines.extend(fmt(r) for r in table.footer)
    return "\n".join(lines)


# File names of documents, per language; French keeps the seed's names.
FILE_PREFIXES: Mapping[str, Mapping[str, str]] = {
    "fr": {
        "letter": "letter",
        "statement": "releve_compte",
        "interest_statement": "releve_interet_penalite",
        "email": "email",
    },
    "en": {
        "letter": "letter",
        "statement": "statement",
        "interest_statement": "interest_statement",
        "email": "email",
    },
    "es": {
        "letter": "carta",
        "statement": "extracto_cuenta",
        "interest_statement": "liquidacion_intereses",
        "email": "correo",
    },
    "de": {
        "letter": "Brief",
        "statement": "Kontoauszug",
        "interest_statement": "Zinsabrechnung",
        "email": "E-Mail",
    },
}


def document_filename(
    kind: str,
    reference: str,
    when: dt.datetime,
    extension: str = "pdf",
    *,
    language: str,
) -> str:
    """``statement_18981_2020-03-22_22-11-53.pdf``: kind, customer, time.

    Args:
        kind: a `DocumentKind` value ("letter", "statement"...).
        reference: the customer reference.
        when: the time to print, already in the user's time zone.
        extension: "pdf" or "eml".
        language: the document's language, which names the kind (French
            when not shipped, as the document's wording).
    """
    safe = "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in reference)
    prefixes = FILE_PREFIXES.get(language, FILE_PREFIXES["fr"])
    prefix = prefixes.get(kind, kind)
    return f"{prefix}_{safe}_{when.strftime('%Y-%m-%d_%H-%M-%S')}.{extension}"
