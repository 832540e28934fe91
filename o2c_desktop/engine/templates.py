"""Templates with merge fields, rendered in a sandbox in the template's language.

A template is Jinja2 text run by `SandboxedEnvironment`: it can read the merge
fields and nothing else (no code, no files). Values are HTML-escaped as they are
merged, so a customer called ``<b>Dupont & Fils</b>`` prints literally; the
template's own text may use ``<b> <i> <u> <br>`` and nothing more.

The body is paragraphs separated by blank lines. ``{{ items_table }}`` on a line
of its own places the table of items concerned; each renderer (PDF, email)
draws it in its own way. Old templates written with ``[[MONTANTENCOURSREEL]]``
style fields keep working: `LEGACY_FIELDS` maps them to the new names.

`validate()` runs when a template is saved and reports every unknown field and
syntax error with its line, so nothing fails at send time.
"""

from __future__ import annotations

import html
import logging
import re
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.exceptions import SecurityError, UndefinedError
from jinja2.sandbox import SandboxedEnvironment
from markupsafe import Markup

from o2c_desktop.engine.types import Channel

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from jinja2 import Template

log = logging.getLogger(__name__)

LANGUAGES = ("fr", "en", "es", "de")
TEMPLATE_CODES = (
    "PRE_REMINDER",
    "STATEMENT",
    "REMINDER_1",
    "REMINDER_2",
    "FORMAL_NOTICE",
    "PAYMENT_ORDER_NOTICE",
    "PROMISE_CONFIRMATION",
    "PLAN_CONFIRMATION",
    "INSTALMENT_REMINDER",
    "BROKEN_PROMISE",
)

# Where the items table goes in a rendered body (U+FFFC: object replacement).
TABLE_MARK = "\ufffc"

_ITEM_ROW = frozenset(
    {
        "number",
        "kind",
        "reference",
        "issue_date",
        "due_date",
        "amount",
        "remaining",
        "days_late",
        "disputed",
        "currency",
    }
)
_INSTALMENT_ROW = frozenset(
    {"seq", "due_date", "amount", "paid", "remaining", "days_late"}
)

# The merge fields a template may use: name -> attributes (None: a plain value).
FIELDS: Mapping[str, frozenset[str] | None] = {
    "customer": frozenset(
        {
            "name",
            "reference",
            "legal_id",
            "vat_number",
            "address",
            "postal_code",
            "city",
            "country",
            "email",
            "phone",
        }
    ),
    "contact": frozenset({"name", "function", "email", "phone"}),
    "entity": frozenset(
        {
            "name",
            "legal_form",
            "address",
            "city",
            "phone",
            "email",
            "legal_id",
            "vat_number",
            "share_capital",
            "trade_registry",
            "iban",
            "bic",
            "legal_mentions",
        }
    ),
    "collector": frozenset({"name", "phone", "email", "signature"}),
    "amounts": frozenset(
        {
            "total",
            "outstanding",
            "overdue",
            "disputed",
            "litigation",
            "unapplied",
            "credit_notes",
            "items_total",
            "principal_claimed",
            "interest",
            "indemnities",
            "total_claimed",
        }
    ),
    "law": frozenset({"name", "country", "rate"}),
    "promise": frozenset({"date", "amount", "number"}),
    "plan": frozenset(
        {"number", "total", "count", "first_date", "last_date", "due_total"}
    ),
    "action": frozenset({"reference", "date"}),
    "items": None,
    "instalments": None,
    "instalments_due": None,  # the instalments an instalment reminder is about
    "items_table": None,
    "item_count": None,
    "today": None,
    "deadline": None,
}
# Attributes of the rows of list fields, checked inside `{% for x in items %}`.
ROW_FIELDS: Mapping[str, frozenset[str]] = {
    "items": _ITEM_ROW,
    "instalments": _INSTALMENT_ROW,
    "instalments_due": _INSTALMENT_ROW,
}
# Names Jinja itself provides inside templates.
_JINJA_NAMES = frozenset({"loop", "range", "true", "false", "none", "namespace"})

