"""Use-cases of the needs survey: making it, answering it, the needs list and the decisions on it, and the
engine hooks. Services flush; the view commits.

Answers are **one per dwelling**. An owner of several dwellings answers once, and the answer is saved
for each of their dwellings in the compound; an occupant answers for their own dwelling. Within a
dwelling the last answer counts, whoever gave it (owner or occupant); every earlier answer stays in
the history (a new row per change, see :class:`SurveyAnswer`). Answers may change until the round
closes. A worker's paper survey is one more answer of the dwelling: it replaces the answer before it,
online or paper, but only when the worker has seen that answer and confirmed replacing it.

The needs are ranked, and willingness tallied, from the answers that count; the dangers are listed from
every answer, the replaced ones too: a danger reported once stays reported (DESIGN.md: fixed on
discovery).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from consult.audit.services import record
from consult.compounds.models import Dwelling
from consult.errors import ConsultError
from consult.extensions import db
from consult.residents.models import Invitation
from consult.residents.rules import place_label
from consult.residents.services import person_of
from consult.rounds.models import Round
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import is_open_for_input
from consult.rounds.services import compound_rounds
from consult.rounds.services import eligible_dwellings
from consult.rounds.services import latest_published
from consult.rounds.services import register
from consult.surveys.catalogue import CATALOGUE
from consult.surveys.catalogue import Category
from consult.surveys.models import NeedDecision
from consult.surveys.models import Question
from consult.surveys.models import QuestionOption
from consult.surveys.models import Survey
from consult.surveys.models import SurveyAnswer
from consult.surveys.models import SurveyItem
from consult.surveys.rules import AnswerValues
from consult.surveys.rules import DangerReport
from consult.surveys.rules import Decision
from consult.surveys.rules import NeedsList
from consult.surveys.rules import QuestionKind
from consult.surveys.rules import QuestionSpec
from consult.surveys.rules import SurveySpec
from consult.surveys.rules import Willingness
from consult.surveys.rules import WillingnessTally
from consult.surveys.rules import answer_problems
from consult.surveys.rules import danger_reports as collect_danger_reports
from consult.surveys.rules import rank_needs
from consult.surveys.rules import stored_extra
from consult.surveys.rules import tally_willingness
from consult.surveys.rules import top_codes
from consult.surveys.rules import undecided


class SurveyError(ConsultError):
    """A survey rule was broken; ``str(error)`` is the plain-words reason."""


class SurveyFrozen(SurveyError):
    """The survey's round has opened: its questions no longer change."""


class SurveyClosed(SurveyError):
    """The round is not open for answers."""


class ReplaceNotConfirmed(SurveyError):
    """A paper survey would replace an answer of the home that the worker has not confirmed replacing
    (none was confirmed, or the home's answer changed since the worker saw it). ``current`` is the
    home's answer that counts now."""

    def __init__(self, current: SurveyAnswer) -> None:
        super().__init__(_l("Tick the box to confirm that this paper survey replaces the answer above."))
        self.current = current


class InvalidAnswer(SurveyError):
    """The answer breaks a rule; ``problems`` maps form fields to what is wrong."""

    def __init__(self, problems: dict[str, Any]) -> None:
        super().__init__(_l("Please correct the answer."))
        self.problems = problems


# --- the survey and its questions


def survey_of(round_: Round) -> Survey | None:
    return db.session.scalars(select(Survey).where(Survey.round_id == round_.id)).first()


def is_editable(survey: Survey) -> bool:
    return survey.round.state is RoundState.DRAFT


def _ensure_editable(survey: Survey) -> None:
    if not is_editable(survey):
        raise SurveyFrozen(_l("The round has opened: the survey can no longer change."))


