"""Invitation card sheets and the compound poster: the PDFs are rasterised with PDFium and every QR
code read back with ZXing, the text extracted, and the HTML pages checked for their markup."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest
import zxingcpp
from flask import Flask
from PIL import Image

from consult import create_app
from consult.fonts import BUNDLED_CJK_FONT
from consult.fonts import cjk_font_path
from consult.residents.cards import CARD_SVG_MM
from consult.residents.cards import Card
from consult.residents.cards import card_texts
from consult.residents.cards import cards_html
from consult.residents.cards import cards_pdf
from consult.residents.cards import poster_html
from consult.residents.cards import poster_pdf
from consult.residents.qr import qr_svg
from tests.conftest import app_config as config_for_tests

ROOT = Path(__file__).resolve().parents[2]
ARTIFACTS = ROOT / "artifacts" / "cards"
BASE = "https://tongxin.example.gov.cn"
PUBLIC_URL = BASE + "/p/huanhua-xiaoqu"
SCALE = 2  # render at 144 dpi: 2 pixels a point
MM = 72 / 25.4  # points in a millimetre
CARD_W, CARD_H = 105 * MM, 74.25 * MM

ZH_STEPS = ("用手机相机扫描二维码。", "或打开网址，输入上面的邀请码。", "有问题请找社区工作者。")
EN_STEPS = (
    "Scan the QR code with your phone camera.",
    "Or open the address and enter the code above.",
    "Questions? Ask your community worker.",
)


def make_cards(count: int = 10) -> list[Card]:
    """Mixed languages (every third card English), one occupant, one long place."""
    cards = []
    for i in range(count):
        place = f"{i % 4 + 1}栋 {i % 2 + 1}单元 {501 + i}"
        if i == 5:
            place += "、602、1101 +1 more"
        cards.append(
            Card(
                compound="浣花小区",
                place=place,
                url=f"{BASE}/r/tok{i:02d}xQ7mZk2Lp9Rv4Ws8Ab",
                code=f"K7MP{i}-QXR2T",
                code_url=BASE + "/code",
                locale="en" if i % 3 == 2 else "zh_CN",
                occupant=i == 4,
            )
        )
    return cards


@dataclass
class Page:
    image: Image.Image
    text: str
    chars: list[tuple[str, float, tuple[float, float, float, float]]]  # (char, font size, box)
    size: tuple[float, float]


def read_pdf(pdf: bytes) -> list[Page]:
    document = pdfium.PdfDocument(pdf)
    try:
        pages = []
        for page in document:
            textpage = page.get_textpage()
            chars = [
                (
                    textpage.get_text_range(i, 1),
                    pdfium_c.FPDFText_GetFontSize(textpage.raw, i),
                    textpage.get_charbox(i),
                )
                for i in range(textpage.count_chars())
            ]
            pages.append(
                Page(page.render(scale=SCALE).to_pil(), textpage.get_text_range(), chars, page.get_size())
            )
            textpage.close()
            page.close()
        return pages
    finally:
        document.close()


def metadata(pdf: bytes) -> dict[str, str]:
    document = pdfium.PdfDocument(pdf)
    try:
        return document.get_metadata_dict()
    finally:
        document.close()


def centre(barcode: zxingcpp.Barcode) -> tuple[float, float]:
    p = barcode.position
    corners = (p.top_left, p.top_right, p.bottom_right, p.bottom_left)
    return sum(c.x for c in corners) / 4, sum(c.y for c in corners) / 4


def width_mm(barcode: zxingcpp.Barcode) -> float:
    p = barcode.position
    return (p.top_right.x - p.top_left.x) / SCALE / MM


def cell(x: float, y: float) -> int:
    """The card slot (0–7, row by row from the top left) of a point in a rendered page's pixels."""
    return int(y / SCALE // CARD_H) * 2 + int(x / SCALE // CARD_W)


def step_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"\d\. ", line)]


@pytest.fixture(scope="module")
def babel_app() -> Flask:
    """An app for Flask-Babel's catalogues (no database). Each test pushes its own context, so no
    locale stays cached from one test to the next."""
    return create_app(config_for_tests())


@pytest.fixture(scope="module")
def cards() -> list[Card]:
    return make_cards()


@pytest.fixture(scope="module")
def sheet(babel_app: Flask, cards: list[Card]) -> bytes:
    # An English request: the cards still speak their residents' languages.
    with babel_app.test_request_context(headers={"Accept-Language": "en"}):
        return cards_pdf(cards, "浣花小区 · 邀请卡")


@pytest.fixture(scope="module")
def pages(sheet: bytes) -> list[Page]:
    pages = read_pdf(sheet)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    pages[0].image.save(ARTIFACTS / "cards-page-1.png")
    return pages