# Fields of the templates written before this app ([[NAME]]), see the seed.
LEGACY_FIELDS: Mapping[str, str] = {
    "MONTANTENCOURSREEL": "amounts.outstanding",
    "MONTANTENCOURS": "amounts.outstanding",
    "MONTANTRETARDS": "amounts.overdue",
    "MONTANTGLOBAL": "amounts.total",
    "MONTANTLITIGES": "amounts.disputed",
    "MONTANTCONTENTIEUX": "amounts.litigation",
    "MONTANTNONIMPUTES": "amounts.unapplied",
    "MONTANTINTERETS": "amounts.interest",
    "MONTANTINDEMNITES": "amounts.indemnities",
    "MONTANTRECLAME": "amounts.total_claimed",
    "RAISONSOCIALE": "customer.name",
    "REFCLIENT": "customer.reference",
    "CONTACTCLIENT": "contact.name",
    "CHARGERECOUVREMENT": "collector.name",
    "TELCHARGE": "collector.phone",
    "EMAILCHARGE": "collector.email",
    "SIGNATURE": "collector.signature",
    "SOCIETE": "entity.name",
    "DATEJOUR": "today",
    "DATELIMITE": "deadline",
    "TABLEAUPIECES": "items_table",
    "DATEPROMESSE": "promise.date",
    "MONTANTPROMESSE": "promise.amount",
}
_LEGACY = re.compile(r"\[\[\s*([A-Za-z0-9_]+)\s*\]\]")
_ALLOWED_TAGS = frozenset({"b", "i", "u", "strong", "em", "br"})
_TAG = re.compile(r"<\s*/?\s*([A-Za-z][A-Za-z0-9]*)[^<>]*>")


@dataclass(frozen=True)
class TemplateText:
    """A template as stored: code, channel, language, optional entity, texts."""

    code: str
    channel: Channel
    language: str
    name: str
    subject: str | None
    body: str
    entity_id: int | None = None


@dataclass(frozen=True)
class TemplateProblem:
    """One thing wrong in a template, with where it is."""

    part: str  # "subject" or "body"
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.part}, line {self.line}: {self.message}"


class TemplateError(Exception):
    """A template cannot be rendered; `problems` says where and why."""

    def __init__(self, problems: Sequence[TemplateProblem]) -> None:
        super().__init__("; ".join(str(p) for p in problems))
        self.problems = tuple(problems)


@dataclass(frozen=True)
class RenderedText:
    """A rendered template.

    Attributes:
        subject: plain text.
        markup: the body with escaped values and the allowed tags, paragraphs
            separated by blank lines, `TABLE_MARK` where the items table goes.
    """

    subject: str
    markup: str

    @property
    def paragraphs(self) -> list[str]:
        """Body paragraphs as markup; a paragraph equal to `TABLE_MARK` is the table."""
        parts = re.split(r"\n\s*\n", self.markup.strip())
        out: list[str] = []
        for part in parts:
            # A table mark inside a paragraph still gets a block of its own.
            for i, chunk in enumerate(part.split(TABLE_MARK)):
                if i:
                    out.append(TABLE_MARK)
                if chunk.strip():
                    out.append(chunk.strip())
        return out

    @property
    def text(self) -> str:
        """The body as plain text (tags dropped, entities decoded)."""
        return to_plain(self.markup)


@dataclass(frozen=True)
class TemplateChoice:
    """The template picked for a customer, and whether it is a fallback."""

    template: TemplateText
    requested_language: str

    @property
    def is_fallback(self) -> bool:
        """True when the customer's language had no version of this template."""
        return self.template.language != self.requested_language

    @property
    def note(self) -> str | None:
        """What to record on the action when the template is a fallback."""
        if not self.is_fallback:
            return None
        return (
            f"Template {self.template.code} ({self.template.channel.value}) has no "
            f"'{self.requested_language}' version; used "
            f"'{self.template.language}' (entity language)."
        )


