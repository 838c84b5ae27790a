"""Who voted how: visible to staff only after the vote closes, only with a reason, and every look logged."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from consult.audit.models import AuditEntry
from consult.extensions import db
from consult.voting import services
from tests.voting.conftest import close_round
from tests.voting.conftest import open_round
from tests.voting.test_services import during
from tests.voting.test_services import invitation
from tests.voting.test_services import yes_to_all


@pytest.fixture
def voted(vote, cards, owners):
    """李娜 voted yes, then changed to no; 陈秀英 did not vote. The vote is open."""
    services.add_standard_questions(vote, "test", vote.opens_at)
    open_round(vote)
    li = invitation(cards, "李娜")
    services.cast_online(vote, li, yes_to_all(vote, owners["李娜"].id), during(vote))
    services.cast_online(vote, li, yes_to_all(vote, owners["李娜"].id, "no"), during(vote, 3))
    db.session.commit()
    return vote


def looks() -> list[dict]:
    entries = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.inspected")).all()
    return [json.loads(e.detail) | {"actor": e.actor} for e in entries]


def test_nobody_sees_a_choice_while_the_vote_is_open(voted, owners, english_messages):
    with pytest.raises(services.InspectionRefused, match="only after the vote has closed"):
        services.inspect_ballots(voted, owners["李娜"].id, "user:1", "resident asked us to check")
    assert looks() == []


def test_after_close_a_reason_shows_the_history_and_the_look_is_logged(voted, owners, english_messages):
    close_round(voted)
    with pytest.raises(services.InspectionRefused, match="Say why"):
        services.inspect_ballots(voted, owners["李娜"].id, "user:1", "  查  ")
    db.session.rollback()
    history = services.inspect_ballots(voted, owners["李娜"].id, "user:1", "业主投诉：核对是否计入")
    db.session.commit()
    assert {b.choice for b in history if b.active} == {"no", "self_management"}
    assert {b.choice for b in history if not b.active} == {"yes", "self_management"}
    assert looks() == [
        {"actor": "user:1", "owner": owners["李娜"].id, "reason": "业主投诉：核对是否计入", "round": voted.id}
    ]
    [look] = services.inspections(voted)
    assert (look.owner_id, look.reason) == (owners["李娜"].id, "业主投诉：核对是否计入")


def test_an_owner_of_another_compound_is_refused(voted, owners, create_compound, english_messages):
    from consult.compounds.models import Owner

    close_round(voted)
    elsewhere = create_compound("别的小区")
    stranger = Owner(compound_id=elsewhere.id, key="X1", name="外人")
    db.session.add(stranger)
    db.session.commit()
    with pytest.raises(services.InspectionRefused, match="not on the roster"):
        services.inspect_ballots(voted, stranger.id, "user:1", "a good reason")
    assert looks() == []


def test_the_page_asks_why_shows_the_ballots_and_lists_every_look(voted, owners, client, auth, workers):
    client.environ_base["HTTP_ACCEPT_LANGUAGE"] = "en"
    url = f"/compounds/{voted.compound_id}/votes/{voted.id}/inspect"
    auth.login(workers["a"])
    assert "only after the vote has closed" in client.get(url).get_data(as_text=True)
    close_round(voted)
    assert client.get(url).status_code == 200
    li = str(owners["李娜"].id)
    refused = client.post(url, data={"owner": li, "reason": ""})
    assert refused.status_code == 422
    assert looks() == []
    shown = client.post(url, data={"owner": li, "reason": "owner disputes the count"})
    text = shown.get_data(as_text=True)
    assert shown.status_code == 200
    assert "no, replaced" in text  # the first ballot, replaced by the second
    assert "owner disputes the count" in text  # listed in the log of looks
    assert "甲" in text  # who looked
    assert [look["reason"] for look in looks()] == ["owner disputes the count"]
    auth.logout()
    auth.login(workers["reviewer"])
    assert "owner disputes the count" in client.get(url).get_data(as_text=True)
