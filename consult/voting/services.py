"""Use-cases of the household vote (round 3 up, result notice down). Services flush; the view commits.

Who counts (DESIGN.md, "Vote rules"): the owners holding a dwelling in a question's scope (the compound,
a building, or one stairwell unit for a lift), each once with the areas of their dwellings in that scope
summed; the developer's unsold units are one owner; occupants never. Only owners' cards vote.

Ballots are append-only rows; the one that counts for an owner and a question is the ``active`` one, and
the database keeps at most one (see ``models.Ballot``). Concurrent ballots of one owner are serialised by
locking that owner first: ``SELECT … FOR UPDATE`` of the owner row on PostgreSQL; on SQLite a no-op
``UPDATE`` of it, which takes the database's write lock at the start of the transaction (with a busy
timeout, and WAL so that readers are not blocked). A transaction that still conflicts is rolled back and
retried by the view (``views.commit_with_retry``).

Results are shown to nobody, staff included, while the round is open: until then only participation is.

Settings (``app.config``):

PROXY_LIMIT        how many other owners one proxy may act for in a round, unless the compound sets
                   another number (default 1)
VOTE_EXPORT_KEY    the key of the pseudonyms in ``flask export-ballots`` (default: derived from SECRET_KEY)
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Mapping
from collections.abc import Sequence
from dataclasses import dataclass
from dataclasses import field
from datetime import date
from datetime import datetime
from datetime import timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app
from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import Select
from sqlalchemy import bindparam
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update

from consult.audit.models import AuditEntry
from consult.audit.services import record
from consult.auth.models import Role
from consult.auth.models import User
from consult.compounds.models import Building
from consult.compounds.models import Compound
from consult.compounds.models import Dwelling
from consult.compounds.models import Owner
from consult.compounds.models import StairUnit
from consult.db import SQLITE_BUSY_TIMEOUT_MS
from consult.db import queue_for_writing
from consult.errors import ConsultError
from consult.extensions import db
from consult.notify.emails import site_path
from consult.notify.services import enqueue_to
from consult.notify.services import prepare_to
from consult.residents.models import Invitation
from consult.rounds.models import Round
from consult.rounds.models import RoundEvent
from consult.rounds.rules import RoundKind
from consult.rounds.rules import RoundState
from consult.rounds.rules import is_open_for_input
from consult.rounds.services import compound_rounds
from consult.rounds.services import register
from consult.voting.counting import ABSTAIN
from consult.voting.counting import MANAGEMENT_OPTIONS
from consult.voting.counting import Channel
from consult.voting.counting import Precedence
from consult.voting.counting import QuestionKind
from consult.voting.counting import QuestionOutcome
from consult.voting.counting import Scope
from consult.voting.counting import Topic
from consult.voting.counting import choice_counts
from consult.voting.counting import count_question
from consult.voting.counting import paper_time
from consult.voting.counting import prevails
from consult.voting.counting import rule_to_dict
from consult.voting.models import Ballot
from consult.voting.models import BallotReceipt
from consult.voting.models import PaperEntry
from consult.voting.models import PaperSheet
from consult.voting.models import Proxy
from consult.voting.models import Resolution
from consult.voting.models import SheetState
from consult.voting.models import VoteQuestion
from consult.voting.models import VotingSettings
from consult.voting.receipts import authorities
from consult.voting.receipts import format_receipt
from consult.voting.receipts import issue_receipt
from consult.voting.receipts import new_receipt_code
from consult.voting.rules import PRESETS
from consult.voting.rules import ConsentRule
from consult.voting.rules import is_unknown
from consult.voting.rules import owner_areas
from consult.voting.rules import unknown_owner

DEFAULT_PROXY_LIMIT = 1


class VotingError(ConsultError):
    """A voting rule was broken; ``str(error)`` is the plain-words reason."""


class QuestionsFrozen(VotingError):
    """The round has opened: its questions no longer change."""


class VoteClosed(VotingError):
    """The round is not open for ballots (or, for paper, no longer takes entries)."""


class NotEligible(VotingError):
    """This person may not vote here (an occupant, an owner with nothing in scope, no authority)."""


class InvalidBallot(VotingError):
    """The ballot breaks a rule; ``problems`` maps form fields to what is wrong."""

    def __init__(self, problems: Mapping[str, Any]) -> None:
        super().__init__(_l("Please correct the ballot."))
        self.problems = dict(problems)


class PaperRefused(VotingError):
    """A paper entry or decision is not allowed (same worker twice, nothing to decide …)."""


class PaperPending(PaperRefused):
    """The owner already has a paper sheet in this round waiting for its second entry or a decision: a
    paper brought in again is entered on that sheet, not started anew. ``sheet`` is that sheet."""

    def __init__(self, sheet: PaperSheet) -> None:
        super().__init__(
            _l(
                "This owner's paper ballot %(id)s still waits for its second entry or a decision:"
                " enter it there instead of starting another.",
                id=sheet.id,
            )
        )
        self.sheet = sheet


class ProxyRefused(VotingError):
    """The authority cannot be recorded (limit reached, the owner already has a proxy …)."""


def register_with_engine() -> None:
    """Plug the vote into the round engine for vote rounds (called at start-up; again changes nothing)."""
    register(
        RoundKind.VOTE,
        answered=answered_dwellings,
        answer_blocker=answer_blocker,
        eligible=eligible_dwellings,
    )


def _lock_owner(owner_id: int) -> None:
    """Serialise every ballot of this owner: the rest of the transaction sees the latest committed one."""
    dialect = db.session.get_bind().dialect.name
    if dialect == "postgresql":
        db.session.execute(select(Owner.id).where(Owner.id == owner_id).with_for_update())
    elif dialect == "sqlite":
        if queue_for_writing(db.session):
            return  # every ballot and proxy is written under this lock, one transaction after another
        # in memory, or already writing: the first write begins the transaction and takes the write lock
        # (as BEGIN IMMEDIATE would)
        db.session.connection().exec_driver_sql(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        db.session.execute(
            update(Owner)
            .where(Owner.id == owner_id)
            .values(locale=Owner.locale)
            .execution_options(synchronize_session=False, compound_id=None)  # takes a lock, changes nothing
        )


# --- settings


@dataclass(frozen=True)
class Settings:
    precedence: Precedence
    proxy_limit: int


@cache
def _settings_query() -> Select[Any]:
    return select(VotingSettings).where(VotingSettings.compound_id == bindparam("compound_id"))


def settings_of(compound_id: int) -> Settings:
    row = db.session.scalars(_settings_query(), {"compound_id": compound_id}).first()
    default_limit = int(current_app.config.get("PROXY_LIMIT", DEFAULT_PROXY_LIMIT))
    if row is None:
        return Settings(Precedence.LATER_SIGNED, default_limit)
    limit = row.proxy_limit if row.proxy_limit is not None else default_limit
    return Settings(row.precedence, limit)


def save_settings(
    compound: Compound, precedence: Precedence, proxy_limit: int | None, actor: str, now: datetime
) -> VotingSettings:
    """The compound's precedence of paper and online ballots and its proxy limit (None: the default).
    Not while a vote of the compound is open: a rule does not change during a vote."""
    open_votes = db.session.scalar(
        select(func.count(Round.id)).where(
            Round.compound_id == compound.id, Round.kind == RoundKind.VOTE, Round.state == RoundState.OPEN
        )
    )
    if open_votes:
        raise VotingError(_l("A vote is open: its rules cannot change until it closes."))
    if proxy_limit is not None and proxy_limit < 1:
        raise VotingError(_l("A proxy may act for at least one owner."))
    row = db.session.scalars(select(VotingSettings).where(VotingSettings.compound_id == compound.id)).first()
    if row is None:
        row = VotingSettings(compound_id=compound.id, updated_by=actor)
        db.session.add(row)
    row.precedence, row.proxy_limit, row.updated_by, row.updated_at = precedence, proxy_limit, actor, now
    db.session.flush()
    record(
        actor, "vote.settings", compound.id, precedence=precedence.value, proxy_limit=proxy_limit or "default"
    )
    return row


# --- rounds and questions


def vote_rounds(compound_id: int) -> list[Round]:
    return list(
        db.session.scalars(
            select(Round)
            .where(Round.compound_id == compound_id, Round.kind == RoundKind.VOTE)
            .order_by(Round.number, Round.attempt)
        )
    )


@cache
def _questions_query() -> Select[Any]:
    return (
        select(VoteQuestion)
        .where(VoteQuestion.round_id == bindparam("round_id"))
        .order_by(VoteQuestion.position)
    )


def questions_of(round_: Round) -> list[VoteQuestion]:
    return list(db.session.scalars(_questions_query(), {"round_id": round_.id}))


def _ensure_draft(round_: Round) -> None:
    if round_.kind is not RoundKind.VOTE:
        raise VotingError(_l("Only a vote round has questions to vote on."))
    if round_.state is not RoundState.DRAFT:
        raise QuestionsFrozen(_l("The round has opened: its questions can no longer change."))


def add_question(
    round_: Round,
    *,
    topic: Topic,
    prompt_zh: str,
    prompt_en: str | None,
    rule: ConsentRule,
    actor: str,
    now: datetime,
    kind: QuestionKind = QuestionKind.YES_NO,
    options: Sequence[tuple[str, str, str | None]] = (),
    scope: Scope = Scope.COMPOUND,
    building_id: int | None = None,
    unit_id: int | None = None,
) -> VoteQuestion:
    """A question at the end of the round's list. ``options`` (key, Chinese, English) for a choice
    question, at least two. A building or unit scope must be in the round's compound."""
    _ensure_draft(round_)
    if not prompt_zh.strip():
        raise VotingError(_l("Write the question."))
    if kind is QuestionKind.CHOICE:
        keys = [key for key, _zh, _en in options]
        if len(keys) < 2 or len(set(keys)) != len(keys) or ABSTAIN in keys:
            raise VotingError(_l("A choice question needs at least two different options."))
    else:
        options = ()
    if scope is Scope.COMPOUND:
        building_id = unit_id = None
    elif scope is Scope.BUILDING:
        building = db.session.get(Building, building_id) if building_id else None
        if building is None or building.compound_id != round_.compound_id:
            raise VotingError(_l("Choose a building of this compound."))
        unit_id = None
    else:
        unit = db.session.get(StairUnit, unit_id) if unit_id else None
        if unit is None or unit.building.compound_id != round_.compound_id:
            raise VotingError(_l("Choose a unit of this compound."))
        building_id = unit.building_id
    position = (
        db.session.scalar(
            select(func.coalesce(func.max(VoteQuestion.position), 0)).where(
                VoteQuestion.round_id == round_.id
            )
        )
        + 1
    )
    question = VoteQuestion(
        round_id=round_.id,
        position=position,
        topic=topic,
        kind=kind,
        prompt_zh=prompt_zh.strip(),
        prompt_en=(prompt_en or "").strip() or None,
        options=[{"key": key, "zh": zh, "en": en} for key, zh, en in options],
        scope=scope,
        building_id=building_id,
        unit_id=unit_id,
        rule=rule_to_dict(rule),
        created_by=actor,
        created_at=now,
    )
    db.session.add(question)
    db.session.flush()
    record(
        actor,
        "vote.question_added",
        round_.compound_id,
        round=round_.id,
        question=question.id,
        scope=scope.value,
        rule=question.rule,
    )
    return question


