"""Fixtures of the consensus record: 浣花小区 (the vote's test roster) after three rounds with content."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

import pytest

from consult import register_round_content
from consult.auth.models import Role
from consult.dossier.sample import Consultation
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.voting.conftest import ROSTER as VOTE_ROSTER

#: the vote's roster with 2-1-202's owner known (周建国, who holds 2-1-201): with it unknown, it would
#: count as an owner who did not vote, and the plan of the sample consultation would not pass
ROSTER = VOTE_ROSTER.replace("2,1,201,60.00,周建国,,,业主,", "2,1,201,60.00,周建国,,,业主,Z1").replace(
    "2,1,202,55.55,,,,业主,", "2,1,202,55.55,周建国,,,业主,Z1"
)
assert ROSTER.count("Z1") == 2


@pytest.fixture
def uploads(app, tmp_path):
    app.config["UPLOAD_FOLDER"] = str(tmp_path / "uploads")
    return tmp_path / "uploads"


@pytest.fixture
def staff(create_user, street):
    return {
        "worker": create_user("worker@example.test", Role.WORKER, street, name="李明"),
        "reviewer": create_user("reviewer@example.test", Role.REVIEWER, None, name="区审"),
        "expert": create_user("expert@example.test", Role.EXPERT, None, name="王工"),
        "expert2": create_user("expert2@example.test", Role.EXPERT, None, name="赵工"),
    }


@pytest.fixture
def consultation(compound, staff, uploads) -> Consultation:
    """Rounds 1 and 2 done, round 3 closed with the plan approved (everyone voted)."""
    register_round_content()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    start = datetime.now(UTC) - timedelta(days=120)
    done = run_consultation(
        compound,
        start,
        staff["worker"],
        staff["reviewer"],
        [staff["expert"], staff["expert2"]],
        turnout=1.0,
    )
    db.session.commit()
    return done
