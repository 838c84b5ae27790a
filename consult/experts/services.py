"""Expert panels: forming one, the rubric, declarations, scores, submission, closing, the chair's
opinion and the results. Services flush; the request commits."""

from __future__ import annotations

from collections.abc import Iterable
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult.audit.services import record
from consult.auth.models import Role
from consult.auth.models import User
from consult.db import utcnow
from consult.errors import ConsultError
from consult.errors import NotFound
from consult.experts import rules
from consult.experts.models import ConflictDeclaration
from consult.experts.models import Criterion
from consult.experts.models import Panel
from consult.experts.models import PanelMember
from consult.experts.models import PanelOpinion
from consult.experts.models import PanelRemark
from consult.experts.models import PanelReopening
from consult.experts.models import Score
from consult.experts.models import Submission
from consult.experts.rules import Aggregation
from consult.experts.rules import CriterionSpec
from consult.experts.rules import Verdict
from consult.extensions import db
from consult.notify.services import enqueue_to
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import Action
from consult.rounds.rules import RoundKind
from consult.schemes.models import Scheme

#: who forms panels and sees every panel's results
OVERSEERS = (Role.REVIEWER, Role.ADMIN)


class PanelRefused(ConsultError):
    """A panel action broke a rule; the message says which."""


def actor_of(user: User) -> str:
    return f"user:{user.id}"


def form_panel(
    round_: Round,
    chair: User,
    experts: Sequence[User],
    by: User,
    *,
    aggregation: Aggregation = Aggregation.MEAN,
    resident_representatives: Sequence[User] = (),
    path: str = "",
) -> Panel:
    """A district reviewer or admin forms a panel of expert accounts on a scheme round, with the
    default rubric; each member is invited."""
    if by.role not in OVERSEERS:
        raise PanelRefused(_l("Only a district reviewer or an admin can form a panel."))
    if round_.kind is not RoundKind.SCHEME:
        raise PanelRefused(_l("Panels score the schemes of a scheme round."))
    if not experts or any(u.role is not Role.EXPERT for u in experts):
        raise PanelRefused(_l("Panel members must be expert accounts."))
    if chair not in experts:
        raise PanelRefused(_l("The chair must be a member of the panel."))
    if panel_of(round_) is not None:
        raise PanelRefused(_l("This round already has a panel."))
    panel = Panel(round_id=round_.id, chair=chair, aggregation=aggregation, created_by=actor_of(by))
    seen: set[int] = set()
    for user in experts:
        if user.id not in seen:
            seen.add(user.id)
            panel.members.append(PanelMember(user=user))
    for user in resident_representatives:
        if user.id not in seen:
            seen.add(user.id)
            panel.members.append(PanelMember(user=user, is_resident_representative=True, scores=False))
    for position, spec in enumerate(rules.DEFAULT_RUBRIC):
        panel.criteria.append(_criterion(spec, position))
    db.session.add(panel)
    db.session.flush()
    compound = round_.compound
    for member in panel.members:
        enqueue_to(
            member.user,
            "panel_invitation",
            {"compound": compound.name, "panel": panel.id, "path": path or f"/experts/panels/{panel.id}"},
            dedupe_key=f"panel_invitation:{panel.id}:{member.user_id}",
        )
    record(actor_of(by), "experts.panel_formed", compound.id, panel=panel.id, members=sorted(seen))
    return panel


def _criterion(spec: CriterionSpec, position: int) -> Criterion:
    return Criterion(
        key=spec.key,
        name_zh=spec.name_zh,
        name_en=spec.name_en,
        weight=spec.weight,
        scale=spec.scale,
        position=position,
    )


def specs_of(panel: Panel) -> list[CriterionSpec]:
    return [CriterionSpec(c.key, c.name_zh, c.name_en, c.weight, c.scale) for c in panel.criteria]


def set_rubric(panel: Panel, specs: Iterable[CriterionSpec], by: User) -> None:
    """Replace the rubric, until it is frozen."""
    if panel.rubric_frozen:
        raise PanelRefused(_l("The rubric is frozen."))
    specs = list(specs)
    try:
        rules.check_rubric(specs)
    except rules.RubricInvalid as error:
        raise PanelRefused(
            _l("The rubric is not valid: the weights must be positive and sum to 100.")
        ) from error
    panel.criteria.clear()
    db.session.flush()
    for position, spec in enumerate(specs):
        panel.criteria.append(_criterion(spec, position))
    db.session.flush()
    record(actor_of(by), "experts.rubric_set", panel.round.compound_id, panel=panel.id)


