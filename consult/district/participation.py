"""Participation of many rounds at once, as the round engine counts it, in a fixed number of queries.

The engine (``consult.rounds.services.participation``) answers for one round: the dwellings that
answered it (the hook of the area that owns the round's content) among the dwellings someone can answer
for (a known owner or an occupant). The district asks the same of every open and closed round.

Each area's hook gets a *bulk* twin here, a query of ``(round_id, dwelling_id)`` for many rounds, used
only while the engine runs that very hook (it is looked up by the hook's qualified name), so a test or an
area that plugs in another hook is still counted exactly, round by round, through the engine. An area may
register its own twin with :func:`register_bulk_answered`; the district tests check each twin against its
hook.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from collections.abc import Mapping
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from sqlalchemy import Select
from sqlalchemy import case
from sqlalchemy import exists
from sqlalchemy import func
from sqlalchemy import or_
from sqlalchemy import select
from sqlalchemy import tuple_
from sqlalchemy import union

from consult.compounds.models import Building
from consult.compounds.models import Dwelling
from consult.compounds.models import Occupant
from consult.compounds.models import StairUnit
from consult.extensions import db
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.services import CONTENT
from consult.rounds.services import participation

#: round ids → a query of (round_id, dwelling_id): the dwellings that answered each round
AnsweredQuery = Callable[[Sequence[int]], Select[Any]]

#: the engine hook's qualified name → its bulk twin
BULK_ANSWERED: dict[str, AnsweredQuery] = {}

#: Approval of vote rounds, once the voting area offers it: round ids → approving share (by count) of the
#: round's voters. None until registered; the dashboard then shows no approval.
ApprovalOf = Callable[[Sequence[int]], dict[int, Fraction]]
APPROVAL: dict[str, ApprovalOf] = {}


#: the qualified name of a kind's own eligibility hook (``RoundContent.eligible``) → its bulk twin, a
#: query of (round_id, dwelling_id): the dwellings whose household may answer each round
BULK_ELIGIBLE: dict[str, AnsweredQuery] = {}


def register_bulk_eligible(hook: Callable[..., Any] | str, query: AnsweredQuery) -> None:
    """Give the eligibility hook ``hook`` (or its qualified name) a bulk twin."""
    BULK_ELIGIBLE[hook if isinstance(hook, str) else qualified_name(hook)] = query


def register_bulk_answered(hook: Callable[..., Any] | str, query: AnsweredQuery) -> None:
    """Give the engine hook ``hook`` (or its qualified name) a bulk twin."""
    BULK_ANSWERED[hook if isinstance(hook, str) else qualified_name(hook)] = query


def register_approval(approval_of: ApprovalOf) -> None:
    """The hook for the voting area: how much of each vote round approved (see ``APPROVAL``)."""
    APPROVAL["vote"] = approval_of


def approval(round_ids: Sequence[int]) -> dict[int, Fraction] | None:
    hook = APPROVAL.get("vote")
    if hook is None or not round_ids:
        return None
    return hook(round_ids)


def qualified_name(function: Callable[..., Any]) -> str:
    return f"{getattr(function, '__module__', '')}.{getattr(function, '__qualname__', repr(function))}"


def eligible_dwelling(dwelling_id: Any) -> Any:
    """The engine's eligibility (``eligible_dwellings``): a known owner, or an occupant."""
    has_occupant = exists().where(Occupant.dwelling_id == dwelling_id)
    return or_(Dwelling.owner_id.is_not(None), has_occupant)


def _answered_counts(query: Select[Any]) -> dict[int, int]:
    """Count the answered dwellings of each round that are eligible and belong to its compound."""
    answers = query.subquery()
    rows = db.session.execute(
        select(answers.c.round_id, func.count(func.distinct(answers.c.dwelling_id)))
        .join(Round, Round.id == answers.c.round_id)
        .join(Dwelling, Dwelling.id == answers.c.dwelling_id)
        .join(StairUnit, StairUnit.id == Dwelling.unit_id)
        .join(Building, Building.id == StairUnit.building_id)
        .where(Building.compound_id == Round.compound_id, eligible_dwelling(Dwelling.id))
        .group_by(answers.c.round_id)
    ).all()
    return dict(rows)  # type: ignore[arg-type]


