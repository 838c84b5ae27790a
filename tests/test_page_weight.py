"""Resident pages weigh little: each page with its CSS, fonts and images under 50 KB compressed, and
nothing fetched from another site. Every page of tests/resident_pages.py, in both languages and at both
type sizes."""

from __future__ import annotations

import gzip
import re
from datetime import UTC
from datetime import datetime

import pytest

from consult.extensions import db
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.resident_pages import STAGES
from tests.resident_pages import pages_of
from tests.resident_pages import resident_world
from tests.resident_pages import token_of

BUDGET = 50 * 1024
ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80.50,张伟\n"
ASSET = re.compile(r'<(?:link|img|script|source)\b[^>]*\b(?:href|src)="([^"]+)"')
STYLE_URL = re.compile(r"url\(([^)]+)\)")


def weight(client, html: str) -> int:
    """Compressed bytes of the page and every file it loads; fails on anything from another site."""
    total = len(gzip.compress(html.encode()))
    for url in set(ASSET.findall(html)):
        assert url.startswith("/"), f"external request: {url}"
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            total += len(gzip.compress(asset.data))
            for inner in STYLE_URL.findall(asset.get_data(as_text=True)) if url.endswith(".css") else []:
                assert inner.strip("'\"").startswith(("/", "data:")), f"external request: {inner}"
    return total


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
@pytest.mark.parametrize("stage", STAGES)
def test_every_resident_page_is_under_the_budget(app, client, tmp_path, stage, lang):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    world = resident_world(stage)
    client.post(f"/lang/{lang}", data={"next": "/"})
    visitor = "anonymous"
    weighed = []
    for page in pages_of(stage):
        if page.visitor != visitor:
            visitor = page.visitor
            assert client.get(f"/r/{token_of(world, visitor)}").status_code == 302
        path = page.path(world)
        for large in (False, True):
            if large:
                client.post("/display/large-type", data={"next": "/"})
            response = (
                client.post(page.action(world) if page.action else path) if page.submit else client.get(path)
            )
            if large:
                client.post("/display/large-type", data={"next": "/"})
            html = response.get_data(as_text=True)
            assert response.status_code == page.status, f"{page.name}: {response.status_code}"
            assert ('class="large"' in html) is large, page.name
            size = weight(client, html)
            assert size < BUDGET, f"{page.name}{' (large type)' if large else ''}: {size} bytes"
            weighed.append(page.name)
    assert weighed == [n for p in pages_of(stage) for n in (p.name, p.name)]


@pytest.fixture
def card_client(client, compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    [card] = issue_cards(card_people(compound), compound, "test", datetime.now(UTC))
    db.session.commit()
    client.get(f"/r/{card.token}")
    client.post("/me/privacy")
    return client


def test_large_type_is_remembered_in_the_session(card_client):
    client = card_client
    assert 'class="large"' not in client.get("/me").get_data(as_text=True)
    client.post("/display/large-type", data={"next": "/me"})
    assert 'class="large"' in client.get("/me").get_data(as_text=True)
    assert 'class="large"' in client.get("/code").get_data(as_text=True)
    client.post("/display/large-type", data={"next": "/code"})
    assert 'class="large"' not in client.get("/code").get_data(as_text=True)