def test_cards_fill_two_a4_pages_eight_then_two(pages):
    assert len(pages) == 2
    for page in pages:
        assert page.size == pytest.approx((595.28, 841.89), abs=0.01)
    assert [page.text.count("浣花小区") for page in pages] == [8, 2]


def test_every_qr_decodes_to_its_own_card_url(pages, cards):
    for number, page in enumerate(pages):
        barcodes = zxingcpp.read_barcodes(page.image, formats=zxingcpp.BarcodeFormat.QRCode)
        on_page = cards[number * 8 : number * 8 + 8]
        assert sorted(b.text for b in barcodes) == sorted(card.url for card in on_page)
        for barcode in barcodes:
            assert barcode.text == on_page[cell(*centre(barcode))].url
            assert 28 <= width_mm(barcode) <= 32  # about 30 mm


def test_the_font_is_embedded_and_is_the_only_one(sheet):
    assert b"/FontFile2" in sheet
    fonts = set(re.findall(rb"/BaseFont\s*/([^\s/<>\[\]]+)", sheet))
    assert fonts
    assert all(re.fullmatch(rb"[A-Z]{6}\+WenQuanYiMicroHei-\d+", name) for name in fonts), fonts


def test_metadata_title(sheet):
    assert metadata(sheet)["Title"] == "浣花小区 · 邀请卡"


def test_texts_extract_in_each_cards_language(pages, cards):
    first = pages[0].text
    assert "浣花小区" in first
    for card in cards[:8]:
        assert card.place in first.replace("\n", "") or card.place.split("、")[0] in first
        assert card.code in first
        assert card.code_url in first
    zh_steps = [f"{n}. {step}" for n, step in enumerate(ZH_STEPS, 1)]
    en_steps = [f"{n}. {step}" for n, step in enumerate(EN_STEPS, 1)]
    all_text = "\n".join(page.text for page in pages)
    lines = step_lines(all_text)
    zh_cards = sum(card.locale == "zh_CN" for card in cards)
    assert lines.count(zh_steps[0]) == zh_cards == 7
    assert lines.count(en_steps[0]) == len(cards) - zh_cards
    for step in zh_steps[1:] + en_steps[1:]:
        assert step in lines
    assert "邀请码" in first
    assert "Invitation code" in first


def test_only_the_occupants_card_says_no_vote(babel_app, pages, cards):
    (occupant,) = [card for card in cards if card.occupant]
    assert occupant.locale == "zh_CN"
    with babel_app.app_context():
        note, english = card_texts("zh_CN").occupant_note, card_texts("en").occupant_note
    assert "不能投票" in note
    text = "\n".join(page.text for page in pages)
    assert text.count(note) == 1
    assert english not in text


def test_type_is_large(pages):
    page_text = "".join(char for char, _size, _box in pages[0].chars)
    code_start = page_text.index("K7MP0-QXR2T")
    assert min(size for _, size, _ in pages[0].chars[code_start : code_start + 11]) >= 16
    step_start = page_text.index("用手机相机扫描二维码")
    assert min(size for _, size, _ in pages[0].chars[step_start : step_start + 10]) >= 11
    en_start = page_text.index("Questions? Ask your community worker.")
    assert min(size for _, size, _ in pages[0].chars[en_start : en_start + 30]) >= 11


