"""Anti-automation on what anyone may ask for: the public pages (all together), the poster PDF (drawn on
each request) and the open-data API answer 429 once a client goes past its limit."""

from __future__ import annotations

import logging

import pytest

OTHER_CLIENT = {"REMOTE_ADDR": "10.9.8.7"}


@pytest.mark.options(PUBLIC_LIMIT="3 per minute")
def test_public_pages_are_limited_per_client_all_together(app, client, compound, caplog):
    for path in (f"/p/{compound.id}", f"/p/{compound.id}/needs", f"/p/{compound.id}/poster"):
        assert client.get(path).status_code in (200, 404), path
    with caplog.at_level(logging.WARNING, logger=app.logger.name):
        assert client.get(f"/p/{compound.id}").status_code == 429
    assert client.get(f"/p/{compound.id}", environ_base=OTHER_CLIENT).status_code == 200
    # a breach is a security event: logged at WARNING, as every refused request is
    breaches = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert f"refused 429 GET /p/{compound.id} (anonymous)" in breaches


@pytest.mark.options(POSTER_LIMIT="1 per minute")
def test_the_poster_pdf_has_a_tighter_limit(client, compound):
    assert client.get(f"/p/{compound.id}/poster.pdf").status_code == 200
    assert client.get(f"/p/{compound.id}/poster.pdf").status_code == 429
    assert client.get(f"/p/{compound.id}").status_code == 200  # the other public pages go on


@pytest.mark.options(API_LIMIT="2 per minute")
def test_the_api_is_limited_per_client_and_answers_in_json(client, compound):
    allowed = client.get("/api/v1/compounds")
    assert allowed.status_code == 200
    assert "Retry-After" not in allowed.headers  # a wait is named only on a refusal
    assert client.get("/api/v1/streets").status_code == 200
    refused = client.get("/api/v1/compounds")
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert refused.is_json
    assert refused.get_json()["error"]["status"] == 429
    assert client.get("/api/v1/compounds", environ_base=OTHER_CLIENT).status_code == 200


def test_the_defaults_are_generous_for_people_and_set(app):
    assert app.config["PUBLIC_LIMIT"] == "300 per minute"
    assert app.config["POSTER_LIMIT"] == "20 per minute"
    assert app.config["API_LIMIT"] == "120 per minute"
