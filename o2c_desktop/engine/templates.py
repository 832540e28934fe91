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
syntax error with its line, so nothing fails at send time. It also refuses what
could hang or flood a dunning run (issue 14 §5): ``|safe``, ``autoescape``
blocks, ``**``, macros and the other constructs of `_REFUSED`, loops over more
than `Limits.iterations` values. `render()` runs every template, stored ones
too, under `Limits`: loop turns, text sizes, output size and time are counted
as it goes, and going over one stops that render with a `TemplateError`.
"""

from __future__ import annotations

import contextvars
import functools
import html
import logging
import re
import time
from dataclasses import dataclass
from functools import cache
from importlib.resources import files
from typing import TYPE_CHECKING, Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.compiler import CodeGenerator
from jinja2.exceptions import SecurityError, TemplateRuntimeError, UndefinedError
from jinja2.filters import FILTERS as DEFAULT_FILTERS
from jinja2.runtime import LoopContext
from jinja2.sandbox import SandboxedEnvironment
from jinja2.utils import pass_eval_context
from markupsafe import Markup

from o2c_desktop.engine.types import Channel
from o2c_desktop.i18n import _

if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
    from types import TracebackType

    from jinja2 import Template
    from jinja2.compiler import Frame
    from jinja2.nodes import EvalContext
    from jinja2.runtime import Context

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
        "paid",
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
            "fees",
            "amount_due",
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
    "claims_principal": None,  # whether principal is claimed (bool)
    "claims_fees": None,  # whether dunning fees are claimed (bool)
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
_JINJA_NAMES = frozenset({"loop", "range", "true", "false", "none"})

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
        part = {"subject": _("subject"), "body": _("body")}.get(self.part, self.part)
        if not self.line:  # a limit of the whole render, e.g. its output size
            return _("{part}: {message}").format(part=part, message=self.message)
        return _("{part}, line {line}: {message}").format(
            part=part, line=self.line, message=self.message
        )


class TemplateError(ValueError):
    """A template cannot be rendered; `problems` says where and why.

    A ValueError: the message is written for the user (the UI shows it as is).
    """

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


@dataclass(frozen=True)
class Limits:
    """What rendering one template may do (issue 14 §5).

    Attributes:
        source_chars: the longest subject or body a template may have.
        iterations: loop turns per render, all loops together.
        text_chars: the longest text the template itself may build (``~``,
            ``+``, ``*``, filters); merge field values are data, not counted.
        output_chars: the longest rendered subject plus body.
        seconds: wall time of one render.
    """

    source_chars: int = 20_000
    iterations: int = 10_000
    text_chars: int = 20_000
    output_chars: int = 200_000
    seconds: float = 2.0


LIMITS = Limits()
_INT_BITS = 4096  # larger numbers are not amounts (and str() of them is slow)

# The filters a template may use: none of them can make a text much longer than
# its input (join and replace are checked first). Out: safe (values are always
# escaped), center/indent/format/wordwrap/batch (a width multiplies the size),
# map/select/... (they call other filters by name), sum (quadratic on lists).
_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "forceescape",
        "int",
        "join",
        "last",
        "length",
        "list",
        "lower",
        "max",
        "min",
        "replace",
        "reverse",
        "round",
        "sort",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "wordcount",
    }
)
_LOOP_FILTER = "_o2c_loop"  # wraps every loop's iterable (see `_Sandbox`)
_LOOP_CALLS = frozenset({"cycle", "changed"})


class _LimitError(Exception):
    """A render went over one of the `Limits`; the message says which."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class _Budget:
    """What one render has used so far of its `Limits`."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.turns = 0
        self.output = 0
        self.deadline = time.monotonic() + limits.seconds

    def check(self) -> None:
        if time.monotonic() > self.deadline:
            raise _LimitError(
                _("rendering took longer than {n} seconds").format(
                    n=f"{self.limits.seconds:g}"
                )
            )

    def turn(self) -> None:
        self.turns += 1
        if self.turns > self.limits.iterations:
            raise _LimitError(
                _("loops run more than {n} times in all").format(
                    n=self.limits.iterations
                )
            )
        self.check()

    def text(self, size: int) -> None:
        if size > self.limits.text_chars:
            raise _LimitError(
                _("builds a text longer than {n} characters").format(
                    n=self.limits.text_chars
                )
            )
        self.check()

    def emit(self, size: int) -> None:
        self.output += size
        if self.output > self.limits.output_chars:
            raise _LimitError(
                _("the text produced is longer than {n} characters").format(
                    n=self.limits.output_chars
                )
            )
        self.check()


_BUDGET: contextvars.ContextVar[_Budget | None] = contextvars.ContextVar(
    "o2c_template_budget", default=None
)


def _budget() -> _Budget:
    budget = _BUDGET.get()
    if budget is None:
        raise RuntimeError("templates run only through render(), under its limits")
    return budget


def _range_length(values: range) -> int:
    try:
        return len(values)
    except OverflowError:  # more values than a C long
        return abs(values.stop - values.start) // abs(values.step)


def _range(*args: int) -> range:
    """range() with the loop budget: refused beyond `Limits.iterations` values."""
    budget = _budget()
    budget.check()
    values = range(*args)
    count = _range_length(values)
    if count > budget.limits.iterations:
        raise _LimitError(
            _("range() of {count} values, more than the limit of {n}").format(
                count=count, n=budget.limits.iterations
            )
        )
    return values


def _loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """Every loop's iterable: each turn is counted against the render's budget."""
    budget = _budget()
    for value in iterable:
        budget.turn()
        yield value


def _size(value: object) -> int:
    """About how many characters a value prints as: texts, and what lists hold."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list | tuple):
        return len(value) + sum(_size(v) for v in value)
    if isinstance(value, dict):
        return len(value) + sum(_size(k) + _size(v) for k, v in value.items())
    return 0


