from datetime import timedelta
from fractions import Fraction

import pytest
from sqlalchemy import select

from consult.db import utcnow
from consult.experts import services
from consult.experts.rules import Aggregation
from consult.experts.rules import CriterionSpec
from consult.experts.rules import Verdict
from consult.experts.services import PanelRefused
from consult.extensions import db
from consult.notify.models import OutboxMessage
from consult.schemes.services import schemes_of


@pytest.fixture
def panel(scheme_round, experts, reviewer):
    panel = services.form_panel(scheme_round, experts[0], experts, reviewer)
    db.session.commit()
    return panel


def two_criteria() -> list[CriterionSpec]:
    return [CriterionSpec("safety", "安全", "Safety", 60), CriterionSpec("cost", "造价", "Cost", 40)]


def score_all(panel, member, values: dict[str, tuple[int, int]], conflict_on: str | None = None) -> None:
    """values: scheme label → (safety, cost) on the two-criterion rubric."""
    ids = {c.key: c.id for c in panel.criteria}
    for scheme in services.schemes_of(panel):
        if scheme.label == conflict_on:
            services.declare(member, scheme, True, "I designed it")
            continue
        services.declare(member, scheme, False)
        safety, cost = values[scheme.label]
        services.save_scores(member, scheme, {ids["safety"]: (safety, ""), ids["cost"]: (cost, "")})
    services.submit(member)


def test_form_panel_invites_members_with_default_rubric(panel, experts) -> None:
    assert len(panel.members) == 5
    assert panel.criteria[0].key == "safety"
    assert sum(c.weight for c in panel.criteria) == 100
    messages = db.session.scalars(select(OutboxMessage)).all()
    assert sorted(m.kind for m in messages) == ["panel_invitation"] * 5


def test_only_experts_on_scheme_rounds(scheme_round, compound, experts, reviewer, worker) -> None:
    with pytest.raises(PanelRefused):
        services.form_panel(scheme_round, experts[0], experts, experts[1])  # an expert cannot form one
    with pytest.raises(PanelRefused):
        services.form_panel(scheme_round, worker, [worker], reviewer)
    other = next(
        r for r in services.db.session.scalars(select(type(scheme_round))) if r.id != scheme_round.id
    )
    with pytest.raises(PanelRefused):
        services.form_panel(other, experts[0], experts, reviewer)


def test_rubric_freezes_with_first_score(panel, reviewer) -> None:
    services.set_rubric(panel, two_criteria(), reviewer)
    with pytest.raises(PanelRefused):
        services.set_rubric(panel, [CriterionSpec("a", "a", "a", 90)], reviewer)  # not 100
    member = panel.members[1]
    scheme = services.schemes_of(panel)[0]
    with pytest.raises(PanelRefused):  # declare first
        services.save_scores(member, scheme, {panel.criteria[0].id: (5, "")})
    services.declare(member, scheme, False)
    services.save_scores(member, scheme, {panel.criteria[0].id: (5, "fine")})
    assert panel.rubric_frozen
    with pytest.raises(PanelRefused):
        services.set_rubric(panel, two_criteria(), reviewer)


def test_freeze_by_hand(panel, reviewer) -> None:
    services.freeze_rubric(panel, reviewer)
    with pytest.raises(PanelRefused):
        services.set_rubric(panel, two_criteria(), reviewer)


def test_out_of_scale_refused(panel) -> None:
    member = panel.members[1]
    scheme = services.schemes_of(panel)[0]
    services.declare(member, scheme, False)
    with pytest.raises(PanelRefused):
        services.save_scores(member, scheme, {panel.criteria[0].id: (11, "")})


