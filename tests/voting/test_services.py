"""The vote against the database: questions, online ballots and their history, the unique index of active
ballots, proxies, paper ballots by double entry, precedence, the engine hooks and hidden results."""

from __future__ import annotations

import hashlib
import io
from datetime import date
from datetime import timedelta
from decimal import Decimal
from fractions import Fraction

import pytest
from flask_babel import force_locale
from PIL import Image
from sqlalchemy import select
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.exc import IntegrityError

from consult.audit.models import AuditEntry
from consult.crypto import FILE_MAGIC
from consult.extensions import db
from consult.notify.models import NoticeKind
from consult.notify.models import OutboxMessage
from consult.notify.services import address_digest
from consult.residents.models import Invitation
from consult.rounds.rules import Action
from consult.rounds.rules import RoundState
from consult.rounds.rules import TransitionRefused
from consult.rounds.services import apply
from consult.rounds.services import participation
from consult.voting import services
from consult.voting.counting import Channel
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.counting import custom_rule
from consult.voting.models import AppendOnly
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperSheet
from consult.voting.models import Resolution
from consult.voting.models import SheetState
from consult.voting.receipts import receipt_statuses
from consult.voting.rules import PRESETS
from tests.voting.conftest import close_round
from tests.voting.conftest import jpeg_with_exif
from tests.voting.conftest import open_round
from tests.voting.conftest import publish_round


@pytest.fixture
def standard(vote):
    questions = services.add_standard_questions(vote, "test", vote.opens_at)
    db.session.commit()
    return questions


def invitation(cards, name: str) -> Invitation:
    return db.session.get(Invitation, cards[name].invitation.id)


def yes_to_all(round_, owner_id: int, choice: str = "yes") -> dict[int, str]:
    return {
        q.id: (choice if q.kind is QuestionKind.YES_NO else "self_management")
        for q in services.owner_questions(round_, owner_id)
    }


def during(round_, hours: float = 2):
    return round_.opens_at + timedelta(hours=hours)


def test_standard_questions_have_their_scope_and_a_copy_of_their_rule(vote, standard):
    assert [(q.topic, q.scope) for q in standard[:4]] == [
        (Topic.PLAN, Scope.COMPOUND),
        (Topic.MANAGEMENT, Scope.COMPOUND),
        (Topic.PACT, Scope.COMPOUND),
        (Topic.FUNDING, Scope.COMPOUND),
    ]
    lifts = [q for q in standard if q.topic is Topic.LIFT]
    assert len(lifts) == 3  # units 1-1, 1-2, 2-1
    assert all(q.scope is Scope.UNIT and q.unit_id for q in lifts)
    assert standard[0].rule == {
        "key": "civil_code_major",
        "participation_area": "2/3",
        "participation_count": "2/3",
        "approval_area": "3/4",
        "approval_count": "3/4",
        "approval_base": "voters",
    }
    assert standard[0].consent_rule == PRESETS["civil_code_major"]
    assert standard[1].kind is QuestionKind.CHOICE
    assert standard[1].choices == ("company", "other_manager", "self_management", "abstain")


def test_questions_change_only_while_the_round_is_a_draft(vote, standard):
    custom = custom_rule("1/2", "", ">1/2", "", "voters")
    question = services.add_question(
        vote, topic=Topic.OTHER, prompt_zh="自定", prompt_en=None, rule=custom, actor="t", now=vote.opens_at
    )
    assert question.consent_rule == custom
    services.remove_question(vote, question.id, "t")
    open_round(vote)
    with pytest.raises(services.QuestionsFrozen):
        services.add_question(
            vote,
            topic=Topic.OTHER,
            prompt_zh="太晚",
            prompt_en=None,
            rule=custom,
            actor="t",
            now=vote.opens_at,
        )
    with pytest.raises(services.QuestionsFrozen):
        services.remove_question(vote, standard[0].id, "t")