def remove_question(round_: Round, question_id: int, actor: str) -> None:
    _ensure_draft(round_)
    question = db.session.get(VoteQuestion, question_id)
    if question is None or question.round_id != round_.id:
        raise VotingError(_l("There is no such question."))
    db.session.delete(question)
    db.session.flush()
    record(actor, "vote.question_removed", round_.compound_id, round=round_.id, question=question_id)


#: the questions of DESIGN.md's round 3, as (topic, preset, Chinese, English)
STANDARD_QUESTIONS: tuple[tuple[Topic, str, str, str], ...] = (
    (
        Topic.PLAN,
        "civil_code_major",
        "您是否同意本小区改造方案（修订稿）？",
        "Do you agree to the compound's renovation plan (revised)?",
    ),
    (
        Topic.PACT,
        "civil_code_ordinary",
        "您是否同意本小区管理规约（居民公约）？",
        "Do you agree to the compound's pact (the residents' rules)?",
    ),
    (
        Topic.FUNDING,
        "civil_code_major",
        "您是否同意居民分担改造费用的方案（含维修资金续筹）？",
        "Do you agree to the residents' share of the cost (and raising the maintenance fund)?",
    ),
)
MANAGEMENT_LABELS = {
    "company": ("物业服务企业", "A property management company"),
    "other_manager": ("其他管理人", "Another manager"),
    "self_management": ("业主自行管理", "The owners manage it themselves"),
}


def add_standard_questions(round_: Round, actor: str, now: datetime) -> list[VoteQuestion]:
    """The plan, the pact and the funding share (compound), the management mode (a choice), and a lift
    for every stairwell unit (that unit's owners only)."""
    _ensure_draft(round_)
    added = [
        add_question(
            round_, topic=topic, prompt_zh=zh, prompt_en=en, rule=PRESETS[preset], actor=actor, now=now
        )
        for topic, preset, zh, en in STANDARD_QUESTIONS[:1]
    ]
    added.append(
        add_question(
            round_,
            topic=Topic.MANAGEMENT,
            kind=QuestionKind.CHOICE,
            prompt_zh="您选择哪种物业管理方式？",
            prompt_en="Which property management mode do you choose?",
            options=[(key, *MANAGEMENT_LABELS[key]) for key in MANAGEMENT_OPTIONS],
            rule=PRESETS["civil_code_ordinary"],
            actor=actor,
            now=now,
        )
    )
    added += [
        add_question(
            round_, topic=topic, prompt_zh=zh, prompt_en=en, rule=PRESETS[preset], actor=actor, now=now
        )
        for topic, preset, zh, en in STANDARD_QUESTIONS[1:]
    ]
    units = db.session.scalars(
        select(StairUnit)
        .join(Building)
        .where(Building.compound_id == round_.compound_id)
        .order_by(Building.sort_key, StairUnit.sort_key)
    ).all()
    for unit in units:
        added.append(
            add_question(
                round_,
                topic=Topic.LIFT,
                prompt_zh=f"您是否同意在{unit.building.label}栋{unit.label}单元加装电梯？",
                prompt_en=(
                    f"Do you agree to install a lift in building {unit.building.label}, unit {unit.label}?"
                ),
                rule=PRESETS["civil_code_major"],
                scope=Scope.UNIT,
                unit_id=unit.id,
                actor=actor,
                now=now,
            )
        )
    return added