def _sized(value: Any) -> Any:
    """A list, tuple or dict the template writes (``[a, a, a]``), size checked."""
    _budget().text(_size(value))
    return value


def _checked_filter(f: Callable[..., Any]) -> Callable[..., Any]:
    """A filter that checks the clock and the size of the text it returns."""

    @functools.wraps(f)  # keeps Jinja's pass_* marker
    def checked(*args: Any, **kwargs: Any) -> Any:
        budget = _budget()
        budget.check()
        result = f(*args, **kwargs)
        if isinstance(result, str):
            budget.text(len(result))
        return result

    return checked


@pass_eval_context
def _join(
    eval_ctx: EvalContext, value: Iterable[Any], d: str = "", attribute: Any = None
) -> str:
    values = list(value)
    joined = len(str(d)) * max(len(values) - 1, 0)
    _budget().text(joined + (_size(values) if attribute is None else 0))
    return str(DEFAULT_FILTERS["join"](eval_ctx, values, d, attribute))


@pass_eval_context
def _replace(
    eval_ctx: EvalContext, s: str, old: str, new: str, count: int | None = None
) -> str:
    text, old, new = str(s), str(old), str(new)
    hits = text.count(old) if count is None else min(max(count, 0), len(text) + 1)
    _budget().text(len(text) + hits * max(len(new) - len(old), 0))
    return str(DEFAULT_FILTERS["replace"](eval_ctx, s, old, new, count))


def _join_texts(parts: tuple[Any, ...], join: Callable[[Any], str]) -> str:
    """``a ~ b ~ c``, its size checked before and after escaping."""
    budget = _budget()
    budget.text(sum(len(p) if isinstance(p, str) else len(str(p)) for p in parts))
    result = join(parts)
    budget.text(len(result))
    return result


