"""PDF rendering of letters and statements with reportlab.

The layout follows French business letters printed for a DL window envelope
(window 100 x 45 mm, 20 mm from the right edge, 50 mm from the top of the
envelope when the A4 is folded in three): the address block sits 110 mm from
the left edge and 55 mm from the top. Letterhead and the address block are on
the first page; every page carries the legal mentions and, when there are
several, "Page n / N". Table headers repeat on each page.

Every string from the database reaches reportlab either as a table cell (drawn
as is, never parsed) or escaped: a customer named ``<b>Dupont & Fils</b>``
prints exactly so. Only letter paragraphs carry markup, produced by
`engine.templates` with the values already escaped.

reportlab is imported inside the functions (lazy heavy import, STYLE §7).
"""

from __future__ import annotations

import io
import logging
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.sax.saxutils import escape

from o2c_desktop.engine.letters import DASH, address_lines, labels

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from reportlab.lib.colors import Color
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import Flowable

    from o2c_desktop.engine.letters import (
        PrintedLetter,
        PrintedReport,
        PrintedTable,
        Sheet,
    )

log = logging.getLogger(__name__)

MM = 72 / 25.4
PAGE_W, PAGE_H = 210 * MM, 297 * MM
LEFT = 20 * MM
RIGHT = 20 * MM
WIDTH = PAGE_W - LEFT - RIGHT
WINDOW_X = 110 * MM  # window envelope (DL, window on the right)
WINDOW_TOP = 55 * MM
BOTTOM = 24 * MM
NAVY = "#1f3a5f"
GREY = "#555555"
MARK = "#fdf0c8"  # disputed rows
STRIPE = "#f3f5f8"
RULE = "#c8ced6"
WHITE = "#ffffff"
BLACK = "#000000"

# Fonts with the euro sign, accents and the narrow no-break space Babel puts in
# French amounts. First found wins; Helvetica (no embedding) is the last resort.
# Regular, bold, italic, bold italic (the message editor offers both at once).
FONT_CANDIDATES: tuple[tuple[str, str, str, str], ...] = (
    (
        "DejaVuSansCondensed.ttf",
        "DejaVuSansCondensed-Bold.ttf",
        "DejaVuSansCondensed-Oblique.ttf",
        "DejaVuSansCondensed-BoldOblique.ttf",
    ),
    ("arial.ttf", "arialbd.ttf", "ariali.ttf", "arialbi.ttf"),
    ("Arial.ttf", "Arial Bold.ttf", "Arial Italic.ttf", "Arial Bold Italic.ttf"),
    (
        "LiberationSans-Regular.ttf",
        "LiberationSans-Bold.ttf",
        "LiberationSans-Italic.ttf",
        "LiberationSans-BoldItalic.ttf",
    ),
)
FONT_DIRS: tuple[Path, ...] = (
    Path(__file__).resolve().parent.parent / "resources" / "fonts",
    Path("/usr/share/fonts/truetype/dejavu"),
    Path("/usr/share/fonts/dejavu"),
    Path("/usr/share/fonts/TTF"),
    Path("/usr/share/fonts/truetype/liberation"),
    Path("C:/Windows/Fonts"),
    Path("/Library/Fonts"),
    Path("/System/Library/Fonts/Supplemental"),
)


@dataclass(frozen=True)
class Fonts:
    """The font family used for documents."""

    regular: str
    bold: str
    italic: str
    embedded: bool


@cache
def fonts() -> Fonts:
    """Register the first available TrueType family, or fall back to Helvetica."""
    from reportlab import rl_config
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFont

    # Binary streams: ASCII85 only makes files 25 % bigger and slower to write.
    rl_config.useA85 = 0
    for names in FONT_CANDIDATES:
        for folder in FONT_DIRS:
            paths = [folder / n for n in names]
            if all(p.is_file() for p in paths):
                family = ("O2C", "O2C-Bold", "O2C-Italic", "O2C-BoldItalic")
                for name, path in zip(family, paths, strict=True):
                    pdfmetrics.registerFont(TTFont(name, str(path)))
                pdfmetrics.registerFontFamily(
                    "O2C",
                    normal="O2C",
                    bold="O2C-Bold",
                    italic="O2C-Italic",
                    boldItalic="O2C-BoldItalic",
                )
                log.debug("Documents use %s", paths[0])
                return Fonts(*family[:3], embedded=True)
    log.warning("No TrueType font found; documents use Helvetica")
    return Fonts("Helvetica", "Helvetica-Bold", "Helvetica-Oblique", embedded=False)


