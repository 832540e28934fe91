"""Test files built at test time to each catalogued layout (no binary fixtures)."""

from __future__ import annotations

import csv
import datetime as dt
from typing import TYPE_CHECKING, Any

from openpyxl import Workbook

if TYPE_CHECKING:
    from collections.abc import Sequence
    from pathlib import Path


def xlsx(path: Path, rows: Sequence[Sequence[Any]], title: str = "Sheet1") -> Path:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(list(row))
    book.save(path)
    return path


def write_csv(
    path: Path, rows: Sequence[Sequence[Any]], sep: str = ";", encoding: str = "utf-8"
) -> Path:
    with path.open("w", encoding=encoding, newline="") as fh:
        csv.writer(fh, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return path


D = dt.date


def fec(path: Path) -> Path:
    head = [
        "JournalCode",
        "JournalLib",
        "EcritureNum",
        "EcritureDate",
        "CompteNum",
        "CompteLib",
        "CompAuxNum",
        "CompAuxLib",
        "PieceRef",
        "PieceDate",
        "EcritureLib",
        "Debit",
        "Credit",
        "EcritureLet",
        "DateLet",
        "ValidDate",
        "Montantdevise",
        "Idevise",
    ]
    rows = [
        head,
        [
            "VE",
            "Ventes",
            "VE1",
            "20260115",
            "411000",
            "Clients",
            "C001",
            "Dupont SA",
            "FA001",
            "20260115",
            "Facture FA001",
            " 000000000001437,12",
            " 000000000000000,00",
            "",
            "",
            "20260115",
            "",
            "",
        ],
        [
            "VE",
            "Ventes",
            "VE1",
            "20260115",
            "706000",
            "Ventes",
            "",
            "",
            "FA001",
            "20260115",
            "Facture FA001",
            "0,00",
            "1197,60",
            "",
            "",
            "20260115",
            "",
            "",
        ],
        [
            "VE",
            "Ventes",
            "VE2",
            "20260120",
            "411000",
            "Clients",
            "C002",
            "Martin",
            "FA002",
            "20260120",
            "Facture FA002",
            "500,00",
            "0,00",
            "AA",
            "20260201",
            "20260120",
            "",
            "",
        ],
        [
            "VE",
            "Ventes",
            "VE3",
            "20260125",
            "411000",
            "Clients",
            "C001",
            "Dupont SA",
            "AV001",
            "20260125",
            "Avoir AV001",
            "0,00",
            "100,00",
            "",
            "",
            "20260125",
            "",
            "",
        ],
        [
            "BQ",
            "Banque",
            "BQ1",
            "20260201",
            "411000",
            "Clients",
            "C002",
            "Martin",
            "RG001",
            "20260201",
            "Règlement",
            "0,00",
            "250,00",
            "",
            "",
            "20260201",
            "",
            "",
        ],
    ]
    return write_csv(path, rows, sep="|")


def odoo(path: Path, lang: str = "en") -> Path:
    if lang == "en":
        head = [
            "Date",
            "Entry",
            "Journal",
            "Account",
            "Partner",
            "Ref - Label",
            "Due date",
            "Residual",
            "Current",
            "Age ≤ 30 d.",
            "Age ≤ 60 d.",
            "Age ≤ 90 d.",
            "Age ≤ 120 d.",
            "Older",
        ]
        total, pct = "Total", "Percents"
    else:
        head = [
            "Date",
            "Pièce",
            "Journal",
            "Compte",
            "Partenaire",
            "Réf - Libellé",
            "Date d'échéance",
            "Résiduel",
            "Actuel",
            "Éch. ≤ 30 j.",
            "Éch. ≤ 60 j.",
            "Éch. ≤ 90 j.",
            "Éch. ≤ 120 j.",
            "Plus ancien",
        ]
        total, pct = "Total", "Pourcentages"
    rows: list[list[Any]] = [
        ["Aged Partner Balance - Company"],
        ["Date at filter", "31/03/2026"],
        [],
        ["411100 - Clients"],
        head,
        [
            D(2026, 1, 10),
            "INV/2026/0001",
            "INV",
            "411100",
            "Azure Interior",
            "INV/2026/0001",
            D(2026, 2, 9),
            1200.5,
            0,
            0,
            1200.5,
            0,
            0,
            0,
        ],
        [
            D(2026, 3, 1),
            "RINV/2026/0001",
            "INV",
            "411100",
            "Azure Interior",
            "Refund",
            D(2026, 3, 1),
            -200,
            -200,
            0,
            0,
            0,
            0,
            0,
        ],
        [
            D(2026, 2, 15),
            "INV/2026/0002",
            "INV",
            "411100",
            "Deco Addict",
            "",
            D(2026, 3, 17),
            300,
            0,
            300,
            0,
            0,
            0,
            0,
        ],
        [total, "", "", "", "", "", "", 1300.5],
        [pct, "", "", "", "", "", "", "100%"],
        ["411200 - Clients export"],
        head,
        [
            D(2026, 3, 20),
            "INV/2026/0003",
            "INV",
            "411200",
            "Gemini Furniture",
            "",
            D(2026, 4, 19),
            50,
            50,
            0,
            0,
            0,
            0,
            0,
        ],
    ]
    return xlsx(path, rows)


def quickbooks(path: Path, sentence_case: bool = False) -> Path:
    head = (
        [
            "",
            "Date",
            "Transaction type",
            "Num",
            "Customer full name",
            "Due date",
            "Past due",
            "Amount",
            "Open balance",
        ]
        if sentence_case
        else [
            "",
            "Date",
            "Transaction Type",
            "Num",
            "Customer",
            "Due Date",
            "Past Due",
            "Amount",
            "Open Balance",
        ]
    )
    rows = [
        ["Craig's Design and Landscaping Services"],
        ["A/R Aging Detail"],
        ["As of March 31, 2026"],
        [],
        head,
        ["Current"],
        [
            "",
            "03/15/2026",
            "Invoice",
            "1037",
            "Sonnenschein Family Store",
            "04/14/2026",
            "",
            "1,284.50",
            "1,284.50",
        ],
        ["Total for Current", "", "", "", "", "", "", "", "1,284.50"],
        ["1 - 30 days past due"],
        [
            "",
            "02/13/2026",
            "Invoice",
            "1036",
            "Freeman Sporting Goods",
            "03/15/2026",
            "16",
            "477.50",
            "300.00",
        ],
        [
            "",
            "02/20/2026",
            "Credit Memo",
            "1038",
            "Freeman Sporting Goods",
            "02/20/2026",
            "39",
            "-100.00",
            "-100.00",
        ],
        ["", "03/01/2026", "Payment", "", "Freeman Sporting Goods", "", "", "", ""],
        ["Total for 1 - 30 days past due", "", "", "", "", "", "", "", "200.00"],
        ["TOTAL", "", "", "", "", "", "", "", "1,484.50"],
        [],
        ["Tuesday, Apr 01, 2026 09:12:33 AM GMT-7"],
    ]
    return write_csv(path, rows, sep=",")


def xero(path: Path) -> Path:
    head = [
        "Invoice Date",
        "Invoice Number",
        "Invoice Reference",
        "Due Date",
        "< 1 Month",
        "1 Month",
        "2 Months",
        "3 Months",
        "Older",
        "Total",
    ]
    rows: list[list[Any]] = [
        ["Aged Receivables Detail"],
        ["Demo Company (UK)"],
        ["As at 31 March 2026"],
        ["Ageing by due date"],
        [],
        head,
        ["Bayside Club"],
        [
            "15 Feb 2026",
            "INV-0001",
            "P/O 9711",
            "1 Mar 2026",
            None,
            234.0,
            None,
            None,
            None,
            234.0,
        ],
        [
            "20 Mar 2026",
            "INV-0002",
            "",
            "19 Apr 2026",
            100.0,
            None,
            None,
            None,
            None,
            100.0,
        ],
        ["Total Bayside Club", None, None, None, 100.0, 234.0, None, None, None, 334.0],
        ["City Limousines"],
        [
            "1 Jan 2026",
            "INV-0003",
            "",
            "31 Jan 2026",
            None,
            None,
            50.25,
            None,
            None,
            50.25,
        ],
        [
            "Total City Limousines",
            None,
            None,
            None,
            None,
            None,
            50.25,
            None,
            None,
            50.25,
        ],
        ["Total", None, None, None, 100.0, 234.0, 50.25, None, None, 284.25],
    ]
    return xlsx(path, rows)


def sap(path: Path, lang: str) -> Path:
    if lang == "en":
        head = [
            "Account",
            "Assignment",
            "Document Number",
            "Document Type",
            "Document Date",
            "Posting Date",
            "Net due date",
            "Arrears after net due date",
            "Amount in doc. curr.",
            "Document currency",
            "Amount in local currency",
            "Local Currency",
        ]
        rows = [
            [
                "0000100017",
                "A1",
                "0090000123",
                "RV",
                "15.01.2026",
                "15.01.2026",
                "14.02.2026",
                "45",
                "1.234,56",
                "EUR",
                "1.234,56",
                "EUR",
            ],
            [
                "0000100017",
                "A2",
                "0090000124",
                "DG",
                "20.01.2026",
                "20.01.2026",
                "20.01.2026",
                "70",
                "100,00-",
                "EUR",
                "100,00-",
                "EUR",
            ],
            [
                "0000100018",
                "",
                "0090000125",
                "RV",
                "01.03.2026",
                "01.03.2026",
                "31.03.2026",
                "0",
                "2.000,00",
                "USD",
                "1.850,00",
                "EUR",
            ],
            ["", "", "", "", "", "", "", "", "3.134,56", "", "", ""],
        ]
        sep = "\t"
    elif lang == "de":
        head = [
            "Konto",
            "Zuordnung",
            "Belegnummer",
            "Belegart",
            "Belegdatum",
            "Buchungsdatum",
            "Nettofälligkeit",
            "Soll/Haben-Kennz.",
            "Betrag in Hauswährung",
            "Hauswährung",
            "Text",
        ]
        rows = [
            [
                "0000100017",
                "Z1",
                "1800000001",
                "RV",
                "15.01.2026",
                "15.01.2026",
                "14.02.2026",
                "S",
                "1.234,56",
                "EUR",
                "Rechnung",
            ],
            [
                "0000100017",
                "Z2",
                "1800000002",
                "DZ",
                "20.01.2026",
                "20.01.2026",
                "20.01.2026",
                "H",
                "500,00",
                "EUR",
                "Zahlung",
            ],
        ]
        sep = ";"
    else:
        head = [
            "Icône Postes rappr./PNS",
            "Nº pièce",
            "Compte",
            "Type de pièce",
            "Date de la pièce",
            "Période comptable",
            "Exercice comptable",
            "Clé comptabilisation",
            "Montant en devise interne",
            "Devise interne",
            "Code TVA",
            "Texte",
            "Client",
        ]
        rows = [
            [
                "",
                "1400000001",
                "411000",
                "RV",
                "15/01/2026",
                "1",
                "2026",
                "01",
                "1\u00a0234,56",
                "EUR",
                "",
                "Facture",
                "0000100017",
            ],
            [
                "",
                "1400000002",
                "411000",
                "DG",
                "16/01/2026",
                "1",
                "2026",
                "11",
                "-34,56",
                "EUR",
                "",
                "Avoir",
                "0000100017",
            ],
        ]
        sep = ";"
    return write_csv(
        path, [head, *rows], sep=sep, encoding="cp1252" if lang == "fr" else "utf-8"
    )


def own(path: Path) -> Path:
    from decimal import Decimal

    from o2c_desktop.sync.importing.export import ExportRow, write_items_xlsx

    def row(
        ref: str,
        name: str,
        number: str,
        kind: str,
        reference: str,
        day: int,
        due: int,
        amount: str,
        remaining: str,
    ) -> ExportRow:
        return ExportRow(
            ref,
            name,
            number,
            0,
            kind,
            reference,
            D(2026, 1, day),
            D(2026, 1, due),
            Decimal(amount),
            Decimal(remaining),
            "EUR",
        )

    write_items_xlsx(
        path,
        [
            row("00042", "=Evil Corp", "F-1", "invoice", "@ref", 1, 31, "100", "40"),
            row("00042", "=Evil Corp", "AV-1", "credit_note", "", 2, 2, "-10", "-10"),
            row("00043", "Cash Ltd", "P-1", "unapplied_cash", "", 3, 3, "-5", "-5"),
        ],
    )
    return path


# -- the bad-input corpus (#14 §6, #15): each file is one fault ----------------

BAD_HEAD = [
    "Code client",
    "N° facture",
    "Date facture",
    "Date d'échéance",
    "Montant TTC",
    "Reste dû",
]


def _item(number: str, amount: str = "100,00", remaining: str = "100,00") -> list[str]:
    return ["C1", number, "01/02/2026", "03/03/2026", amount, remaining]


def empty_amount(path: Path) -> Path:
    """A remaining amount left blank: it used to read 0.00."""
    return write_csv(path, [BAD_HEAD, _item("F1"), _item("F2", remaining="")])


def uncomputed_formula(path: Path) -> Path:
    """A formula written by a program (openpyxl), never computed by Excel."""
    return xlsx(
        path,
        [
            BAD_HEAD,
            ["C1", "F1", D(2026, 2, 1), D(2026, 3, 3), 100, 100],
            ["C1", "F2", D(2026, 2, 1), D(2026, 3, 3), 100, "=E3-40"],
        ],
    )


def opposite_signs(path: Path) -> Path:
    """Amount 100, remaining -100: not a credit note, a wrong sign."""
    return write_csv(path, [BAD_HEAD, _item("F1", "100,00", "-100,00")])


def three_decimals(path: Path) -> Path:
    """Digits grouped by spaces and a comma: three decimals, not thousands."""
    return write_csv(
        path,
        [BAD_HEAD, _item("F1", "1 234 567,891", "1 234 567,89"), _item("F2")],
    )


def yen_decimals(path: Path) -> Path:
    """Yen have no decimals."""
    return write_csv(
        path,
        [
            [*BAD_HEAD, "Devise"],
            [*_item("F1", "1 234", "1 234"), "JPY"],
            [*_item("F2", "1 234,50", "1 234,50"), "JPY"],
        ],
    )


def totals_row(path: Path, label: str, number: str = "") -> Path:
    """Items, then a totals line with the label where the customer goes."""
    return xlsx(
        path,
        [
            BAD_HEAD,
            ["C1", "F1", D(2026, 2, 1), D(2026, 3, 3), 100, 100],
            ["C2", "F2", D(2026, 2, 1), D(2026, 3, 3), 200, 200],
            [label, number, None, None, 300, 300],
        ],
    )


def two_row_header(path: Path) -> Path:
    """Group headers merged over the columns they name (Excel reports)."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["Customer", None, "Invoice", None, None, "Amount", None])
    sheet.append(
        ["Reference", "Name", "Number", "Reference", "Due date", "Total", "Remaining"]
    )
    sheet.merge_cells("A1:B1")
    sheet.merge_cells("C1:E1")
    sheet.merge_cells("F1:G1")
    sheet.append(["C1", "Dupont", "F1", "PO-9", D(2026, 1, 31), 120, 100])
    book.save(path)
    return path


def unicode_text(path: Path) -> Path:
    """Excel's "Unicode text": UTF-16 with a BOM, tab separated."""
    rows = [BAD_HEAD, ["Société Générale", "F1", "01/02/2026", "03/03/2026"]]
    rows[1] += ["1 234,50", "1 234,50"]
    return write_csv(path, rows, sep="\t", encoding="utf-16")


def unbalanced_quote(path: Path, before: int = 1) -> Path:
    """One cell opens a quote it never closes, after `before` good rows."""
    good = [_item(f"F{i}") for i in range(before)]
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join(BAD_HEAD) + "\r\n")
        fh.writelines(";".join(row) + "\r\n" for row in good)
        fh.write('C1;"F-open;01/02/2026;03/03/2026;100,00;100,00\r\n')
        fh.writelines(";".join(_item(f"G{i}")) + "\r\n" for i in range(5))
    return path


