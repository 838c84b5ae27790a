"""QR codes: the module matrix and the inline SVG, tested as plain values (no app needed)."""

from __future__ import annotations

import re

import pytest
import segno
import zxingcpp
from PIL import Image

from consult.residents.qr import MASK
from consult.residents.qr import QUIET_ZONE
from consult.residents.qr import dark_runs
from consult.residents.qr import qr_matrix
from consult.residents.qr import qr_svg

URL = "https://tongxin.example.gov.cn/r/Q2x9vLk3TmZ8pR4sW7yA0b"
RUN = re.compile(r"M(\d+) (\d+)h(\d+)v1h-(\d+)z")


def image_of(matrix: list[list[bool]], scale: int = 4) -> Image.Image:
    side = len(matrix) + 2 * QUIET_ZONE
    image = Image.new("L", (side, side), 255)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                image.putpixel((x + QUIET_ZONE, y + QUIET_ZONE), 0)
    return image.resize((side * scale, side * scale), Image.Resampling.NEAREST)


def svg_modules(svg: str) -> set[tuple[int, int]]:
    """The dark modules an SVG's path draws, in view-box coordinates."""
    path = re.search(r'<path d="([^"]*)"', svg)
    assert path is not None
    runs = RUN.findall(path.group(1))
    assert "".join(f"M{x} {y}h{n}v1h-{m}z" for x, y, n, m in runs) == path.group(1)
    return {(int(x) + i, int(y)) for x, y, n, _ in runs for i in range(int(n))}


def test_matrix_is_a_square_qr_symbol_of_the_expected_version():
    matrix = qr_matrix(URL)
    version = (len(matrix) - 17) // 4
    assert len(matrix) == 4 * version + 17
    assert all(len(row) == len(matrix) for row in matrix)
    assert version == 4  # a 55-character link at level M
    assert all(isinstance(module, bool) for row in matrix for module in row)
    finder = [row[:7] for row in matrix[:7]]  # the top-left finder pattern: a ring, a gap, a 3×3 core
    assert finder[0] == [True] * 7
    assert finder[1] == [True, False, False, False, False, False, True]
    assert finder[3] == [True, False, True, True, True, False, True]


def test_matrix_uses_the_fixed_mask_and_level_m():
    reference = segno.make(URL, error="m", mask=MASK, boost_error=False, micro=False)
    assert reference.designator == "4-M"
    assert qr_matrix(URL) == [[bool(m) for m in row] for row in reference.matrix]


def test_matrix_is_deterministic_and_depends_on_the_data():
    assert qr_matrix(URL) == qr_matrix(URL)
    assert qr_matrix(URL) != qr_matrix(URL[:-1] + "c")


@pytest.mark.parametrize(
    "data",
    [URL, "https://tongxin.example.gov.cn/code", "http://127.0.0.1:5000/r/" + "A" * 22, "浣花小区"],
)
def test_matrix_decodes_to_its_data(data):
    (barcode,) = zxingcpp.read_barcodes(image_of(qr_matrix(data)))
    assert barcode.text == data
    assert barcode.format == zxingcpp.BarcodeFormat.QRCode


def test_dark_runs_cover_exactly_the_dark_modules():
    matrix = qr_matrix(URL)
    covered = {(x + i, y) for y, x, n in dark_runs(matrix) for i in range(n)}
    dark = {(x, y) for y, row in enumerate(matrix) for x, module in enumerate(row) if module}
    assert covered == dark
    assert len(dark_runs(matrix)) < 0.6 * len(dark)  # merged: about half as many rectangles as modules
    assert dark_runs([[True, True, False, True]]) == [(0, 0, 2), (0, 3, 1)]


def test_svg_draws_the_matrix_inside_a_four_module_quiet_zone():
    matrix = qr_matrix(URL)
    svg = qr_svg(URL, label="Your link")
    side = len(matrix) + 2 * QUIET_ZONE
    assert svg.startswith('<svg xmlns="http://www.w3.org/2000/svg"')
    assert f'viewBox="0 0 {side} {side}"' in svg
    assert f'<rect width="{side}" height="{side}" fill="#fff"/>' in svg
    modules = svg_modules(svg)
    expected = {
        (x + QUIET_ZONE, y + QUIET_ZONE) for y, row in enumerate(matrix) for x, dark in enumerate(row) if dark
    }
    assert modules == expected
    assert min(x for x, _ in modules) == QUIET_ZONE
    assert min(y for _, y in modules) == QUIET_ZONE
    assert max(x for x, _ in modules) == side - QUIET_ZONE - 1
    assert max(y for _, y in modules) == side - QUIET_ZONE - 1
    assert svg.count("<path") == 1


def test_svg_is_accessible_and_has_no_inline_style():
    svg = qr_svg(URL, label='Link for "3栋" <501> & co')
    assert 'role="img"' in svg
    assert 'aria-label="Link for &quot;3栋&quot; &lt;501&gt; &amp; co"' in svg
    assert "style" not in svg
    assert "<script" not in svg
    assert svg.endswith("</svg>")


def test_svg_size():
    assert 'width="36mm" height="36mm"' in qr_svg(URL, 36, label="x")
    assert 'width="30.5mm"' in qr_svg(URL, 30.5, label="x")
    assert "width=" not in qr_svg(URL, label="x").split("<rect")[0]


def test_svg_is_deterministic():
    assert qr_svg(URL, 30, label="x") == qr_svg(URL, 30, label="x")


def test_svg_default_label_names_the_data():
    assert 'aria-label="QR code: https://tongxin.example.gov.cn/r/' in qr_svg(URL)