def test_a_repeated_vote_starts_from_the_questions_of_the_failed_attempt(vote, standard, english_messages):
    from consult.rounds.services import repeat

    custom = custom_rule("1/2", "", ">1/2", "", "voters")
    own = services.add_question(
        vote, topic=Topic.OTHER, prompt_zh="自定", prompt_en="Own", rule=custom, actor="t", now=vote.opens_at
    )
    with pytest.raises(services.VotingError, match="repeats no earlier attempt"):
        services.carry_over_questions(vote, "t", vote.opens_at)
    open_round(vote)
    apply(vote, Action.FAIL, "test", vote.opens_at + timedelta(hours=2), "参与不足")
    again = repeat(vote, "t", vote.opens_at + timedelta(days=1))
    db.session.commit()
    carried = services.carry_over_questions(again, "t", vote.opens_at + timedelta(days=1))
    db.session.commit()
    assert [(q.prompt_zh, q.scope, q.unit_id, q.rule) for q in carried] == [
        (q.prompt_zh, q.scope, q.unit_id, q.rule) for q in [*standard, own]
    ]
    assert carried[-1].consent_rule == custom
    assert {q.round_id for q in carried} == {again.id}
    assert [q.round_id for q in services.questions_of(vote)] == [vote.id] * len(carried)  # kept as they were
    with pytest.raises(services.VotingError, match="has questions already"):
        services.carry_over_questions(again, "t", vote.opens_at)
    audit = db.session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
    assert audit.action == "vote.questions_carried_over"


def test_a_scope_must_be_in_the_compound(vote, create_compound):
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows

    other = create_compound("芳邻路2号小区")
    apply_rows(other, parse_roster("楼栋,单元,房号,建筑面积,业主姓名\n9,9,901,50,某人\n".encode()), "t")
    db.session.commit()
    foreign_unit = other.buildings[0].units[0]
    with pytest.raises(services.VotingError):
        services.add_question(
            vote,
            topic=Topic.LIFT,
            prompt_zh="电梯",
            prompt_en=None,
            rule=PRESETS["civil_code_major"],
            scope=Scope.UNIT,
            unit_id=foreign_unit.id,
            actor="t",
            now=vote.opens_at,
        )


def test_each_owner_gets_the_questions_of_their_scopes(vote, standard, owners):
    def prompts(name):
        return [q.prompt_zh for q in services.owner_questions(vote, owners[name].id)]

    assert len(prompts("张伟")) == 5
    assert "您是否同意在1栋1单元加装电梯？" in prompts("张伟")
    assert "您是否同意在2栋1单元加装电梯？" in prompts("开发商")
    assert not any("1栋" in p for p in prompts("开发商"))


def test_an_occupant_never_votes(vote, standard, cards):
    open_round(vote)
    with pytest.raises(services.NotEligible):
        services.cast_online(vote, invitation(cards, "王芳"), {}, during(vote))


def test_no_ballot_outside_the_open_round(vote, standard, cards, owners):
    zhang = invitation(cards, "张伟")
    with pytest.raises(services.VoteClosed):
        services.cast_online(vote, zhang, yes_to_all(vote, owners["张伟"].id), during(vote))
    open_round(vote)
    with pytest.raises(services.VoteClosed):
        services.cast_online(vote, zhang, yes_to_all(vote, owners["张伟"].id), vote.closes_at)


def test_a_ballot_answers_every_question_of_the_voter_and_no_other(vote, standard, cards, owners):
    open_round(vote)
    zhang = invitation(cards, "张伟")
    choices = yes_to_all(vote, owners["张伟"].id)
    first = next(iter(choices))
    with pytest.raises(services.InvalidBallot) as missing:
        services.cast_online(vote, zhang, {k: v for k, v in choices.items() if k != first}, during(vote))
    assert f"q{first}" in missing.value.problems
    with pytest.raises(services.InvalidBallot):
        services.cast_online(vote, zhang, {**choices, first: "maybe"}, during(vote))
    lift_21 = next(q for q in standard if q.prompt_zh == "您是否同意在2栋1单元加装电梯？")
    with pytest.raises(services.InvalidBallot) as extra:
        services.cast_online(vote, zhang, {**choices, lift_21.id: "yes"}, during(vote))
    assert "form" in extra.value.problems


def test_a_changed_vote_is_a_new_row_and_the_history_stays(vote, standard, cards, owners):
    open_round(vote)
    zhang = invitation(cards, "张伟")
    owner = owners["张伟"]
    first = services.cast_online(vote, zhang, yes_to_all(vote, owner.id), during(vote, 1))
    db.session.commit()
    second = services.cast_online(vote, zhang, yes_to_all(vote, owner.id, "no"), during(vote, 2))
    db.session.commit()
    assert first.code != second.code
    assert len(second.code) == 12
    rows = services.ballot_history(vote, owner.id)
    assert len(rows) == 10  # 5 questions, twice
    active = [b for b in rows if b.active]
    assert len(active) == 5
    assert all(b.receipt_id == second.id for b in active)
    replaced = {b.id: b for b in rows if not b.active}
    assert all(b.supersedes_id in replaced for b in active)
    assert {b.choice for b in active if b.question.kind is QuestionKind.YES_NO} == {"no"}
    # the owner left an e-mail address: each receipt went to it, an essential notice
    sent = db.session.scalars(
        select(OutboxMessage).where(
            OutboxMessage.address_digest == address_digest("zhang@example.test"),
            OutboxMessage.kind == NoticeKind.VOTE_RECEIVED,
        )
    ).all()
    assert len(sent) == 2
    assert any("-".join([second.code[:4], second.code[4:8], second.code[8:]]) in m.text_body for m in sent)
    # the audit log records the ballot, never the choice
    cast = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "vote.cast")).all()
    assert len(cast) == 2
    assert all('"yes"' not in e.detail and '"no"' not in e.detail for e in cast)


