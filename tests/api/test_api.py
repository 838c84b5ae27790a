"""The open data API: public, read-only JSON, the same figures as the district's pages, nothing personal."""

from __future__ import annotations

import csv
import io
import json
import re

import pytest

from consult.district.rules import parse_stage
from consult.extensions import db
from tests.district import factories
from tests.district.factories import SCENARIOS


def get_json(client, path: str, status: int = 200) -> dict:
    response = client.get(path)
    assert response.status_code == status, (path, response.status_code, response.data[:300])
    assert response.mimetype == "application/json"
    return response.get_json()


def test_public_without_signing_in(client):
    factories.many(3)
    response = client.get("/api/v1/compounds")
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "public, max-age=60"
    assert response.headers["Access-Control-Allow-Origin"] == "*"
    assert get_json(client, "/api/v1/")["openapi"] == "/api/v1/openapi.json"


def test_compounds_list_and_detail(client):
    made = factories.many(len(SCENARIOS))
    listing = get_json(client, "/api/v1/compounds")
    assert listing["total"] == len(SCENARIOS)
    assert (listing["page"], listing["per_page"], listing["pages"]) == (1, 100, 1)
    by_id = {item["id"]: item for item in listing["items"]}
    for compound, (key, __, __r) in zip(made, SCENARIOS, strict=True):
        assert by_id[compound.id]["stage"] == key
    full = by_id[made[10].id]
    assert full["dwellings"] == 4
    assert full["buildings"] == 1
    assert full["total_area"] == "275.75"
    assert full["street"] == "西御河街道"
    assert full["cluster"] == "红光"
    assert full["plan_year"] == 2024
    assert full["year_built"] == 1995
    assert by_id[made[0].id]["total_area"] == "0.00"
    assert {item["record"] for item in listing["items"]} == {None}  # no consensus record submitted

    detail = get_json(client, f"/api/v1/compounds/{made[8].id}")
    assert detail["stage"] == "round2_open"
    rounds = [(r["number"], r["attempt"], r["kind"], r["state"]) for r in detail["rounds"]]
    assert rounds == [
        (1, 1, "needs", "done"),
        (2, 1, "scheme", "failed"),
        (2, 2, "scheme", "open"),
        (3, 1, "vote", "draft"),
    ]
    assert detail["rounds"][2]["participation"] == {"answered": 0, "eligible": 4}
    assert detail["rounds"][3]["participation"] is None
    assert detail["rounds"][0]["opens_at"] == "2026-03-01T02:00:00+00:00"
    assert {k: v for k, v in detail.items() if k != "rounds"} == by_id[made[8].id]


def test_filters_and_pages(client):
    made = factories.many(12)
    page1 = get_json(client, "/api/v1/compounds?per_page=5")
    page3 = get_json(client, "/api/v1/compounds?per_page=5&page=3")
    assert (page1["pages"], page1["total"], len(page1["items"]), len(page3["items"])) == (3, 12, 5, 2)
    assert get_json(client, "/api/v1/compounds?per_page=5&page=4")["items"] == []
    ids = [
        i["id"]
        for n in (1, 2, 3)
        for i in get_json(client, f"/api/v1/compounds?per_page=5&page={n}")["items"]
    ]
    assert sorted(ids) == sorted(c.id for c in made)
    year = get_json(client, "/api/v1/compounds?plan_year=2022")
    assert {i["id"] for i in year["items"]} == {c.id for c in made if c.plan_year == 2022}
    street = get_json(client, f"/api/v1/compounds?street={made[0].street_id}")
    assert {i["id"] for i in street["items"]} == {c.id for c in made if c.street_id == made[0].street_id}
    stage = get_json(client, "/api/v1/compounds?stage=round1_open")
    assert [i["id"] for i in stage["items"]] == [made[3].id]


@pytest.mark.parametrize(
    "query",
    ["page=0", "per_page=0", "per_page=501", "page=x", "plan_year=1800", "stage=nonsense", "street=1.5"],
)
def test_bad_parameters_are_json_400(client, query):
    body = get_json(client, f"/api/v1/compounds?{query}", 400)
    assert body["error"]["status"] == 400


@pytest.mark.parametrize("path", ["/api/v1/compounds/999999", "/api/v1/nothing", "/api/v1/compounds/x"])
def test_unknown_things_are_json_404(client, path):
    body = get_json(client, path, 404)
    assert body["error"]["status"] == 404
    assert client.get(path).headers["Cache-Control"] == "no-store"


