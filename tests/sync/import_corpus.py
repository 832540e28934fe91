"""A corpus of open-item exports, written at test time as the ERPs write them (#17).

Each `Spec` is one layout: its headers (read from the catalogue copied from
``shared/data/import-layouts.json`` where it is catalogued), the field each
column must map to, and how the ERP writes values (dates, amounts,
identifiers). `build()` writes a real .xlsx (openpyxl) or .csv with rows drawn
from one seeded book, so the expected mapping and row count are known.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import random
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from openpyxl import Workbook

from o2c_desktop.sync.importing.fields import Field

CATALOGUE = json.loads(
    (Path(__file__).parent / "data" / "import-layouts.json").read_text("utf-8")
)
AS_OF = dt.date(2026, 3, 31)
F = Field
# A lone amount column reads the same as amount or as remaining.
LONE_AMOUNT = frozenset({F.AMOUNT, F.REMAINING})


@dataclass(frozen=True)
class Col:
    """One column: header, the field it must map to, the values it holds."""

    header: str | None
    want: Field | frozenset[Field]
    kind: str  # see `_value`

    def accepts(self, got: Field) -> bool:
        want = self.want
        return got in want if isinstance(want, frozenset) else got is want


@dataclass(frozen=True)
class Spec:
    """How one ERP writes its export.

    Attributes:
        dates: "date" (date cells; ISO in CSV) or a strftime format.
        amounts: "float", "noise" (float with binary noise), "fr", "de",
            "us", "sap" (trailing minus).
        ids: "text", "float" (identifiers read by pandas as floats).
        paid: share of rows settled (paid history); 0 for open items only.
        asks: headers the mapper must ask about (truly ambiguous).
    """

    name: str
    columns: tuple[Col, ...]
    dates: str = "date"
    amounts: str = "float"
    ids: str = "text"
    suffix: str = ".xlsx"
    sep: str = ";"
    paid: float = 0.0
    group_rows: bool = False
    asks: frozenset[str] = field(default_factory=frozenset)


@dataclass
class Built:
    """A written corpus file and what the import must find in it."""

    spec: Spec
    path: Path
    open_rows: int
    settled_rows: int


def _headers(key: str, list_name: str) -> list[str | None]:
    headers: list[str | None] = CATALOGUE[key][list_name]
    return headers


def _book(seed: int, rows: int) -> list[dict[str, Any]]:
    """Invoices of 9 customers: unique numbers, terms 30-60 days, EUR."""
    rnd = random.Random(seed)
    names = [
        "Dupont SA",
        "Martin & Fils",
        "Acme Industries GmbH",
        "Bolt Logistics Ltd",
        "Café des Arts",
        "Nordic Tools AB",
        "Zeta Construcciones SL",
        "Omega Retail",
        "Lumen Partners",
    ]
    out = []
    for i in range(rows):
        c = rnd.randrange(len(names))
        issue = dt.date(2025, 11, 1) + dt.timedelta(days=rnd.randrange(140))
        terms = rnd.choice([30, 45, 60])
        amount = rnd.randrange(5_000, 2_500_000)  # cents
        credit = rnd.random() < 0.08
        partly = rnd.random() < 0.3
        remaining = amount if not partly else amount - rnd.randrange(1, amount // 2)
        if credit:
            amount, remaining = -amount, -amount
        out.append(
            {
                "i": i,
                "c": c,
                "name": names[c],
                "seq": 23_000 + i * 7 + rnd.randrange(7),
                "issue": issue,
                "due": issue + dt.timedelta(days=terms),
                "posting": issue + dt.timedelta(days=rnd.randrange(3)),
                "amount": amount,
                "remaining": remaining,
                "credit": credit,
                "paid_on": None,
                "disputed": rnd.random() < 0.1,
                "po": f"PO-{rnd.randrange(10_000, 99_999)}",
            }
        )
    return out


def _money(cents: int, style: str) -> Any:
    units = cents / 100
    if style == "float" or (style == "noise" and not cents):
        return units
    if style == "noise":
        # A float a few ulps off the cent, as pandas writes it: 1520.1299999999999.
        for _ in range(1 + cents % 3):
            units = math.nextafter(units, math.inf if cents % 2 else -math.inf)
        return units
    sign, cents = ("-" if cents < 0 else ""), abs(cents)
    whole, frac = divmod(cents, 100)
    if style == "us":
        return f"{sign}{whole:,}.{frac:02d}"
    grouped = f"{whole:,}".replace(",", " " if style == "fr" else ".")
    if style == "sap":
        return f"{grouped},{frac:02d}{sign}"
    return f"{sign}{grouped},{frac:02d}"


def _value(col: Col, row: dict[str, Any], spec: Spec) -> Any:
    k, r = col.kind, row
    day = _day_writer(spec)
    if k == "index0":
        return r["i"]
    if k == "index1":
        return r["i"] + 1
    if k == "empty":
        return None
    if k == "line_item":
        return 1
    if k == "const":
        return "1000"
    if k == "cust_sap":
        code = 4_100_023_000 + r["c"] * 117
        return float(code) if spec.ids == "float" else str(code)
    if k == "cust_code":
        return f"C{r['c'] + 1:04d}"
    if k == "cust_zero":
        return f"00400{12_345 + r['c']:05d}"
    if k == "cust_411":
        return f"411{r['name'][:3].upper()}{r['c']:02d}"
    if k == "name":
        return r["name"]
    if k == "number_sap":
        value = 90_000_000 + r["seq"]
        return float(value) if spec.ids == "float" else str(value)
    if k == "number":
        return f"{'AV' if r['credit'] else 'FA'}2026-{r['seq']:06d}"
    if k == "number_inv":
        return f"INV-{r['seq']}"
    if k == "number_int":
        return str(r["seq"])
    if k == "entry_no":  # Dynamics' ledger entry number: counts rows
        return 5000 + r["i"]
    if k == "kind_en":
        return "Credit Memo" if r["credit"] else "Invoice"
    if k == "kind_fr":
        return "Avoir" if r["credit"] else "Facture"
    if k == "kind_sap":
        return "DG" if r["credit"] else "RV"
    if k == "kind_de":
        return "Gutschrift" if r["credit"] else "Rechnung"
    if k == "reference":
        return r["po"]
    if k == "text":
        return f"Order {r['po']} {r['name'][:5]}"
    if k in {"issue", "due", "posting"}:
        return day(r[k])
    if k == "baseline":
        return day(r["issue"])
    if k == "expected":
        return day(r["due"] + dt.timedelta(days=10))
    if k == "settled":
        return day(r["paid_on"]) if r["paid_on"] else None
    if k == "settled_doc":
        return f"14{r['seq']:08d}" if r["paid_on"] else None
    if k == "amount":
        return _money(r["amount"], spec.amounts)
    if k == "remaining":
        return _money(0 if r["paid_on"] else r["remaining"], spec.amounts)
    if k == "paid_amount":
        paid = r["amount"] if r["paid_on"] else r["amount"] - r["remaining"]
        return _money(paid, spec.amounts)
    if k == "debit":
        return _money(max(r["remaining"], 0), spec.amounts)
    if k == "credit":
        return _money(max(-r["remaining"], 0), spec.amounts)
    if k == "abs_remaining":
        return _money(abs(r["remaining"]), spec.amounts)
    if k == "dc":
        return "H" if r["credit"] else "S"
    if k == "currency":
        return "EUR"
    if k == "days_late":
        return (AS_OF - r["due"]).days
    if k == "bucket_current":
        late = (AS_OF - r["due"]).days
        return _money(r["remaining"] if late <= 0 else 0, spec.amounts)
    if k == "bucket_30":
        late = (AS_OF - r["due"]).days
        return _money(r["remaining"] if 0 < late <= 30 else 0, spec.amounts)
    if k == "bucket_older":
        late = (AS_OF - r["due"]).days
        return _money(r["remaining"] if late > 30 else 0, spec.amounts)
    if k == "account":
        return "411000"
    if k == "journal":
        return "VE"
    if k == "open_flag":
        return "Yes"
    if k == "disputed":
        return "Yes" if r["disputed"] else "No"
    if k == "status":
        return "paid" if r["paid_on"] else "open"
    if k == "fec_piece_date":
        return r["issue"].strftime("%Y%m%d")
    raise ValueError(k)


def _day_writer(spec: Spec) -> Any:
    def write(day: dt.date) -> Any:
        if spec.dates == "date":
            return day if spec.suffix == ".xlsx" else day.isoformat()
        return day.strftime(spec.dates)

    return write


def build(spec: Spec, folder: Path, rows: int = 60, seed: int = 17) -> Built:
    """Write the spec's file; say how many open and settled rows it holds."""
    book = _book(seed, rows)
    rnd = random.Random(seed + 1)
    settled = 0
    for r in book:
        if spec.paid and rnd.random() < spec.paid and not r["credit"]:
            r["paid_on"] = r["due"] + dt.timedelta(days=rnd.randrange(-20, 40))
            settled += 1
    grid: list[list[Any]] = [[c.header for c in spec.columns]]
    if spec.group_rows:
        for c in sorted({r["c"] for r in book}):
            grid.append([next(r["name"] for r in book if r["c"] == c)])
            grid.extend(
                [_value(col, r, spec) for col in spec.columns]
                for r in book
                if r["c"] == c
            )
    else:
        grid.extend([_value(col, r, spec) for col in spec.columns] for r in book)
    path = folder / f"{spec.name}{spec.suffix}"
    if spec.suffix == ".xlsx":
        wb = Workbook()
        sheet = wb.active
        assert sheet is not None
        for line in grid:
            sheet.append(line)
        wb.save(path)
    else:
        with path.open("w", encoding="utf-8", newline="") as fh:
            writer = csv.writer(fh, delimiter=spec.sep, lineterminator="\n")
            writer.writerows(
                ["" if v is None else str(v) for v in line] for line in grid
            )
    return Built(spec, path, rows - settled, settled)


