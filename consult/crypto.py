"""Contact details encrypted at rest: AES-GCM with a key of the application's (PIPL: collect the least,
and protect what is kept). A stolen database file shows no phone number or e-mail address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from flask import current_app
from sqlalchemy import Column
from sqlalchemy import String
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy import update
from sqlalchemy.types import TypeDecorator

PREFIX = "v1:"


def data_key(app: Flask | None = None) -> bytes:
    """``DATA_KEY`` (base64, 32 bytes) when set, else a key derived from ``SECRET_KEY``."""
    config = (app or current_app).config
    return key_of(config.get("DATA_KEY"), config["SECRET_KEY"])


def key_of(data_key: str | None, secret_key: str) -> bytes:
    """The contact-details key of these settings: ``data_key`` (base64, 32 bytes) when given, else one
    derived from ``secret_key``."""
    if data_key:
        key = base64.b64decode(data_key)
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes, base64-encoded")
        return key
    return hmac.new(secret_key.encode(), b"contact details", hashlib.sha256).digest()


def encrypt(plain: str, app: Flask | None = None) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(data_key(app)).encrypt(nonce, plain.encode(), PREFIX.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(stored: str, app: Flask | None = None, key: bytes | None = None) -> str:
    """The plain value (with the app's key, or ``key``); ``cryptography.exceptions.InvalidTag`` when it
    was sealed with another key or altered."""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption: read as it is, encrypted on the next write
    raw = base64.b64decode(stored[len(PREFIX) :])
    return AESGCM(key or data_key(app)).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode()


class EncryptedString(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees the plain value."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)


@dataclass(frozen=True)
class Reencrypted:
    """What ``reencrypt`` did: values sealed again under the current key, and values it left as they
    were because the current key reads them already (a second run changes nothing)."""

    changed: int
    current: int


class UnreadableValue(Exception):
    """A stored value neither the old key nor the current one opens: nothing was changed."""


def encrypted_columns() -> list[Column[Any]]:
    """Every column of the schema stored with ``EncryptedString``."""
    from consult.extensions import db

    return [c for t in db.metadata.sorted_tables for c in t.columns if isinstance(c.type, EncryptedString)]


def reencrypt(old_key: bytes) -> Reencrypted:
    """Seal every encrypted value again under the current key (``DATA_KEY``, or the one derived from
    ``SECRET_KEY``), reading it with ``old_key``; in the caller's transaction. Raises ``UnreadableValue``
    (the caller rolls back) when a value opens with neither key."""
    from consult.extensions import db

    current = data_key()
    changed = same = 0
    for column in encrypted_columns():
        table = column.table
        (key_column,) = table.primary_key.columns
        stored = db.session.execute(
            select(key_column, type_coerce(column, String)).where(column.is_not(None))
        ).all()
        for row_key, raw in stored:
            try:
                plain = decrypt(raw, key=old_key)
            except InvalidTag:
                try:
                    decrypt(raw, key=current)
                except InvalidTag:
                    raise UnreadableValue(f"{table.name}.{column.name} of row {row_key}") from None
                same += 1
                continue
            db.session.execute(update(table).where(key_column == row_key).values({column.name: plain}))
            changed += 1
    return Reencrypted(changed, same)