class _CodeGenerator(CodeGenerator):
    """Jinja's code generator, ``~`` and list literals checked for size."""

    def visit_List(self, node: nodes.List, frame: Frame) -> None:  # noqa: N802
        self.write("environment.sized(")
        super().visit_List(node, frame)
        self.write(")")

    def visit_Dict(self, node: nodes.Dict, frame: Frame) -> None:  # noqa: N802
        self.write("environment.sized(")
        super().visit_Dict(node, frame)
        self.write(")")

    def visit_Tuple(self, node: nodes.Tuple, frame: Frame) -> None:  # noqa: N802
        if node.ctx != "load":  # a, b = ...: assignment targets
            super().visit_Tuple(node, frame)
            return
        self.write("environment.sized(")
        super().visit_Tuple(node, frame)
        self.write(")")

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:  # noqa: N802
        # As CodeGenerator.visit_Concat, the joined parts checked first.
        if frame.eval_ctx.volatile:
            func_name = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            func_name = "markup_join"
        else:
            func_name = "str_join"
        self.write("environment.join_texts((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(f"), {func_name})")


class _Sandbox(SandboxedEnvironment):
    """The sandbox; formats nothing itself (values arrive formatted).

    Why rendering cannot hang, in-process (issue 14 §5): every way a template
    repeats work goes through a guard that counts it and checks the clock:
    each loop turn (`_loop`, one budget per render), calls (only range() and
    loop.cycle/changed), arithmetic (`call_binop`, sizes checked before
    computing), ``~`` and list literals (`_join_texts`, `_sized`), filters
    (`_FILTERS`, sizes checked) and every piece of output. What could recurse
    or buffer output out of sight (macros, call and set blocks, recursive
    loops, includes) is refused before compiling, also for stored templates.
    So between two clock checks a render does at most one template's worth of
    work on texts of at most `Limits.text_chars`, and it stops soon after
    `Limits.seconds`. Compiling evaluates nothing: the optimizer is off and
    every operator is intercepted (Jinja folds constants such as ``9**(9**9)``
    at compile time otherwise). A worker process would cost pickling each
    letter's fields and care in the frozen app, and kill an uncooperative loop
    only at the cost of a restart; none is needed when no loop is
    uncooperative.
    """

    code_generator_class = _CodeGenerator
    intercepted_binops = frozenset({"+", "-", "*", "/", "//", "%", "**"})

    def __init__(self) -> None:
        super().__init__(
            autoescape=True,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            optimized=False,
        )
        filters = {name: DEFAULT_FILTERS[name] for name in _FILTERS}
        filters.update(join=_join, replace=_replace)
        self.filters = {name: _checked_filter(f) for name, f in filters.items()}
        self.filters[_LOOP_FILTER] = _loop
        # No namespace() (it carries values from one loop turn to the next),
        # no cycler, joiner, lipsum, dict.
        self.globals = {"range": _range}
        self.join_texts = _join_texts
        self.sized = _sized

    def call_binop(self, context: Context, operator: str, left: Any, right: Any) -> Any:
        """Arithmetic, refused when its result would be too large."""
        budget = _budget()
        budget.check()
        if operator == "**":
            raise _LimitError(_("the power operator ** is not allowed"))
        if operator == "%" and isinstance(left, str):
            raise _LimitError(
                _("formatting text (%) is not allowed; join texts with ~")
            )
        if operator == "+":
            budget.text(_size(left) + _size(right))
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(times, int):
                    budget.text(_size(seq) * max(times, 0))
            if (
                isinstance(left, int)
                and isinstance(right, int)
                and left.bit_length() + right.bit_length() > _INT_BITS
            ):
                raise _LimitError(_("a number is too large"))
        return super().call_binop(context, operator, left, right)

    def call(
        __self,  # noqa: N805 (Jinja's name, so keyword arguments pass through)
        __context: Context,
        __obj: Any,
        *args: Any,
        **kwargs: Any,
    ) -> Any:
        """Call range() or loop.cycle()/loop.changed(); refuse anything else."""
        _budget().check()
        helper = isinstance(getattr(__obj, "__self__", None), LoopContext)
        if __obj is not _range and not (
            helper and getattr(__obj, "__name__", "") in _LOOP_CALLS
        ):
            raise SecurityError(_CALLS_ONLY())
        return super().call(__context, __obj, *args, **kwargs)