def _from_catalogue(
    key: str,
    list_name: str,
    fields: dict[str | None, tuple[Field | frozenset[Field], str]],
) -> tuple[Col, ...]:
    """The catalogue's headers, each with the field and values the test gives it."""
    out = []
    for header in _headers(key, list_name):
        want, kind = fields.get(header, (F.IGNORE, "bucket_30"))
        out.append(Col(header, want, kind))
    return tuple(out)


_ODOO_FR_FIELDS: dict[str | None, tuple[Field | frozenset[Field], str]] = {
    "Date": (F.ISSUE_DATE, "issue"),
    "Pièce": (F.NUMBER, "number"),
    "Journal": (F.JOURNAL, "journal"),
    "Compte": (F.IGNORE, "account"),
    "Partenaire": (F.CUSTOMER_NAME, "name"),
    "Réf - Libellé": (F.REFERENCE, "reference"),
    "Date d'échéance": (F.DUE_DATE, "due"),
    "Résiduel": (F.REMAINING, "remaining"),
}
_SAP_EN_FIELDS: dict[str | None, tuple[Field | frozenset[Field], str]] = {
    "Account": (F.CUSTOMER_REF, "cust_sap"),
    "Assignment": (F.REFERENCE, "reference"),
    "Document Number": (F.NUMBER, "number_sap"),
    "Document Type": (F.KIND, "kind_sap"),
    "Document Date": (F.ISSUE_DATE, "issue"),
    "Posting Date": (F.IGNORE, "posting"),
    "Net due date": (F.DUE_DATE, "due"),
    "Arrears after net due date": (F.IGNORE, "days_late"),
    "Amount in doc. curr.": (F.REMAINING, "remaining"),
    "Document currency": (F.CURRENCY, "currency"),
    "Amount in local currency": (F.IGNORE, "remaining"),
    "Local Currency": (F.IGNORE, "currency"),
    "Billing Document": (F.IGNORE, "number_int"),
    "Terms of Payment": (F.IGNORE, "const"),
    "Invoice reference": (F.IGNORE, "empty"),
    "Payment date": (F.IGNORE, "empty"),
    "Debit/Credit ind": (F.DEBIT_CREDIT, "dc"),
    "Clearing Document": (F.IGNORE, "empty"),
    "Clearing date": (F.SETTLED_DATE, "empty"),
    "Text": (F.IGNORE, "text"),
    "Reference": (F.IGNORE, "reference"),
    "Posting Key": (F.IGNORE, "const"),
    "Profit Center": (F.IGNORE, "const"),
    "Customer": (F.IGNORE, "cust_sap"),
    "G/L Account": (F.IGNORE, "account"),
}


