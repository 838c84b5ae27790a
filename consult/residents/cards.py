"""Invitation card sheets and the compound poster, as PDF (ReportLab) and as print-friendly HTML.

Pure rendering: the caller issues the links and codes and formats each card's place. A worker prints
the sheet on A4 at actual size, cuts it along the dashed lines and puts each card through a door.

Cards are drawn with ReportLab's canvas, not WeasyPrint: 1,236 cards take about two seconds this way,
against about 40 s through HTML and CSS. Every text is set in one embedded font (WenQuanYi Micro Hei,
or ``CJK_FONT_PATH``), so Chinese prints without fonts on the printer or the reader's computer.

A card speaks its resident's language, whatever the language of the worker's request: its texts are
looked up once per language, under ``force_locale``. Page-level texts (the "nobody to print" page, the
HTML page's hint) follow the request, and the poster follows the request unless given a locale.
"""

from __future__ import annotations

import io
import re
import threading
from collections.abc import Iterator
from collections.abc import Sequence
from contextlib import AbstractContextManager
from contextlib import nullcontext
from dataclasses import dataclass
from pathlib import Path

from flask import current_app
from flask import has_request_context
from flask import render_template
from flask import url_for
from flask_babel import force_locale
from flask_babel import gettext
from markupsafe import Markup
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from consult.fonts import cjk_font_path
from consult.residents.qr import QUIET_ZONE
from consult.residents.qr import dark_runs
from consult.residents.qr import qr_matrix
from consult.residents.qr import qr_svg

PAGE_WIDTH, PAGE_HEIGHT = A4
COLUMNS, ROWS = 2, 4
PER_PAGE = COLUMNS * ROWS
CARD_WIDTH = PAGE_WIDTH / COLUMNS  # 105 mm
CARD_HEIGHT = PAGE_HEIGHT / ROWS  # 74.25 mm
#: White space inside each card's cut lines; more than most printers' unprintable margin.
CARD_PADDING = 5.5 * mm
#: The printed symbol on a card, without its quiet zone (which reaches into the padding).
CARD_QR = 30 * mm
#: The symbol on the poster.
POSTER_QR = 140 * mm
POSTER_MARGIN = 18 * mm
#: The HTML pages' SVGs, quiet zone included (the symbol is about 30 mm and 135 mm).
CARD_SVG_MM = 36
POSTER_SVG_MM = 165

CREATOR = "Tongxin"


@dataclass(frozen=True)
class Card:
    compound: str  # 浣花小区
    place: str  # "3栋 2单元 501", formatted by the caller (may say "+1 more")
    url: str  # the personal link encoded in the QR (BASE_URL + "/r/" + token)
    code: str  # the short code as printed, e.g. "K7MP9-QXR2T"
    code_url: str  # where to type the code (BASE_URL + "/code"), printed small under the code
    locale: str  # "zh_CN" or "en": the language of this card's texts
    occupant: bool  # an occupant's card: may answer surveys and comment, may not vote


@dataclass(frozen=True)
class CardTexts:
    """A card's fixed texts in one language."""

    code_label: str
    steps: tuple[str, ...]
    occupant_note: str
    qr_label: str


def card_texts(locale: str) -> CardTexts:
    """The card texts in ``locale`` (the current app's catalogues; English msgids without an app)."""
    with force_locale(locale):
        return CardTexts(
            code_label=gettext("Invitation code"),
            steps=(
                gettext("Scan the QR code with your phone camera."),
                gettext("Or open the address and enter the code above."),
                gettext("Questions? Ask your community worker."),
            ),
            occupant_note=gettext("Occupant's card: surveys and comments, but no vote."),
            qr_label=gettext("QR code with your personal link"),
        )


def _texts_by_locale(cards: Sequence[Card]) -> dict[str, CardTexts]:
    return {locale: card_texts(locale) for locale in dict.fromkeys(card.locale for card in cards)}


def html_lang(locale: str) -> str:
    """The BCP 47 tag for a ``lang`` attribute: zh_CN → zh-CN."""
    return locale.replace("_", "-")


def _in_locale(locale: str | None) -> AbstractContextManager[None]:
    return force_locale(locale) if locale else nullcontext()


# --- The font ------------------------------------------------------------------------------------

_fonts: dict[Path, str] = {}
_fonts_lock = threading.Lock()


