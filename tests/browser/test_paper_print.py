"""The paper sheets print on A4: each sheet starts on a page of its own, with its number on it, and the
screen-only parts (header, building chooser, links) are left off the paper."""

from __future__ import annotations

import re
from typing import Any

import pypdfium2 as pdfium
from flask import Flask

from tests.security.access_world import PASSWORD
from tests.security.access_world import build_world

A4_POINTS = (595, 842)
CODE = re.compile(r"\b([SB]\d+)\b")


def sign_in(page: Any, email: str) -> None:
    page.goto("/auth/login")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    with page.expect_navigation():
        page.locator("main button[type=submit]").click()


def printed(page: Any, url: str, tmp_path: Any) -> list[str]:
    page.goto(url)
    path = tmp_path / "sheets.pdf"
    page.pdf(path=str(path), prefer_css_page_size=True)
    document = pdfium.PdfDocument(str(path))
    texts = []
    for number in range(len(document)):
        sheet = document[number]
        assert tuple(round(x) for x in sheet.get_size()) == A4_POINTS
        texts.append(sheet.get_textpage().get_text_range())
    document.close()
    return texts


def test_paper_sheets_print_one_per_page_on_a4(
    browser: Any, base_url: str, data: Flask, tmp_path: Any
) -> None:
    context = browser.new_context(base_url=base_url, locale="zh-CN")
    page = context.new_page()
    data.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = build_world("vote")
    sign_in(page, world.emails["worker"])
    for url, prefix in (
        (f"/compounds/{world.compound}/rounds/{world.rounds[1]}/survey/print", "S"),
        (f"/compounds/{world.compound}/votes/{world.rounds[3]}/print", "B"),
    ):
        pages = printed(page, url, tmp_path)
        starts = [CODE.findall(text) for text in pages]
        codes = [c for found in starts for c in found if c.startswith(prefix)]
        assert len(codes) == 3, codes  # three homes, three owners: one sheet each
        assert all(len(found) <= 1 for found in starts), "two sheets share a page"
        everything = "".join(pages)
        assert everything.count("签名：") == 3, pages  # a signature line on each sheet
        assert "大字" not in everything  # the site's header is not printed
        assert "打印范围" not in everything  # nor the building chooser
    context.close()