def huge_field(path: Path) -> Path:
    """A cell of 200 KB (a pasted document), beyond any CSV reader's limit."""
    return write_csv(path, [BAD_HEAD, _item("F1"), _item("x" * 200_000)])


def control_characters(path: Path, before: int = 0) -> Path:
    """A name with line breaks and a tab (xlsx) or a bell and an escape (csv).

    In a CSV file, `before` good rows come first (a long file is read by
    pyarrow, column by column).
    """
    if path.suffix == ".xlsx":  # openpyxl refuses other control characters
        row = ["C1", "F1", D(2026, 2, 1), D(2026, 3, 3), 100, 100, "Dupont\r\nSA\tLyon"]
        return xlsx(path, [[*BAD_HEAD, "Nom client"], row])
    name = '"Dupont\r\nSA\x07\x1bLyon"'
    with path.open("w", encoding="utf-8", newline="") as fh:
        fh.write(";".join([*BAD_HEAD, "Nom client"]) + "\r\n")
        fh.writelines(
            ";".join([*_item(f"G{i}"), "Durand"]) + "\r\n" for i in range(before)
        )
        fh.write(";".join([*_item("F1"), name]) + "\r\n")
    return path


def word_document(path: Path, *, with_workbook: bool = False) -> Path:
    """A minimal .docx (it may embed a workbook, as a chart does)."""
    import zipfile

    main = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    embedded = (
        '<Default Extension="xlsx" ContentType="application/vnd.openxmlformats-'
        'officedocument.spreadsheetml.sheet"/>'
        if with_workbook
        else ""
    )
    types = (
        '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.'
        'openxmlformats.org/package/2006/content-types"><Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        f'{embedded}<Override PartName="/word/document.xml" ContentType="{main}'
        '.main+xml"/></Types>'
    )
    rels = (
        '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.'
        'openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" '
        'Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
        'officeDocument" Target="word/document.xml"/></Relationships>'
    )
    document = (
        '<?xml version="1.0" encoding="UTF-8"?><w:document xmlns:w="http://schemas.'
        'openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>'
        "Balance</w:t></w:r></w:p></w:body></w:document>"
    )
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("[Content_Types].xml", types)
        archive.writestr("_rels/.rels", rels)
        archive.writestr("word/document.xml", document)
    return path


def guessed_columns(path: Path) -> Path:
    """A header nobody knows ("Bidule"): its meaning is guessed from values."""
    return write_csv(
        path,
        [
            ["Client", "Facture", "Echeance", "Montant", "Bidule"],
            ["Dupont", "F1", "31/01/2026", "10,00", "02/01/2026"],
            ["Durand", "F2", "31/01/2026", "20,00", "05/01/2026"],
        ],
    )