def catalogued() -> list[Spec]:
    """One spec per layout of the catalogue (both variants where it has two)."""
    odoo_en: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "Date": (F.ISSUE_DATE, "issue"),
        "Entry": (F.NUMBER, "number"),
        "Journal": (F.JOURNAL, "journal"),
        "Account": (F.IGNORE, "account"),
        "Partner": (F.CUSTOMER_NAME, "name"),
        "Ref - Label": (F.REFERENCE, "reference"),
        "Due date": (F.DUE_DATE, "due"),
        "Residual": (F.REMAINING, "remaining"),
    }
    qbo: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "": (F.IGNORE, "empty"),
        "Date": (F.ISSUE_DATE, "issue"),
        "Transaction Type": (F.KIND, "kind_en"),
        "Transaction type": (F.KIND, "kind_en"),
        "Num": (F.NUMBER, "number_int"),
        "Customer": (F.CUSTOMER_NAME, "name"),
        "Customer full name": (F.CUSTOMER_NAME, "name"),
        "Due Date": (F.DUE_DATE, "due"),
        "Due date": (F.DUE_DATE, "due"),
        "Past Due": (F.IGNORE, "days_late"),
        "Past due": (F.IGNORE, "days_late"),
        "Amount": (F.AMOUNT, "amount"),
        "Open Balance": (F.REMAINING, "remaining"),
        "Open balance": (F.REMAINING, "remaining"),
    }
    xero: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "Contact Account Number": (F.CUSTOMER_REF, "cust_code"),
        "Primary Person": (F.IGNORE, "name"),
        "Phone": (F.IGNORE, "const"),
        "Email": (F.IGNORE, "empty"),
        "Mobile": (F.IGNORE, "empty"),
        "Contact Group": (F.IGNORE, "empty"),
        "Invoice Date": (F.ISSUE_DATE, "issue"),
        "Due Date": (F.DUE_DATE, "due"),
        "Expected Date": (F.IGNORE, "expected"),
        "Invoice Number": (F.NUMBER, "number_inv"),
        "Invoice Reference": (F.REFERENCE, "reference"),
        None: (F.IGNORE, "empty"),
        "Total": (F.REMAINING, "remaining"),
        "Outstanding Tax": (F.IGNORE, "bucket_30"),
        "<tracking category 1>": (F.IGNORE, "const"),
        "<tracking category 2>": (F.IGNORE, "empty"),
        "Invoice Seen": (F.IGNORE, "open_flag"),
        "Invoice Sent": (F.IGNORE, "open_flag"),
    }
    sap_de: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "Konto": (F.CUSTOMER_REF, "cust_sap"),
        "Buchungsschlüssel": (F.IGNORE, "const"),
        "Belegart": (F.KIND, "kind_sap"),
        "Referenzschlüssel 3": (F.IGNORE, "empty"),
        "Referenz": (F.IGNORE, "reference"),
        "Zuordnung": (F.REFERENCE, "reference"),
        "Buchungsperiode": (F.IGNORE, "const"),
        "Buchungsdatum": (F.IGNORE, "posting"),
        "Belegdatum": (F.ISSUE_DATE, "issue"),
        "Nettofälligkeit": (F.DUE_DATE, "due"),
        "Konto Gegenbuchung": (F.IGNORE, "account"),
        "Soll/Haben-Kennz.": (F.DEBIT_CREDIT, "dc"),
        "Steuerkennzeichen": (F.IGNORE, "const"),
        "Belegnummer": (F.NUMBER, "number_sap"),
        "Ausgleichsdatum": (F.SETTLED_DATE, "empty"),
        "Text": (F.IGNORE, "text"),
        "Belegkopftext": (F.IGNORE, "text"),
        "Betrag in Hauswährung": (F.REMAINING, "abs_remaining"),
        "Hauswährung": (F.CURRENCY, "currency"),
    }
    sap_fr: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "Icône Postes rappr./PNS": (F.IGNORE, "empty"),
        "Nº pièce": (F.NUMBER, "number_sap"),
        "Compte": (F.IGNORE, "account"),
        "Type de pièce": (F.KIND, "kind_sap"),
        "Date de la pièce": (F.ISSUE_DATE, "issue"),
        "Période comptable": (F.IGNORE, "const"),
        "Exercice comptable": (F.IGNORE, "const"),
        "Clé comptabilisation": (F.IGNORE, "const"),
        "Montant en devise interne": (F.REMAINING, "remaining"),
        "Devise interne": (F.CURRENCY, "currency"),
        "Code TVA": (F.IGNORE, "const"),
        "Texte": (F.IGNORE, "text"),
        "Client": (F.CUSTOMER_REF, "cust_sap"),
        "Fournisseur": (F.IGNORE, "empty"),
    }
    fec: dict[str | None, tuple[Field | frozenset[Field], str]] = {
        "JournalCode": (F.JOURNAL, "journal"),
        "JournalLib": (F.IGNORE, "const"),
        "EcritureNum": (F.IGNORE, "entry_no"),
        "EcritureDate": (F.IGNORE, "fec_piece_date"),
        "CompteNum": (F.ACCOUNT, "account"),
        "CompteLib": (F.IGNORE, "const"),
        "CompAuxNum": (F.CUSTOMER_REF, "cust_411"),
        "CompAuxLib": (F.CUSTOMER_NAME, "name"),
        "PieceRef": (F.NUMBER, "number"),
        "PieceDate": (F.ISSUE_DATE, "fec_piece_date"),
        "EcritureLib": (F.REFERENCE, "text"),
        "Debit": (F.DEBIT, "debit"),
        "Credit": (F.CREDIT, "credit"),
        "EcritureLet": (F.LETTERING, "empty"),
        "DateLet": (F.LETTERING_DATE, "empty"),
        "ValidDate": (F.IGNORE, "fec_piece_date"),
        "Montantdevise": (F.IGNORE, "empty"),
        "Idevise": (F.IGNORE, "empty"),
    }
    return [
        Spec(
            "fec_fr",
            _from_catalogue("fec_fr", "columns", fec),
            amounts="fr",
            suffix=".txt",
            sep="|",
        ),
        Spec(
            "odoo_oca_detail_en",
            _from_catalogue(
                "odoo_oca_aged_partner_balance_xlsx", "detail_columns_en", odoo_en
            ),
            dates="%d/%m/%Y",
        ),
        Spec(
            "odoo_oca_detail_fr",
            _from_catalogue(
                "odoo_oca_aged_partner_balance_xlsx",
                "detail_columns_fr",
                _ODOO_FR_FIELDS,
            ),
        ),
        Spec(
            "quickbooks_online",
            _from_catalogue("quickbooks_online_ar_aging_detail", "columns_en", qbo),
            dates="%m/%d/%Y",
            amounts="us",
            suffix=".csv",
            sep=",",
        ),
        Spec(
            "quickbooks_online_sentence_case",
            _from_catalogue(
                "quickbooks_online_ar_aging_detail", "newer_sentence_case_variant", qbo
            ),
            dates="%m/%d/%Y",
        ),
        Spec(
            "quickbooks_desktop",
            _from_catalogue(
                "quickbooks_desktop_ar_aging_detail",
                "columns_en",
                {
                    "Type": (F.KIND, "kind_en"),
                    "Date": (F.ISSUE_DATE, "issue"),
                    "Num": (F.NUMBER, "number_int"),
                    "P. O. #": (F.REFERENCE, "reference"),
                    "Name": (F.CUSTOMER_NAME, "name"),
                    "Terms": (F.IGNORE, "const"),
                    "Due Date": (F.DUE_DATE, "due"),
                    "Class": (F.IGNORE, "empty"),
                    "Aging": (F.IGNORE, "days_late"),
                    "Open Balance": (F.REMAINING, "remaining"),
                },
            ),
            dates="%m/%d/%Y",
        ),
        Spec(
            "xero_detail",
            _from_catalogue("xero_aged_receivables_detail_xlsx", "columns_en", xero),
            dates="%d %b %Y",
            group_rows=True,
        ),
        Spec(
            "xero_minimal",
            _from_catalogue(
                "xero_aged_receivables_detail_xlsx", "minimal_default_columns", xero
            ),
            group_rows=True,
        ),
        Spec(
            "sap_fbl5n_en",
            _from_catalogue("sap_fbl5n_en", "columns_seen", _SAP_EN_FIELDS),
            dates="%m/%d/%Y",
        ),
        Spec(
            "sap_fbl5n_de",
            _from_catalogue("sap_fbl5n_de", "columns_seen", sap_de),
            dates="%d.%m.%Y",
            amounts="de",
            suffix=".csv",
        ),
        Spec(
            "sap_fbl_fr",
            _from_catalogue("sap_fbl_fr", "columns_seen", sap_fr),
            dates="%d.%m.%Y",
            amounts="fr",
        ),
    ]


