"""Letters, statements and interest statements as PDFs: text extracted and checked."""

from __future__ import annotations

import dataclasses
import datetime as dt
import io
from decimal import Decimal

import pytest
from pypdf import PdfReader

from o2c_desktop.engine import letters, pdf
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.interest import FRANCE
from o2c_desktop.engine.types import Channel, ItemKind

D = Decimal
TODAY = dt.date(2024, 9, 30)
ENTITY = letters.Letterhead(
    name="Acme France",
    legal_form="SAS",
    address1="12 rue de la République",
    postal_code="69002",
    city="Lyon",
    legal_id="RCS Lyon 123 456 789",
    vat_number="FR12123456789",
    share_capital="1 000 000 €",
    iban="FR76 3000 4000 0500 0012 3456 789",
    bic="BNPAFRPPXXX",
)
CUSTOMER = letters.Party(
    reference="18981",
    name="<b>Dupont & Fils</b>",
    address1="impasse Michelle Lucas",
    postal_code="45349",
    city="Monnier",
    country="FR",
)


def _item(
    number: str,
    due: dt.date,
    remaining: str,
    kind: ItemKind = ItemKind.INVOICE,
    *,
    disputed: bool = False,
) -> letters.AccountItem:
    return letters.AccountItem(
        number,
        kind,
        due - dt.timedelta(days=30),
        due,
        D(remaining),
        D(remaining),
        "EUR",
        disputed=disputed,
    )


ITEMS = [
    _item("FA-2024-0512", dt.date(2024, 5, 15), "10000.00"),
    _item("FA-2024-0733", dt.date(2024, 7, 31), "1450.80"),
    _item("FA-2024-0801", dt.date(2024, 8, 31), "780.00", disputed=True),
    _item("AV-2024-0044", dt.date(2024, 8, 10), "-120.00", ItemKind.CREDIT_NOTE),
    _item("RG-2024-0090", dt.date(2024, 9, 2), "-48.40", ItemKind.UNAPPLIED_CASH),
]


def _ctx(
    items: list[letters.AccountItem] | None = None, **kw: object
) -> letters.LetterContext:
    return letters.build_context(
        CUSTOMER,
        ENTITY,
        ITEMS if items is None else items,
        TODAY,
        FRANCE,
        collector=letters.Person("Alex Rossi", phone="04 72 00 00 10"),
        contact=letters.Person("Claire Courtois"),
        action_reference="A-35426",
        **kw,  # type: ignore[arg-type]
    )


def _text(data: bytes) -> list[str]:
    """Text per page, with Babel's no-break spaces as plain spaces."""
    reader = PdfReader(io.BytesIO(data))
    return [
        (p.extract_text() or "").replace("\u202f", " ").replace("\xa0", " ")
        for p in reader.pages
    ]


def _letter(
    code: str, ctx: letters.LetterContext, *, registered: bool = False
) -> bytes:
    choice = tpl.choose_template(
        tpl.default_templates(), code, Channel.LETTER, "fr", "fr"
    )
    assert choice is not None
    rendered = tpl.render(choice.template, letters.merge_fields(ctx, "fr"))
    return pdf.letter_pdf(
        letters.printed_letter(ctx, rendered, "fr", registered=registered)
    )


def test_amounts_of_the_context_net_unapplied_cash_and_credit_notes() -> None:
    a = _ctx().amounts
    assert a.total == D("12230.80")
    assert a.outstanding == D("12062.40")
    assert a.overdue == D("12230.80")
    assert a.disputed == D("780.00")
    assert a.unapplied == D("48.40")
    assert a.credit_notes == D("120.00")
    assert a.items_total == D("11450.80")  # overdue, undisputed
    assert a.principal_claimed == D("11282.40")  # less 48.40 and 120.00
    # 541.92 (worked example) + 1,450.80 x 14.25 % x 61 / 365 = 34.55
    assert a.interest == D("576.47")
    assert a.indemnities == D("80.00")
    assert a.total_claimed == D("11938.87")