def create_survey(round_: Round, actor: str, now: datetime) -> Survey:
    """The survey of a needs round in draft, with the whole catalogue copied in."""
    if round_.kind is not RoundKind.NEEDS:
        raise SurveyError(_l("Only a needs round has a survey."))
    if round_.state is not RoundState.DRAFT:
        raise SurveyFrozen(_l("The round has opened: the survey can no longer change."))
    if survey_of(round_) is not None:
        raise SurveyError(_l("This round already has a survey."))
    survey = Survey(round_id=round_.id, created_by=actor, created_at=now)
    survey.items = [
        SurveyItem(code=i.code, category=i.category, name_zh=i.name_zh, name_en=i.name_en, position=n)
        for n, i in enumerate(CATALOGUE)
    ]
    db.session.add(survey)
    db.session.flush()
    record(actor, "survey.created", round_.compound_id, round=round_.id, items=len(survey.items))
    return survey


def add_question(
    survey: Survey,
    kind: QuestionKind,
    prompt_zh: str,
    prompt_en: str | None,
    options: Sequence[tuple[str, str | None]],
    required: bool,
    actor: str,
) -> Question:
    """A question of the worker's own, at the end. Choice questions need at least two options."""
    _ensure_editable(survey)
    if not prompt_zh.strip():
        raise SurveyError(_l("Write the question."))
    if kind is not QuestionKind.TEXT and len(options) < 2:
        raise SurveyError(_l("A choice question needs at least two options, one per line."))
    position = max((q.position for q in survey.questions), default=0) + 1
    question = Question(
        kind=kind,
        prompt_zh=prompt_zh.strip(),
        prompt_en=(prompt_en or "").strip() or None,
        required=required,
        position=position,
    )
    if kind is not QuestionKind.TEXT:
        question.options = [
            QuestionOption(position=n, label_zh=zh, label_en=en or None) for n, (zh, en) in enumerate(options)
        ]
    survey.questions.append(question)
    db.session.flush()
    record(
        actor, "survey.question_added", survey.round.compound_id, round=survey.round_id, question=question.id
    )
    return question


def remove_question(survey: Survey, question_id: int, actor: str) -> None:
    _ensure_editable(survey)
    question = next((q for q in survey.questions if q.id == question_id), None)
    if question is None:
        raise SurveyError(_l("There is no such question."))
    survey.questions.remove(question)
    db.session.flush()
    record(
        actor,
        "survey.question_removed",
        survey.round.compound_id,
        round=survey.round_id,
        question=question_id,
    )


def spec_of(survey: Survey) -> SurveySpec:
    return SurveySpec(
        need_codes=frozenset(i.code for i in survey.items if i.category is not Category.SAFETY),
        hazard_codes=frozenset(i.code for i in survey.items if i.category is Category.SAFETY),
        questions=tuple(
            QuestionSpec(q.id, q.kind, q.required, frozenset(o.id for o in q.options))
            for q in survey.questions
        ),
    )


# --- answering


def is_open(round_: Round, now: datetime) -> bool:
    return is_open_for_input(round_.state, round_.opens_at, round_.closes_at, now)


def current_answers(survey: Survey) -> list[SurveyAnswer]:
    """The answer that counts for each dwelling."""
    return list(
        db.session.scalars(
            select(SurveyAnswer)
            .where(SurveyAnswer.survey_id == survey.id, SurveyAnswer.superseded_at.is_(None))
            .order_by(SurveyAnswer.dwelling_id)
        )
    )


def all_answers(survey: Survey) -> list[SurveyAnswer]:
    """Every answer of the survey, those that count and those a later answer replaced."""
    return list(
        db.session.scalars(
            select(SurveyAnswer)
            .where(SurveyAnswer.survey_id == survey.id)
            .order_by(SurveyAnswer.dwelling_id, SurveyAnswer.revision)
        )
    )


def current_answer(survey: Survey, dwelling_id: int) -> SurveyAnswer | None:
    """The answer that counts for one dwelling, or None when nobody has answered for it."""
    return db.session.scalars(
        select(SurveyAnswer).where(
            SurveyAnswer.survey_id == survey.id,
            SurveyAnswer.dwelling_id == dwelling_id,
            SurveyAnswer.superseded_at.is_(None),
        )
    ).first()