def _cols(*cols: tuple[str | None, Field | frozenset[Field], str]) -> tuple[Col, ...]:
    return tuple(Col(h, w, k) for h, w, k in cols)


def sap_like() -> Spec:
    """The export of issue 17: pandas wrote an SAP open-item list."""
    return Spec(
        "sap_snake_case",
        _cols(
            (None, F.IGNORE, "index0"),
            ("company_code", F.IGNORE, "const"),
            ("customer_number", F.CUSTOMER_REF, "cust_sap"),
            ("customer_name", F.CUSTOMER_NAME, "name"),
            ("document_number", F.NUMBER, "number_sap"),
            ("document_type", F.KIND, "kind_sap"),
            ("posting_date", F.ISSUE_DATE, "posting"),
            ("baseline_date", F.IGNORE, "baseline"),
            ("net_due_date", F.DUE_DATE, "due"),
            ("amount_in_local_currency", LONE_AMOUNT, "remaining"),
            ("local_currency", F.CURRENCY, "currency"),
            ("clearing_date", F.SETTLED_DATE, "empty"),
            ("assignment", F.REFERENCE, "reference"),
        ),
        dates="%Y-%m-%d",
        amounts="noise",
        ids="float",
    )


def new_layouts() -> list[Spec]:
    """Exports not in the catalogue, as their ERPs write them."""
    return [
        sap_like(),
        Spec(
            "sap_table_fields",
            _cols(
                ("BUKRS", F.IGNORE, "const"),
                ("KUNNR", F.CUSTOMER_REF, "cust_zero"),
                ("NAME1", F.CUSTOMER_NAME, "name"),
                ("BELNR", F.NUMBER, "number_sap"),
                ("BUZEI", F.INSTALMENT, "line_item"),
                ("XBLNR", F.REFERENCE, "reference"),
                ("BLDAT", F.ISSUE_DATE, "issue"),
                ("BUDAT", F.IGNORE, "posting"),
                ("ZFBDT", F.IGNORE, "baseline"),
                ("FAEDT", F.DUE_DATE, "due"),
                ("SHKZG", F.DEBIT_CREDIT, "dc"),
                ("DMBTR", F.REMAINING, "abs_remaining"),
                ("WAERS", F.CURRENCY, "currency"),
                ("AUGDT", F.SETTLED_DATE, "empty"),
                ("AUGBL", F.IGNORE, "empty"),
            ),
            dates="%d.%m.%Y",
            amounts="de",
            suffix=".csv",
        ),
        Spec(
            "dynamics_bc_ledger",
            _cols(
                ("Entry No.", F.IGNORE, "entry_no"),
                ("Posting Date", F.IGNORE, "posting"),
                ("Document Date", F.ISSUE_DATE, "issue"),
                ("Document Type", F.KIND, "kind_en"),
                ("Document No.", F.NUMBER, "number_inv"),
                ("Customer No.", F.CUSTOMER_REF, "cust_code"),
                ("Customer Name", F.CUSTOMER_NAME, "name"),
                ("Description", F.REFERENCE, "text"),
                ("Currency Code", F.CURRENCY, "currency"),
                ("Original Amount", F.AMOUNT, "amount"),
                ("Remaining Amount", F.REMAINING, "remaining"),
                ("Due Date", F.DUE_DATE, "due"),
                ("Open", F.IGNORE, "open_flag"),
            ),
        ),
        Spec(
            "netsuite_ar_aging",
            _cols(
                ("Customer", F.CUSTOMER_NAME, "name"),
                ("Type", F.KIND, "kind_en"),
                ("Date", F.ISSUE_DATE, "issue"),
                ("Document Number", F.NUMBER, "number_inv"),
                ("Due Date", F.DUE_DATE, "due"),
                ("Age", F.IGNORE, "days_late"),
                ("Amount (Foreign Currency)", F.AMOUNT, "amount"),
                ("Open Balance", F.REMAINING, "remaining"),
                ("Currency", F.CURRENCY, "currency"),
                ("Memo", F.REFERENCE, "text"),
            ),
            dates="%m/%d/%Y",
            amounts="us",
            suffix=".csv",
            sep=",",
        ),
        Spec(
            "camelcase_api",
            _cols(
                ("clientId", F.CUSTOMER_REF, "cust_code"),
                ("clientName", F.CUSTOMER_NAME, "name"),
                ("invoiceNo", F.NUMBER, "number_inv"),
                ("invoiceDate", F.ISSUE_DATE, "issue"),
                ("dueDate", F.DUE_DATE, "due"),
                ("totalAmount", F.AMOUNT, "amount"),
                ("openAmount", F.REMAINING, "remaining"),
                ("currencyCode", F.CURRENCY, "currency"),
                ("status", F.IGNORE, "status"),
            ),
            dates="%Y-%m-%d",
            suffix=".csv",
            sep=",",
        ),
        Spec(
            "pennylane_invoices",
            _cols(
                ("id", F.IGNORE, "entry_no"),
                ("invoice_number", F.NUMBER, "number"),
                ("customer_id", F.CUSTOMER_REF, "cust_code"),
                ("customer_name", F.CUSTOMER_NAME, "name"),
                ("date", F.ISSUE_DATE, "issue"),
                ("deadline", F.DUE_DATE, "due"),
                ("amount", F.AMOUNT, "amount"),
                ("remaining_amount_with_tax", F.REMAINING, "remaining"),
                ("currency", F.CURRENCY, "currency"),
                ("exchange_rate", F.IGNORE, "const"),
            ),
            dates="%Y-%m-%d",
            suffix=".csv",
            sep=",",
        ),
        Spec(
            "sage100_echeancier",
            _cols(
                ("N° compte tiers", F.CUSTOMER_REF, "cust_411"),
                ("Intitulé", F.CUSTOMER_NAME, "name"),
                ("N° pièce", F.NUMBER, "number"),
                ("Date pièce", F.ISSUE_DATE, "issue"),
                ("Date échéance", F.DUE_DATE, "due"),
                ("Libellé écriture", F.REFERENCE, "text"),
                ("Montant TTC", F.AMOUNT, "amount"),
                ("Reste à payer", F.REMAINING, "remaining"),
                ("Non échu", F.IGNORE, "bucket_current"),
                ("Échu", F.IGNORE, "bucket_older"),
            ),
            dates="%d/%m/%y",
            amounts="fr",
            suffix=".csv",
        ),
        Spec(
            "ebp_balance_agee",
            _cols(
                ("Code tiers", F.CUSTOMER_REF, "cust_code"),
                ("Nom", F.CUSTOMER_NAME, "name"),
                ("N° facture", F.NUMBER, "number"),
                ("Date", F.ISSUE_DATE, "issue"),
                ("Échéance", F.DUE_DATE, "due"),
                ("Montant TTC", F.AMOUNT, "amount"),
                ("Montant réglé", F.PAID_AMOUNT, "paid_amount"),
                ("Reste dû", F.REMAINING, "remaining"),
                ("Jours de retard", F.IGNORE, "days_late"),
            ),
            dates="%d/%m/%Y",
        ),
        Spec(
            "cegid_grand_livre",
            _cols(
                ("Auxiliaire", F.CUSTOMER_REF, "cust_411"),
                ("Libellé auxiliaire", F.CUSTOMER_NAME, "name"),
                ("Référence", F.NUMBER, "number"),
                ("Date comptable", F.ISSUE_DATE, "issue"),
                ("Date d'échéance", F.DUE_DATE, "due"),
                ("Débit", F.DEBIT, "debit"),
                ("Crédit", F.CREDIT, "credit"),
                ("Lettrage", F.LETTERING, "empty"),
            ),
            dates="%d/%m/%Y",
            amounts="fr",
            suffix=".csv",
            asks=frozenset({"Référence"}),  # the only number: is it the item's?
        ),
        Spec(
            "datev_op_liste",
            _cols(
                ("Konto", F.CUSTOMER_REF, "cust_code"),
                ("Kundenname", F.CUSTOMER_NAME, "name"),
                ("Rechnungsnummer", F.NUMBER, "number_int"),
                ("Belegdatum", F.ISSUE_DATE, "issue"),
                ("Fälligkeit", F.DUE_DATE, "due"),
                ("Belegart", F.KIND, "kind_de"),
                ("Rechnungsbetrag", F.AMOUNT, "amount"),
                ("Offener Betrag", F.REMAINING, "remaining"),
                ("Währung", F.CURRENCY, "currency"),
                ("Tage überfällig", F.IGNORE, "days_late"),
            ),
            dates="%d.%m.%Y",
            amounts="de",
            suffix=".csv",
        ),
        Spec(
            "spanish_cartera",
            _cols(
                ("Código cliente", F.CUSTOMER_REF, "cust_code"),
                ("Nombre cliente", F.CUSTOMER_NAME, "name"),
                ("Número de factura", F.NUMBER, "number"),
                ("Fecha factura", F.ISSUE_DATE, "issue"),
                ("Fecha vencimiento", F.DUE_DATE, "due"),
                ("Importe", F.AMOUNT, "amount"),
                ("Importe pendiente", F.REMAINING, "remaining"),
                ("Moneda", F.CURRENCY, "currency"),
            ),
            dates="%d/%m/%Y",
        ),
        Spec(
            "mixed_languages_pandas",
            _cols(
                ("Unnamed: 0", F.IGNORE, "index0"),
                ("Client code", F.CUSTOMER_REF, "cust_sap"),
                ("Nom client", F.CUSTOMER_NAME, "name"),
                ("Invoice No", F.NUMBER, "number_sap"),
                ("Date facture", F.ISSUE_DATE, "issue"),
                ("Due dt", F.DUE_DATE, "due"),
                ("Montant TTC", F.AMOUNT, "amount"),
                ("Balance", F.REMAINING, "remaining"),
                ("Devise", F.CURRENCY, "currency"),
                ("Notes", F.IGNORE, "empty"),
            ),
            dates="%Y-%m-%d",
            amounts="noise",
            ids="float",
            suffix=".csv",
            sep=",",
        ),
    ]