def _CALLS_ONLY() -> str:  # noqa: N802 (a message, translated when shown)
    return _("only range(), loop.cycle() and loop.changed() can be called")


@cache
def _environment() -> _Sandbox:
    return _Sandbox()


@dataclass(frozen=True)
class _Compiled:
    """A part compiled for rendering, or why it cannot be."""

    template: Template | None
    problems: tuple[TemplateProblem, ...]


def _parse(
    part: str, source: str
) -> tuple[nodes.Template | None, list[TemplateProblem]]:
    limit = LIMITS.source_chars
    if len(source) > limit:
        message = _("the template is longer than {n} characters").format(n=limit)
        return None, [TemplateProblem(part, 1, message)]
    try:
        return _environment().parse(translate_legacy(source)), []
    except TemplateSyntaxError as exc:
        return None, [TemplateProblem(part, exc.lineno, exc.message or str(exc))]
    except (RecursionError, MemoryError):
        return None, [TemplateProblem(part, 1, _("the template is nested too deeply"))]
    except ValueError as exc:  # a number of more than 4,300 digits
        reason = _("cannot be read: {reason}").format(reason=exc)
        return None, [TemplateProblem(part, 1, reason)]


@functools.lru_cache(maxsize=512)
def _compiled(part: str, source: str) -> _Compiled:
    """Parse, refuse what `_refusals` names, and compile (cached per text)."""
    tree, problems = _parse(part, source)
    if tree is None:
        return _Compiled(None, tuple(problems))
    refused = _refusals(part, tree)
    if refused:
        return _Compiled(None, tuple(refused))
    for loop in tree.find_all(nodes.For):
        loop.iter = nodes.Filter(
            loop.iter, _LOOP_FILTER, [], [], None, None, lineno=loop.iter.lineno
        )
    try:
        return _Compiled(_environment().from_string(tree), ())
    except TemplateSyntaxError as exc:  # unknown filters and tests
        problem = TemplateProblem(part, exc.lineno, exc.message or str(exc))
    except (RecursionError, MemoryError, SyntaxError):
        problem = TemplateProblem(part, 1, _("the template is nested too deeply"))
    return _Compiled(None, (problem,))


def _refusals(part: str, tree: nodes.Template) -> list[TemplateProblem]:
    """What a template may not do, whatever the data (issue 14 §5)."""
    problems: list[TemplateProblem] = []

    def refuse(node: nodes.Node, message: str) -> None:
        problems.append(TemplateProblem(part, node.lineno, message))

    # Calling a macro or namespace() is reported as that, not as a call.
    named = {m.name for m in tree.find_all(nodes.Macro)} | {"namespace"}

    for node in tree.find_all(nodes.Node):
        if isinstance(node, nodes.Filter) and node.name not in _FILTERS:
            if node.name == "safe":
                refuse(
                    node,
                    _("the safe filter is not allowed (values are always escaped)"),
                )
            elif node.name in DEFAULT_FILTERS:
                refuse(
                    node, _("the filter {name} is not allowed").format(name=node.name)
                )
        elif isinstance(node, nodes.EvalContextModifier):
            refuse(
                node,
                _("autoescape cannot be turned off (values are always escaped)"),
            )
        elif isinstance(node, nodes.Pow):
            refuse(node, _("the power operator ** is not allowed"))
        elif isinstance(node, nodes.Macro | nodes.CallBlock):
            refuse(node, _("macros are not allowed"))
        elif isinstance(node, nodes.For) and node.recursive:
            refuse(node, _("recursive loops are not allowed"))
        elif isinstance(node, nodes.AssignBlock | nodes.FilterBlock):
            refuse(node, _("a set or filter block is not allowed; write set x = value"))
        elif isinstance(node, nodes.NSRef) or (
            isinstance(node, nodes.Name) and node.name == "namespace"
        ):
            refuse(node, _("namespace() is not allowed"))
        elif isinstance(
            node,
            nodes.Include
            | nodes.Import
            | nodes.FromImport
            | nodes.Extends
            | nodes.Block,
        ):
            refuse(node, _("a template cannot include or extend another"))
        elif (
            isinstance(node, nodes.Call)
            and not _callable(node.node)
            and not (isinstance(node.node, nodes.Name) and node.node.name in named)
        ):
            refuse(node, _CALLS_ONLY())
    problems.extend(_constant_loops(part, tree.body, 1))
    # One problem per line and kind is enough (a loop refused once, not per node).
    return sorted(set(problems), key=lambda p: (p.line, p.message))