def danger_reports(survey: Survey, answers: Sequence[SurveyAnswer] | None = None) -> tuple[DangerReport, ...]:
    """The dangers reported by any answer of the survey, replaced answers included (see
    :func:`consult.surveys.rules.danger_reports`). ``answers``: every answer, when at hand."""
    return collect_danger_reports(all_answers(survey) if answers is None else answers, survey.items)


def _answered_by(answer: SurveyAnswer, invitation: Invitation) -> bool:
    if invitation.owner_id is not None:
        return answer.owner_id == invitation.owner_id
    return answer.occupant_id == invitation.occupant_id


def submit_answer(
    survey: Survey, invitation: Invitation, values: AnswerValues, now: datetime
) -> list[SurveyAnswer]:
    """Save the resident's answer for each of their dwellings; it replaces the dwelling's earlier answer."""
    round_ = survey.round
    if invitation.compound_id != round_.compound_id:
        raise SurveyError(_l("This survey is for another compound."))
    if not is_open(round_, now):
        raise SurveyClosed(_l("This survey is closed: answers can no longer be given or changed."))
    spec = spec_of(survey)
    problems = answer_problems(spec, values)
    if problems:
        raise InvalidAnswer(problems)
    person = person_of(invitation)
    dwelling_ids = [d.id for d in person.dwellings]
    if not dwelling_ids:
        raise SurveyError(_l("No home is registered for you in this compound."))
    current = {
        a.dwelling_id: a
        for a in db.session.scalars(
            select(SurveyAnswer).where(
                SurveyAnswer.survey_id == survey.id,
                SurveyAnswer.dwelling_id.in_(dwelling_ids),
                SurveyAnswer.superseded_at.is_(None),
            )
        )
    }
    extra = stored_extra(spec, values)
    saved = []
    for dwelling_id in dwelling_ids:
        before = current.get(dwelling_id)
        if before is not None:
            before.superseded_at = now
        answer = SurveyAnswer(
            survey_id=survey.id,
            dwelling_id=dwelling_id,
            revision=before.revision + 1 if before else 1,
            willingness=Willingness(values.willingness),
            needs=sorted(set(values.needs)),
            hazards=sorted(set(values.hazards)),
            hazard_note=values.hazard_note.strip(),
            extra=extra,
            owner_id=invitation.owner_id,
            occupant_id=invitation.occupant_id,
            submitted_at=now,
        )
        db.session.add(answer)
        saved.append(answer)
    db.session.flush()
    record(
        f"resident:{invitation.id}",
        "survey.answered",
        round_.compound_id,
        round=round_.id,
        dwellings=dwelling_ids,
        revisions=[a.revision for a in saved],
    )
    return saved


def enter_paper_answer(
    survey: Survey,
    dwelling: Dwelling,
    values: AnswerValues,
    actor: str,
    now: datetime,
    replaces: int | None = None,
) -> SurveyAnswer:
    """A worker enters the signed paper survey of one dwelling. It is marked as paper, replaces the
    dwelling's earlier answer (online or paper) like any later answer, and is audited.

    ``replaces``: the id of the dwelling's answer that counts, which the worker was shown and confirmed
    replacing. When the dwelling has an answer and it is not that one (nothing confirmed, or the answer
    changed meanwhile), :class:`ReplaceNotConfirmed` is raised and nothing is written. The dangers of the
    replaced answer stay on the danger list (:func:`danger_reports`)."""
    round_ = survey.round
    if dwelling.unit.building.compound_id != round_.compound_id:
        raise SurveyError(_l("This home is not in this compound."))
    if not is_open(round_, now):
        raise SurveyClosed(_l("This survey is closed: answers can no longer be given or changed."))
    spec = spec_of(survey)
    problems = answer_problems(spec, values)
    if problems:
        raise InvalidAnswer(problems)
    before = current_answer(survey, dwelling.id)
    if before is not None and before.id != replaces:
        raise ReplaceNotConfirmed(before)
    if before is not None:
        before.superseded_at = now
    answer = SurveyAnswer(
        survey_id=survey.id,
        dwelling_id=dwelling.id,
        revision=before.revision + 1 if before else 1,
        willingness=Willingness(values.willingness),
        needs=sorted(set(values.needs)),
        hazards=sorted(set(values.hazards)),
        hazard_note=values.hazard_note.strip(),
        extra=stored_extra(spec, values),
        submitted_at=now,  # who signed the sheet is on the sheet, not here
        on_paper=True,
        entered_by=actor,
    )
    db.session.add(answer)
    db.session.flush()
    record(
        actor,
        "survey.paper_entered",
        round_.compound_id,
        round=round_.id,
        dwelling=dwelling.id,
        revision=answer.revision,
        replaced=before.id if before is not None else None,
    )
    return answer


