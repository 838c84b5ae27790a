"""QR codes for invitation cards and posters: a module matrix and an inline SVG (pure, no Flask needed).

Speed matters: a compound's card sheet holds about 1,200 codes. segno picks the best of eight masks by
scoring each one, which costs about 4 ms a code; a fixed mask costs about 1 ms. Mask 3 is the one
segno itself picks most often for our links (``https://…/r/<22-character token>``), and any mask
decodes. ``boost_error=False`` keeps the error correction level at M (15 % of the code may be damaged),
so the version, and so the module size on the card, depends on the length of the link alone.
"""

from __future__ import annotations

from html import escape

import segno
from flask_babel import gettext

#: Modules of white margin around the symbol, as ISO/IEC 18004 requires for QR codes.
QUIET_ZONE = 4
#: The data mask: fixed, to skip the mask evaluation (see the module docstring).
MASK = 3
ERROR_LEVEL = "m"


def _symbol(data: str) -> segno.QRCode:
    return segno.make(data, error=ERROR_LEVEL, mask=MASK, boost_error=False, micro=False)


def qr_matrix(data: str) -> list[list[bool]]:
    """The symbol's modules, row by row from the top, ``True`` for dark; without the quiet zone."""
    return [[bool(module) for module in row] for row in _symbol(data).matrix]


def dark_runs(matrix: list[list[bool]]) -> list[tuple[int, int, int]]:
    """Each horizontal run of dark modules as ``(row, first column, length)``, rows from the top.

    A link's symbol has about half as many runs as dark modules, so half the rectangles to draw."""
    runs: list[tuple[int, int, int]] = []
    for y, row in enumerate(matrix):
        start = -1
        for x, dark in enumerate(row):
            if dark:
                if start < 0:
                    start = x
            elif start >= 0:
                runs.append((y, start, x - start))
                start = -1
        if start >= 0:
            runs.append((y, start, len(row) - start))
    return runs


def qr_svg(data: str, size_mm: float | None = None, *, label: str | None = None) -> str:
    """An inline ``<svg>`` of the QR code for ``data``: one path of the dark runs on a white square.

    The view box counts modules and includes the 4-module quiet zone. ``size_mm`` sets the printed
    width and height of the whole square (quiet zone included); without it the SVG takes the size its
    stylesheet gives it. ``label`` is read by screen readers (``role="img"``, ``aria-label``)."""
    matrix = qr_matrix(data)
    side = len(matrix) + 2 * QUIET_ZONE
    path = "".join(f"M{x + QUIET_ZONE} {y + QUIET_ZONE}h{n}v1h-{n}z" for y, x, n in dark_runs(matrix))
    if label is None:
        label = gettext("QR code: %(data)s", data=data)
    size = f' width="{size_mm:g}mm" height="{size_mm:g}mm"' if size_mm else ""
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {side} {side}"{size}'
        f' role="img" aria-label="{escape(label, quote=True)}" class="qr" shape-rendering="crispEdges">'
        f'<rect width="{side}" height="{side}" fill="#fff"/>'
        f'<path d="{path}" fill="#000"/>'
        "</svg>"
    )
