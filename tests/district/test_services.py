"""The district's figures against the database: stages, dates, participation as the engine counts it."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import StairUnit
from consult.compounds.services import coverages
from consult.district.participation import APPROVAL
from consult.district.participation import approval
from consult.district.participation import participation_of
from consult.district.participation import register_approval
from consult.district.participation import register_bulk_answered
from consult.district.rules import stage_of
from consult.district.services import district_rows
from consult.district.services import participation_summary
from consult.district.services import progress
from consult.district.services import roster_figures
from consult.district.services import sort_rows
from consult.district.services import stage_counts
from consult.district.services import street_summaries
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.services import RoundContent
from consult.rounds.services import participation
from consult.rounds.services import repeat
from consult.rounds.services import set_schedule
from tests.district import factories
from tests.district.factories import NOW
from tests.district.factories import SCENARIOS
from tests.district.factories import T0


def test_every_scenario_gets_its_stage(app):
    made = {c.id: key for c, (key, __, __r) in zip(factories.many(len(SCENARIOS)), SCENARIOS, strict=True)}
    rows = district_rows(NOW, 30)
    assert {row.id: row.stage.key for row in rows} == made


def test_roster_figures_agree_with_the_coverage(app):
    made = factories.many(len(SCENARIOS))
    ids = [c.id for c in made]
    figures = roster_figures(ids)
    for cid, coverage in coverages(ids).items():
        mine = figures[cid]
        assert (mine.dwellings, mine.owned, mine.total_area, mine.owned_area, mine.percent) == (
            coverage.dwellings,
            coverage.owned,
            coverage.total_area,
            coverage.owned_area,
            coverage.percent,
        )
        assert stage_of(mine, []) == stage_of(coverage, [])


def test_since_is_the_latest_entry_into_the_present_state_else_the_creation(app):
    early = factories.compound_in("早院", 3, at=T0)
    late = factories.compound_in("晚院", 7, at=T0 + timedelta(days=20))
    bare = factories.compound_in("空院", 0)
    db.session.commit()
    extra = db.session.scalars(select(Round).where(Round.compound_id == early.id, Round.number == 1)).one()
    db.session.add(  # a later event of the same round (the factory adds one per attempt)
        RoundEvent(
            round_id=extra.id,
            actor="t",
            action="x",
            from_state=RoundState.OPEN,
            to_state=RoundState.OPEN,
            at=T0 + timedelta(days=5),
        )
    )
    db.session.commit()
    rows = {row.id: row for row in district_rows(NOW, 30)}
    assert rows[early.id].since == T0 + timedelta(days=5)
    assert rows[late.id].since == T0 + timedelta(days=20)
    created = db.session.get(type(bare), bare.id).created_at
    assert rows[bare.id].since.replace(tzinfo=None) == created.replace(tzinfo=None)
    # stuck: NOW is 92 days after T0
    assert rows[early.id].stuck
    assert not {row.id: row for row in district_rows(NOW, 100)}[early.id].stuck


def _round(compound_id: int, number: int, attempt: int = 1) -> Round:
    return db.session.scalars(
        select(Round).where(
            Round.compound_id == compound_id, Round.number == number, Round.attempt == attempt
        )
    ).one()


def _event(round_: Round, before: RoundState, after: RoundState, at) -> None:
    db.session.add(
        RoundEvent(round_id=round_.id, actor="t", action="x", from_state=before, to_state=after, at=at)
    )


def test_scheduling_a_later_round_does_not_move_since(app):
    compound = factories.compound_in("公示院", 7, at=NOW - timedelta(days=60))  # round 2 on notice
    db.session.commit()
    _event(_round(compound.id, 2), RoundState.CLOSED, RoundState.NOTICE, NOW - timedelta(days=40))
    vote = _round(compound.id, 3)
    set_schedule(vote, NOW + timedelta(days=7), NOW + timedelta(days=21), 7, "t", NOW - timedelta(days=1))
    _event(vote, RoundState.DRAFT, RoundState.DRAFT, NOW - timedelta(days=1))  # the vote edited yesterday
    db.session.commit()
    row = district_rows(NOW, 30, compound_id=compound.id)[0]
    assert row.stage.key == "round2_notice"
    assert row.since == NOW - timedelta(days=40)
    assert row.stuck


def test_a_failed_vote_awaiting_its_repeat_is_in_its_stage_since_it_failed(app):
    compound = factories.compound_in("重投院", 0)
    factories.roster(compound, factories.FULL_ROSTER)
    factories.rounds(
        compound, [[RoundState.DONE], [RoundState.DONE], [RoundState.FAILED]], NOW - timedelta(days=50)
    )
    db.session.commit()
    repeat(_round(compound.id, 3), "t", NOW - timedelta(days=2))
    db.session.commit()
    row = district_rows(NOW, 30, compound_id=compound.id)[0]
    assert row.stage.key == "round3_failed"
    assert row.since == NOW - timedelta(days=50)
    assert row.stuck


def test_counts_progress_and_streets(app):
    factories.many(22)
    rows = district_rows(NOW, 30)
    counts = dict((stage.key, n) for stage, n in stage_counts(rows))
    assert sum(counts.values()) == 22
    assert counts["consensus"] == 2
    assert counts["round3_done"] == 0  # every stage of the three rounds is listed, even when empty
    years = {p.year: p for p in progress(rows)}
    assert years[2022].registered == sum(1 for r in rows if r.plan_year == 2022)
    streets = {s.name: s for s in street_summaries(rows)}
    assert sum(s.compounds for s in streets.values()) == 22
    assert sum(s.dwellings for s in streets.values()) == sum(r.coverage.dwellings for r in rows)
    by_stage = sort_rows(rows, "stage")
    assert [r.stage.rank for r in by_stage] == sorted(r.stage.rank for r in rows)
    assert sort_rows(rows, "name", descending=True)[0].name == "院021"


def _answered_by_room(rooms: tuple[str, ...]):
    """A round's content played by the test: the dwellings of these rooms answered."""

    def answered(round_: Round) -> set[int]:
        return set(
            db.session.scalars(
                select(Dwelling.id)
                .join(StairUnit, StairUnit.id == Dwelling.unit_id)
                .join(Building, Building.id == StairUnit.building_id)
                .where(Building.compound_id == round_.compound_id, Dwelling.room.in_(rooms))
            )
        )

    def bulk(round_ids):
        return (
            select(Round.id.label("round_id"), Dwelling.id.label("dwelling_id"))
            .join(Building, Building.compound_id == Round.compound_id)
            .join(StairUnit, StairUnit.building_id == Building.id)
            .join(Dwelling, Dwelling.unit_id == StairUnit.id)
            .where(Round.id.in_(round_ids), Dwelling.room.in_(rooms))
        )

    return answered, bulk