def test_conflict_excludes_scores_and_blocks_scoring(panel, reviewer) -> None:
    services.set_rubric(panel, two_criteria(), reviewer)
    a, b = services.schemes_of(panel)
    for member in panel.members[:2]:
        score_all(panel, member, {"A": (8, 5), "B": (6, 6)})
    conflicted = panel.members[2]
    services.declare(conflicted, b, False)
    services.save_scores(conflicted, b, {panel.criteria[0].id: (0, "")})
    services.declare(conflicted, b, True, "my firm bid")  # withdraws the score given before
    with pytest.raises(PanelRefused):
        services.save_scores(conflicted, b, {panel.criteria[0].id: (0, "")})
    with pytest.raises(PanelRefused, match="回避"):  # nor a remark on it
        services.save_remark(conflicted, b, "B is the better scheme")
    assert services.save_remark(conflicted, a, "A keeps the courtyard") is not None
    score_all(panel, conflicted, {"A": (2, 2)}, conflict_on="B")
    result = services.results(panel)
    # A: safety (8+8+2)/3 = 6, cost (5+5+2)/3 = 4 → 60·6/10 + 40·4/10 = 52
    assert result.by_scheme[a.id].total == Fraction(52)
    # B: the conflicted member is left out: 60·6/10 + 40·6/10 = 60
    assert result.by_scheme[b.id].figures["safety"].count == 2
    assert result.by_scheme[b.id].total == Fraction(60)
    assert [(p.rank, p.schemes) for p in result.places] == [(1, (b.id,)), (2, (a.id,))]
    # safety on A: variance of 8, 8, 2 = 8 > 2.25
    assert result.by_scheme[a.id].figures["safety"].disagreement


def test_trimmed_mean_with_five(scheme_round, experts, reviewer) -> None:
    panel = services.form_panel(
        scheme_round, experts[0], experts, reviewer, aggregation=Aggregation.TRIMMED_MEAN
    )
    services.set_rubric(panel, two_criteria(), reviewer)
    for member, safety in zip(panel.members, [10, 2, 8, 7, 9], strict=True):
        score_all(panel, member, {"A": (safety, 5), "B": (5, 5)})
    a = services.schemes_of(panel)[0]
    result = services.results(panel)
    assert result.by_scheme[a.id].figures["safety"].value == 8
    assert result.by_scheme[a.id].figures["safety"].method is Aggregation.TRIMMED_MEAN
    assert result.by_scheme[a.id].total == Fraction(68)


def test_unsubmitted_scores_do_not_count_and_are_hidden(panel, reviewer) -> None:
    services.set_rubric(panel, two_criteria(), reviewer)
    first, second = panel.members[:2]
    score_all(panel, first, {"A": (8, 8), "B": (6, 6)})
    scheme = services.schemes_of(panel)[0]
    services.declare(second, scheme, False)
    services.save_scores(second, scheme, {panel.criteria[0].id: (0, "")})
    assert services.results(panel).by_scheme[scheme.id].figures["safety"].count == 1
    assert services.may_see_results(panel, first.user)
    assert not services.may_see_results(panel, second.user)
    assert services.may_see_results(panel, reviewer)


def test_submit_needs_everything_and_is_final(panel, reviewer) -> None:
    services.set_rubric(panel, two_criteria(), reviewer)
    member = panel.members[1]
    with pytest.raises(PanelRefused):
        services.submit(member)
    score_all(panel, member, {"A": (5, 5), "B": (5, 5)})
    scheme = services.schemes_of(panel)[0]
    with pytest.raises(PanelRefused):
        services.save_scores(member, scheme, {panel.criteria[0].id: (9, "")})


def test_close_stops_changes(panel, experts, reviewer) -> None:
    member = panel.members[1]
    scheme = services.schemes_of(panel)[0]
    with pytest.raises(PanelRefused):
        services.close(panel, experts[1])  # not the chair
    services.close(panel, experts[0])
    assert panel.closed
    assert panel.rubric_frozen
    with pytest.raises(PanelRefused):
        services.declare(member, scheme, False)
    with pytest.raises(PanelRefused):
        services.close(panel, reviewer)
    assert services.may_see_results(panel, member.user)


def test_opinion_by_the_chair(panel, experts) -> None:
    scheme = schemes_of(panel.round)[0]
    with pytest.raises(PanelRefused):
        services.write_opinion(panel, scheme, experts[1], Verdict.RECOMMEND)
    with pytest.raises(PanelRefused):
        services.write_opinion(panel, scheme, experts[0], Verdict.RECOMMEND_WITH_CHANGES)
    opinion = services.write_opinion(
        panel, scheme, experts[0], Verdict.RECOMMEND_WITH_CHANGES, "Move the lift"
    )
    assert opinion.required_changes == "Move the lift"
    services.write_opinion(panel, scheme, experts[0], Verdict.RECOMMEND)
    assert services.opinion_on(panel, scheme).verdict is Verdict.RECOMMEND


