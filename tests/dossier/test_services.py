"""Submitting, freezing and verifying a consensus record; the district review's approval and return."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

import pytest
from sqlalchemy import delete
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy import update
from sqlalchemy.exc import DatabaseError

from consult.audit.models import AuditEntry
from consult.audit.services import head_hash
from consult.dossier import services
from consult.dossier.models import ConsensusRecord
from consult.dossier.models import RecordDecision
from consult.dossier.rules import RecordStatus
from consult.dossier.services import Funding
from consult.dossier.services import RecordRefused
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.rounds.models import RoundEvent
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.services import apply

FUNDING = Funding(Decimal("1200.00"), Decimal("30"), Decimal("2.50"), "区财政补贴")


pytestmark = pytest.mark.usefixtures("english_messages")


def now() -> datetime:
    return datetime.now(UTC)


def submit(consultation, actor="user:1") -> ConsensusRecord:
    record = services.submit_record(consultation.compound, FUNDING, actor, now())
    db.session.commit()
    return record


def test_submitting_freezes_canonical_content_with_its_digest_and_the_audit_head(consultation):
    head = head_hash()
    record = submit(consultation)
    assert record.version == 1
    assert record.digest == hashlib.sha256(record.snapshot.encode()).hexdigest()
    content = json.loads(record.snapshot)
    assert json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":")) == record.snapshot
    assert content["audit_head"] == record.audit_head == head
    sections = content["sections"]
    assert sections["profile"]["name"] == "浣花小区"
    assert sections["profile"]["area"] == "572.30"
    assert [r["number"] for r in sections["rounds"]] == [1, 2, 3]
    assert sections["needs"]["respondents"] > 0
    assert {s["label"] for s in sections["schemes"]} == {"A", "B"}
    assert [v["number"] for v in sections["schemes"][0]["versions"]] == [1, 2]
    assert sections["experts"][0]["results"][0]["opinion"] == "recommend"
    assert all(c["answer"] for c in sections["comments"])
    assert [(x["building"], x["unit"]) for x in sections["lifts"]] == [("1", "1"), ("1", "2"), ("2", "1")]
    assert sections["governance"]["management"] == "company"
    assert sections["funding"]["residents_share_percent"] == "30"
    plan = sections["vote"]["questions"][0]
    assert plan["topic"] == "plan"
    assert plan["passed"]
    bar = plan["tallies"]["yes"]["bars"][0]
    assert bar["threshold"] == "2/3"
    assert bar["whole"] == "5723/10"  # every dwelling of the compound: 572.30 m²
    entry = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert entry.action == "record.submitted"
    assert record.digest in entry.detail


def test_the_record_holds_no_resident_name(consultation):
    record = submit(consultation)
    for name in ("张伟", "李娜", "陈秀英", "周建国", "王芳", "zhang@example.test", "13812341234"):
        assert name not in record.snapshot


def test_a_submitted_record_cannot_change_even_in_the_database(consultation):
    record = submit(consultation)
    services.approve(record, "user:2", now())
    db.session.commit()
    for statement in (
        update(ConsensusRecord).values(snapshot="{}"),
        delete(ConsensusRecord),
        update(RecordDecision).values(kind="returned"),
        delete(RecordDecision),
    ):
        with pytest.raises(DatabaseError, match="frozen"):
            db.session.execute(statement)
        db.session.rollback()
    assert services.is_intact(db.session.get(ConsensusRecord, record.id))


def test_its_digest_verifies_and_another_does_not(consultation):
    record = submit(consultation)
    assert services.find_by_digest(record.digest) is record
    assert services.find_by_digest(hashlib.sha256(b"forged").hexdigest()) is None


def test_no_record_before_the_vote_closes_or_when_the_plan_fails(consultation):
    vote = consultation.rounds[2]
    db.session.execute(text("UPDATE round SET state = 'open' WHERE id = :id"), {"id": vote.id})
    db.session.expire_all()
    with pytest.raises(RecordRefused, match="vote"):
        services.submit_record(consultation.compound, FUNDING, "user:1", now())


def test_only_one_version_waits_for_review_and_an_approved_record_is_final(consultation):
    record = submit(consultation)
    with pytest.raises(RecordRefused, match="waiting"):
        services.submit_record(consultation.compound, FUNDING, "user:1", now())
    services.approve(record, "user:2", now())
    db.session.commit()
    assert services.status_of(record) is RecordStatus.APPROVED
    with pytest.raises(RecordRefused, match="approved"):
        services.submit_record(consultation.compound, FUNDING, "user:1", now())
    with pytest.raises(RecordRefused, match="decided"):
        services.approve(record, "user:2", now())
    kinds = db.session.scalars(select(OutboxMessage.kind)).all()
    assert "record_approved" in {k.value for k in kinds}


def test_a_return_reopens_the_named_round_and_the_next_version_waits_for_it(consultation, staff):
    record = submit(consultation)
    vote = consultation.rounds[2]
    moment = now()
    decision = services.return_record(
        record, {"lifts": "2栋1单元的电梯表决需补充书面意见"}, 3, 10, False, "user:2", moment
    )
    db.session.commit()
    assert decision.reopened_round == 3
    assert vote.state is RoundState.OPEN
    assert vote.closes_at == moment + timedelta(days=10)
    event = db.session.scalars(select(RoundEvent).order_by(RoundEvent.id.desc())).first()
    assert event.action == "reopen"
    assert "2栋1单元" in event.reason
    assert services.open_return(consultation.compound.id) is decision
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert audit.action == "record.review"
    assert '"returned"' in audit.detail
    notices = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "record_returned")).all()
    assert [n.to_address for n in notices] == [staff["worker"].email]  # residents were not chosen
    assert "2栋1单元" in notices[0].text_body

    with pytest.raises(RecordRefused, match="close again"):
        services.submit_record(consultation.compound, FUNDING, "user:1", now())
    apply(vote, Action.CLOSE, "user:1", vote.closes_at)
    second = services.submit_record(consultation.compound, FUNDING, "user:1", vote.closes_at)
    db.session.commit()
    assert second.version == 2
    assert second.digest != record.digest
    history = json.loads(second.snapshot)["history"]
    assert history == [
        {
            "version": 1,
            "digest": record.digest,
            "submitted_at": record.submitted_at.isoformat(),
            "decision": "returned",
            "decided_at": decision.decided_at.isoformat(),
            "decided_by": "区审",  # the reviewer's name, frozen with the history
            "reasons": {"lifts": "2栋1单元的电梯表决需补充书面意见"},
            "reopened_round": 3,
        }
    ]
    assert services.open_return(consultation.compound.id) is None
    with pytest.raises(RecordRefused, match="decided"):
        services.approve(record, "user:2", now())


def test_a_return_may_reopen_round_two_and_tell_residents(consultation):
    record = submit(consultation)
    services.return_record(record, {"comments": "答复过于简单"}, 2, 14, True, "user:2", now())
    db.session.commit()
    assert consultation.rounds[1].state is RoundState.OPEN
    assert consultation.rounds[2].state is RoundState.FAILED  # overtaken: the vote is held again
    addresses = db.session.scalars(
        select(OutboxMessage.to_address).where(OutboxMessage.kind == "record_returned")
    ).all()
    assert "zhang@example.test" in addresses  # an owner who left an address


def test_a_return_to_round_two_overtakes_the_vote_which_is_held_again_on_the_revised_plan(consultation):
    """The plan may change when round 2 is reopened: the vote taken on the earlier plan no longer stands,
    and the next version of the record waits for a vote held again on what round 2 comes down with."""
    from consult.residents.models import Invitation
    from consult.rounds.services import latest_attempts
    from consult.rounds.services import repeat
    from consult.voting import services as voting

    record = submit(consultation)
    scheme_round, vote = consultation.rounds[1], consultation.rounds[2]
    moment = now()
    services.return_record(record, {"schemes": "绿化方案需调整"}, 2, 7, False, "user:2", moment)
    db.session.commit()
    assert scheme_round.state is RoundState.OPEN
    assert vote.state is RoundState.FAILED
    overtaken = vote.events[-1]
    assert (overtaken.action, overtaken.from_state, overtaken.to_state) == (
        "overtaken",
        RoundState.CLOSED,
        RoundState.FAILED,
    )
    assert "绿化方案需调整" in overtaken.reason
    assert consultation.rounds[0].state is RoundState.DONE  # an earlier round is not touched

    # round 2 closes and comes down again: the old vote is no consensus for a new version
    apply(scheme_round, Action.CLOSE, "user:1", scheme_round.closes_at)
    with pytest.raises(RecordRefused, match="held again"):
        services.submit_record(consultation.compound, FUNDING, "user:1", scheme_round.closes_at)
    published = scheme_round.closes_at + timedelta(hours=1)
    apply(scheme_round, Action.PUBLISH, "user:1", published)

    again = repeat(vote, "user:1", published)
    assert (again.number, again.attempt, again.repeat_of_id) == (3, 2, vote.id)
    carried = voting.carry_over_questions(again, "user:1", published)

    def asked(question):
        return (question.topic, question.kind, question.prompt_zh, question.options, question.scope)

    def where(question):
        return (question.unit_id, question.rule)

    assert [asked(q) + where(q) for q in carried] == [asked(q) + where(q) for q in voting.questions_of(vote)]
    assert len(carried) > 4  # the plan, management, pact, funding, and a lift per unit
    with pytest.raises(voting.VotingError, match="has questions already"):
        voting.carry_over_questions(again, "user:1", published)
    again.closes_at = published + timedelta(days=14)
    apply(again, Action.OPEN, "user:1", published + timedelta(hours=1))
    with pytest.raises(RecordRefused, match="vote"):
        services.submit_record(consultation.compound, FUNDING, "user:1", published + timedelta(hours=2))
    cards = db.session.scalars(
        select(Invitation).where(Invitation.compound_id == consultation.compound.id)
    ).all()
    voters = 0
    for card in cards:
        if not card.may_vote or card.owner is None or card.owner.name is None:
            continue
        questions = voting.owner_questions(again, card.owner.id)
        choices = {q.id: "company" if q.kind.value == "choice" else "yes" for q in questions}
        voting.cast_online(again, card, choices, published + timedelta(hours=3))
        voters += 1
    apply(again, Action.CLOSE, "user:1", again.closes_at)
    second = services.submit_record(consultation.compound, FUNDING, "user:1", again.closes_at)
    db.session.commit()

    content = json.loads(second.snapshot)
    assert content["sections"]["vote"]["attempt"] == 2
    assert [(r["number"], r["attempt"], r["state"]) for r in content["sections"]["rounds"]][-2:] == [
        (3, 1, "failed"),
        (3, 2, "closed"),
    ]
    assert latest_attempts(consultation.compound)[-1] == again
    plan = [q for q in content["sections"]["vote"]["questions"] if q["topic"] == "plan"]
    assert voters > 0
    assert [q["passed"] for q in plan] == [True]


def test_a_return_without_reasons_or_round_changes_nothing(consultation):
    record = submit(consultation)
    with pytest.raises(RecordRefused) as refused:
        services.return_record(record, {"needs": " "}, 4, 14, False, "user:2", now())
    assert set(refused.value.problems) == {"reasons", "reopen_round"}
    db.session.rollback()
    assert record.decision is None
    assert consultation.rounds[2].state is RoundState.CLOSED


def test_the_retention_period_counts_from_the_records_approval(consultation):
    """A record waiting for the district keeps the consultation open for retention; its approval ends it."""
    from consult.retention.services import STILL_OPEN
    from consult.retention.services import consultation_ended_at

    compound_id = consultation.compound.id
    vote = consultation.rounds[2]
    apply(vote, Action.PUBLISH, "test", vote.closes_at + timedelta(hours=1))
    apply(vote, Action.FINISH, "test", vote.closes_at + timedelta(days=8))
    db.session.commit()
    assert services.consultation_end(compound_id) is None  # no record yet: the rounds decide
    assert consultation_ended_at(compound_id) is not None
    record = submit(consultation)
    assert services.consultation_end(compound_id) is STILL_OPEN
    assert consultation_ended_at(compound_id) is None
    approved_at = now() + timedelta(days=30)
    services.approve(record, "user:2", approved_at)
    db.session.commit()
    assert consultation_ended_at(compound_id) == approved_at


def test_the_record_counts_experts_not_the_residents_representative_beside_them(consultation, create_user):
    from consult.auth.models import Role
    from consult.experts.models import Panel
    from consult.experts.models import PanelMember

    panel = db.session.scalars(select(Panel)).one()
    representative = create_user("rep@example.test", Role.EXPERT, None, name="居民代表")
    panel.members.append(PanelMember(user=representative, is_resident_representative=True, scores=False))
    db.session.commit()
    section = json.loads(submit(consultation).snapshot)["sections"]["experts"][0]
    assert (section["experts"], section["counted"]) == (2, 2)


def test_a_repeated_scheme_round_is_scored_by_its_own_panel_without_the_old_scores(consultation, staff):
    """Round 2 reopened by a return, then failed and held again: the record shows the new attempt's
    panel alone, and the old attempt keeps its panel and scores."""
    from consult.experts import services as panels
    from consult.experts.models import Score
    from consult.rounds.services import repeat
    from consult.schemes.services import add_scheme

    record = submit(consultation)
    old_round = consultation.rounds[1]
    old_panel = panels.panel_of(old_round)
    old_scores = db.session.scalars(select(Score)).all()
    moment = now()
    services.return_record(record, {"experts": "专家评分需重新进行"}, 2, 7, False, "user:2", moment)
    apply(old_round, Action.FAIL, "user:1", moment, "方案需重做")
    again = repeat(old_round, "user:1", moment)
    scheme = add_scheme(again, "重新设计", "user:1")
    panel = panels.form_panel(again, staff["expert"], [staff["expert"]], staff["reviewer"])
    member = panel.members[0]
    panels.declare(member, scheme, False)
    panels.save_scores(member, scheme, {c.id: (4, "") for c in panel.criteria})
    panels.submit(member, moment)
    panels.close(panel, staff["reviewer"], moment)
    db.session.commit()

    section = services.assemble(consultation.compound, FUNDING, moment)["sections"]["experts"]
    assert len(section) == 1
    assert section[0]["counted"] == 1
    assert [(r["scheme"], r["total"]) for r in section[0]["results"]] == [("A", "40")]
    assert panels.panel_of(old_round) == old_panel
    assert (
        db.session.scalars(select(Score).where(Score.member_id.in_([m.id for m in old_panel.members]))).all()
        == old_scores
    )


def test_a_panel_reopened_with_round_two_scores_the_revision_into_the_next_version(consultation, staff):
    """A return reopens round 2 in place: its panel opens again, an expert changes a score and submits,
    the panel closes, and the next version of the record carries the new figures while the version
    already submitted keeps the old ones."""
    from consult.experts import services as panels

    record = submit(consultation)
    before = json.loads(record.snapshot)["sections"]["experts"][0]
    scheme_round = consultation.rounds[1]
    panel = panels.panel_of(scheme_round)
    moment = now()
    services.return_record(record, {"experts": "请按修订方案重新评分"}, 2, 7, False, "user:2", moment)
    panels.reopen(panel, staff["reviewer"], "方案已按退回意见修订", moment)
    scheme = panels.schemes_of(panel)[0]
    for user, value in ((staff["expert"], 2), (staff["expert2"], 4)):
        member = panels.member_of(panel, user)
        panels.save_scores(member, scheme, {c.id: (value, "修订后") for c in panel.criteria})
        panels.submit(member, moment)
    panels.close(panel, staff["expert"], moment)
    db.session.commit()

    second = services.freeze(consultation.compound, FUNDING, "user:1", moment)  # the next version
    db.session.commit()
    after = json.loads(second.snapshot)["sections"]["experts"][0]
    assert second.version == 2
    totals = {r["scheme"]: r["total"] for r in after["results"]}
    earlier = {r["scheme"]: r["total"] for r in before["results"]}
    assert totals["A"] == "30"  # (2 + 4) / 2 = 3 of 10 on every criterion
    assert earlier["A"] != "30"
    assert totals["B"] == earlier["B"]  # not scored again: the same figures
    assert after["closed_at"] != before["closed_at"]
    first = services.record_version(consultation.compound.id, 1)
    assert json.loads(first.snapshot)["sections"]["experts"][0] == before
    assert services.is_intact(first)
