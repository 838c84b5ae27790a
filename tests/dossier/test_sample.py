"""The sample consultation (the demo's, run from a moment in the past): its record's dates are in order."""

from __future__ import annotations

from datetime import UTC
from datetime import datetime
from datetime import timedelta

from sqlalchemy import select

from consult import register_round_content
from consult.dossier import services
from consult.dossier.models import ConsensusRecord
from consult.dossier.sample import DAYS_BEFORE
from consult.dossier.sample import Stage
from consult.dossier.sample import run_consultation
from consult.extensions import db
from consult.roster.parse import parse_roster
from consult.roster.services import apply_rows
from tests.dossier.conftest import ROSTER


def moment(value: str) -> datetime:
    """A time as the record stores it (ISO 8601, UTC)."""
    return datetime.fromisoformat(value)


def test_a_sample_record_dates_each_scheme_version_before_the_next_and_before_submission(
    compound, staff, uploads
):
    register_round_content()
    apply_rows(compound, parse_roster(ROSTER.encode()), "test")
    start = datetime.now(UTC) - timedelta(days=DAYS_BEFORE[Stage.SUBMITTED])
    experts = [staff["expert"], staff["expert2"]]
    run_consultation(
        compound, start, staff["worker"], staff["reviewer"], experts, turnout=1.0, until=Stage.SUBMITTED
    )
    db.session.commit()
    record = db.session.scalars(select(ConsensusRecord)).one()
    content = services.content_of(record)
    sections = content["sections"]
    submitted = moment(content["assembled_at"])
    assert submitted < datetime.now(UTC) - timedelta(days=1)
    scheme_round = next(r for r in sections["rounds"] if r["kind"] == "scheme")
    opened = min(moment(e["at"]) for e in scheme_round["events"] if e["to"] == "open")
    assert sections["schemes"]
    for scheme in sections["schemes"]:
        first, revision = (moment(v["created_at"]) for v in scheme["versions"])
        # v1 is written before round 2 opens, its revision after the comments, both before submission
        assert first < opened < revision < submitted, scheme["label"]
    for comment in sections["comments"]:
        assert opened < moment(comment["at"]) < submitted