def carry_over_questions(round_: Round, actor: str, now: datetime) -> list[VoteQuestion]:
    """A repeated vote starts from the questions of the attempt it repeats (failed, or overtaken by a
    reopened round): each is added again as it was, with its scope and its rule, while this attempt is
    a draft without questions; they may then be changed like any others."""
    _ensure_draft(round_)
    if round_.repeat_of_id is None:
        raise VotingError(_l("This round repeats no earlier attempt."))
    if questions_of(round_):
        raise VotingError(_l("This round has questions already."))
    earlier = db.session.get(Round, round_.repeat_of_id)
    assert earlier is not None
    added = [
        add_question(
            round_,
            topic=q.topic,
            kind=q.kind,
            prompt_zh=q.prompt_zh,
            prompt_en=q.prompt_en,
            options=[(o["key"], o["zh"], o.get("en")) for o in q.options],
            rule=q.consent_rule,
            scope=q.scope,
            building_id=q.building_id,
            unit_id=q.unit_id,
            actor=actor,
            now=now,
        )
        for q in questions_of(earlier)
    ]
    record(actor, "vote.questions_carried_over", round_.compound_id, round=round_.id, source=earlier.id)
    return added


# --- the roll: who is in each question's scope


@dataclass(frozen=True)
class Holding:
    """A dwelling, its owner (None when not known: it counts as an owner who does not vote, see
    ``rules.owner_areas``), and where it is."""

    dwelling_id: int
    owner_id: int | None
    unit_id: int
    building_id: int
    area: Decimal


def holdings(compound_id: int) -> list[Holding]:
    """Every dwelling of the compound, those without a known owner included."""
    rows = db.session.execute(
        select(Dwelling.id, Dwelling.owner_id, Dwelling.unit_id, StairUnit.building_id, Dwelling.area)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .join(Building, StairUnit.building_id == Building.id)
        .where(Building.compound_id == compound_id)
    ).all()
    return [Holding(d, o, u, b, Decimal(a)) for d, o, u, b, a in rows]


def in_scope(question: VoteQuestion, holding: Holding) -> bool:
    if question.scope is Scope.UNIT:
        return holding.unit_id == question.unit_id
    if question.scope is Scope.BUILDING:
        return holding.building_id == question.building_id
    return True


def scope_areas(question: VoteQuestion, held: Sequence[Holding]) -> dict[int, Decimal]:
    """The owners in the question's scope, each with the summed area of their dwellings there (a
    dwelling without a known owner as an owner of its own, who never votes)."""
    return owner_areas((h.dwelling_id, h.owner_id, h.area) for h in held if in_scope(question, h))


class Roll:
    """The owners in each scope of a compound, worked out once per scope (a lift question per unit
    reads that unit's dwellings only)."""

    def __init__(self, held: Sequence[Holding]) -> None:
        self.held = held
        self.by_unit: dict[int, list[Holding]] = defaultdict(list)
        self.by_building: dict[int, list[Holding]] = defaultdict(list)
        for h in held:
            self.by_unit[h.unit_id].append(h)
            self.by_building[h.building_id].append(h)
        self._areas: dict[tuple[Scope, int | None], dict[int, Decimal]] = {}

    def areas(self, question: VoteQuestion) -> dict[int, Decimal]:
        if question.scope is Scope.UNIT:
            key, subset = (Scope.UNIT, question.unit_id), self.by_unit.get(question.unit_id or 0, [])
        elif question.scope is Scope.BUILDING:
            key, subset = (
                (Scope.BUILDING, question.building_id),
                self.by_building.get(question.building_id or 0, []),
            )
        else:
            key, subset = (Scope.COMPOUND, None), list(self.held)
        if key not in self._areas:
            self._areas[key] = owner_areas((h.dwelling_id, h.owner_id, h.area) for h in subset)
        return self._areas[key]


@cache
def _holdings_query() -> Select[Any]:
    return (
        select(Dwelling.id, Dwelling.owner_id, Dwelling.unit_id, StairUnit.building_id, Dwelling.area)
        .join(StairUnit, Dwelling.unit_id == StairUnit.id)
        .where(Dwelling.owner_id == bindparam("owner_id"))
    )


def owner_holdings(owner_id: int) -> list[Holding]:
    rows = db.session.execute(_holdings_query(), {"owner_id": owner_id}).all()
    return [Holding(d, o, u, b, Decimal(a)) for d, o, u, b, a in rows]


def owner_questions(
    round_: Round, owner_id: int, questions: Sequence[VoteQuestion] | None = None
) -> list[VoteQuestion]:
    """The questions this owner votes on: those whose scope holds a dwelling of theirs (of ``questions``,
    when the round's questions are at hand)."""
    mine = owner_holdings(owner_id)
    if questions is None:
        questions = questions_of(round_)
    return [q for q in questions if any(in_scope(q, h) for h in mine)]


# --- casting


def is_open(round_: Round, now: datetime) -> bool:
    return round_.kind is RoundKind.VOTE and is_open_for_input(
        round_.state, round_.opens_at, round_.closes_at, now
    )


def ballot_problems(questions: Sequence[VoteQuestion], choices: Mapping[int, str]) -> dict[str, Any]:
    """What is wrong with a ballot: every question of the voter answered, with one of its choices."""
    problems: dict[str, Any] = {}
    for question in questions:
        choice = choices.get(question.id)
        if not choice:
            problems[f"q{question.id}"] = _l("Choose an answer (or abstain).")
        elif choice not in question.choices:
            problems[f"q{question.id}"] = _l("This is not one of the answers.")
    if set(choices) - {q.id for q in questions}:
        problems["form"] = _l("The ballot holds a question you do not vote on.")
    return problems


def _current_acts(owner_id: int, question_ids: Sequence[int]) -> dict[int, tuple[int, Channel, datetime]]:
    """The counting act of the owner on each question: (ballot id, channel, time)."""
    rows = db.session.execute(
        _CURRENT_ACTS(), {"owner_id": owner_id, "question_ids": list(question_ids)}
    ).all()
    return {question_id: (ballot_id, Channel(channel), at) for question_id, ballot_id, channel, at in rows}


