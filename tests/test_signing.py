"""What the site signs carries HMAC-SHA256, and what it signed with HMAC-SHA1 before still reads until it
expires: a signed-in session, an unsubscribe link, a new-password link."""

from __future__ import annotations

import hashlib

import pytest
from flask.sessions import SecureCookieSessionInterface
from flask.sessions import session_json_serializer
from itsdangerous import BadSignature
from itsdangerous import URLSafeTimedSerializer

from consult.auth.services import RESET_SALT
from consult.auth.services import reset_token
from consult.auth.services import user_for_reset
from consult.notify.emails import UNSUBSCRIBE_SALT
from consult.notify.emails import read_unsubscribe_token
from consult.notify.emails import unsubscribe_token

STAFF_PAGE = "/compounds/"


def signed_with(digest, secret: str, salt: str, **kwargs) -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(secret, salt=salt, signer_kwargs={"digest_method": digest, **kwargs})


def session_signer(secret: str, digest) -> URLSafeTimedSerializer:
    """A session cookie's signer as Flask makes it, with ``digest`` (Flask's own: SHA-1)."""
    return URLSafeTimedSerializer(
        secret,
        salt=SecureCookieSessionInterface.salt,
        serializer=session_json_serializer,
        signer_kwargs={"key_derivation": "hmac", "digest_method": digest},
    )


def session_cookie(client) -> str:
    cookie = client.get_cookie("session")
    assert cookie is not None
    return cookie.value


def test_the_session_cookie_is_signed_with_sha256(app, client, auth, worker):
    auth.login(worker)
    assert client.get(STAFF_PAGE).status_code == 200
    cookie = session_cookie(client)
    assert "_user_id" in session_signer(app.secret_key, hashlib.sha256).loads(cookie)
    with pytest.raises(BadSignature):
        SecureCookieSessionInterface().get_signing_serializer(app).loads(cookie)  # Flask's own: SHA-1


def test_a_session_signed_with_sha1_before_still_reads_and_a_forged_one_does_not(app, client, auth, worker):
    auth.login(worker)
    data = session_signer(app.secret_key, hashlib.sha256).loads(session_cookie(client))
    before = app.test_client()
    before.set_cookie("session", session_signer(app.secret_key, hashlib.sha1).dumps(data))
    assert before.get(STAFF_PAGE).status_code == 200
    forged = app.test_client()
    forged.set_cookie("session", session_signer("another secret key", hashlib.sha1).dumps(data))
    assert forged.get(STAFF_PAGE).status_code == 302  # to the sign-in page: the session is not theirs


def test_links_are_signed_with_sha256_and_those_sent_before_still_work(app, worker):
    secret = app.config["SECRET_KEY"]
    token = unsubscribe_token("a@example.test", "en")
    assert signed_with(hashlib.sha256, secret, UNSUBSCRIBE_SALT).loads(token)
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT).loads(token)  # the library's HMAC-SHA1
    sent_before = URLSafeTimedSerializer(secret, salt=UNSUBSCRIBE_SALT).dumps(["b@x.test", "zh_CN"])
    assert read_unsubscribe_token(sent_before) == ("b@x.test", "zh_CN")
    assert (
        read_unsubscribe_token(signed_with(hashlib.md5, secret, UNSUBSCRIBE_SALT).dumps(["c@x.test", "en"]))
        is None
    )

    link = reset_token(worker)
    assert signed_with(hashlib.sha256, secret, RESET_SALT).loads(link)
    with pytest.raises(BadSignature):
        URLSafeTimedSerializer(secret, salt=RESET_SALT).loads(link)
    sent_before = URLSafeTimedSerializer(secret, salt=RESET_SALT).dumps(
        signed_with(hashlib.sha256, secret, RESET_SALT).loads(link)
    )
    assert user_for_reset(sent_before) == worker
