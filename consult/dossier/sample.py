"""A consultation with content in its rounds, run through the services with simulated times: for the
demo data, the dossier's tests, its browser journey and ``bench/dossier.py``.

From a compound with a roster: cards for everyone; round 1 with a survey answered by most households
and a decision on every top need; round 2 with two schemes, comments answered, a revision of scheme A and
an expert panel's scores and opinion; round 3 with the standard questions, voted by most owners (the
plan passes), closed. ``until`` stops it at an earlier stage (a round still taking answers) or takes it
on to the result notice, the consensus record and the district's approval. Reproducible for a given seed.
"""

from __future__ import annotations

import enum
import random
from collections.abc import Callable
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import datetime
from datetime import timedelta
from decimal import Decimal

from consult.auth.models import User
from consult.compounds.models import Compound
from consult.compounds.models import OwnerKind
from consult.extensions import db
from consult.residents.services import IssuedCard
from consult.residents.services import acknowledge_privacy
from consult.residents.services import card_people
from consult.residents.services import issue_cards
from consult.rounds.models import Round
from consult.rounds.rules import Action
from consult.rounds.services import apply
from consult.rounds.services import plan_default_rounds

NEEDS = ("B01", "B02", "B03", "I01", "I02", "I03", "E01")
COMMENTS = (
    "希望保留院子里的老黄葛树。",
    "停车位请优先考虑老人和残疾人。",
    "屋面防水要保证十年不漏。",
    "晾衣区请不要挡住一楼的采光。",
    "Please keep the bicycle shed near the gate.",
)


class Stage(enum.IntEnum):
    """How far a sample consultation goes; each stage holds everything before it. The times are set
    from ``start``: a stage whose round takes answers needs that round open now (see ``DAYS_BEFORE``)."""

    NEEDS_OPEN = 1  # round 1 takes answers
    NEEDS_NOTICE = 2  # round 1's needs list is published, in its notice period
    SCHEMES_OPEN = 3  # round 2 takes comments; the panel scores, its chair has not yet
    VOTE_OPEN = 4  # round 2's answers are out; the vote takes ballots
    VOTE_CLOSED = 5  # the vote has closed
    RESULT_NOTICE = 6  # its result notice is published
    SUBMITTED = 7  # the consensus record's first version awaits the district review
    APPROVED = 8  # the district review approved it


#: how many days before now a consultation must start for each stage to be where it says now: the
#: default rounds last 14 days with 7 days of notice and a week to prepare the next one
DAYS_BEFORE: dict[Stage, int] = {
    Stage.NEEDS_OPEN: 5,
    Stage.NEEDS_NOTICE: 18,
    Stage.SCHEMES_OPEN: 35,
    Stage.VOTE_OPEN: 60,
    Stage.VOTE_CLOSED: 71,
    Stage.RESULT_NOTICE: 73,
    Stage.SUBMITTED: 75,
    Stage.APPROVED: 100,
}

#: the funding a sample record states (subsidy per household, residents' share, maintenance fund per m²)
FUNDING = (Decimal("1200.00"), Decimal("30"), Decimal("2.50"))


@dataclass
class Consultation:
    compound: Compound
    rounds: list[Round]
    #: everyone's card, as printed (the demo shows a few residents' links)
    cards: list[IssuedCard] = field(default_factory=list)
    #: the cards of the households that take part
    taking_part: list[IssuedCard] = field(default_factory=list)


