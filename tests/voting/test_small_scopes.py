"""Public results never tell how one owner voted: where fewer than three owners voted on a question (a
lift in a stairwell unit of one or two owners), the public page shows the outcome and the turnout only,
not who answered what, by count or by floor area."""

from __future__ import annotations

import re

import pytest

from consult.extensions import db
from consult.voting import services
from consult.voting.rules import answers_public
from tests.voting.conftest import close_round
from tests.voting.conftest import open_round
from tests.voting.conftest import publish_round


@pytest.fixture
def published(client, resident, vote, owners):
    """张伟 (alone in building 1, unit 1) and 李娜 vote yes, 陈秀英 (with 李娜 in building 1, unit 2) no,
    周建国 yes: four voters on the compound's questions, one or two on each lift."""
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    for name, choice in (("张伟", "yes"), ("李娜", "yes"), ("陈秀英", "no"), ("周建国", "yes")):
        resident(name)
        data = {
            f"q{q.id}": (choice if q.kind.value == "yes_no" else "company")
            for q in services.owner_questions(vote, owners[name].id)
        }
        assert client.post(f"/me/vote/{vote.id}", data=data).status_code == 302
        client.post("/me/leave")
    close_round(vote)
    publish_round(vote)
    return vote


def sections(html: str) -> dict[str, str]:
    """Each question's part of the page, by its prompt."""
    found = re.findall(r'<section class="vote-result".*?<h2[^>]*>\d+\. (.*?)</h2>(.*?)</section>', html, re.S)
    return dict(found)


@pytest.mark.parametrize("lang", ["en", "zh-CN"])
def test_a_lift_vote_of_two_owners_shows_the_outcome_but_not_how_each_voted(client, published, lang):
    html = client.get(
        f"/p/{published.compound_id}/result/{published.id}", headers={"Accept-Language": lang}
    ).get_data(as_text=True)
    parts = sections(html)
    lift = next(v for k, v in parts.items() if re.search(r"building 1, unit 2|1栋2单元", k))
    alone = next(v for k, v in parts.items() if re.search(r"building 1, unit 1|1栋1单元", k))
    for part in (lift, alone):
        assert "90.25" not in part  # 李娜's floor area, approving
        assert "70.00" not in part  # 陈秀英's, against
        assert 'class="verdict' in part  # the outcome stands
        counted = part.split("<h3>", 1)[1]  # past the rule, which names the approval bars
        assert not re.search(r"Owners approving|Approval by|Against|同意的业主|反对", counted)
        assert not re.search(r">\d+ · \d+\.\d%", part)  # no chart of the answers ("1 · 50.0%")
        assert "56.32" not in part  # nor the share of the area approving
    # the turnout stays: 2 of 2 owners of the unit voted
    assert lift.count("<dd>2</dd>") == 2  # owners in scope, owners who voted
    # the compound's questions, with four voters, keep their full count
    plan = next(v for k, v in parts.items() if "plan" in k.lower() or "方案" in k)
    assert re.search(r"Owners approving|同意的业主", plan)


def test_staff_still_see_the_full_count_of_a_small_scope(client, auth, published, workers):
    auth.login(workers["a"])
    html = client.get(
        f"/compounds/{published.compound_id}/votes/{published.id}/results",
        headers={"Accept-Language": "en"},
    ).get_data(as_text=True)
    lift = next(v for k, v in sections(html).items() if "building 1, unit 2" in k)
    assert "Owners approving" in lift
    assert "90.25" in lift


def test_answers_are_public_from_three_voters():
    assert [answers_public(n) for n in range(5)] == [False, False, False, True, True]