def pdf_font() -> str:
    """The ReportLab name of the CJK font, registered once per process (per font file)."""
    path = cjk_font_path()
    with _fonts_lock:
        name = _fonts.get(path)
        if name is None:
            name = f"TongxinCJK{len(_fonts)}"
            pdfmetrics.registerFont(TTFont(name, str(path), subfontIndex=0))
            _fonts[path] = name
    return name


# --- Text on the canvas --------------------------------------------------------------------------

#: Latin words and numbers stay whole when a line wraps; anything else (Chinese) breaks between characters.
_TOKENS = re.compile(r"[0-9A-Za-z'’.,:;!?()/+\-_@&%#=~]+\s*|\S\s*|\s+")


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for token in _TOKENS.findall(text):
        if not line or pdfmetrics.stringWidth((line + token).rstrip(), font, size) <= width:
            line += token
        else:
            lines.append(line.rstrip())
            line = token.lstrip()
        while len(line.rstrip()) > 1 and pdfmetrics.stringWidth(line.rstrip(), font, size) > width:
            cut = len(line.rstrip()) - 1  # wider than a line on its own (a long address): split anywhere
            while cut > 1 and pdfmetrics.stringWidth(line[:cut], font, size) > width:
                cut -= 1
            lines.append(line[:cut])
            line = line[cut:]
    if line.strip():
        lines.append(line.rstrip())
    return lines or [""]


def _fit(text: str, font: str, size: float, min_size: float, width: float) -> tuple[float, list[str]]:
    """The largest size from ``size`` down to ``min_size`` at which ``text`` fits on one line of
    ``width``; at ``min_size`` and still too wide, the text wrapped into lines."""
    natural = pdfmetrics.stringWidth(text, font, size)
    if natural <= width:
        return size, [text]
    fitted = size * width / natural
    if fitted >= min_size:
        return fitted, [text]
    return min_size, _wrap(text, font, min_size, width)


def _draw_lines(
    canvas: Canvas,
    lines: Sequence[str],
    font: str,
    size: float,
    x: float,
    top: float,
    *,
    leading: float = 1.25,
    centre: bool = False,
) -> float:
    """Draw ``lines`` from ``top`` (the top of the first line) down; return the bottom of the last."""
    canvas.setFont(font, size)
    ascent = pdfmetrics.getAscentDescent(font, size)[0]
    baseline = top - ascent
    for line in lines:
        if centre:
            canvas.drawCentredString(x, baseline, line)
        else:
            canvas.drawString(x, baseline, line)
        baseline -= size * leading
    return top - size * leading * len(lines)


def _draw_text(
    canvas: Canvas,
    text: str,
    font: str,
    x: float,
    top: float,
    width: float,
    size: float,
    min_size: float,
    *,
    max_lines: int = 3,
    centre: bool = False,
) -> float:
    fitted, lines = _fit(text, font, size, min_size, width)
    if len(lines) > max_lines:
        lines = [*lines[: max_lines - 1], lines[max_lines - 1] + "…"]
    return _draw_lines(canvas, lines, font, fitted, x, top, centre=centre)


def _draw_qr(canvas: Canvas, matrix: list[list[bool]], left: float, top: float, module: float) -> None:
    """The dark modules as one filled path of one rectangle per horizontal run.

    The coordinates are whole modules (the transformation scales and flips them), so the path is
    written as literal ``re`` operators: ReportLab's ``path.rect`` formats every number through its
    pure-Python ``fp_str`` (without the optional rl_accel extension), which took most of the time."""
    canvas.saveState()
    canvas.setFillGray(0)
    canvas.transform(module, 0, 0, -module, left, top)
    canvas.addLiteral(" ".join([f"{x} {y} {n} 1 re" for y, x, n in dark_runs(matrix)]) + " f")
    canvas.restoreState()


def _new_canvas(buffer: io.BytesIO, title: str, font: str) -> Canvas:
    # The initial font is ours too, or ReportLab would reference Helvetica on every page.
    canvas = Canvas(buffer, pagesize=A4, pageCompression=1, initialFontName=font, initialFontSize=12)
    canvas.setTitle(title)
    canvas.setSubject(title)
    canvas.setAuthor(CREATOR)
    canvas.setCreator(CREATOR)
    canvas.setFillGray(0)
    return canvas


# --- Card sheets ---------------------------------------------------------------------------------