def freeze_rubric(panel: Panel, by: User) -> None:
    if not panel.rubric_frozen:
        panel.rubric_frozen = True
        db.session.flush()
        record(actor_of(by), "experts.rubric_frozen", panel.round.compound_id, panel=panel.id)


def grant_score(member: PanelMember, by: User, scores: bool = True) -> None:
    """The panel grants a residents' representative a score (or takes it back, before they have scored
    anything). Only the chair or a district reviewer or admin, while the panel is open."""
    panel = member.panel
    if not manages(by, panel):
        raise PanelRefused(_l("Only the chair or a district reviewer can change who scores."))
    if panel.closed:
        raise PanelRefused(_l("The panel is closed."))
    if not member.is_resident_representative:
        raise PanelRefused(_l("Experts always score."))
    if member.submission is not None:
        raise PanelRefused(_l("This member has submitted their scores."))
    if not scores and db.session.scalars(select(Score).where(Score.member_id == member.id)).first():
        raise PanelRefused(_l("This member has already scored."))
    member.scores = scores
    db.session.flush()
    record(
        actor_of(by),
        "experts.score_granted" if scores else "experts.score_withdrawn",
        panel.round.compound_id,
        panel=panel.id,
        member=member.id,
    )


def remark_of(member: PanelMember, scheme: Scheme) -> PanelRemark | None:
    return db.session.scalars(
        select(PanelRemark).where(PanelRemark.member_id == member.id, PanelRemark.scheme_id == scheme.id)
    ).first()


def save_remark(member: PanelMember, scheme: Scheme, body: str) -> PanelRemark | None:
    """A member's say on a scheme (a residents' representative's way to be heard without a score).
    An empty body removes the remark. Until the panel closes; never on a scheme the member declared a
    conflict of interest on (they stand aside from it)."""
    if member.panel.closed:
        raise PanelRefused(_l("The panel is closed."))
    row = remark_of(member, scheme)
    body = body.strip()
    conflict = declaration(member, scheme)
    if body and conflict is not None and conflict.declared:
        raise PanelRefused(_l("You declared a conflict of interest on this scheme: you stand aside from it."))
    if not body:
        if row is not None:
            db.session.delete(row)
    else:
        if row is None:
            row = PanelRemark(member=member, scheme=scheme, body=body)
            db.session.add(row)
        row.body = body
        row.at = utcnow()
    db.session.flush()
    record(
        actor_of(member.user),
        "experts.remark",
        member.panel.round.compound_id,
        panel=member.panel_id,
        scheme=scheme.id,
        removed=not body,
    )
    return row if body else None


def remarks_on(panel: Panel) -> dict[int, list[PanelRemark]]:
    """The members' remarks, by scheme id."""
    out: dict[int, list[PanelRemark]] = {}
    rows = db.session.scalars(
        select(PanelRemark)
        .join(PanelMember)
        .where(PanelMember.panel_id == panel.id)
        .order_by(PanelRemark.scheme_id, PanelRemark.id)
    )
    for row in rows:
        out.setdefault(row.scheme_id, []).append(row)
    return out


def panel_of(round_: Round) -> Panel | None:
    """The round's panel, if one is formed."""
    return db.session.scalars(select(Panel).where(Panel.round_id == round_.id)).first()


def manages(user: User, panel: Panel) -> bool:
    """Whether the user runs the panel: its chair, or a district reviewer or admin."""
    return user.role in OVERSEERS or panel.chair_id == user.id


def sits_on(user: User, round_: Round) -> bool:
    """Whether the user is a member of the round's panel (experts may then read its scheme documents)."""
    if not user.is_authenticated or user.role is not Role.EXPERT:
        return False
    panel = panel_of(round_)
    return panel is not None and member_of(panel, user) is not None


def panels_for(user: User) -> list[Panel]:
    """The panels this user is on (overseers: every panel)."""
    query = select(Panel).order_by(Panel.id)
    if user.role not in OVERSEERS:
        query = query.join(PanelMember).where(PanelMember.user_id == user.id)
    return list(db.session.scalars(query))