def test_the_database_keeps_one_active_ballot_and_never_loses_one(vote, standard, cards, owners):
    open_round(vote)
    receipt = services.cast_online(
        vote, invitation(cards, "李娜"), yes_to_all(vote, owners["李娜"].id), during(vote)
    )
    db.session.commit()
    ballot = db.session.scalars(select(Ballot).where(Ballot.receipt_id == receipt.id)).first()
    duplicate = Ballot(
        round_id=vote.id,
        question_id=ballot.question_id,
        owner_id=ballot.owner_id,
        choice="no",
        channel=Channel.ONLINE,
        cast_at=during(vote, 3),
        actor="test",
        receipt_id=receipt.id,
        active=True,
    )
    db.session.add(duplicate)
    with pytest.raises(IntegrityError):
        db.session.flush()
    db.session.rollback()
    ballot = db.session.scalars(select(Ballot).where(Ballot.receipt_id == receipt.id)).first()
    ballot.choice = "no"
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()
    ballot = db.session.scalars(select(Ballot).where(Ballot.receipt_id == receipt.id)).first()
    db.session.delete(ballot)
    with pytest.raises(AppendOnly):
        db.session.flush()
    db.session.rollback()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE ballot SET choice = 'no' WHERE id = :id",
        "UPDATE ballot SET choice = 'no', active = false WHERE id = :id",
        "UPDATE ballot SET owner_id = owner_id + 1 WHERE id = :id",
        "UPDATE ballot SET actor = 'someone else', active = false WHERE id = :id",
        "DELETE FROM ballot WHERE id = :id",
    ],
)
def test_the_database_itself_refuses_to_change_or_delete_a_ballot(vote, standard, cards, owners, statement):
    """Below the ORM too (a script, a console): SQL that edits or deletes a ballot is refused."""
    open_round(vote)
    receipt = services.cast_online(
        vote, invitation(cards, "李娜"), yes_to_all(vote, owners["李娜"].id), during(vote)
    )
    db.session.commit()
    ballot_id = db.session.scalars(select(Ballot.id).where(Ballot.receipt_id == receipt.id)).first()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": ballot_id})
    db.session.rollback()
    assert db.session.get(Ballot, ballot_id).choice == "yes"


def test_the_database_lets_a_replaced_ballot_lose_its_mark_once(vote, standard, cards, owners):
    open_round(vote)
    receipt = services.cast_online(
        vote, invitation(cards, "李娜"), yes_to_all(vote, owners["李娜"].id), during(vote)
    )
    db.session.commit()
    ballot_id = db.session.scalars(select(Ballot.id).where(Ballot.receipt_id == receipt.id)).first()
    db.session.execute(text("UPDATE ballot SET active = false WHERE id = :id"), {"id": ballot_id})
    db.session.commit()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("UPDATE ballot SET active = true WHERE id = :id"), {"id": ballot_id})
    db.session.rollback()
    assert db.session.get(Ballot, ballot_id).active is False