def test_read_only(client):
    for method in ("post", "put", "patch", "delete"):
        assert getattr(client, method)("/api/v1/compounds").status_code == 405


def test_streets_and_stages(client):
    factories.many(len(SCENARIOS))
    factories.street("府南街道")  # a street without compounds is listed with zeros
    db.session.commit()
    streets = get_json(client, "/api/v1/streets")["streets"]
    assert sum(s["compounds"] for s in streets) == len(SCENARIOS)
    assert sum(s["consensus"] for s in streets) == 1
    assert {"name": "府南街道", "compounds": 0, "dwellings": 0, "consensus": 0}.items() <= next(
        s for s in streets if s["name"] == "府南街道"
    ).items()
    stages = get_json(client, "/api/v1/stages")
    assert stages["total"] == len(SCENARIOS)
    counts = {s["stage"]: s["count"] for s in stages["stages"]}
    assert all(counts[key] == 1 for key, __, __r in SCENARIOS)
    assert sum(counts.values()) == len(SCENARIOS)


def test_the_api_agrees_with_the_pages(client, auth, reviewer):
    factories.many(len(SCENARIOS) * 2 + 3)
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get("/district/").get_data(as_text=True)
    on_page = {}
    for stage in get_json(client, "/api/v1/stages")["stages"]:
        label = str(parse_stage(stage["stage"]).label)
        match = re.search(rf">{re.escape(label)}</a>: (\d+)\s*</li>", html)
        assert match, label
        on_page[stage["stage"]] = int(match.group(1))
        assert on_page[stage["stage"]] == stage["count"], stage
    exported = list(csv.reader(io.StringIO(client.get("/district/compounds.csv").data.decode("utf-8-sig"))))
    csv_stages = {int(row[0]): row[9] for row in exported[1:]}
    api_stages = {i["id"]: i["stage"] for i in get_json(client, "/api/v1/compounds?per_page=500")["items"]}
    assert api_stages == csv_stages
    streets = {s["id"]: s["compounds"] for s in get_json(client, "/api/v1/streets")["streets"]}
    for street_id, count in streets.items():
        filtered = client.get(f"/district/?street={street_id}").get_data(as_text=True)
        assert f"{count} compounds</caption>" in filtered or count == 0


PERSONAL = "楼栋,单元,房号,建筑面积,业主姓名,联系电话,邮箱,业主编号,共有人,身份\n"
ROSTER = PERSONAL + (
    "9,3,甲1703室,88.80,欧阳翠花,13912345678,cuihua@example.test,QYX-7788,司马懿,业主\n"
    "9,3,甲1704室,77.70,上官婉儿,15887654321,,QYX-7789,,业主\n"
    "9,3,甲1704室,,慕容复,18611112222,murong@example.test,,,租户\n"
)
SECRETS = [
    "欧阳翠花",
    "上官婉儿",
    "慕容复",
    "司马懿",
    "13912345678",
    "15887654321",
    "18611112222",
    "cuihua",
    "murong",
    "example.test",
    "QYX-77",
    "甲1703",
    "甲1704",
    "1703",
    "5678",
]


def test_no_personal_data_in_any_answer(client, create_user):
    made = factories.many(len(SCENARIOS))
    secret = factories.compound_in("秘密院", 7, cluster=None)
    factories.roster(secret, ROSTER)
    db.session.commit()
    paths = [
        "/api/v1/",
        "/api/v1/openapi.json",
        "/api/v1/compounds?per_page=500",
        "/api/v1/streets",
        "/api/v1/stages",
        *[f"/api/v1/compounds/{c.id}" for c in [*made, secret]],
    ]
    keys: set[str] = set()
    for path in paths:
        response = client.get(path)
        assert response.status_code == 200
        text = response.get_data(as_text=True)
        for value in SECRETS:
            assert value not in text, (path, value)

        def walk(node):
            if isinstance(node, dict):
                keys.update(node)
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        if path != "/api/v1/openapi.json":
            walk(json.loads(text))
    assert not keys & {"owner", "owners", "occupant", "name_of_owner", "room", "phone", "email", "key"}
    assert get_json(client, f"/api/v1/compounds/{secret.id}")["dwellings"] == 6