def _counts_among(
    answered: Select[Any], eligible: Select[Any], round_ids: Sequence[int]
) -> dict[int, tuple[int, int]]:
    """(answered, eligible) of each round, the answered counted among that round's eligible dwellings:
    one query for all the rounds (an eligible dwelling counts as answered when its pair is among the
    answered pairs)."""
    may = eligible.subquery()
    did = answered.subquery()
    among = tuple_(may.c.round_id, may.c.dwelling_id).in_(select(did.c.round_id, did.c.dwelling_id))
    rows = db.session.execute(
        select(
            may.c.round_id,
            func.count(func.distinct(case((among, may.c.dwelling_id)))),
            func.count(func.distinct(may.c.dwelling_id)),
        ).group_by(may.c.round_id)
    ).all()
    counts = {round_id: (did_count, may_count) for round_id, did_count, may_count in rows}
    return {r: counts.get(r, (0, 0)) for r in round_ids}


def participation_of(
    rounds: Sequence[tuple[int, int, RoundKind]], eligible: Mapping[int, int] | None = None
) -> dict[int, tuple[int, int]]:
    """(answered, eligible) of each round, given as (round id, compound id, kind).

    One query for eligibility (``roster_figures``; none when ``eligible``, each compound's count, is at
    hand) and one per kind of round, whatever the number of rounds, while every kind's engine hook has a
    bulk twin. A kind with its own eligibility (the vote: owners only, in the scope of its questions)
    needs a twin of that hook too (``BULK_ELIGIBLE``; counted in the kind's one query); a hook without
    its twin is asked round by round through the engine.
    """
    if not rounds:
        return {}
    if eligible is None:
        from consult.district.services import roster_figures  # the district's roster, counted once

        figures = roster_figures(sorted({cid for __, cid, __kind in rounds}))
        eligible = {cid: f.eligible for cid, f in figures.items()}
    answered: dict[int, int] = {}
    by_kind: dict[RoundKind, list[int]] = defaultdict(list)
    for round_id, __, kind in rounds:
        by_kind[kind].append(round_id)
    result: dict[int, tuple[int, int]] = {}
    for kind, round_ids in by_kind.items():
        hook = CONTENT[kind].answered
        if hook is None:
            continue  # no content plugged in: nobody can have answered
        bulk = BULK_ANSWERED.get(qualified_name(hook))
        own = CONTENT[kind].eligible
        if bulk is not None and own is None:
            answered |= _answered_counts(bulk(round_ids))
            continue
        bulk_eligible = BULK_ELIGIBLE.get(qualified_name(own)) if own is not None else None
        if bulk is not None and bulk_eligible is not None:
            result |= _counts_among(bulk(round_ids), bulk_eligible(round_ids), round_ids)
            continue
        for round_ in db.session.scalars(select(Round).where(Round.id.in_(round_ids))):
            counted = participation(round_)
            result[round_.id] = (counted.answered, counted.eligible)
    for round_id, compound_id, __ in rounds:
        result.setdefault(round_id, (answered.get(round_id, 0), eligible.get(compound_id, 0)))
    return result


# --- the bulk twins of the areas' hooks (imported lazily: the area is loaded once its hook is plugged in)


def survey_answers(round_ids: Sequence[int]) -> Select[Any]:
    """Twin of ``consult.surveys.services.answered_dwellings``: a current answer to the round's survey."""
    from consult.surveys.models import Survey
    from consult.surveys.models import SurveyAnswer

    return (
        select(Survey.round_id.label("round_id"), SurveyAnswer.dwelling_id.label("dwelling_id"))
        .join(Survey, Survey.id == SurveyAnswer.survey_id)
        .where(Survey.round_id.in_(round_ids), SurveyAnswer.superseded_at.is_(None))
    )