@cache
def _c(hex_color: str) -> Color:
    """A reportlab colour, built once (parsing strings costs ~3 ms a letter)."""
    from reportlab.lib.colors import HexColor

    return HexColor(hex_color)


def _t(text: str) -> str:
    """Text safe for the font: Helvetica lacks the narrow no-break space."""
    if fonts().embedded:
        return text
    return text.replace("\u202f", "\u00a0")


def _p(text: str) -> str:
    """Plain text as Paragraph markup: escaped, line breaks kept."""
    return escape(_t(text)).replace("\n", "<br/>")


def _markup(text: str) -> str:
    """Template markup (values already escaped) in reportlab's dialect."""
    text = re.sub(r"<(/?)strong>", r"<\1b>", text)
    text = re.sub(r"<(/?)em>", r"<\1i>", text)
    text = re.sub(r"<br\s*/?>", "<br/>", text)
    return _t(text)


@cache
def _styles() -> dict[str, Any]:
    from reportlab.lib.enums import TA_JUSTIFY, TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle

    f = fonts()
    base = ParagraphStyle("base", fontName=f.regular, fontSize=10, leading=13.5)
    return {
        "body": ParagraphStyle("body", parent=base, alignment=TA_JUSTIFY, spaceAfter=7),
        "subject": ParagraphStyle(
            "subject", parent=base, fontName=f.bold, spaceAfter=12, spaceBefore=4
        ),
        "heading": ParagraphStyle(
            "heading",
            parent=base,
            fontName=f.bold,
            fontSize=14,
            leading=18,
            textColor=_c(NAVY),
            spaceAfter=2,
        ),
        "sub": ParagraphStyle("sub", parent=base, textColor=_c(GREY), spaceAfter=8),
        "note": ParagraphStyle(
            "note",
            parent=base,
            fontSize=8,
            leading=10.5,
            textColor=_c(GREY),
            alignment=TA_JUSTIFY,
            spaceBefore=6,
        ),
        "sign": ParagraphStyle("sign", parent=base, leftIndent=WINDOW_X - LEFT),
        "right": ParagraphStyle("right", parent=base, alignment=TA_RIGHT),
    }


@cache
def _numbered_canvas(label: str, single: bool) -> type[Canvas]:
    """A canvas that writes "Page n / N" once the page count is known."""
    from reportlab.pdfgen.canvas import Canvas

    regular = fonts().regular

    class NumberedCanvas(Canvas):
        def __init__(self, *args: Any, **kwargs: Any) -> None:
            super().__init__(*args, **kwargs)
            self._saved: list[dict[str, Any]] = []

        def showPage(self) -> None:  # noqa: N802 - reportlab override
            self._saved.append(dict(self.__dict__))
            self._startPage()  # type: ignore[attr-defined]  # reportlab's own recipe

        def save(self) -> None:
            pages = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                if pages > 1 or single:
                    self.setFont(regular, 8)
                    self.setFillColor(_c(GREY))
                    text = label.format(page=self.getPageNumber(), pages=pages)
                    self.drawRightString(PAGE_W - RIGHT, 15 * MM, text)
                super().showPage()
            super().save()

    return NumberedCanvas


def _draw_footer(c: Canvas, sheet: Sheet) -> None:
    f = fonts()
    c.setStrokeColor(_c(RULE))
    c.setLineWidth(0.5)
    c.line(LEFT, 19 * MM, PAGE_W - RIGHT, 19 * MM)
    c.setFont(f.regular, 7)
    c.setFillColor(_c(GREY))
    lines = _pack(sheet.footer.split(f" {DASH} "), f.regular, 7, WIDTH - 25 * MM)
    y = 15 * MM
    for line in lines[:3]:
        c.drawString(LEFT, y, line)
        y -= 3.2 * MM


