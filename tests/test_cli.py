"""The command line, run through Flask's test runner as district IT would run it."""

from __future__ import annotations

import re
from datetime import UTC
from datetime import datetime

import pytest
from sqlalchemy import func
from sqlalchemy import select

from consult.auth.models import Role
from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.dossier.models import ConsensusRecord
from consult.dossier.services import status_of
from consult.experts.services import panel_of
from consult.extensions import db
from consult.roster.models import RosterImport
from consult.rounds.models import Round
from consult.rounds.services import compound_rounds
from consult.rounds.services import open_rounds
from consult.schemes.models import SchemeDocument
from consult.schemes.models import SchemeVersion
from consult.voting.counting import Topic
from consult.voting.services import count_round
from consult.voting.services import vote_participation


@pytest.fixture(autouse=True)
def uploads(app, tmp_path):
    """The demo's scheme drawings are written here, not beside the code."""
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def test_seed_demo_builds_qingyang_once(app, runner, uploads):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    assert "admin@tongxin.demo" in result.output
    huanhua = db.session.scalars(select(Compound).where(Compound.name == "浣花小区")).one()
    assert count(Building, Building.compound_id == huanhua.id) == 22
    dwellings = count(
        Dwelling,
        Dwelling.unit_id.in_(select(StairUnit.id).join(Building).where(Building.compound_id == huanhua.id)),
    )
    assert dwellings == 1236
    assert db.session.scalars(select(Compound).where(Compound.name == "芳邻路2号小区")).one()
    assert count(Compound) >= 24
    streets = {c.street.name for c in db.session.scalars(select(Compound))}
    assert streets == {"草堂街道", "西御河街道", "草市街街道", "少城街道", "府南街道"}
    roles = {u.role for u in db.session.scalars(select(User))}
    assert roles == set(Role)
    # owners with several dwellings exist, and there are fewer owners than owned dwellings
    assert count(Owner) < count(Dwelling, Dwelling.owner_id.is_not(None))

    # consultations at every stage, timed back from now: those taking answers are open
    states = {
        c.name: [r.state.value for r in compound_rounds(c.id)] for c in db.session.scalars(select(Compound))
    }
    assert {name: rounds for name, rounds in states.items() if rounds} == {
        "芳邻路2号小区": ["done", "done", "done"],
        "送仙桥小区": ["done", "done", "notice"],
        "骡马市街9号院": ["done", "done", "notice"],
        "红光小区": ["done", "done", "open"],
        "方池街15号院": ["done", "open", "draft"],
        "草堂东路12号院": ["notice", "draft", "draft"],
        "西御街8号院": ["open", "draft", "draft"],
        "草市街40号院": ["done", "done", "failed", "draft"],  # the plan voted down, the vote held again
    }
    records = {r.compound.name: status_of(r).value for r in db.session.scalars(select(ConsensusRecord))}
    assert records == {"芳邻路2号小区": "approved", "送仙桥小区": "submitted"}
    now = datetime.now(UTC)

    def open_now(name: str) -> list[Round]:
        return open_rounds(db.session.scalars(select(Compound.id).where(Compound.name == name)).one(), now)

    assert [[r.number for r in open_now(name)] for name in ("西御街8号院", "方池街15号院", "红光小区")] == [
        [1],
        [2],
        [3],
    ]
    [vote] = open_now("红光小区")
    assert 0 < vote_participation(vote).voted < vote_participation(vote).eligible
    [scheme_round] = open_now("方池街15号院")
    waiting = [m.user.email for m in panel_of(scheme_round).members if m.submission is None]
    assert waiting == ["expert@tongxin.demo"]  # the demo expert has schemes to score
    rejected = compound_rounds(
        db.session.scalars(select(Compound.id).where(Compound.name == "草市街40号院")).one()
    )[2]
    [plan] = [r for r in count_round(rejected) if r.question.topic is Topic.PLAN]
    assert not plan.outcome.passed
    # each scheme of the six compounds past round 1 comes with a drawing (its revision keeps it)
    documents = db.session.scalars(select(SchemeDocument)).all()
    assert count(SchemeVersion) == len(documents) == 22  # 12 schemes, 10 of them revised
    assert {d.stored_name for d in documents} <= {f.name for f in uploads.iterdir()}
    # the residents' links it prints open their cards
    links = re.findall(r"(\S+), [^:]+: http://\S+(/r/\S+)  \(code (\S+)\)", result.output)
    assert [name for name, _link, _code in links] == ["西御街8号院", "方池街15号院", "红光小区", "红光小区"]
    client = app.test_client()
    for name, link, _code in links:
        response = client.get(link)
        assert response.status_code == 302
        assert response.headers["Location"] == "/me"
        assert name in client.get("/me").get_data(as_text=True)
        client.post("/me/leave")

    total = count(Dwelling)
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code == 0
    assert "already" in again.output
    assert count(Dwelling) == total