@cache
def _CURRENT_ACTS() -> Select[Any]:
    return select(Ballot.question_id, Ballot.id, Ballot.channel, Ballot.cast_at).where(
        Ballot.owner_id == bindparam("owner_id"),
        Ballot.question_id.in_(bindparam("question_ids", expanding=True)),
        Ballot.active.is_(True),
    )


def _record_acts(
    round_: Round,
    owner_id: int,
    choices: Mapping[int, str],
    *,
    channel: Channel,
    at: datetime,
    receipt: BallotReceipt,
    actor: str,
    now: datetime,
    proxy_id: int | None = None,
    sheet_id: int | None = None,
    precedence: Precedence | None = None,
) -> int:
    """Append one ballot per question; each takes the place of the one counting now if the compound's
    precedence (read here unless given) says so. Returns how many now count. The caller holds the owner's
    lock."""
    if precedence is None:
        precedence = settings_of(round_.compound_id).precedence
    current = _current_acts(owner_id, list(choices))
    replaced: list[int] = []
    rows = []
    for question_id, choice in choices.items():
        before = current.get(question_id)
        wins = before is None or prevails(precedence, (channel, at), (before[1], before[2]))
        if wins and before is not None:
            replaced.append(before[0])
        rows.append(
            {
                "round_id": round_.id,
                "question_id": question_id,
                "owner_id": owner_id,
                "choice": choice,
                "channel": channel,
                "cast_at": at,
                "recorded_at": now,
                "actor": actor,
                "receipt_id": receipt.id,
                "proxy_id": proxy_id,
                "sheet_id": sheet_id,
                "supersedes_id": before[0] if wins and before is not None else None,
                "active": wins,
            }
        )
    if replaced:  # the replaced rows lose their flag (and nothing else) before the new ones arrive
        db.session.execute(
            update(Ballot)
            .where(Ballot.id.in_(replaced), Ballot.active.is_(True))
            .values(active=False)
            .execution_options(synchronize_session="evaluate", owner_id=owner_id)
        )
    db.session.execute(insert(Ballot).execution_options(owner_id=owner_id), rows)
    counted = sum(1 for row in rows if row["active"])
    return counted


def _notify(owner: Owner, round_: Round, receipt: BallotReceipt, now: datetime) -> None:
    enqueue_to(owner, "vote_received", _notice_context(round_, receipt.code, now), now=now)


def _notice_context(round_: Round, receipt_code: str, now: datetime) -> dict[str, Any]:
    """What the "vote received" e-mail says: the compound, the round, the receipt and when."""
    return {
        "compound": round_.compound.name,
        "round_number": round_.number,
        "receipt": format_receipt(receipt_code),
        "received_at": now,
        "path": site_path("voting.ballot", round_id=round_.id),
    }


def proxy_for(round_: Round, owner_id: int, proxy_owner_id: int) -> Proxy | None:
    """The live authority for ``proxy_owner_id`` to vote for ``owner_id`` in this round."""
    return db.session.scalars(
        select(Proxy).where(
            Proxy.round_id == round_.id,
            Proxy.owner_id == owner_id,
            Proxy.proxy_owner_id == proxy_owner_id,
            Proxy.revoked_at.is_(None),
        )
    ).first()


def voter_for(
    round_: Round, invitation: Invitation, for_owner_id: int | None = None
) -> tuple[Owner, Proxy | None]:
    """The owner whose ballot this card holder casts: their own, or one who gave them an authority."""
    if not invitation.may_vote or invitation.owner is None:
        raise NotEligible(_l("Only owners vote. Your card is for surveys and comments."))
    if invitation.compound_id != round_.compound_id:
        raise NotEligible(_l("This vote is of another compound."))
    if for_owner_id is None or for_owner_id == invitation.owner_id:
        return invitation.owner, None
    proxy = proxy_for(round_, for_owner_id, invitation.owner_id)  # type: ignore[arg-type]
    if proxy is None:
        raise NotEligible(_l("No authority to vote for this owner is recorded."))
    return proxy.owner, proxy


def cast_online(
    round_: Round,
    invitation: Invitation,
    choices: Mapping[int, str],
    now: datetime,
    *,
    for_owner_id: int | None = None,
    questions: Sequence[VoteQuestion] | None = None,
) -> BallotReceipt:
    """An owner's online ballot on every question of theirs (or a proxy's, for the owner who gave the
    authority). Replaces the one counting now (the last one counts); returns the receipt, which is also
    e-mailed to the owner when they left an address. ``questions``: the owner's questions, when the
    caller has them (they cannot change while the vote is open: questions and roster are frozen)."""
    owner, proxy = voter_for(round_, invitation, for_owner_id)
    if not is_open(round_, now):
        raise VoteClosed(_l("The vote is not open."))
    if questions is None:
        questions = owner_questions(round_, owner.id)
    if not questions:
        raise NotEligible(_l("There is nothing for you to vote on in this round."))
    problems = ballot_problems(questions, choices)
    if problems:
        raise InvalidBallot(problems)
    precedence = settings_of(round_.compound_id).precedence
    code = new_receipt_code()
    notice = prepare_to(owner, "vote_received", _notice_context(round_, code, now), now=now)
    # from here on other writers wait: the reads and the e-mail above stay outside that window, the audit
    # entry (whose chain every writer shares) comes last
    _lock_owner(owner.id)
    receipt = issue_receipt(round_, Channel.ONLINE, now, code)
    actor = f"resident:{invitation.id}"
    _record_acts(
        round_,
        owner.id,
        choices,
        channel=Channel.ONLINE,
        at=now,
        receipt=receipt,
        actor=actor,
        now=now,
        proxy_id=proxy.id if proxy else None,
        precedence=precedence,
    )
    if notice is not None:
        db.session.add(notice)
    record(
        actor,
        "vote.cast",
        round_.compound_id,
        round=round_.id,
        receipt=receipt.code,
        proxy=proxy.id if proxy else None,
    )
    return receipt


def my_choices(round_: Round, owner_id: int, proxy_owner_id: int | None = None) -> dict[int, Ballot]:
    """The ballots counting now for this owner, by question (shown to that owner only); for their proxy
    (``proxy_owner_id``), those of them the proxy cast: how the owner voted themselves is not the proxy's
    to see."""
    query = select(Ballot).where(
        Ballot.round_id == round_.id, Ballot.owner_id == owner_id, Ballot.active.is_(True)
    )
    if proxy_owner_id is not None:
        query = query.where(Ballot.proxy_id.in_(authorities(round_.id, owner_id, proxy_owner_id)))
    return {b.question_id: b for b in db.session.scalars(query)}


def ballot_history(round_: Round, owner_id: int) -> list[Ballot]:
    """Every act of this owner in the round, the latest recorded first."""
    return list(
        db.session.scalars(
            select(Ballot)
            .where(Ballot.round_id == round_.id, Ballot.owner_id == owner_id)
            .order_by(Ballot.recorded_at.desc(), Ballot.id.desc())
        )
    )


