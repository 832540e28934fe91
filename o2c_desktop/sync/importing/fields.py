"""What an aged-balance column can mean: target fields, header synonyms, layouts.

Headers are compared after `normalize()`: lower case, no accents, punctuation
folded to single spaces, so "Date d'échéance" and "DATE D ECHEANCE" meet.
The catalogue of known ERP layouts mirrors ``shared/data/import-layouts.json``.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from enum import StrEnum

from o2c_desktop.engine.types import ItemKind


class Field(StrEnum):
    """A normalized column of an imported item."""

    CUSTOMER_REF = "customer_ref"
    CUSTOMER_NAME = "customer_name"
    NUMBER = "number"
    INSTALMENT = "instalment"
    KIND = "kind"
    REFERENCE = "reference"
    ISSUE_DATE = "issue_date"
    DUE_DATE = "due_date"
    AMOUNT = "amount"
    REMAINING = "remaining"
    DEBIT = "debit"
    CREDIT = "credit"
    DEBIT_CREDIT = "debit_credit"  # SAP S/H indicator
    CURRENCY = "currency"
    ACCOUNT = "account"  # general-ledger account (FEC)
    JOURNAL = "journal"
    LETTERING = "lettering"  # FEC EcritureLet: matched entries are closed
    LETTERING_DATE = "lettering_date"
    ENTITY = "entity"  # our own export: the entity's code
    SETTLED_DATE = "settled_date"  # paid history: the row is a settled item
    PAID_AMOUNT = "paid_amount"
    DISPUTED = "disputed"  # paid history: the item was disputed
    IGNORE = "ignore"


AMOUNT_FIELDS = frozenset(
    {Field.AMOUNT, Field.REMAINING, Field.DEBIT, Field.CREDIT, Field.PAID_AMOUNT}
)
DATE_FIELDS = frozenset(
    {Field.ISSUE_DATE, Field.DUE_DATE, Field.LETTERING_DATE, Field.SETTLED_DATE}
)

_SPACES = re.compile(r"[^0-9a-z#<>]+")
# camelCase and PascalCase word breaks: "invoiceNo", "CompAuxNum", "clientID".
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")


def normalize(header: object) -> str:
    """Fold a header: "N° pièce" -> "no piece", "dueDate" -> "due date"."""
    if header is None:
        return ""
    text = unicodedata.normalize("NFKD", _CAMEL.sub(" ", str(header)))
    ascii_text = text.encode("ascii", "ignore")
    folded = _SPACES.sub(" ", ascii_text.decode("ascii").lower()).strip()
    # "N° facture" loses its degree sign: read the lone "n" as "no".
    if folded == "n" or folded.startswith("n "):
        folded = "no" + folded[1:]
    return folded


def _n(*headers: str) -> frozenset[str]:
    return frozenset(normalize(h) for h in headers)


# Generic synonyms in French, English, Spanish and German (#3).
SYNONYMS: dict[Field, frozenset[str]] = {
    Field.CUSTOMER_REF: _n(
        "Code client",
        "Compte client",
        "N° client",
        "Numéro client",
        "Réf client",
        "Référence client",
        "Code tiers",
        "Compte tiers",
        "N° compte tiers",
        "Tiers",
        "Customer ID",
        "Customer number",
        "Customer no",
        "Customer code",
        "Customer account",
        "Customer reference",
        "Account number",
        "Debtor",
        "Debtor number",
        "Contact account number",
        "Kundennummer",
        "Kunden-Nr",
        "Kundennr",
        "Debitor",
        "Debitorennummer",
        "Código cliente",
        "Cod cliente",
        "Número de cliente",
        "N° de cliente",
        "CompAuxNum",
    ),
    Field.CUSTOMER_NAME: _n(
        "Nom client",
        "Nom du client",
        "Raison sociale",
        "Client",
        "Nom",
        "Intitulé",
        "Intitulé client",
        "Customer name",
        "Customer",
        "Name",
        "Customer full name",
        "Partner",
        "Partenaire",
        "Contact",
        "Contact name",
        "Kunde",
        "Kundenname",
        "Name 1",
        "Nombre cliente",
        "Nombre del cliente",
        "Cliente",
        "Razón social",
        "CompAuxLib",
    ),
    Field.NUMBER: _n(
        "N° facture",
        "Numéro facture",
        "Numéro de facture",
        "Num facture",
        "Facture",
        "N° pièce",
        "Numéro de pièce",
        "Pièce",
        "Référence pièce",
        "Invoice",
        "Invoice number",
        "Invoice no",
        "Invoice #",
        "Num",
        "Number",
        "Document number",
        "Document no",
        "Doc no",
        "Entry",
        "Item number",
        "Belegnummer",
        "Beleg",
        "Rechnungsnummer",
        "Rechnungs-Nr",
        "Rechnung",
        "Número de factura",
        "N° factura",
        "Factura",
        "Documento",
        "PieceRef",
    ),
    Field.INSTALMENT: _n(
        "Échéance n°",
        "N° échéance",
        "Instalment",
        "Installment",
        "Line item",
        "Teilzahlung",
        "Plazo",
    ),
    Field.KIND: _n(
        "Type",
        "Type de pièce",
        "Type pièce",
        "Nature",
        "Type de document",
        "Transaction type",
        "Document type",
        "Doc type",
        "Kind",
        "Belegart",
        "Tipo",
        "Tipo de documento",
    ),
    Field.REFERENCE: _n(
        "Référence",
        "Réf",
        "Libellé",
        "Réf - Libellé",
        "Invoice reference",
        "Reference",
        "Ref",
        "Ref - Label",
        "Assignment",
        "Zuordnung",
        "Referenz",
        "Your reference",
        "P. O. #",
        "PO number",
        "N° commande",
        "Commande",
        "Referencia",
    ),
    Field.ISSUE_DATE: _n(
        "Date facture",
        "Date de facture",
        "Date pièce",
        "Date de pièce",
        "Date de la pièce",
        "Date document",
        "Date d'émission",
        "Date émission",
        "Date",
        "Invoice date",
        "Document date",
        "Issue date",
        "Transaction date",
        "Belegdatum",
        "Rechnungsdatum",
        "Fecha",
        "Fecha factura",
        "Fecha de factura",
        "Fecha de emisión",
        "PieceDate",
    ),
    Field.DUE_DATE: _n(
        "Date d'échéance",
        "Date échéance",
        "Échéance",
        "Échéance nette",
        "Date d'échéance nette",
        "Due date",
        "Due",
        "Net due date",
        "Date due",
        "Payment due",
        "Fälligkeit",
        "Fälligkeitsdatum",
        "Nettofälligkeit",
        "Fällig am",
        "Fecha de vencimiento",
        "Fecha vencimiento",
        "Vencimiento",
    ),
    Field.AMOUNT: _n(
        "Montant",
        "Montant TTC",
        "Montant facture",
        "Montant initial",
        "Montant d'origine",
        "Amount",
        "Invoice amount",
        "Original amount",
        "Total amount",
        "Gross amount",
        "Betrag",
        "Rechnungsbetrag",
        "Bruttobetrag",
        "Importe",
        "Importe total",
        "Importe factura",
    ),
    Field.REMAINING: _n(
        "Reste dû",
        "Reste à payer",
        "Restant dû",
        "Solde",
        "Solde dû",
        "Montant restant",
        "Montant dû",
        "Montant ouvert",
        "Résiduel",
        "Encours",
        "Residual",
        "Open balance",
        "Balance",
        "Balance due",
        "Amount due",
        "Outstanding",
        "Open amount",
        "Remaining",
        "Remaining amount",
        "Offener Betrag",
        "Offen",
        "Restbetrag",
        "Saldo",
        "Saldo pendiente",
        "Importe pendiente",
        "Pendiente",
    ),
    Field.DEBIT: _n("Débit", "Debit", "Soll", "Debe"),
    Field.CREDIT: _n("Crédit", "Credit", "Haben", "Haber"),
    Field.DEBIT_CREDIT: _n("Debit/Credit ind", "Soll/Haben-Kennz.", "Sens"),
    Field.CURRENCY: _n(
        "Devise",
        "Monnaie",
        "Currency",
        "Cur",
        "Ccy",
        "Währung",
        "Moneda",
        "Divisa",
        "Document currency",
        "Devise pièce",
        "Idevise",
    ),
    Field.ACCOUNT: _n("Compte général", "G/L Account", "Sachkonto", "CompteNum"),
    Field.SETTLED_DATE: _n(
        "Settled date",
        "Settlement date",
        "Clearing date",
        "Ausgleichsdatum",
        "Date de compensation",
        "Date settled",
        "Cleared on",
        "Paid date",
        "Date paid",
        "Paid on",
        "Payment date",
        "Date de règlement",
        "Date règlement",
        "Date de paiement",
        "Date de lettrage",
        "Date lettrage",
        "Zahlungsdatum",
        "Fecha de pago",
        "Fecha de cobro",
        "AUGDT",
    ),
    Field.PAID_AMOUNT: _n(
        "Paid amount",
        "Amount paid",
        "Paid",
        "Payment amount",
        "Montant réglé",
        "Montant payé",
        "Réglé",
        "Bezahlt",
        "Importe pagado",
        "Importe cobrado",
    ),
    Field.DISPUTED: _n(
        "Disputed", "Dispute", "In dispute", "Litige", "En litige", "Strittig"
    ),
    Field.JOURNAL: _n("Journal", "Code journal", "JournalCode"),
    Field.LETTERING: _n("Lettrage", "Code lettrage", "Lettering", "EcritureLet"),
}

# Headers recognised as known but not imported (ageing buckets, days late...),
# so they never turn into a question.
KNOWN_IGNORED = _n(
    "Current",
    "Courant",
    "Actuel",
    "Older",
    "Plus ancien",
    "Non échu",
    "Échu",
    "Past due",
    "Past Due",
    "Aging",
    "Days late",
    "Jours de retard",
    "Retard",
    "1 - 30",
    "31 - 60",
    "61 - 90",
    "91 - 120",
    "91 and over",
    "Total",
    "< 1 Month",
    "1 Month",
    "2 Months",
    "3 Months",
    "Expected Date",
    "Outstanding Tax",
    "Invoice Seen",
    "Invoice Sent",
    "Primary Person",
    "Phone",
    "Email",
    "Mobile",
    "Contact Group",
    "Terms",
    "Class",
    "Exp. Date",
    "Arrears after net due date",
    "Posting Key",
    "Profit Center",
    "Text",
    "Texte",
    "Billing Document",
    "Terms of Payment",
    "Clearing Document",
    "Account",
    "Compte",
    "Buchungsschlüssel",
    "Referenzschlüssel 3",
    "Buchungsperiode",
    "Konto Gegenbuchung",
    "Steuerkennzeichen",
    "Belegkopftext",
    "Période comptable",
    "Exercice comptable",
    "Clé comptabilisation",
    "Code TVA",
    "Fournisseur",
    "Icône Postes rappr./PNS",
    "Age ≤ 30 d.",
    "Age ≤ 60 d.",
    "Age ≤ 90 d.",
    "Age ≤ 120 d.",
    "Éch. ≤ 30 j.",
    "Éch. ≤ 60 j.",
    "Éch. ≤ 90 j.",
    "Éch. ≤ 120 j.",
    "≤ 30 j.",
    "JournalLib",
    "EcritureNum",
    "EcritureDate",
    "CompteLib",
    "EcritureLib",
    "ValidDate",
    "Montantdevise",
    "Retard après échéance nette",
    "N° pièce compensation",
)


@dataclass(frozen=True)
class Layout:
    """A known ERP export: its headers, what they mean and how to read values.

    Attributes:
        name: key shown to the user, e.g. "sap_fbl5n_de".
        label: human name, e.g. "SAP FBL5N (German)".
        signature: normalized headers that must all be present.
        columns: normalized header -> field; other catalogued headers ignored.
        day_first: date order for ambiguous dates (None: decide from values).
        group_rows: the customer is a heading row above its items (Xero).
        fec: French FEC ledger: keep open 411 lines, no due date.
        summary: a per-customer summary, not importable as items.
    """

    name: str
    label: str
    signature: frozenset[str]
    columns: dict[str, Field]
    day_first: bool | None = True
    group_rows: bool = False
    fec: bool = False
    summary: bool = False
    ignored: frozenset[str] = field(default_factory=frozenset)


def _layout(
    name: str,
    label: str,
    columns: dict[str, Field],
    signature: tuple[str, ...],
    **options: bool | None,
) -> Layout:
    return Layout(
        name=name,
        label=label,
        signature=_n(*signature),
        columns={normalize(k): v for k, v in columns.items()},
        **options,  # type: ignore[arg-type]  # Layout's keyword options
    )


F = Field
# Our own export: Item list -> xlsx (services.importing.export_items).
OWN_HEADERS: tuple[tuple[str, Field], ...] = (
    ("Customer reference", F.CUSTOMER_REF),
    ("Customer name", F.CUSTOMER_NAME),
    ("Item number", F.NUMBER),
    ("Instalment", F.INSTALMENT),
    ("Kind", F.KIND),
    ("Reference", F.REFERENCE),
    ("Issue date", F.ISSUE_DATE),
    ("Due date", F.DUE_DATE),
    ("Amount", F.AMOUNT),
    ("Remaining", F.REMAINING),
    ("Currency", F.CURRENCY),
    ("Entity", F.ENTITY),
)

_ODOO_EN = {
    "Date": F.ISSUE_DATE,
    "Entry": F.NUMBER,
    "Journal": F.JOURNAL,
    "Account": F.IGNORE,
    "Partner": F.CUSTOMER_NAME,
    "Ref - Label": F.REFERENCE,
    "Due date": F.DUE_DATE,
    "Residual": F.REMAINING,
}
_ODOO_FR = {
    "Date": F.ISSUE_DATE,
    "Pièce": F.NUMBER,
    "Journal": F.JOURNAL,
    "Compte": F.IGNORE,
    "Partenaire": F.CUSTOMER_NAME,
    "Réf - Libellé": F.REFERENCE,
    "Date d'échéance": F.DUE_DATE,
    "Résiduel": F.REMAINING,
}
_QBO = {
    "Date": F.ISSUE_DATE,
    "Transaction Type": F.KIND,
    "Num": F.NUMBER,
    "Customer": F.CUSTOMER_NAME,
    "Customer full name": F.CUSTOMER_NAME,
    "Due Date": F.DUE_DATE,
    "Amount": F.AMOUNT,
    "Open Balance": F.REMAINING,
}
_SAP_EN = {
    "Account": F.CUSTOMER_REF,
    "Customer": F.CUSTOMER_REF,
    "Assignment": F.REFERENCE,
    "Document Number": F.NUMBER,
    "Document Type": F.KIND,
    "Document Date": F.ISSUE_DATE,
    "Net due date": F.DUE_DATE,
    "Amount in doc. curr.": F.REMAINING,
    "Document currency": F.CURRENCY,
    "Debit/Credit ind": F.DEBIT_CREDIT,
    "Reference": F.IGNORE,
    "Invoice reference": F.IGNORE,
    "G/L Account": F.IGNORE,
    "Clearing date": F.SETTLED_DATE,
}
_SAP_DE = {
    "Konto": F.CUSTOMER_REF,
    "Belegart": F.KIND,
    "Referenz": F.IGNORE,
    "Zuordnung": F.REFERENCE,
    "Belegdatum": F.ISSUE_DATE,
    "Nettofälligkeit": F.DUE_DATE,
    "Soll/Haben-Kennz.": F.DEBIT_CREDIT,
    "Belegnummer": F.NUMBER,
    "Betrag in Hauswährung": F.REMAINING,
    "Hauswährung": F.CURRENCY,
    "Ausgleichsdatum": F.SETTLED_DATE,
}
_SAP_FR = {
    "Client": F.CUSTOMER_REF,
    "Compte": F.IGNORE,
    "Nº pièce": F.NUMBER,
    "Type de pièce": F.KIND,
    "Date de la pièce": F.ISSUE_DATE,
    "Montant en devise interne": F.REMAINING,
    "Devise interne": F.CURRENCY,
    "Affectation": F.REFERENCE,
    "Échéance nette": F.DUE_DATE,
    "Date d'échéance nette": F.DUE_DATE,
    "Montant en devise pièce": F.IGNORE,
    "Devise pièce": F.IGNORE,
    "Texte": F.IGNORE,
    "Date de compensation": F.SETTLED_DATE,
}

LAYOUTS: tuple[Layout, ...] = (
    _layout(
        "o2c",
        "O2C Desktop export",
        dict(OWN_HEADERS),
        ("Customer reference", "Item number", "Kind", "Remaining"),
        day_first=None,
    ),
    _layout(
        "fec_fr",
        "FEC (fichier des écritures comptables)",
        {
            "JournalCode": F.JOURNAL,
            "CompteNum": F.ACCOUNT,
            "CompAuxNum": F.CUSTOMER_REF,
            "CompAuxLib": F.CUSTOMER_NAME,
            "PieceRef": F.NUMBER,
            "PieceDate": F.ISSUE_DATE,
            "EcritureLib": F.REFERENCE,
            "Debit": F.DEBIT,
            "Credit": F.CREDIT,
            "EcritureLet": F.LETTERING,
            "DateLet": F.LETTERING_DATE,
            "Idevise": F.IGNORE,
        },
        (
            "JournalCode",
            "EcritureNum",
            "CompteNum",
            "CompAuxNum",
            "PieceRef",
            "Debit",
            "Credit",
            "EcritureLet",
        ),
        fec=True,
    ),
    _layout(
        "odoo_oca_detail_en",
        "Odoo aged partner balance (detailed, English)",
        _ODOO_EN,
        ("Entry", "Partner", "Due date", "Residual"),
    ),
    _layout(
        "odoo_oca_detail_fr",
        "Odoo balance âgée des partenaires (détaillée)",
        _ODOO_FR,
        ("Pièce", "Partenaire", "Date d'échéance", "Résiduel"),
    ),
    _layout(
        "odoo_oca_summary_en",
        "Odoo aged partner balance (summary)",
        {"Partner": F.CUSTOMER_NAME, "Residual": F.REMAINING},
        ("Partner", "Residual", "Older"),
        summary=True,
    ),
    _layout(
        "odoo_oca_summary_fr",
        "Odoo balance âgée des partenaires (résumé)",
        {"Partenaire": F.CUSTOMER_NAME, "Résiduel": F.REMAINING},
        ("Partenaire", "Résiduel", "Plus ancien"),
        summary=True,
    ),
    _layout(
        "quickbooks_online_ar_aging_detail",
        "QuickBooks Online A/R Aging Detail",
        _QBO,
        ("Transaction Type", "Num", "Open Balance", "Due Date"),
        day_first=False,
    ),
    _layout(
        "quickbooks_desktop_ar_aging_detail",
        "QuickBooks Desktop A/R Aging Detail",
        {
            "Type": F.KIND,
            "Date": F.ISSUE_DATE,
            "Num": F.NUMBER,
            "P. O. #": F.REFERENCE,
            "Name": F.CUSTOMER_NAME,
            "Due Date": F.DUE_DATE,
            "Open Balance": F.REMAINING,
        },
        ("Type", "Num", "Name", "Open Balance"),
        day_first=False,
    ),
    _layout(
        "xero_aged_receivables_detail",
        "Xero Aged Receivables Detail",
        {
            "Contact Account Number": F.CUSTOMER_REF,
            "Invoice Date": F.ISSUE_DATE,
            "Due Date": F.DUE_DATE,
            "Invoice Number": F.NUMBER,
            "Invoice Reference": F.REFERENCE,
            "Total": F.REMAINING,
        },
        ("Invoice Date", "Invoice Number", "Due Date", "Total"),
        group_rows=True,
    ),
    _layout(
        "sap_fbl5n_en",
        "SAP FBL5N (English)",
        _SAP_EN,
        ("Document Number", "Net due date", "Amount in doc. curr."),
    ),
    _layout(
        "sap_fbl5n_de",
        "SAP FBL5N (Deutsch)",
        _SAP_DE,
        ("Belegnummer", "Konto", "Betrag in Hauswährung"),
    ),
    _layout(
        "sap_fbl5n_fr",
        "SAP FBL5N (français)",
        _SAP_FR,
        ("Nº pièce", "Client", "Montant en devise interne"),
    ),
)

REQUIRED_HELP = {
    Field.CUSTOMER_REF: "customer reference or name",
    Field.NUMBER: "item number",
    Field.REMAINING: "remaining amount (or amount, or debit and credit)",
    Field.DUE_DATE: "issue date or due date",
    Field.SETTLED_DATE: "settlement date (a paid-history import needs one)",
}

# Values of a "type" column -> item kind (normalized text).
KIND_VALUES: dict[str, ItemKind] = {
    **dict.fromkeys(
        _n(
            "invoice",
            "facture",
            "fac",
            "fa",
            "rechnung",
            "factura",
            "rv",
            "dr",
            "inv",
            "out invoice",
            "customer invoice",
            "sales invoice",
            "ar invoice",
            "invoice item",
            "bill",
        ),
        ItemKind.INVOICE,
    ),
    **dict.fromkeys(
        _n(
            "credit memo",
            "credit note",
            "credit",
            "avoir",
            "gutschrift",
            "nota de credito",
            "nota de crédito",
            "abono",
            "dg",
            "cn",
            "out refund",
            "refund",
        ),
        ItemKind.CREDIT_NOTE,
    ),
    **dict.fromkeys(
        _n(
            "payment",
            "paiement",
            "règlement",
            "reglement",
            "encaissement",
            "zahlung",
            "pago",
            "cobro",
            "dz",
            "receive payment",
            "customer payment",
            "unapplied cash",
            "unapplied payment",
            "acompte",
            "avance",
        ),
        ItemKind.UNAPPLIED_CASH,
    ),
    **dict.fromkeys(
        _n(
            "adjustment",
            "ajustement",
            "journal entry",
            "od",
            "operation diverse",
            "ab",
            "ajuste",
        ),
        ItemKind.ADJUSTMENT,
    ),
    **{normalize(k.value): k for k in ItemKind},
}