def test_formal_notice_letter_prints_names_amounts_and_mentions() -> None:
    pages = _text(_letter("FORMAL_NOTICE", _ctx(), registered=True))
    assert len(pages) == 1
    text = pages[0]
    assert "<b>Dupont & Fils</b>" in text  # printed literally, not bold markup
    assert "Lyon, le 30 septembre 2024" in text
    assert "Objet : Mise en demeure de payer" in text
    assert "LETTRE RECOMMANDÉE AVEC ACCUSÉ DE RÉCEPTION" in text
    assert "11 938,87 €" in text
    assert "576,47 €" in text
    assert "14,50 % / 14,25 %" in text  # rates in the order they applied
    assert "FA-2024-0512" in text
    assert "FA-2024-0801" not in text  # disputed: not claimed
    assert "11 450,80 €" in text  # table total
    assert "Alex Rossi" in text
    assert "IBAN FR76 3000 4000 0500 0012 3456 789" in text  # legal footer
    assert "Page 1" not in text  # one page: no page number


def test_long_letter_repeats_table_headers_and_numbers_pages() -> None:
    many = [
        _item(f"FA-{n:05d}", dt.date(2024, 6, 1) + dt.timedelta(days=n % 60), "100.00")
        for n in range(90)
    ]
    pages = _text(_letter("REMINDER_1", _ctx(many)))
    assert len(pages) >= 3
    for k, text in enumerate(pages, start=1):
        assert "N° pièce" in text, f"no table header on page {k}"
        assert f"Page {k} / {len(pages)}" in text
    assert "FA-00089" in "".join(pages)
    assert "9 000,00 €" in pages[-1] or "9 000,00 €" in "".join(pages)
    assert "salutations distinguées" in pages[-1]


def test_statement_lists_every_open_item_marks_disputes_and_totals() -> None:
    text = _text(pdf.report_pdf(letters.printed_statement(_ctx(), "fr")))[0]
    assert "Relevé de compte" in text
    for number in ("FA-2024-0512", "FA-2024-0733", "FA-2024-0801", "AV-2024-0044"):
        assert number in text
    assert "Règlement non imputé" in text
    assert "Avoir" in text
    assert "En litige" in text
    assert "Solde dû (encours)" in text
    assert "12 062,40 €" in text
    assert "dont en litige" in text
    assert "Page 1 / 1" in text


def test_a_statement_of_500_items_repeats_its_header_and_ends_on_the_total() -> None:
    # Its time budget (<= 1 s) is checked by benchmarks/documents_ops.py.
    big = [
        _item(
            f"FA-{n:06d}",
            dt.date(2024, 1, 1) + dt.timedelta(days=n % 250),
            "1234.56",
            disputed=n % 40 == 0,
        )
        for n in range(500)
    ]
    ctx = _ctx(big)
    data = pdf.report_pdf(letters.printed_statement(ctx, "fr"))
    pages = _text(data)
    assert all("N° pièce" in p for p in pages)
    joined = "".join(pages)
    assert "FA-000499" in joined
    assert "617 280,00 €" in pages[-1]  # 500 x 1,234.56


def test_interest_statement_shows_the_worked_example_per_period() -> None:
    text = _text(pdf.report_pdf(letters.printed_interest_statement(_ctx(), "fr")))[0]
    assert "Relevé d'intérêts et pénalités de retard" in text
    assert "16/05/2024 \u2013 30/06/2024" in text
    assert "182,74 €" in text
    assert "359,18 €" in text
    assert "14,50 %" in text
    assert "14,25 %" in text
    assert "138" in text  # days late of FA-2024-0512
    assert "Total réclamé" in text
    assert "656,47 €" in text  # 576.47 + 2 x 40.00
    assert "L441-10" in text
    assert "FA-2024-0801" not in text