def test_owners_count_once_with_their_areas_and_the_developer_is_one_owner(vote, standard, cards, owners):
    open_round(vote)
    for name in ("张伟", "开发商"):
        services.cast_online(vote, invitation(cards, name), yes_to_all(vote, owners[name].id), during(vote))
    db.session.commit()
    close_round(vote)
    results = {r.question.prompt_zh: r for r in services.count_round(vote)}
    plan = results["您是否同意本小区改造方案（修订稿）？"].outcome.tallies["yes"]
    # 张伟 (2 dwellings), 李娜, 陈秀英, the developer (2 units), 周建国, and 2-1-202 whose owner is not
    # known (an owner who did not vote, 55.55 m²); the tenant: no
    assert (plan.owners, plan.unknown, plan.area) == (6, 1, Decimal("572.30"))
    assert (plan.voters, plan.voters_area, plan.approving) == (2, Decimal("296.50"), 2)
    lift = results["您是否同意在2栋1单元加装电梯？"].outcome.tallies["yes"]
    assert (lift.owners, lift.unknown, lift.area, lift.voters, lift.voters_area) == (
        3,
        1,
        Decimal("265.55"),
        1,
        Decimal("150.00"),
    )
    assert [b.value for b in lift.bars][:2] == [Fraction(15000, 26555), Fraction(1, 3)]
    lift_11 = results["您是否同意在1栋1单元加装电梯？"].outcome
    assert lift_11.passed
    assert (lift_11.tallies["yes"].owners, lift_11.tallies["yes"].unknown) == (1, 0)
    management = results["您选择哪种物业管理方式？"]
    assert management.outcome.kind is QuestionKind.CHOICE
    assert management.counts == {"company": 0, "other_manager": 0, "self_management": 2, "abstain": 0}
    assert not management.outcome.passed  # 2 of 6 owners took part: under two thirds


def test_results_are_hidden_until_the_round_closes(vote, standard, cards, owners):
    assert not services.results_visible(vote, staff=True)
    open_round(vote)
    assert not services.results_visible(vote, staff=True)
    assert not services.results_visible(vote, staff=False)
    close_round(vote)
    assert services.results_visible(vote, staff=True)
    assert not services.results_visible(vote, staff=False)
    publish_round(vote)
    assert services.results_visible(vote, staff=False)


def test_live_participation_counts_dwellings_of_owners_who_voted(vote, standard, cards, owners):
    open_round(vote)
    services.cast_online(vote, invitation(cards, "张伟"), yes_to_all(vote, owners["张伟"].id), during(vote))
    db.session.commit()
    assert services.answered_dwellings(vote) == {d.id for d in owners["张伟"].dwellings}
    assert participation(vote).answered == 2
    part = services.vote_participation(vote)
    # of 6 owners: 2-1-202, whose owner is not known, counts as an owner who has not voted
    assert (part.voted, part.eligible, part.online, part.paper, part.unknown) == (1, 6, 1, 0, 1)


def test_a_proxy_votes_for_one_other_owner_with_a_recorded_authority(vote, standard, cards, owners, workers):
    open_round(vote)
    zhang, li, chen = owners["张伟"], owners["李娜"], owners["陈秀英"]
    proxy = services.record_proxy(
        vote, li, proxy_owner=zhang, proxy_name="", photo=jpeg_with_exif(), actor="user:1", now=during(vote)
    )
    db.session.commit()
    with pytest.raises(services.ProxyRefused):  # one other owner by default
        services.record_proxy(
            vote,
            chen,
            proxy_owner=zhang,
            proxy_name="",
            photo=jpeg_with_exif(),
            actor="user:1",
            now=during(vote),
        )
    db.session.rollback()
    with pytest.raises(services.ProxyRefused):  # one proxy per owner
        services.record_proxy(
            vote,
            li,
            proxy_owner=None,
            proxy_name="李娜之子",
            photo=jpeg_with_exif(),
            actor="u",
            now=during(vote),
        )
    db.session.rollback()
    receipt = services.cast_online(
        vote, invitation(cards, "张伟"), yes_to_all(vote, li.id), during(vote), for_owner_id=li.id
    )
    db.session.commit()
    counted = services.my_choices(vote, li.id)
    assert counted
    assert all(b.proxy_id == proxy.id for b in counted.values())
    assert db.session.get(BallotReceipt, receipt.id).channel is Channel.ONLINE
    with pytest.raises(services.NotEligible):  # no authority for 陈秀英
        services.cast_online(vote, invitation(cards, "张伟"), {}, during(vote), for_owner_id=chen.id)
    services.revoke_proxy(proxy, "user:1", during(vote))
    with pytest.raises(services.NotEligible):
        services.cast_online(vote, invitation(cards, "张伟"), {}, during(vote), for_owner_id=li.id)


def test_the_compound_may_allow_more_proxies(app, vote, standard, owners, compound):
    app.config["PROXY_LIMIT"] = 1
    services.save_settings(compound, Precedence.LATER_SIGNED, 2, "user:1", vote.opens_at)
    zhang = owners["张伟"]
    for name in ("李娜", "陈秀英"):
        services.record_proxy(
            vote,
            owners[name],
            proxy_owner=zhang,
            proxy_name="",
            photo=jpeg_with_exif(),
            actor="u",
            now=vote.opens_at,
        )
    with pytest.raises(services.ProxyRefused):
        services.record_proxy(
            vote,
            owners["周建国"],
            proxy_owner=zhang,
            proxy_name="",
            photo=jpeg_with_exif(),
            actor="u",
            now=vote.opens_at,
        )


