"""The workers' round pages: timeline, actions, participation and the door-to-door list."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from consult.auth.models import Role
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import RoundState

ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80,张伟\n1,1,102,70,李娜\n"


def plan(client, compound, start="2026-12-01"):
    return client.post(f"/compounds/{compound.id}/rounds/plan", data={"start": start})


def test_worker_plans_and_opens_round_one(client, auth, worker, compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    auth.login(worker)
    assert "还没有计划轮次" in client.get(f"/compounds/{compound.id}/rounds").get_data(as_text=True)
    assert plan(client, compound).status_code == 302
    rounds = db.session.scalars(select(Round).order_by(Round.number)).all()
    assert len(rounds) == 3
    first = rounds[0]
    response = client.post(
        f"/compounds/{compound.id}/rounds/{first.id}/schedule",
        data={"opens": "2026-11-20", "closes": "2027-01-10", "notice_days": "5"},
    )
    assert response.status_code == 302
    client.post(f"/compounds/{compound.id}/rounds/{first.id}/open", data={"reason": ""})
    db.session.refresh(first)
    assert first.state is RoundState.OPEN
    assert first.notice_days == 5

    refused = client.post(
        f"/compounds/{compound.id}/rounds/{rounds[1].id}/open", data={}, follow_redirects=True
    )
    assert "上一轮的答复还没有公布" in refused.get_data(as_text=True)
    db.session.refresh(rounds[1])
    assert rounds[1].state is RoundState.DRAFT


def test_timeline_in_english(client, auth, worker, compound):
    auth.login(worker)
    plan(client, compound)
    client.post("/lang/en", data={"next": "/"})
    page = client.get(f"/compounds/{compound.id}/rounds").get_data(as_text=True)
    assert "Needs survey and needs list" in page
    assert "Open the round" in page


def test_participation_and_doors_show_rooms_not_names(client, auth, worker, compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    auth.login(worker)
    plan(client, compound)
    first = db.session.scalars(select(Round).where(Round.number == 1)).one()
    page = client.get(f"/compounds/{compound.id}/rounds/{first.id}/participation").get_data(as_text=True)
    assert "0 / 2" in page or ">0<" in page
    doors = client.get(f"/compounds/{compound.id}/rounds/{first.id}/doors").get_data(as_text=True)
    assert "101" in doors
    assert "102" in doors
    assert "张伟" not in doors
    assert "李娜" not in doors


def test_reviewer_reads_but_cannot_act(client, auth, create_user, worker, compound):
    auth.login(worker)
    plan(client, compound)
    auth.logout()
    first = db.session.scalars(select(Round).where(Round.number == 1)).one()
    reviewer = create_user("r@example.test", Role.REVIEWER)
    auth.login(reviewer)
    assert client.get(f"/compounds/{compound.id}/rounds").status_code == 200
    assert client.post(f"/compounds/{compound.id}/rounds/{first.id}/open", data={}).status_code == 403


def test_another_streets_worker_gets_404(client, auth, create_user, other_street, worker, compound):
    auth.login(worker)
    plan(client, compound)
    auth.logout()
    first = db.session.scalars(select(Round).where(Round.number == 1)).one()
    outsider = create_user("w2@example.test", Role.WORKER, other_street)
    auth.login(outsider)
    for path in (
        f"/compounds/{compound.id}/rounds",
        f"/compounds/{compound.id}/rounds/{first.id}/participation",
        f"/compounds/{compound.id}/rounds/{first.id}/doors",
    ):
        assert client.get(path).status_code == 404
    assert client.post(f"/compounds/{compound.id}/rounds/{first.id}/open", data={}).status_code == 404


def test_public_page_shows_the_current_round_and_its_dates(client, auth, worker, compound):
    auth.login(worker)
    plan(client, compound, start="2026-11-01")
    first = db.session.scalars(select(Round).where(Round.number == 1)).one()
    client.post(
        f"/compounds/{compound.id}/rounds/{first.id}/schedule",
        data={"opens": "2026-11-01", "closes": "2027-01-10", "notice_days": "7"},
    )
    client.post(f"/compounds/{compound.id}/rounds/{first.id}/open", data={})
    auth.logout()
    page = client.get(f"/p/{compound.id}").get_data(as_text=True)
    assert "第 1 轮" in page
    assert "居民参与中" in page
    assert "2027年1月10日 23:59" in page  # the end of 10 January, in the district's time zone


def test_a_failed_round_is_held_again_once(client, auth, worker, compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    plan(client, compound, start=(datetime.now(UTC) - timedelta(days=1)).date().isoformat())
    first = db.session.scalars(select(Round).order_by(Round.number)).first()
    client.post(f"/compounds/{compound.id}/rounds/{first.id}/open", data={"reason": ""})
    client.post(f"/compounds/{compound.id}/rounds/{first.id}/fail", data={"reason": "too few took part"})
    page = client.get(f"/compounds/{compound.id}/rounds").get_data(as_text=True)
    assert page.count("Hold this round again") == 1
    assert client.post(f"/compounds/{compound.id}/rounds/{first.id}/repeat").status_code == 302
    page = client.get(f"/compounds/{compound.id}/rounds").get_data(as_text=True)
    assert "Hold this round again" not in page  # the failed attempt has its repeat: once is enough
    assert "Held again: attempt 2 below." in page
    assert "Round 1 · attempt 2" in page