def member_of(panel: Panel, user: User) -> PanelMember | None:
    return next((m for m in panel.members if m.user_id == user.id), None)


def get_panel_for(user: User, panel_id: int) -> Panel:
    """The panel, if this user is on it or oversees panels; otherwise NotFound."""
    panel = db.session.get(Panel, panel_id)
    if panel is None or (user.role not in OVERSEERS and member_of(panel, user) is None):
        raise NotFound("no such panel")
    return panel


def schemes_of(panel: Panel) -> list[Scheme]:
    return list(
        db.session.scalars(select(Scheme).where(Scheme.round_id == panel.round_id).order_by(Scheme.label))
    )


def scheme_of(panel: Panel, scheme_id: int) -> Scheme:
    scheme = db.session.get(Scheme, scheme_id)
    if scheme is None or scheme.round_id != panel.round_id:
        raise NotFound("no such scheme")
    return scheme


def declaration(member: PanelMember, scheme: Scheme) -> ConflictDeclaration | None:
    return db.session.scalars(
        select(ConflictDeclaration).where(
            ConflictDeclaration.member_id == member.id, ConflictDeclaration.scheme_id == scheme.id
        )
    ).first()


def _open_for(member: PanelMember) -> None:
    if member.panel.closed:
        raise PanelRefused(_l("The panel is closed."))
    if member.submission is not None:
        raise PanelRefused(_l("You have submitted your scores."))
    if not member.scores:
        raise PanelRefused(_l("You do not score on this panel."))


def declare(member: PanelMember, scheme: Scheme, declared: bool, reason: str = "") -> ConflictDeclaration:
    """Declare whether the member has a conflict of interest with the scheme. A declared conflict
    withdraws any scores they gave it."""
    _open_for(member)
    if declared and not reason.strip():
        raise PanelRefused(_l("Say what the conflict of interest is."))
    row = declaration(member, scheme)
    if row is None:
        row = ConflictDeclaration(member=member, scheme=scheme, declared=declared)
        db.session.add(row)
    row.declared = declared
    row.reason = reason.strip() if declared else ""
    row.at = utcnow()
    if declared:
        for score in _scores(member, scheme):
            db.session.delete(score)
    db.session.flush()
    record(
        actor_of(member.user),
        "experts.conflict_declared",
        member.panel.round.compound_id,
        panel=member.panel_id,
        scheme=scheme.id,
        declared=declared,
    )
    return row


def _scores(member: PanelMember, scheme: Scheme) -> list[Score]:
    return list(
        db.session.scalars(select(Score).where(Score.member_id == member.id, Score.scheme_id == scheme.id))
    )


def scores_by(member: PanelMember, scheme: Scheme) -> dict[int, Score]:
    """The member's own scores of a scheme, by criterion id."""
    return {s.criterion_id: s for s in _scores(member, scheme)}


def save_scores(member: PanelMember, scheme: Scheme, entries: dict[int, tuple[int, str]]) -> None:
    """Score a scheme: criterion id → (value, comment). Needs a declaration of no conflict first; the
    first score freezes the rubric."""
    _open_for(member)
    row = declaration(member, scheme)
    if row is None:
        raise PanelRefused(_l("Declare any conflict of interest before scoring."))
    if row.declared:
        raise PanelRefused(_l("You declared a conflict of interest with this scheme."))
    panel = member.panel
    criteria = {c.id: c for c in panel.criteria}
    for criterion_id, (value, _comment) in entries.items():
        criterion = criteria.get(criterion_id)
        if criterion is None:
            raise PanelRefused(_l("No such criterion."))
        if not rules.value_in_scale(value, criterion.scale):
            raise PanelRefused(_l("A score must be between 0 and the criterion's scale."))
    if not panel.rubric_frozen:
        freeze_rubric(panel, member.user)
    existing = scores_by(member, scheme)
    for criterion_id, (value, comment) in entries.items():
        score = existing.get(criterion_id)
        if score is None:
            score = Score(member=member, scheme_id=scheme.id, criterion_id=criterion_id)
            db.session.add(score)
        score.value = value
        score.comment = comment.strip()
        score.at = utcnow()
    db.session.flush()
    record(
        actor_of(member.user),
        "experts.scored",
        panel.round.compound_id,
        panel=panel.id,
        scheme=scheme.id,
        criteria=sorted(entries),
    )


