"""Contact details encrypted at rest: AES-GCM with a key of the application's (PIPL: collect the least,
and protect what is kept). A stolen database file shows no phone number or e-mail address."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from flask import Flask
from flask import current_app
from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

PREFIX = "v1:"


def data_key(app: Flask | None = None) -> bytes:
    """``DATA_KEY`` (base64, 32 bytes) when set, else a key derived from ``SECRET_KEY``."""
    config = (app or current_app).config
    configured = config.get("DATA_KEY")
    if configured:
        key = base64.b64decode(configured)
        if len(key) != 32:
            raise ValueError("DATA_KEY must be 32 bytes, base64-encoded")
        return key
    return hmac.new(config["SECRET_KEY"].encode(), b"contact details", hashlib.sha256).digest()


def encrypt(plain: str, app: Flask | None = None) -> str:
    nonce = os.urandom(12)
    sealed = AESGCM(data_key(app)).encrypt(nonce, plain.encode(), PREFIX.encode())
    return PREFIX + base64.b64encode(nonce + sealed).decode()


def decrypt(stored: str, app: Flask | None = None) -> str:
    """The plain value; ``cryptography.exceptions.InvalidTag`` when it was sealed with another key or
    altered."""
    if not stored.startswith(PREFIX):
        return stored  # written before encryption: read as it is, encrypted on the next write
    raw = base64.b64decode(stored[len(PREFIX) :])
    return AESGCM(data_key(app)).decrypt(raw[:12], raw[12:], PREFIX.encode()).decode()


class EncryptedString(TypeDecorator[str]):
    """A text column stored encrypted; Python code sees the plain value."""

    impl = String(400)
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else encrypt(value)

    def process_result_value(self, value: str | None, dialect: Any) -> str | None:
        return None if value is None else decrypt(value)