def test_photos_are_re_encoded_without_exif_and_sealed(vote, standard, owners, uploads):
    proxy = services.record_proxy(
        vote,
        owners["李娜"],
        proxy_owner=None,
        proxy_name="李强",
        photo=jpeg_with_exif(),
        actor="u",
        now=vote.opens_at,
    )
    on_disk = (uploads / proxy.authority_photo).read_bytes()
    assert on_disk.startswith(FILE_MAGIC)  # sealed: no picture shows in the upload folder
    assert b"JFIF" not in on_disk
    picture = services.photo_bytes(proxy.authority_photo)
    assert hashlib.sha256(picture).hexdigest() == proxy.authority_sha256
    with Image.open(io.BytesIO(picture)) as stored:
        assert not stored.getexif()
        assert stored.size == (64, 48)
    with pytest.raises(services.VotingError):
        services.record_proxy(
            vote,
            owners["陈秀英"],
            proxy_owner=None,
            proxy_name="某",
            photo=b"%PDF-1.4\n%%EOF",
            actor="u",
            now=vote.opens_at,
        )


def paper(round_, owner_id, day: date, choice="yes", proxy_id=None) -> services.PaperValues:
    return services.PaperValues(day, yes_to_all(round_, owner_id, choice), proxy_id)


def local_day(round_, hours: float = 2) -> date:
    return during(round_, hours).astimezone(services.local_zone()).date()


def test_a_paper_ballot_counts_after_a_second_matching_entry_by_another_worker(
    vote, standard, owners, workers
):
    open_round(vote)
    li = owners["李娜"]
    values = paper(vote, li.id, local_day(vote))
    sheet = services.enter_paper(vote, li, values, jpeg_with_exif(), workers["a"], during(vote))
    db.session.commit()
    assert sheet.state is SheetState.PENDING
    assert services.my_choices(vote, li.id) == {}
    with force_locale("en"):
        assert "second entry" in str(services.answer_blocker(vote))
    with pytest.raises(services.PaperRefused):
        services.add_entry(sheet, values, workers["a"], during(vote))
    services.add_entry(sheet, values, workers["b"], during(vote, 3))
    db.session.commit()
    assert sheet.state is SheetState.CONFIRMED
    assert sheet.resolution is Resolution.SECOND_ENTRY
    counted = services.my_choices(vote, li.id)
    assert counted
    assert {b.channel for b in counted.values()} == {Channel.PAPER}
    assert sheet.receipt is not None
    assert sheet.receipt.channel is Channel.PAPER
    assert services.answer_blocker(vote) is None


def mismatched_sheet(vote, li, workers):
    """The vote opened, and 李娜's signed paper entered by worker a and again by b with other choices."""
    open_round(vote)
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    services.add_entry(sheet, paper(vote, li.id, local_day(vote), "no"), workers["b"], during(vote))
    db.session.commit()
    assert sheet.state is SheetState.MISMATCH
    return sheet


def test_entries_that_differ_are_settled_by_a_third_entry(vote, standard, owners, workers):
    li = owners["李娜"]
    sheet = mismatched_sheet(vote, li, workers)
    assert services.my_choices(vote, li.id) == {}
    with force_locale("en"):
        assert "differ" in str(services.answer_blocker(vote))
    services.add_entry(sheet, paper(vote, li.id, local_day(vote), "no"), workers["c"], during(vote))
    db.session.commit()
    assert (sheet.state, sheet.resolution) == (SheetState.CONFIRMED, Resolution.THIRD_ENTRY)
    assert [e.chosen for e in sheet.entries] == [False, True, False]
    assert {b.choice for b in services.my_choices(vote, li.id).values()} <= {"no", "self_management"}


def test_a_supervisor_chooses_between_entries_with_a_reason(vote, standard, owners, workers):
    open_round(vote)
    li = owners["李娜"]
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    services.add_entry(sheet, paper(vote, li.id, local_day(vote), "no"), workers["b"], during(vote))
    first = sheet.entries[0]
    with pytest.raises(services.PaperRefused):
        services.choose_entry(sheet, first.id, workers["c"], "looks right", during(vote))
    with pytest.raises(services.PaperRefused):
        services.choose_entry(sheet, first.id, workers["admin"], "  ", during(vote))
    services.choose_entry(sheet, first.id, workers["admin"], "照片上勾选的是同意", during(vote))
    db.session.commit()
    assert (sheet.resolution, sheet.resolution_reason) == (Resolution.SUPERVISOR, "照片上勾选的是同意")
    assert "yes" in {b.choice for b in services.my_choices(vote, li.id).values()}