def test_seed_demo_refuses_outside_debug_and_testing(app, runner):
    app.testing = False
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 1
    assert "--debug" in result.output
    assert count(User) == 0
    assert count(Compound) == 0
    app.debug = True
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    assert count(User) > 0


def test_seed_demo_may_be_forced_in_production(app, runner):
    app.testing = False
    result = runner.invoke(args=["seed-demo", "--allow-production"])
    assert result.exit_code == 0, result.output
    assert count(User) > 0


def test_create_user_and_compound(app, runner, street):
    result = runner.invoke(
        args=[
            "create-user",
            "w@example.test",
            "--name",
            "王敏",
            "--role",
            "worker",
            "--street",
            street.name,
            "--password",
            "long enough password",
        ]
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalars(select(User)).one()
    assert (user.role, user.street_id) == (Role.WORKER, street.id)

    bad = runner.invoke(
        args=[
            "create-user",
            "x@example.test",
            "--name",
            "X",
            "--role",
            "worker",
            "--password",
            "long enough password",
        ]
    )
    assert bad.exit_code == 1
    assert "street" in bad.output

    made = runner.invoke(
        args=[
            "create-compound",
            "--street",
            street.name,
            "--name",
            "清溪东路5号院",
            "--cluster",
            "清溪",
            "--plan-year",
            "2023",
        ]
    )
    assert made.exit_code == 0, made.output
    compound = db.get_or_404(Compound, int(made.output.strip()))
    assert (compound.name, compound.cluster.name, compound.plan_year) == ("清溪东路5号院", "清溪", 2023)

    dup = runner.invoke(args=["create-compound", "--street", street.name, "--name", "清溪东路5号院"])
    assert dup.exit_code == 1
    assert "already has" in dup.output


def test_import_roster_dry_run_then_real(app, runner, compound, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_bytes(
        "楼栋,单元,房号,建筑面积,业主姓名\n1,1,101,80.50,张伟\n1,2,201,66,李娜\n".encode("gb18030")
    )
    dry = runner.invoke(args=["import-roster", compound.name, str(roster), "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output
    assert count(Dwelling) == 0
    assert count(RosterImport) == 0

    real = runner.invoke(args=["import-roster", str(compound.id), str(roster)])
    assert real.exit_code == 0, real.output
    assert count(Dwelling) == 2
    assert count(StairUnit) == 2


def test_import_roster_rejects_a_bad_file_and_writes_nothing(app, runner, compound, tmp_path):
    roster = tmp_path / "roster.csv"
    roster.write_text("楼栋,单元,房号,建筑面积,颜色\n1,1,101,-2,红\n", encoding="utf-8")
    result = runner.invoke(args=["import-roster", compound.name, str(roster)])
    assert result.exit_code == 1
    assert "颜色" in result.output
    assert "nothing was written" in result.output
    assert count(Dwelling) == 0
    assert count(Building) == 0


def test_import_roster_unknown_compound(app, runner, tmp_path):
    roster = tmp_path / "r.csv"
    roster.write_text("building,unit,room,area\n1,1,101,50\n", encoding="utf-8")
    result = runner.invoke(args=["import-roster", "不存在小区", str(roster)])
    assert result.exit_code == 1
    assert "no compound" in result.output
