"""A round's dates: set in the district's time zone (Asia/Shanghai), kept exactly at their instants; an
open round may be given more time while it runs, never once its closing time has passed."""

from __future__ import annotations

import json
import re
from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.rules import is_open_for_input
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds
from consult.rounds.services import set_schedule

NOW = datetime(2026, 11, 27, 1, 0, tzinfo=UTC)
ROSTER = "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80,张伟\n1,1,102,70,李娜\n"


@pytest.fixture
def first(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    round_ = plan_default_rounds(compound, NOW, "test")[0]
    apply(round_, Action.OPEN, "test", NOW)
    db.session.commit()
    return round_


def test_an_open_round_is_extended_while_it_runs(first):
    closes = first.closes_at
    set_schedule(first, first.opens_at, closes + timedelta(days=3), 7, "user:1", closes - timedelta(hours=1))
    assert first.closes_at == closes + timedelta(days=3)
    with pytest.raises(TransitionRefused):
        set_schedule(first, first.opens_at, closes, 7, "user:1", closes - timedelta(hours=1))


def test_a_round_past_its_closing_time_is_not_extended(first):
    """Its input closed at the set time; taking answers again is a reopening (the district review's
    return, with its reason in the history), not a change of dates."""
    closes = first.closes_at
    assert not is_open_for_input(first.state, first.opens_at, first.closes_at, closes)
    with pytest.raises(TransitionRefused):
        set_schedule(first, first.opens_at, closes + timedelta(days=7), 7, "user:1", closes)
    assert first.closes_at == closes
    assert first.state is RoundState.OPEN


def test_the_record_of_an_extension_says_what_changed(first):
    closes = first.closes_at
    set_schedule(first, NOW + timedelta(days=5), closes + timedelta(days=2), 3, "user:1", NOW)
    db.session.commit()
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.action == "round.scheduled").order_by(AuditEntry.id.desc())
    ).first()
    # an open round keeps its opening time and notice days; only its closing time moved
    assert (first.opens_at, first.notice_days) == (NOW, 7)
    detail = json.loads(entry.detail)
    assert (detail["opens"], detail["closes"], detail["notice_days"]) == (
        str(NOW),
        str(closes + timedelta(days=2)),
        7,
    )


def test_dates_picked_on_the_page_are_days_in_shanghai(client, auth, worker, compound):
    auth.login(worker)
    client.post(f"/compounds/{compound.id}/rounds/plan", data={"start": "2026-12-01"})
    first = db.session.scalars(select(Round).where(Round.number == 1)).one()
    client.post(
        f"/compounds/{compound.id}/rounds/{first.id}/schedule",
        data={"opens": "2026-12-01", "closes": "2027-01-10", "notice_days": "7"},
    )
    db.session.refresh(first)
    assert first.opens_at == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # 1 Dec, 00:00 in Shanghai
    assert first.closes_at == datetime(2027, 1, 10, 16, 0, tzinfo=UTC)  # the end of 10 January there
    last = datetime(2027, 1, 10, 15, 59, 59, tzinfo=UTC)
    assert is_open_for_input(RoundState.OPEN, first.opens_at, first.closes_at, last)
    assert not is_open_for_input(RoundState.OPEN, first.opens_at, first.closes_at, first.closes_at)
    # the page shows the dates as saved, as days in Shanghai
    form = client.get(f"/compounds/{compound.id}/rounds/{first.id}/schedule").get_data(as_text=True)
    assert 'value="2026-12-01"' in form
    assert 'value="2027-01-10"' in form  # the last day open, not the midnight after it


def test_an_open_rounds_dates_page_keeps_its_opening_and_asks_only_for_more_time(client, auth, worker, first):
    auth.login(worker)
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    html = client.get(f"/compounds/{first.compound_id}/rounds/{first.id}/schedule").get_data(as_text=True)
    assert re.search(r'<input[^>]*id="opens"[^>]*readonly', html)
    assert "it may be given more time, never less" in html