def _callable(node: nodes.Expr) -> bool:
    if isinstance(node, nodes.Name):
        return node.name == "range"
    return (
        isinstance(node, nodes.Getattr)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "loop"
        and node.attr in _LOOP_CALLS
    )


def _constant_loops(
    part: str, body: Sequence[nodes.Node], outer: int
) -> list[TemplateProblem]:
    """Loops over range(constants), nested: their turns multiply."""
    problems: list[TemplateProblem] = []
    for node in body:
        inner = outer
        if isinstance(node, nodes.For):
            count = _range_count(node.iter)
            inner = outer * count if count is not None else outer
            if inner > LIMITS.iterations:
                message = _("this loop runs {count} times, more than the limit of {n}")
                problems.append(
                    TemplateProblem(
                        part,
                        node.lineno,
                        message.format(count=inner, n=LIMITS.iterations),
                    )
                )
                continue
        problems.extend(_constant_loops(part, list(node.iter_child_nodes()), inner))
    return problems


def _range_count(node: nodes.Node) -> int | None:
    if not (
        isinstance(node, nodes.Call)
        and isinstance(node.node, nodes.Name)
        and node.node.name == "range"
        and node.args
        and all(isinstance(a, nodes.Const) and type(a.value) is int for a in node.args)
        and not (node.kwargs or node.dyn_args or node.dyn_kwargs)
    ):
        return None
    try:
        return _range_length(range(*(a.value for a in node.args)))  # type: ignore[attr-defined]
    except (TypeError, ValueError):
        return None  # render says what is wrong with it


def validate(subject: str | None, body: str) -> list[TemplateProblem]:
    """Check a template before saving it.

    Args:
        subject: the subject line (email, letter), or None.
        body: the body text.

    Returns:
        Every problem found, each with its part and line; empty when valid.
    """
    problems = _static_problems(subject, body)
    return problems or _trial(subject, body)


def _static_problems(subject: str | None, body: str) -> list[TemplateProblem]:
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
                name = f"[[{match.group(1)}]]"
                problems.append(
                    TemplateProblem(
                        part, lineno, _("unknown field {name}").format(name=name)
                    )
                )
    tree, parse_problems = _parse(part, source)
    if tree is None:
        return problems + parse_problems
    # Refusals and unknown filters or tests come from compiling.
    problems.extend(_compiled(part, source).problems)
    for data in tree.find_all(nodes.TemplateData):
        for lineno, text in _data_lines(data):
            for tag in _TAG.finditer(text):
                if tag.group(1).lower() not in _ALLOWED_TAGS:
                    problems.append(
                        TemplateProblem(
                            part,
                            lineno,
                            _("tag <{name}> is not allowed").format(name=tag.group(1)),
                        )
                    )
    problems.extend(_check_names(part, tree))
    return sorted(problems, key=lambda p: p.line)


def _trial(subject: str | None, body: str) -> list[TemplateProblem]:
    """Render with sample fields: report only a limit it goes over."""
    trial = TemplateText("TRIAL", Channel.EMAIL, "en", "trial", subject, body)
    try:
        _render(trial, _sample_fields(), LIMITS)
    except _StoppedError as exc:
        return [exc.problem]
    except TemplateError:
        return []  # sample values may not suit the template; real ones will
    return []


class _StoppedError(Exception):
    """A render refused for going over a limit or out of the sandbox."""

    def __init__(self, problem: TemplateProblem) -> None:
        super().__init__(str(problem))
        self.problem = problem