# --- who voted how: for a worker or reviewer, after the vote, with a reason that is logged

#: the shortest reason accepted (characters, spaces aside): "核对投诉" is enough, "查" is not
MIN_REASON = 4


class InspectionRefused(VotingError):
    """One owner's ballots cannot be shown (the vote is not closed, no reason, not an owner here)."""


def inspect_ballots(round_: Round, owner_id: int, actor: str, reason: str) -> list[Ballot]:
    """Every act of one owner in the round, for a staff member who states why. Only once the round has
    closed (before that, nobody sees a choice); the look is recorded in the audit log with its reason,
    and listed on the same page for every later reader."""
    if not results_visible(round_, staff=True):
        raise InspectionRefused(_l("Who voted how can be looked at only after the vote has closed."))
    reason = " ".join(reason.split())
    if len(reason.replace(" ", "")) < MIN_REASON:
        raise InspectionRefused(_l("Say why you need to see this owner's ballots (it is kept in the log)."))
    owner = db.session.get(Owner, owner_id)
    if owner is None or owner.compound_id != round_.compound_id:
        raise InspectionRefused(_l("This owner is not on the roster of the compound."))
    record(actor, "vote.inspected", round_.compound_id, round=round_.id, owner=owner_id, reason=reason)
    return ballot_history(round_, owner_id)


@dataclass(frozen=True)
class Inspection:
    """A logged look at one owner's ballots."""

    at: datetime
    actor: str
    owner_id: int
    reason: str


def inspections(round_: Round) -> list[Inspection]:
    """Every look at an owner's ballots in this round, the latest first."""
    entries = db.session.scalars(
        select(AuditEntry)
        .where(AuditEntry.action == "vote.inspected", AuditEntry.compound_id == round_.compound_id)
        .order_by(AuditEntry.id.desc())
    ).all()
    found = []
    for entry in entries:
        detail = json.loads(entry.detail)
        if detail.get("round") == round_.id:
            found.append(Inspection(entry.at, entry.actor, int(detail["owner"]), str(detail["reason"])))
    return found


def has_looked(round_: Round, owner_id: int, actor: str) -> bool:
    """Whether ``actor`` has made a logged look at this owner's ballots in the round: what lets them see
    the photo of the owner's counted paper ballot."""
    return any(i.owner_id == owner_id and i.actor == actor for i in inspections(round_))


# --- proxies


def _store_photo(data: bytes) -> tuple[str, str]:
    """A photo, re-encoded without its EXIF, sealed (``crypto.seal_file_bytes``) and stored under a
    random name: (name, sha256 of the picture)."""
    from consult.crypto import seal_file_bytes
    from consult.schemes.uploads import CheckedFile
    from consult.schemes.uploads import UploadRejected
    from consult.schemes.uploads import check_upload
    from consult.schemes.uploads import max_bytes
    from consult.schemes.uploads import max_pixels
    from consult.schemes.uploads import store

    try:
        checked = check_upload(data, max_bytes(), max_pixels())
    except UploadRejected as rejected:
        raise VotingError(rejected.message) from None
    if not checked.kind.is_image:
        raise VotingError(_l("Take a photo: a JPEG or PNG picture."))
    return store(CheckedFile(checked.kind, seal_file_bytes(checked.data))), checked.sha256


def photo_bytes(stored_name: str) -> bytes | None:
    """The picture of a stored photo (opened), or None for a name that is not one of ours."""
    from consult.crypto import open_file_bytes
    from consult.schemes.uploads import stored_path

    path = stored_path(stored_name)
    return None if path is None else open_file_bytes(path.read_bytes())


def stored_photos() -> list[Path]:
    """The files of every photo still kept (paper ballots and written authorities)."""
    from consult.schemes.uploads import stored_path

    names = list(db.session.scalars(select(PaperSheet.photo))) + list(
        db.session.scalars(select(Proxy.authority_photo))
    )
    return [path for name in names if name and (path := stored_path(name)) is not None]


def live_proxies(round_: Round) -> list[Proxy]:
    return list(
        db.session.scalars(
            select(Proxy).where(Proxy.round_id == round_.id, Proxy.revoked_at.is_(None)).order_by(Proxy.id)
        )
    )


def _lock_authorities(round_: Round, owner_id: int) -> None:
    """Serialise the recording of the round's authorities, so that the checks below (one proxy per
    owner, the limit of owners per proxy, whether the proxy is an owner or a person named on the paper)
    see every authority committed before: the round's row on PostgreSQL; on SQLite the database's
    write lock, which ``_lock_owner`` takes."""
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(select(Round.id).where(Round.id == round_.id).with_for_update())
    else:
        _lock_owner(owner_id)


def record_proxy(
    round_: Round,
    owner: Owner,
    *,
    proxy_owner: Owner | None,
    proxy_name: str,
    photo: bytes,
    actor: str,
    now: datetime,
) -> Proxy:
    """A written authority for someone to vote for ``owner`` in this round, with a photo of it. The
    proxy is another owner of the compound (who may then vote online), or a person named on it (paper).
    One proxy acts for at most the compound's limit of other owners."""
    if round_.kind is not RoundKind.VOTE or round_.state not in (
        RoundState.DRAFT,
        RoundState.OPEN,
        RoundState.CLOSED,
    ):
        raise VoteClosed(_l("Authorities are recorded for a vote that has not been counted yet."))
    if owner.compound_id != round_.compound_id or (
        proxy_owner is not None and proxy_owner.compound_id != round_.compound_id
    ):
        raise ProxyRefused(_l("Both owners must be of this compound."))
    if proxy_owner is not None and proxy_owner.id == owner.id:
        raise ProxyRefused(_l("An owner cannot be their own proxy."))
    name = (proxy_owner.name if proxy_owner else proxy_name).strip()
    if not name:
        raise ProxyRefused(_l("Name the proxy."))
    _lock_authorities(round_, owner.id)
    if proxy_owner is not None:
        same = Proxy.proxy_owner_id == proxy_owner.id
    else:
        same = Proxy.proxy_owner_id.is_(None) & (Proxy.proxy_name == name)
    given = db.session.scalar(
        select(func.count(Proxy.id)).where(
            Proxy.round_id == round_.id, Proxy.owner_id == owner.id, Proxy.revoked_at.is_(None)
        )
    )
    if given:
        raise ProxyRefused(_l("This owner already has a proxy. Revoke it first."))
    acting = db.session.scalar(
        select(func.count(Proxy.id)).where(Proxy.round_id == round_.id, Proxy.revoked_at.is_(None), same)
    )
    limit = settings_of(round_.compound_id).proxy_limit
    if acting >= limit:
        raise ProxyRefused(
            ngettext(
                "This proxy already acts for %(num)d other owner, the most allowed.",
                "This proxy already acts for %(num)d other owners, the most allowed.",
                acting,
            )
        )
    stored, digest = _store_photo(photo)
    proxy = Proxy(
        round_id=round_.id,
        owner_id=owner.id,
        proxy_owner_id=proxy_owner.id if proxy_owner else None,
        proxy_name=name,
        authority_photo=stored,
        authority_sha256=digest,
        recorded_by=actor,
        recorded_at=now,
    )
    db.session.add(proxy)
    db.session.flush()
    record(
        actor,
        "vote.proxy_recorded",
        round_.compound_id,
        round=round_.id,
        proxy=proxy.id,
        owner=owner.id,
        proxy_owner=proxy.proxy_owner_id,
        photo_sha256=digest,
    )
    return proxy