def _engine_counts(round_ids):
    return {
        r.id: (p.answered, p.eligible)
        for r in db.session.scalars(select(Round).where(Round.id.in_(round_ids)))
        for p in [participation(r)]
    }


@pytest.mark.parametrize("with_twin", [True, False])
def test_participation_matches_the_engine(app, engine_hooks, with_twin):
    answered, bulk = _answered_by_room(("101", "102", "202"))
    engine_hooks[RoundKind.NEEDS] = RoundContent(answered=answered)
    engine_hooks[RoundKind.SCHEME] = RoundContent(answered=answered)
    if with_twin:
        register_bulk_answered(answered, bulk)
    factories.many(len(SCENARIOS))
    rounds = db.session.scalars(select(Round).where(Round.state != RoundState.DRAFT)).all()
    ours = participation_of([(r.id, r.compound_id, r.kind) for r in rounds])
    assert ours == _engine_counts([r.id for r in rounds])
    partial = {k: v for k, v in ours.items() if v[1] == 3}  # the partial roster: 3 eligible of 4
    assert partial
    assert all(v == (2, 3) for v in partial.values())  # 102 has no owner and answers for nobody


def test_participation_summary_means_open_and_closed_rounds(app, engine_hooks):
    answered, bulk = _answered_by_room(("101",))
    engine_hooks[RoundKind.NEEDS] = RoundContent(answered=answered)
    engine_hooks[RoundKind.VOTE] = RoundContent(answered=answered)
    register_bulk_answered(answered, bulk)
    factories.many(len(SCENARIOS))
    summary = {s.number: s for s in participation_summary(district_rows(NOW, 30))}
    # round 1 open (3 eligible: 1/3) and closed (4 eligible: 1/4); round 3 closed (1/4)
    assert summary[1].rounds == 2
    assert summary[1].percent == 29  # (1/3 + 1/4) / 2 = 7/24
    assert summary[3].rounds == 1
    assert summary[3].percent == 25
    assert summary[2].rounds == 1  # round 2's repeat is open: its kind has no content, nobody answered
    assert summary[2].percent == 0
    assert summary[0].rounds == 4


