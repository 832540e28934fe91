"""Any ERP's export maps itself (#17): the corpus of layouts, values and words."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from o2c_desktop.sync.importing.fields import Field, normalize
from o2c_desktop.sync.importing.mapper import assign
from o2c_desktop.sync.importing.parse import parse_file
from o2c_desktop.sync.importing.values import amount_column, identifier_column
from o2c_desktop.sync.importing.words import header_scores
from tests.sync import import_corpus as corpus

if TYPE_CHECKING:
    from pathlib import Path

F = Field
SPECS = corpus.corpus()


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_every_layout_maps_itself_and_reads_every_row(
    spec: corpus.Spec, tmp_path: Path
) -> None:
    built = corpus.build(spec, tmp_path)
    scored = corpus.score(built)
    assert scored.wrong == []
    assert set(scored.questions) == spec.asks
    assert (scored.rows, scored.errors) == (built.open_rows, 0)


def test_the_issue_export_maps_as_a_collector_expects(tmp_path: Path) -> None:
    """The SAP export of issue 17: 8,188 of 9,681 rows were refused."""
    built = corpus.build(corpus.sap_like(), tmp_path)
    parsed = parse_file(built.path)
    mapping = {m.header: (m.field, m.reason) for m in parsed.columns}
    assert mapping[""] == (F.IGNORE, "index")
    assert mapping["customer_number"][0] is F.CUSTOMER_REF
    assert mapping["document_number"][0] is F.NUMBER
    assert mapping["posting_date"][0] is F.ISSUE_DATE
    assert mapping["net_due_date"][0] is F.DUE_DATE
    assert mapping["baseline_date"][0] is F.IGNORE
    assert mapping["clearing_date"][0] is F.SETTLED_DATE  # empty: all open
    first = parsed.sample(1)[0]
    # Float identifiers lose ".0"; float noise is rounded to the cent.
    assert (first.customer_ref, first.number) == ("4100023936", "90023005")
    assert first.remaining == Decimal("15385.36")
    assert (first.issue_date, first.due_date) == (
        dt.date(2026, 2, 17),
        dt.date(2026, 4, 1),
    )
    assert parsed.valid_count == 60


def test_a_strong_header_dropped_says_why(tmp_path: Path) -> None:
    path = corpus.build(
        corpus.Spec(
            "two_due",
            (
                corpus.Col("Customer", F.CUSTOMER_NAME, "name"),
                corpus.Col("Invoice", F.NUMBER, "number"),
                corpus.Col("Due date", F.DUE_DATE, "due"),
                corpus.Col("Open amount", F.REMAINING, "remaining"),
                corpus.Col("Open", F.IGNORE, "open_flag"),
            ),
        ),
        tmp_path,
    ).path
    parsed = parse_file(path)
    flag = parsed.columns[4]
    assert (flag.field, flag.reason) == (F.IGNORE, "values")
    assert (
        flag.why == "header reads as remaining, but its values are: one value repeated"
    )


def test_two_columns_equally_good_for_one_field_are_asked(tmp_path: Path) -> None:
    path = corpus.build(
        corpus.Spec(
            "two_due",
            (
                corpus.Col("Customer", F.CUSTOMER_NAME, "name"),
                corpus.Col("Invoice", F.NUMBER, "number"),
                corpus.Col("Due date", F.DUE_DATE, "due"),
                corpus.Col("Date due", F.IGNORE, "expected"),
                corpus.Col("Balance", F.REMAINING, "remaining"),
            ),
        ),
        tmp_path,
    ).path
    parsed = parse_file(path)
    assert [(m.header, m.field) for m in parsed.questions] == [("Due date", F.DUE_DATE)]
    assert "'Date due' fits it almost as well" in parsed.questions[0].why
    assert parsed.columns[3].reason == "duplicate"


@pytest.mark.parametrize(
    ("header", "target"),
    [
        ("customer_no", F.CUSTOMER_REF),
        ("clientId", F.CUSTOMER_REF),
        ("cust_nr", F.CUSTOMER_REF),
        ("document_number", F.NUMBER),
        ("invoiceNo", F.NUMBER),
        ("doc_date", F.ISSUE_DATE),
        ("net_due_date", F.DUE_DATE),
        ("net_due_dt", F.DUE_DATE),
        ("openAmount", F.REMAINING),
        ("amount_in_local_currency", F.AMOUNT),
        ("Amount outstanding (EUR)", F.REMAINING),
        ("remaining_amount_with_tax", F.REMAINING),
        ("curr", F.CURRENCY),
        ("Date de règlement", F.SETTLED_DATE),
        ("Settled date", F.SETTLED_DATE),
        ("KUNNR", F.CUSTOMER_REF),
        ("NAME1", F.CUSTOMER_NAME),
        ("BELNR", F.NUMBER),
        ("XBLNR", F.REFERENCE),
        ("BUZEI", F.INSTALMENT),
        ("BLDAT", F.ISSUE_DATE),
        ("FAEDT", F.DUE_DATE),
        ("NETDT", F.DUE_DATE),
        ("WRBTR", F.REMAINING),
        ("DMBTR", F.REMAINING),
        ("WAERS", F.CURRENCY),
        ("SHKZG", F.DEBIT_CREDIT),
        ("AUGDT", F.SETTLED_DATE),
        ("Days past due", F.IGNORE),
        ("Outstanding Tax", F.IGNORE),
        ("BUDAT", F.IGNORE),
    ],
)
def test_header_words_never_seen_whole_still_count(header: str, target: Field) -> None:
    scores = header_scores(header)
    assert max(scores, key=lambda f: scores[f]) is target
    assert scores[target] >= 0.8


def test_camel_case_and_snake_case_fold_alike() -> None:
    assert normalize("invoiceNo") == normalize("invoice_no") == "invoice no"
    assert normalize("clientID") == "client id"
    assert normalize("CompAuxNum") == "comp aux num"


def test_identifiers_written_as_floats_are_text() -> None:
    import pandas as pd

    cells = pd.Series(["4100023117.0", "4100023118.0", ""], dtype=object)
    assert list(identifier_column(cells).values) == ["4100023117", "4100023118", ""]
    kept = pd.Series(["0040012345", "1.0", "AB-1"], dtype=object)
    assert list(identifier_column(kept).values) == ["0040012345", "1.0", "AB-1"]
    numbers = pd.Series([4100023117.0, 40012345.0], dtype=object)
    assert list(identifier_column(numbers).values) == ["4100023117", "40012345"]


def test_float_noise_is_rounded_to_the_cent_but_a_third_decimal_is_refused() -> None:
    import pandas as pd

    parsed = amount_column(
        pd.Series(
            [
                "1520.1299999999999",
                "1520,1300000000002",
                "-0.30000000000000004",
                "1 234 567,891",
            ],
            dtype=object,
        )
    )
    assert list(parsed.values[:3]) == [152013, 152013, -30]
    assert parsed.decimals is not None
    assert list(parsed.decimals) == [2, 2, 2, 3]


def test_the_assignment_is_solved_as_a_whole() -> None:
    # Column 0 is a little better at field 0, but column 1 fits nothing else:
    # a column-by-column pick would leave column 1 out (total 0.9 + 0.1).
    assert assign([[0.9, 0.8], [0.85, 0.1]]) == [1, 0]


HEAD = ["Customer number", "Invoice number", "Invoice date", "Due date"]
HISTORY = [
    [*HEAD, "Amount", "Paid amount", "Settled date", "Disputed"],
    ["C1", "INV-1", "2026-01-05", "2026-02-04", "100.00", "100.00", "2026-02-10", "No"],
    ["C1", "INV-2", "2026-01-20", "2026-02-19", "250.50", "", "2026-03-02", "Yes"],
    ["C2", "INV-3", "2026-02-01", "2026-03-03", "80.00", "", "", ""],
    ["C2", "CN-1", "2026-02-03", "2026-02-03", "-20.00", "-20.00", "2026-04-02", ""],
]


@pytest.mark.parametrize("spec", corpus.paid_history(), ids=lambda s: s.name)
def test_settled_rows_are_history_and_open_rows_stay_open(
    spec: corpus.Spec, tmp_path: Path
) -> None:
    built = corpus.build(spec, tmp_path)
    scored = corpus.score(built)
    assert (scored.wrong, scored.questions, scored.errors) == ([], [], 0)
    parsed = parse_file(built.path)
    assert (parsed.row_count, parsed.settled_count) == (
        built.open_rows,
        built.settled_rows,
    )
    assert parsed.settled is not None
    assert (parsed.settled["error"] == "").all()


def test_a_settled_row_keeps_its_payment_date_amount_and_dispute(
    tmp_path: Path,
) -> None:
    from tests.sync.import_builders import write_csv

    parsed = parse_file(write_csv(tmp_path / "paid.csv", HISTORY, sep=","))
    assert parsed.settled is not None
    settled = {
        r["number"]: (str(r["paid_date"])[:10], r["paid_amount"], r["disputed"])
        for r in parsed.settled.to_dict("records")
    }
    assert settled == {
        "INV-1": ("2026-02-10", 10000, False),
        "INV-2": ("2026-03-02", 25050, True),  # no paid amount: all of it
        "CN-1": ("2026-04-02", -2000, False),
    }
    assert parsed.rows is not None
    assert list(parsed.rows["number"]) == ["INV-3"]  # open, stays open


def test_settled_after_the_balance_date_is_still_open(tmp_path: Path) -> None:
    from o2c_desktop.sync.importing.parse import ImportOptions
    from tests.sync.import_builders import write_csv

    path = write_csv(tmp_path / "paid.csv", HISTORY, sep=",")
    parsed = parse_file(path, ImportOptions(as_of=dt.date(2026, 3, 31)))
    assert parsed.rows is not None
    assert list(parsed.rows["number"]) == ["INV-3", "CN-1"]
    assert parsed.settled_count == 2


def test_forced_history_needs_a_settlement_date_on_every_row(tmp_path: Path) -> None:
    from o2c_desktop.sync.importing.parse import ImportOptions
    from tests.sync.import_builders import write_csv

    path = write_csv(tmp_path / "paid.csv", HISTORY, sep=",")
    parsed = parse_file(path, ImportOptions(history=True))
    assert parsed.row_count == 0
    assert parsed.settled_count == 4
    assert [(p.row, p.message) for p in parsed.problems] == [
        (4, "missing settlement date (--history)")
    ]
    no_column = write_csv(tmp_path / "open.csv", [r[:6] for r in HISTORY], sep=",")
    refused = parse_file(no_column, ImportOptions(history=True))
    assert refused.fatal
    assert refused.problems[0].message == (
        "missing required column: settlement date (a paid-history import needs one)"
    )


def test_amounts_that_count_up_under_an_amount_header_are_amounts(
    tmp_path: Path,
) -> None:
    from tests.sync.import_builders import xlsx

    head = ["Code client", "N° facture", "Date d'échéance", "Montant TTC", "Reste dû"]
    rows = [
        [f"C{i % 4}", f"FA-{i}", dt.date(2026, 2, 1), 1200.0 + i, 1000.0 + i]
        for i in range(40)
    ]
    parsed = parse_file(xlsx(tmp_path / "a.xlsx", [head, *rows]))
    assert [c.field for c in parsed.columns][3:] == [F.AMOUNT, F.REMAINING]
    assert parsed.sample(1)[0].remaining == Decimal("1000.00")