def assert_inside_cards(pages: list[Page]) -> None:
    margin = 3 * MM  # the cards keep 5.5 mm clear; a printer needs about 4 mm at the page's edge
    for page in pages:
        for char, _size, (left, bottom, right, top) in page.chars:
            if not char.strip():
                continue
            column, row = int(left // CARD_W), int((page.size[1] - top) // CARD_H)
            x0, y0 = column * CARD_W, page.size[1] - (row + 1) * CARD_H
            assert x0 + margin <= left, char
            assert right <= x0 + CARD_W - margin, char
            assert y0 + margin <= bottom, char
            assert top <= y0 + CARD_H - margin, char


def test_every_character_stays_inside_its_card(pages):
    assert_inside_cards(pages)


def test_long_texts_shrink_or_wrap_inside_the_card(babel_app):
    long = Card(
        compound="成都市青羊区草堂街道浣花溪畔第二十三号住宅小区",
        place="12栋 3单元 1102、1103、1201、1202 +4 more",
        url=BASE + "/r/" + "x" * 22,
        code="K7MP9-QXR2T",
        code_url="https://tongxin.qingyang.chengdu.example.gov.cn/residents/code",
        locale="en",
        occupant=True,
    )
    with babel_app.test_request_context():
        pdf = cards_pdf([long, *make_cards(7)], "Long")
    (page,) = read_pdf(pdf)
    assert_inside_cards([page])
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.image.crop((0, 0, page.image.width // 2, page.image.height // 4)).save(ARTIFACTS / "long-card.png")
    barcodes = zxingcpp.read_barcodes(page.image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert len(barcodes) == 8
    assert "Occupant's card: surveys and comments, but no vote." in page.text


def test_no_cards_make_one_page_saying_so(babel_app):
    with babel_app.test_request_context():
        (page,) = read_pdf(cards_pdf([], "空"))
    assert "没有需要打印邀请卡的人。" in page.text
    with babel_app.test_request_context(headers={"Accept-Language": "en"}):
        (page,) = read_pdf(cards_pdf([], "Empty"))
    assert "There is nobody to print cards for." in page.text


def test_without_an_app_the_english_msgids_are_used():
    (page,) = read_pdf(cards_pdf(make_cards(1), "No app"))
    assert "1. Scan the QR code with your phone camera." in page.text


def test_html_cards(babel_app, cards):
    with babel_app.test_request_context():
        html = cards_html(cards, "浣花小区 · 邀请卡")
        zh_label = card_texts("zh_CN").qr_label
        en_label = card_texts("en").qr_label
    assert html.startswith("<!doctype html>")
    assert '<html lang="zh-CN">' in html
    assert "<title>浣花小区 · 邀请卡</title>" in html
    assert 'href="/static/css/print.css"' in html
    assert html.count('<section class="sheet">') == 2
    assert html.count('<article class="card" lang="zh-CN">') == 7
    assert html.count('<article class="card" lang="en">') == 3
    for card in cards:
        label = en_label if card.locale == "en" else zh_label
        assert qr_svg(card.url, CARD_SVG_MM, label=label) in html
        assert card.code in html
        assert card.code_url in html
    assert html.count('class="occupant"') == 1
    assert html.count("用手机相机扫描二维码。") == 7
    assert html.count("Scan the QR code with your phone camera.") == 3
    assert "<script" not in html
    assert "style=" not in html


def test_html_cards_when_nobody(babel_app):
    with babel_app.test_request_context(headers={"Accept-Language": "en"}):
        html = cards_html([], "Empty")
    assert '<html lang="en">' in html
    assert "There is nobody to print cards for." in html
    assert "<section" not in html


def test_poster_pdf_decodes_to_the_public_url(babel_app):
    with babel_app.app_context():  # no request: the default language, Chinese
        pdf = poster_pdf("浣花小区", PUBLIC_URL)
    (page,) = read_pdf(pdf)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.image.save(ARTIFACTS / "poster.png")
    assert page.size == pytest.approx((595.28, 841.89), abs=0.01)
    (barcode,) = zxingcpp.read_barcodes(page.image, formats=zxingcpp.BarcodeFormat.QRCode)
    assert barcode.text == PUBLIC_URL
    assert width_mm(barcode) >= 120
    assert "浣花小区" in page.text
    assert "扫码查看本小区改造公示" in page.text
    assert PUBLIC_URL in page.text
    name_sizes = [size for char, size, _ in page.chars if char in "浣花小区"][:4]
    assert min(name_sizes) >= 40
    assert metadata(pdf)["Title"].startswith("浣花小区")


def test_poster_in_a_given_language(babel_app):
    with babel_app.test_request_context():
        pdf = poster_pdf("浣花小区", PUBLIC_URL, locale="en")
    (page,) = read_pdf(pdf)
    assert "Scan for this compound's renovation notices" in page.text


def test_poster_html(babel_app):
    with babel_app.test_request_context():
        html = poster_html("浣花小区", PUBLIC_URL)
        svg = qr_svg(PUBLIC_URL, 165)
    assert '<html lang="zh-CN">' in html
    assert "<h1>浣花小区</h1>" in html
    assert "扫码查看本小区改造公示" in html
    assert svg in html
    assert f'<p class="poster-url">{PUBLIC_URL}</p>' in html
    assert "<script" not in html
    assert "style=" not in html
    with babel_app.test_request_context():
        english = poster_html("浣花小区", PUBLIC_URL, locale="en")
    assert '<html lang="en">' in english
    assert "Scan for this compound&#39;s renovation notices" in english


def test_cjk_font_path(tmp_path):
    assert cjk_font_path() == BUNDLED_CJK_FONT
    assert BUNDLED_CJK_FONT.is_file()
    with create_app(config_for_tests()).app_context():
        assert cjk_font_path() == BUNDLED_CJK_FONT
    other = tmp_path / "other.ttf"
    with create_app(config_for_tests(CJK_FONT_PATH=str(other))).app_context():
        assert cjk_font_path() == other
