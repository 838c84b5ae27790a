"""What the site signs with ``SECRET_KEY``: the session cookie, unsubscribe links and new-password links.

All are signed with HMAC-SHA256. Those signed with HMAC-SHA1 (the libraries' default, which the site
used before) are still accepted until they expire, so that a change of version signs nobody out and
breaks no link already in someone's mailbox. Flask-WTF's CSRF token is signed by that library alone,
still with HMAC-SHA1 (``docs/security.md``, G13)."""

from __future__ import annotations

import hashlib
from typing import Any

from flask import Flask
from flask.sessions import SecureCookieSessionInterface
from itsdangerous import URLSafeTimedSerializer

DIGEST = hashlib.sha256
#: signatures accepted on what arrives, beside the current one
FORMER_DIGESTS: list[dict[str, Any]] = [{"digest_method": hashlib.sha1}]


def serializer(secret_key: str | bytes, salt: str) -> URLSafeTimedSerializer:
    """Dumps with HMAC-SHA256; loads that, or HMAC-SHA1 of before."""
    return URLSafeTimedSerializer(
        secret_key,
        salt=salt,
        signer_kwargs={"digest_method": DIGEST},
        fallback_signers=FORMER_DIGESTS,
    )


class SessionInterface(SecureCookieSessionInterface):
    """Flask's signed cookie session, signed with HMAC-SHA256 (and reading the SHA-1 cookies of before)."""

    digest_method = staticmethod(DIGEST)

    def get_signing_serializer(self, app: Flask) -> URLSafeTimedSerializer | None:
        signing = super().get_signing_serializer(app)
        if signing is not None:
            signing.fallback_signers = [
                {"key_derivation": self.key_derivation, **former} for former in FORMER_DIGESTS
            ]
        return signing