def missing(member: PanelMember) -> list[Scheme]:
    """Schemes the member has not finished: undeclared, or without a score on every criterion."""
    panel = member.panel
    out = []
    for scheme in schemes_of(panel):
        row = declaration(member, scheme)
        if row is None or (not row.declared and len(scores_by(member, scheme)) < len(panel.criteria)):
            out.append(scheme)
    return out


def submit(member: PanelMember, now: datetime | None = None) -> Submission:
    _open_for(member)
    if missing(member):
        raise PanelRefused(_l("Declare and score every scheme before submitting."))
    member.submission = Submission(submitted_at=now or utcnow())
    db.session.flush()
    record(actor_of(member.user), "experts.submitted", member.panel.round.compound_id, panel=member.panel_id)
    return member.submission


def may_see_results(panel: Panel, user: User) -> bool:
    """Overseers always; a scoring member once they have submitted; everyone on the panel once it is
    closed (a residents' representative without a score too, so that one later granted a score has not
    seen the others')."""
    if user.role in OVERSEERS:
        return True
    member = member_of(panel, user)
    if member is None:
        return False
    return panel.closed or (member.scores and member.submission is not None)


def close(panel: Panel, by: User, now: datetime | None = None) -> None:
    """No more declarations, scores or remarks; results stand as they are (the chair may still write
    the opinion until the round's answers are published: ``write_opinion``)."""
    if not manages(by, panel):
        raise PanelRefused(_l("Only the chair or a district reviewer can close the panel."))
    if panel.closed:
        raise PanelRefused(_l("The panel is closed."))
    panel.closed_at = now or utcnow()
    panel.rubric_frozen = True
    db.session.flush()
    record(actor_of(by), "experts.panel_closed", panel.round.compound_id, panel=panel.id)


def round_reopened_at(round_: Round) -> datetime | None:
    """When the district review last reopened the round (None if it never did)."""
    return db.session.scalar(
        select(RoundEvent.at)
        .where(RoundEvent.round_id == round_.id, RoundEvent.action == Action.REOPEN.value)
        .order_by(RoundEvent.at.desc(), RoundEvent.id.desc())
        .limit(1)
    )


def may_reopen(panel: Panel) -> bool:
    """Whether the closed panel may open again now (see ``rules.may_reopen``)."""
    return rules.may_reopen(panel.closed_at, panel.round.state, round_reopened_at(panel.round))


def reopen(panel: Panel, by: User, reason: str, now: datetime | None = None) -> PanelReopening:
    """Open a closed panel again because the district review reopened its round: the members score the
    schemes as they are now. Every submission is withdrawn, so that each scoring member may change their
    scores and must submit again before seeing the others' (the scores stay as the starting point; the
    earlier figures stay in the record versions already frozen). Who, when and why is kept."""
    if not manages(by, panel):
        raise PanelRefused(_l("Only the chair or a district reviewer can reopen the panel."))
    if not panel.closed:
        raise PanelRefused(_l("The panel is open."))
    if not may_reopen(panel):
        raise PanelRefused(
            _l(
                "A closed panel is reopened only while its round, reopened by the district review since "
                "the panel closed, has not published its answers again."
            )
        )
    if not reason.strip():
        raise PanelRefused(_l("Say why the panel is reopened."))
    assert panel.closed_at is not None
    reopening = PanelReopening(
        panel=panel, by_id=by.id, at=now or utcnow(), reason=reason.strip(), closed_at=panel.closed_at
    )
    db.session.add(reopening)
    withdrawn = sorted(m.id for m in panel.members if m.submission is not None)
    for member in panel.members:
        member.submission = None
    panel.closed_at = None
    db.session.flush()
    for member in panel.members:
        if member.user_id != by.id:
            enqueue_to(
                member.user,
                "panel_reopened",
                {
                    "compound": panel.round.compound.name,
                    "panel": panel.id,
                    "reason": reopening.reason,
                    "path": f"/experts/panels/{panel.id}",
                },
                dedupe_key=f"panel_reopened:{reopening.id}:{member.user_id}",
            )
    record(
        actor_of(by),
        "experts.panel_reopened",
        panel.round.compound_id,
        panel=panel.id,
        reason=reopening.reason,
        submissions_withdrawn=withdrawn,
    )
    return reopening


