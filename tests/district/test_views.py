"""The district dashboard and its CSV export: who may see them, filters, sorting, pages, query count."""

from __future__ import annotations

import csv
import io
import re

import pytest

from consult.auth.models import Role
from consult.district import views as district_views
from consult.district.participation import register_bulk_answered
from consult.district.rules import parse_stage
from consult.extensions import db
from consult.rounds.rules import RoundKind
from consult.rounds.services import RoundContent
from tests.district import factories
from tests.district.factories import SCENARIOS
from tests.district.test_services import _answered_by_room

BOM = "\ufeff".encode()


def page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.get_data(as_text=True)


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert response.data.startswith(BOM)
    return list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"), newline="")))


@pytest.mark.parametrize("path", ["/district/", "/district/compounds.csv"])
def test_anonymous_is_sent_to_login(client, path):
    response = client.get(path)
    assert response.status_code == 302
    assert "/auth/login" in response.headers["Location"]


@pytest.mark.parametrize("role", [Role.WORKER, Role.EXPERT])
@pytest.mark.parametrize("path", ["/district/", "/district/compounds.csv"])
def test_workers_and_experts_are_refused(client, auth, create_user, street, role, path):
    auth.login(create_user("staff@example.test", role, street if role is Role.WORKER else None))
    assert client.get(path).status_code == 403


@pytest.mark.parametrize("role", [Role.REVIEWER, Role.ADMIN])
def test_reviewers_and_admins_see_every_compound(client, auth, create_user, role):
    factories.many(6)
    auth.login(create_user("r@example.test", role))
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = page(client.get("/district/"))
    for i in range(6):
        assert f"院{i:03d}" in html
    assert "District review" in html


def test_the_page_in_both_languages(client, auth, reviewer):
    factories.many(len(SCENARIOS))
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    english = page(client.get("/district/"))
    assert '<html lang="en"' in english
    assert "Round 1 open" in english
    assert "Consensus reached" in english
    assert "Progress against the plan" in english
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN,zh;q=0.9"
    chinese = page(client.get("/district/"))
    assert '<html lang="zh-CN"' in chinese
    assert "计划年度" in chinese  # "Plan year", already in the catalogue
    assert "院000" in chinese


def test_charts_are_accessible_svg_without_inline_style_or_script(client, auth, reviewer):
    factories.many(len(SCENARIOS))
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = page(client.get("/district/"))
    charts = re.findall(r"<svg[^>]*>.*?</svg>", html, re.S)
    assert len(charts) == 2
    for chart in charts:
        assert 'role="img"' in chart
        assert "<title" in chart
        assert "<text" in chart
    assert "2024: 1 of 221 planned compounds reached consensus, 1 under way, 3 registered" in html
    assert " style=" not in html
    assert "<style" not in html
    assert "<script" not in html


def test_stage_counts_and_filters(client, auth, reviewer):
    compounds = factories.many(len(SCENARIOS) * 2)
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = page(client.get("/district/"))
    assert re.search(r"Consensus reached</a>: 2\b", html)
    assert re.search(r"Round 1 open</a>: 2\b", html)

    html = page(client.get("/district/?stage=consensus"))
    assert "院010" in html
    assert "院021" in html
    assert "院000" not in html
    assert "<strong>Consensus reached: 2</strong>" in html

    street_id = compounds[1].street_id
    html = page(client.get(f"/district/?street={street_id}"))
    listed = set(re.findall(r"院\d{3}", html.split('id="list"')[1]))
    assert listed == {c.name for c in compounds if c.street_id == street_id}

    html = page(client.get("/district/?plan_year=2022&cluster=" + str(compounds[0].cluster_id)))
    listed = set(re.findall(r"院\d{3}", html.split('id="list"')[1]))
    expected = {c.name for c in compounds if c.plan_year == 2022 and c.cluster_id == compounds[0].cluster_id}
    assert listed == expected

    # nonsense in the query string is ignored, never an error
    html = page(client.get("/district/?street=x&plan_year=&stage=round9_draft&sort=evil&dir=up&page=-3"))
    assert "院000" in html


def test_stuck_compounds(client, auth, reviewer, app):
    factories.many(len(SCENARIOS))  # every round event is on T0, long ago
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = page(client.get("/district/"))
    # every compound whose rounds have begun is stuck; the others date from their creation, just now
    # (rounds planned as drafts do not start a stage); consensus never is
    with_rounds = [i for i, (key, __r, __a) in enumerate(SCENARIOS) if key.startswith("round")]
    assert f"{len(with_rounds)} compounds have been in the same stage for more than 30 days" in html
    html = page(client.get("/district/?stuck=1"))
    listed = set(re.findall(r"院\d{3}", html.split('id="list"')[1]))
    assert listed == {f"院{i:03d}" for i in with_rounds}
    app.config["STUCK_AFTER_DAYS"] = 100_000
    html = page(client.get("/district/"))
    assert "No compound has been in the same stage for more than 100000 days" in html