def to_plain(markup: str) -> str:
    """Drop the allowed tags (``<br>`` becomes a line break) and decode entities."""
    text = re.sub(r"<\s*br\s*/?\s*>", "\n", markup)
    text = _TAG.sub("", text)
    return html.unescape(text).replace(TABLE_MARK, "")


def translate_legacy(source: str) -> str:
    """Rewrite ``[[MONTANTRETARDS]]`` fields as Jinja expressions."""

    def repl(match: re.Match[str]) -> str:
        name = match.group(1).upper()
        target = LEGACY_FIELDS.get(name)
        # Unknown names stay unknown to the validator, which reports them.
        return "{{ " + (target or f"legacy_{name}") + " }}"

    return _LEGACY.sub(repl, source)


class _Sandbox(SandboxedEnvironment):
    """The sandbox; formats nothing itself (values arrive formatted)."""


@cache
def _environment() -> _Sandbox:
    return _Sandbox(
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@cache
def _compile(source: str) -> Template:
    return _environment().from_string(translate_legacy(source))


def validate(subject: str | None, body: str) -> list[TemplateProblem]:
    """Check a template before saving it.

    Args:
        subject: the subject line (email, letter), or None.
        body: the body text.

    Returns:
        Every problem found, each with its part and line; empty when valid.
    """
    problems: list[TemplateProblem] = []
    for part, source in (("subject", subject), ("body", body)):
        if source:
            problems.extend(_validate_part(part, source))
    return problems


def _validate_part(part: str, source: str) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    for lineno, line in enumerate(source.splitlines(), start=1):
        for match in _LEGACY.finditer(line):
            if match.group(1).upper() not in LEGACY_FIELDS:
                problems.append(
                    TemplateProblem(part, lineno, f"unknown field [[{match.group(1)}]]")
                )
    env = _environment()
    try:
        tree = env.parse(translate_legacy(source))
        env.compile(tree)  # unknown filters and tests are caught here
    except TemplateSyntaxError as exc:
        problems.append(TemplateProblem(part, exc.lineno, exc.message or str(exc)))
        return problems
    for data in tree.find_all(nodes.TemplateData):
        for lineno, text in _data_lines(data):
            for tag in _TAG.finditer(text):
                if tag.group(1).lower() not in _ALLOWED_TAGS:
                    problems.append(
                        TemplateProblem(
                            part, lineno, f"tag <{tag.group(1)}> is not allowed"
                        )
                    )
    problems.extend(_check_names(part, tree))
    return sorted(problems, key=lambda p: p.line)


def _data_lines(data: nodes.TemplateData) -> Iterable[tuple[int, str]]:
    for offset, text in enumerate(data.data.split("\n")):
        yield data.lineno + offset, text


def _targets(target: nodes.Node) -> list[str]:
    if isinstance(target, nodes.Name):
        return [target.name]
    return [n.name for n in target.find_all(nodes.Name)]


def _check_names(part: str, tree: nodes.Template) -> list[TemplateProblem]:
    problems: list[TemplateProblem] = []
    rows: dict[str, frozenset[str] | None] = {}  # loop variables -> row fields
    for loop in tree.find_all(nodes.For):
        names = _targets(loop.target)
        row = None
        if isinstance(loop.iter, nodes.Name) and len(names) == 1:
            row = ROW_FIELDS.get(loop.iter.name)
        rows.update(dict.fromkeys(names, row))
    for assign in tree.find_all(nodes.Assign):
        rows.update(dict.fromkeys(_targets(assign.target)))
    for block in tree.find_all(nodes.AssignBlock):
        rows.update(dict.fromkeys(_targets(block.target)))
    for macro in tree.find_all(nodes.Macro):
        rows.update(dict.fromkeys([macro.name, *(a.name for a in macro.args)]))

    def known(name: str) -> frozenset[str] | bool | None:
        if name in FIELDS:
            return FIELDS[name]
        if name in rows:
            return rows[name]
        return name in _JINJA_NAMES

    for name in tree.find_all(nodes.Name):
        if name.ctx != "load":
            continue
        if known(name.name) is False:
            shown = name.name
            if shown.startswith("legacy_"):
                continue  # reported above as [[NAME]]
            problems.append(
                TemplateProblem(part, name.lineno, f"unknown field {shown}")
            )
    lookups: list[tuple[nodes.Node, nodes.Expr, object]] = [
        (n, n.node, n.attr) for n in tree.find_all(nodes.Getattr)
    ]
    lookups += [
        (n, n.node, n.arg.value)
        for n in tree.find_all(nodes.Getitem)
        if isinstance(n.arg, nodes.Const)
    ]
    for node, owner, attr in lookups:
        if not isinstance(owner, nodes.Name):
            continue
        allowed = known(owner.name)
        if isinstance(allowed, frozenset) and attr not in allowed:
            problems.append(
                TemplateProblem(part, node.lineno, f"unknown field {owner.name}.{attr}")
            )
    return problems


def render(template: TemplateText, fields: Mapping[str, Any]) -> RenderedText:
    """Merge `fields` (formatted in the template's language) into a template.

    Args:
        template: the template to render.
        fields: values shaped as `FIELDS`, already formatted for its language
            (see `engine.letters.merge_fields`).

    Returns:
        The subject as plain text and the body as safe markup.

    Raises:
        TemplateError: the template is invalid or uses a field not provided.
    """
    values = dict(fields)
    values["items_table"] = Markup(f"\n\n{TABLE_MARK}\n\n")
    try:
        subject = _compile(template.subject).render(values) if template.subject else ""
        body = _compile(template.body).render(values)
    except TemplateSyntaxError as exc:
        raise TemplateError(
            [TemplateProblem(template.code, exc.lineno, exc.message or str(exc))]
        ) from exc
    except (UndefinedError, SecurityError) as exc:
        raise TemplateError(
            [*validate(template.subject, template.body)]
            or [TemplateProblem(template.code, 0, str(exc))]
        ) from exc
    return RenderedText(subject=to_plain(subject).strip(), markup=body)


def choose_template(
    templates: Iterable[TemplateText],
    code: str,
    channel: Channel,
    language: str,
    fallback_language: str,
    entity_id: int | None = None,
) -> TemplateChoice | None:
    """Pick the customer's version of a template, else the entity language's.

    An entity's own template beats the shared one in the same language.

    Returns:
        The choice, or None when no version exists in either language.
    """
    candidates = [t for t in templates if t.code == code and t.channel == channel]
    for lang in (language, fallback_language):
        for owner in (entity_id, None):
            for t in candidates:
                if t.language == lang and t.entity_id == owner:
                    return TemplateChoice(t, language)
    return None


def parse_template_file(text: str, code: str, language: str) -> list[TemplateText]:
    """Read one shipped template file: one section per channel.

    The file format is::

        == email ==
        name: Relance 1
        subject: Relance : factures échues
        (blank line)
        body...
        == letter ==
        ...
    """
    out: list[TemplateText] = []
    sections = re.split(r"^== (\w+) ==\s*$", text, flags=re.MULTILINE)
    for channel, section in zip(sections[1::2], sections[2::2], strict=True):
        head, _, body = section.lstrip("\n").partition("\n\n")
        meta = {}
        for line in head.splitlines():
            key, _, value = line.partition(":")
            meta[key.strip().lower()] = value.strip()
        out.append(
            TemplateText(
                code=code,
                channel=Channel(channel),
                language=language,
                name=meta.get("name", code),
                subject=meta.get("subject") or None,
                body=body.strip("\n") + "\n",
            )
        )
    return out


@cache
def default_templates() -> tuple[TemplateText, ...]:
    """The shipped template set: every code, in FR, EN, ES and DE, email and letter."""
    root = files("o2c_desktop.resources") / "templates"
    out: list[TemplateText] = []
    for language in LANGUAGES:
        folder = root / language
        for code in TEMPLATE_CODES:
            source = folder / f"{code}.txt"
            if not source.is_file():
                log.warning("Missing default template %s/%s", language, code)
                continue
            out.extend(parse_template_file(source.read_text("utf-8"), code, language))
    return tuple(out)