def chair_stands_aside(panel: Panel, scheme: Scheme) -> bool:
    """Whether the chair declared a conflict of interest on the scheme."""
    chair = member_of(panel, panel.chair)
    conflict = declaration(chair, scheme) if chair is not None else None
    return conflict is not None and conflict.declared


def writes_opinion(panel: Panel, scheme: Scheme, user: User) -> bool:
    """Who writes the panel's opinion on a scheme: its chair; or, where the chair declared a conflict of
    interest on it and stands aside, a district reviewer or an administrator."""
    if chair_stands_aside(panel, scheme):
        return user.role in OVERSEERS
    return panel.chair_id == user.id


def write_opinion(
    panel: Panel, scheme: Scheme, by: User, verdict: Verdict, changes: str = ""
) -> PanelOpinion:
    """The panel's opinion on a scheme (``writes_opinion`` says whose pen), written or changed before or
    after the panel closes (once the results are known), until the round's answers are published."""
    if not writes_opinion(panel, scheme, by):
        if panel.chair_id == by.id:
            raise PanelRefused(
                _l("You declared a conflict of interest on this scheme: a district reviewer writes it.")
            )
        raise PanelRefused(_l("Only the chair writes the panel's opinion."))
    if not rules.may_write_opinion(panel.round.state):
        raise PanelRefused(_l("The round's answers are published: the panel's opinion can no longer change."))
    if verdict is Verdict.RECOMMEND_WITH_CHANGES and not changes.strip():
        raise PanelRefused(_l("List the changes required."))
    opinion = opinion_on(panel, scheme)
    if opinion is None:
        opinion = PanelOpinion(panel_id=panel.id, scheme_id=scheme.id, by_id=by.id, verdict=verdict)
        db.session.add(opinion)
    opinion.verdict = verdict
    opinion.required_changes = changes.strip()
    opinion.by_id = by.id
    opinion.at = utcnow()
    db.session.flush()
    record(
        actor_of(by),
        "experts.opinion",
        panel.round.compound_id,
        panel=panel.id,
        scheme=scheme.id,
        verdict=verdict,
    )
    return opinion


def opinion_on(panel: Panel, scheme: Scheme) -> PanelOpinion | None:
    return db.session.scalars(
        select(PanelOpinion).where(PanelOpinion.panel_id == panel.id, PanelOpinion.scheme_id == scheme.id)
    ).first()


@dataclass
class Results:
    panel: Panel
    schemes: list[Scheme]
    by_scheme: dict[int, rules.SchemeResult]
    places: list[rules.Place]
    threshold: Fraction
    #: members with scores that count (submitted, or everyone's once closed)
    counted: int


def counted_members(panel: Panel) -> list[PanelMember]:
    """Members whose scores count: those who score and have submitted (everyone who scores, once closed)."""
    return [m for m in panel.members if m.scores and (panel.closed or m.submission is not None)]


def _facts(panel: Panel, members: list[PanelMember]) -> tuple[list[rules.ScoreFact], list[tuple[int, int]]]:
    ids = [m.id for m in members]
    if not ids:
        return [], []
    keys = {c.id: c.key for c in panel.criteria}
    scores = db.session.scalars(select(Score).where(Score.member_id.in_(ids)))
    facts = [rules.ScoreFact(s.member_id, s.scheme_id, keys[s.criterion_id], s.value) for s in scores]
    conflicts = db.session.execute(
        select(ConflictDeclaration.member_id, ConflictDeclaration.scheme_id).where(
            ConflictDeclaration.member_id.in_(ids), ConflictDeclaration.declared.is_(True)
        )
    ).all()
    return facts, [(c[0], c[1]) for c in conflicts]


def results(panel: Panel, threshold: Fraction = rules.DEFAULT_THRESHOLD) -> Results:
    """Aggregated per the panel's setting. Until the panel closes only submitted scores count."""
    schemes = schemes_of(panel)
    members = counted_members(panel)
    facts, conflicts = _facts(panel, members)
    by_scheme = rules.aggregate(
        facts, specs_of(panel), [s.id for s in schemes], panel.aggregation, conflicts, threshold
    )
    places = rules.ranking({k: v.total for k, v in by_scheme.items()})
    return Results(panel, schemes, by_scheme, places, threshold, len({f.expert for f in facts}))


def expert_totals(panel: Panel) -> dict[int, dict[int, Fraction]]:
    """Each counted member's own weighted total per scheme: scheme id → member id → total (0–100)."""
    facts, conflicts = _facts(panel, counted_members(panel))
    return rules.expert_totals(facts, specs_of(panel), conflicts)