def paid_history() -> list[Spec]:
    """Files whose settled rows are paid history (#17 §5)."""
    return [
        Spec(
            "paid_invoices_en",
            _cols(
                ("Customer number", F.CUSTOMER_REF, "cust_code"),
                ("Customer name", F.CUSTOMER_NAME, "name"),
                ("Invoice number", F.NUMBER, "number_inv"),
                ("Invoice date", F.ISSUE_DATE, "issue"),
                ("Due date", F.DUE_DATE, "due"),
                ("Amount", F.AMOUNT, "amount"),
                ("Paid amount", F.PAID_AMOUNT, "paid_amount"),
                ("Settled date", F.SETTLED_DATE, "settled"),
                ("Disputed", F.DISPUTED, "disputed"),
            ),
            paid=1.0,
        ),
        Spec(
            "sap_open_and_cleared",
            _cols(
                (None, F.IGNORE, "index0"),
                ("customer_number", F.CUSTOMER_REF, "cust_sap"),
                ("customer_name", F.CUSTOMER_NAME, "name"),
                ("document_number", F.NUMBER, "number_sap"),
                ("doc_date", F.ISSUE_DATE, "issue"),
                ("net_due_date", F.DUE_DATE, "due"),
                ("amount_in_local_currency", F.AMOUNT, "amount"),
                ("open_amount", F.REMAINING, "remaining"),
                ("curr", F.CURRENCY, "currency"),
                ("clearing_date", F.SETTLED_DATE, "settled"),
                ("clearing_document", F.IGNORE, "settled_doc"),
            ),
            dates="%Y-%m-%d",
            amounts="noise",
            ids="float",
            suffix=".csv",
            sep=",",
            paid=0.5,
        ),
        Spec(
            "lettrage_fr",
            _cols(
                ("Code client", F.CUSTOMER_REF, "cust_code"),
                ("Nom client", F.CUSTOMER_NAME, "name"),
                ("N° facture", F.NUMBER, "number"),
                ("Date facture", F.ISSUE_DATE, "issue"),
                ("Date d'échéance", F.DUE_DATE, "due"),
                ("Montant TTC", F.AMOUNT, "amount"),
                ("Reste dû", F.REMAINING, "remaining"),
                ("Date de lettrage", F.SETTLED_DATE, "settled"),
            ),
            dates="%d/%m/%Y",
            amounts="fr",
            paid=0.4,
        ),
    ]