def revoke_proxy(proxy: Proxy, actor: str, now: datetime) -> None:
    """The authority ends (ballots already cast with it stay as they are)."""
    if proxy.revoked_at is None:
        proxy.revoked_at, proxy.revoked_by = now, actor
        db.session.flush()
        record(actor, "vote.proxy_revoked", proxy.owner.compound_id, round=proxy.round_id, proxy=proxy.id)


def principals_of(round_: Round, proxy_owner_id: int) -> list[Proxy]:
    """The authorities this owner holds in the round (whom they may vote for)."""
    return list(
        db.session.scalars(
            select(Proxy)
            .where(
                Proxy.round_id == round_.id,
                Proxy.proxy_owner_id == proxy_owner_id,
                Proxy.revoked_at.is_(None),
            )
            .order_by(Proxy.id)
        )
    )


# --- paper ballots: double entry


@dataclass(frozen=True)
class PaperValues:
    """What a worker reads off a paper ballot."""

    signed_on: date
    choices: Mapping[int, str]
    proxy_id: int | None = None

    def same_as(self, other: PaperValues) -> bool:
        return (
            self.signed_on == other.signed_on
            and dict(self.choices) == dict(other.choices)
            and self.proxy_id == other.proxy_id
        )


def entry_values(entry: PaperEntry) -> PaperValues:
    return PaperValues(entry.signed_on, {int(k): v for k, v in entry.choices.items()}, entry.proxy_id)


def local_zone() -> ZoneInfo:
    return ZoneInfo(current_app.config["BABEL_DEFAULT_TIMEZONE"])


def _ensure_takes_paper(round_: Round) -> None:
    if round_.kind is not RoundKind.VOTE or round_.state not in (RoundState.OPEN, RoundState.CLOSED):
        raise VoteClosed(
            _l("Paper ballots are entered while the vote is open, or closed and not yet counted.")
        )


def _paper_problems(round_: Round, owner: Owner, values: PaperValues) -> dict[str, Any]:
    problems = ballot_problems(owner_questions(round_, owner.id), values.choices)
    zone = local_zone()
    first = round_.opens_at.astimezone(zone).date() if round_.opens_at else None
    # the last day still open: a round closing at midnight ends the day before
    last = None
    if round_.closes_at is not None:
        last = (round_.closes_at - timedelta(microseconds=1)).astimezone(zone).date()
    if (first is not None and values.signed_on < first) or (last is not None and values.signed_on > last):
        problems["signed_on"] = _l("The ballot was signed outside the voting period.")
    if values.proxy_id is not None:
        proxy = db.session.get(Proxy, values.proxy_id)
        if proxy is None or proxy.owner_id != owner.id or proxy.round_id != round_.id or proxy.revoked_at:
            problems["proxy"] = _l("No such authority is recorded for this owner.")
    return problems


def unsettled_sheet(round_: Round, owner_id: int) -> PaperSheet | None:
    """The owner's sheet in this round still waiting for its second entry or a decision, if any."""
    return db.session.scalars(
        select(PaperSheet)
        .where(
            PaperSheet.round_id == round_.id,
            PaperSheet.owner_id == owner_id,
            PaperSheet.state != SheetState.CONFIRMED,
        )
        .order_by(PaperSheet.id)
    ).first()


@dataclass(frozen=True)
class EarlierActs:
    """What an owner already did in a round, for the worker about to enter a new paper ballot: the
    confirmed paper ballot signed last (its sheet and signing day), the latest online ballot, and the
    compound's precedence that decides between them and a new paper."""

    precedence: Precedence
    paper_sheet_id: int | None = None
    paper_signed_on: date | None = None
    online_at: datetime | None = None

    @property
    def any(self) -> bool:
        return self.paper_sheet_id is not None or self.online_at is not None


def earlier_acts(round_: Round, owner_id: int) -> EarlierActs:
    """The owner's confirmed paper ballots and online ballots in this round, as ``EarlierActs``."""
    paper = db.session.execute(
        select(PaperSheet.id, PaperEntry.signed_on)
        .join(PaperEntry, PaperEntry.sheet_id == PaperSheet.id)
        .where(
            PaperSheet.round_id == round_.id,
            PaperSheet.owner_id == owner_id,
            PaperSheet.state == SheetState.CONFIRMED,
            PaperEntry.chosen.is_(True),
        )
        .order_by(PaperEntry.signed_on.desc(), PaperSheet.id.desc())
        .limit(1)
    ).first()
    online_at = db.session.scalar(
        select(Ballot.cast_at)
        .where(Ballot.round_id == round_.id, Ballot.owner_id == owner_id, Ballot.channel == Channel.ONLINE)
        .order_by(Ballot.cast_at.desc())
        .limit(1)
    )
    return EarlierActs(
        settings_of(round_.compound_id).precedence,
        paper.id if paper else None,
        paper.signed_on if paper else None,
        online_at,
    )


def enter_paper(
    round_: Round, owner: Owner, values: PaperValues, photo: bytes, worker: User, now: datetime
) -> PaperSheet:
    """The first entry of a signed paper ballot, with its photo. It counts once another worker's entry
    matches. Refused with ``PaperPending`` while the owner has a sheet in this round not yet settled:
    the paper is then entered a second time on that sheet (by another worker)."""
    _ensure_takes_paper(round_)
    if owner.compound_id != round_.compound_id:
        raise NotEligible(_l("This owner is not of this compound."))
    if not owner_questions(round_, owner.id):
        raise NotEligible(_l("This owner has nothing to vote on in this round."))
    problems = _paper_problems(round_, owner, values)
    if problems:
        raise InvalidBallot(problems)
    # one unsettled sheet per owner and round: checked under the owner's lock (so two workers starting
    # the same owner's ballot at once are taken one after the other), and held by the database too
    _lock_owner(owner.id)
    unsettled = unsettled_sheet(round_, owner.id)
    if unsettled is not None:
        raise PaperPending(unsettled)
    stored, digest = _store_photo(photo)
    sheet = PaperSheet(
        round_id=round_.id,
        owner_id=owner.id,
        state=SheetState.PENDING,
        photo=stored,
        photo_sha256=digest,
        created_by_id=worker.id,
        created_at=now,
    )
    db.session.add(sheet)
    db.session.flush()
    _add_entry_row(sheet, 1, values, worker, now)
    record(
        f"user:{worker.id}",
        "vote.paper_entered",
        round_.compound_id,
        round=round_.id,
        sheet=sheet.id,
        entry=1,
        photo_sha256=digest,
    )
    return sheet