def _draw_cut_lines(canvas: Canvas) -> None:
    canvas.saveState()
    canvas.setStrokeGray(0.65)
    canvas.setLineWidth(0.5)
    canvas.setDash(3, 3)
    for column in range(1, COLUMNS):
        canvas.line(column * CARD_WIDTH, 0, column * CARD_WIDTH, PAGE_HEIGHT)
    for row in range(1, ROWS):
        canvas.line(0, row * CARD_HEIGHT, PAGE_WIDTH, row * CARD_HEIGHT)
    canvas.restoreState()


@dataclass(frozen=True)
class _Footer:
    """The numbered steps and the occupant's note of one language, fitted to a card's width."""

    texts: CardTexts
    steps_size: float
    steps: tuple[str, ...]
    note_size: float
    note: tuple[str, ...]


def _lay_out_footer(texts: CardTexts, font: str) -> _Footer:
    """Steps at 14 pt, or smaller down to 11 pt until each fits on a line, else wrapped at 11 pt."""
    width = CARD_WIDTH - 2 * CARD_PADDING
    steps = [f"{number}. {step}" for number, step in enumerate(texts.steps, start=1)]
    size = 14.0
    while size > 11 and max(pdfmetrics.stringWidth(step, font, size) for step in steps) > width:
        size -= 0.5
    lines = [line for step in steps for line in _wrap(step, font, size, width)]
    note_size, note = _fit(texts.occupant_note, font, 11, 9, width)
    return _Footer(texts, size, tuple(lines), note_size, tuple(note))


def _draw_card(canvas: Canvas, card: Card, footer: _Footer, font: str, x0: float, y0: float) -> None:
    """One card with its bottom-left corner at (x0, y0): the QR top right, compound, place, code and
    address beside it, then the occupant's note and the three steps along the bottom."""
    left = x0 + CARD_PADDING
    right = x0 + CARD_WIDTH - CARD_PADDING
    top = y0 + CARD_HEIGHT - CARD_PADDING
    matrix = qr_matrix(card.url)
    module = CARD_QR / len(matrix)
    _draw_qr(canvas, matrix, right - CARD_QR, top, module)

    column = right - CARD_QR - QUIET_ZONE * module - 1 * mm - left
    y = _draw_text(canvas, card.compound, font, left, top, column, 12, 8, max_lines=1)
    y = _draw_text(canvas, card.place, font, left, y - 0.5 * mm, column, 20, 14, max_lines=2)
    y = _draw_text(canvas, footer.texts.code_label, font, left, y - 1 * mm, column, 10, 8, max_lines=1)
    char_space = 1.5
    size = 20.0
    while size > 16 and pdfmetrics.stringWidth(card.code, font, size) + char_space * len(card.code) > column:
        size -= 0.5
    ascent = pdfmetrics.getAscentDescent(font, size)[0]
    code = canvas.beginText(left, y - ascent)
    code.setFont(font, size)
    code.setCharSpace(char_space)
    code.textOut(card.code)
    code.setCharSpace(0)  # Tc outlives the text object: reset it for the texts that follow
    canvas.drawText(code)
    y -= size * 1.2
    _draw_text(canvas, card.code_url, font, left, y, column, 8, 6, max_lines=2)

    bottom = y0 + CARD_PADDING
    steps_top = bottom + footer.steps_size * 1.25 * len(footer.steps)
    if card.occupant:
        note_top = steps_top + 1 * mm + footer.note_size * 1.25 * len(footer.note)
        _draw_lines(canvas, footer.note, font, footer.note_size, left, note_top)
    _draw_lines(canvas, footer.steps, font, footer.steps_size, left, steps_top)


def _draw_message(canvas: Canvas, text: str, font: str) -> None:
    width = PAGE_WIDTH - 2 * POSTER_MARGIN
    _draw_text(canvas, text, font, POSTER_MARGIN, PAGE_HEIGHT - POSTER_MARGIN, width, 16, 16)