def _pack(parts: Sequence[str], font: str, size: float, width: float) -> list[str]:
    """Join the footer's parts into lines without breaking one (an IBAN stays whole)."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    lines: list[str] = []
    for part in parts:
        part = _t(part)
        if lines and stringWidth(f"{lines[-1]} {DASH} {part}", font, size) <= width:
            lines[-1] = f"{lines[-1]} {DASH} {part}"
        else:
            lines.append(part)
    return lines


def _draw_letterhead(c: Canvas, sheet: Sheet, *, registered: bool) -> None:
    """First page: entity, window address block, references, place and date."""
    f = fonts()
    e = sheet.entity
    top = PAGE_H - 18 * MM
    logo = Path(e.logo_path) if e.logo_path else None
    if logo is not None and logo.is_file():
        try:
            c.drawImage(
                str(logo),
                LEFT,
                top - 16 * MM,
                width=50 * MM,
                height=18 * MM,
                preserveAspectRatio=True,
                anchor="sw",
                mask="auto",
            )
            top -= 20 * MM
        except Exception:  # noqa: BLE001 - a broken logo must not stop the letter
            log.warning("Cannot draw logo %s", logo)
    else:
        c.setFont(f.bold, 16)
        c.setFillColor(_c(NAVY))
        c.drawString(LEFT, top - 4 * MM, _t(e.name))
        top -= 9 * MM
    c.setFont(f.regular, 8.5)
    c.setFillColor(_c(GREY))
    contact = [x for x in (e.phone, e.email) if x]
    for line in [*address_lines(e), " · ".join(contact)]:
        if line:
            c.drawString(LEFT, top, _t(line))
            top -= 3.8 * MM
    # Return address, small, at the top of the window (La Poste practice).
    c.setFont(f.regular, 6.5)
    sender = f" {DASH} ".join([e.name, *address_lines(e)])
    c.drawString(WINDOW_X, PAGE_H - WINDOW_TOP + 4 * MM, _t(sender)[:95])
    c.setFillColor(_c(BLACK))
    y = PAGE_H - WINDOW_TOP - 2 * MM
    for k, line in enumerate(sheet.recipient[:7]):
        c.setFont(f.bold if k == 0 else f.regular, 10)
        c.drawString(WINDOW_X, y, _t(line)[:60])
        y -= 4.6 * MM
    # References on the left, level with the address block.
    y = PAGE_H - 62 * MM
    c.setFont(f.regular, 8.5)
    c.setFillColor(_c(GREY))
    for line in sheet.references:
        c.drawString(LEFT, y, _t(line))
        y -= 4 * MM
    if registered:
        y -= 2 * MM
        c.setFont(f.bold, 8.5)
        c.setFillColor(_c(NAVY))
        c.drawString(LEFT, y, _t(labels(sheet.language)["registered"].upper()))
    c.setFillColor(_c(BLACK))
    c.setFont(f.regular, 10)
    c.drawString(WINDOW_X, PAGE_H - 99 * MM, _t(sheet.place_date))


def _draw_running_head(c: Canvas, sheet: Sheet) -> None:
    """Later pages: who and what, in small print above the content."""
    f = fonts()
    c.setFont(f.regular, 8)
    c.setFillColor(_c(GREY))
    c.drawString(
        LEFT, PAGE_H - 13 * MM, _t(f"{sheet.entity.name} {DASH} {sheet.title}")
    )
    c.drawRightString(PAGE_W - RIGHT, PAGE_H - 13 * MM, _t(sheet.references[0]))
    c.setStrokeColor(_c(RULE))
    c.setLineWidth(0.5)
    c.line(LEFT, PAGE_H - 15 * MM, PAGE_W - RIGHT, PAGE_H - 15 * MM)


def _column_widths(table: PrintedTable, size: float) -> list[float]:
    """Widths that fit the longest cell of each column, spare space by the hints."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    f = fonts()
    pad = 7.0  # left and right padding plus a hair
    need = []
    for col, header in enumerate(table.headers):
        body = {row[col] for row in table.rows}
        foot = {row[col] for row in table.footer}
        widest = max(
            [stringWidth(_t(v), f.regular, size) for v in body]
            + [stringWidth(_t(v), f.bold, size) for v in foot]
            # Headers wrap between words, so their longest word is the limit.
            + [stringWidth(w, f.bold, size) for w in _t(header).split()]
        )
        need.append(widest + pad)
    total = sum(need)
    if total >= WIDTH:
        return [w * WIDTH / total for w in need]
    spare = WIDTH - total
    hints = sum(table.widths)
    return [w + spare * h / hints for w, h in zip(need, table.widths, strict=True)]


