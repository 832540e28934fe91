"""Templates: merge fields, sandbox, validation at save time, defaults, fallback."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from markupsafe import Markup

from o2c_desktop.engine import letters
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.interest import FRANCE
from o2c_desktop.engine.types import Channel, ItemKind

D = Decimal
TODAY = dt.date(2020, 3, 24)


def _ctx(name: str = "Monnier et Fils") -> letters.LetterContext:
    items = [
        letters.AccountItem(
            "12579512",
            ItemKind.INVOICE,
            dt.date(2020, 1, 25),
            dt.date(2020, 2, 24),
            D("4405.20"),
            D("1234.56"),
            "EUR",
        ),
        letters.AccountItem(
            "77700023",
            ItemKind.INVOICE,
            dt.date(2020, 2, 14),
            dt.date(2020, 4, 15),
            D("7860.00"),
            D("786.00"),
            "EUR",
            disputed=True,
        ),
        letters.AccountItem(
            "RG-48",
            ItemKind.UNAPPLIED_CASH,
            dt.date(2020, 3, 1),
            dt.date(2020, 3, 1),
            D("-48.40"),
            D("-48.40"),
            "EUR",
        ),
    ]
    return letters.build_context(
        letters.Party("18981", name, city="Monnier", postal_code="45349"),
        letters.Letterhead("Acme France", city="Lyon", iban="FR76 3000 4000"),
        items,
        TODAY,
        FRANCE,
        collector=letters.Person("Alex Rossi", phone="04 72 00 00 10"),
        promise=letters.Promise("P-6437", dt.date(2020, 4, 10), D("1234.56")),
        plan=letters.Plan(
            "PL-1",
            (
                letters.Instalment(1, dt.date(2020, 4, 30), D("600.00")),
                letters.Instalment(2, dt.date(2020, 5, 31), D("634.56")),
            ),
        ),
    )


def _t(body: str, subject: str | None = None, language: str = "fr") -> tpl.TemplateText:
    return tpl.TemplateText("X", Channel.LETTER, language, "x", subject, body)


def test_the_seed_template_with_legacy_fields_renders_in_french() -> None:
    # The seed's registered letter, word for word around its two merge fields.
    body = (
        "la somme justement réclamée est de **[[MONTANTENCOURSREEL]]**, "
        "dont **[[MONTANTRETARDS]]** d'échus."
    )
    assert tpl.validate(None, body) == []
    out = tpl.render(_t(body), letters.merge_fields(_ctx(), "fr"))
    # 1,234.56 + 786.00 - 48.40 outstanding; 1,234.56 overdue (the other is due later)
    assert "**1\u202f972,16\xa0€**" in out.text
    assert "dont **1\u202f234,56\xa0€** d'échus" in out.text


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("fr", "1\u202f234,56\xa0€ le 24/03/2020"),
        ("en", "€1,234.56 le 24/03/2020"),
        ("de", "1.234,56\xa0€ le 24.03.2020"),
        ("es", "1.234,56\xa0€ le 24/03/2020"),
    ],
)
def test_formatting_follows_the_template_language(language: str, expected: str) -> None:
    out = tpl.render(
        _t("{{ amounts.overdue }} le {{ today }}", language=language),
        letters.merge_fields(_ctx(), language),
    )
    # Babel: Spanish groups thousands only from five digits.
    assert out.text.strip() == expected


def test_customer_text_is_escaped_not_interpreted() -> None:
    fields = letters.merge_fields(_ctx("<b>Dupont & Fils</b>"), "fr")
    out = tpl.render(_t("Client : <b>{{ customer.name }}</b>"), fields)
    assert out.markup.strip() == "Client : <b>&lt;b&gt;Dupont &amp; Fils&lt;/b&gt;</b>"
    assert out.text.strip() == "Client : <b>Dupont & Fils</b>"


@pytest.mark.parametrize(
    ("subject", "body", "problem"),
    [
        (
            None,
            "Bonjour {{ customer.nme }}",
            "body, line 1: unknown field customer.nme",
        ),
        (None, "a\nb\n{{ montant }}", "body, line 3: unknown field montant"),
        (None, "a\n{% if x %}\nb", "body, line 3: Unexpected end of template"),
        ("Relance {{ amounts.overdu }}", "ok", "subject, line 1: unknown field"),
        (
            None,
            "a\n\n[[MONTANTINCONNU]]",
            "body, line 3: unknown field [[MONTANTINCONNU]]",
        ),
        (
            None,
            "{{ today | nosuchfilter }}",
            "body, line 1: No filter named 'nosuchfilter'",
        ),
        (
            None,
            "x\n<script>alert(1)</script>",
            "body, line 2: tag <script> is not allowed",
        ),
        (
            None,
            "{% for i in items %}{{ i.numero }}{% endfor %}",
            "body, line 1: unknown field i.numero",
        ),
    ],
)
def test_validation_reports_unknown_fields_and_syntax_with_the_line(
    subject: str | None, body: str, problem: str
) -> None:
    problems = tpl.validate(subject, body)
    assert problems, "expected a problem"
    assert problem in str(problems[0])


def test_valid_constructs_pass_validation() -> None:
    body = (
        "{% set n = item_count %}{% for i in items %}{{ i.number }} {{ loop.index }}"
        "{% endfor %}{% for x in instalments %}{{ x.amount }}{% endfor %}"
        "{{ customer['name'] }} {{ items|length }} {{ n }}"
    )
    assert tpl.validate("{{ customer.reference }}", body) == []


def test_sandbox_blocks_code_and_files() -> None:
    evil = "{{ customer.__class__.__mro__[1].__subclasses__() }}"
    with pytest.raises(tpl.TemplateError):
        tpl.render(_t(evil), letters.merge_fields(_ctx(), "fr"))
    # There is no way to reach open() or import from a template.
    with pytest.raises(tpl.TemplateError):
        tpl.render(_t("{{ open('/etc/passwd').read() }}"), {})


def test_items_table_marks_its_place_in_the_body() -> None:
    out = tpl.render(
        _t("Avant :\n{{ items_table }}\nAprès."), letters.merge_fields(_ctx(), "fr")
    )
    assert out.paragraphs == ["Avant :", tpl.TABLE_MARK, "Après."]


def test_default_set_is_complete_and_renders_everywhere() -> None:
    defaults = tpl.default_templates()
    keys = {(t.code, t.channel, t.language) for t in defaults}
    for code in tpl.TEMPLATE_CODES:
        for language in tpl.LANGUAGES:
            for channel in (Channel.EMAIL, Channel.LETTER):
                assert (code, channel, language) in keys
    ctx = _ctx()
    for t in defaults:
        assert tpl.validate(t.subject, t.body) == [], (t.code, t.language, t.channel)
        out = tpl.render(t, letters.merge_fields(ctx, t.language))
        assert out.subject, t.code
        assert "{{" not in out.text
        assert "[[" not in out.text


def test_default_french_letters_read_like_a_french_credit_manager() -> None:
    by_key = {(t.code, t.channel, t.language): t for t in tpl.default_templates()}
    notice = by_key["FORMAL_NOTICE", Channel.LETTER, "fr"]
    out = tpl.render(notice, letters.merge_fields(_ctx(), "fr"))
    assert out.subject == "Mise en demeure de payer"
    assert out.text.startswith("Madame, Monsieur,")
    assert "mettons en demeure" in out.text
    assert "article 1344 du Code civil" in out.text
    assert "salutations distinguées" in out.text
    reminder = by_key["REMINDER_1", Channel.EMAIL, "de"]
    german = tpl.render(reminder, letters.merge_fields(_ctx(), "de"))
    assert german.subject == "Zahlungserinnerung \u2013 überfällige Rechnung(en)"
    assert "Sehr geehrte Damen und Herren," in german.text


def test_fallback_to_the_entity_language_says_so() -> None:
    only_french = [t for t in tpl.default_templates() if t.language == "fr"]
    choice = tpl.choose_template(only_french, "REMINDER_1", Channel.EMAIL, "es", "fr")
    assert choice is not None
    assert choice.is_fallback
    assert choice.template.language == "fr"
    assert choice.note is not None
    assert "'es'" in choice.note
    assert "entity language" in choice.note
    exact = tpl.choose_template(
        tpl.default_templates(), "REMINDER_1", Channel.EMAIL, "es", "fr"
    )
    assert exact is not None
    assert not exact.is_fallback
    assert exact.note is None
    assert tpl.choose_template([], "REMINDER_1", Channel.EMAIL, "es", "fr") is None


def test_an_entity_template_beats_the_shared_one() -> None:
    shared = _t("shared")
    own = tpl.TemplateText("X", Channel.LETTER, "fr", "x", None, "own", entity_id=7)
    choice = tpl.choose_template([shared, own], "X", Channel.LETTER, "fr", "fr", 7)
    assert choice is not None
    assert choice.template.body == "own"


def test_parse_template_file_reads_channel_sections() -> None:
    text = (
        "== email ==\nname: A\nsubject: Hello {{ customer.name }}\n\nBody 1\n"
        "== letter ==\nname: B\nsubject: Lettre\n\nBody 2\n\nPara 2\n"
    )
    email, letter = tpl.parse_template_file(text, "X", "fr")
    assert (email.channel, email.subject, email.body) == (
        Channel.EMAIL,
        "Hello {{ customer.name }}",
        "Body 1\n",
    )
    assert (letter.name, letter.body) == ("B", "Body 2\n\nPara 2\n")


# -- templates that could hang a run (issue 14 §5) ----------------------------


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        ("{{ customer.name|safe }}", "the safe filter is not allowed"),
        (
            "{% autoescape false %}{{ customer.name }}{% endautoescape %}",
            "autoescape cannot be turned off",
        ),
        (
            "{% for i in range(100000) %}{% for j in range(100000) %}x"
            "{% endfor %}{% endfor %}",
            "this loop runs 100000 times, more than the limit of 10000",
        ),
        (
            "{% for i in range(5000) %}\n{% for j in range(5000) %}x"
            "{% endfor %}{% endfor %}",
            "line 2: this loop runs 25000000 times",
        ),
        # Constant folding would compute this while compiling, beyond any timer.
        ("{{ 9**(9**9) }}", "the power operator ** is not allowed"),
        ("{{ 'x' * 1000000000 }}", "a text longer than 20000 characters"),
        ("{{ range(10000)|join('x' * 10000) }}", "a text longer than 20000"),
        ("{% set s = 'x' * 20000 %}{{ s ~ s }}", "a text longer than 20000"),
        ("{% set s = 'x' * 20000 %}{{ ([s] * 20000)|join }}", "a text longer than"),
        ("{% set s = 'x' * 9000 %}{{ [s, s, s] }}", "a text longer than 20000"),
        ("{{ '%999999999d' % 1 }}", "formatting text (%) is not allowed"),
        ("{{ customer.name|center(1000000000) }}", "the filter center is not"),
        ("{{ 'x'.ljust(1000000000) }}", "only range(), loop.cycle() and"),
        ("{% set ns = namespace(n=1) %}{{ ns.n }}", "namespace() is not allowed"),
        ("{% macro f(s) %}{{ f(s ~ s) }}{% endmacro %}{{ f('x') }}", "macros are"),
        ("{% for x in items recursive %}{{ loop(x) }}{% endfor %}", "recursive"),
        ("{% set x %}{{ items }}{% endset %}{{ x }}", "a set or filter block"),
        ("{% include 'other' %}", "cannot include or extend another"),
        # With three sample rows: 27 x 9,999 turns.
        (
            "{% for a in items %}{% for b in items %}{% for c in items %}"
            "{% for d in range(9999) %}{{ d }}{% endfor %}{% endfor %}{% endfor %}"
            "{% endfor %}",
            "loops run more than 10000 times in all",
        ),
        (
            "{% for i in range(10000) %}" + "a" * 100 + "{% endfor %}",
            "the text produced is longer than 200000 characters",
        ),
        ("x" * 20_001, "the template is longer than 20000 characters"),
    ],
)
def test_what_could_hang_or_flood_a_run_is_refused_with_the_reason(
    body: str, reason: str
) -> None:
    problems = tpl.validate(None, body)
    assert problems, "expected a refusal"
    assert reason in "; ".join(str(p) for p in problems)
    # The same template already stored (imported into the database): the
    # render refuses it with the same reason, it does not run it.
    with pytest.raises(tpl.TemplateError, match=re.escape(reason)):
        tpl.render(_t(body), letters.merge_fields(_ctx(), "fr"))


def test_nested_loops_over_the_data_are_cut_by_the_loop_budget() -> None:
    # Valid for a customer with a few items; 40 items make 64,000 turns.
    body = (
        "{% for a in items %}{% for b in items %}\n"
        "{% for c in items %}{{ c.number }}{% endfor %}{% endfor %}{% endfor %}"
    )
    assert tpl.validate(None, body) == []
    fields = letters.merge_fields(_ctx(), "fr")
    fields["items"] = fields["items"][:1] * 40
    with pytest.raises(tpl.TemplateError) as caught:
        tpl.render(_t(body), fields)
    (problem,) = caught.value.problems
    assert (problem.part, problem.line) == ("body", 2)
    assert problem.message == "loops run more than 10000 times in all"


def test_a_render_that_would_run_for_hours_stops_at_its_deadline() -> None:
    # 10^12 loop turns allowed: only the clock can stop this one.
    body = (
        "{% set n = 10000 %}{% for a in range(n) %}{% for b in range(n) %}"
        "{% for c in range(n) %}{% endfor %}{% endfor %}{% endfor %}"
    )
    limits = tpl.Limits(iterations=10**12, seconds=0.2)
    with pytest.raises(tpl.TemplateError, match=r"took longer than 0\.2 seconds"):
        tpl.render(_t(body), {}, limits)


def test_a_stored_template_that_fails_says_why_and_where() -> None:
    fields = letters.merge_fields(_ctx(), "fr")
    with pytest.raises(tpl.TemplateError) as caught:
        tpl.render(_t("Bonjour,\n\n{{ item_count / 0 }}"), fields)
    assert str(caught.value) == "body, line 3: cannot be rendered: division by zero"
    # A ValueError: the UI shows its message as written, not as a crash.
    assert isinstance(caught.value, ValueError)


def test_the_allowed_constructs_still_work() -> None:
    body = (
        "{% for i in instalments %}{{ loop.cycle('a', 'b') }}{{ loop.index }}"
        "{% if not loop.last %}, {% endif %}{% endfor %} "
        "{% for n in range(3) %}{{ n * 2 + 1 }}{% endfor %} "
        "{{ customer.name|upper|replace('ET', '&') }} {{ [1, 2]|join('-') }} "
        "{{ contact.name|default('Madame, Monsieur', true) }} {{ 7 // 2 }} "
        "{{ 'a' ~ customer.reference }}"
    )
    assert tpl.validate(None, body) == []
    out = tpl.render(_t(body), letters.merge_fields(_ctx(), "fr"))
    assert out.text.strip() == (
        "a1, b2 135 MONNIER & FILS 1-2 Madame, Monsieur 3 a18981"
    )


def test_default_templates_render_as_with_the_plain_jinja_sandbox() -> None:
    # The limits change nothing for the shipped set, in every language.
    from jinja2 import StrictUndefined
    from jinja2.sandbox import SandboxedEnvironment

    plain = SandboxedEnvironment(
        autoescape=True, undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True
    )
    ctx = _ctx()
    for t in tpl.default_templates():
        fields = letters.merge_fields(ctx, t.language)
        values = {**fields, "items_table": Markup(f"\n\n{tpl.TABLE_MARK}\n\n")}
        assert t.subject
        expected_subject = plain.from_string(t.subject).render(values)
        expected_body = plain.from_string(tpl.translate_legacy(t.body)).render(values)
        out = tpl.render(t, fields)
        key = (t.code, t.channel, t.language)
        assert out.markup == expected_body, key
        assert out.subject == tpl.to_plain(expected_subject).strip(), key