def own_answer(survey: Survey, invitation: Invitation) -> SurveyAnswer | None:
    """The resident's own answer, while it still counts for at least one of their dwellings (to fill the
    form in again). Another household member's answer is never shown to them."""
    dwelling_ids = [d.id for d in person_of(invitation).dwellings]
    answers = db.session.scalars(
        select(SurveyAnswer)
        .where(
            SurveyAnswer.survey_id == survey.id,
            SurveyAnswer.dwelling_id.in_(dwelling_ids),
            SurveyAnswer.superseded_at.is_(None),
        )
        .order_by(SurveyAnswer.submitted_at.desc(), SurveyAnswer.id.desc())
    ).all()
    return next((a for a in answers if _answered_by(a, invitation)), None)


@dataclass(frozen=True)
class HomeStatus:
    """Who gave the answer that counts for one of the resident's dwellings (never a name)."""

    dwelling_id: int
    label: str
    #: "you", "owner", "occupant", "paper" (a signed paper survey), or "" when nobody has answered yet
    by: str
    at: datetime | None


def household_status(survey: Survey, invitation: Invitation, locale: str) -> list[HomeStatus]:
    person = person_of(invitation)
    current = {
        a.dwelling_id: a
        for a in db.session.scalars(
            select(SurveyAnswer).where(
                SurveyAnswer.survey_id == survey.id,
                SurveyAnswer.dwelling_id.in_([d.id for d in person.dwellings]),
                SurveyAnswer.superseded_at.is_(None),
            )
        )
    }
    statuses = []
    for d in person.dwellings:
        answer = current.get(d.id)
        if answer is None:
            by = ""
        elif answer.on_paper:
            by = "paper"
        elif _answered_by(answer, invitation):
            by = "you"
        else:
            by = "owner" if answer.owner_id is not None else "occupant"
        statuses.append(
            HomeStatus(
                d.id,
                place_label(d.unit.building.label, d.unit.label, d.room, locale),
                by,
                answer.submitted_at if answer else None,
            )
        )
    return statuses


def answered_dwellings(round_: Round) -> set[int]:
    """Engine hook: dwellings with an answer to the round's survey."""
    survey = survey_of(round_)
    if survey is None:
        return set()
    return set(
        db.session.scalars(
            select(SurveyAnswer.dwelling_id).where(
                SurveyAnswer.survey_id == survey.id, SurveyAnswer.superseded_at.is_(None)
            )
        )
    )


# --- the needs list and the decisions on it


def needs_list(survey: Survey) -> NeedsList:
    """Needs ranked from the answers that count; dangers listed from every answer (replaced ones too)."""
    answers = all_answers(survey)
    current = [a for a in answers if a.superseded_at is None]
    return rank_needs(current, survey.items, dangers=danger_reports(survey, answers))


def willingness_tally(survey: Survey) -> WillingnessTally:
    return tally_willingness(current_answers(survey), len(eligible_dwellings(survey.round.compound_id)))


def decisions_of(survey: Survey) -> dict[str, NeedDecision]:
    return {
        d.code: d for d in db.session.scalars(select(NeedDecision).where(NeedDecision.survey_id == survey.id))
    }