def test_a_paper_ballot_must_be_signed_during_the_vote(vote, standard, owners, workers):
    open_round(vote)
    li = owners["李娜"]
    early = local_day(vote) - timedelta(days=3)
    with pytest.raises(services.InvalidBallot) as refused:
        services.enter_paper(
            vote, li, paper(vote, li.id, early), jpeg_with_exif(), workers["a"], during(vote)
        )
    assert "signed_on" in refused.value.problems


def test_the_later_signed_act_counts_and_both_are_kept(vote, standard, cards, owners, workers):
    open_round(vote)
    li = owners["李娜"]
    online_at = during(vote, 30)  # the next day
    services.cast_online(vote, invitation(cards, "李娜"), yes_to_all(vote, li.id, "no"), online_at)
    # a paper signed the day before the online ballot, entered afterwards: the online one still counts
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], online_at
    )
    services.add_entry(sheet, paper(vote, li.id, local_day(vote)), workers["b"], online_at)
    db.session.commit()
    assert {b.channel for b in services.my_choices(vote, li.id).values()} == {Channel.ONLINE}
    # a paper signed two days later prevails
    later = local_day(vote, 80)
    sheet2 = services.enter_paper(
        vote, li, paper(vote, li.id, later), jpeg_with_exif(), workers["a"], during(vote, 80)
    )
    services.add_entry(sheet2, paper(vote, li.id, later), workers["b"], during(vote, 80))
    db.session.commit()
    assert {b.channel for b in services.my_choices(vote, li.id).values()} == {Channel.PAPER}
    history = services.ballot_history(vote, li.id)
    assert len(history) == 3 * len(services.owner_questions(vote, li.id))
    statuses = {s.code: s.counted for s in receipt_statuses(vote)}
    assert sorted(statuses.values()) == [False, False, True]


def test_with_paper_precedence_a_later_online_ballot_does_not_count(
    vote, standard, cards, owners, workers, compound
):
    services.save_settings(compound, Precedence.PAPER, None, "user:1", vote.opens_at)
    open_round(vote)
    li = owners["李娜"]
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    services.add_entry(sheet, paper(vote, li.id, local_day(vote)), workers["b"], during(vote))
    services.cast_online(vote, invitation(cards, "李娜"), yes_to_all(vote, li.id, "no"), during(vote, 60))
    db.session.commit()
    assert {b.channel for b in services.my_choices(vote, li.id).values()} == {Channel.PAPER}
    with pytest.raises(services.VotingError):  # the rules do not change while a vote is open
        services.save_settings(compound, Precedence.ONLINE, None, "user:1", during(vote))


def test_a_paper_waiting_for_its_second_entry_is_not_started_again(vote, standard, owners, workers, uploads):
    """The user test's path: worker a enters 1-1-201's paper; another worker, meaning to enter it a
    second time, starts a "new" ballot for the same owner. Nothing is created: the pending sheet is named,
    and the second entry made there confirms it."""
    open_round(vote)
    li = owners["李娜"]
    first = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    db.session.commit()
    photos = sorted(p.name for p in uploads.iterdir())
    for worker in (workers["b"], workers["a"]):  # another worker, or the same one
        with pytest.raises(services.PaperPending) as pending:
            services.enter_paper(
                vote,
                li,
                paper(vote, li.id, local_day(vote), "no"),
                jpeg_with_exif("red"),
                worker,
                during(vote),
            )
        db.session.rollback()
        assert pending.value.sheet.id == first.id
    assert [s.id for s in services.sheets_of(vote)] == [first.id]
    assert sorted(p.name for p in uploads.iterdir()) == photos  # no photo kept for a refused sheet
    assert services.unsettled_sheet(vote, li.id).id == first.id
    assert services.unsettled_sheet(vote, owners["陈秀英"].id) is None

    services.add_entry(first, paper(vote, li.id, local_day(vote)), workers["b"], during(vote, 3))
    db.session.commit()
    assert first.state is SheetState.CONFIRMED
    assert {b.sheet_id for b in services.my_choices(vote, li.id).values()} == {first.id}
    assert services.unsettled_sheet(vote, li.id) is None
    # settled: a paper the owner signed again later is a new sheet
    again = services.enter_paper(
        vote,
        li,
        paper(vote, li.id, local_day(vote, 30), "no"),
        jpeg_with_exif(),
        workers["c"],
        during(vote, 30),
    )
    db.session.commit()
    assert again.id != first.id
    assert again.state is SheetState.PENDING


