"""Security logging: sign-ins that fail, sign-ins and sign-outs are audited; refused requests (403, 404)
are logged at WARNING with who was refused and no token."""

from __future__ import annotations

import logging

from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.notify.emails import unsubscribe_token
from tests.conftest import PASSWORD


def actions() -> list[tuple[str, str]]:
    return [(e.actor, e.action) for e in db.session.scalars(select(AuditEntry).order_by(AuditEntry.id))]


def test_sign_ins_failed_sign_ins_and_sign_outs_are_audited(client, auth, worker):
    auth.login(worker, "not the password")
    auth.login(worker)
    auth.logout()
    me = f"user:{worker.id}"
    assert [a for a in actions() if a[1].startswith("user.log")] == [
        ("anonymous", "user.login_failed"),
        (me, "user.login"),
        (me, "user.logout"),
    ]
    assert PASSWORD not in " ".join(e.detail for e in db.session.scalars(select(AuditEntry)))


def test_refused_requests_are_logged_at_warning_without_tokens(app, client, auth, worker, caplog):
    token = unsubscribe_token("someone@example.test", "zh_CN") + "x"  # forged: refused with 404
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        assert client.get(f"/notify/unsubscribe/{token}").status_code == 404
        auth.login(worker)
        assert client.get("/auth/users").status_code == 403
    refusals = [r for r in caplog.records if r.levelno == logging.WARNING and "refused" in r.getMessage()]
    assert [r.getMessage() for r in refusals] == [
        "refused 404 GET /notify/unsubscribe/[redacted] (anonymous)",
        f"refused 403 GET /auth/users (user:{worker.id})",
    ]
    assert token not in caplog.text


def test_error_pages_never_repeat_a_token_or_an_address(client, app, caplog):
    card_token = "AbCdEfGhIjKlMnOpQrStUv"  # looks like a card's link, names none
    forged = unsubscribe_token("someone@example.test", "zh_CN") + "x"
    with caplog.at_level(logging.DEBUG):
        for path in (f"/r/{card_token}", f"/notify/unsubscribe/{forged}"):
            response = client.get(path)
            assert response.status_code == 404
            page = response.get_data(as_text=True)
            for secret in (card_token, forged, "someone@example.test"):
                assert secret not in page
    for secret in (card_token, forged, "someone@example.test"):
        assert secret not in caplog.text