def test_interest_statement_at_a_contractual_rate_with_its_floor() -> None:
    # 15 % clause. FA-2024-0512, 10,000.00 due 15 May: H1 46 days at the floor
    # 15.21 % (3 x 5.07): 10,000 x 0.1521 x 46 / 365 = 191.6877 -> 191.69; H2 92
    # days at 15 %: 10,000 x 0.15 x 92 / 365 = 378.0822 -> 378.08.
    # FA-2024-0733, 1,450.80 due 31 July: 61 days at 15 % (floor 14.76):
    # 1,450.80 x 0.15 x 61 / 365 = 36.3694 -> 36.37.
    # Interest 191.69 + 378.08 + 36.37 = 606.14; with 2 x 40.00: 686.14.
    ctx = _ctx(contractual_rate=D("15"))
    assert ctx.amounts.interest == D("606.14")
    # Letter total: 11,450.80 - 48.40 unapplied - 120.00 credit note + 686.14.
    assert ctx.amounts.total_claimed == D("11282.40") + D("686.14")
    text = _text(pdf.report_pdf(letters.printed_interest_statement(ctx, "fr")))[0]
    for amount in ("191,69 €", "378,08 €", "36,37 €", "606,14 €", "686,14 €"):
        assert amount in text
    assert "15,21 %" in text
    assert "15,00 %" in text
    assert "Taux contractuel (conditions générales de vente) : 15,00 % l'an." in text
    assert "ce plancher a été appliqué" in text
    english = _text(pdf.report_pdf(letters.printed_interest_statement(ctx, "en")))[0]
    assert "Contractual rate (general terms of sale): 15.00% a year." in english


def test_rate_merge_field_follows_the_contract_even_with_nothing_late() -> None:
    # Nothing late: the letter quotes the rate that would apply today.
    assert letters.merge_fields(_ctx([]), "fr")["law"]["rate"] == "14,25\u00a0%"
    ctx = _ctx([], contractual_rate=D("16"))
    assert letters.merge_fields(ctx, "fr")["law"]["rate"] == "16,00\u00a0%"
    # A 10 % clause is below the floor of 3 x 4.92 = 14.76 % in 2024 H2.
    ctx = _ctx([], contractual_rate=D("10"))
    assert letters.merge_fields(ctx, "en")["law"]["rate"] == "14.76%"


def test_no_interest_under_insolvency_and_it_says_why() -> None:
    insolvent = letters.Party(
        "18981", "Denis SAS", insolvency="redressement judiciaire"
    )
    ctx = letters.build_context(insolvent, ENTITY, ITEMS, TODAY, FRANCE)
    assert ctx.amounts.interest == 0
    assert ctx.amounts.indemnities == 0
    text = _text(pdf.report_pdf(letters.printed_interest_statement(ctx, "fr")))[0]
    assert "procédure collective" in text
    assert "redressement judiciaire" in text


def test_english_statement_uses_english_words_and_formats() -> None:
    text = _text(pdf.report_pdf(letters.printed_statement(_ctx(), "en")))[0]
    assert "Statement of account" in text
    assert "€12,062.40" in text
    assert "Disputed" in text
    assert "Lyon, 30 September 2024" in text


def test_email_has_the_items_table_in_html_and_text_with_names_escaped() -> None:
    ctx = _ctx()
    choice = tpl.choose_template(
        tpl.default_templates(), "REMINDER_1", Channel.EMAIL, "fr", "fr"
    )
    assert choice is not None
    rendered = tpl.render(choice.template, letters.merge_fields(ctx, "fr"))
    email = letters.compose_email(ctx, rendered, "fr")
    assert email.subject == "Relance \u2013 facture(s) échue(s) non réglée(s)"
    assert "<table" in email.html
    assert "FA-2024-0512" in email.html
    assert "FA-2024-0512" in email.text
    assert "Alex Rossi" in email.text
    named = letters.compose_email(
        ctx,
        tpl.render(
            choice.template.__class__(
                "X", Channel.EMAIL, "fr", "x", "s", "{{ customer.name }}"
            ),
            letters.merge_fields(ctx, "fr"),
        ),
        "fr",
    )
    assert "&lt;b&gt;Dupont &amp; Fils&lt;/b&gt;" in named.html
    assert "<b>Dupont & Fils</b>" in named.text