def test_a_sheet_in_mismatch_is_settled_before_another_is_started(vote, standard, owners, workers):
    li = owners["李娜"]
    sheet = mismatched_sheet(vote, li, workers)
    with pytest.raises(services.PaperPending) as pending:
        services.enter_paper(
            vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["c"], during(vote)
        )
    db.session.rollback()
    assert pending.value.sheet.id == sheet.id
    assert len(services.sheets_of(vote)) == 1


def test_the_database_keeps_one_unsettled_sheet_per_owner_and_round(vote, standard, owners, workers):
    """Whatever the caller: a second sheet not yet confirmed for the same owner and round is refused by
    the database itself; confirmed sheets may be several, and other owners are not affected."""
    open_round(vote)
    li, chen = owners["李娜"], owners["陈秀英"]

    def sheet_row(owner, state):
        return PaperSheet(
            round_id=vote.id,
            owner_id=owner.id,
            state=state,
            photo="x.jpg",
            photo_sha256="0" * 64,
            created_by_id=workers["a"].id,
            created_at=during(vote),
        )

    db.session.add_all([sheet_row(li, SheetState.CONFIRMED), sheet_row(li, SheetState.CONFIRMED)])
    db.session.add_all([sheet_row(li, SheetState.PENDING), sheet_row(chen, SheetState.PENDING)])
    db.session.commit()
    for state in (SheetState.PENDING, SheetState.MISMATCH):
        db.session.add(sheet_row(li, state))
        with pytest.raises(IntegrityError):
            db.session.flush()
        db.session.rollback()
    assert len(services.sheets_of(vote)) == 4


def test_two_confirmed_papers_count_by_their_signing_day_not_by_when_confirmed(
    vote, standard, owners, workers, cards
):
    """An owner signed two papers: the one signed later counts, whichever was confirmed last."""
    open_round(vote)
    li = owners["李娜"]
    later_day, earlier_day = local_day(vote, 50), local_day(vote)
    assert later_day > earlier_day
    signed_later = services.enter_paper(
        vote, li, paper(vote, li.id, later_day, "no"), jpeg_with_exif(), workers["a"], during(vote, 50)
    )
    services.add_entry(signed_later, paper(vote, li.id, later_day, "no"), workers["b"], during(vote, 51))
    db.session.commit()
    # the paper signed earlier reaches the office late: entered and confirmed after the other one
    signed_earlier = services.enter_paper(
        vote, li, paper(vote, li.id, earlier_day, "yes"), jpeg_with_exif(), workers["a"], during(vote, 60)
    )
    services.add_entry(signed_earlier, paper(vote, li.id, earlier_day, "yes"), workers["b"], during(vote, 61))
    db.session.commit()
    assert signed_earlier.state is SheetState.CONFIRMED
    assert signed_earlier.resolved_at > signed_later.resolved_at
    counted = services.my_choices(vote, li.id)
    assert {b.sheet_id for b in counted.values()} == {signed_later.id}
    assert {b.choice for b in counted.values()} <= {"no", "self_management"}
    plan = next(r for r in services.count_round(vote) if r.question.topic is Topic.PLAN)
    assert plan.counts["no"] == 1
    assert plan.counts["yes"] == 0
    # both are kept; the one signed earlier only does not count
    kept = {b.sheet_id for b in services.ballot_history(vote, li.id)}
    assert kept == {signed_later.id, signed_earlier.id}
    # what the next worker is told: the confirmed paper signed last, not the one confirmed last
    acts = services.earlier_acts(vote, li.id)
    assert (acts.paper_sheet_id, acts.paper_signed_on, acts.online_at) == (signed_later.id, later_day, None)
    assert acts.precedence is Precedence.LATER_SIGNED
    # an online ballot is part of it too
    online_at = during(vote, 70)
    services.cast_online(vote, invitation(cards, "李娜"), yes_to_all(vote, li.id), online_at)
    db.session.commit()
    assert services.earlier_acts(vote, li.id).online_at == online_at
    assert services.earlier_acts(vote, owners["陈秀英"].id) == services.EarlierActs(Precedence.LATER_SIGNED)