def test_a_chair_with_a_conflict_stands_aside_and_a_reviewer_writes_the_opinion(
    panel, experts, reviewer
) -> None:
    a, b = schemes_of(panel.round)
    chair = next(m for m in panel.members if m.user_id == panel.chair_id)
    services.declare(chair, b, True, "my firm drew it")
    services.declare(chair, a, False)
    with pytest.raises(PanelRefused):  # the chair stands aside from B
        services.write_opinion(panel, b, chair.user, Verdict.RECOMMEND)
    assert not services.writes_opinion(panel, b, chair.user)
    assert services.writes_opinion(panel, b, reviewer)
    assert services.write_opinion(panel, b, reviewer, Verdict.DO_NOT_RECOMMEND).by_id == reviewer.id
    # on A the chair writes, and a reviewer does not
    assert services.writes_opinion(panel, a, chair.user)
    with pytest.raises(PanelRefused):
        services.write_opinion(panel, a, reviewer, Verdict.RECOMMEND)


def test_panels_for_and_404(panel, create_user) -> None:
    from consult.auth.models import Role
    from consult.errors import NotFound

    outsider = create_user("outsider@example.test", Role.EXPERT, None)
    assert services.panels_for(outsider) == []
    assert services.panels_for(panel.members[1].user) == [panel]
    with pytest.raises(NotFound):
        services.get_panel_for(outsider, panel.id)


def test_one_panel_per_round(panel, scheme_round, experts, reviewer) -> None:
    with pytest.raises(PanelRefused):
        services.form_panel(scheme_round, experts[1], experts[1:], reviewer)
    assert services.panel_of(scheme_round) is panel


def test_panel_summary_shape_and_hand_computed_values(panel, scheme_round, experts, reviewer) -> None:
    assert services.closed_summary(scheme_round) is None
    services.set_rubric(panel, two_criteria(), reviewer)
    a, b = services.schemes_of(panel)
    score_all(panel, panel.members[0], {"A": (8, 5), "B": (6, 6)})
    score_all(panel, panel.members[1], {"A": (4, 5), "B": (6, 6)})
    score_all(panel, panel.members[2], {"A": (9, 9)}, conflict_on="B")
    services.write_opinion(panel, b, experts[0], Verdict.RECOMMEND_WITH_CHANGES, "Keep the old trees")
    summary = services.panel_summary(scheme_round)
    assert summary is not None
    assert summary["closed"] is False
    assert services.closed_summary(scheme_round) is None  # residents see it once closed
    services.close(panel, reviewer)
    summary = services.panel_summary(scheme_round)
    assert services.closed_summary(scheme_round) == summary
    assert summary["method"] == "mean"
    assert summary["experts"] == 3
    assert [c["key"] for c in summary["criteria"]] == ["safety", "cost"]
    first, second = summary["schemes"]
    # A: safety (8+4+9)/3 = 7, cost (5+5+9)/3 = 19/3 → 60·7/10 + 40·(19/3)/10 = 42 + 76/3 = 202/3
    assert first["label"] == "A"
    assert first["total"] == Fraction(202, 3)
    assert first["criteria"]["cost"]["value"] == Fraction(19, 3)
    assert first["criteria"]["safety"]["count"] == 3
    assert first["opinion"] is None
    # B: the third member's conflict leaves them out: 60·6/10 + 40·6/10 = 60
    assert second["total"] == Fraction(60)
    assert second["conflicts"] == 1
    assert second["criteria"]["safety"]["count"] == 2
    assert second["opinion"]["verdict"] == "with_changes"
    assert second["opinion"]["required_changes"] == "Keep the old trees"
    assert (first["rank"], second["rank"]) == (1, 2)
    assert summary["ranking"] == [
        {"rank": 1, "scheme_ids": [a.id], "labels": ["A"], "tied": False},
        {"rank": 2, "scheme_ids": [b.id], "labels": ["B"], "tied": False},
    ]
    # safety on A: 8, 4, 9 → variance 14/3 > 9/4
    assert first["disagreement"]
    assert first["criteria"]["safety"]["disagreement"]
    assert "专家" not in repr(summary)  # no expert is named


