"""The claim a creditor declares in a collective proceeding, and its letter.

Interest stops at the judgment date (L622-28): each invoice's claim is its
principal still owed that day, the late-payment interest accrued up to that
day and the flat recovery indemnity (Code de commerce L441-10). The letter
to the mandataire judiciaire is rendered from the shipped French template
``CLAIM_DECLARATION`` and laid out like every other letter (`engine.pdf`).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING

from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.interest import LateDebt, LatePaymentLaw, debt_claim
from o2c_desktop.engine.letters import (
    Letterhead,
    PrintedLetter,
    PrintedTable,
    Sheet,
    format_date,
    format_money,
    legal_mentions,
    long_date,
)

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Sequence

TEMPLATE_CODE = "CLAIM_DECLARATION"
LANGUAGE = "fr"  # a declaration is made in French, whatever the debtor speaks
ZERO = Decimal("0.00")
# "l'ouverture d'..." in the letter, per `engine.risk.Procedure` value.
_OPENING = {
    "procédure de sauvegarde": "une procédure de sauvegarde",
    "redressement judiciaire": "une procédure de redressement judiciaire",
    "liquidation judiciaire": "une procédure de liquidation judiciaire",
}


@dataclass(frozen=True)
class DeclaredLine:
    """One invoice of the declaration, valued at the judgment date."""

    number: str
    issue_date: dt.date
    due_date: dt.date
    currency: str
    principal: Decimal
    interest: Decimal
    indemnity: Decimal

    @property
    def total(self) -> Decimal:
        """Principal, interest and indemnity."""
        return self.principal + self.interest + self.indemnity


@dataclass(frozen=True)
class Declaration:
    """The claim to declare: lines per invoice, valued at `judgment_date`."""

    judgment_date: dt.date
    currency: str
    lines: tuple[DeclaredLine, ...]

    @property
    def principal(self) -> Decimal:
        """Principal owed on the judgment date."""
        return sum((x.principal for x in self.lines), ZERO)

    @property
    def interest(self) -> Decimal:
        """Interest accrued up to the judgment date."""
        return sum((x.interest for x in self.lines), ZERO)

    @property
    def indemnities(self) -> Decimal:
        """Flat recovery indemnities of the invoices late on that day."""
        return sum((x.indemnity for x in self.lines), ZERO)

    @property
    def total(self) -> Decimal:
        """What is declared."""
        return self.principal + self.interest + self.indemnities


@dataclass(frozen=True)
class InvoiceOwed:
    """An invoice owed by the debtor, with what was paid and when."""

    number: str
    issue_date: dt.date
    due_date: dt.date
    amount: Decimal
    currency: str
    payments: tuple[tuple[dt.date, Decimal], ...] = ()


def declaration(
    invoices: Iterable[InvoiceOwed],
    judgment_date: dt.date,
    law: LatePaymentLaw,
    currency: str,
    contractual_rate: Decimal | None = None,
) -> Declaration:
    """Value each invoice's claim at the judgment date (interest stops there).

    An invoice not yet due on that day is declared for its principal only
    (a claim "à échoir"); payments after the judgment are not counted.
    """
    lines: list[DeclaredLine] = []
    for inv in sorted(invoices, key=lambda i: (i.due_date, i.number)):
        paid = tuple((d, a) for d, a in inv.payments if d <= judgment_date)
        principal = inv.amount - sum((a for _d, a in paid), ZERO)
        if principal <= 0:
            continue
        claim = debt_claim(
            LateDebt(inv.number, inv.due_date, inv.amount, inv.currency, paid),
            judgment_date,
            law,
            contractual_rate,
        )
        lines.append(
            DeclaredLine(
                number=inv.number,
                issue_date=inv.issue_date,
                due_date=inv.due_date,
                currency=inv.currency,
                principal=principal,
                interest=claim.interest if claim else ZERO,
                indemnity=claim.indemnity if claim else ZERO,
            )
        )
    return Declaration(judgment_date, currency, tuple(lines))


@dataclass(frozen=True)
class DeclarationLetter:
    """What the declaration letter names besides the claim."""

    entity: Letterhead
    debtor_name: str
    debtor_siren: str
    debtor_reference: str
    procedure: str
    judgment_date: dt.date
    published_on: dt.date
    tribunal: str
    notice: str
    mandatary: str
    signature: tuple[str, ...]
    today: dt.date


@cache
def claim_template() -> tpl.TemplateText:
    """The shipped French claim-declaration letter."""
    source = files("o2c_desktop.resources") / "templates" / LANGUAGE
    text = (source / f"{TEMPLATE_CODE}.txt").read_text("utf-8")
    return tpl.parse_template_file(text, TEMPLATE_CODE, LANGUAGE)[0]


def declaration_letter(
    claim: Declaration, letter: DeclarationLetter, law: LatePaymentLaw
) -> PrintedLetter:
    """Render the claim-declaration letter for `engine.pdf.letter_pdf`.

    Raises:
        TemplateError: the template cannot be rendered.
    """

    def money(value: Decimal) -> str:
        return format_money(value, claim.currency, LANGUAGE)

    def day(value: dt.date) -> str:
        return long_date(value, LANGUAGE)

    fields = {
        "debtor": {"name": letter.debtor_name, "siren": letter.debtor_siren},
        "proceeding": {
            "name": letter.procedure,
            "opening": _OPENING.get(letter.procedure, letter.procedure),
            "judgment_date": day(letter.judgment_date),
            "published_on": day(letter.published_on),
            "tribunal": letter.tribunal or "tribunal",
            "notice": letter.notice,
        },
        "entity": {"name": letter.entity.name},
        "claim": {
            "total": money(claim.total),
            "principal": money(claim.principal),
            "interest": money(claim.interest),
            "indemnities": money(claim.indemnities),
        },
        "law": {"name": law.name},
    }
    rendered = tpl.render(claim_template(), fields)
    recipient = [letter.mandatary or "Le mandataire judiciaire"]
    recipient.append("Mandataire judiciaire")
    if letter.tribunal:
        recipient.append(letter.tribunal)
    sheet = Sheet(
        language=LANGUAGE,
        entity=letter.entity,
        recipient=tuple(recipient),
        place_date=(
            f"{letter.entity.city}, le {day(letter.today)}"
            if letter.entity.city
            else day(letter.today)
        ),
        references=(
            f"Débiteur : {letter.debtor_name} (SIREN {letter.debtor_siren})",
            f"Notre compte client : {letter.debtor_reference}",
            f"BODACC : {letter.notice}",
        ),
        footer=legal_mentions(letter.entity, LANGUAGE),
        page_label="Page {page} / {pages}",
        title=rendered.subject,
    )
    return PrintedLetter(
        sheet=sheet,
        subject=rendered.subject,
        paragraphs=tuple(p.replace("\n", "<br/>") for p in rendered.paragraphs),
        table=declaration_table(claim),
        signature=letter.signature,
        registered=True,  # sent by registered letter with acknowledgement
    )


def declaration_table(claim: Declaration) -> PrintedTable:
    """Invoices with principal, interest to the judgment date, indemnity, total."""

    def money(value: Decimal) -> str:
        return format_money(value, claim.currency, LANGUAGE)

    rows: Sequence[tuple[str, ...]] = tuple(
        (
            x.number,
            format_date(x.issue_date, LANGUAGE),
            format_date(x.due_date, LANGUAGE),
            money(x.principal),
            money(x.interest),
            money(x.indemnity),
            money(x.total),
        )
        for x in claim.lines
    )
    until = format_date(claim.judgment_date, LANGUAGE)
    return PrintedTable(
        headers=(
            "Facture",
            "Date",
            "Échéance",
            "Principal",
            f"Intérêts au {until}",
            "Indemnité",
            "Total",
        ),
        rows=tuple(rows),
        widths=(24, 18, 18, 24, 26, 20, 24),
        align=("L", "L", "L", "R", "R", "R", "R"),
        footer=(
            (
                "Total",
                "",
                "",
                money(claim.principal),
                money(claim.interest),
                money(claim.indemnities),
                money(claim.total),
            ),
        ),
    )