def _table(table: PrintedTable, *, font_size: float = 8.5) -> Flowable:
    from reportlab.lib.enums import TA_RIGHT
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.platypus import LongTable, Paragraph, TableStyle

    f = fonts()
    widths = _column_widths(table, font_size)
    head = ParagraphStyle(
        "head",
        fontName=f.bold,
        fontSize=font_size,
        leading=font_size + 1.5,
        textColor=_c(WHITE),
    )
    head_right = ParagraphStyle("head_right", parent=head, alignment=TA_RIGHT)
    # Headers wrap (Paragraph); body cells are plain strings, fast at 500+ rows.
    data: list[list[Any]] = [
        [
            Paragraph(_p(h), head_right if a == "R" else head)
            for h, a in zip(table.headers, table.align, strict=True)
        ]
    ]
    data.extend([list(map(_t, row)) for row in table.rows])
    data.extend([list(map(_t, row)) for row in table.footer])
    last = len(data) - 1
    body_end = len(table.rows)
    style: list[tuple[Any, ...]] = [
        ("FONT", (0, 0), (-1, -1), f.regular, font_size),
        ("FONT", (0, 0), (-1, 0), f.bold, font_size),
        ("TEXTCOLOR", (0, 0), (-1, 0), _c(WHITE)),
        ("BACKGROUND", (0, 0), (-1, 0), _c(NAVY)),
        ("VALIGN", (0, 0), (-1, -1), "MIDDLE"),
        ("TOPPADDING", (0, 0), (-1, -1), 2.2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.2),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if body_end:
        style.append(
            ("ROWBACKGROUNDS", (0, 1), (-1, body_end), [_c(WHITE), _c(STRIPE)])
        )
    for col, align in enumerate(table.align):
        if align == "R":
            style.append(("ALIGN", (col, 0), (col, -1), "RIGHT"))
    style.extend(
        ("BACKGROUND", (0, n + 1), (-1, n + 1), _c(MARK)) for n in table.marked
    )
    style.extend(("TEXTCOLOR", (0, n + 1), (-1, n + 1), _c(GREY)) for n in table.minor)
    if table.footer:
        style += [
            ("FONT", (0, body_end + 1), (-1, last), f.bold, font_size),
            ("LINEABOVE", (0, body_end + 1), (-1, body_end + 1), 0.8, _c(NAVY)),
        ]
    return LongTable(
        data, colWidths=widths, repeatRows=1, style=TableStyle(style), hAlign="LEFT"
    )


def _build(
    sheet: Sheet,
    story: list[Flowable],
    first_page: Callable[[Canvas], None],
    *,
    number_single: bool,
    running_head: bool,
) -> bytes:
    from reportlab.platypus import BaseDocTemplate, Frame, PageTemplate

    buffer = io.BytesIO()
    doc = BaseDocTemplate(
        buffer,
        pagesize=(PAGE_W, PAGE_H),
        title=sheet.title,
        author=sheet.entity.name,
        subject=sheet.title,
        creator="O2C Desktop",
        lang=sheet.language,
    )
    first_top = PAGE_H - 106 * MM
    first = Frame(
        LEFT,
        BOTTOM,
        WIDTH,
        first_top - BOTTOM,
        id="first",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )
    later = Frame(
        LEFT,
        BOTTOM,
        WIDTH,
        PAGE_H - 20 * MM - BOTTOM,
        id="later",
        leftPadding=0,
        rightPadding=0,
        topPadding=0,
        bottomPadding=0,
    )

    def on_first(c: Canvas, _doc: Any) -> None:
        first_page(c)
        _draw_footer(c, sheet)

    def on_later(c: Canvas, _doc: Any) -> None:
        if running_head:
            _draw_running_head(c, sheet)
        _draw_footer(c, sheet)

    doc.addPageTemplates(
        [
            PageTemplate(
                "first", [first], onPage=on_first, autoNextPageTemplate="later"
            ),
            PageTemplate("later", [later], onPage=on_later),
        ]
    )
    doc.build(story, canvasmaker=_numbered_canvas(sheet.page_label, number_single))
    return buffer.getvalue()


def letter_pdf(letter: PrintedLetter) -> bytes:
    """A letter: letterhead, address block, subject, body, items, signature.

    Returns:
        The PDF file's bytes.
    """
    from reportlab.platypus import KeepTogether, Paragraph, Spacer

    from o2c_desktop.engine.templates import TABLE_MARK

    st = _styles()
    lab = labels(letter.sheet.language)
    story: list[Flowable] = [
        Paragraph(f"{escape(lab['subject'])} {_p(letter.subject)}", st["subject"])
    ]
    for para in letter.paragraphs:
        if para == TABLE_MARK:
            if letter.table is not None:
                story += [Spacer(1, 2 * MM), _table(letter.table), Spacer(1, 5 * MM)]
            continue
        story.append(Paragraph(_markup(para), st["body"]))
    sign: list[Flowable] = [Spacer(1, 6 * MM)]
    sign += [Paragraph(_p(line), st["sign"]) for line in letter.signature]
    story.append(KeepTogether(sign))

    def first(c: Canvas) -> None:
        _draw_letterhead(c, letter.sheet, registered=letter.registered)

    return _build(letter.sheet, story, first, number_single=False, running_head=True)


def report_pdf(report: PrintedReport) -> bytes:
    """A statement of account or of interest: title, table, totals, notes.

    Returns:
        The PDF file's bytes.
    """
    from reportlab.platypus import KeepTogether, Paragraph, Spacer, Table, TableStyle

    st = _styles()
    f = fonts()
    story: list[Flowable] = [
        Paragraph(_p(report.heading), st["heading"]),
        Paragraph(_p(report.subheading), st["sub"]),
    ]
    if report.table.rows:
        story.append(_table(report.table))
    elif report.empty_text:
        story.append(Paragraph(_p(report.empty_text), st["body"]))
    rows = [[_t(label), _t(value)] for label, value in report.summary]
    if rows:
        summary = Table(
            rows,
            colWidths=[60 * MM, 35 * MM],
            hAlign="RIGHT",
            style=TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), f.regular, 9),
                    ("ALIGN", (1, 0), (1, -1), "RIGHT"),
                    ("LINEBELOW", (0, 0), (-1, -1), 0.3, _c(RULE)),
                    ("FONT", (0, -1), (-1, -1), f.bold, 9),
                    ("TOPPADDING", (0, 0), (-1, -1), 2),
                    ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
                    *_summary_bold(report),
                ]
            ),
        )
        story += [Spacer(1, 5 * MM), KeepTogether([summary])]
    story += [Paragraph(_p(n), st["note"]) for n in report.notes]

    def first(c: Canvas) -> None:
        _draw_letterhead(c, report.sheet, registered=False)

    return _build(report.sheet, story, first, number_single=True, running_head=True)


def _summary_bold(report: PrintedReport) -> list[tuple[Any, ...]]:
    """Bold the balance line of a statement (the 4th), besides the last line."""
    f = fonts()
    if len(report.summary) == 6:  # statement: total, credits, cash, balance, ...
        return [
            ("FONT", (0, 3), (-1, 3), f.bold, 9),
            ("LINEABOVE", (0, 3), (-1, 3), 0.8, _c(NAVY)),
            ("FONT", (0, -1), (-1, -1), f.regular, 9),
            ("TEXTCOLOR", (0, 4), (-1, -1), _c(GREY)),
        ]
    return [("LINEABOVE", (0, -1), (-1, -1), 0.8, _c(NAVY))]


def page_count(pdf: bytes) -> int:
    """Pages in a PDF we wrote (counts page objects; for tests and logs)."""
    return len(re.findall(rb"/Type\s*/Page[^s]", pdf))


def render_many(letters: Sequence[PrintedLetter]) -> list[bytes]:
    """Render several letters (one PDF each), e.g. for a dunning run."""
    return [letter_pdf(x) for x in letters]