def corpus() -> list[Spec]:
    """Every spec: catalogued, new, paid history; each new one also as CSV/xlsx."""
    specs = [*catalogued(), *new_layouts()]
    twins = [
        Spec(
            f"{s.name}_as_{'csv' if s.suffix == '.xlsx' else 'xlsx'}",
            s.columns,
            dates=s.dates,
            amounts=s.amounts,
            ids=s.ids,
            suffix=".csv" if s.suffix == ".xlsx" else ".xlsx",
            sep=s.sep,
            paid=s.paid,
            group_rows=s.group_rows,
            asks=s.asks,
        )
        for s in new_layouts()[:1]
    ]
    return [*specs, *twins]


@dataclass
class Score:
    """How one corpus file was mapped."""

    name: str
    right: int
    total: int
    wrong: list[str]
    questions: list[str]
    rows: int
    errors: int
    expected_rows: int


def _position(letter: str) -> int:
    """0-based column of a letter ("C") or of a CSV column number ("3")."""
    if letter.isdigit():
        return int(letter) - 1
    index = 0
    for char in letter:
        index = index * 26 + ord(char) - 64
    return index - 1


def score(built: Built) -> Score:
    """Parse a built file and compare its mapping with the spec's."""
    from o2c_desktop.sync.importing.parse import parse_file

    parsed = parse_file(built.path)
    got = {_position(m.letter): m.field for m in parsed.columns}
    wrong = []
    for i, col in enumerate(built.spec.columns):
        field_got = got.get(i, F.IGNORE)
        if not col.accepts(field_got):
            wrong.append(f"{col.header!r}: {field_got.value} (want {col.want})")
    return Score(
        built.spec.name,
        len(built.spec.columns) - len(wrong),
        len(built.spec.columns),
        wrong,
        [m.header for m in parsed.questions],
        parsed.row_count,
        parsed.error_count
        + (0 if parsed.settled is None else int((parsed.settled["error"] != "").sum())),
        built.open_rows,
    )


def main() -> None:
    """Print the corpus's mapping accuracy: python -m tests.sync.import_corpus."""
    import sys
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="o2c-corpus-"))
    specs = corpus()
    if "--history" in sys.argv:
        specs += paid_history()
    right = total = silent = 0
    for spec in specs:
        s = score(build(spec, folder))
        right, total = right + s.right, total + s.total
        ok = not s.wrong and set(s.questions) == spec.asks and s.errors == 0
        ok &= s.rows == s.expected_rows
        silent += ok
        sys.stdout.write(
            f"{s.name:36} {s.right:>2}/{s.total:<2} rows {s.rows}/{s.expected_rows}"
            f" errors {s.errors} questions {s.questions} wrong {s.wrong}\n"
        )
    sys.stdout.write(
        f"columns right {right}/{total} ({right / total:.1%}); files imported "
        f"right, asking only what they should, {silent}/{len(specs)}\n"
    )


if __name__ == "__main__":
    main()