def _add_entry_row(
    sheet: PaperSheet, number: int, values: PaperValues, worker: User, now: datetime
) -> PaperEntry:
    entry = PaperEntry(
        sheet_id=sheet.id,
        number=number,
        entered_by_id=worker.id,
        entered_at=now,
        signed_on=values.signed_on,
        proxy_id=values.proxy_id,
        choices={str(k): v for k, v in sorted(values.choices.items())},
    )
    db.session.add(entry)
    db.session.flush()
    db.session.refresh(sheet, ["entries"])
    return entry


def may_enter(sheet: PaperSheet, worker: User) -> bool:
    """Whether this worker may add an entry: the sheet is undecided and they have not entered it."""
    return sheet.state is not SheetState.CONFIRMED and all(
        e.entered_by_id != worker.id for e in sheet.entries
    )


def add_entry(sheet: PaperSheet, values: PaperValues, worker: User, now: datetime) -> PaperSheet:
    """A further, independent entry of a sheet by a worker who has not entered it. The second entry
    confirms the ballot when it matches the first, else the sheet awaits a decision; a third entry that
    matches one of the earlier ones confirms that one."""
    round_ = db.session.get(Round, sheet.round_id)
    assert round_ is not None
    _ensure_takes_paper(round_)
    if sheet.state is SheetState.CONFIRMED:
        raise PaperRefused(_l("This paper ballot is already confirmed."))
    if not may_enter(sheet, worker):
        raise PaperRefused(_l("You entered this ballot already: another worker makes the next entry."))
    problems = _paper_problems(round_, sheet.owner, values)
    if problems:
        raise InvalidBallot(problems)
    earlier = list(sheet.entries)
    entry = _add_entry_row(sheet, len(earlier) + 1, values, worker, now)
    record(
        f"user:{worker.id}",
        "vote.paper_entered",
        round_.compound_id,
        round=round_.id,
        sheet=sheet.id,
        entry=entry.number,
    )
    match = next((e for e in earlier if entry_values(e).same_as(values)), None)
    if match is None:
        sheet.state = SheetState.MISMATCH
        db.session.flush()
        record(
            f"user:{worker.id}", "vote.paper_mismatch", round_.compound_id, round=round_.id, sheet=sheet.id
        )
        return sheet
    resolution = Resolution.SECOND_ENTRY if len(earlier) == 1 else Resolution.THIRD_ENTRY
    _confirm(round_, sheet, match, resolution, worker, now)
    return sheet


def is_supervisor(user: User) -> bool:
    """Who decides between entries that differ: an administrator (the street's supervisor account)."""
    return user.role is Role.ADMIN


def choose_entry(
    sheet: PaperSheet, entry_id: int, supervisor: User, reason: str, now: datetime
) -> PaperSheet:
    """A supervisor's decision between entries that differ, looking at the photo; the reason is kept."""
    round_ = db.session.get(Round, sheet.round_id)
    assert round_ is not None
    _ensure_takes_paper(round_)
    if not is_supervisor(supervisor):
        raise PaperRefused(_l("Only a supervisor decides between entries that differ."))
    if sheet.state is not SheetState.MISMATCH:
        raise PaperRefused(_l("There is nothing to decide: the entries do not differ."))
    if not reason.strip():
        raise PaperRefused(_l("Say why this entry is the right one."))
    entry = next((e for e in sheet.entries if e.id == entry_id), None)
    if entry is None:
        raise PaperRefused(_l("There is no such entry."))
    _confirm(round_, sheet, entry, Resolution.SUPERVISOR, supervisor, now, reason.strip())
    return sheet


def _confirm(
    round_: Round,
    sheet: PaperSheet,
    entry: PaperEntry,
    resolution: Resolution,
    by: User,
    now: datetime,
    reason: str = "",
) -> None:
    values = entry_values(entry)
    actor = f"user:{by.id}"
    _lock_owner(sheet.owner_id)
    receipt = issue_receipt(round_, Channel.PAPER, now)
    _record_acts(
        round_,
        sheet.owner_id,
        values.choices,
        channel=Channel.PAPER,
        at=paper_time(values.signed_on, local_zone()),
        receipt=receipt,
        actor=actor,
        now=now,
        proxy_id=values.proxy_id,
        sheet_id=sheet.id,
    )
    entry.chosen = True
    sheet.state = SheetState.CONFIRMED
    sheet.resolution = resolution
    sheet.resolved_by_id = by.id
    sheet.resolved_at = now
    sheet.resolution_reason = reason
    sheet.receipt_id = receipt.id
    db.session.flush()
    record(
        actor,
        "vote.paper_confirmed",
        round_.compound_id,
        round=round_.id,
        sheet=sheet.id,
        entry=entry.number,
        resolution=resolution.value,
        reason=reason,
        receipt=receipt.code,
    )
    _notify(sheet.owner, round_, receipt, now)


def sheets_of(round_: Round) -> list[PaperSheet]:
    return list(
        db.session.scalars(select(PaperSheet).where(PaperSheet.round_id == round_.id).order_by(PaperSheet.id))
    )


def open_sheets(round_: Round) -> dict[SheetState, int]:
    rows = db.session.execute(
        select(PaperSheet.state, func.count(PaperSheet.id))
        .where(PaperSheet.round_id == round_.id)
        .group_by(PaperSheet.state)
    ).all()
    counts = dict.fromkeys(SheetState, 0)
    counts.update({SheetState(state): n for state, n in rows})
    return counts


# --- engine hooks and participation


def answered_dwellings(round_: Round) -> set[int]:
    """Dwellings whose owner has a ballot counting in the round (for live participation)."""
    voted = select(Ballot.owner_id).where(Ballot.round_id == round_.id, Ballot.active.is_(True)).distinct()
    return set(db.session.scalars(select(Dwelling.id).where(Dwelling.owner_id.in_(voted))))


def eligible_dwellings(round_: Round) -> dict[int, int]:
    """Engine hook: the dwellings whose owner may vote in the round (dwelling id → unit id), those in
    the scope of one of its questions at least. Occupants never vote, and nobody can vote for a dwelling
    whose owner is not known (the roster is frozen while the vote runs): the vote may close early once
    every known owner has voted. (In the tally such a dwelling still counts as an owner who did not
    vote.)"""
    questions = questions_of(round_)
    return {
        h.dwelling_id: h.unit_id
        for h in holdings(round_.compound_id)
        if h.owner_id is not None and any(in_scope(q, h) for q in questions)
    }


def answer_blocker(round_: Round) -> Any:
    """Why the result cannot be published yet: no questions, or paper ballots still undecided."""
    if not questions_of(round_):
        return _l("The vote has no questions.")
    counts = open_sheets(round_)
    if counts[SheetState.PENDING]:
        return _l(
            "%(count)s paper ballot(s) wait for their second entry by another worker.",
            count=counts[SheetState.PENDING],
        )
    if counts[SheetState.MISMATCH]:
        return _l(
            "%(count)s paper ballot(s) have entries that differ: a third entry or a supervisor decides.",
            count=counts[SheetState.MISMATCH],
        )
    return None