def test_panel_summary_ties_and_trimmed_method(scheme_round, experts, reviewer) -> None:
    panel = services.form_panel(
        scheme_round, experts[0], experts, reviewer, aggregation=Aggregation.TRIMMED_MEAN
    )
    services.set_rubric(panel, two_criteria(), reviewer)
    for member in panel.members[:4]:
        score_all(panel, member, {"A": (7, 7), "B": (7, 7)})
    summary = services.panel_summary(scheme_round)
    assert summary["method"] == "trimmed_mean"
    # four experts: the trimmed mean falls back to the mean, and says so per criterion
    assert summary["schemes"][0]["criteria"]["safety"]["method"] == "mean"
    assert [s["total"] for s in summary["schemes"]] == [Fraction(70), Fraction(70)]
    assert [(p["rank"], p["labels"], p["tied"]) for p in summary["ranking"]] == [(1, ["A", "B"], True)]
    assert all(s["tied"] and s["rank"] == 1 for s in summary["schemes"])


def test_no_panel_no_summary(scheme_round) -> None:
    assert services.panel_summary(scheme_round) is None


def test_representative_has_a_say_but_scores_only_when_granted(
    scheme_round, experts, reviewer, create_user
) -> None:
    from consult.auth.models import Role

    resident = create_user("rep@example.test", Role.EXPERT, None, name="居民代表")
    panel = services.form_panel(
        scheme_round, experts[0], experts[:2], reviewer, resident_representatives=[resident]
    )
    rep = services.member_of(panel, resident)
    assert rep.is_resident_representative
    assert not rep.scores
    scheme = services.schemes_of(panel)[0]
    with pytest.raises(PanelRefused):
        services.declare(rep, scheme, False)
    remark = services.save_remark(rep, scheme, "  Residents want the bike shed kept  ")
    assert remark.body == "Residents want the bike shed kept"
    assert services.remarks_on(panel) == {scheme.id: [remark]}
    with pytest.raises(PanelRefused):
        services.grant_score(rep, experts[1])  # not the chair
    with pytest.raises(PanelRefused):
        services.grant_score(panel.members[1], reviewer)  # an expert always scores
    services.grant_score(rep, experts[0])
    assert rep.scores
    services.declare(rep, scheme, False)
    services.save_scores(rep, scheme, {panel.criteria[0].id: (7, "")})
    with pytest.raises(PanelRefused):
        services.grant_score(rep, reviewer, scores=False)  # already scored
    assert services.save_remark(rep, scheme, "") is None
    assert services.remarks_on(panel) == {}
    services.close(panel, reviewer)
    with pytest.raises(PanelRefused):
        services.save_remark(rep, scheme, "late")


def test_members_may_read_the_rounds_documents(panel, scheme_round, experts, create_user) -> None:
    from consult.auth.models import Role

    assert services.sits_on(experts[1], scheme_round)
    outsider = create_user("outsider@example.test", Role.EXPERT, None)
    assert not services.sits_on(outsider, scheme_round)


def test_representative_without_a_score_sees_results_only_once_closed(
    scheme_round, experts, reviewer, create_user
) -> None:
    from consult.auth.models import Role

    resident = create_user("rep@example.test", Role.EXPERT, None, name="居民代表")
    panel = services.form_panel(
        scheme_round, experts[0], experts[:2], reviewer, resident_representatives=[resident]
    )
    assert not services.may_see_results(panel, resident)
    services.close(panel, reviewer)
    assert services.may_see_results(panel, resident)


def reopen_round(round_, at):
    """The district review returns the record: the round, its answers published, takes input again."""
    from consult.rounds.rules import RoundState
    from consult.rounds.services import reopen

    round_.state = RoundState.NOTICE
    reopen(round_, "user:review", at, at + timedelta(days=7), "方案需修订")


