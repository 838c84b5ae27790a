"""Round 2 fixtures: a compound with residents, its three rounds (round 1 done), two schemes in round 2."""

from __future__ import annotations

from datetime import timedelta

import pytest

from consult.db import utcnow
from consult.extensions import db
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import CONTENT
from consult.rounds.services import RoundContent
from consult.rounds.services import plan_default_rounds
from consult.schemes import services
from consult.schemes.services import register_with_engine

#: 张伟 owns two flats and left an address; 王芳 rents one of them and left one too; 李娜 left none
ROSTER = (
    "楼栋,单元,房号,建筑面积,业主姓名,联系电话,身份,业主编号,邮箱\n"
    "1,1,101,80.50,张伟,13812341234,业主,A1,zhang@example.test\n"
    "1,1,102,66.00,张伟,13812341234,业主,A1,zhang@example.test\n"
    "1,1,102,,王芳,13900001111,租户,,wang@example.test\n"
    "2,1,201,90.25,李娜,,业主,,\n"
)


@pytest.fixture(autouse=True)
def upload_folder(app, tmp_path):
    folder = tmp_path / "uploads"
    app.config["UPLOAD_FOLDER"] = str(folder)
    return folder


@pytest.fixture(autouse=True)
def engine_hooks():
    """Round 2's hooks plugged into the engine for the test, and the engine restored afterwards."""
    saved = RoundContent(CONTENT[RoundKind.SCHEME].answered, CONTENT[RoundKind.SCHEME].answer_blocker)
    register_with_engine()
    yield
    CONTENT[RoundKind.SCHEME] = saved


@pytest.fixture
def start():
    """Round 2 of the default plan opened a day ago and closes in 13 days."""
    return utcnow().replace(microsecond=0) - timedelta(days=29)


@pytest.fixture
def people(compound):
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    db.session.commit()
    return card_people(compound)


@pytest.fixture
def rounds(compound, people, start):
    planned = plan_default_rounds(compound, start, "user:1")
    planned[0].state = RoundState.DONE  # round 1 (the needs survey) is another area's: taken as done
    db.session.commit()
    return planned


@pytest.fixture
def round2(rounds):
    return rounds[1]


@pytest.fixture
def schemes(round2):
    """Two alternatives: A with two items, B with one."""
    a = services.add_scheme(round2, "保留院落", "user:1", "在围墙边增加停车位")
    services.add_item(a.first, "屋面防水重做", "全部楼栋", "user:1")
    services.add_item(a.first, "增加12个停车位", "沿北侧围墙", "user:1")
    b = services.add_scheme(round2, "拆除自行车棚", "user:1")
    services.add_item(b.first, "新建口袋公园", "", "user:1")
    db.session.commit()
    return a, b


@pytest.fixture
def cards(compound, people, rounds):
    """Everyone's card, by name (王芳 the tenant); everyone has read the privacy notice."""
    issued = issue_cards(people, compound, "test", utcnow())
    for card in issued:
        acknowledge_privacy(card.invitation, utcnow())
    db.session.commit()
    return {c.person.name: c for c in issued}