def may_decide(survey: Survey) -> bool:
    """Decisions are recorded once answers are in (round closed), and frozen once the list is published."""
    return survey.round.state is RoundState.CLOSED


def record_decision(
    survey: Survey, code: str, decision: Decision, reason: str, actor: str, now: datetime
) -> NeedDecision:
    """The worker's decision on one need; a later decision replaces it (the audit log keeps both)."""
    if not may_decide(survey):
        raise SurveyError(
            _l("Decisions are recorded after the round closes and before the list is published.")
        )
    item = next((i for i in survey.items if i.code == code), None)
    if item is None or item.category is Category.SAFETY:
        raise SurveyError(_l("There is no such need."))
    reason = reason.strip()
    if decision is Decision.NOT_NOW and not reason:
        raise SurveyError(_l("Say why this need is left for later."))
    found = db.session.scalars(
        select(NeedDecision).where(NeedDecision.survey_id == survey.id, NeedDecision.code == code)
    ).first()
    if found is None:
        found = NeedDecision(survey_id=survey.id, code=code, decision=decision, decided_by=actor)
        db.session.add(found)
    before = (found.decision.value, found.reason) if found.id is not None else None
    found.decision, found.reason, found.decided_by, found.decided_at = decision, reason, actor, now
    db.session.flush()
    record(
        actor,
        "survey.decision",
        survey.round.compound_id,
        round=survey.round_id,
        code=code,
        decision=decision.value,
        reason=reason,
        before=before,
    )
    return found


def answer_blocker(round_: Round) -> Any:
    """Engine hook: why the needs list may not be published yet, or None.

    Publishing waits while a top need (the first ``TOP_PER_CATEGORY`` of each category, ties
    included) has no decision. A round without a survey, or without answers, has nothing to decide.
    """
    survey = survey_of(round_)
    if survey is None:
        return None
    missing = undecided(needs_list(survey), decisions_of(survey))
    if not missing:
        return None
    return _l(
        "Record a decision on each top need (the first three of each category) before publishing: "
        "%(count)s still without one.",
        count=len(missing),
    )


def register_with_engine() -> None:
    """Plug the survey into the round engine for needs rounds (called once by create_app)."""
    register(RoundKind.NEEDS, answered=answered_dwellings, answer_blocker=answer_blocker)


def top_needs(survey: Survey) -> list[str]:
    return top_codes(needs_list(survey))


# --- where residents find it


def resident_links(
    invitation: Invitation,
    now: datetime,
    rounds: Sequence[Round] | None = None,
) -> list[tuple[str, str, bool, bool]]:
    """For the resident's home page: (label, address, answered, open) of each survey open to them now.
    ``answered``: every dwelling of theirs has an answer that counts (theirs or their household's); it
    may still be changed (``open`` is always true here).
    ``rounds``: the compound's rounds in order, when at hand."""
    if rounds is None:
        rounds = compound_rounds(invitation.compound_id)
    links = []
    dwelling_ids: set[int] | None = None
    for round_ in rounds:
        if round_.kind is not RoundKind.NEEDS or not is_open(round_, now) or survey_of(round_) is None:
            continue
        if dwelling_ids is None:
            dwelling_ids = {d.id for d in person_of(invitation).dwellings}
        answered = bool(dwelling_ids) and dwelling_ids <= answered_dwellings(round_)
        links.append(
            (
                _("Survey: renovation and your needs (round %(number)s)", number=round_.number),
                url_for("surveys.answer", round_id=round_.id),
                answered,
                True,
            )
        )
    return links


def published_links(invitation: Invitation, rounds: Sequence[Round] | None = None) -> list[tuple[str, str]]:
    """For the resident's home page: (label, address) of the published needs list, if any."""
    round_ = latest_published(invitation.compound_id, RoundKind.NEEDS, rounds)
    if round_ is None or survey_of(round_) is None:
        return []
    return [(_("The needs list of the compound"), url_for("surveys.resident_needs", round_id=round_.id))]