def test_a_closed_panel_reopens_once_its_round_is_reopened(
    panel, experts, reviewer, english_messages
) -> None:
    """Round 2 reopened by a return: the chair or a reviewer opens the panel again, with a reason; the
    submissions are withdrawn, so each expert may change their scores and must submit again before
    seeing the others' new ones."""
    import json

    from consult.audit.models import AuditEntry

    services.set_rubric(panel, two_criteria(), reviewer)
    first, second = panel.members[1], panel.members[2]
    score_all(panel, first, {"A": (5, 5), "B": (6, 6)})
    score_all(panel, second, {"A": (7, 7), "B": (8, 8)})
    closed_at = utcnow() - timedelta(days=2)
    services.close(panel, experts[0], closed_at)
    with pytest.raises(PanelRefused, match="reopened only while"):  # the round was never reopened
        services.reopen(panel, reviewer, "方案已修订")
    reopen_round(panel.round, closed_at + timedelta(days=1))
    with pytest.raises(PanelRefused, match="Only the chair"):
        services.reopen(panel, experts[1], "方案已修订")
    with pytest.raises(PanelRefused, match="Say why"):
        services.reopen(panel, reviewer, "  ")
    assert panel.closed

    reopening = services.reopen(panel, reviewer, " 方案已修订 ")
    assert not panel.closed
    assert (reopening.by, reopening.reason, reopening.closed_at) == (reviewer, "方案已修订", closed_at)
    assert panel.reopenings == [reopening]
    told = db.session.scalars(select(OutboxMessage).where(OutboxMessage.kind == "panel_reopened")).all()
    assert sorted(m.to_address for m in told) == sorted(m.user.email for m in panel.members)
    assert first.submission is None
    assert second.submission is None
    assert {s.value for s in services.scores_by(first, services.schemes_of(panel)[0]).values()} == {5}
    entry = db.session.scalars(select(AuditEntry).where(AuditEntry.action == "experts.panel_reopened")).one()
    assert json.loads(entry.detail)["submissions_withdrawn"] == sorted([first.id, second.id])
    with pytest.raises(PanelRefused, match="The panel is open"):
        services.reopen(panel, reviewer, "again")

    # independence: nobody sees the others' new scores before submitting again
    assert not services.may_see_results(panel, first.user)
    assert not services.may_see_results(panel, second.user)
    score_all(panel, first, {"A": (9, 9), "B": (6, 6)})  # changes scheme A, submits again
    assert services.may_see_results(panel, first.user)
    assert not services.may_see_results(panel, second.user)
    assert services.counted_members(panel) == [first]  # the second's scores stay hidden meanwhile
    services.close(panel, experts[0])
    # scheme A: (9 + 7) / 2 = 8 on both criteria → 80 (it was (5 + 7) / 2 = 6 → 60)
    assert services.results(panel).by_scheme[services.schemes_of(panel)[0].id].total == Fraction(80)


def test_a_panel_is_not_reopened_once_the_round_publishes_its_answers_again(
    panel, experts, reviewer, english_messages
) -> None:
    from consult.rounds.rules import RoundState

    closed_at = utcnow() - timedelta(days=2)
    services.close(panel, experts[0], closed_at)
    reopen_round(panel.round, closed_at + timedelta(days=1))
    panel.round.state = RoundState.CLOSED  # the revision is being written: still in time
    assert services.may_reopen(panel)
    panel.round.state = RoundState.NOTICE  # the answers are out again
    assert not services.may_reopen(panel)
    with pytest.raises(PanelRefused, match="reopened only while"):
        services.reopen(panel, experts[0], "方案已修订")


def test_the_opinion_is_written_after_the_close_until_the_answers_are_published(
    panel, experts, english_messages
) -> None:
    from consult.rounds.rules import RoundState

    scheme = schemes_of(panel.round)[0]
    services.close(panel, experts[0])
    services.write_opinion(panel, scheme, experts[0], Verdict.RECOMMEND)  # once the results are known
    panel.round.state = RoundState.NOTICE
    with pytest.raises(PanelRefused, match="answers are published"):
        services.write_opinion(panel, scheme, experts[0], Verdict.DO_NOT_RECOMMEND)
    assert services.opinion_on(panel, scheme).verdict is Verdict.RECOMMEND


def test_round_twos_answers_wait_for_the_panel_to_close(panel, experts) -> None:
    """The answers (round 2 "down") show the panel's result: they are not published while it scores."""
    from flask_babel import force_locale

    from consult.rounds.rules import Action
    from consult.rounds.rules import RoundState
    from consult.rounds.rules import TransitionRefused
    from consult.rounds.services import apply
    from consult.schemes.services import publish_blocker

    round_ = panel.round
    from consult.rounds.services import rounds_of

    for earlier in rounds_of(round_.compound):
        if earlier.number < round_.number:
            earlier.state = RoundState.DONE
    round_.state = RoundState.CLOSED
    db.session.commit()
    with force_locale("en"):
        assert "The expert panel is still scoring" in str(publish_blocker(round_))
    with pytest.raises(TransitionRefused):
        apply(round_, Action.PUBLISH, "user:1", utcnow())
    db.session.rollback()
    services.close(panel, experts[0])
    assert publish_blocker(round_) is None
    apply(round_, Action.PUBLISH, "user:1", utcnow())
    assert round_.state in (RoundState.NOTICE, RoundState.DONE)
