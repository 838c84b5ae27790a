"""Contact details, queued e-mails and stored photos encrypted at rest: AES-GCM with a key of the
application's (PIPL: collect the least, and protect what is kept). A stolen database file shows no phone
number, no e-mail address and no message text; a stolen upload folder shows no signed ballot or written
authority."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from flask import current_app
from sqlalchemy import Column
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import select
from sqlalchemy import type_coerce
from sqlalchemy import update
from sqlalchemy.types import TypeDecorator

from consult.files import written_whole

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


#: the start of a file sealed with ``seal_file_bytes`` (photos of signed ballots and authorities)
FILE_MAGIC = b"TONGXIN-SEALED-FILE-1\n"


def file_key(key: bytes | None = None, app: Flask | None = None) -> bytes:
    """The key stored files are sealed with, derived from the contact-details key (``key``, or the
    app's)."""
    return hmac.new(key or data_key(app), b"stored files", hashlib.sha256).digest()


def seal_file_bytes(plain: bytes, key: bytes | None = None) -> bytes:
    """A file's content, encrypted and authenticated (AES-256-GCM) for storing."""
    nonce = os.urandom(12)
    return FILE_MAGIC + nonce + AESGCM(key or file_key()).encrypt(nonce, plain, FILE_MAGIC)


def open_file_bytes(stored: bytes, key: bytes | None = None) -> bytes:
    """The content of a stored file; ``InvalidTag`` when it was sealed under another key or altered. A
    file stored before files were sealed is returned as it is."""
    if not stored.startswith(FILE_MAGIC):
        return stored
    body = stored[len(FILE_MAGIC) :]
    return AESGCM(key or file_key()).decrypt(body[:12], body[12:], FILE_MAGIC)


class EncryptedString(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees the plain value."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)


class EncryptedText(EncryptedString):
    """A text column of any length stored encrypted (the texts of queued e-mails)."""

    impl = Text
    cache_ok = True


@dataclass(frozen=True)
class Reencrypted:
    """What ``reencrypt`` did: values sealed again under the current key, and values it left as they
    were because the current key reads them already (a second run changes nothing)."""

    changed: int
    current: int


class UnreadableValue(Exception):
    """A stored value neither the old key nor the current one opens: nothing was changed."""


def reseal_files(paths: Sequence[Path], old_key: bytes) -> Reencrypted:
    """Seal each stored file again under the current key, reading it with ``old_key`` (or, if the current
    key opens it already, leaving it); a file stored before sealing began is sealed now. Each file is
    replaced at once (a crash leaves it under one key or the other), so a second run completes the
    first. Raises ``UnreadableValue`` at a file that opens with neither key."""
    old, current = file_key(old_key), file_key()
    changed = same = 0
    for path in paths:
        stored = path.read_bytes()
        if stored.startswith(FILE_MAGIC):
            try:
                open_file_bytes(stored, current)
            except InvalidTag:
                pass
            else:
                same += 1
                continue
            try:
                plain = open_file_bytes(stored, old)
            except InvalidTag:
                raise UnreadableValue(f"the file {path.name}") from None
        else:
            plain = stored
        with written_whole(path, 0o640) as out:  # the mode uploads are stored with
            out.write(seal_file_bytes(plain, current))
        changed += 1
    return Reencrypted(changed, same)


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