def panel_summary(round_: Round, threshold: Fraction = rules.DEFAULT_THRESHOLD) -> dict[str, Any] | None:
    """The panel's result on a scheme round in plain values, for the round 2 answer and the consensus
    record; None when the round has no panel. No expert is named. Shape::

        {
          "panel_id": int,
          "closed": bool,                  # False: the figures count only the scores submitted so far
          "closed_at": datetime | None,
          "method": "mean" | "trimmed_mean",   # the panel's aggregation setting
          "trim_minimum": 5,               # a trimmed mean applies per criterion from this many scores
          "threshold": Fraction,           # disagreement: standard deviation above this, 10-point scale
          "experts": int,                  # members with scores that count
          "criteria": [{"key": str, "name_zh": str, "name_en": str, "weight": int, "scale": int}],
          "schemes": [{                    # in label order
              "scheme_id": int, "label": str, "title": str,
              "total": Fraction | None,    # weighted, 0–100; None until every criterion has a score
              "rank": int | None, "tied": bool,
              "disagreement": bool,        # any criterion flagged
              "conflicts": int,            # counted members left out of this scheme for a conflict
              "criteria": {key: {"value": Fraction, "count": int,
                                 "method": "mean" | "trimmed_mean",   # the method actually used
                                 "variance": Fraction, "disagreement": bool}},
              "opinion": None | {"verdict": "recommend" | "with_changes" | "not_recommend",
                                 "required_changes": str, "at": datetime},
          }],
          "ranking": [{"rank": int, "scheme_ids": [int], "labels": [str], "tied": bool}],
        }
    """
    panel = panel_of(round_)
    if panel is None:
        return None
    outcome = results(panel, threshold)
    labels = {s.id: s.label for s in outcome.schemes}
    rank_of = {sid: place for place in outcome.places for sid in place.schemes}
    members = {m.id for m in counted_members(panel)}
    conflicted = db.session.execute(
        select(ConflictDeclaration.scheme_id).where(
            ConflictDeclaration.member_id.in_(members), ConflictDeclaration.declared.is_(True)
        )
    ).scalars()
    conflict_counts: dict[int, int] = {}
    for scheme_id in conflicted:
        conflict_counts[scheme_id] = conflict_counts.get(scheme_id, 0) + 1
    schemes = []
    for scheme in outcome.schemes:
        result = outcome.by_scheme[scheme.id]
        place = rank_of.get(scheme.id)
        opinion = opinion_on(panel, scheme)
        schemes.append(
            {
                "scheme_id": scheme.id,
                "label": scheme.label,
                "title": scheme.title,
                "total": result.total,
                "rank": place.rank if place else None,
                "tied": place.tied if place else False,
                "disagreement": result.disagreement,
                "conflicts": conflict_counts.get(scheme.id, 0),
                "criteria": {
                    key: {
                        "value": f.value,
                        "count": f.count,
                        "method": f.method.value,
                        "variance": f.variance,
                        "disagreement": f.disagreement,
                    }
                    for key, f in result.figures.items()
                },
                "opinion": None
                if opinion is None
                else {
                    "verdict": opinion.verdict.value,
                    "required_changes": opinion.required_changes,
                    "at": opinion.at,
                },
            }
        )
    return {
        "panel_id": panel.id,
        "closed": panel.closed,
        "closed_at": panel.closed_at,
        "method": panel.aggregation.value,
        "trim_minimum": rules.TRIM_MINIMUM,
        "threshold": outcome.threshold,
        "experts": outcome.counted,
        "criteria": [
            {"key": c.key, "name_zh": c.name_zh, "name_en": c.name_en, "weight": c.weight, "scale": c.scale}
            for c in panel.criteria
        ],
        "schemes": schemes,
        "ranking": [
            {
                "rank": place.rank,
                "scheme_ids": list(place.schemes),
                "labels": [labels[sid] for sid in place.schemes],
                "tied": place.tied,
            }
            for place in outcome.places
        ],
    }


def closed_summary(round_: Round) -> dict[str, Any] | None:
    """``panel_summary`` once the panel has closed (what residents and the public see); else None."""
    summary = panel_summary(round_)
    return summary if summary is not None and summary["closed"] else None