def test_approval_hook(app):
    assert approval([1]) is None
    register_approval(lambda ids: {i: Fraction(3, 4) for i in ids})
    try:
        assert approval([5]) == {5: Fraction(3, 4)}
    finally:
        APPROVAL.clear()


# --- the bulk twins of the areas' own hooks, checked against those hooks


def _compound_with_open_round(kind_number: int):
    scenario = {1: 3, 2: 8, 3: 9}[kind_number]  # round1_open, round2_open, round3_closed
    compound = factories.compound_in("对照院", scenario)
    db.session.commit()
    round_ = db.session.scalars(
        select(Round)
        .where(Round.compound_id == compound.id, Round.number == kind_number)
        .order_by(Round.attempt.desc())
    ).first()
    return compound, round_, factories.dwelling_ids(compound)


def _twin_agrees(engine_hooks, kind, hook, round_, eligible=None):
    engine_hooks[kind] = RoundContent(answered=hook, eligible=eligible)
    ours = participation_of([(round_.id, round_.compound_id, kind)])
    assert ours == {round_.id: _engine_counts([round_.id])[round_.id]}
    return ours[round_.id]


def test_survey_twin(app, engine_hooks):
    from consult.surveys.models import Survey
    from consult.surveys.models import SurveyAnswer
    from consult.surveys.rules import Willingness
    from consult.surveys.services import answered_dwellings

    _compound, round_, dwellings = _compound_with_open_round(1)
    survey = Survey(round_id=round_.id, created_by="test")
    db.session.add(survey)
    db.session.flush()
    for dwelling_id, revision, superseded in [
        (dwellings[0], 1, True),
        (dwellings[0], 2, False),
        (dwellings[1], 1, False),  # no owner known: not eligible, not counted
        (dwellings[2], 1, True),  # only a superseded answer... and no current one
    ]:
        db.session.add(
            SurveyAnswer(
                survey_id=survey.id,
                dwelling_id=dwelling_id,
                revision=revision,
                willingness=Willingness.YES,
                superseded_at=T0 if superseded else None,
            )
        )
    db.session.commit()
    assert _twin_agrees(engine_hooks, RoundKind.NEEDS, answered_dwellings, round_) == (1, 3)