def test_publishing_waits_for_paper_entries(vote, standard, owners, workers):
    open_round(vote)
    li = owners["李娜"]
    sheet = services.enter_paper(
        vote, li, paper(vote, li.id, local_day(vote)), jpeg_with_exif(), workers["a"], during(vote)
    )
    db.session.commit()
    close_round(vote)
    with pytest.raises(TransitionRefused):
        apply(vote, Action.PUBLISH, "test", vote.closes_at + timedelta(days=1))
    services.add_entry(
        sheet, paper(vote, li.id, local_day(vote)), workers["b"], vote.closes_at
    )  # after close
    db.session.commit()
    publish_round(vote)
    assert vote.state is RoundState.NOTICE


def test_an_owner_of_flats_in_two_buildings_counts_in_each_building_with_that_buildings_area(vote, owners):
    from consult.compounds.models import Building
    from consult.roster.parse import parse_roster
    from consult.roster.services import apply_rows
    from tests.voting.conftest import ROSTER

    apply_rows(
        vote.compound,
        parse_roster((ROSTER + "2,1,301,30.00,张伟,13812341234,zhang@example.test,业主,A1\n").encode()),
        "test",
    )
    db.session.commit()
    found = db.session.scalars(select(Building).where(Building.compound_id == vote.compound_id))
    buildings = {b.label: b for b in found}
    rule = PRESETS["civil_code_major"]
    whole = services.add_question(
        vote, topic=Topic.PLAN, prompt_zh="全院", prompt_en=None, rule=rule, actor="t", now=vote.opens_at
    )
    second = services.add_question(
        vote,
        topic=Topic.OTHER,
        prompt_zh="2栋",
        prompt_en=None,
        rule=rule,
        actor="t",
        now=vote.opens_at,
        scope=Scope.BUILDING,
        building_id=buildings["2"].id,
    )
    first = services.add_question(
        vote,
        topic=Topic.OTHER,
        prompt_zh="1栋",
        prompt_en=None,
        rule=rule,
        actor="t",
        now=vote.opens_at,
        scope=Scope.BUILDING,
        building_id=buildings["1"].id,
    )
    db.session.commit()
    zhang = owners["张伟"].id
    results = {r.question.id: r.outcome.main for r in services.count_round(vote)}
    # the compound: 张伟 once, with 80.50 + 66.00 + 30.00; the developer once; 2-1-202 (owner unknown)
    # as an owner of its own
    assert (results[whole.id].owners, results[whole.id].area) == (6, Decimal("602.30"))
    # building 1: 张伟 with his two flats there; building 2: 张伟 with his one flat there only
    assert (results[first.id].owners, results[first.id].area) == (3, Decimal("306.75"))
    assert (results[second.id].owners, results[second.id].area) == (4, Decimal("295.55"))
    assert (results[first.id].unknown, results[second.id].unknown) == (0, 1)
    held = services.Roll(services.holdings(vote.compound_id))
    assert held.areas(second)[zhang] == Decimal("30.00")
    assert held.areas(first)[zhang] == Decimal("146.50")


@pytest.mark.parametrize("owner_known", [False, True])
def test_a_vote_closes_early_once_every_known_owner_voted_and_an_unknown_one_counts_as_not_voting(
    vote, standard, cards, owners, owner_known
):
    """Nobody can vote for a dwelling whose owner is not known (the roster is frozen while the vote
    runs): it does not hold the vote open, but it weighs in the whole as an owner who did not vote."""
    from consult.compounds.models import Dwelling

    if owner_known:  # the roster names 2-1-202's owner before the vote opens
        [nobodys] = [d for d in db.session.scalars(select(Dwelling)) if d.owner_id is None]
        nobodys.owner_id = owners["周建国"].id
        db.session.commit()
    open_round(vote)
    for name in ("张伟", "李娜", "陈秀英", "开发商", "周建国"):
        services.cast_online(vote, invitation(cards, name), yes_to_all(vote, owners[name].id), during(vote))
    db.session.commit()
    part = services.vote_participation(vote)
    assert (part.voted, part.eligible, part.unknown) == ((5, 5, 0) if owner_known else (5, 6, 1))
    apply(vote, Action.CLOSE, "test", during(vote, 3))  # early: everyone who can vote has voted
    assert vote.state is RoundState.CLOSED
    plan = next(r for r in services.count_round(vote) if r.question.scope.value == "compound")
    tally = next(iter(plan.outcome.tallies.values()))
    assert (tally.voters, tally.owners, tally.unknown) == ((5, 5, 0) if owner_known else (5, 6, 1))
