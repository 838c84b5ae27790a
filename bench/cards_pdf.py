"""Time the invitation card sheet of one large compound: QR matrices, PDF drawing, total, pages and bytes.

    .venv/bin/python bench/cards_pdf.py [--cards 1236] [--seed 1] [--out cards.pdf]

1,236 cards is 浣花小区's size (owners and registered occupants). The links carry random 128-bit
tokens and the codes are random 10-character codes, so every QR code differs, as it will for real.
The PDF is drawn in an app context with the Chinese and English catalogues, two cards in three Chinese.
"""

from __future__ import annotations

import argparse
import base64
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from consult import create_app
from consult.residents.cards import Card
from consult.residents.cards import cards_pdf
from consult.residents.cards import pdf_font
from consult.residents.qr import qr_matrix

BASE_URL = "https://tongxin.example.gov.cn"
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"  # no 0/O, 1/I/L, U


def make_cards(count: int, rng: random.Random) -> list[Card]:
    cards = []
    for i in range(count):
        token = base64.urlsafe_b64encode(rng.getrandbits(128).to_bytes(16, "big")).rstrip(b"=").decode()
        code = "".join(rng.choice(CODE_ALPHABET) for _ in range(10))
        building, unit, room = i // 36 + 1, i // 12 % 3 + 1, (i // 2 % 6 + 1) * 100 + i % 2 + 1
        cards.append(
            Card(
                compound="浣花小区",
                place=f"{building}栋 {unit}单元 {room}",
                url=f"{BASE_URL}/r/{token}",
                code=f"{code[:5]}-{code[5:]}",
                code_url=f"{BASE_URL}/code",
                locale="en" if i % 3 == 2 else "zh_CN",
                occupant=i % 7 == 0,
            )
        )
    return cards


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cards", type=int, default=1236)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, help="also write the PDF here")
    args = parser.parse_args()

    cards = make_cards(args.cards, random.Random(args.seed))
    app = create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://"})
    with app.app_context():
        started = time.perf_counter()
        pdf_font()
        font_s = time.perf_counter() - started

        started = time.perf_counter()
        for card in cards:
            qr_matrix(card.url)
        matrices_s = time.perf_counter() - started

        started = time.perf_counter()
        pdf = cards_pdf(cards, "浣花小区 · 邀请卡")
        total_s = time.perf_counter() - started
    pages = pdf.count(b"/Type /Page\n")
    if args.out:
        args.out.write_bytes(pdf)
    print(f"cards            {len(cards):>9,}")
    print(f"font (once)      {font_s:>9.3f} s")
    print(f"QR matrices      {matrices_s:>9.3f} s   ({matrices_s / len(cards) * 1000:.2f} ms a code)")
    print(f"PDF drawing      {total_s - matrices_s:>9.3f} s   (cards_pdf less the matrices it makes)")
    print(f"total cards_pdf  {total_s:>9.3f} s")
    print(f"pages            {pages:>9,}")
    print(f"bytes            {len(pdf):>9,}   ({len(pdf) / len(cards) / 1024:.1f} KiB a card)")


if __name__ == "__main__":
    main()