@dataclass(frozen=True)
class VoteParticipation:
    """Who has voted, without a word of how: owners with a counting ballot, of the owners in scope (each
    dwelling without a known owner among them, as an owner who has not voted: ``unknown``)."""

    voted: int
    eligible: int
    online: int
    paper: int
    unknown: int = 0

    @property
    def percent(self) -> int:
        return self.voted * 100 // self.eligible if self.eligible else 0


def vote_participation(round_: Round) -> VoteParticipation:
    questions = questions_of(round_)
    held = holdings(round_.compound_id)
    eligible = {
        unknown_owner(h.dwelling_id) if h.owner_id is None else h.owner_id
        for h in held
        if any(in_scope(q, h) for q in questions)
    }
    rows = db.session.execute(
        select(Ballot.owner_id, Ballot.channel)
        .where(Ballot.round_id == round_.id, Ballot.active.is_(True))
        .distinct()
    ).all()
    voters: dict[int, set[Channel]] = defaultdict(set)
    for owner_id, channel in rows:
        if owner_id in eligible:
            voters[owner_id].add(channel)
    paper = sum(1 for channels in voters.values() if Channel.PAPER in channels)
    unknown = sum(1 for o in eligible if is_unknown(o))
    return VoteParticipation(len(voters), len(eligible), len(voters) - paper, paper, unknown)


# --- results


def closed_before(round_: Round) -> bool:
    """Whether the round was ever closed (a round failed from ``open`` was not)."""
    return (
        db.session.scalar(
            select(func.count(RoundEvent.id)).where(
                RoundEvent.round_id == round_.id, RoundEvent.to_state == RoundState.CLOSED
            )
        )
        > 0
    )


def results_visible(round_: Round, *, staff: bool) -> bool:
    """Results are hidden from everyone, staff included, until the round closes. Staff then see them to
    prepare the notice; residents and the public once the notice is published (or the round, closed,
    was marked failed)."""
    if round_.kind is not RoundKind.VOTE:
        return False
    if round_.state in (RoundState.NOTICE, RoundState.DONE):
        return True
    if round_.state is RoundState.FAILED:
        return closed_before(round_)
    return staff and round_.state is RoundState.CLOSED


@dataclass(frozen=True)
class QuestionResult:
    question: VoteQuestion
    outcome: QuestionOutcome
    #: how the voters answered: choice → number of owners
    counts: dict[str, int]
    #: counting ballots by channel
    channels: dict[Channel, int] = field(default_factory=dict)


def counted_ballots(round_: Round) -> dict[int, dict[int, tuple[str, Channel]]]:
    """The ballot counting for each question and owner: question id → owner id → (choice, channel)."""
    rows = db.session.execute(
        select(Ballot.question_id, Ballot.owner_id, Ballot.choice, Ballot.channel).where(
            Ballot.round_id == round_.id, Ballot.active.is_(True)
        )
    ).all()
    counted: dict[int, dict[int, tuple[str, Channel]]] = defaultdict(dict)
    for question_id, owner_id, choice, channel in rows:
        counted[question_id][owner_id] = (choice, Channel(channel))
    return counted


def count_round(round_: Round) -> list[QuestionResult]:
    """Every question's result, from the roster's areas and the ballots that count (three queries)."""
    questions = questions_of(round_)
    roll = Roll(holdings(round_.compound_id))
    counted = counted_ballots(round_)
    results = []
    for question in questions:
        areas = roll.areas(question)
        mine = counted.get(question.id, {})
        ballots = {o: c for o, (c, _ch) in mine.items() if o in areas}
        outcome = count_question(question.kind, question.option_keys, question.consent_rule, areas, ballots)
        channels = dict.fromkeys(Channel, 0)
        for owner, (_choice, channel) in mine.items():
            if owner in areas:
                channels[channel] += 1
        results.append(
            QuestionResult(
                question,
                outcome,
                choice_counts(question.kind, question.option_keys, ballots.values()),
                channels,
            )
        )
    return results


# --- where residents find it


def resident_links(
    invitation: Invitation, now: datetime, rounds: Sequence[Round] | None = None
) -> list[tuple[str, str, bool, bool]]:
    """For the resident's home page: (label, address, done, open) of each vote open to them now: their
    own, and one for each owner who gave them an authority. ``done``: a ballot counts on each question
    (it may still be changed: ``open`` is always true here).
    Occupants get none: only owners vote. ``rounds``: the compound's rounds in order, when at hand."""
    if not invitation.may_vote or invitation.owner_id is None:
        return []
    if rounds is None:
        rounds = compound_rounds(invitation.compound_id)
    links = []
    for round_ in rounds:
        if not is_open(round_, now):
            continue
        questions = questions_of(round_)
        if not questions:
            continue
        voters = [(invitation.owner_id, None)] + [
            (p.owner_id, p) for p in principals_of(round_, invitation.owner_id)
        ]
        answered = _answered_questions(round_, [owner_id for owner_id, _proxy in voters])
        for owner_id, proxy in voters:
            theirs = {q.id for q in owner_questions(round_, owner_id, questions)}
            if not theirs:
                continue
            done = theirs <= answered.get(owner_id, set())
            if proxy is None:
                label = _("Vote on the renovation plan (round %(number)s)", number=round_.number)
                url = url_for("voting.ballot", round_id=round_.id)
            else:
                label = _(
                    "Vote as proxy for %(name)s (round %(number)s)",
                    name=_mask(proxy.owner.name),
                    number=round_.number,
                )
                url = url_for("voting.ballot_for", round_id=round_.id, owner_id=owner_id)
            links.append((label, url, done, True))
    return links


def _answered_questions(round_: Round, owner_ids: Sequence[int]) -> dict[int, set[int]]:
    rows = db.session.execute(
        select(Ballot.owner_id, Ballot.question_id).where(
            Ballot.round_id == round_.id, Ballot.owner_id.in_(owner_ids), Ballot.active.is_(True)
        )
    ).all()
    answered: dict[int, set[int]] = defaultdict(set)
    for owner_id, question_id in rows:
        answered[owner_id].add(question_id)
    return answered


def published_links(invitation: Invitation, rounds: Sequence[Round] | None = None) -> list[tuple[str, str]]:
    """For the resident's home page: (label, address) of each vote result that is published."""
    if rounds is None:
        rounds = compound_rounds(invitation.compound_id)
    links = []
    for round_ in (r for r in rounds if r.kind is RoundKind.VOTE):
        if results_visible(round_, staff=False):
            links.append(
                (
                    _("Result of the vote (round %(number)s)", number=round_.number),
                    url_for("voting.public_result", compound_id=round_.compound_id, round_id=round_.id),
                )
            )
    return links


def _mask(name: str | None) -> str:
    from consult.ui import mask_name

    return mask_name(name)
