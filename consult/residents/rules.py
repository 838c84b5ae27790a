"""Invitation codes: making them, reading what a resident typed, hashing them with a key. Pure."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import unicodedata
from datetime import datetime
from datetime import timedelta

#: no 0/O, 1/I/L: what a resident reads off a card can be typed back without doubt
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
#: 16 random bytes: 128 bits in the QR link
TOKEN_BYTES = 16


def new_token() -> str:
    """The secret in a card's QR link: 128 random bits, URL-safe (22 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_short_code() -> str:
    """A code to type instead of scanning: 10 characters of the unambiguous alphabet (about 49.5 bits)."""
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def format_code(code: str) -> str:
    """As printed on the card, in two groups: ``K7MP9QXR2T`` → ``K7MP9-QXR2T``."""
    half = len(code) // 2
    return f"{code[:half]}-{code[half:]}"


def squeezed(typed: str) -> str:
    """A typed code without what does not count: full-width letters made plain, spaces and dashes gone."""
    return re.sub(r"[\s\-_.·—]+", "", unicodedata.normalize("NFKC", typed))


def read_code(typed: str) -> str | None:
    """What a resident typed, as a code: full-width letters, spaces, dashes and case do not matter.

    None when it cannot be a code (wrong length or a character outside the alphabet)."""
    text = squeezed(typed).upper()
    if len(text) != CODE_LENGTH or any(c not in CODE_ALPHABET for c in text):
        return None
    return text


def looks_like_token(text: str) -> bool:
    return bool(re.fullmatch(r"[A-Za-z0-9_-]{22}", text))


def keyed_hash(key: bytes, kind: str, value: str) -> str:
    """HMAC-SHA256 of a token or code: what the database keeps instead of the code itself."""
    return hmac.new(key, f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()


def derive_key(secret: str, purpose: str) -> bytes:
    """A key for one purpose, derived from the application secret."""
    return hmac.new(secret.encode(), purpose.encode(), hashlib.sha256).digest()


def session_valid(started_at: datetime, now: datetime, lifetime: timedelta) -> bool:
    """A resident session lasts ``lifetime`` from the code exchange, however active (absolute timeout)."""
    return started_at <= now < started_at + lifetime


def place_label(building: str, unit: str, room: str, locale: str) -> str:
    """Where a dwelling is, as a resident says it: 3栋2单元501室, or Bldg 3, Unit 2, Room 501."""
    if locale == "en":
        return f"Bldg {building}, Unit {unit}, Room {room}"
    return f"{building}栋{unit}单元{room}室"


def places_label(places: list[str], locale: str) -> str:
    """The first place, and how many more a person holds."""
    if not places:
        return ""
    if len(places) == 1:
        return places[0]
    more = len(places) - 1
    return f"{places[0]} (+{more} more)" if locale == "en" else f"{places[0]} 等{len(places)}户"
