"""``flask tally`` and ``flask export-ballots``, and the independent recount agreeing with the tally."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest

from consult.extensions import db
from consult.residents.models import Invitation
from consult.voting import services
from consult.voting.export import tally_data
from tests.voting.conftest import close_round
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round

ROOT = Path(__file__).resolve().parents[2]
RECOUNT = ROOT / "scripts" / "recount.py"


@pytest.fixture
def counted(vote, owners, cards, workers):
    """A closed vote: online ballots (one changed), a paper ballot by double entry, a non-voter."""
    services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    open_round(vote)
    at = vote.opens_at + timedelta(hours=2)

    def choices(name, yes_no, option):
        return {
            q.id: (yes_no if q.kind.value == "yes_no" else option)
            for q in services.owner_questions(vote, owners[name].id)
        }

    def online(name, yes_no, option, hours):
        invitation = db.session.get(Invitation, cards[name].invitation.id)
        services.cast_online(vote, invitation, choices(name, yes_no, option), at + timedelta(hours=hours))
        db.session.commit()

    online("张伟", "no", "company", 0)
    online("张伟", "yes", "self_management", 1)  # changed: the last counts
    online("开发商", "yes", "self_management", 2)
    online("陈秀英", "abstain", "abstain", 3)
    day = at.astimezone(services.local_zone()).date()
    values = services.PaperValues(day, choices("李娜", "yes", "self_management"))
    sheet = services.enter_paper(vote, owners["李娜"], values, jpeg_with_exif(), workers["a"], at)
    services.add_entry(sheet, values, workers["b"], at)
    db.session.commit()
    close_round(vote)
    return vote


def test_tally_and_export_refuse_while_the_vote_is_open(runner, vote, tmp_path):
    open_round(vote)
    result = runner.invoke(args=["tally", str(vote.compound_id), "--json"])
    assert result.exit_code == 1
    assert "hidden until the round closes" in result.output
    result = runner.invoke(
        args=["export-ballots", str(vote.compound_id), "--round", "3", "--out", str(tmp_path / "x.csv")]
    )
    assert result.exit_code == 1
    assert not (tmp_path / "x.csv").exists()


def test_tally_prints_the_full_computation(runner, counted):
    result = runner.invoke(args=["tally", counted.compound.name, "--round", "3", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data == json.loads(json.dumps(tally_data(counted), ensure_ascii=False))
    plan = data["questions"][0]
    assert plan["rule"]["key"] == "civil_code_major"
    yes = plan["tallies"]["yes"]
    # 5 owners and 2-1-202, whose owner is not known: an owner who did not vote, with its 55.55 m²
    assert (yes["owners"], yes["unknown"], yes["voters"], yes["approving"], yes["abstaining"]) == (
        6,
        1,
        4,
        3,
        1,
    )
    assert yes["area"] == "572.30"
    assert {b["name"]: b["met"] for b in yes["bars"]} == {
        "participation_area": True,
        "participation_count": True,
        "approval_area": True,
        "approval_count": True,
    }
    assert yes["bars"][1]["value"] == "2/3"
    management = data["questions"][1]
    assert management["carried"] == "self_management"
    assert management["channels"] == {"online": 3, "paper": 1}
    text = runner.invoke(args=["tally", str(counted.compound_id)])
    assert "PASSED" in text.output
    assert "participation_area" in text.output
    assert "owners 6, 1 of them not known (572.30 m²)" in text.output


@pytest.mark.parametrize("suffix", [".csv", ".json"])
def test_the_independent_recount_agrees_with_the_tally(runner, counted, tmp_path, suffix):
    out = tmp_path / f"ballots{suffix}"
    result = runner.invoke(
        args=["export-ballots", str(counted.compound_id), "--round", "3", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    text = out.read_text(encoding="utf-8")
    for secret in ("张伟", "李娜", "13812341234", "zhang@example.test"):
        assert secret not in text
    if suffix == ".csv":
        rows = list(csv.DictReader(text.splitlines()))
        owners = {r["owner"] for r in rows}
        assert len(owners) == 6  # the same pseudonym for an owner across the questions
        assert {r["channel"] for r in rows} == {"online", "paper", ""}
        # 2-1-202, whose owner is not known: a pseudonymous owner with its area and never a choice
        [unknown] = {r["owner"] for r in rows if r["area"] == "55.55"}
        theirs = [r for r in rows if r["owner"] == unknown]
        assert theirs
        assert all(r["choice"] == "" and r["channel"] == "" for r in theirs)
    source = RECOUNT.read_text(encoding="utf-8")
    assert "import consult" not in source
    assert "from consult" not in source
    done = subprocess.run(
        [sys.executable, "-I", str(RECOUNT), str(out), "--json"], capture_output=True, text=True, check=True
    )
    recounted = json.loads(done.stdout)
    for question in tally_data(counted)["questions"]:
        mine = recounted[str(question["id"])]
        assert (mine["passed"], mine["carried"]) == (question["passed"], question["carried"])
        for key, tally in question["tallies"].items():
            theirs = mine["tallies"][key]
            assert (theirs["owners"], theirs["voters"], theirs["approving"]) == (
                tally["owners"],
                tally["voters"],
                tally["approving"],
            )
            assert Decimal(theirs["area"]) == Decimal(tally["area"])
            assert theirs["bars"] == {b["name"]: b["met"] for b in tally["bars"]}