def cards_pdf(cards: Sequence[Card], title: str) -> bytes:
    """An A4 PDF of invitation cards, 8 a page (2 × 4 cards of 105 × 74.25 mm between dashed cut lines).

    Without cards, one page says there is nobody to print for (in the request's language)."""
    font = pdf_font()
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, title, font)
    if not cards:
        _draw_message(canvas, gettext("There is nobody to print cards for."), font)
        canvas.showPage()
    footers = {locale: _lay_out_footer(texts, font) for locale, texts in _texts_by_locale(cards).items()}
    for start in range(0, len(cards), PER_PAGE):
        _draw_cut_lines(canvas)
        for index, card in enumerate(cards[start : start + PER_PAGE]):
            row, column = divmod(index, COLUMNS)
            x0 = column * CARD_WIDTH
            y0 = PAGE_HEIGHT - (row + 1) * CARD_HEIGHT
            _draw_card(canvas, card, footers[card.locale], font, x0, y0)
        canvas.showPage()
    canvas.save()
    return buffer.getvalue()


# --- HTML ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class HtmlCard:
    card: Card
    texts: CardTexts
    lang: str
    svg: Markup


def _stylesheet() -> str:
    """The print stylesheet's address (``url_for`` needs a request or SERVER_NAME; the CLI has neither)."""
    if has_request_context() or current_app.config.get("SERVER_NAME"):
        return url_for("static", filename="css/print.css")
    return f"{current_app.static_url_path}/css/print.css"


def _pages(items: Sequence[HtmlCard]) -> Iterator[Sequence[HtmlCard]]:
    for start in range(0, len(items), PER_PAGE):
        yield items[start : start + PER_PAGE]


def cards_html(cards: Sequence[Card], title: str) -> str:
    """The card sheets as a standalone HTML page to print from a browser (A4, no margins, 8 a page)."""
    texts = _texts_by_locale(cards)
    items = [
        HtmlCard(
            card=card,
            texts=texts[card.locale],
            lang=html_lang(card.locale),
            svg=Markup(qr_svg(card.url, CARD_SVG_MM, label=texts[card.locale].qr_label)),  # noqa: S704
        )
        for card in cards
    ]
    return render_template(
        "residents/cards.html", title=title, pages=list(_pages(items)), stylesheet=_stylesheet()
    )


# --- The poster ----------------------------------------------------------------------------------


def poster_lead() -> str:
    return gettext("Scan for this compound's renovation notices")


def poster_html(compound_name: str, public_url: str, locale: str | None = None) -> str:
    """The notice-board poster as a standalone HTML page: the compound, one line, one big QR, the address.

    In ``locale`` when given, else in the request's language."""
    with _in_locale(locale):
        svg = Markup(qr_svg(public_url, POSTER_SVG_MM))  # noqa: S704  qr_svg escapes what it embeds
        return render_template(
            "residents/poster.html",
            compound_name=compound_name,
            public_url=public_url,
            lead=poster_lead(),
            svg=svg,
            lang=html_lang(locale) if locale else None,
            stylesheet=_stylesheet(),
        )


def poster_pdf(compound_name: str, public_url: str, locale: str | None = None) -> bytes:
    """The notice-board poster as an A4 PDF: the compound's name, one line, a 140 mm QR, the address."""
    font = pdf_font()
    with _in_locale(locale):
        lead = poster_lead()
    buffer = io.BytesIO()
    canvas = _new_canvas(buffer, f"{compound_name} · {lead}", font)
    centre = PAGE_WIDTH / 2
    width = PAGE_WIDTH - 2 * POSTER_MARGIN
    name_size, name_lines = _fit(compound_name, font, 56, 32, width)
    lead_size, lead_lines = _fit(lead, font, 28, 18, width)
    url_size, url_lines = _fit(public_url, font, 18, 10, width)
    matrix = qr_matrix(public_url)
    module = POSTER_QR / len(matrix)
    quiet = QUIET_ZONE * module
    height = (
        1.25 * (name_size * len(name_lines) + lead_size * len(lead_lines) + url_size * len(url_lines))
        + 4 * mm
        + POSTER_QR
        + 2 * quiet
    )
    y = PAGE_HEIGHT - max(POSTER_MARGIN, (PAGE_HEIGHT - height) / 2)  # the block centred on the page
    y = _draw_lines(canvas, name_lines, font, name_size, centre, y, centre=True)
    y = _draw_lines(canvas, lead_lines, font, lead_size, centre, y - 4 * mm, centre=True)
    _draw_qr(canvas, matrix, centre - POSTER_QR / 2, y - quiet, module)
    y -= quiet + POSTER_QR + quiet
    _draw_lines(canvas, url_lines, font, url_size, centre, y, centre=True)
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