def test_scheme_twin(app, engine_hooks):
    from consult.compounds.models import Owner
    from consult.schemes.models import Scheme
    from consult.schemes.models import SchemeComment
    from consult.schemes.models import SchemeItem
    from consult.schemes.models import SchemePreference
    from consult.schemes.models import SchemeVersion
    from consult.schemes.rules import AuthorRole
    from consult.schemes.services import answered_dwellings

    _compound, round_, dwellings = _compound_with_open_round(2)
    scheme = Scheme(round_id=round_.id, label="A", title="A", created_by="t")
    db.session.add(scheme)
    db.session.flush()
    version = SchemeVersion(scheme_id=scheme.id, number=1, created_by="t")
    db.session.add(version)
    db.session.flush()
    item = SchemeItem(version_id=version.id, title="roof")
    db.session.add(item)
    db.session.flush()
    db.session.add(SchemePreference(round_id=round_.id, dwelling_id=dwellings[0], scheme_id=scheme.id))
    owner_of_third = db.session.get(Dwelling, dwellings[2]).owner_id
    assert db.session.get(Owner, owner_of_third) is not None
    tenant = db.session.scalars(select(Occupant).where(Occupant.dwelling_id == dwellings[3])).one()
    db.session.add_all(
        [
            SchemeComment(
                round_id=round_.id,
                item_id=item.id,
                owner_id=owner_of_third,
                author_role=AuthorRole.OWNER,
                body="x",
            ),
            SchemeComment(
                round_id=round_.id,
                item_id=item.id,
                occupant_id=tenant.id,
                author_role=AuthorRole.OCCUPANT,
                body="y",
            ),
        ]
    )
    db.session.commit()
    assert _twin_agrees(engine_hooks, RoundKind.SCHEME, answered_dwellings, round_) == (3, 4)


def test_vote_twin(app, engine_hooks):
    from consult.voting.counting import Channel
    from consult.voting.counting import Scope
    from consult.voting.counting import Topic
    from consult.voting.models import Ballot
    from consult.voting.models import BallotReceipt
    from consult.voting.models import VoteQuestion
    from consult.voting.services import answered_dwellings
    from consult.voting.services import eligible_dwellings

    _compound, round_, dwellings = _compound_with_open_round(3)
    question = VoteQuestion(
        round_id=round_.id, position=1, topic=Topic.PLAN, prompt_zh="同意吗", rule={}, created_by="t"
    )
    db.session.add(question)
    db.session.flush()
    owners = [db.session.get(Dwelling, d).owner_id for d in dwellings]
    for i, (owner_id, active) in enumerate([(owners[0], True), (owners[1], False)]):
        receipt = BallotReceipt(round_id=round_.id, code=f"R{i:05d}", channel=Channel.ONLINE)
        db.session.add(receipt)
        db.session.flush()
        db.session.add(
            Ballot(
                round_id=round_.id,
                question_id=question.id,
                owner_id=owner_id,
                choice="yes",
                channel=Channel.ONLINE,
                cast_at=T0,
                actor="test",
                receipt_id=receipt.id,
                active=active,
            )
        )
    db.session.commit()
    assert _twin_agrees(engine_hooks, RoundKind.VOTE, answered_dwellings, round_) == (1, 4)
    # the vote's own eligibility: owners only, in the scope of one question at least
    own = _twin_agrees(engine_hooks, RoundKind.VOTE, answered_dwellings, round_, eligible_dwellings)
    assert own == (1, 4)
    question.scope, question.unit_id = Scope.UNIT, db.session.get(Dwelling, dwellings[0]).unit_id
    db.session.commit()
    in_unit = _twin_agrees(engine_hooks, RoundKind.VOTE, answered_dwellings, round_, eligible_dwellings)
    assert in_unit == (1, 2)  # only that unit's owned dwellings
    other_unit = db.session.get(Dwelling, dwellings[2]).unit_id
    question.unit_id = other_unit
    db.session.commit()
    assert _twin_agrees(engine_hooks, RoundKind.VOTE, answered_dwellings, round_, eligible_dwellings) == (
        0,
        2,
    )  # the one who voted is outside the question's unit
    building_id = db.session.get(StairUnit, other_unit).building_id
    question.scope, question.unit_id, question.building_id = Scope.BUILDING, None, building_id
    db.session.add(
        VoteQuestion(
            round_id=round_.id,
            position=2,
            topic=Topic.LIFT,
            prompt_zh="加装电梯吗",
            rule={},
            created_by="t",
            scope=Scope.UNIT,
            unit_id=other_unit,
        )
    )
    db.session.commit()
    both = _twin_agrees(engine_hooks, RoundKind.VOTE, answered_dwellings, round_, eligible_dwellings)
    assert both == (1, 4)  # the building's four, the unit's two among them, each once