def scheme_answers(round_ids: Sequence[int]) -> Select[Any]:
    """Twin of ``consult.schemes.services.answered_dwellings``: a preference stated for the dwelling, or
    a comment by its owner or one of its occupants."""
    from consult.schemes.models import SchemeComment
    from consult.schemes.models import SchemePreference

    preferred = select(
        SchemePreference.round_id.label("round_id"), SchemePreference.dwelling_id.label("dwelling_id")
    ).where(SchemePreference.round_id.in_(round_ids))
    by_owners = (
        select(SchemeComment.round_id.label("round_id"), Dwelling.id.label("dwelling_id"))
        .join(Dwelling, Dwelling.owner_id == SchemeComment.owner_id)
        .where(SchemeComment.round_id.in_(round_ids))
    )
    by_occupants = (
        select(SchemeComment.round_id.label("round_id"), Occupant.dwelling_id.label("dwelling_id"))
        .join(Occupant, Occupant.id == SchemeComment.occupant_id)
        .where(SchemeComment.round_id.in_(round_ids))
    )
    both = union(preferred, by_owners, by_occupants).subquery()
    return select(both.c.round_id, both.c.dwelling_id)


def vote_answers(round_ids: Sequence[int]) -> Select[Any]:
    """Twin of ``consult.voting.services.answered_dwellings``: the dwellings of an owner with a ballot
    counting in the round."""
    from consult.voting.models import Ballot

    voted = (
        select(Ballot.round_id.label("round_id"), Ballot.owner_id.label("owner_id"))
        .where(Ballot.round_id.in_(round_ids), Ballot.active.is_(True))
        .distinct()
        .subquery()
    )
    return select(voted.c.round_id, Dwelling.id.label("dwelling_id")).join(
        Dwelling, Dwelling.owner_id == voted.c.owner_id
    )


def vote_eligible(round_ids: Sequence[int]) -> Select[Any]:
    """Twin of ``consult.voting.services.eligible_dwellings``: the dwellings with a known owner in the
    scope of one of the round's questions at least (the compound, a building or a stairwell unit).

    The questions are first reduced to the scopes they name (a round's many compound-wide questions are
    one scope), and each kind of scope reaches its dwellings by its own join."""
    from consult.voting.counting import Scope
    from consult.voting.models import VoteQuestion

    scopes = (
        select(VoteQuestion.round_id, VoteQuestion.scope, VoteQuestion.building_id, VoteQuestion.unit_id)
        .where(VoteQuestion.round_id.in_(round_ids))
        .distinct()
        .subquery()
    )
    known = Dwelling.owner_id.is_not(None)
    whole = (
        select(scopes.c.round_id.label("round_id"), Dwelling.id.label("dwelling_id"))
        .join(Round, Round.id == scopes.c.round_id)
        .join(Building, Building.compound_id == Round.compound_id)
        .join(StairUnit, StairUnit.building_id == Building.id)
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(scopes.c.scope == Scope.COMPOUND, known)
    )
    buildings = (
        select(scopes.c.round_id, Dwelling.id)
        .join(Round, Round.id == scopes.c.round_id)
        .join(Building, (Building.id == scopes.c.building_id) & (Building.compound_id == Round.compound_id))
        .join(StairUnit, StairUnit.building_id == Building.id)
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(scopes.c.scope == Scope.BUILDING, known)
    )
    units = (
        select(scopes.c.round_id, Dwelling.id)
        .join(Round, Round.id == scopes.c.round_id)
        .join(StairUnit, StairUnit.id == scopes.c.unit_id)
        .join(Building, (Building.id == StairUnit.building_id) & (Building.compound_id == Round.compound_id))
        .join(Dwelling, Dwelling.unit_id == StairUnit.id)
        .where(scopes.c.scope == Scope.UNIT, known)
    )
    every = union(whole, buildings, units).subquery()
    return select(every.c.round_id, every.c.dwelling_id)


register_bulk_answered("consult.surveys.services.answered_dwellings", survey_answers)
register_bulk_answered("consult.schemes.services.answered_dwellings", scheme_answers)
register_bulk_answered("consult.voting.services.answered_dwellings", vote_answers)
register_bulk_eligible("consult.voting.services.eligible_dwellings", vote_eligible)
