"""Site plans drawn for the demo's design schemes (PNG): buildings, green space and parking, so that a
demo scheme has a drawing to look at. Invented, like the demo's households; labels in Latin letters and
digits only, which need no CJK font."""

from __future__ import annotations

import io

from PIL import Image
from PIL import ImageDraw
from PIL import ImageFont

WIDTH, HEIGHT, MARGIN = 1200, 800, 60
GROUND, WALL, BUILDING, GREEN, PARKING, INK = "#f4f1ea", "#5b5b5b", "#b9b4aa", "#9cc59a", "#8fb3de", "#222222"


def site_plan(label: str, buildings: int) -> bytes:
    """Scheme ``label``'s site plan: "A" keeps the courtyard and parks along the wall, any other label
    gathers the parking in one lot on the north side."""
    image = Image.new("RGB", (WIDTH, HEIGHT), GROUND)
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=28)
    small = ImageFont.load_default(size=20)
    draw.rectangle((MARGIN, MARGIN, WIDTH - MARGIN, HEIGHT - MARGIN), outline=WALL, width=8)
    draw.text((MARGIN, 14), f"Scheme {label}: site plan", fill=INK, font=font)
    top = MARGIN + (190 if label != "A" else 90)
    if label == "A":
        draw.ellipse((WIDTH // 2 - 220, 485, WIDTH // 2 + 220, 625), fill=GREEN)  # the courtyard kept
        for x in range(MARGIN + 30, WIDTH - MARGIN - 60, 70):  # bays along the south wall
            draw.rectangle((x, HEIGHT - MARGIN - 70, x + 50, HEIGHT - MARGIN - 12), fill=PARKING)
            draw.text((x + 16, HEIGHT - MARGIN - 56), "P", fill=INK, font=small)
    else:
        draw.rectangle((MARGIN + 30, MARGIN + 30, WIDTH - MARGIN - 30, MARGIN + 160), fill=PARKING)
        draw.text((MARGIN + 50, MARGIN + 80), "P", fill=INK, font=font)
        for x in (MARGIN + 60, WIDTH - MARGIN - 220):
            draw.rectangle((x, HEIGHT - MARGIN - 120, x + 160, HEIGHT - MARGIN - 30), fill=GREEN)
    shown = max(1, min(buildings, 8))
    per_row = (shown + 1) // 2
    width = (WIDTH - 2 * MARGIN - 60 - (per_row - 1) * 40) // per_row
    for n in range(shown):
        row, col = divmod(n, per_row)
        x = MARGIN + 30 + col * (width + 40)
        y = top + row * 200
        draw.rectangle((x, y, x + width, y + 110), fill=BUILDING, outline=WALL, width=2)
        draw.text((x + 12, y + 10), str(n + 1), fill=INK, font=font)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return out.getvalue()
