"""Resident pages weigh little: each page with its CSS, fonts and images under 50 KB compressed, and
nothing fetched from another site."""

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

BUDGET = 50 * 1024
ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80.50,张伟\n"
ASSET = re.compile(r'<(?:link|img|script|source)\b[^>]*\b(?:href|src)="([^"]+)"')


def weight(client, html: str) -> int:
    """Compressed bytes of the page and every file it loads; fails on anything from another site."""
    total = len(gzip.compress(html.encode()))
    for url in set(ASSET.findall(html)):
        assert url.startswith("/"), f"external request: {url}"
        with client.get(url) as asset:
            assert asset.status_code == 200, url
            total += len(gzip.compress(asset.data))
    return total


@pytest.fixture
def resident_pages(client, compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    [card] = issue_cards(card_people(compound), compound, "test", datetime.now(UTC))
    db.session.commit()
    pages = {
        "public notice": client.get(f"/p/{compound.id}"),
        "enter code": client.get("/code"),
        "enter code (compound)": client.get(f"/p/{compound.id}/code"),
        "wrong code": client.post("/code", data={"code": "ABCDE-FGHJK"}),
    }
    client.get(f"/r/{card.token}")
    pages["privacy notice"] = client.get("/me")
    client.post("/me/privacy")
    pages["home"] = client.get("/me")
    client.post("/display/large-type", data={"next": "/me"})
    pages["home, large type"] = client.get("/me")
    return pages


@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_resident_page_is_under_the_budget(client, resident_pages, lang):
    client.post(f"/lang/{lang}", data={"next": "/"})
    for name, response in resident_pages.items():
        assert response.status_code in (200, 404), name
        size = weight(client, response.get_data(as_text=True))
        assert size < BUDGET, f"{name}: {size} bytes"


def test_large_type_is_remembered_in_the_session(client, resident_pages):
    assert 'class="large"' in resident_pages["home, large type"].get_data(as_text=True)
    assert 'class="large"' not in resident_pages["home"].get_data(as_text=True)
    assert 'class="large"' in client.get("/code").get_data(as_text=True)
    client.post("/display/large-type", data={"next": "/code"})
    assert 'class="large"' not in client.get("/code").get_data(as_text=True)