def run_consultation(
    compound: Compound,
    start: datetime,
    worker: User,
    reviewer: User,
    experts: Sequence[User],
    *,
    seed: int = 7,
    turnout: float = 0.9,
    yes_share: float = 0.92,
    until: Stage = Stage.VOTE_CLOSED,
    drawing: Callable[[str], bytes] | None = None,
) -> Consultation:
    """Run the rounds from ``start`` (in the past) up to ``until``; flushes, the caller commits. In the
    vote, each owner taking part answers yes with the chance ``yes_share`` (else no or abstain).
    ``drawing``: a PNG for each scheme, by its label, published with it (stored in ``UPLOAD_FOLDER``)."""
    from consult.dossier import services as dossier
    from consult.experts import services as panels
    from consult.schemes import services as schemes
    from consult.surveys import services as surveys
    from consult.surveys.rules import AnswerValues
    from consult.surveys.rules import Decision
    from consult.voting import services as voting

    rng = random.Random(seed)  # noqa: S311  reproducible invented answers, not secrets
    actor = f"user:{worker.id}"
    needs, scheme_round, vote = plan_default_rounds(compound, start, actor)
    cards = issue_cards(card_people(compound), compound, actor, start)
    taking_part = [c for c in cards if rng.random() < turnout]
    for card in taking_part:
        acknowledge_privacy(card.invitation, start)
    done = Consultation(compound, [needs, scheme_round, vote], cards, taking_part)

    def hour(round_: Round, hours: int) -> datetime:
        assert round_.opens_at is not None
        return round_.opens_at + timedelta(hours=hours)

    def close(round_: Round) -> None:
        assert round_.closes_at is not None
        apply(round_, Action.CLOSE, actor, round_.closes_at)

    # round 1: the needs survey
    survey = surveys.create_survey(needs, actor, start)
    apply(needs, Action.OPEN, actor, hour(needs, 1))
    codes = [item.code for item in survey.items]
    hazard = next((item.code for item in survey.items if item.category.value == "safety"), None)
    for card in taking_part:
        picked = tuple(rng.sample([c for c in NEEDS if c in codes], 3))
        values = AnswerValues(
            willingness=rng.choice(("yes", "yes", "yes", "unsure", "no")),
            needs=picked,
            hazards=(hazard,) if hazard and rng.random() < 0.1 else (),
        )
        surveys.submit_answer(survey, card.invitation, values, hour(needs, 2))
    if until is Stage.NEEDS_OPEN:
        return done
    close(needs)
    for code in surveys.top_needs(survey):
        surveys.record_decision(survey, code, Decision.IN_SCHEME, "", actor, needs.closes_at)
    apply(needs, Action.PUBLISH, actor, needs.closes_at + timedelta(days=1))
    if until is Stage.NEEDS_NOTICE:
        return done
    apply(needs, Action.FINISH, actor, needs.notice_ends_at)

    # round 2: two schemes, comments and answers, a revision, the expert panel; the schemes are drafted
    # as round 1 ends, before round 2 opens, and their first versions carry that moment
    assert needs.notice_ends_at is not None
    drafted = needs.notice_ends_at
    a = schemes.add_scheme(scheme_round, "保留院落格局", actor, "在围墙边增加停车位，屋面防水重做")
    b = schemes.add_scheme(scheme_round, "集中停车", actor, "拆除自建棚，集中停车")
    for scheme in (a, b):
        scheme.created_at = drafted
        scheme.first.created_at = drafted
    items = [
        schemes.add_item(a.first, "屋面防水重做", "全部楼栋", actor),
        schemes.add_item(a.first, "增加停车位", "沿围墙", actor),
        schemes.add_item(b.first, "集中停车场", "北侧空地", actor),
    ]
    if drawing is not None:
        for scheme in (a, b):
            png = drawing(scheme.label)
            schemes.add_document(scheme.first, png, f"site-plan-{scheme.label}.png", actor, drafted)
    if scheme_round.opens_at and scheme_round.opens_at < drafted:
        scheme_round.opens_at = drafted + timedelta(hours=1)
        scheme_round.closes_at = scheme_round.opens_at + timedelta(days=14)
    apply(scheme_round, Action.OPEN, actor, hour(scheme_round, 1))
    commented = []
    for card in taking_part[: max(3, len(taking_part) // 10)]:
        commented.append(
            schemes.add_comment(
                card.invitation, rng.choice(items), rng.choice(COMMENTS), hour(scheme_round, 3)
            )
        )
        schemes.state_preference(card.invitation, rng.choice((a, a, b)), hour(scheme_round, 3))
    panel = panels.form_panel(scheme_round, experts[0], list(experts), reviewer)
    for member in panel.members:
        if until is Stage.SCHEMES_OPEN and member.user_id == experts[0].id:
            continue  # the chair has yet to score
        for scheme in (a, b):
            panels.declare(member, scheme, False)
            entries = {c.id: (rng.randint(6, 10), "") for c in panel.criteria}
            panels.save_scores(member, scheme, entries)
        panels.submit(member, hour(scheme_round, 48))
    if until is Stage.SCHEMES_OPEN:
        return done
    close(scheme_round)
    answered_at = scheme_round.closes_at
    schemes.revise(a, actor, answered_at, "按居民意见调整停车位与晾衣区")
    schemes.revise(b, actor, answered_at, "保留消防通道")
    for n, comment in enumerate(commented):
        outcome = ("adopted", "partly", "not_adopted")[n % 3]
        reason = ("已纳入修订方案。", "部分采纳，受场地限制。", "不采纳：与消防通道冲突。")[n % 3]
        schemes.answer_comment(comment, outcome, reason, worker, answered_at)
    panels.close(panel, reviewer, answered_at)
    panels.write_opinion(panel, a, experts[0], panels.rules.Verdict.RECOMMEND)
    panels.write_opinion(panel, b, experts[0], panels.rules.Verdict.RECOMMEND_WITH_CHANGES, "保留消防通道")
    apply(scheme_round, Action.PUBLISH, actor, answered_at + timedelta(days=1))
    apply(scheme_round, Action.FINISH, actor, scheme_round.notice_ends_at)

    # round 3: the vote
    if vote.opens_at and vote.opens_at < scheme_round.notice_ends_at:
        vote.opens_at = scheme_round.notice_ends_at + timedelta(hours=1)
        vote.closes_at = vote.opens_at + timedelta(days=14)
    voting.add_standard_questions(vote, actor, hour(vote, -1))
    apply(vote, Action.OPEN, actor, hour(vote, 1))
    db.session.flush()
    voters = [
        card
        for card in taking_part
        if card.invitation.owner is not None and card.invitation.owner.kind is not OwnerKind.DEVELOPER
    ]
    for n, card in enumerate(voters):
        owner = card.invitation.owner
        assert owner is not None
        choices = {}
        for question in voting.owner_questions(vote, owner.id):
            if question.kind.value == "choice":
                choices[question.id] = "self_management" if n % 6 == 5 else "company"
            else:
                choices[question.id] = "yes" if rng.random() < yes_share else rng.choice(("no", "abstain"))
        voting.cast_online(vote, card.invitation, choices, hour(vote, 5))
    if until is Stage.VOTE_OPEN:
        db.session.flush()
        return done
    close(vote)
    assert vote.closes_at is not None
    if until >= Stage.RESULT_NOTICE:
        apply(vote, Action.PUBLISH, actor, vote.closes_at + timedelta(days=1))
    if until >= Stage.SUBMITTED:
        funding = dossier.Funding(*FUNDING, "")
        record = dossier.submit_record(compound, funding, actor, vote.closes_at + timedelta(days=2))
    if until >= Stage.APPROVED:
        assert vote.notice_ends_at is not None
        apply(vote, Action.FINISH, actor, vote.notice_ends_at)
        dossier.approve(record, f"user:{reviewer.id}", vote.notice_ends_at + timedelta(days=2))
    db.session.flush()
    return done