@pytest.mark.parametrize(
    ("language", "letter", "statement", "interest", "email"),
    [
        ("fr", "letter", "releve_compte", "releve_interet_penalite", "email"),
        ("en", "letter", "statement", "interest_statement", "email"),
        ("es", "carta", "extracto_cuenta", "liquidacion_intereses", "correo"),
        ("de", "Brief", "Kontoauszug", "Zinsabrechnung", "E-Mail"),
        ("xx", "letter", "releve_compte", "releve_interet_penalite", "email"),
    ],
)
def test_file_names_follow_the_language_french_as_in_the_seed(
    language: str, letter: str, statement: str, interest: str, email: str
) -> None:
    when = dt.datetime(2020, 3, 22, 22, 11, 53)  # noqa: DTZ001 - local wall time

    def name(kind: str, extension: str = "pdf") -> str:
        return letters.document_filename(
            kind, "18981", when, extension, language=language
        )

    stamp = "18981_2020-03-22_22-11-53"
    assert name("letter") == f"{letter}_{stamp}.pdf"
    assert name("statement") == f"{statement}_{stamp}.pdf"
    assert name("interest_statement") == f"{interest}_{stamp}.pdf"
    assert name("email", "eml") == f"{email}_{stamp}.eml"
    assert letters.document_filename(
        "letter", "A/B 1", when, language=language
    ).startswith(f"{letter}_A-B-1_")


@pytest.mark.parametrize("language", ["fr", "en", "es", "de"])
def test_every_default_letter_renders_to_pdf_in_every_language(language: str) -> None:
    ctx = _ctx(
        promise=letters.Promise("P-1", dt.date(2024, 10, 15), D("1450.80")),
        plan=letters.Plan(
            "PL-1", (letters.Instalment(1, dt.date(2024, 10, 31), D("500.00")),)
        ),
    )
    for t in tpl.default_templates():
        if t.language != language or t.channel is not Channel.LETTER:
            continue
        rendered = tpl.render(t, letters.merge_fields(ctx, language))
        data = pdf.letter_pdf(letters.printed_letter(ctx, rendered, language))
        text = " ".join(_text(data)).replace("\n", " ")
        assert rendered.subject[:25] in text, t.code
        assert "Acme France" in text


VALLET = letters.Letterhead(
    name="Vallet Distribution",
    legal_form="SAS",
    country="FR",
    legal_id="512345675",
    vat_number="FR63512345675",
    share_capital="1 250 000 €",
    trade_registry="RCS Lyon 512 345 675",
)


def _mentions(entity: letters.Letterhead, language: str) -> list[str]:
    """The footer's parts, as the PDF packs them into lines."""
    return letters.legal_mentions(entity, language).split(f" {letters.DASH} ")


@pytest.mark.parametrize(
    ("language", "capital", "vat"),
    [
        ("fr", "au capital de", "N° TVA"),
        ("en", "share capital", "VAT no."),
        ("es", "capital social", "NIF-IVA"),
        ("de", "Stammkapital", "USt-IdNr."),
    ],
)
def test_the_footer_prints_each_identifier_once_with_its_label(
    language: str, capital: str, vat: str
) -> None:
    # The registry already carries the SIREN: it is not printed again, bare.
    assert _mentions(VALLET, language) == [
        f"Vallet Distribution SAS {capital} 1 250 000 €",
        "RCS Lyon 512 345 675",
        f"{vat} FR63512345675",
    ]
    # A SIREN the registry line does not carry is printed, named SIREN.
    other = dataclasses.replace(VALLET, legal_id="552 100 554")
    assert _mentions(other, language)[1:3] == [
        "RCS Lyon 512 345 675",
        "SIREN 552 100 554",
    ]
    # Without a registry line the SIREN stands alone, named; an id typed with
    # its label ("RCS Lyon 123 456 789" in the id field) is printed as typed.
    alone = dataclasses.replace(VALLET, trade_registry="")
    assert _mentions(alone, language)[1] == "SIREN 512345675"
    assert _mentions(ENTITY, language)[1] == "RCS Lyon 123 456 789"


def test_a_spanish_entity_names_its_nif_and_keeps_its_registry() -> None:
    iberica = letters.Letterhead(
        name="Vallet Ibérica",
        legal_form="S.L.",
        country="ES",
        legal_id="B86123457",
        vat_number="ESB86123457",
        trade_registry="Registro Mercantil de Madrid, Tomo 31245",
    )
    assert _mentions(iberica, "es") == [
        "Vallet Ibérica S.L.",
        "Registro Mercantil de Madrid, Tomo 31245",
        "NIF B86123457",
        "NIF-IVA ESB86123457",
    ]
    assert _mentions(iberica, "en")[2:] == ["NIF B86123457", "VAT no. ESB86123457"]
