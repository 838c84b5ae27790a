"""Moving round 2 along with the engine, and test files."""

from __future__ import annotations

import struct
import zlib
from datetime import timedelta
from io import BytesIO

from PIL import Image

from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.services import apply

PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [3 0 R] /Count 1 >>\nendobj\n"
    b"3 0 obj\n<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def open_round(round_: Round) -> None:
    apply(round_, Action.OPEN, "user:1", round_.opens_at)
    db.session.commit()


def close_round(round_: Round) -> None:
    assert round_.closes_at is not None
    apply(round_, Action.CLOSE, "user:1", round_.closes_at)
    db.session.commit()


def publish_round(round_: Round) -> None:
    assert round_.closes_at is not None
    apply(round_, Action.PUBLISH, "user:1", round_.closes_at + timedelta(days=1))
    db.session.commit()


def during(round_: Round):
    """A moment while the round is open for input."""
    assert round_.opens_at is not None
    return round_.opens_at + timedelta(hours=1)


def png_with_metadata(size: tuple[int, int] = (40, 30)) -> bytes:
    """A PNG carrying EXIF (camera maker, GPS) and a text chunk."""
    from PIL.PngImagePlugin import PngInfo

    picture = Image.new("RGB", size, (200, 30, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Maker"  # Make
    exif[0x8825] = {1: "N", 2: (30.0, 40.0, 0.0)}  # GPS
    info = PngInfo()
    info.add_text("Author", "张伟 1栋101")
    out = BytesIO()
    picture.save(out, "PNG", exif=exif, pnginfo=info)
    return out.getvalue()


def jpeg_with_exif(size: tuple[int, int] = (40, 20), orientation: int = 6) -> bytes:
    """A JPEG with a camera maker and an orientation (6: turn 90° to show it upright)."""
    picture = Image.new("RGB", size, (10, 120, 200))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam Maker"
    exif[0x0112] = orientation
    out = BytesIO()
    picture.save(out, "JPEG", exif=exif, comment=b"secret comment")
    return out.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A tiny PNG that claims a huge size: a pixel bomb (its pixels are never there)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def plain_png(size: tuple[int, int]) -> bytes:
    out = BytesIO()
    Image.new("L", size, 0).save(out, "PNG")
    return out.getvalue()


def english(message: object) -> str:
    """A (lazy) message as English text, whatever the catalogue says in Chinese."""
    from flask_babel import force_locale

    with force_locale("en"):
        return str(message)
