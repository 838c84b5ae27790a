"""Security headers on every response; personal pages never cached; unknown hosts refused."""

from __future__ import annotations

import pytest

from tests.conftest import PASSWORD

PAGES = ["/auth/login", "/code", "/no-such-page"]


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["Cache-Control"] == "no-store"
    assert "Strict-Transport-Security" not in response.headers  # plain HTTP here


def test_hsts_when_served_over_https(client):
    response = client.get("/auth/login", base_url="https://tongxin.example")
    assert response.headers["Strict-Transport-Security"].startswith("max-age=")


def test_public_pages_may_be_cached_personal_ones_not(client, compound, worker, auth):
    assert "no-store" not in client.get(f"/p/{compound.id}").headers.get("Cache-Control", "")
    auth.login(worker)
    assert client.get(f"/compounds/{compound.id}").headers["Cache-Control"] == "no-store"


def test_pages_have_no_inline_script_or_style(client, compound, worker, auth):
    pages = [client.get("/auth/login"), client.get(f"/p/{compound.id}"), client.get("/code")]
    auth.login(worker)
    pages += [client.get("/compounds/"), client.get(f"/compounds/{compound.id}")]
    for response in pages:
        html = response.get_data(as_text=True)
        assert "<script" not in html
        assert "style=" not in html
        assert "<style" not in html


@pytest.mark.options(TRUSTED_HOSTS=["tongxin.example.gov.cn"])
def test_only_trusted_hosts_are_answered(client):
    assert client.get("/auth/login", base_url="http://evil.example").status_code == 400
    assert client.get("/auth/login", base_url="http://tongxin.example.gov.cn").status_code == 200


def test_an_id_too_large_for_the_database_is_not_found(client):
    assert client.get("/p/9223372036854775808").status_code == 404


@pytest.mark.options(BASE_URL="https://tongxin.example")
def test_over_https_the_session_cookie_is_secure_and_host_only(client, worker):
    response = client.post(
        "/auth/login",
        data={"email": worker.email, "password": PASSWORD},
        base_url="https://tongxin.example",
    )
    cookie = response.headers["Set-Cookie"]
    assert cookie.startswith("__Host-session=")
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "path=/" in attributes
    assert not any(a.startswith("domain=") for a in attributes)
    assert client.get("/compounds/", base_url="https://tongxin.example").status_code == 200


def test_over_plain_http_the_cookie_keeps_its_plain_name(client, worker):
    cookie = client.post("/auth/login", data={"email": worker.email, "password": PASSWORD}).headers[
        "Set-Cookie"
    ]
    assert cookie.startswith("session=")
    assert "Secure" not in cookie