def test_sorting_links_and_order(client, auth, reviewer):
    factories.many(len(SCENARIOS))
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = page(client.get("/district/?sort=stage"))
    table = html.split('id="list"')[1]
    names = re.findall(r"院\d{3}", table)
    ranks = {f"院{i:03d}": parse_stage(key).rank for i, (key, __, __r) in enumerate(SCENARIOS)}
    assert names == sorted(ranks, key=ranks.get)
    assert 'aria-sort="ascending"' in table
    assert "sort=stage&amp;dir=desc" in table
    html = page(client.get("/district/?sort=stage&dir=desc"))
    assert re.findall(r"院\d{3}", html.split('id="list"')[1]) == list(reversed(names))
    for column in ("name", "street", "plan_year", "since"):
        assert f"sort={column}" in table
        page(client.get(f"/district/?sort={column}"))


def test_pages(client, auth, reviewer, monkeypatch):
    monkeypatch.setattr(district_views, "PER_PAGE", 4)
    factories.many(10)
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    seen = []
    for number in (1, 2, 3):
        html = page(client.get(f"/district/?sort=name&page={number}"))
        seen += re.findall(r"院\d{3}", html.split('id="list"')[1])
        assert f"Page {number} of 3" in html
    assert seen == [f"院{i:03d}" for i in range(10)]
    assert "Page 3 of 3" in page(client.get("/district/?page=99"))


def test_csv_export_of_the_filtered_list_is_safe_for_excel(client, auth, reviewer, street):
    factories.many(4)
    evil = factories.compound_in('=HYPERLINK("http://x")', 10, street_name=street.name)
    db.session.commit()
    auth.login(reviewer)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    response = client.get("/district/compounds.csv?sort=name")
    assert "attachment" in response.headers["Content-Disposition"]
    rows = read_csv(response)
    assert rows[0][:3] == ["Id", "Compound", "Street"]
    assert len(rows) == 1 + 5
    by_id = {row[0]: row for row in rows[1:]}
    assert by_id[str(evil.id)][1] == '\'=HYPERLINK("http://x")'
    assert by_id[str(evil.id)][9] == "consensus"
    assert by_id[str(evil.id)][8] == "Consensus reached"
    assert rows[0][-3:] == ["Consensus record, version", "Consensus record, status", "Record status code"]
    assert by_id[str(evil.id)][-3:] == ["", "", ""]  # the stage says consensus; no record submitted yet
    for row in rows:
        for cell in row:
            assert not cell.startswith(("=", "+", "-", "@", "\t", "\r")), cell
    filtered = read_csv(client.get("/district/compounds.csv?stage=consensus"))
    assert [row[0] for row in filtered[1:]] == [str(evil.id)]
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "zh-CN"
    chinese = read_csv(client.get("/district/compounds.csv"))
    assert chinese[0][1] == "小区"


@pytest.mark.parametrize(
    "path",
    ["/district/", "/district/?sort=stage&stage=round1_open", "/district/compounds.csv", "/api/v1/compounds"],
)
def test_query_count_does_not_grow_with_the_compounds(
    client, auth, reviewer, count_queries, engine_hooks, path
):
    from consult.voting.services import eligible_dwellings

    answered, bulk = _answered_by_room(("101", "201"))
    for kind in RoundKind:
        engine_hooks[kind] = RoundContent(answered=answered)
    engine_hooks[
        RoundKind.VOTE
    ].eligible = eligible_dwellings  # the vote's own: owners in its questions' scope
    register_bulk_answered(answered, bulk)
    auth.login(reviewer)
    counts = []
    # 3 compounds with an open or closed round of each kind, then 27 more in every stage
    for batch, scenarios in (("a", [3, 8, 9]), ("b", list(range(27)))):
        factories.many(len(scenarios), prefix=f"{batch}院", scenarios=scenarios)
        count_queries.reset()
        assert client.get(path).status_code == 200
        counts.append(count_queries.count)
    assert counts[0] == counts[1], counts
    assert counts[0] < 25, count_queries.statements


def test_a_reviewer_starts_at_the_district_and_every_page_leads_there(client, auth, reviewer):
    assert auth.login(reviewer).headers["Location"].endswith("/district/")  # signed in, there
    assert client.get("/").headers["Location"].endswith("/district/")
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    nav = page(client.get("/compounds/"))
    assert '<a href="/district/">District</a>' in nav