@cache
def _sample_fields() -> dict[str, Any]:
    """Merge fields of the right types for a trial render (three rows a list)."""
    kinds = {"days_late": 30, "seq": 1, "disputed": False}
    values: dict[str, Any] = {}
    for name, attrs in FIELDS.items():
        if attrs is not None:
            values[name] = dict.fromkeys(attrs, "x")
        elif name in ROW_FIELDS:
            row = {a: kinds.get(a, "x") for a in ROW_FIELDS[name]}
            values[name] = [row, dict(row), dict(row)]
        else:
            values[name] = "x"
    values["item_count"] = 3
    return values


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
            if shown.startswith("legacy_") or shown == "namespace":
                continue  # reported above as [[NAME]], or as refused
            problems.append(
                TemplateProblem(
                    part, name.lineno, _("unknown field {name}").format(name=shown)
                )
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
            field = f"{owner.name}.{attr}"
            problems.append(
                TemplateProblem(
                    part, node.lineno, _("unknown field {name}").format(name=field)
                )
            )
    return problems


def render(
    template: TemplateText, fields: Mapping[str, Any], limits: Limits = LIMITS
) -> RenderedText:
    """Merge `fields` (formatted in the template's language) into a template.

    Args:
        template: the template to render.
        fields: values shaped as `FIELDS`, already formatted for its language
            (see `engine.letters.merge_fields`).
        limits: what the render may use (loop turns, sizes, time).

    Returns:
        The subject as plain text and the body as safe markup.

    Raises:
        TemplateError: the template is invalid, uses a field not provided, or
            went over a limit.
    """
    try:
        return _render(template, fields, limits)
    except _StoppedError as exc:
        raise TemplateError([exc.problem]) from exc


def _render(
    template: TemplateText, fields: Mapping[str, Any], limits: Limits
) -> RenderedText:
    values = dict(fields)
    values["items_table"] = Markup(f"\n\n{TABLE_MARK}\n\n")
    budget = _Budget(limits)
    token = _BUDGET.set(budget)
    try:
        subject = (
            _run(template, "subject", template.subject, values, budget)
            if template.subject
            else ""
        )
        body = _run(template, "body", template.body, values, budget)
    finally:
        _BUDGET.reset(token)
    return RenderedText(subject=to_plain(subject).strip(), markup=body)


def _run(
    template: TemplateText,
    part: str,
    source: str,
    values: dict[str, Any],
    budget: _Budget,
) -> str:
    compiled = _compiled(part, source)
    if compiled.template is None:
        raise TemplateError(compiled.problems)
    out: list[str] = []
    try:
        # Piece by piece, so that the output limit stops a render early.
        for chunk in compiled.template.generate(values):
            budget.emit(len(chunk))
            out.append(chunk)
    except _LimitError as exc:
        line = _template_line(exc.__traceback__)
        raise _StoppedError(TemplateProblem(part, line, exc.message)) from exc
    except SecurityError as exc:
        line = _template_line(exc.__traceback__)
        raise _StoppedError(TemplateProblem(part, line, str(exc))) from exc
    except UndefinedError as exc:
        raise TemplateError(
            _static_problems(template.subject, template.body)
            or [TemplateProblem(part, _template_line(exc.__traceback__), str(exc))]
        ) from exc
    except (
        ArithmeticError,
        LookupError,
        TypeError,
        ValueError,
        RecursionError,
        MemoryError,
        TemplateRuntimeError,
    ) as exc:
        # Whatever a stored template does wrong fails this document only.
        reason = _("cannot be rendered: {reason}").format(reason=exc)
        line = _template_line(exc.__traceback__)
        raise TemplateError([TemplateProblem(part, line, reason)]) from exc
    return "".join(out)


def _template_line(tb: TracebackType | None) -> int:
    """The template line an error was raised at (Jinja rewrites the frames)."""
    line = 0
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == "<template>":
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


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
